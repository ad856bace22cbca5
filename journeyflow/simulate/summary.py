"""The terminal summary of a report, with rich tables.

It reads only the report dict, so what the terminal shows and what
``--out report.json`` holds never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from journeyflow.simulate.compare import Difference

__all__ = ["print_comparison", "print_report"]


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _days(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f} d"


def _num(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold")
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right")
    return table


def _funnel(report: dict[str, Any]) -> Table:
    table = _table("Funnel", "stage", "reached", "share", "median", "p90", "at end")
    for name, s in report["stages"].items():
        table.add_row(name + (" (final)" if s["final"] else ""), f"{s['reached']:,}",
                      _pct(s["share"]), _days(s["median_days"]), _days(s["p90_days"]),
                      f"{s['at_end']:,}")
    return table


def _goals(report: dict[str, Any]) -> Table:
    table = _table("Goals", "goal", "reached", "conversion", "median", "p90")
    for name, g in report["goals"].items():
        table.add_row(name, f"{g['reached']:,}", _pct(g["rate"]), _days(g["median_days"]),
                      _days(g["p90_days"]))
    return table


def _messages(report: dict[str, Any]) -> Table:
    table = _table("Messages", "message", "channel", "delivered", "suppressed")
    for name, msg in report["messages"].items():
        table.add_row(name, msg["channel"], f"{msg['delivered']:,}", f"{msg['suppressed']:,}")
    table.add_section()
    for channel, total in report["channels"].items():
        table.add_row(f"all {channel}", channel, f"{total['delivered']:,}",
                      f"{total['suppressed']:,}")
    return table


def _bonuses(report: dict[str, Any]) -> Table:
    table = _table("Bonuses", "bonus", "granted", "reminded", "redeemed", "expired")
    for name, b in report["bonuses"].items():
        table.add_row(name, *(f"{b[k]:,}" for k in ("granted", "reminded", "redeemed",
                                                     "expired")))
    return table


def _value(report: dict[str, Any]) -> Table:
    value = report["value"]
    title = "Value" + (f": {value['expression']}" if value else "")
    table = _table(title, "customers", "count", "share", "value per customer")
    if value:
        table.add_row("all", f"{report['customers']:,}", "100.0%",
                      _num(value["per_customer"]))
    for name, seg in report["segments"].items():
        table.add_row(f"segment {name}", f"{seg['customers']:,}", _pct(seg["share"]),
                      _num(seg["value_per_customer"]))
    for split in report["splits"]:
        for arm in split["arms"]:
            where = f'split "{split["name"]}"' if split["name"] else split["position"]
            table.add_row(f"{where} arm {arm['name']} ({arm['share']:g}%: "
                          f"{arm['label']})", f"{arm['customers']:,}", "",
                          _num(arm["value_per_customer"]))
    return table


def _arm_goals(report: dict[str, Any]) -> Table:
    """Goal rates per arm of each split: which arm converts."""
    goals = list(report["goals"])
    table = _table("Goals per split arm", "arm", "customers", *goals)
    for split in report["splits"]:
        where = f'"{split["name"]}"' if split["name"] else split["position"]
        for arm in split["arms"]:
            n = arm["customers"]
            table.add_row(f"{where} {arm['name']}", f"{n:,}",
                          *(_pct(arm["goals"][g] / n if n else None) for g in goals))
    return table


def _uplift(report: dict[str, Any]) -> Table:
    """The journey against its holdout: goal rates, value, and the difference."""
    held = report["holdout"]
    table = _table(f"Uplift over the {held['share']:g}% holdout", "", "journey", "holdout",
                   "uplift (95% interval)")
    sizes = held["customers"]
    table.add_row("customers", f"{sizes['journey']:,}", f"{sizes['holdout']:,}", "")
    uplift = held["uplift"]
    for goal, rate in held["journey"]["goal_rates"].items():
        cell = ""
        if uplift is not None:
            d = uplift["goal_rates"][goal]
            cell = (f"{d['difference'] * 100:+.1f} pts ({d['low'] * 100:+.1f} to "
                    f"{d['high'] * 100:+.1f})")
        table.add_row(f"goal {goal}", _pct(rate), _pct(held["holdout"]["goal_rates"][goal]),
                      cell)
    if report["value"] is not None:
        cell = ""
        if uplift is not None:
            d = uplift["value_per_customer"]
            cell = f"{d['difference']:+.2f} ({d['low']:+.2f} to {d['high']:+.2f})"
        table.add_row("value per customer", _num(held["journey"]["value_per_customer"]),
                      _num(held["holdout"]["value_per_customer"]), cell)
    return table


def _by(report: dict[str, Any]) -> Table:
    by = report["by"]
    groups = by["groups"]
    table = _table(f"Funnel by {by['attribute']}", "stage", *groups)
    table.add_row("customers", *(f"{g['customers']:,}" for g in groups.values()))
    for stage in report["stages"]:
        table.add_row(stage, *(_pct(g["stages"][stage]["share"]) for g in groups.values()))
    return table


def difference_text(interval: dict[str, Any] | None, scale: float, unit: str) -> str:
    """An uplift with its interval, for people (``scale`` 100 for rates in points);
    – when a cohort had nobody to compare."""
    if not interval:
        return "–"
    d, low, high = (interval[k] * scale for k in ("difference", "low", "high"))
    return f"{d:+.2f}{unit} ({low:+.2f} to {high:+.2f})"


def _arm_uplift(report: dict[str, Any]) -> Table:
    """Each split arm against the held-out customers who took the same arm."""
    goals = list(report["goals"])
    table = _table("Uplift per split arm, over the held-out customers of the arm", "arm",
                   "customers", "held out", "value per customer", *goals)
    for arm in report["arm_uplift"]:
        uplift = arm["uplift"]
        cells = [f'"{arm["split"]}" {arm["arm"]}', f"{arm['customers']['journey']:,}",
                 f"{arm['customers']['holdout']:,}",
                 difference_text(uplift and uplift["value_per_customer"], 1.0, "")]
        cells += [difference_text(uplift and uplift["goal_rates"][g], 100.0, " pts")
                  for g in goals]
        table.add_row(*cells)
    return table


def print_report(report: dict[str, Any], console: Console, elapsed: float | None = None) -> None:
    """The funnel, goals, messages, bonuses, value, and problems, as tables."""
    took = f" in {elapsed:.1f} s" if elapsed is not None else ""
    console.print(f"[bold]{report['journey']}[/bold]: {report['customers']:,} customers, "
                  f"{report['days']} days from {report['start']}, seed {report['seed']}{took}")
    console.print(_funnel(report))
    if report["by"] is not None:
        console.print(_by(report))
    if report["goals"]:
        console.print(_goals(report))
    if report["messages"]:
        console.print(_messages(report))
    if report["suppressed"]:
        console.print("sends suppressed: " + ", ".join(
            f"{n:,} {reason}" for reason, n in report["suppressed"].items()))
    if report["bonuses"]:
        console.print(_bonuses(report))
    if report["value"] or report["segments"] or report["splits"]:
        console.print(_value(report))
    if report["splits"] and report["goals"]:
        console.print(_arm_goals(report))
    if report["holdout"] is not None:
        console.print(_uplift(report))
    if report.get("arm_uplift"):
        console.print(_arm_uplift(report))
    errors = report["errors"]
    style = "bold red" if report["parked"] or errors["count"] else "green"
    console.print(f"[{style}]parked customers: {report['parked']:,}, journey errors: "
                  f"{errors['count']:,}[/{style}]")
    for reason, n in errors["reasons"].items():
        console.print(f"  {n:,} × {reason}")


def print_comparison(a: dict[str, Any], b: dict[str, Any], diffs: Sequence[Difference],
                     console: Console) -> None:
    """B − A for each metric, with its 95% bootstrap interval; * marks intervals without 0."""
    table = _table(f"{b['file']} − {a['file']} ({a['customers']:,} customers, seed "
                   f"{a['seed']}, 95% bootstrap over {a['partitions']} partitions)",
                   "metric", "A", "B", "B − A", "95% interval", "")
    for d in diffs:
        per_customer = "per customer" in d.metric
        fmt = (lambda x: _num(x, 3)) if per_customer else _pct
        interval = ("–" if d.low is None or d.high is None
                    else f"[{fmt(d.low)}, {fmt(d.high)}]")
        table.add_row(d.metric, fmt(d.a), fmt(d.b), fmt(d.difference), interval,
                      "*" if d.significant else "")
    console.print(table)
    if a["partitions"] < 10:
        console.print(f"[yellow]only {a['partitions']} partition(s): intervals need more "
                      "customers to mean much (use --customers)[/yellow]")
