"""Customers, timers and delivery contexts to JSON and back, for the durable stores.

Slot numbers, tag and goal bits are in-memory details of one journey's layout: a
stored customer keeps everything by name, so a later version of the journey (or
another process) can read it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any

import orjson

from journeyflow.runtime.outbox import OutboxRow
from journeyflow.runtime.program import Program
from journeyflow.runtime.state import ACTIVE, EMPTY_MAP, FINAL, PARKED, Bonus, Customer
from journeyflow.runtime.timerkinds import DELIVER

__all__ = ["context_from_json", "context_to_json", "customer_from_json", "customer_to_json",
           "dumps", "history_records", "loads", "outbox_rows", "timer_from_row", "timer_to_row"]

Timer = tuple[Any, ...]  # (due, seq, customer, kind, a, b, extra), as the interpreter keeps it


_PLAIN_FIELDS = ("id", "status", "entered", "epoch", "life", "clock", "last_contact",
                 "final_at", "created", "grants")


class _Encoder:
    """Reads one journey's customers field by field with C getters: the store writes a
    customer on every commit that touched it, so this is on the hot path."""

    def __init__(self, program: Program) -> None:
        layout = program.layout
        self.program = program
        self.plain = attrgetter(*_PLAIN_FIELDS)
        self.groups = [(name, tuple(slots), tuple(slots.values()))
                       for name, slots in (("attrs", layout.attributes),
                                           ("history", layout.history),
                                           ("sends", layout.caps))]
        self.getters = [(name, names, attrgetter(*values) if len(values) > 1 else None,
                         values[0] if len(values) == 1 else None)
                        for name, names, values in self.groups if values]
        self.empty = [name for name, _, values in self.groups if not values]

    def encode(self, c: Customer) -> str:
        program = self.program
        layout = program.layout
        out: dict[str, Any] = dict(zip(_PLAIN_FIELDS, self.plain(c), strict=True))
        out["stage"] = program.stage_names[c.stage]  # by name: versions may reorder stages
        out["tags"] = layout.tag_names(c.tag_bits) if c.tag_bits else ()
        out["goals"] = layout.goal_names(c.goal_bits) if c.goal_bits else ()
        out["fired"] = c.fired
        out["bonuses"] = {k: tuple(b) for k, b in c.bonuses.items()} if c.bonuses else {}
        out["pending"] = c.pending
        seen = c.seen
        out["seen"] = None if seen is None else (seen[0], sorted(seen[1]))
        for name, names, many, one in self.getters:
            values = many(c) if many is not None else (getattr(c, one),)  # type: ignore[arg-type]
            out[name] = dict(zip(names, values, strict=True))
        for name in self.empty:
            out[name] = {}
        out["arms"] = layout.get_arms(c) if layout.arms else {}
        return dumps(out)


def dumps(value: Any) -> str:
    """Compact JSON (orjson: the store writes every touched customer on every commit)."""
    return orjson.dumps(value, default=_plain,
                        option=orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME).decode()


def loads(text: str | bytes) -> Any:
    return orjson.loads(text)
_ENCODERS: dict[int, _Encoder] = {}


def customer_to_json(program: Program, c: Customer) -> str:
    encoder = _ENCODERS.get(id(program))
    if encoder is None or encoder.program is not program:
        encoder = _ENCODERS[id(program)] = _Encoder(program)
    return encoder.encode(c)


def customer_from_json(program: Program, text: str) -> Customer:
    layout = program.layout
    data = orjson.loads(text)
    stage = program.stage_index[data.pop("stage")]
    c = layout.new(data["id"], stage, data["created"])
    for slot in Customer.__slots__:
        if slot in data:
            setattr(c, slot, data[slot])
    # The interpreter compares statuses by identity: use the module's own strings.
    c.status = {ACTIVE: ACTIVE, FINAL: FINAL, PARKED: PARKED}[data["status"]]
    c.tag_bits = sum(layout.tag_bit(tag) for tag in data["tags"])
    # A goal the journey no longer declares (an edit of a store written before versions
    # were recorded) is not brought back into its layout: reports would count it.
    declared = program.model.goals
    c.goal_bits = sum(layout.goal_bit(goal) for goal in data["goals"] if goal in declared)
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
    return due, seq, cid, kind, dumps(payload)


def timer_from_row(due: float, seq: int, cid: str, kind: int, payload: str,
                   customer: Customer) -> Timer | None:
    """The timer as the interpreter keeps it; None for a deferred send already gone."""
    a, b, extra = orjson.loads(payload)
    if kind == DELIVER:
        a = next((p for p in customer.pending if p["seq"] == a), None)
        if a is None:
            return None
    elif extra is not None:
        extra = tuple(extra)
    return due, seq, cid, kind, a, b, extra


def context_to_json(context: Any) -> str:
    """A template context (customer, event, bonus), dates kept as dates."""
    return orjson.dumps(context, default=_tagged,
                        option=orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME).decode()


def context_from_json(text: str) -> Any:
    return json.loads(text, object_hook=_untag)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)  # an int beyond 64 bits, or anything else: as json.dumps(default=str)


def _tagged(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    return _plain(value)


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and "$datetime" in obj:
        return datetime.fromisoformat(obj["$datetime"])
    return obj


def outbox_rows(rows: Iterable[Sequence[Any]]) -> list[OutboxRow]:
    """Outbox rows as a store selects them: ``id, journey, customer, key, kind, channel,
    at, fields, context, attempts, next_at, error, status``."""
    return [OutboxRow(journey, customer, kind, channel, at, orjson.loads(fields),
                      None if context is None else context_from_json(context), key=key,
                      id=rid, attempts=attempts, next_at=next_at, error=error, status=status)
            for rid, journey, customer, key, kind, channel, at, fields, context, attempts,
            next_at, error, status in rows]


def history_records(cid: str, texts: Iterable[Sequence[str]]) -> list[dict[str, Any]]:
    """A customer's trace history from its ``jf_history`` rows (each ``(records,)``, the
    JSON of ``[at, kind, fields]`` lists, oldest first), as trace records."""
    from journeyflow.runtime.trace import record_to_dict

    return [record_to_dict((at, cid, kind, fields))
            for (text,) in texts for at, kind, fields in loads(text)]
