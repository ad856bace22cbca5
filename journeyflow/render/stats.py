"""The simulation report a map can be overlaid with (``journeyflow render --stats``).

The report is JSON with at least these keys::

    {"customers": 1000,
     "stages": {"retention": {"reached": 412, "share": 0.412, "at_end": 120}},
     "transitions": [{"from": "service", "to": "retention",
                      "rule": "lifecycle.journey:65", "count": 300}],
     "messages": {"welcome": {"channel": "email", "delivered": 950, "suppressed": 50}}}

``share`` is a fraction of all customers (0 to 1). Extra keys are ignored; a
missing key, a wrong type or a stage the journey does not have is a
:class:`~journeyflow.errors.JourneyError` naming the place in the file.

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

__all__ = ["MessageStats", "SimulationReport", "StageStats", "TransitionStats", "check_report",
           "parse_report", "read_report"]


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


@dataclass(frozen=True)
class SimulationReport:
    """The parts of a simulation report a map shows."""

    customers: int
    stages: Mapping[str, StageStats]
    transitions: tuple[TransitionStats, ...]
    messages: Mapping[str, MessageStats]


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


def _key(data: Mapping[str, Any], key: str, where: str, what: str) -> Any:
    if key not in data:
        raise JourneyError(f"{where}: missing key '{key}' in {what}")
    return data[key]


def _mapping(value: Any, where: str, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise JourneyError(f"{where}: {what} must be a JSON object, got {type(value).__name__}")
    return value


def _count(value: Any, where: str, what: str) -> int:
    # bool is an int in Python; a report saying "true" customers is broken.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise JourneyError(f"{where}: {what} must be a whole number >= 0, got {value!r}")
    return value


def _share(value: Any, where: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise JourneyError(f"{where}: {what} must be a fraction from 0 to 1, got {value!r}")
    return float(value)


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
    return SimulationReport(customers, stages, transitions, messages)


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
