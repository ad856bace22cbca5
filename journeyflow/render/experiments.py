"""Why sends were held back, how each split's arms did, and the uplift against the holdout:
the experiment parts of a simulation report, read and shown on the HTML page.

A report without them (an older one, or a journey with no split and no holdout) shows
nothing here rather than zeros.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from journeyflow.errors import JourneyError
from journeyflow.render.html_parts import number, percent, row, table
from journeyflow.render.reportjson import amount, count, mapping, optional

__all__ = ["ArmStats", "ArmUplift", "ExperimentStats", "HoldoutStats", "Interval", "SplitStats",
           "experiment_sections", "parse_experiments"]

REASONS = {"frequency_cap": "over a frequency cap", "no_consent": "no consent",
           "holdout": "customer in the holdout"}


@dataclass(frozen=True, slots=True)
class Interval:
    """A difference with its 95% bootstrap interval (None when it could not be drawn)."""

    difference: float
    low: float | None
    high: float | None


@dataclass(frozen=True, slots=True)
class ArmStats:
    name: str
    share: float
    customers: int
    value_per_customer: float | None
    goals: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class SplitStats:
    name: str
    stage: str
    arms: tuple[ArmStats, ...]


@dataclass(frozen=True, slots=True)
class HoldoutStats:
    share: float
    customers: int  # in the journey
    held_out: int
    value: float | None
    held_out_value: float | None
    rates: Mapping[str, float]
    held_out_rates: Mapping[str, float]
    value_uplift: Interval | None
    goal_uplift: Mapping[str, Interval]


@dataclass(frozen=True, slots=True)
class ArmUplift:
    """One split arm against the held-out customers who took the same arm."""

    split: str
    arm: str
    figures: HoldoutStats


@dataclass(frozen=True, slots=True)
class ExperimentStats:
    suppressed: Mapping[str, int]
    splits: tuple[SplitStats, ...]
    holdout: HoldoutStats | None
    arms: tuple[ArmUplift, ...] = ()


def parse_experiments(top: Mapping[str, Any], where: str) -> ExperimentStats | None:
    """The ``suppressed``, ``splits`` and ``holdout`` parts of a report, when it has any."""
    if not any(top.get(key) for key in ("suppressed", "splits", "holdout")):
        return None
    suppressed = {str(reason): count(n, where, f"suppressed.{reason}")
                  for reason, n in mapping(top.get("suppressed") or {}, where,
                                            "suppressed").items()}
    splits = tuple(_split(raw, where, f"splits[{i}]")
                   for i, raw in enumerate(_list(top.get("splits") or [], where, "splits")))
    holdout = _holdout(top["holdout"], where) if top.get("holdout") else None
    arms = tuple(_arm_uplift(raw, where, f"arm_uplift[{i}]") for i, raw in
                 enumerate(_list(top.get("arm_uplift") or [], where, "arm_uplift")))
    return ExperimentStats(suppressed, splits, holdout, arms)


def experiment_sections(experiments: ExperimentStats | None) -> list[str]:
    """Suppressions by reason, the arms of each split, and the holdout's uplift."""
    if experiments is None:
        return []
    return [*_suppressions(experiments), *_splits(experiments), *_holdout_section(experiments),
            *_arm_section(experiments)]


# ---- the page ----------------------------------------------------------------------------


def _suppressions(experiments: ExperimentStats) -> list[str]:
    if not experiments.suppressed:
        return []
    total = sum(experiments.suppressed.values())
    rows = [row([escape(REASONS.get(reason, reason)), f"{n:,}",
                 percent(n / total if total else None)], (1, 2))
            for reason, n in sorted(experiments.suppressed.items(), key=lambda kv: -kv[1])]
    return ["<h2>Suppressed sends by reason</h2>",
            *table("suppressed", ["Reason", "Sends", "Share"], rows)]


def _splits(experiments: ExperimentStats) -> list[str]:
    parts: list[str] = []
    for split in experiments.splits:
        goals = sorted({goal for arm in split.arms for goal in arm.goals})
        rows = [row([escape(arm.name), percent(arm.share / 100), f"{arm.customers:,}",
                     number(arm.value_per_customer),
                     *(percent(arm.goals.get(goal, 0) / arm.customers if arm.customers
                               else None) for goal in goals)],
                    tuple(range(1, 4 + len(goals)))) for arm in split.arms]
        parts += [f"<h2>Split {escape(split.name)} (stage {escape(split.stage)})</h2>",
                  *table(f"split-{escape(split.name)}",
                         ["Arm", "Share", "Customers", "Value per customer",
                          *(f"Goal {g}" for g in goals)], rows)]
    return parts


def _holdout_section(experiments: ExperimentStats) -> list[str]:
    h = experiments.holdout
    if h is None:
        return []
    rows = [row(["Customers", f"{h.customers:,}", f"{h.held_out:,}", "", ""], (1, 2)),
            _uplift_row("Value per customer", number(h.value), number(h.held_out_value),
                        h.value_uplift, number)]
    for goal in sorted(set(h.rates) | set(h.held_out_rates)):
        rows.append(_uplift_row(f"Goal {escape(goal)}", percent(h.rates.get(goal)),
                                percent(h.held_out_rates.get(goal)), h.goal_uplift.get(goal),
                                _points))
    return [f"<h2>Uplift against the holdout ({number(h.share, 0)}% held out)</h2>",
            "<p>The holdout gets no marketing sends or offers and otherwise runs the journey "
            "unchanged; the difference is the journey's effect, with its 95% bootstrap "
            "interval.</p>",
            *table("holdout", ["Figure", "Journey", "Holdout", "Difference", "95% interval"],
                   rows)]


