"""A SQLite store's rows for a migration, and the journey sources it records per version.

The migration itself (``versions.migrate_store``) knows no SQL; this module reads the
customers of other versions in batches of ``BATCH`` (by id, so memory stays flat), with
their timers, and writes them back in the one transaction the migration runs in.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from journeyflow.errors import JourneyError
from journeyflow.journey import Journey
from journeyflow.live.codec import dumps
from journeyflow.versions.migrate_store import StoredCustomer, customer_batches, edited
from journeyflow.versions.migration import StoredTimer

__all__ = ["BATCH", "SQLiteMigrationRows", "edited_source", "owner_check", "record_source"]

BATCH = 2000

_SOURCES = """CREATE TABLE IF NOT EXISTS jf_versions (journey TEXT NOT NULL,
    version TEXT NOT NULL, source TEXT NOT NULL, PRIMARY KEY (journey, version)) WITHOUT ROWID"""


def record_source(db: sqlite3.Connection, journey: str, version: str, source: str) -> None:
    """Keep the source of the version a store is opened with: a later version's migration
    needs it to tell which of its rules and delayed statements the customers' timers name."""
    db.execute(_SOURCES)
    db.execute("INSERT OR REPLACE INTO jf_versions (journey, version, source) VALUES (?, ?, ?)",
               (journey, version, source))


def owner_check(db: sqlite3.Connection, path: Path, journey: str) -> None:
    """A store kept for another journey is not migrated to this one."""
    names = [r[0] for r in db.execute("SELECT name FROM jf_journeys WHERE name != '$shared'")]
    shared = db.execute("SELECT 1 FROM jf_journeys WHERE name = '$shared'").fetchone()
    if names and journey not in names and shared is None:
        raise JourneyError(f"the state store {path} belongs to journey "
                           f"{', '.join(repr(n) for n in names)}, not '{journey}'")


def edited_source(db: sqlite3.Connection, journey: Journey, version: str) -> str | None:
    """The source recorded for ``version`` when ``journey`` is an edit of it that matters
    to customers (its `version` line was not bumped); None when it is the same journey."""
    db.execute(_SOURCES)
    row = db.execute("SELECT source FROM jf_versions WHERE journey = ? AND version = ?",
                     (journey.name, version)).fetchone()
    if row is None or row[0] == journey.source or not edited(row[0], journey):
        return None
    return str(row[0])


class SQLiteMigrationRows:
    """``versions.migrate_store.MigrationRows`` over one journey of a SQLite store.

    ``in_place``: the customers of ``version`` itself move too, from the source the store
    recorded for it (the file was edited without a new `version` line).
    """

    def __init__(self, db: sqlite3.Connection, journey: str, version: str,
                 batch: int = BATCH, in_place: bool = False) -> None:
        self.db = db
        self.journey = journey
        self.version = version
        self.batch = batch
        self._seq = 0
        # `version != ''` holds for every row: the in-place form of `version != ?`
        self._other = "" if in_place else version

    def other_versions(self) -> dict[str, int]:
        return dict(self.db.execute(
            "SELECT version, count(*) FROM jf_customers WHERE journey = ? AND version != ? "
            "GROUP BY version", (self.journey, self._other)).fetchall())

    def sources(self) -> dict[str, str]:
        self.db.execute(_SOURCES)
        return dict(self.db.execute("SELECT version, source FROM jf_versions WHERE journey = ?",
                                    (self.journey,)).fetchall())

    def latest_time(self) -> float | None:
        row = self.db.execute("SELECT max(json_extract(state, '$.clock')) FROM jf_customers "
                              "WHERE journey = ?", (self.journey,)).fetchone()
        return None if row[0] is None else float(row[0])

    def batches(self) -> Iterator[list[StoredCustomer]]:
        return customer_batches(
            lambda after: self.db.execute(
                "SELECT id, version, state FROM jf_customers WHERE journey = ? AND version != ? "
                "AND id > ? ORDER BY id LIMIT ?",
                (self.journey, self._other, after, self.batch)).fetchall(),
            self._stored_timers)

    def _stored_timers(self, ids: list[str]) -> Iterator[tuple[str, float, int, int, str]]:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            yield from self.db.execute(
                "SELECT customer, due, seq, kind, payload FROM jf_timers INDEXED BY "  # noqa: S608
                f"jf_timers_customer WHERE journey = ? AND customer IN ({marks})",
                (self.journey, *chunk))

    def begin(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        row = self.db.execute("SELECT max(seq) FROM jf_timers WHERE journey = ?",
                              (self.journey,)).fetchone()
        self._seq = max(self._counters().get("seq", 0), row[0] or 0)

    def write(self, batch: list[tuple[str, str, list[StoredTimer], dict[str, Any]]],
              at: float) -> None:
        j = self.journey
        db = self.db
        db.executemany("UPDATE jf_customers SET version = ?, state = ? WHERE journey = ? AND "
                       "id = ?", [(self.version, state, j, cid) for cid, state, _, _ in batch])
        db.executemany("DELETE FROM jf_timers WHERE journey = ? AND customer = ?",
                       [(j, cid) for cid, _, _, _ in batch])
        db.executemany("INSERT INTO jf_timers (journey, due, seq, customer, kind, payload) "
                       "VALUES (?, ?, ?, ?, ?, ?)", self._timer_rows(batch))
        db.executemany("INSERT INTO jf_history (journey, customer, records) VALUES (?, ?, ?)",
                       [(j, cid, dumps([(at, "migrated", record)]))
                        for cid, _, _, record in batch])

    def _timer_rows(self, batch: list[tuple[str, str, list[StoredTimer], dict[str, Any]]]
                    ) -> list[tuple[Any, ...]]:
        rows = []
        for cid, _, timers, _ in batch:
            for due, seq, kind, payload in timers:
                if seq is None:  # a timer set anew: after every one the store had
                    self._seq += 1
                    seq = self._seq
                rows.append((self.journey, due, seq, cid, kind, dumps(payload)))
        return rows

    def commit(self) -> None:
        counters = self._counters()
        counters["seq"] = self._seq
        self.db.execute("INSERT OR REPLACE INTO jf_journeys (name, version, counters) "
                        "VALUES (?, ?, ?)", (self.journey, self.version, json.dumps(counters)))
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def _counters(self) -> dict[str, Any]:
        row = self.db.execute("SELECT counters FROM jf_journeys WHERE name = ?",
                              (self.journey,)).fetchone()
        counters: dict[str, Any] = json.loads(row[0]) if row else {}
        return counters
