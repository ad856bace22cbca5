"""The simulation report a map can be overlaid with (``journeyflow render --stats``).

The report is JSON with at least these keys::

    {"customers": 1000,
     "stages": {"retention": {"reached": 412, "share": 0.412, "at_end": 120}},
     "transitions": [{"from": "service", "to": "retention",
                      "rule": "lifecycle.journey:65", "count": 300}],
     "messages": {"welcome": {"channel": "email", "delivered": 950, "suppressed": 50}}}

``share`` is a fraction of all customers (0 to 1). The page a marketer forwards
also shows, when the report has them (``journeyflow simulate --out`` writes them
all; older reports lack ``customer_weeks``): ``days``, ``goals`` (reached, rate,
median and p90 days to reach), ``value`` (per customer), ``segments``,
``bonuses`` (granted, reminded, redeemed, expired) and ``customer_weeks``, the
weeks customers spent in the journey, for messages per customer per week. Other
keys are ignored; a missing key, a wrong type or a stage the journey does not
have is a :class:`~journeyflow.errors.JourneyError` naming the place in the file.

Examples
--------
>>> report = parse_report({"customers": 2, "stages": {"a": {"reached": 2, "share": 1.0,
...     "at_end": 0}}, "transitions": [], "messages": {}}, "r.json")
>>> report.stages["a"].reached
2
>>> parse_report({"customers": 2}, "r.json")
Traceback (most recent call last):
...
journeyflow.errors.JourneyError: r.json: missing key 'stages' in the report
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from journeyflow.errors import JourneyError, did_you_mean
from journeyflow.render.experiments import ExperimentStats, parse_experiments
from journeyflow.render.reportjson import amount as _amount
from journeyflow.render.reportjson import count as _count
from journeyflow.render.reportjson import key as _key
from journeyflow.render.reportjson import mapping as _mapping
from journeyflow.render.reportjson import optional as _optional
from journeyflow.render.reportjson import share as _share

__all__ = ["BonusStats", "GoalStats", "MessageStats", "SegmentStats", "SimulationReport",
           "StageStats", "TransitionStats", "ValueStats", "check_report", "parse_report",
           "read_report"]


@dataclass(frozen=True, slots=True)
class StageStats:
    """How many customers reached a stage and how many were still there at the end."""

    reached: int
    share: float
    at_end: int


@dataclass(frozen=True, slots=True)
class TransitionStats:
    """How many customers took one rule from one stage to another."""

    source: str
    target: str
    rule: str
    count: int


@dataclass(frozen=True, slots=True)
class MessageStats:
    """Sends of one message: delivered, and suppressed by a frequency cap."""

    name: str
    channel: str
    delivered: int
    suppressed: int


@dataclass(frozen=True, slots=True)
class GoalStats:
    """Customers who reached a goal, and how long it took them (days since arrival)."""

    name: str
    reached: int
    rate: float
    median_days: float | None
    p90_days: float | None


@dataclass(frozen=True, slots=True)
class BonusStats:
    """What became of one bonus: granted, reminded of, redeemed, expired."""

    name: str
    granted: int
    reminded: int
    redeemed: int
    expired: int


@dataclass(frozen=True, slots=True)
class ValueStats:
    """The journey's ``value`` expression at the horizon, per customer."""

    expression: str
    per_customer: float | None


@dataclass(frozen=True, slots=True)
class SegmentStats:
    """Customers in a segment at the horizon, and their value per customer."""

    name: str
    customers: int
    share: float
    value_per_customer: float | None


@dataclass(frozen=True)
class SimulationReport:
    """The parts of a simulation report a map and its page show."""

    customers: int
    stages: Mapping[str, StageStats]
    transitions: tuple[TransitionStats, ...]
    messages: Mapping[str, MessageStats]
    days: int | None = None
    goals: tuple[GoalStats, ...] = ()
    value: ValueStats | None = None
    segments: tuple[SegmentStats, ...] = ()
    bonuses: tuple[BonusStats, ...] = ()
    customer_weeks: float | None = None
    experiments: ExperimentStats | None = None  # suppressions by reason, splits, holdout
    live: bool = False  # real customers of a store (journeyflow report), not a forecast

    @property
    def delivered(self) -> int:
        return sum(m.delivered for m in self.messages.values())

    def per_customer_week(self, delivered: int) -> float | None:
        """``delivered`` messages per customer per week, when the report says how long
        customers were in the journey."""
        if not self.customer_weeks:
            return None
        return delivered / self.customer_weeks


