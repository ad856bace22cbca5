"""Parse + check time of a generated 10,000-line journey.

    .venv/bin/python bench/parse.py [--lines 10000] [--repeat 3]

Prints the time of journeyflow's parse (syntax tree built inline by the LALR
parser) and full check (names, types, graph warnings), and, in the same run,
the baseline of Lark building its own parse tree for the same text (what a
tree-then-transform front end would pay before doing any work of its own).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from lark import Lark

from journeyflow.compile.lower import compile_tree
from journeyflow.syntax.parser import grammar_text, parse_journey

STAGE = """
stage s{i} {{
  on enter {{
    send welcome_{m}
    set points += 10
    tag "seen_{i}"
  }}
  on purchased where event.amount > {amount} and count(purchased within 30d) >= 2 -> s{n1}
  on cart_abandoned {{
    after 4h unless purchased {{ send reminder_{m} }}
  }}
  on support_ticket where event.rating <= 2 {{ tag "at_risk" }}
  when points >= {points} or big_spender -> s{n2}
  after 14d without purchased -> s{n3}
  every 7d {{ offer cross_sell "item {i}" via reminder_{m} }}
  on referred {{
    split {{
      50% {{ grant bonus thanks_{m} 10% expires 30d remind 7d before }}
      50% {{ set points += 100 }}
    }}
  }}
}}
"""

HEADER = """journey "generated"
timezone "Europe/Berlin"
customer {
  email: text
  first_name: text = "du"
  points: number = 0
  total_spent: number = 0
}
event signed_up { source: text = "web" }
event purchased { amount: number, category: text = "other" }
event cart_abandoned { cart_value: number }
event referred { friend: text }
event support_ticket { rating: number }
limit email to 3 per 7d
quiet hours 22:00 to 08:00
segment big_spender where total_spent >= 500
goal converted on purchased
anywhere {
  on purchased { set total_spent += event.amount }
}
"""


def generate(lines: int) -> str:
    messages = max(1, lines // 400)
    parts = [HEADER]
    for m in range(messages):
        greeting = "Hallo {{ customer.first_name }}"
        parts.append(f'message welcome_{m} via email {{ subject "{greeting}" }}\n')
        parts.append(f'message reminder_{m} via email {{ subject "Erinnerung {m}" }}\n')
    stages = max(2, (lines - len("".join(parts).splitlines())) // STAGE.count("\n"))
    for i in range(stages):
        parts.append(STAGE.format(i=i, m=i % messages, amount=10 + i % 90, points=100 + i,
                                  n1=(i + 1) % stages, n2=(i + 2) % stages, n3=(i + 3) % stages))
    parts.append("stage s_start start {\n  -> s0\n}\n")
    return "".join(parts)


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()
    text = generate(opts.lines)
    n_lines = text.count("\n")
    tree_parser = Lark(grammar_text(), parser="lalr", lexer="contextual",
                       start=["journey_file", "scenario_file"], maybe_placeholders=True)
    parse_journey(text, "generated.journey")  # build the cached parser outside the timing

    t_parse = best(lambda: parse_journey(text, "generated.journey"), opts.repeat)
    tree = parse_journey(text, "generated.journey")
    t_check = best(lambda: compile_tree(tree, text, "generated.journey"), opts.repeat)
    result = compile_tree(tree, text, "generated.journey")
    errors = [d for d in result.diagnostics if d.is_error]
    assert not errors, errors[:3]
    t_lark = best(lambda: tree_parser.parse(text, start="journey_file"), opts.repeat)

    tokens = sum(1 for _ in tree_parser.lex(text))
    print(f"journey: {n_lines:,} lines, {len(text) / 1024:,.0f} KB, {tokens:,} tokens, "
          f"{len(result.model.stages) if result.model else 0} stages")
    print(f"journeyflow parse (syntax tree inline)  {t_parse:6.3f} s")
    print(f"journeyflow check (names, types, graph) {t_check:6.3f} s")
    print(f"journeyflow parse + check               {t_parse + t_check:6.3f} s   target < 1 s")
    print(f"baseline: Lark parse tree only          {t_lark:6.3f} s")
    print(f"parse + check / Lark tree alone: {(t_parse + t_check) / t_lark:.2f}x; "
          f"parse alone: {t_parse / t_lark:.2f}x (best of {opts.repeat})")


if __name__ == "__main__":
    main()
