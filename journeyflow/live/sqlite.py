"""The embedded durable store: one SQLite file (WAL), one writing process at a time.

Tables hold, per journey name: customers (each with the journey version it runs on),
timers, the keys of committed events, rejected events, each customer's trace history,
the outbox, and the engine's counters. Everything a step did is written in one
transaction by :meth:`SQLiteStore.commit`. A second process that opens the file waits
for the first to close it (``wait`` seconds), then fails with a clear message: it never
writes beside it.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from journeyflow.errors import JourneyError
from journeyflow.journey import version_of
from journeyflow.live.cache import CustomerCache
from journeyflow.live.codec import (
    context_to_json,
    customer_from_json,
    customer_to_json,
    dumps,
    history_records,
    outbox_rows,
    timer_to_row,
)
from journeyflow.live.sqlite_migrate import SQLiteMigrationRows, edited_source, record_source
from journeyflow.live.storedtimers import StoredTimers, TimerRow
from journeyflow.runtime.outbox import PENDING, SENDING, OutboxExecutor, OutboxRow
from journeyflow.versions.migrate_report import MigrationReport
from journeyflow.versions.migrate_store import migrate_rows

if TYPE_CHECKING:
    from journeyflow.runtime.engine import Engine
    from journeyflow.runtime.state import Customer

__all__ = ["SQLiteDatabase", "SQLiteStore", "journey_version"]

KEEP_KEYS = 30 * 86400.0  # how long an event's key is kept to detect its redelivery

SCHEMA = """
CREATE TABLE IF NOT EXISTS jf_journeys (name TEXT PRIMARY KEY, version TEXT NOT NULL,
    counters TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jf_customers (journey TEXT NOT NULL, id TEXT NOT NULL,
    version TEXT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (journey, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS jf_timers (journey TEXT NOT NULL, seq INTEGER NOT NULL,
    due REAL NOT NULL, customer TEXT NOT NULL, kind INTEGER NOT NULL, payload TEXT NOT NULL,
    PRIMARY KEY (journey, seq));
CREATE INDEX IF NOT EXISTS jf_timers_due ON jf_timers (journey, due, seq);
CREATE INDEX IF NOT EXISTS jf_timers_customer ON jf_timers (journey, customer);
CREATE TABLE IF NOT EXISTS jf_events (journey TEXT NOT NULL, key TEXT NOT NULL,
    at REAL NOT NULL DEFAULT 0, PRIMARY KEY (journey, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS jf_rejected (seq INTEGER PRIMARY KEY, journey TEXT NOT NULL,
    customer TEXT, line INTEGER, reason TEXT NOT NULL, event TEXT);
CREATE INDEX IF NOT EXISTS jf_rejected_customer ON jf_rejected (journey, customer);
CREATE TABLE IF NOT EXISTS jf_history (seq INTEGER PRIMARY KEY, journey TEXT NOT NULL,
    customer TEXT NOT NULL, records TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS jf_history_customer ON jf_history (journey, customer);
CREATE TABLE IF NOT EXISTS jf_outbox (id INTEGER PRIMARY KEY, journey TEXT NOT NULL,
    customer TEXT NOT NULL, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
    channel TEXT NOT NULL, at REAL NOT NULL, fields TEXT NOT NULL, context TEXT,
    status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL,
    error TEXT);
CREATE INDEX IF NOT EXISTS jf_outbox_due ON jf_outbox (status, next_at);
CREATE INDEX IF NOT EXISTS jf_outbox_customer ON jf_outbox (journey, customer);
CREATE TABLE IF NOT EXISTS jf_sends (customer TEXT NOT NULL, at REAL NOT NULL,
    channel TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS jf_sends_customer ON jf_sends (customer, at);
"""


def journey_version(engine: Engine) -> str:
    """The version the store records for the engine's journey (``journey.version_of``)."""
    return version_of(engine.journey)


class SQLiteDatabase:
    """The SQLite file and the lock that keeps a second process from writing beside us."""

    def __init__(self, path: Path, wait: float = 10.0, synchronous: str = "normal") -> None:
        self.path = path
        self._lock_file = self._lock(path, wait)
        try:
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'full' else 'NORMAL'}")
            self.db.execute("PRAGMA busy_timeout=10000")
            # 64 MB of page cache: the customer and key B-trees take random inserts
            self.db.execute("PRAGMA cache_size=-65536")
            self.db.execute("PRAGMA wal_autocheckpoint=16384")  # fewer, larger checkpoints
            self.db.executescript(SCHEMA)
            self._upgrade()
        except sqlite3.Error as exc:
            self._unlock()
            raise JourneyError(f"cannot open the state store {path}: {exc}") from exc

    def _upgrade(self) -> None:
        """Bring a store written by an earlier release up to this schema."""
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(jf_events)")}
        if "at" not in columns:  # keys kept for a while, counted from this upgrade
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("ALTER TABLE jf_events ADD COLUMN at REAL NOT NULL DEFAULT 0")
            self.db.execute("UPDATE jf_events SET at = ?", (time.time(),))
            self.db.execute("COMMIT")
        self.db.execute("CREATE INDEX IF NOT EXISTS jf_events_at ON jf_events (journey, at)")

    @staticmethod
    def _lock(path: Path, wait: float) -> Any:
        lock_path = path.with_name(path.name + ".lock")
        try:
            handle = open(lock_path, "a+")  # noqa: SIM115 - held as long as the store is open
        except OSError as exc:
            raise JourneyError(f"cannot open the state store {path}: {exc.strerror}") from exc
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "unknown"
                    handle.close()
                    raise JourneyError(
                        f"the state store {path} is in use by another process (pid {holder}); "
                        f"waited {wait:g} s. A SQLite store has one writer at a time: stop the "
                        "other process, or share a PostgreSQL store between workers") from None
                time.sleep(0.05)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        return handle

    def _unlock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # closing the file releases the lock
            self._lock_file = None

    def close(self) -> None:
        self.db.close()
        self._unlock()


class SQLiteStore(StoredTimers):
    """One journey's view of a :class:`SQLiteDatabase` (see ``runtime.store.Store``)."""

    durable = True

    def __init__(self, database: SQLiteDatabase, cache: int = 20_000,
                 keep_trace: bool = True, owns_database: bool = True,
                 keep_keys: float | None = KEEP_KEYS) -> None:
        self.database = database
        # Seconds an event's key is kept to detect a redelivery (None: for ever).
        self.keep_keys = keep_keys
        self._prune_at = float("-inf")
        self.db = database.db
        self.cache_limit = cache
        self.keep_trace = keep_trace
        self.keep_rejected = True  # a service clears them once saved: they are in the table
        self.owns_database = owns_database
        self.engine: Engine | None = None
        self.journey = ""
        self.version = ""
        self.outbox = SQLiteOutbox(self.db, "")
        self._init_timers()
        self._saved_seq = 0  # timers with a higher seq are not in the table yet
        self._records_mark = 0
        self._rejected_mark = 0
        self._deliveries = 0

    @classmethod
    def open(cls, url: str) -> SQLiteStore:
        parts = urlsplit(url)
        path = Path(url[len("sqlite:///"):].split("?", 1)[0])
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            wait = float(options.get("wait", 10))
            cache = int(options.get("cache", 20_000))
            keys = options.get("keys", "")
            keep_keys = (None if keys == "all" else
                         KEEP_KEYS if keys == "" else _positive(float(keys)) * 86400)
        except ValueError:
            raise JourneyError(f"bad option in store URL '{url}': wait is seconds, cache a "
                               "number of customers, keys a number of days or 'all'") from None
        database = SQLiteDatabase(path, wait, options.get("synchronous", "normal"))
        return cls(database, cache=cache, keep_keys=keep_keys)

    # ---- binding to an engine ----------------------------------------------------

    def attach(self, engine: Engine) -> dict[str, Any]:
        self.engine = engine
        self.journey = engine.journey.name
        self.version = journey_version(engine)
        self.outbox.journey = self.journey
        # What opening it with this version moved, for an embedding to log (None: nothing).
        self.migration: MigrationReport | None = None
        self._check_journey()
        ip = engine.interpreter
        ip.customers = CustomerCache(self.load_customer, self.cache_limit, self.load_customers)
        ip.touched = set()
        row = self.db.execute("SELECT counters FROM jf_journeys WHERE name = ?",
                              (self.journey,)).fetchone()
        counters: dict[str, Any] = json.loads(row[0]) if row else {}
        ip.seq = self._saved_seq = counters.get("seq", 0)
        ip.steps = counters.get("steps", 0)
        self._deliveries = counters.get("deliveries", 0)
        counters["rejected"] = [
            {"reason": reason, "line": line, "event": None if event is None else json.loads(event)}
            for reason, line, event in self.db.execute(
                "SELECT reason, line, event FROM jf_rejected WHERE journey = ? ORDER BY seq",
                (self.journey,))]
        self._records_mark = len(ip.records)
        self._rejected_mark = len(counters["rejected"])
        self._next_due = self._min_due()
        return counters

    def _check_journey(self) -> None:
        names = [r[0] for r in self.db.execute(
            "SELECT name FROM jf_journeys WHERE name != '$shared'")]
        if names and self.journey not in names and not _shared(self.db):
            raise JourneyError(
                f"the state store {self.database.path} belongs to journey "
                f"{', '.join(repr(n) for n in names)}, not '{self.journey}'; use another store")
        assert self.engine is not None
        edited = edited_source(self.db, self.engine.journey, self.version)
        if edited is not None or self.db.execute(
                "SELECT 1 FROM jf_customers WHERE journey = ? AND version != ? LIMIT 1",
                (self.journey, self.version)).fetchone() is not None:
            self._migrate(in_place=edited is not None)
        record_source(self.db, self.journey, self.version, self.engine.journey.source)

    def _migrate(self, in_place: bool) -> None:
        """Move the customers of other versions (and, ``in_place``, of an earlier edit of
        this one) to this journey, or fail with what blocks it."""
        assert self.engine is not None
        rows = SQLiteMigrationRows(self.db, self.journey, self.version, in_place=in_place)
        report = self.migration = migrate_rows(rows, self.engine.journey, self.engine.program)
        if report.blocked:
            raise JourneyError(f"the state store {self.database.path} holds customers of "
                               f"another version: {report.text()}".rstrip())

    def mark_shared(self) -> None:
        """Several journeys of one service share this store."""
        self.db.execute("INSERT OR REPLACE INTO jf_journeys (name, version, counters) "
                        "SELECT '$shared', '', '{}' WHERE NOT EXISTS "
                        "(SELECT 1 FROM jf_journeys WHERE name = '$shared')")

    # ---- reading ----------------------------------------------------------------------

    def load_customer(self, cid: str) -> Customer | None:
        row = self.db.execute("SELECT state FROM jf_customers WHERE journey = ? AND id = ?",
                              (self.journey, cid)).fetchone()
        if row is None:
            return None
        assert self.engine is not None
        return customer_from_json(self.engine.program, row[0])

    def load_customers(self, cids: list[str]) -> dict[str, Customer]:
        assert self.engine is not None
        program = self.engine.program
        found: dict[str, Customer] = {}
        for start in range(0, len(cids), 500):
            chunk = cids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for cid, text in self.db.execute(
                    f"SELECT id, state FROM jf_customers WHERE journey = ? AND id IN ({marks})",  # noqa: S608
                    (self.journey, *chunk)):
                found[cid] = customer_from_json(program, text)
        return found

    def customers(self) -> Iterator[Customer]:
        assert self.engine is not None
        cache = self.engine.interpreter.customers
        program = self.engine.program
        rows = self.db.execute("SELECT id, state FROM jf_customers WHERE journey = ? "
                               "ORDER BY id", (self.journey,))
        for cid, text in rows:  # one at a time: a million customers need not fit in memory
            held = dict.get(cache, cid)
            yield held if held is not None else customer_from_json(program, text)

    def count(self) -> int:
        row = self.db.execute("SELECT count(*) FROM jf_customers WHERE journey = ?",
                              (self.journey,)).fetchone()
        return int(row[0])

    def committed(self, key: str) -> bool:
        return self.db.execute("SELECT 1 FROM jf_events WHERE journey = ? AND key = ?",
                               (self.journey, key)).fetchone() is not None

    def committed_keys(self, keys: list[str]) -> set[str]:
        """Which of ``keys`` are committed, asked in chunks."""
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self.db.execute(
                f"SELECT key FROM jf_events WHERE journey = ? AND key IN ({marks})",  # noqa: S608
                (self.journey, *chunk)))
        return found

    def history(self, cid: str) -> list[dict[str, Any]]:
        return history_records(cid, self.db.execute(
            "SELECT records FROM jf_history WHERE journey = ? AND customer = ? "
            "ORDER BY seq", (self.journey, cid)))

    # ---- timers -------------------------------------------------------------------------

    def _min_due(self) -> float | None:
        row = self.db.execute("SELECT min(due) FROM jf_timers WHERE journey = ?",
                              (self.journey,)).fetchone()
        return None if row[0] is None else float(row[0])

    def _timer_rows(self, due_after: float, seq_after: int, chunk: int) -> list[TimerRow]:
        return self.db.execute(
            "SELECT due, seq, customer, kind, payload FROM jf_timers WHERE journey = ? AND "
            "(due > ? OR (due = ? AND seq > ?)) ORDER BY due, seq LIMIT ?",
            (self.journey, due_after, due_after, seq_after, chunk)).fetchall()

    # ---- committing -----------------------------------------------------------------------

    def commit(self, keys: Iterable[str] = ()) -> None:
        assert self.engine is not None
        engine = self.engine
        ip = engine.interpreter
        cache = ip.customers
        touched = ip.touched or set()
        program = engine.program
        executor = ip.executor
        outbox = executor.take() if isinstance(executor, OutboxExecutor) else []
        in_heap = {timer[1] for timer in ip.timers}
        gone = (self._loaded - in_heap) | self._dropped
        new_timers = [timer_to_row(t) for t in ip.timers
                      if t[1] > self._saved_seq and dict.get(cache, t[2]) is not None]
        records = ip.records[self._records_mark:]
        rejected = engine.rejected[self._rejected_mark:]
        j = self.journey
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT OR REPLACE INTO jf_customers (journey, id, version, state) "
                "VALUES (?, ?, ?, ?)",
                [(j, cid, self.version, customer_to_json(program, c)) for cid in touched
                 if (c := dict.get(cache, cid)) is not None])
            db.executemany("DELETE FROM jf_timers WHERE journey = ? AND seq = ?",
                           [(j, seq) for seq in gone])
            db.executemany("INSERT OR REPLACE INTO jf_timers (journey, due, seq, customer, kind, "
                           "payload) VALUES (?, ?, ?, ?, ?, ?)",
                           [(j, *row) for row in new_timers])
            now = time.time()
            db.executemany("INSERT OR IGNORE INTO jf_events (journey, key, at) "
                           "VALUES (?, ?, ?)", [(j, key, now) for key in keys])
            if self.keep_keys is not None and now >= self._prune_at:
                # Hourly: keys older than keep_keys cannot be redelivered any more.
                db.execute("DELETE FROM jf_events WHERE journey = ? AND at < ?",
                           (j, now - self.keep_keys))
                self._prune_at = now + 3600
            db.executemany(
                "INSERT INTO jf_rejected (journey, customer, line, reason, event) "
                "VALUES (?, ?, ?, ?, ?)",
                [(j, _customer_of(r.event), r.line, r.reason,
                  dumps(r.event)) for r in rejected])
            db.executemany("INSERT INTO jf_history (journey, customer, records) VALUES (?, ?, ?)",
                           _history_rows(j, records))
            self._insert_outbox(outbox)
            if ip.shared is not None:
                db.executemany("INSERT INTO jf_sends (customer, at, channel) VALUES (?, ?, ?)",
                               ip.shared.take(j))
            counters = {"processed": engine.processed, "warnings": engine.warnings,
                        "seq": ip.seq, "steps": ip.steps, "deliveries": self._deliveries}
            db.execute("INSERT OR REPLACE INTO jf_journeys (name, version, counters) "
                       "VALUES (?, ?, ?)", (j, self.version, json.dumps(counters)))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._after_commit(ip, records, rejected)

    def _insert_outbox(self, rows: list[OutboxRow]) -> None:
        values = []
        for row in rows:
            self._deliveries += 1
            row.number(self._deliveries)
            values.append((row.journey, row.customer, row.key, row.kind, row.channel, row.at,
                           dumps(row.fields),
                           None if row.context is None else context_to_json(row.context),
                           PENDING, 0.0))
        self.db.executemany(
            "INSERT INTO jf_outbox (journey, customer, key, kind, channel, at, fields, context, "
            "status, next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)

    def _after_commit(self, ip: Any, records: list[Any], rejected: list[Any]) -> None:
        ip.touched = set()
        ip.timers.clear()  # all saved: the table is the truth until the next load
        self._reset_timers()
        self._saved_seq = ip.seq
        self._rejected_mark += len(rejected)
        if not self.keep_rejected:
            del self.engine.rejected[:]  # type: ignore[union-attr]
            self._rejected_mark = 0
        if self.keep_trace:
            self._records_mark = len(ip.records)
        else:  # saved in the customers' history: memory stays flat however long it runs
            del ip.records[:]
            self._records_mark = 0
        ip.customers.evict()

    # ---- forgetting ------------------------------------------------------------------------

    def export(self, cid: str) -> dict[str, Any] | None:
        """Everything the store holds about one customer (for a data-protection request)."""
        assert self.engine is not None
        c = self.engine.interpreter.customers.get(cid)
        if c is None:
            return None
        j = self.journey
        return {
            "journey": j, "version": self.version, "customer": cid,
            "state": self.engine.snapshot(c).model_dump(mode="json"),
            "stored": json.loads(customer_to_json(self.engine.program, c)),
            "history": self.history(cid),
            "timers": [{"due": due, "kind": kind} for due, kind in self.db.execute(
                "SELECT due, kind FROM jf_timers WHERE journey = ? AND customer = ? "
                "ORDER BY due", (j, cid))],
            "deliveries": [
                {"key": key, "channel": channel, "status": status, "attempts": attempts,
                 "fields": json.loads(fields), "error": error}
                for key, channel, status, attempts, fields, error in self.db.execute(
                    "SELECT key, channel, status, attempts, fields, error FROM jf_outbox "
                    "WHERE journey = ? AND customer = ? ORDER BY id", (j, cid))],
            "sends": [{"at": at, "channel": channel} for at, channel in self.db.execute(
                "SELECT at, channel FROM jf_sends WHERE customer = ? ORDER BY at", (cid,))],
            "rejected": [{"reason": reason, "line": line} for reason, line in self.db.execute(
                "SELECT reason, line FROM jf_rejected WHERE journey = ? AND customer = ? "
                "ORDER BY seq", (j, cid))],
        }

    def forget(self, cid: str) -> bool:
        """Delete a customer: state, timers, history, rejected events, pending deliveries."""
        assert self.engine is not None
        ip = self.engine.interpreter
        j = self.journey
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            found = db.execute("DELETE FROM jf_customers WHERE journey = ? AND id = ?",
                               (j, cid)).rowcount > 0
            for table in ("jf_timers", "jf_history", "jf_rejected", "jf_outbox"):
                db.execute(f"DELETE FROM {table} WHERE journey = ? AND customer = ?",  # noqa: S608
                           (j, cid))
            db.execute("DELETE FROM jf_sends WHERE customer = ?", (cid,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        dict.pop(ip.customers, cid, None)
        if ip.shared is not None:
            ip.shared.forget(cid)
        if ip.touched is not None:
            ip.touched.discard(cid)
        self._next_due = self._min_due()
        return found

    def close(self) -> None:
        if self.owns_database:
            self.database.close()


_SELECT_OUTBOX = ("SELECT id, journey, customer, key, kind, channel, at, fields, context, "
                  "attempts, next_at, error, status FROM jf_outbox WHERE journey = ? AND ")


class SQLiteOutbox:
    """The outbox table, as the delivery loop reads and updates it.

    Only one process writes a SQLite store, so a row another process left ``sending``
    (handed over to the mail server when that process died) is settled at once; the
    rows this one is handing over are known by their ids.
    """

    def __init__(self, db: sqlite3.Connection, journey: str) -> None:
        self.db = db
        self.journey = journey
        self._handing_over: set[int] = set()

    def due(self, now: float, limit: int) -> list[OutboxRow]:
        left = [row for row in outbox_rows(self.db.execute(
            _SELECT_OUTBOX + "status = ? ORDER BY id LIMIT ?",
            (self.journey, SENDING, limit + len(self._handing_over))))
            if row.id not in self._handing_over][:limit]
        if len(left) == limit:  # no room left (and SQLite reads LIMIT 0 - n as no limit)
            return left
        return left + outbox_rows(self.db.execute(
            _SELECT_OUTBOX + "status = ? AND next_at <= ? ORDER BY id LIMIT ?",
            (self.journey, PENDING, now, limit - len(left))))

    def record_attempt(self, row: OutboxRow, record: dict[str, Any] | None) -> None:
        if row.status == SENDING:
            self._handing_over.add(row.id)
        else:
            self._handing_over.discard(row.id)
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            kept = db.execute(
                "UPDATE jf_outbox SET status = ?, attempts = ?, next_at = ?, error = ? "
                "WHERE id = ?", (row.status, row.attempts, row.next_at, row.error, row.id))
            # A customer forgotten while this delivery was in flight stays forgotten.
            if kept.rowcount and record is not None:
                records = dumps([(row.at, "delivery", _fields(record))])
                db.execute("INSERT INTO jf_history (journey, customer, records) "
                           "VALUES (?, ?, ?)", (row.journey, row.customer, records))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def next_due(self) -> float | None:
        row = self.db.execute("SELECT min(next_at) FROM jf_outbox WHERE journey = ? AND "
                              "status = ?", (self.journey, PENDING)).fetchone()
        return None if row[0] is None else float(row[0])

    def pending_count(self) -> int:
        row = self.db.execute("SELECT count(*) FROM jf_outbox WHERE journey = ? AND "
                              "status = ?", (self.journey, PENDING)).fetchone()
        return int(row[0])

    def status_counts(self) -> dict[str, int]:
        return dict(self.db.execute(
            "SELECT status, count(*) FROM jf_outbox WHERE journey = ? GROUP BY status",
            (self.journey,)).fetchall())


def _positive(value: float) -> float:
    if not value > 0:
        raise ValueError(value)
    return value


def _fields(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("at", "customer", "kind")}


def _shared(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM jf_journeys WHERE name = '$shared'").fetchone() is not None


def _customer_of(event: Any) -> str | None:
    if isinstance(event, dict):
        value = event.get("customer")
        return None if value in (None, "") else str(value)
    return None


def _history_rows(journey: str, records: list[Any]) -> list[tuple[str, str, str]]:
    """One row per customer for the records of one commit, in order: ``[at, kind, fields]``
    each, the time as seconds (turned into text when read, not on this hot path)."""
    by_customer: dict[str, list[tuple[Any, str, dict[str, Any]]]] = defaultdict(list)
    for at, cid, kind, fields in records:
        # delivery records are saved with their attempt (SQLiteOutbox.record_attempt)
        if cid is not None and kind != "delivery":
            by_customer[cid].append((at, kind, fields))
    return [(journey, cid, dumps(items)) for cid, items in by_customer.items()]
