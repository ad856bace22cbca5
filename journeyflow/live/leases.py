"""Which worker steps which partition of a journey's customers.

Each partition has one lease row: the worker holding it, an epoch that grows with every
change of hands, and when it expires. A worker renews its leases while it runs (every
commit renews them too); one that stops renewing (killed, cut off) loses them after the
lease time, and the others take them over. Every commit first checks, in its own
transaction, that the worker still holds each of its partitions under the epoch it
took them with (the fence): a worker whose lease was taken cannot commit, whatever
it believes.

Time is the database's clock, so machines with skewed clocks agree on expiry.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any

import psycopg

from journeyflow.errors import JourneyError

__all__ = ["LeaseLost", "Leases"]


class LeaseLost(Exception):
    """The fence found partitions this worker no longer holds; nothing was committed."""

    def __init__(self, partitions: set[int]) -> None:
        super().__init__(f"lost partitions {sorted(partitions)}")
        self.partitions = partitions


_FENCE = (
    "UPDATE jf_leases AS l SET expires = clock_timestamp() + make_interval(secs => %s), "
    "deliveries = h.d FROM unnest(%b::int[], %b::bigint[], %b::bigint[]) AS h(p, e, d) "
    "WHERE l.journey = %s AND l.part = h.p AND l.worker = %s AND l.epoch = h.e "
    "RETURNING l.part")

_CLAIM = (
    "UPDATE jf_leases AS l SET worker = %s, epoch = l.epoch + 1, "
    "expires = clock_timestamp() + make_interval(secs => %s) "
    "FROM (SELECT part FROM jf_leases WHERE journey = %s AND (worker IS NULL OR "
    "expires < clock_timestamp()) ORDER BY part LIMIT %s FOR UPDATE SKIP LOCKED) AS f "
    "WHERE l.journey = %s AND l.part = f.part RETURNING l.part, l.epoch, l.deliveries")


class Leases:
    """One worker's leases on one journey's partitions."""

    def __init__(self, conn: psycopg.Connection[Any], journey: str, worker: str,
                 partitions: int, seconds: float) -> None:
        self.conn = conn
        self.journey = journey
        self.worker = worker
        self.partitions = partitions
        self.seconds = seconds
        self.held: dict[int, int] = {}  # partition -> epoch
        self.deliveries: dict[int, int] = {}  # partition -> deliveries numbered so far
        conn.execute("INSERT INTO jf_leases (journey, part) SELECT %s, g FROM "
                     "generate_series(0, %s - 1) AS g ON CONFLICT DO NOTHING",
                     (journey, partitions))

    @property
    def all(self) -> bool:
        return len(self.held) == self.partitions

    # ---- claiming and giving back ----------------------------------------------------

    def claim(self, count: int) -> set[int]:
        """Take up to ``count`` free or expired partitions; the ones taken."""
        if count <= 0:
            return set()
        rows = self.conn.execute(_CLAIM, (self.worker, self.seconds, self.journey, count,
                                          self.journey)).fetchall()
        for part, epoch, deliveries in rows:
            self.held[part] = epoch
            self.deliveries[part] = deliveries
        return {row[0] for row in rows}

    def claim_all(self, wait: float) -> None:
        """Every partition, as an engine used on its own needs; waits up to ``wait`` s."""
        deadline = time.monotonic() + wait
        while True:
            self.claim(self.partitions - len(self.held))
            if self.all:
                return
            if time.monotonic() >= deadline:
                holders = sorted({row[0] for row in self.conn.execute(
                    "SELECT worker FROM jf_leases WHERE journey = %s AND worker IS NOT NULL "
                    "AND worker != %s AND expires >= clock_timestamp()",
                    (self.journey, self.worker))})
                self.release(set(self.held))
                raise JourneyError(
                    f"journey '{self.journey}' is being run by other workers "
                    f"({', '.join(holders)}); waited {wait:g} s for their partitions. Stop "
                    "them, or send the events to their inbox (journeyflow enqueue)")
            time.sleep(min(0.2, self.seconds / 4))

    def release(self, parts: Iterable[int]) -> None:
        """Give partitions back (after a commit: nothing of theirs is pending here)."""
        parts = [p for p in parts if p in self.held]
        if not parts:
            return
        self.conn.execute(
            "UPDATE jf_leases AS l SET worker = NULL, expires = NULL FROM "
            "unnest(%b::int[], %b::bigint[]) AS h(p, e) WHERE l.journey = %s AND "
            "l.part = h.p AND l.worker = %s AND l.epoch = h.e",
            (parts, [self.held[p] for p in parts], self.journey, self.worker))
        for part in parts:
            self.held.pop(part, None)
            self.deliveries.pop(part, None)

    # ---- sharing fairly -----------------------------------------------------------------

    def heartbeat(self) -> int:
        """Say this worker is alive; the number of live workers of the journey."""
        conn = self.conn
        conn.execute("INSERT INTO jf_workers (journey, worker, seen) VALUES "
                     "(%s, %s, clock_timestamp()) ON CONFLICT (journey, worker) DO UPDATE "
                     "SET seen = EXCLUDED.seen", (self.journey, self.worker))
        row = conn.execute("SELECT count(*) FROM jf_workers WHERE journey = %s AND seen > "
                           "clock_timestamp() - make_interval(secs => %s)",
                           (self.journey, self.seconds)).fetchone()
        return max(1, int(row[0])) if row else 1

    def balance(self) -> tuple[set[int], set[int]]:
        """Keep a fair share (partitions / live workers, rounded up): give back the excess,
        take free or expired ones up to it. The partitions (gained, given back)."""
        target = math.ceil(self.partitions / self.heartbeat())
        excess = len(self.held) - target
        given = set(sorted(self.held)[-excess:]) if excess > 0 else set()
        self.release(given)
        return self.claim(target - len(self.held)), given

    def renew(self) -> set[int]:
        """Extend every held lease; the partitions found lost (taken over meanwhile)."""
        with self.conn.transaction():
            return self.fence(self.conn)

    def refresh(self) -> set[int]:
        """:meth:`renew`, keeping what only a forget moved (:meth:`readopt`); the
        partitions really lost."""
        lost = self.renew()
        return lost - self.readopt(lost)

    def fence(self, conn: psycopg.Connection[Any],
              deliveries: dict[int, int] | None = None) -> set[int]:
        """Inside a commit's transaction: renew and lock every held lease row, saving the
        delivery counters (``deliveries``: as this commit leaves them); the partitions no
        longer held (then the caller rolls back)."""
        if not self.held:
            return set()
        parts = sorted(self.held)
        counts = self.deliveries if deliveries is None else deliveries
        kept = {row[0] for row in conn.execute(_FENCE, (
            self.seconds, parts, [self.held[p] for p in parts],
            [counts.get(p, 0) for p in parts], self.journey, self.worker))}
        return set(parts) - kept

    def readopt(self, parts: Iterable[int]) -> set[int]:
        """Of partitions the fence found lost, those still this worker's: their epoch moved
        because a customer was forgotten under them. Held again under the new epoch (the
        caller reads their customers from the store again)."""
        rows = self.conn.execute(
            "SELECT part, epoch, deliveries FROM jf_leases WHERE journey = %s AND worker = %s "
            "AND part = ANY(%s) AND expires >= clock_timestamp()",
            (self.journey, self.worker, list(parts))).fetchall()
        for part, epoch, deliveries in rows:
            self.held[part] = epoch
            self.deliveries[part] = deliveries
        return {row[0] for row in rows}

    def forget(self, parts: Iterable[int]) -> None:
        """Drop lost partitions from what this worker believes it holds."""
        for part in parts:
            self.held.pop(part, None)
            self.deliveries.pop(part, None)

    def leave(self) -> None:
        """A clean stop: give everything back at once, so nobody waits for the expiry."""
        try:
            self.release(set(self.held))
            self.conn.execute("DELETE FROM jf_workers WHERE journey = %s AND worker = %s",
                              (self.journey, self.worker))
        except psycopg.Error:
            pass  # the leases expire by themselves
