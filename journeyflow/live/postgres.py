"""The shared durable store: PostgreSQL, any number of workers on any number of machines.

It keeps what the SQLite store keeps, with the same promise: everything a step did
(customers, timers, event keys, rejected events, history, deliveries) is written in
one transaction by :meth:`PostgresStore.commit`. Customers are split into partitions,
and a store writes only the customers of the partitions it holds a lease on
(:mod:`journeyflow.live.leases`); the lease check is part of that transaction, so a
worker that lost a partition cannot write it. An engine used on its own
(``Engine(journey, store="postgresql://...")``, ``journeyflow run``) holds every
partition of its journey; a worker (:mod:`journeyflow.live.worker`) holds its share.
Opening a journey migrates its customers to the file opened with
(:mod:`journeyflow.live.pg_migrate`); a store whose journey another process migrated
since refuses to read a customer or to commit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import psycopg

from journeyflow.errors import JourneyError
from journeyflow.journey import version_of
from journeyflow.live.cache import CustomerCache
from journeyflow.live.codec import (
    context_to_json,
    customer_from_json,
    customer_to_json,
    dumps,
    history_records,
    timer_to_row,
)
from journeyflow.live.leases import LeaseLost, Leases
from journeyflow.live.pg_migrate import Superseded, check_current, open_journey
from journeyflow.live.pgoutbox import PostgresOutbox
from journeyflow.live.pgschema import BLOCK, PgOptions, connect, key_ids, parse_url, partition_of
from journeyflow.live.sqlite import _customer_of, _history_rows
from journeyflow.live.storedtimers import StoredTimers, TimerRow
from journeyflow.runtime.outbox import PENDING, OutboxExecutor, OutboxRow

if TYPE_CHECKING:
    from journeyflow.runtime.engine import Engine
    from journeyflow.runtime.program import Program
    from journeyflow.runtime.state import Customer
    from journeyflow.versions.migrate_report import MigrationReport

__all__ = ["PostgresStore"]

# A customer with the journey's migration count, in the same snapshot: a process whose
# file is no longer the journey's finds out on its first read of a migrated customer.
_READ = ("SELECT c.id, c.state, j.migrations, j.version FROM jf_customers AS c JOIN "
         "jf_journeys AS j ON j.name = c.journey WHERE c.journey = %s")


class PostgresStore(StoredTimers):
    """One journey's view of a PostgreSQL database (see ``runtime.store.Store``)."""

    durable = True

    def __init__(self, options: PgOptions, exclusive: bool = True) -> None:
        self.options = options
        self.exclusive = exclusive  # hold every partition (an engine on its own)
        self.conn = connect(options, create=True)
        self.cache_limit = options.cache
        self.keep_trace = True
        self.keep_rejected = True
        self.engine: Engine | None = None
        self.journey = ""
        self.version = ""
        self.partitions = options.partitions
        self.leases: Leases | None = None
        self.outbox = PostgresOutbox(options, "")
        self.consumed: list[int] = []  # inbox rows stepped since the last commit
        self._init_timers()
        self._block_end = 0
        self._records_mark = 0
        self._rejected_mark = 0
        self._saved: tuple[int, int, int] = (0, 0, 0)  # processed, warnings, steps committed
        self._migrations = 0  # the journey's migration count when this store opened it
        # The version another process migrated the journey to since this store opened it:
        # nothing more is saved.
        self._superseded: str | None = None
        self.migration: MigrationReport | None = None

    @classmethod
    def open(cls, url: str) -> PostgresStore:
        return cls(parse_url(url))

    # ---- binding to an engine ------------------------------------------------------

    def attach(self, engine: Engine) -> dict[str, Any]:
        self.engine = engine
        self.journey = engine.journey.name
        self.version = version_of(engine.journey)
        self.outbox.journey = self.journey
        self.partitions = self._register()
        opened = open_journey(self.conn, engine.journey, engine.program, self.options.shown)
        # What opening it with this version moved, for an embedding to log (None: nothing).
        self.migration = opened.migration
        self._migrations = opened.migrations
        ip = engine.interpreter
        ip.customers = CustomerCache(self.load_customer, self.cache_limit, self.load_customers)
        ip.touched = set()
        row = self.conn.execute("SELECT processed, warnings, steps FROM jf_journeys "
                                "WHERE name = %s", (self.journey,)).fetchone()
        assert row is not None
        processed, warnings, steps = (int(v) for v in row)
        ip.steps = steps
        self._saved = (processed, warnings, steps)
        self.leases = Leases(self.conn, self.journey, self.options.worker, self.partitions,
                             self.options.lease)
        if self.exclusive:
            self.leases.claim_all(self.options.wait)
            self._new_block()
        counters: dict[str, Any] = {"processed": processed, "warnings": warnings,
                                    "rejected": self._rejected() if self.exclusive else []}
        self._records_mark = len(ip.records)
        self._rejected_mark = len(counters["rejected"])
        self._next_due = self._min_due()
        return counters

    def _register(self) -> int:
        """The journey's row (made on first open); its partition count."""
        self.conn.execute(
            "INSERT INTO jf_journeys (name, version, partitions) VALUES (%s, %s, %s) "
            "ON CONFLICT (name) DO NOTHING", (self.journey, self.version, self.partitions))
        row = self.conn.execute("SELECT partitions FROM jf_journeys WHERE name = %s",
                                (self.journey,)).fetchone()
        assert row is not None
        return int(row[0])

    def _rejected(self) -> list[dict[str, Any]]:
        return [{"reason": reason, "line": line,
                 "event": None if event is None else json.loads(event)}
                for reason, line, event in self.conn.execute(
                    "SELECT reason, line, event FROM jf_rejected WHERE journey = %s "
                    "ORDER BY seq", (self.journey,))]

    def _new_block(self) -> None:
        """Fresh timer numbers, above every number handed out before: a customer taken
        over from another worker gets later timers numbered after its earlier ones."""
        assert self.engine is not None
        row = self.conn.execute("SELECT nextval('jf_timer_blocks')").fetchone()
        assert row is not None
        start = int(row[0]) * BLOCK
        self.engine.interpreter.seq = start
        self._block_end = start + BLOCK // 2

    # ---- partitions --------------------------------------------------------------------

    def partition(self, cid: str) -> int:
        return partition_of(cid, self.partitions)

    def _held(self) -> list[int] | None:
        """The partitions to read timers of; None when all."""
        assert self.leases is not None
        return None if self.leases.all else sorted(self.leases.held)

    def gained(self, parts: set[int]) -> None:
        """Partitions just taken over: their customers are read from the store again."""
        if parts:
            self.drop(parts)
            self._new_block()

    def drop(self, parts: set[int]) -> None:
        """Forget the cached customers of these partitions (lost, given back, or taken)."""
        assert self.engine is not None
        cache = self.engine.interpreter.customers
        assert isinstance(cache, CustomerCache)
        for cid in [cid for cid in cache if self.partition(cid) in parts]:
            del cache[cid]
        cache.absent.clear()
        shared = self.engine.interpreter.shared
        if shared is not None and parts:
            shared.reset()  # their deliveries may have been logged by another worker
        self._next_due = self._min_due()

    # ---- reading ------------------------------------------------------------------------

    def load_customer(self, cid: str) -> Customer | None:
        row = self.conn.execute(_READ + " AND c.id = %s", (self.journey, cid)).fetchone()
        if row is None:
            return None
        assert self.engine is not None
        return self._decode(self.engine.program, *row[1:])

    def load_customers(self, cids: list[str]) -> dict[str, Customer]:
        assert self.engine is not None
        program = self.engine.program
        rows = self.conn.execute(_READ + " AND c.id = ANY(%s)", (self.journey, cids))
        return {cid: self._decode(program, *rest) for cid, *rest in rows}

    def customers(self) -> Iterator[Customer]:
        assert self.engine is not None
        cache = self.engine.interpreter.customers
        program = self.engine.program
        # A server-side cursor: a million customers need not fit in memory.
        with psycopg.Connection.connect(self.options.conninfo) as reader, \
                reader.cursor(name="jf_customers") as rows:
            rows.execute(_READ + " ORDER BY c.id", (self.journey,))
            for cid, *rest in rows:
                held = dict.get(cache, cid)
                yield held if held is not None else self._decode(program, *rest)

    def check_current(self) -> None:
        """Stop (:class:`JourneyError`) when another process migrated the journey since
        this store opened it; a worker asks every second, so one with nothing to step
        stops too, before its delivery thread sends anything more for the earlier file."""
        row = self.conn.execute("SELECT migrations, version FROM jf_journeys WHERE name = %s",
                                (self.journey,)).fetchone()
        if row is not None and row[0] != self._migrations:
            self._superseded = row[1]
            raise Superseded(self.journey, row[1])

    def _decode(self, program: Program, state: str, migrations: int, version: str) -> Customer:
        """A stored customer, read with the file this store opened the journey with: one
        another process has migrated since cannot be (its stages may be gone)."""
        if migrations != self._migrations:
            # The step under way is void: drop everything not committed now, so that the
            # engine's close (which commits) has nothing left to save and ends cleanly.
            self._superseded = version
            self._discard(set())
            raise Superseded(self.journey, version)
        return customer_from_json(program, state)

    def count(self) -> int:
        row = self.conn.execute("SELECT count(*) FROM jf_customers WHERE journey = %s",
                                (self.journey,)).fetchone()
        return int(row[0]) if row else 0

    def committed(self, key: str) -> bool:
        return self.conn.execute("SELECT 1 FROM jf_events WHERE id = %s",
                                 (key_ids(self.journey, [key])[0],)).fetchone() is not None

    def committed_keys(self, keys: list[str]) -> set[str]:
        if not keys:
            return set()
        ids = key_ids(self.journey, keys)
        found = {row[0] for row in self.conn.execute(
            "SELECT id FROM jf_events WHERE id = ANY(%b::uuid[])", (ids,))}
        return {key for key, ident in zip(keys, ids, strict=True) if ident in found}

    def history(self, cid: str) -> list[dict[str, Any]]:
        return history_records(cid, self.conn.execute(
            "SELECT records FROM jf_history WHERE journey = %s AND customer = %s "
            "ORDER BY seq", (self.journey, cid)))

    # ---- timers -------------------------------------------------------------------------

    def _min_due(self) -> float | None:
        held = self._held() if self.leases is not None else []
        if held is not None and not held:
            return None
        sql = "SELECT min(due) FROM jf_timers WHERE journey = %s"
        args: tuple[Any, ...] = (self.journey,)
        if held is not None:
            sql += " AND part = ANY(%s)"
            args += (held,)
        row = self.conn.execute(sql, args).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def _timer_rows(self, due_after: float, seq_after: int, chunk: int) -> list[TimerRow]:
        """The held partitions' timers only."""
        sql = ("SELECT due, seq, customer, kind, payload FROM jf_timers WHERE journey = %s AND "
               "(due > %s OR (due = %s AND seq > %s))")
        args: tuple[Any, ...] = (self.journey, due_after, due_after, seq_after)
        held = self._held()
        if held is not None:
            sql += " AND part = ANY(%s)"
            args += (held,)
        return self.conn.execute(sql + " ORDER BY due, seq LIMIT %s", (*args, chunk)).fetchall()

    # ---- committing ---------------------------------------------------------------------

    def commit(self, keys: Iterable[str] = ()) -> None:
        """Everything since the last commit, in one transaction that first checks the
        leases (:class:`LeaseLost` when one was taken over: nothing is written, and what
        this store had not committed is dropped, to be stepped again from the store) and
        that no other process migrated the journey since this one opened it (a
        :class:`JourneyError`, the steps dropped likewise)."""
        assert self.engine is not None
        assert self.leases is not None
        engine = self.engine
        ip = engine.interpreter
        executor = ip.executor
        outbox = executor.take() if isinstance(executor, OutboxExecutor) else []
        deliveries = self._number(outbox)
        records = ip.records[self._records_mark:]
        rejected = engine.rejected[self._rejected_mark:]
        keys = list(keys)
        # Nothing to save (a lease renewal) needs no check.
        saves = bool(ip.touched or records or rejected or outbox or keys or self.consumed
                     or self._dropped)
        if self._superseded is not None:  # refused already: still refused, never silently
            self._discard(set())
            if saves:
                raise Superseded(self.journey, self._superseded)
            return
        try:
            with self.conn.transaction():
                if saves:
                    check_current(self.conn, self.journey, self._migrations)
                lost = self.leases.fence(self.conn, deliveries)
                if lost:
                    raise LeaseLost(lost)
                with self.conn.pipeline():
                    self._write(keys, outbox, records, rejected)
        except LeaseLost as exc:
            self._discard(exc.partitions)
            exc.partitions -= self.leases.readopt(exc.partitions)
            if self.exclusive:
                why = (f"another worker took over partitions {sorted(exc.partitions)}"
                       if exc.partitions else "another process forgot a customer under it")
                raise JourneyError(
                    f"journey '{self.journey}' in the store {self.options.shown}: {why}; the "
                    "steps since the last commit were not saved") from None
            raise
        except Superseded as exc:  # another process migrated the journey: save nothing
            self._superseded = exc.version
            self._discard(set())
            raise
        except psycopg.OperationalError as exc:
            self._discard(set())
            raise ConnectionError(f"the state store {self.options.shown} failed: "
                                  f"{str(exc).strip()}") from None
        self.leases.deliveries = deliveries
        self._after_commit(records, rejected)

    def _number(self, rows: list[OutboxRow]) -> dict[int, int]:
        """Number the deliveries per partition (part of their idempotency key)."""
        assert self.leases is not None
        counts = dict(self.leases.deliveries)
        for row in rows:
            part = self.partition(row.customer)
            counts[part] = counts.get(part, 0) + 1
            row.number(counts[part] * self.partitions + part)
        return counts

    def _write(self, keys: Iterable[str], outbox: list[OutboxRow], records: list[Any],
               rejected: list[Any]) -> None:
        assert self.engine is not None
        engine = self.engine
        ip = engine.interpreter
        cache = ip.customers
        program = engine.program
        j = self.journey
        run = self.conn.execute
        changed = [(cid, c) for cid in (ip.touched or ()) if (c := dict.get(cache, cid))]
        if changed:
            run("INSERT INTO jf_customers (journey, id, part, version, state) SELECT %s, u.id, "
                "u.part, %s, u.state FROM unnest(%b::text[], %b::int[], %b::text[]) AS "
                "u(id, part, state) ON CONFLICT (journey, id) DO UPDATE SET "
                "version = EXCLUDED.version, state = EXCLUDED.state",
                (j, self.version, [cid for cid, _ in changed],
                 [self.partition(cid) for cid, _ in changed],
                 [customer_to_json(program, c) for _, c in changed]))
        in_heap = {timer[1] for timer in ip.timers}
        gone = (self._loaded - in_heap) | self._dropped
        if gone:
            run("DELETE FROM jf_timers WHERE journey = %s AND seq = ANY(%b::bigint[])",
                (j, list(gone)))
        new = [timer_to_row(t) for t in ip.timers
               if t[1] not in self._loaded and dict.get(cache, t[2]) is not None]
        if new:
            run("INSERT INTO jf_timers (journey, due, seq, part, customer, kind, payload) "
                "SELECT %s, u.* FROM unnest(%b::float8[], %b::bigint[], %b::int[], "
                "%b::text[], %b::int[], %b::text[]) AS u",
                (j, [float(r[0]) for r in new], [r[1] for r in new],
                 [self.partition(r[2]) for r in new], [r[2] for r in new],
                 [r[3] for r in new], [r[4] for r in new]))
        keys = list(keys)
        if keys:
            run("INSERT INTO jf_events (id) SELECT unnest(%b::uuid[]) ON CONFLICT DO NOTHING",
                (key_ids(j, keys),))
        if rejected:
            run("INSERT INTO jf_rejected (journey, customer, line, reason, event) "
                "SELECT %s, u.* FROM unnest(%b::text[], %b::int[], %b::text[], %b::text[]) AS u",
                (j, [_customer_of(r.event) for r in rejected], [r.line for r in rejected],
                 [r.reason for r in rejected], [dumps(r.event) for r in rejected]))
        history = _history_rows(j, records)
        if history:
            run("INSERT INTO jf_history (journey, customer, records) SELECT %s, u.* FROM "
                "unnest(%b::text[], %b::text[]) AS u",
                (j, [h[1] for h in history], [h[2] for h in history]))
        if outbox:
            self._insert_outbox(outbox)
        sends = ip.shared.take(j) if ip.shared is not None else []
        if sends:
            run("INSERT INTO jf_sends (customer, at, channel) SELECT * FROM "
                "unnest(%b::text[], %b::float8[], %b::text[])",
                ([s[0] for s in sends], [float(s[1]) for s in sends], [s[2] for s in sends]))
        if self.consumed:
            run("DELETE FROM jf_inbox WHERE seq = ANY(%b::bigint[])", (self.consumed,))
        processed, warnings, steps = self._saved
        run("UPDATE jf_journeys SET processed = processed + %s, warnings = warnings + %s, "
            "steps = steps + %s WHERE name = %s",
            (engine.processed - processed, engine.validator.warnings - warnings,
             ip.steps - steps, j))

    def _insert_outbox(self, rows: list[OutboxRow]) -> None:
        self.conn.execute(
            "INSERT INTO jf_outbox (journey, customer, key, kind, channel, at, fields, context, "
            "status, next_at) SELECT %s, u.*, %s, 0 FROM unnest(%b::text[], %b::text[], "
            "%b::text[], %b::text[], %b::float8[], %b::text[], %b::text[]) AS u",
            (self.journey, PENDING, [r.customer for r in rows], [r.key for r in rows],
             [r.kind for r in rows], [r.channel for r in rows], [float(r.at) for r in rows],
             [dumps(r.fields) for r in rows],
             [None if r.context is None else context_to_json(r.context) for r in rows]))

    def _after_commit(self, records: list[Any], rejected: list[Any]) -> None:
        assert self.engine is not None
        engine = self.engine
        ip = engine.interpreter
        self._saved = (engine.processed, engine.validator.warnings, ip.steps)
        self.consumed = []
        ip.touched = set()
        ip.timers.clear()  # all saved: the table is the truth until the next load
        if ip.seq >= self._block_end:
            self._new_block()
        self._reset_timers()
        self._rejected_mark += len(rejected)
        if not self.keep_rejected:
            del engine.rejected[:]
            self._rejected_mark = 0
        if self.keep_trace:
            self._records_mark = len(ip.records)
        else:
            del ip.records[:]
            self._records_mark = 0
        ip.customers.evict()  # type: ignore[attr-defined]

    def _discard(self, lost: set[int]) -> None:
        """Drop everything not committed: the store is the truth again. The steps are not
        lost: their inbox rows (or, for an engine used on its own, its caller) still have
        the events."""
        assert self.engine is not None
        assert self.leases is not None
        engine = self.engine
        ip = engine.interpreter
        self.leases.forget(lost)
        cache = ip.customers
        assert isinstance(cache, CustomerCache)
        dict.clear(cache)
        cache.absent.clear()
        ip.touched = set()
        ip.timers.clear()
        if isinstance(ip.executor, OutboxExecutor):
            ip.executor.take()
        del ip.records[self._records_mark:]
        del engine.rejected[self._rejected_mark:]
        engine.processed, engine.validator.warnings, ip.steps = self._saved
        if ip.shared is not None:
            ip.shared.discard(self.journey)
        self.consumed = []
        self._reset_timers()

    # ---- forgetting ------------------------------------------------------------------------

    def export(self, cid: str) -> dict[str, Any] | None:
        """Everything the store holds about one customer (for a data-protection request)."""
        assert self.engine is not None
        row = self.conn.execute(_READ + " AND c.id = %s", (self.journey, cid)).fetchone()
        if row is None:
            return None
        c = self._decode(self.engine.program, *row[1:])
        j = self.journey
        run = self.conn.execute
        return {
            "journey": j, "version": self.version, "customer": cid,
            "state": self.engine.snapshot(c).model_dump(mode="json"),
            "stored": json.loads(row[1]),
            "history": self.history(cid),
            "timers": [{"due": due, "kind": kind} for due, kind in run(
                "SELECT due, kind FROM jf_timers WHERE journey = %s AND customer = %s "
                "ORDER BY due, seq", (j, cid))],
            "deliveries": [
                {"key": key, "channel": channel, "status": status, "attempts": attempts,
                 "fields": json.loads(fields), "error": error}
                for key, channel, status, attempts, fields, error in run(
                    "SELECT key, channel, status, attempts, fields, error FROM jf_outbox "
                    "WHERE journey = %s AND customer = %s ORDER BY id", (j, cid))],
            "rejected": [{"reason": reason, "line": line} for reason, line in run(
                "SELECT reason, line FROM jf_rejected WHERE journey = %s AND customer = %s "
                "ORDER BY seq", (j, cid))],
            "sends": [{"at": at, "channel": channel} for at, channel in run(
                "SELECT at, channel FROM jf_sends WHERE customer = %s ORDER BY at", (cid,))],
        }

    def forget(self, cid: str) -> bool:
        """Delete a customer: state, timers, history, rejected events, pending deliveries
        and inbox events. Whoever holds the customer's partition may have it in memory: the
        partition's epoch moves on, so that worker's next commit fails its fence and it
        reads the customer (now absent) from the store again."""
        assert self.engine is not None
        assert self.leases is not None
        j = self.journey
        part = self.partition(cid)
        with self.conn.transaction():
            self.conn.execute("UPDATE jf_leases SET epoch = epoch + 1 WHERE journey = %s AND "
                              "part = %s", (j, part))
            found = self.conn.execute("DELETE FROM jf_customers WHERE journey = %s AND id = %s",
                                      (j, cid)).rowcount > 0
            for table in ("jf_timers", "jf_history", "jf_rejected", "jf_outbox"):
                self.conn.execute(f"DELETE FROM {table} WHERE journey = %s AND "  # noqa: S608
                                  "customer = %s", (j, cid))
            self.conn.execute("DELETE FROM jf_inbox WHERE journey = %s AND part = %s AND "
                              "customer = %s", (j, part, cid))
            self.conn.execute("DELETE FROM jf_sends WHERE customer = %s", (cid,))
        if part in self.leases.held:
            self.leases.held[part] += 1  # this store's own forget keeps its lease
        ip = self.engine.interpreter
        dict.pop(ip.customers, cid, None)
        if ip.touched is not None:
            ip.touched.discard(cid)
        if ip.shared is not None:
            ip.shared.forget(cid)
        self._next_due = self._min_due()
        return found

    def close(self) -> None:
        if self.leases is not None:
            self.leases.leave()
        self.outbox.close()
        self.conn.close()
