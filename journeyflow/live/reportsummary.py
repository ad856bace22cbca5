"""The terminal tables of a live report: simulate's, then what only a live store knows."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from journeyflow.live.report import STATUSES
from journeyflow.live.reportarms import difference_text
from journeyflow.simulate.summary import print_report

__all__ = ["print_live_report"]

SHOWN_REASONS = 10


def print_live_report(data: dict[str, Any], console: Console) -> None:
    """Funnel, goals, messages, value, arms and uplift as simulate prints them; then the
    deliveries by status and the rejected events."""
    console.print(f"[bold]live report[/bold] as of {data['as_of']}")
    print_report(_with_all_rates(data), console)
    if data["arm_uplift"]:
        console.print(_arm_uplift(data))
    console.print(_deliveries(data["deliveries"]))
    _rejected(data["rejected"], console)


def _arm_uplift(data: dict[str, Any]) -> Table:
    goals = list(data["goals"])
    table = Table(title="Uplift per split arm, over the held-out customers of the arm",
                  title_justify="left", title_style="bold")
    for column in ("arm", "customers", "held out", "value per customer", *goals):
        table.add_column(column, justify="left" if column == "arm" else "right")
    for arm in data["arm_uplift"]:
        uplift = arm["uplift"]
        cells = [f'"{arm["split"]}" {arm["arm"]}', f"{arm['customers']['journey']:,}",
                 f"{arm['customers']['holdout']:,}",
                 difference_text(uplift and uplift["value_per_customer"], 1.0, "")]
        cells += [difference_text(uplift and uplift["goal_rates"][g], 100.0, " pts")
                  for g in goals]
        table.add_row(*cells)
    return table


def _deliveries(deliveries: dict[str, Any]) -> Table:
    table = Table(title="Deliveries by status (outbox)", title_justify="left",
                  title_style="bold")
    for column in ("message", "channel", *STATUSES):
        table.add_column(column, justify="left" if column in ("message", "channel")
                         else "right")
    for message, row in deliveries["messages"].items():
        table.add_row(message, row["channel"], *(f"{row[s]:,}" for s in STATUSES))
    for handler, row in deliveries["notifications"].items():
        table.add_row(f"notify {handler}", handler, *(f"{row[s]:,}" for s in STATUSES))
    table.add_section()
    table.add_row("all", "", *(f"{deliveries[s]:,}" for s in STATUSES))
    return table


def _rejected(rejected: dict[str, Any], console: Console) -> None:
    style = "bold red" if rejected["count"] else "green"
    console.print(f"[{style}]rejected events: {rejected['count']:,}[/{style}]")
    # Reasons quote the bad value, so a big store may have thousands: the most frequent
    # ones here, every one in the JSON.
    reasons = sorted(rejected["reasons"].items(), key=lambda kv: (-kv[1], kv[0]))
    for reason, n in reasons[:SHOWN_REASONS]:
        console.print(f"  {n:,} × {reason}", markup=False)
    if len(reasons) > SHOWN_REASONS:
        rest = sum(n for _, n in reasons[SHOWN_REASONS:])
        console.print(f"  {rest:,} more with {len(reasons) - SHOWN_REASONS:,} other reasons "
                      "(all of them are in the JSON report)")


def _with_all_rates(data: dict[str, Any]) -> dict[str, Any]:
    """The report with a rate (None) for every goal of a cohort without customers, as
    simulate's tables expect (the JSON leaves them out: see live.report)."""
    holdout = data["holdout"]
    if holdout is None:
        return data
    goals = list(data["goals"])
    filled = {**holdout}
    for cohort in ("journey", "holdout"):
        filled[cohort] = {**holdout[cohort],
                          "goal_rates": {g: holdout[cohort]["goal_rates"].get(g)
                                         for g in goals}}
    return {**data, "holdout": filled}
