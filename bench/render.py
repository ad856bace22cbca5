"""Rendering a message in the bounded sandbox, against Jinja2's own sandbox.

    .venv/bin/python bench/render.py [--renders 2000] [--repeat 5]

Both environments render the same templates with the same context in the same
run: a one-line subject, and an HTML body with a loop over an order's items,
filters, arithmetic and ``format``. The baseline is Jinja2's
``ImmutableSandboxedEnvironment`` (no bounds); the figure of interest is what the
bounds cost per render. Each figure is the best of ``--repeat`` timings.
"""

from __future__ import annotations

import argparse
import timeit
from typing import Any

from jinja2 import Template
from jinja2.runtime import ChainableUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from rich.console import Console
from rich.table import Table

from journeyflow.templating.rendering import compile_template, render

SUBJECT = "Thank you for your order, {{ customer.first_name }}!"
BODY = """<h1>Hello {{ customer.first_name|title }},</h1>
<table>
{% for item in event['items'] %}  <tr><td>{{ loop.index }}</td><td>{{ item.name|e }}</td>
    <td>{{ '%.2f'|format(item.price * item.quantity) }} €</td></tr>
{% endfor %}</table>
<p>Total: {{ '{:,.2f}'.format(event.total) }} € · {{ customer.points + event.total|int }} points
{% if bonus.value %}· your bonus {{ bonus.value }} expires {{ bonus.expires }}{% endif %}</p>
"""

CONTEXT: dict[str, Any] = {
    "customer": {"id": "c1", "first_name": "ana", "points": 1200},
    "event": {"total": 417.5, "items": [{"name": f"item <{i}>", "price": 9.5 + i,
                                         "quantity": 1 + i % 3} for i in range(20)]},
    "bonus": {"name": "welcome", "value": "10%", "expires": "2026-04-01"},
}


def best(call: Any, renders: int, repeat: int) -> float:
    """Seconds per render, the best of ``repeat`` runs of ``renders`` renders."""
    return min(timeit.repeat(call, number=renders, repeat=repeat)) / renders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    plain = ImmutableSandboxedEnvironment(undefined=ChainableUndefined, autoescape=False)
    baseline: list[Template] = [plain.from_string(SUBJECT), plain.from_string(BODY)]
    bounded: list[Template] = [compile_template(SUBJECT), compile_template(BODY)]
    assert [t.render(CONTEXT) for t in baseline] == [render(t, CONTEXT) for t in bounded]

    table = Table(title=f"one subject and body, {args.renders} renders, best of {args.repeat}")
    for column in ("environment", "µs per render", "ratio"):
        table.add_column(column, justify="right" if column != "environment" else "left")
    base = best(lambda: [t.render(CONTEXT) for t in baseline], args.renders, args.repeat)
    ours = best(lambda: [render(t, CONTEXT) for t in bounded], args.renders, args.repeat)
    table.add_row("jinja2 ImmutableSandboxedEnvironment (baseline)", f"{base * 1e6:.1f}", "1.00")
    table.add_row("journeyflow bounded sandbox", f"{ours * 1e6:.1f}", f"{ours / base:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
