"""A worker: steps the inbox events and the timers of its share of a PostgreSQL store.

Each turn, for each journey, the worker takes up to ``batch`` inbox events of the
partitions it holds, in the order they were accepted, steps them (the timers of its
partitions due before each event fire first, as with any store), fires the timers due
by its clock once it has caught up with the inbox, and commits all of it with the
deletion of those inbox rows, in one fenced transaction (:mod:`journeyflow.live.postgres`).
A turn whose fence fails is dropped whole: its events are still in the inbox, for
whoever holds their partitions now. Every second (or ``lease / 3``, when shorter) the
worker renews its leases and rebalances, and stops when another process has migrated one
of its journeys to another file.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from journeyflow.live.cache import CustomerCache
from journeyflow.live.jointleases import balance_together
from journeyflow.live.leases import LeaseLost
from journeyflow.live.pgsendlog import PostgresSendLog
from journeyflow.live.postgres import PostgresStore
from journeyflow.runtime.engine import Engine
from journeyflow.runtime.events import Rejection
from journeyflow.runtime.tuning import batch_gc

__all__ = ["Worker", "WorkerStats"]

log = logging.getLogger("journeyflow.work")


@dataclass
class WorkerStats:
    events: int = 0
    rejected: int = 0
    commits: int = 0
    lost: int = 0  # turns dropped because a partition was taken over
    per_journey: dict[str, int] = field(default_factory=dict)


class Worker:
    """Steps the share of one or more journeys this process holds.

    ``clock`` says how far timers fire when there is nothing to do: the wall clock for a
    service; a fixed time (``until``) to replay a history and stop.
    """

    def __init__(self, engines: Sequence[Engine], clock: Callable[[], float] = time.time,
                 until: float | None = None) -> None:
        self.engines = list(engines)
        self.stores: list[PostgresStore] = []
        for engine in self.engines:
            store = engine.store
            if not isinstance(store, PostgresStore):
                raise TypeError("a worker needs engines on a PostgreSQL store")
            store.keep_trace = False  # each customer's history is in the store
            store.keep_rejected = False
            engine.deliver_inline = False  # the delivery thread sends
            self.stores.append(store)
        self.clock = clock
        self.until = until
        self.stats = WorkerStats()
        self._balanced_at = 0.0
        self.together = self._together()
        self._prune_at = 0.0

    def _together(self) -> bool:
        """Whether the journeys share a send log, and so lease their partitions together
        (:mod:`journeyflow.live.jointleases`). They must have as many partitions each;
        when they do not, each journey counts its own ``limit`` again, and a warning says
        so."""
        shared = {id(e.interpreter.shared) for e in self.engines
                  if e.interpreter.shared is not None}
        if len(self.engines) < 2 or not shared:
            return False
        if len({store.partitions for store in self.stores}) > 1:
            log.warning("the journeys have different partition counts, so they cannot be "
                        "leased together: each counts its own limit", extra={
                            "partitions": {s.journey: s.partitions for s in self.stores}})
            for engine in self.engines:
                engine.interpreter.shared = None
            return False
        return True

    def now(self) -> float:
        return self.until if self.until is not None else self.clock()

    # ---- one turn ----------------------------------------------------------------------

    def turn(self) -> int:
        """One turn over every journey; the inbox events stepped."""
        if time.monotonic() >= self._balanced_at:
            self.balance()
        if self.together:
            if time.monotonic() >= self._prune_at:
                self._prune()
            shared = self.engines[0].interpreter.shared
            if shared is not None:  # as many customers as the stores' caches hold, at most
                shared.evict(self.stores[0].options.cache)
        done = 0
        for engine, store in zip(self.engines, self.stores, strict=True):
            done += self._turn(engine, store)
        return done

    def _prune(self) -> None:
        """Hourly: delete the logged deliveries no `limit` can see any more."""
        shared = self.engines[0].interpreter.shared
        if isinstance(shared, PostgresSendLog):
            shared.prune(self.now())
        self._prune_at = time.monotonic() + 3600

    def balance(self) -> None:
        for store in self.stores:
            store.check_current()  # migrated by another process: stop
        if self.together:
            changes = balance_together([store.leases for store in self.stores
                                        if store.leases is not None])
        else:
            changes = []
            for store in self.stores:
                assert store.leases is not None
                changes.append((store.leases.refresh(), *store.leases.balance()))
        for store, (lost, gained, given) in zip(self.stores, changes, strict=True):
            assert store.leases is not None
            if lost:
                log.warning("partitions taken over", extra={
                    "journey": store.journey, "partitions": sorted(lost)})
            store.drop(lost | given)
            store.gained(gained)
            if gained or given:
                log.info("partitions", extra={"journey": store.journey,
                                              "gained": sorted(gained), "given": sorted(given),
                                              "held": len(store.leases.held)})
        # Often enough that a worker joining gets its share within a second or so, and
        # leases are renewed well before they run out.
        lease = min(store.options.lease for store in self.stores)
        self._balanced_at = time.monotonic() + min(lease / 3, 1.0)

    def _turn(self, engine: Engine, store: PostgresStore) -> int:
        assert store.leases is not None
        if not store.leases.held:
            return 0
        rows = self._fetch(store)
        if not rows and not store.timers_due(self.now()):
            return 0  # nothing to do: no transaction
        with batch_gc():
            self._step(engine, store, rows)
            # Behind on the inbox, timers fire by the times of the events stepped (as in
            # `run`); caught up, by the clock. Firing them by the clock while older events
            # wait would make those events late.
            if len(rows) < store.options.batch:
                now = self.now()
                store.before(now)
                engine.interpreter.advance(now)
        keys = [key for _, key, _, _ in rows if key is not None]
        try:
            engine.commit(keys)
        except LeaseLost as lost:
            store.drop(lost.partitions)
            self.stats.lost += 1
            log.warning("a turn was dropped: partitions taken over", extra={
                "journey": store.journey, "partitions": sorted(lost.partitions)})
            return 0
        if rows or store.consumed:
            self.stats.commits += 1
        self.stats.events += len(rows)
        name = store.journey
        self.stats.per_journey[name] = self.stats.per_journey.get(name, 0) + len(rows)
        return len(rows)

    @staticmethod
    def _fetch(store: PostgresStore) -> list[tuple[int, str | None, int | None, str]]:
        held = store._held()  # noqa: SLF001 - the same module family; None means all
        sql = "SELECT seq, key, line, event FROM jf_inbox WHERE journey = %s"
        args: tuple[Any, ...] = (store.journey,)
        if held is not None:
            sql += " AND part = ANY(%s)"
            args += (held,)
        return store.conn.execute(sql + " ORDER BY seq LIMIT %s",
                                  (*args, store.options.batch)).fetchall()

    def _step(self, engine: Engine, store: PostgresStore,
              rows: list[tuple[int, str | None, int | None, str]]) -> None:
        """Step a batch in inbox order; an event the store has committed under its key
        (the same ``id`` accepted twice) is rejected as a duplicate, and kept."""
        import orjson

        committed = store.committed_keys([key for _, key, _, _ in rows if key is not None])
        validator = engine.validator
        checked = []
        for seq, key, line, text in rows:
            store.consumed.append(seq)
            raw = orjson.loads(text)
            if key in committed:
                if key is not None and key.startswith("id:"):
                    engine.reject(f"duplicate event id '{key[3:]}': already committed", raw,
                                  line)
                continue
            try:
                valid, ident = validator.check(raw, None)
            except Rejection as rej:  # a journey edited since the event was accepted
                engine.reject(rej.reason, raw, line, rej.at, rej.customer)
                self.stats.rejected += 1
                continue
            checked.append((valid, ident, raw, line))
        cache = engine.interpreter.customers
        if isinstance(cache, CustomerCache):
            cache.preload([valid[0] for valid, _, _, _ in checked])
        for valid, ident, raw, line in checked:
            store.before(valid[3])
            if not engine.process(valid, ident, raw, line).accepted:
                self.stats.rejected += 1

    # ---- running -----------------------------------------------------------------------

    def run(self, stop: threading.Event, idle: float = 0.2) -> None:
        """Turn until ``stop`` is set; sleep ``idle`` s when there was nothing to do."""
        while not stop.is_set():
            if not self.turn():
                stop.wait(idle)

    def drain(self, stop: threading.Event | None = None, idle: float = 0.05) -> None:
        """Turn until every journey's inbox is empty and no timer is due by :meth:`now`,
        in every partition (a dead worker's partitions are taken over first)."""
        while stop is None or not stop.is_set():
            if self.turn():
                continue
            if all(self._finished(store) for store in self.stores):
                return
            time.sleep(idle)

    def _finished(self, store: PostgresStore) -> bool:
        row = store.conn.execute(
            "SELECT EXISTS (SELECT 1 FROM jf_inbox WHERE journey = %s) OR EXISTS (SELECT 1 "
            "FROM jf_timers WHERE journey = %s AND due <= %s)",
            (store.journey, store.journey, self.now())).fetchone()
        return row is not None and not row[0]

    def close(self) -> None:
        for engine in self.engines:
            engine.close()
