"""The simulation report: a JSON-ready dict built from a merged :class:`Tally`.

The layout is documented in ``journeyflow/schemas/report.schema.json``; the
keys ``customers``, ``stages``, ``transitions`` and ``messages`` are what
``journeyflow render --stats`` overlays on the map. Nothing in the report
depends on the machine, the clock or the number of workers, so two runs with
the same seed write byte-identical files.
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO

from journeyflow.journey import Journey
from journeyflow.model import journey as m
from journeyflow.simulate.plan import Plan
from journeyflow.simulate.tally import HOUR, Tally
from journeyflow.simulate.uplift import arm_uplift, uplift

__all__ = ["SCHEMA_PATH", "build_report", "customer_weeks", "dumps", "is_page",
           "quantile_days", "report_page", "write_timeseries"]

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "report.schema.json"
FORMAT = "journeyflow-simulation/1"
BONUS_COUNTS = ("granted", "reminded", "redeemed", "expired")
WEEK = 7 * 86400.0


def quantile_days(hours: Counter[int] | None, q: float) -> float | None:
    """The ``q`` quantile of an hour histogram, in days (bin midpoints; -1 is "at once").

    >>> quantile_days(Counter({-1: 2, 47: 1, 95: 1}), 0.5)
    0.0
    >>> quantile_days(Counter({-1: 2, 47: 1, 95: 1}), 0.9)
    3.98
    """
    if not hours:
        return None
    n = sum(hours.values())
    want = max(1, math.ceil(q * n - 1e-9))
    seen = 0
    for hour in sorted(hours):
        seen += hours[hour]
        if seen >= want:
            return 0.0 if hour < 0 else round((hour + 0.5) * HOUR / 86400, 2)
    return None


def _share(n: float, of: int) -> float:
    return round(n / of, 6) if of else 0.0


def _per(value: float, of: int) -> float | None:
    return round(value / of, 4) if of else None


def _stages(tally: Tally, model: m.JourneyModel) -> dict[str, Any]:
    out = {}
    for name, stage in model.stages.items():
        hours = tally.reach_hours.get(name)
        out[name] = {"reached": tally.reached[name],
                     "share": _share(tally.reached[name], tally.customers),
                     "at_end": tally.at_end[name], "final": stage.final,
                     "median_days": quantile_days(hours, 0.5),
                     "p90_days": quantile_days(hours, 0.9)}
    return out


def _transitions(tally: Tally, order: dict[str, int]) -> list[dict[str, Any]]:
    def key(item: tuple[tuple[str, str, str], int]) -> tuple[int, int, str]:
        (source, target, rule), _ = item
        return order[source], order[target], rule

    return [{"from": s, "to": t, "rule": r, "count": n}
            for (s, t, r), n in sorted(tally.transitions.items(), key=key)]


def customer_weeks(tally: Tally) -> float:
    """Weeks customers spent in the journey, from arrival to a final stage or the horizon."""
    return round(tally.active_seconds / WEEK, 4)


def _per_week(delivered: int, weeks: float) -> float | None:
    return round(delivered / weeks, 4) if weeks else None


def _messages(tally: Tally, model: m.JourneyModel) -> tuple[dict[str, Any], dict[str, Any]]:
    messages: dict[str, Any] = {}
    channels: dict[str, dict[str, Any]] = {}
    weeks = customer_weeks(tally)
    for name, message in model.messages.items():
        delivered, suppressed = tally.delivered[name], tally.suppressed[name]
        messages[name] = {"channel": message.channel, "delivered": delivered,
                          "suppressed": suppressed,
                          "per_customer_week": _per_week(delivered, weeks)}
        total = channels.setdefault(message.channel, {"delivered": 0, "suppressed": 0})
        total["delivered"] += delivered
        total["suppressed"] += suppressed
    for total in channels.values():
        total["per_customer_week"] = _per_week(total["delivered"], weeks)
    return messages, channels


def _goals(tally: Tally, model: m.JourneyModel) -> dict[str, Any]:
    return {name: {"reached": tally.goals[name], "rate": _share(tally.goals[name],
                                                                tally.customers),
                   "median_days": quantile_days(tally.goal_hours.get(name), 0.5),
                   "p90_days": quantile_days(tally.goal_hours.get(name), 0.9)}
            for name in model.goals}


def _bonuses(tally: Tally) -> dict[str, Any]:
    names = sorted({b for counts in tally.bonuses.values() for b in counts})
    return {b: {what: tally.bonuses.get(what, Counter())[b] for what in BONUS_COUNTS}
            for b in names}


def _walk_splits(body: tuple[m.Action, ...]) -> Iterator[m.Split]:
    for action in body:
        if isinstance(action, m.Split):
            yield action
            for arm in action.arms:
                yield from _walk_splits(arm.body)
        elif isinstance(action, m.IfAction):
            yield from _walk_splits(action.then)
            yield from _walk_splits(action.orelse)
        elif isinstance(action, m.Delayed):
            yield from _walk_splits(action.body)


def _arm_label(arm: m.SplitArm, number: int) -> str:
    """What an arm does, for people: its first message, else its first tag."""
    for action in arm.body:
        if isinstance(action, m.Send | m.Offer):
            return f"{action.kind} {action.message}"
    for action in arm.body:
        if isinstance(action, m.TagAction):
            return f'{action.kind} "{action.tag}"'
    return f"arm {number}"


def _splits(tally: Tally, model: m.JourneyModel, has_value: bool) -> list[dict[str, Any]]:
    rules = [(rule.stage or "anywhere", rule) for rule in model.anywhere]
    rules += [(name, rule) for name, stage in model.stages.items() for rule in stage.rules]
    base = model.file.replace("\\", "/").rsplit("/", 1)[-1]
    out = []
    for where, rule in rules:
        for split in _walk_splits(rule.body):
            arms = []
            for i, arm in enumerate(split.arms):
                n = tally.arms[split.key, i]
                value = tally.arm_value.get((split.key, i), 0.0)
                arms.append({"arm": i + 1, "share": arm.share, "label": _arm_label(arm, i + 1),
                             "name": str(arm.title(i)), "customers": n,
                             "value_per_customer": _per(value, n) if has_value else None,
                             "goals": {g: tally.arm_goals[split.key, i, g] for g in model.goals}})
            out.append({"position": f"{base}:{split.position}", "name": split.name,
                         "stage": where, "arms": arms})
    return out


def _segments(tally: Tally, model: m.JourneyModel, has_value: bool) -> dict[str, Any]:
    return {name: {"customers": tally.segments[name],
                   "share": _share(tally.segments[name], tally.customers),
                   "value_per_customer": (_per(tally.segment_value.get(name, 0.0),
                                               tally.segments[name]) if has_value else None)}
            for name in model.segments}


def _by(tally: Tally, plan: Plan, stages: list[str]) -> dict[str, Any] | None:
    if plan.by is None:
        return None
    groups = {}
    for group in sorted(tally.groups):
        n = tally.groups[group]
        reached = tally.group_reached.get(group, Counter())
        groups[group] = {"customers": n, "stages": {
            s: {"reached": reached[s], "share": _share(reached[s], n)} for s in stages}}
    return {"attribute": plan.by, "groups": groups}


def _occupancy(tally: Tally, plan: Plan) -> dict[str, Any]:
    first = date.fromisoformat(plan.start_date)
    return {"dates": [(first + timedelta(days=k)).isoformat() for k in range(plan.days)],
            "stages": tally.occupancy_series()}


def build_report(tally: Tally, plan: Plan, model: m.JourneyModel) -> dict[str, Any]:
    """The report of one run (see the module docstring and the JSON Schema)."""
    stages = list(model.stages)
    has_value = model.value is not None
    messages, channels = _messages(tally, model)
    n = tally.customers
    report = {
        "format": FORMAT, "journey": model.name,
        "file": model.file.replace("\\", "/").rsplit("/", 1)[-1],
        "seed": plan.seed, "start": plan.start_date, "days": plan.days, "customers": n,
        "customer_weeks": customer_weeks(tally),
        "partitions": plan.partitions, "partition_size": plan.partition_size,
        "stages": _stages(tally, model),
        "transitions": _transitions(tally, {s: i for i, s in enumerate(stages)}),
        "messages": messages, "channels": channels, "goals": _goals(tally, model),
        "bonuses": _bonuses(tally),
        "value": ({"expression": model.value.source, "total": round(tally.value, 4),
                   "per_customer": _per(tally.value, n)} if model.value is not None else None),
        "segments": _segments(tally, model, has_value),
        "splits": _splits(tally, model, has_value),
        "suppressed": dict(sorted(tally.suppressed_reasons.items())),
        "holdout": (uplift(tally.cohorts, list(model.goals), model.holdout, plan.seed)
                    if model.holdout is not None else None),
        "parked": tally.parked,
        "errors": {"count": sum(tally.errors.values()),
                   "reasons": dict(sorted(tally.errors.items()))},
        "events": {"behaviour": dict(sorted(tally.events.items())),
                   "reactions": dict(sorted(tally.reactions.items())),
                   "timer_steps": tally.timer_steps, "processed": tally.steps},
        "by": _by(tally, plan, stages),
        "occupancy": _occupancy(tally, plan),
    }
    report["arm_uplift"] = arm_uplift(report, tally.arm_cohorts, list(model.goals),
                                      model.holdout, plan.seed)
    return report


def dumps(report: dict[str, Any]) -> str:
    """The report as JSON text, the same bytes for the same report."""
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def is_page(path: Path) -> bool:
    """Whether ``--out`` asks for the HTML page rather than JSON."""
    return path.suffix.lower() in (".html", ".htm")


def report_page(journey: Journey, report: dict[str, Any]) -> str:
    """The report as one self-contained HTML page around the journey map (needs Graphviz)."""
    from journeyflow.render.output import render  # Graphviz and the map only when asked
    from journeyflow.render.stats import parse_report

    return render(journey, "html", parse_report(report, "the simulation report")).decode()


def write_timeseries(report: dict[str, Any], stream: TextIO) -> None:
    """Daily stage occupancy as CSV: one row per day (customers at the day's end)."""
    occupancy = report["occupancy"]
    stages = list(occupancy["stages"])
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(["date", *stages])
    for k, day in enumerate(occupancy["dates"]):
        writer.writerow([day, *(occupancy["stages"][s][k] for s in stages)])
