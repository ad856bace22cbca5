"""Customers, timers and delivery contexts to JSON and back, for the durable stores.

Slot numbers, tag and goal bits are in-memory details of one journey's layout: a
stored customer keeps everything by name, so a later version of the journey (or
another process) can read it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from journeyflow.runtime.interpreter import DELIVER
from journeyflow.runtime.program import Program
from journeyflow.runtime.state import ACTIVE, EMPTY_MAP, FINAL, PARKED, Bonus, Customer

__all__ = ["context_from_json", "context_to_json", "customer_from_json", "customer_to_json",
           "timer_from_row", "timer_to_row"]

Timer = tuple[Any, ...]  # (due, seq, customer, kind, a, b, extra), as the interpreter keeps it


def customer_to_json(program: Program, c: Customer) -> str:
    layout = program.layout
    out = {slot: getattr(c, slot) for slot in Customer.__slots__}
    out = {slot: (dict(value) if value is EMPTY_MAP else value) for slot, value in out.items()}
    del out["tag_bits"], out["goal_bits"]
    out["stage"] = program.stage_names[c.stage]  # by name: versions may reorder stages
    out["tags"] = list(c.tags)
    out["goals"] = list(c.goals)
    out["fired"] = list(c.fired)
    out["bonuses"] = {k: list(b) for k, b in c.bonuses.items()}
    out["pending"] = list(c.pending)
    out["seen"] = None if c.seen is None else [c.seen[0], sorted(c.seen[1])]
    out["attrs"] = layout.get_attributes(c)
    out["history"] = layout.get_history(c)
    out["sends"] = {k: list(v) for k, v in layout.get_caps(c).items()}
    out["arms"] = layout.get_arms(c)
    return json.dumps(out, separators=(",", ":"), default=_plain)


def customer_from_json(program: Program, text: str) -> Customer:
    layout = program.layout
    data = json.loads(text)
    stage = program.stage_index[data.pop("stage")]
    c = layout.new(data["id"], stage, data["created"])
    for slot in Customer.__slots__:
        if slot in data:
            setattr(c, slot, data[slot])
    # The interpreter compares statuses by identity: use the module's own strings.
    c.status = {ACTIVE: ACTIVE, FINAL: FINAL, PARKED: PARKED}[data["status"]]
    c.tag_bits = sum(layout.tag_bit(tag) for tag in data["tags"])
    c.goal_bits = sum(layout.goal_bit(goal) for goal in data["goals"])
    c.fired = tuple(data["fired"])
    c.bonuses = {k: Bonus(v, e, g) for k, (v, e, g) in data["bonuses"].items()} or EMPTY_MAP
    c.pending = tuple(data["pending"])
    seen = data["seen"]
    c.seen = None if seen is None else (seen[0], tuple(seen[1]))
    layout.set_attributes(c, data["attrs"])
    # JSON has no tuples: `within` windows and cap logs come back as lists.
    for key, value in data["history"].items():
        if key in layout.history:
            windowed = layout.history_parts[key][0] in ("window", "payloads")
            setattr(c, layout.history[key], tuple(value) if windowed else value)
    for channel, times in data["sends"].items():
        if channel in layout.caps:
            setattr(c, layout.caps[channel], tuple(times))
    for position, arm in data["arms"].items():
        if position in layout.arms:
            setattr(c, layout.arms[position], arm)
    return c


def timer_to_row(timer: Timer) -> tuple[float, int, str, int, str]:
    """``(due, seq, customer, kind, payload)``; a deferred send keeps its pending's seq."""
    due, seq, cid, kind, a, b, extra = timer
    payload = [a["seq"] if kind == DELIVER else a, b, extra]
    return due, seq, cid, kind, json.dumps(payload, separators=(",", ":"), default=_plain)


def timer_from_row(due: float, seq: int, cid: str, kind: int, payload: str,
                   customer: Customer) -> Timer | None:
    """The timer as the interpreter keeps it; None for a deferred send already gone."""
    a, b, extra = json.loads(payload)
    if kind == DELIVER:
        a = next((p for p in customer.pending if p["seq"] == a), None)
        if a is None:
            return None
    elif extra is not None:
        extra = tuple(extra)
    return due, seq, cid, kind, a, b, extra


def context_to_json(context: Any) -> str:
    """A template context (customer, event, bonus), dates kept as dates."""
    return json.dumps(context, separators=(",", ":"), default=_tagged)


def context_from_json(text: str) -> Any:
    return json.loads(text, object_hook=_untag)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__}")


def _tagged(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    return _plain(value)


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and "$datetime" in obj:
        return datetime.fromisoformat(obj["$datetime"])
    return obj
