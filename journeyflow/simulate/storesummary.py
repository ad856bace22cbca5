"""The terminal view of where a forecast from a store started: its stored population.

Like :mod:`journeyflow.simulate.summary`, it reads only the report dict.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["print_population"]


def print_population(report: dict[str, Any], console: Console) -> None:
    """The ``population`` section: customers per stage, status and goal at the start."""
    population = report.get("population")
    if population is None:
        return
    n = population["customers"]
    arrivals = population["arrivals"]
    stored = population.get("stored_versions") or {population["version"]: n}
    moved = {v: k for v, k in stored.items() if v != population["version"]}
    where = (f"{n:,} customers of version {population['version']}" if not moved else
             f"{n:,} customers ({', '.join(f'{k:,} on version {v}' for v, k in moved.items())}"
             f", moved onto version {population['version']} in memory)")
    console.print(f"From {population['store']}: {where}, now = {population['now']}"
                  + (f"; and {arrivals:,} new arrivals from now on" if arrivals else ""),
                  soft_wrap=True)
    table = Table(title="Population now", title_justify="left", title_style="bold")
    table.add_column("stage")
    table.add_column("now", justify="right")
    table.add_column("share", justify="right")
    for stage, count in population["stages"].items():
        table.add_row(stage, f"{count:,}", f"{100 * count / n:.1f}%" if n else "–")
    table.add_section()
    for status, count in population["statuses"].items():
        if count:
            table.add_row(f"({status})", f"{count:,}", f"{100 * count / n:.1f}%")
    console.print(table)
    held = {goal: count for goal, count in population["goals"].items() if count}
    if held:
        console.print("Goals already reached: " + ", ".join(
            f"{goal} {count:,}" for goal, count in held.items()), soft_wrap=True)