def read_report(path: Path) -> SimulationReport:
    """Read and validate the report at ``path``; every problem is a ``JourneyError``."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise JourneyError(f"cannot read the stats report {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise JourneyError(f"{path}: the stats report is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise JourneyError(f"{path}:{exc.lineno}:{exc.colno}: the stats report is not valid "
                           f"JSON: {exc.msg}") from exc
    return parse_report(data, str(path))


def parse_report(data: Any, where: str) -> SimulationReport:
    """Validate decoded JSON ``data``; ``where`` names the file in messages."""
    top = _mapping(data, where, "the report")
    customers = _count(_key(top, "customers", where, "the report"), where, "customers")
    stages = {}
    for name, raw in _mapping(_key(top, "stages", where, "the report"), where,
                              "stages").items():
        what = f"stages.{name}"
        item = _mapping(raw, where, what)
        stages[name] = StageStats(
            _count(_key(item, "reached", where, what), where, f"{what}.reached"),
            _share(_key(item, "share", where, what), where, f"{what}.share"),
            _count(_key(item, "at_end", where, what), where, f"{what}.at_end"))
    raw_transitions = _key(top, "transitions", where, "the report")
    if not isinstance(raw_transitions, list):
        raise JourneyError(f"{where}: transitions must be a JSON list")
    transitions = tuple(_transition(raw, where, f"transitions[{i}]")
                        for i, raw in enumerate(raw_transitions))
    messages = {}
    for name, raw in _mapping(_key(top, "messages", where, "the report"), where,
                              "messages").items():
        what = f"messages.{name}"
        item = _mapping(raw, where, what)
        channel = _key(item, "channel", where, what)
        messages[name] = MessageStats(
            name, str(channel),
            _count(_key(item, "delivered", where, what), where, f"{what}.delivered"),
            _count(_key(item, "suppressed", where, what), where, f"{what}.suppressed"))
    return SimulationReport(customers, stages, transitions, messages, **_details(top, where))


def _details(top: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The optional parts: each checked when present, left at its default when absent."""
    out: dict[str, Any] = {}
    if top.get("days") is not None:
        out["days"] = _count(top["days"], where, "days")
    if top.get("customer_weeks") is not None:
        out["customer_weeks"] = _amount(top["customer_weeks"], where, "customer_weeks")
    if top.get("goals") is not None:
        out["goals"] = tuple(_goal(name, raw, where) for name, raw in
                             _mapping(top["goals"], where, "goals").items())
    if top.get("bonuses") is not None:
        out["bonuses"] = tuple(_bonus(name, raw, where) for name, raw in
                               _mapping(top["bonuses"], where, "bonuses").items())
    if top.get("value") is not None:
        item = _mapping(top["value"], where, "value")
        out["value"] = ValueStats(
            str(_key(item, "expression", where, "value")),
            _optional(_key(item, "per_customer", where, "value"), where, "value.per_customer",
                      signed=True))
    if top.get("segments") is not None:
        out["segments"] = tuple(_segment(name, raw, where) for name, raw in
                                _mapping(top["segments"], where, "segments").items())
    out["experiments"] = parse_experiments(top, where)
    out["live"] = str(top.get("format", "")).startswith("journeyflow-live/")
    return out


def _goal(name: str, raw: Any, where: str) -> GoalStats:
    what = f"goals.{name}"
    item = _mapping(raw, where, what)
    return GoalStats(
        name, _count(_key(item, "reached", where, what), where, f"{what}.reached"),
        _share(_key(item, "rate", where, what), where, f"{what}.rate"),
        _optional(_key(item, "median_days", where, what), where, f"{what}.median_days"),
        _optional(_key(item, "p90_days", where, what), where, f"{what}.p90_days"))


def _bonus(name: str, raw: Any, where: str) -> BonusStats:
    what = f"bonuses.{name}"
    item = _mapping(raw, where, what)
    counts = [_count(_key(item, key, where, what), where, f"{what}.{key}")
              for key in ("granted", "reminded", "redeemed", "expired")]
    return BonusStats(name, *counts)


def _segment(name: str, raw: Any, where: str) -> SegmentStats:
    what = f"segments.{name}"
    item = _mapping(raw, where, what)
    return SegmentStats(
        name, _count(_key(item, "customers", where, what), where, f"{what}.customers"),
        _share(_key(item, "share", where, what), where, f"{what}.share"),
        _optional(_key(item, "value_per_customer", where, what), where,
                  f"{what}.value_per_customer", signed=True))


def _transition(raw: Any, where: str, what: str) -> TransitionStats:
    item = _mapping(raw, where, what)
    parts = [_key(item, key, where, what) for key in ("from", "to", "rule")]
    if not all(isinstance(p, str) for p in parts):
        raise JourneyError(f"{where}: {what}: 'from', 'to' and 'rule' must be strings")
    count = _count(_key(item, "count", where, what), where, f"{what}.count")
    return TransitionStats(parts[0], parts[1], parts[2], count)


def check_report(report: SimulationReport, where: str, stages: Iterable[str],
                 messages: Iterable[str]) -> None:
    """Every stage and message the report names must be in the journey."""
    known = list(stages)
    named = [(name, "stages") for name in report.stages]
    for i, t in enumerate(report.transitions):
        named += [(t.source, f"transitions[{i}].from"), (t.target, f"transitions[{i}].to")]
    for name, what in named:
        if name not in known:
            raise JourneyError(_unknown(where, "stage", name, what, known))
    declared = list(messages)
    for name in report.messages:
        if name not in declared:
            raise JourneyError(_unknown(where, "message", name, "messages", declared))


def _unknown(where: str, kind: str, name: str, what: str, known: list[str]) -> str:
    hint = did_you_mean(name, known)
    text = (f"{where}: unknown {kind} '{name}' in {what}; was the report made from another "
            f"journey? (the journey has: {', '.join(known) or 'none'})")
    return text + (f"\nhint: {hint}" if hint else "")
