"""A PostgreSQL store's rows for a migration, and the lock that lets one process migrate.

The migration itself (``versions.migrate_store``) knows no SQL. This module reads the
customers of other versions in batches of ``BATCH`` (keyset pagination by id, so memory
stays flat), with their timers, and writes them back inside the one transaction the
whole migration runs in.

Many processes may open a store with a new file at the same moment. Each takes the
journey's advisory lock (held until its transaction ends) and then the journey's row in
``jf_journeys`` FOR UPDATE, which waits for the commits in flight: the first migrates,
the others find nothing left to move. A migration (or an opening with another file, even
with no customer to move) adds one to ``jf_journeys.migrations``; a process that opened
the journey under an earlier count refuses to commit (:func:`check_current`), and the
file the customers were moved from no longer opens the store (``jf_retired``): only
``journeyflow migrate`` moves them back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg

from journeyflow.errors import JourneyError
from journeyflow.journey import Journey, version_of
from journeyflow.live.codec import dumps
from journeyflow.live.pgschema import BLOCK, connect, parse_url, partition_of
from journeyflow.runtime.program import Program
from journeyflow.versions.migrate_report import MigrationReport
from journeyflow.versions.migrate_store import (
    StoredCustomer,
    customer_batches,
    edited,
    migrate_rows,
)
from journeyflow.versions.migration import StoredTimer

__all__ = ["BATCH", "Opened", "PostgresMigrationRows", "Superseded", "check_current",
           "edited_source", "in_flight", "lock_key", "migrate", "migrate_url",
           "open_journey", "record_source"]

BATCH = 2000

Migrated = list[tuple[str, str, list[StoredTimer], dict[str, Any]]]


def lock_key(journey: str) -> int:
    """The advisory lock of a journey's migrations: a stable signed 64-bit hash."""
    digest = hashlib.blake2b(b"journeyflow-migrate\x1f" + journey.encode("utf-8", "surrogatepass"),
                             digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def record_source(conn: psycopg.Connection[Any], journey: str, version: str,
                  source: str) -> None:
    """Keep the source of the version a store is opened with: a later version's migration
    needs it to tell which rules and delayed statements the customers' timers name."""
    conn.execute("INSERT INTO jf_versions (journey, version, source) VALUES (%s, %s, %s) "
                 "ON CONFLICT (journey, version) DO UPDATE SET source = EXCLUDED.source",
                 (journey, version, source))


def edited_source(conn: psycopg.Connection[Any], journey: Journey, version: str) -> str | None:
    """The source recorded for ``version`` when ``journey`` is an edit of it that matters
    to customers (its `version` line was not bumped); None when it is the same journey."""
    row = conn.execute("SELECT source FROM jf_versions WHERE journey = %s AND version = %s",
                       (journey.name, version)).fetchone()
    if row is None or row[0] == journey.source or not edited(row[0], journey):
        return None
    return str(row[0])


@dataclass(frozen=True)
class Opened:
    """What opening a journey found: the migration (None when nothing was to move) and
    the journey's migration count the opener runs under."""

    migration: MigrationReport | None
    migrations: int


def open_journey(conn: psycopg.Connection[Any], journey: Journey, program: Program,
                 shown: str) -> Opened:
    """Make ``journey`` the version the store runs: migrate the customers of other versions
    (or of an earlier edit of this one), or raise the report of what blocks it. The
    journey's row must exist (the store registers it first)."""
    name = journey.name
    version = version_of(journey)
    with conn.transaction():
        current, count = _lock(conn, name)
        if _retired(conn, name, journey.source):
            raise JourneyError(
                f"journey '{name}' in the state store {shown} was migrated from this file to "
                f"version {current}; open the store with the current file, or move its "
                "customers back to this one with journeyflow migrate --store URL FILE")
        in_place = edited_source(conn, journey, version) is not None
        report = None
        rows = PostgresMigrationRows(conn, name, version, in_place=in_place)
        if in_place or rows.other_versions():
            report = migrate_rows(rows, journey, program)
            if report.blocked:
                raise JourneyError(f"the state store {shown} holds customers of another "
                                   f"version: {report.text()}".rstrip())
        if in_place or current != version:
            count = _make_current(conn, name, version, current, journey.source)
        record_source(conn, name, version, journey.source)
    return Opened(report, count)


def migrate(conn: psycopg.Connection[Any], journey: Journey, program: Program, *,
            old: Mapping[str, str] | None = None, dry_run: bool = False,
            at: float | None = None) -> MigrationReport:
    """``journeyflow migrate`` and ``diff --store``: move (or rehearse moving) every
    customer of another version, under the journey's lock."""
    name = journey.name
    version = version_of(journey)
    with conn.transaction():
        found = conn.execute("SELECT 1 FROM jf_journeys WHERE name = %s", (name,)).fetchone()
        current = version
        if found is not None:  # a rehearsal waits for a migration, but lets workers commit
            current, _ = _lock(conn, name, row=not dry_run)
        in_place = edited_source(conn, journey, version) is not None
        rows = PostgresMigrationRows(conn, name, version, in_place=in_place)
        report = migrate_rows(rows, journey, program, old=old, dry_run=dry_run, at=at)
        if report.applied:
            _make_current(conn, name, version, current, journey.source)
            record_source(conn, name, version, journey.source)
    return report


def check_current(conn: psycopg.Connection[Any], journey: str, migrations: int) -> None:
    """Inside a commit's transaction: the journey still runs the file this process opened
    it with. The row is locked FOR KEY SHARE: a migration's FOR UPDATE waits for this
    commit, and this commit for a migration under way."""
    row = conn.execute("SELECT version, migrations FROM jf_journeys WHERE name = %s "
                       "FOR KEY SHARE", (journey,)).fetchone()
    if row is not None and int(row[1]) != migrations:
        raise Superseded(journey, str(row[0]))


class Superseded(JourneyError):
    """Another process migrated the journey to ``version`` since this one opened it."""

    def __init__(self, journey: str, version: str) -> None:
        super().__init__(f"journey '{journey}' was migrated to version {version} by another "
                         "process; restart with the new file (the steps since the last "
                         "commit were not saved)")
        self.version = version


def _lock(conn: psycopg.Connection[Any], journey: str, row: bool = True) -> tuple[str, int]:
    """Take the journey's migration lock and, with ``row``, its row (which waits for the
    commits under way and holds off the next ones); its current version and count."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(journey),))
    found = conn.execute("SELECT version, migrations FROM jf_journeys WHERE name = %s"
                         + (" FOR UPDATE" if row else ""), (journey,)).fetchone()
    if found is None:
        raise JourneyError(f"journey '{journey}' is not registered in the store")
    return str(found[0]), int(found[1])


def _make_current(conn: psycopg.Connection[Any], journey: str, version: str,
                  previous: str, source: str) -> int:
    """Record ``source`` as the file the journey runs, one migration later; the file it
    replaces is retired: worker processes of that file restarted by their supervisor
    must not move everyone back."""
    row = conn.execute("SELECT source FROM jf_versions WHERE journey = %s AND version = %s",
                       (journey, previous)).fetchone()
    if row is not None and row[0] != source:
        conn.execute("INSERT INTO jf_retired (journey, digest, version) VALUES (%s, %s, %s) "
                     "ON CONFLICT DO NOTHING", (journey, _digest(row[0]), previous))
    conn.execute("DELETE FROM jf_retired WHERE journey = %s AND digest = %s",
                 (journey, _digest(source)))
    count = conn.execute("UPDATE jf_journeys SET version = %s, migrations = migrations + 1 "
                         "WHERE name = %s RETURNING migrations", (version, journey)).fetchone()
    assert count is not None
    return int(count[0])


def _retired(conn: psycopg.Connection[Any], journey: str, source: str) -> bool:
    return conn.execute("SELECT 1 FROM jf_retired WHERE journey = %s AND digest = %s",
                        (journey, _digest(source))).fetchone() is not None


def _digest(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()


class PostgresMigrationRows:
    """``versions.migrate_store.MigrationRows`` over one journey of a PostgreSQL store.

    It runs inside the caller's transaction (``begin`` sets a savepoint, so a blocked
    migration undoes its batches and nothing else). ``in_place``: the customers of
    ``version`` itself move too, from the source recorded for it.
    """

    def __init__(self, conn: psycopg.Connection[Any], journey: str, version: str,
                 batch: int = BATCH, in_place: bool = False) -> None:
        self.conn = conn
        self.journey = journey
        self.version = version
        self.batch = batch
        self._seq = 0
        self._partitions = 1
        self._begun = False
        # `version != ''` holds for every row: the in-place form of `version != %s`
        self._other = "" if in_place else version

    def other_versions(self) -> dict[str, int]:
        return {str(v): int(n) for v, n in self.conn.execute(
            "SELECT version, count(*) FROM jf_customers WHERE journey = %s AND version != %s "
            "GROUP BY version", (self.journey, self._other))}

    def sources(self) -> dict[str, str]:
        return {str(v): str(s) for v, s in self.conn.execute(
            "SELECT version, source FROM jf_versions WHERE journey = %s", (self.journey,))}

    def latest_time(self) -> float | None:
        row = self.conn.execute("SELECT max((state::json ->> 'clock')::float8) FROM "
                                "jf_customers WHERE journey = %s", (self.journey,)).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def batches(self) -> Iterator[list[StoredCustomer]]:
        return customer_batches(
            lambda after: self.conn.execute(
                "SELECT id, version, state FROM jf_customers WHERE journey = %s AND "
                "version != %s AND id > %s ORDER BY id LIMIT %s",
                (self.journey, self._other, after, self.batch)).fetchall(),
            lambda ids: self.conn.execute(
                "SELECT customer, due, seq, kind, payload FROM jf_timers WHERE journey = %s "
                "AND customer = ANY(%b::text[])", (self.journey, ids)).fetchall())

    def begin(self) -> None:
        self.conn.execute("SAVEPOINT jf_migration")
        self._begun = True
        row = self.conn.execute("SELECT partitions FROM jf_journeys WHERE name = %s",
                                (self.journey,)).fetchone()
        self._partitions = int(row[0]) if row is not None else 1
        # Timers set anew take numbers of a fresh block: after every one handed out.
        block = self.conn.execute("SELECT nextval('jf_timer_blocks')").fetchone()
        assert block is not None
        self._seq = int(block[0]) * BLOCK

    def write(self, batch: Migrated, at: float) -> None:
        # Arrays go as binary parameters (%b): the text form escapes every element with a
        # regular expression, which took most of a migration's time.
        j = self.journey
        ids = [cid for cid, _, _, _ in batch]
        run = self.conn.execute
        with self.conn.pipeline():
            run("UPDATE jf_customers AS c SET version = %s, state = u.state FROM unnest("
                "%b::text[], %b::text[]) AS u(id, state) WHERE c.journey = %s AND c.id = u.id",
                (self.version, ids, [state for _, state, _, _ in batch], j))
            run("DELETE FROM jf_timers WHERE journey = %s AND customer = ANY(%b::text[])",
                (j, ids))
            timers = self._timer_rows(batch)
            if timers:
                columns = [list(column) for column in zip(*timers, strict=True)]
                run("INSERT INTO jf_timers (journey, due, seq, part, customer, kind, payload) "
                    "SELECT %s, u.* FROM unnest(%b::float8[], %b::bigint[], %b::int[], "
                    "%b::text[], %b::int[], %b::text[]) AS u", (j, *columns))
            run("INSERT INTO jf_history (journey, customer, records) SELECT %s, u.* FROM "
                "unnest(%b::text[], %b::text[]) AS u",
                (j, ids, [dumps([(at, "migrated", record)]) for _, _, _, record in batch]))

    def _timer_rows(self, batch: Migrated) -> list[tuple[float, int, int, str, int, str]]:
        rows = []
        for cid, _, timers, _ in batch:
            part = partition_of(cid, self._partitions)
            for due, seq, kind, payload in timers:
                if seq is None:  # a timer set anew: after every one the store had
                    self._seq += 1
                    seq = self._seq
                rows.append((float(due), seq, part, cid, kind, dumps(payload)))
        return rows

    def commit(self) -> None:
        self.conn.execute("RELEASE SAVEPOINT jf_migration")
        self._begun = False

    def rollback(self) -> None:
        if self._begun:
            self.conn.execute("ROLLBACK TO SAVEPOINT jf_migration")
            self._begun = False


def migrate_url(url: str, journey: Journey, *, old: Mapping[str, str] | None = None,
                dry_run: bool = False, at: float | None = None) -> MigrationReport:
    """:func:`migrate` on the store at ``url`` (``journeyflow migrate --store``)."""
    options = parse_url(url)
    conn = connect(options, create=True)  # a store made before jf_versions existed gains it
    try:
        return migrate(conn, journey, Program(journey.model), old=old, dry_run=dry_run, at=at)
    except psycopg.Error as exc:
        raise JourneyError(f"the state store {options.shown} failed: "
                           f"{str(exc).strip()}") from None
    finally:
        conn.close()


def in_flight(url: str, journey: Journey) -> tuple[dict[str, int], MigrationReport]:
    """The journey's customers per stage (every version) and the rehearsal of their move
    to ``journey`` (``journeyflow diff --store``)."""
    options = parse_url(url)
    conn = connect(options, create=True)
    try:
        by_stage = {str(stage): int(n) for stage, n in conn.execute(
            "SELECT state::json ->> 'stage', count(*) FROM jf_customers WHERE journey = %s "
            "GROUP BY 1 ORDER BY 1", (journey.name,))}
        return by_stage, migrate(conn, journey, Program(journey.model), dry_run=True)
    except psycopg.Error as exc:
        raise JourneyError(f"the state store {options.shown} failed: "
                           f"{str(exc).strip()}") from None
    finally:
        conn.close()
