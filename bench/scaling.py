"""Parse + check time against the size of the journey, for several shapes of file.

    .venv/bin/python bench/scaling.py [--steps 4] [--repeat 3] [--shape NAME ...]

Each shape is generated at sizes doubling from a base; every row prints the
size, the best time of ``--repeat`` runs of parse + check (``check_text``, as
``journeyflow check`` does), and the ratio to the row before. Linear growth
shows as a ratio near 2 (the input doubles), quadratic as near 4: the
baseline in the same run is the first size of the same shape.

Shapes: many stages; long expressions (list literals of thousands of items,
sums as long as the limits allow, repeated); nesting at the limits (expressions
64 deep and blocks 32 deep, repeated); syntax errors (a fixed number of errors
in a growing file, and a growing number of errors up to the cap in a fixed one).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from parse import best  # bench/parse.py: best of N runs

from journeyflow.errors import JourneyError
from journeyflow.journey import check_text
from journeyflow.syntax.limits import MAX_BLOCK_DEPTH, MAX_EXPRESSION_DEPTH, MAX_SYNTAX_ERRORS

HEADER = """journey "scaling"
customer { points: number = 0  vip: bool = false }
event purchased { amount: number = 0 }
event visited {}
"""


def many_stages(n: int) -> str:
    """``n`` stages of three rules each."""
    stages = [f"stage s{i} {{\n  on purchased where event.amount > {i % 90} -> s{(i + 1) % n}\n"
              f"  on visited {{ set points += 1 }}\n  after 7d -> s{(i + 2) % n}\n}}\n"
              for i in range(n)]
    return HEADER + "stage start_here start { -> s0 }\n" + "".join(stages)


def long_list(n: int) -> str:
    """One condition testing membership in a list of ``n`` numbers."""
    items = ", ".join(str(i) for i in range(n))
    return (HEADER + f"stage a start {{\n  when points in [{items}] -> b\n}}\n"
            "stage b final\n")


def long_sums(n: int) -> str:
    """``n`` rules, each with a sum as long as the expression limit allows."""
    terms = " + ".join(["points"] * (MAX_EXPRESSION_DEPTH - 1))
    rules = "".join(f"  on visited where {terms} > {i} -> b\n" for i in range(n))
    return HEADER + f"stage a start {{\n{rules}}}\nstage b final\n"


def nesting_at_limits(n: int) -> str:
    """``n`` rules, each with an expression and blocks nested to the limits."""
    expr = "not " * (MAX_EXPRESSION_DEPTH - 1) + "vip"
    depth = MAX_BLOCK_DEPTH - 1
    blocks = "if vip { " * depth + "set points += 1 " + "} " * depth
    rules = "".join(f"  on purchased where {expr} {{ {blocks}}}\n" for _ in range(n))
    return HEADER + f"stage a start {{\n{rules}  on visited -> b\n}}\nstage b final\n"


def errors_in_growing_file(n: int) -> str:
    """``n`` stages with 40 syntax errors spread over them."""
    every = max(1, n // 40)
    stages = [f"stage s{i} {{ after {'7' if i % every == 0 else '7d'} -> s{(i + 1) % n} }}\n"
              for i in range(n)]
    return HEADER + "stage start_here start { -> s0 }\n" + "".join(stages)


def growing_errors(n: int) -> str:
    """2,000 stages of which ``n`` have a syntax error (capped at 50 reported)."""
    every = max(1, 2_000 // n)
    stages = [f"stage s{i} {{ after {'7' if i % every == 0 else '7d'} -> s{(i + 1) % 2000} }}\n"
              for i in range(2_000)]
    return HEADER + "stage start_here start { -> s0 }\n" + "".join(stages)


SHAPES: dict[str, tuple[Callable[[int], str], int, str]] = {
    "stages": (many_stages, 1_000, "stages"),
    "long-list": (long_list, 10_000, "list items"),
    "long-sums": (long_sums, 250, "rules with a 63-term sum"),
    "nesting": (nesting_at_limits, 100, "rules nested to both limits"),
    "errors-fixed": (errors_in_growing_file, 1_000, "stages, 40 syntax errors"),
    "errors-growing": (growing_errors, 6, f"syntax errors (cap {MAX_SYNTAX_ERRORS})"),
}


def check(text: str) -> int:
    """Parse and check ``text``; the number of diagnostics."""
    try:
        return len(check_text(text, "scaling.journey").diagnostics)
    except JourneyError as err:
        return len(err.diagnostics)


def run_shape(name: str, steps: int, repeat: int) -> None:
    make, base, unit = SHAPES[name]
    print(f"\n{name}: {(make.__doc__ or '').replace('``', '')}")
    print(f"  {'n':>8}  {'KB':>6} {'diagnostics':>11} {'seconds':>8} {'ratio':>6}   (n = {unit})")
    previous: float | None = None
    for step in range(steps):
        n = base * 2 ** step
        text = make(n)
        diags = check(text)
        seconds = best(lambda text=text: check(text), repeat)  # type: ignore[misc]
        ratio = f"{seconds / previous:6.2f}" if previous else "     -"
        print(f"  {n:>8,}  {len(text) / 1024:6.0f} {diags:>11} {seconds:8.3f} {ratio}")
        previous = seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4, help="sizes per shape, doubling")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shape", action="append", choices=sorted(SHAPES),
                        help="only this shape (repeatable); default: all")
    opts = parser.parse_args()
    check(many_stages(10))  # build the cached parser outside the timing
    for name in opts.shape or SHAPES:
        run_shape(name, opts.steps, opts.repeat)
    print("\nratio: time against the size before it; the size doubles, so linear growth "
          "is about 2")


if __name__ == "__main__":
    main()
