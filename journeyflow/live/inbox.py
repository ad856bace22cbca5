"""Accepting events into a PostgreSQL store's inbox, for its workers to step.

An event is checked against its journey when it arrives (an event that cannot be valid
is rejected at once, with its reason, and kept among the rejected), stamped with the
time it arrived when it has no ``at``, and appended to the inbox in its customer's
partition, all in one transaction: once :meth:`Intake.submit` returns, the events are
durable and will be stepped, in the order they were accepted, by whichever worker holds
their partition. What only a customer's state can tell (a late event, a redelivered
``id``) is decided by that worker, which keeps such an event among the rejected too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from journeyflow.journey import Journey, version_of
from journeyflow.live.pgschema import PgOptions, connect, key_ids, partition_of
from journeyflow.runtime.events import EventValidator, Rejection
from journeyflow.runtime.timeutil import format_instant

__all__ = ["Admission", "Intake", "Queued", "Refused"]


@dataclass(frozen=True)
class Queued:
    """One event for the inbox: the journey it goes to, and as the store keeps it."""

    journey: str
    customer: str
    key: str | None
    line: int | None
    event: str
    at: float  # its time, as checked


@dataclass(frozen=True)
class Refused:
    """One event a journey can never accept, kept among its rejected."""

    journey: str
    customer: str | None
    line: int | None
    reason: str
    event: Any
    key: str | None = None  # its line's key: a file enqueued again skips it


@dataclass(frozen=True)
class Admission:
    """What became of one event at the door: queued for these journeys, or rejected by
    some (journey -> reason)."""

    queued: tuple[str, ...]
    reasons: dict[str, str]


class Intake:
    """The inbox of a set of journeys in one PostgreSQL store."""

    def __init__(self, options: PgOptions, journeys: Sequence[Journey],
                 now: Callable[[], float] = time.time) -> None:
        self.conn = connect(options, create=True)
        self.now = now
        self.journeys = {j.name: j for j in journeys}
        self.validators = {j.name: EventValidator(j.model) for j in journeys}
        self.partitions = {j.name: self._register(j, options.partitions) for j in journeys}

    def _register(self, journey: Journey, partitions: int) -> int:
        version = version_of(journey)
        self.conn.execute("INSERT INTO jf_journeys (name, version, partitions) VALUES "
                          "(%s, %s, %s) ON CONFLICT (name) DO NOTHING",
                          (journey.name, version, partitions))
        row = self.conn.execute("SELECT partitions FROM jf_journeys WHERE name = %s",
                                (journey.name,)).fetchone()
        assert row is not None
        return int(row[0])

    # ---- checking --------------------------------------------------------------------

    def check(self, journey: str, raw: Any, line: int | None = None,
              key: str | None = None) -> Queued | Refused:
        """The event as queued, or why the journey can never accept it."""
        now = self.now()
        try:
            (cid, _, _, at, _), ident = self.validators[journey].check(raw, now)
        except Rejection as rej:
            return Refused(journey, rej.customer, line, rej.reason, rej.event, key)
        if not isinstance(raw, dict):
            raw = dict(raw)
        stamped = raw if raw.get("at") not in (None, "") else {**raw, "at": format_instant(at)}
        if key is None and ident is not None:
            key = f"id:{ident}"
        return Queued(journey, cid, key, line, orjson.dumps(stamped, default=str).decode(), at)

    def targets(self, raw: Any) -> list[str]:
        """The journey an event names, else every journey declaring its type, else the
        first journey (which rejects it, and keeps it)."""
        if isinstance(raw, dict):
            named = raw.get("journey")
            if isinstance(named, str) and named in self.journeys:
                return [named]
            kind = raw.get("event")
            knowing = [name for name, j in self.journeys.items() if kind in j.model.events]
            if knowing:
                return knowing
        return [next(iter(self.journeys))]

    def admit(self, raw: Any, line: int | None = None,
              unreadable: str | None = None) -> tuple[Admission, list[Queued], list[Refused]]:
        """Check one event for every journey it goes to (``unreadable``: why its text is
        not an event at all)."""
        if unreadable is not None:
            name = next(iter(self.journeys))
            return (Admission((), {name: unreadable}), [],
                    [Refused(name, None, line, unreadable, raw)])
        queued: list[Queued] = []
        rejected: list[Refused] = []
        for name in self.targets(raw):
            found = self.check(name, raw, line)
            if isinstance(found, Refused):
                rejected.append(found)
            else:
                queued.append(found)
        return (Admission(tuple(q.journey for q in queued),
                          {r.journey: r.reason for r in rejected}), queued, rejected)

    # ---- writing ---------------------------------------------------------------------

    def write(self, queued: list[Queued], rejected: list[Refused], chunk: int = 5000,
              refuse_repeats: bool = False) -> list[Queued]:
        """Append to the inbox and keep the rejected, in one transaction; the events not
        queued because one with the same key is in the inbox already (with
        ``refuse_repeats``, kept among the rejected as duplicates)."""
        added: set[tuple[str, str | None]] = set()
        with self.conn.transaction():
            for start in range(0, len(queued), chunk):
                part = queued[start:start + chunk]
                added.update(self.conn.execute(
                    "INSERT INTO jf_inbox (journey, part, customer, key, line, event) "
                    "SELECT * FROM unnest(%b::text[], %b::int[], %b::text[], %b::text[], "
                    "%b::int[], %b::text[]) ON CONFLICT (journey, key) DO NOTHING "
                    "RETURNING journey, key",
                    ([q.journey for q in part],
                     [partition_of(q.customer, self.partitions[q.journey]) for q in part],
                     [q.customer for q in part], [q.key for q in part],
                     [q.line for q in part], [q.event for q in part])).fetchall())
            repeats = _repeats(queued, added)
            if refuse_repeats:
                rejected = [*rejected, *(_repeat(q) for q in repeats)]
            keyed = []
            if rejected:
                self.conn.execute(
                    "INSERT INTO jf_rejected (journey, customer, line, reason, event) "
                    "SELECT * FROM unnest(%b::text[], %b::text[], %b::int[], %b::text[], "
                    "%b::text[])",
                    ([r.journey for r in rejected], [r.customer for r in rejected],
                     [r.line for r in rejected], [r.reason for r in rejected],
                     [orjson.dumps(r.event, default=str).decode() for r in rejected]))
                keyed = [r for r in rejected if r.key]
            if keyed:
                self.conn.execute(
                    "INSERT INTO jf_events (id) SELECT unnest(%b::uuid[]) ON CONFLICT DO NOTHING",
                    ([ident for r in keyed for ident in key_ids(r.journey, [r.key or ""])],))
        if len(added) >= ANALYZE_AFTER:
            # A backlog arrived at once: the planner's figures for the inbox would still say
            # it is small, and the workers' "next events in order" would sort the whole
            # inbox on every fetch (68 ms for 200,000 events) instead of walking its order
            # (0.7 ms) until autovacuum's next analyze, a minute or more away.
            self.conn.execute("ANALYZE jf_inbox")
        return repeats

    def waiting(self) -> int:
        """Events of these journeys in the inbox, not yet stepped."""
        row = self.conn.execute("SELECT count(*) FROM jf_inbox WHERE journey = ANY(%s)",
                                (list(self.journeys),)).fetchone()
        return int(row[0]) if row else 0

    def committed_keys(self, journey: str, keys: list[str]) -> set[str]:
        ids = key_ids(journey, keys)
        found = {row[0] for row in self.conn.execute(
            "SELECT id FROM jf_events WHERE id = ANY(%b::uuid[])", (ids,))}
        return {key for key, ident in zip(keys, ids, strict=True) if ident in found}

    def close(self) -> None:
        self.conn.close()


ANALYZE_AFTER = 10_000  # events added at once after which the inbox's statistics are renewed


def _repeat(queued: Queued) -> Refused:
    ident = (queued.key or "").removeprefix("id:")
    return Refused(queued.journey, queued.customer, queued.line,
                   f"duplicate event id '{ident}': already accepted", orjson.loads(queued.event))


def _repeats(queued: list[Queued], added: set[tuple[str, str | None]]) -> list[Queued]:
    """The events whose key was queued before them (in the inbox, or earlier in this
    batch: the inbox takes the first one)."""
    first: set[tuple[str, str | None]] = set()
    out = []
    for q in queued:
        if q.key is None:
            continue
        key = (q.journey, q.key)
        if key in added and key not in first:
            first.add(key)
        else:
            out.append(q)
    return out