def _arm_section(experiments: ExperimentStats) -> list[str]:
    if not experiments.arms:
        return []
    goals = sorted({g for arm in experiments.arms
                    for g in (*arm.figures.rates, *arm.figures.held_out_rates)})
    rows = []
    for arm in experiments.arms:
        h = arm.figures
        cells = [escape(f"{arm.split}: {arm.arm}"), f"{h.customers:,}", f"{h.held_out:,}",
                 _change(h.value_uplift, 1.0, "")]
        cells += [_change(h.goal_uplift.get(goal), 100.0, " pts") for goal in goals]
        rows.append(row(cells, tuple(range(1, 4 + len(goals)))))
    return ["<h2>Uplift per split arm</h2>",
            "<p>Each arm's customers against the held-out customers who took the same arm: "
            "both reached the same point of the journey, and only the held-out ones missed "
            "the arm's messages and offers. Difference, then its 95% bootstrap interval.</p>",
            *table("arm-uplift", ["Arm", "Customers", "Held out", "Value per customer",
                                  *(f"Goal {g}" for g in goals)], rows)]


def _change(interval: Interval | None, scale: float, unit: str) -> str:
    """A difference and its interval; – when a cohort had nobody to compare."""
    if interval is None:
        return "–"
    text = f"{interval.difference * scale:+.2f}{unit}"
    if interval.low is None or interval.high is None:
        return text
    return f"{text} ({interval.low * scale:+.2f} to {interval.high * scale:+.2f})"


def _uplift_row(label: str, journey: str, held_out: str, uplift: Interval | None,
                show: Any) -> str:
    if uplift is None:
        return row([label, journey, held_out, "–", "–"], (1, 2, 3, 4))
    interval = ("–" if uplift.low is None or uplift.high is None
                else f"{show(uplift.low)} to {show(uplift.high)}")
    return row([label, journey, held_out, show(uplift.difference), interval], (1, 2, 3, 4))


def _points(value: float | None) -> str:
    """A difference of two rates, in percentage points."""
    return "–" if value is None else f"{100 * value:+.1f} pts"


# ---- reading -----------------------------------------------------------------------------


def _split(raw: Any, where: str, what: str) -> SplitStats:
    item = mapping(raw, where, what)
    name = item.get("name") or item.get("position") or what
    arms = tuple(_arm(arm, where, f"{what}.arms[{i}]", i)
                 for i, arm in enumerate(_list(item.get("arms") or [], where, f"{what}.arms")))
    return SplitStats(str(name), str(item.get("stage") or ""), arms)


def _arm(raw: Any, where: str, what: str, index: int) -> ArmStats:
    item = mapping(raw, where, what)
    name = item.get("name") or f"arm {item.get('arm', index + 1)}"
    goals = {str(g): count(n, where, f"{what}.goals.{g}")
             for g, n in mapping(item.get("goals") or {}, where, f"{what}.goals").items()}
    return ArmStats(str(name), _real(item.get("share", 0), where, f"{what}.share"),
                    count(item.get("customers", 0), where, f"{what}.customers"),
                    _maybe(item.get("value_per_customer"), where, f"{what}.value_per_customer"),
                    goals)


def _arm_uplift(raw: Any, where: str, what: str) -> ArmUplift:
    item = mapping(raw, where, what)
    return ArmUplift(str(item.get("split")), str(item.get("arm")), _holdout(item, where, what))


def _holdout(raw: Any, where: str, what: str = "holdout") -> HoldoutStats:
    item = mapping(raw, where, what)
    counts = mapping(item.get("customers") or {}, where, f"{what}.customers")
    journey = mapping(item.get("journey") or {}, where, f"{what}.journey")
    held = mapping(item.get("holdout") or {}, where, f"{what}.holdout")
    uplift = mapping(item.get("uplift") or {}, where, f"{what}.uplift")
    goal_uplift = {str(g): _interval(v, where, f"{what}.uplift.goal_rates.{g}")
                   for g, v in mapping(uplift.get("goal_rates") or {}, where,
                                        f"{what}.uplift.goal_rates").items()}
    value_uplift = uplift.get("value_per_customer")
    return HoldoutStats(
        _real(item.get("share", 0), where, f"{what}.share"),
        count(counts.get("journey", 0), where, f"{what}.customers.journey"),
        count(counts.get("holdout", 0), where, f"{what}.customers.holdout"),
        _maybe(journey.get("value_per_customer"), where, f"{what}.journey.value_per_customer"),
        _maybe(held.get("value_per_customer"), where, f"{what}.holdout.value_per_customer"),
        _rates(journey.get("goal_rates"), where, f"{what}.journey.goal_rates"),
        _rates(held.get("goal_rates"), where, f"{what}.holdout.goal_rates"),
        None if value_uplift is None else _interval(value_uplift, where,
                                                    f"{what}.uplift.value_per_customer"),
        goal_uplift)


def _interval(raw: Any, where: str, what: str) -> Interval:
    item = mapping(raw, where, what)
    return Interval(_real(item.get("difference"), where, f"{what}.difference"),
                    _maybe(item.get("low"), where, f"{what}.low"),
                    _maybe(item.get("high"), where, f"{what}.high"))


def _rates(raw: Any, where: str, what: str) -> dict[str, float]:
    """Goal rates of a cohort; a cohort with no customers has none (null)."""
    return {str(g): _real(v, where, f"{what}.{g}")
            for g, v in mapping(raw or {}, where, what).items() if v is not None}


def _list(value: Any, where: str, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise JourneyError(f"{where}: {what} must be a list")
    return value


def _real(value: Any, where: str, what: str) -> float:
    """A finite number of either sign (shares, rates, differences, values)."""
    return amount(value, where, what, signed=True)


def _maybe(value: Any, where: str, what: str) -> float | None:
    return optional(value, where, what, signed=True)
