"""The terminal tables of a live report: simulate's, then what only a live store knows."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from journeyflow.live.report import STATUSES
from journeyflow.simulate.summary import print_report

__all__ = ["print_live_report"]

SHOWN_REASONS = 10


def print_live_report(data: dict[str, Any], console: Console) -> None:
    """Funnel, goals, messages, value, arms and uplift as simulate prints them; then the
    deliveries by status and the rejected events."""
    console.print(f"[bold]live report[/bold] as of {data['as_of']}")
    print_report(_with_all_rates(data), console)
    console.print(_deliveries(data["deliveries"]))
    _rejected(data["rejected"], console)


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
    if deliveries["unconfirmed"]:
        table.caption = (f"{deliveries['unconfirmed']:,} sent unconfirmed: handed to the mail "
                         "server by a process that stopped before the server answered")
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
