"""The PostgreSQL store's tables, its URL options and its connections.

Rewritten rows (customers, counters) leave room in their pages, so an update can stay on
its page without touching the indexes (a HOT update). The tables are those of the SQLite
store plus three for sharing the store between
workers: ``jf_inbox`` (accepted events waiting for a worker), ``jf_leases`` (which
worker steps which partition of a journey's customers, under which epoch) and
``jf_workers`` (who is alive, to split the partitions fairly). A customer belongs to
one partition for good: a stable hash of its id, modulo the journey's partition count.
``jf_versions`` keeps the source of every version a journey was opened with, and
``jf_journeys.migrations`` counts the times its customers were moved to another file (a
process that opened an earlier file stops committing when it changes), ``jf_retired``
holds digests of the files they were moved from (which no longer open the store), and
``jf_sends`` the deliveries that count toward a ``limit`` of the journeys run together.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg

from journeyflow.errors import JourneyError

__all__ = ["OwnConnection", "PgOptions", "connect", "key_ids", "parse_url", "partition_of",
           "redact"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS jf_journeys (name TEXT PRIMARY KEY, version TEXT NOT NULL,
    partitions INTEGER NOT NULL, processed BIGINT NOT NULL DEFAULT 0,
    warnings BIGINT NOT NULL DEFAULT 0, steps BIGINT NOT NULL DEFAULT 0)
    WITH (fillfactor = 50);
CREATE TABLE IF NOT EXISTS jf_customers (journey TEXT NOT NULL, id TEXT NOT NULL,
    part INTEGER NOT NULL, version TEXT NOT NULL, state TEXT NOT NULL,
    PRIMARY KEY (journey, id)) WITH (fillfactor = 60);
CREATE TABLE IF NOT EXISTS jf_timers (journey TEXT NOT NULL, seq BIGINT NOT NULL,
    part INTEGER NOT NULL, due DOUBLE PRECISION NOT NULL, customer TEXT NOT NULL,
    kind INTEGER NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (journey, seq));
CREATE INDEX IF NOT EXISTS jf_timers_due ON jf_timers (journey, due, seq);
CREATE INDEX IF NOT EXISTS jf_timers_customer ON jf_timers (journey, customer);
CREATE TABLE IF NOT EXISTS jf_events (id UUID PRIMARY KEY);
CREATE TABLE IF NOT EXISTS jf_rejected (seq BIGSERIAL PRIMARY KEY, journey TEXT NOT NULL,
    customer TEXT, line INTEGER, reason TEXT NOT NULL, event TEXT);
CREATE INDEX IF NOT EXISTS jf_rejected_customer ON jf_rejected (journey, customer);
CREATE TABLE IF NOT EXISTS jf_history (seq BIGSERIAL PRIMARY KEY, journey TEXT NOT NULL,
    customer TEXT NOT NULL, records TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS jf_history_customer ON jf_history (journey, customer);
CREATE TABLE IF NOT EXISTS jf_outbox (id BIGSERIAL PRIMARY KEY, journey TEXT NOT NULL,
    customer TEXT NOT NULL, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
    channel TEXT NOT NULL, at DOUBLE PRECISION NOT NULL, fields TEXT NOT NULL, context TEXT,
    status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_at DOUBLE PRECISION NOT NULL, error TEXT);
CREATE INDEX IF NOT EXISTS jf_outbox_due ON jf_outbox (journey, status, next_at);
CREATE INDEX IF NOT EXISTS jf_outbox_customer ON jf_outbox (journey, customer);
CREATE TABLE IF NOT EXISTS jf_inbox (seq BIGSERIAL PRIMARY KEY, journey TEXT NOT NULL,
    part INTEGER NOT NULL, customer TEXT, key TEXT, line INTEGER, event TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS jf_inbox_part ON jf_inbox (journey, part, seq);
CREATE UNIQUE INDEX IF NOT EXISTS jf_inbox_key ON jf_inbox (journey, key);
CREATE TABLE IF NOT EXISTS jf_leases (journey TEXT NOT NULL, part INTEGER NOT NULL,
    worker TEXT, epoch BIGINT NOT NULL DEFAULT 0, expires TIMESTAMPTZ,
    deliveries BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (journey, part));
CREATE TABLE IF NOT EXISTS jf_workers (journey TEXT NOT NULL, worker TEXT NOT NULL,
    seen TIMESTAMPTZ NOT NULL, PRIMARY KEY (journey, worker));
CREATE SEQUENCE IF NOT EXISTS jf_timer_blocks;
CREATE TABLE IF NOT EXISTS jf_versions (journey TEXT NOT NULL, version TEXT NOT NULL,
    source TEXT NOT NULL, PRIMARY KEY (journey, version));
ALTER TABLE jf_journeys ADD COLUMN IF NOT EXISTS migrations BIGINT NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS jf_retired (journey TEXT NOT NULL, digest TEXT NOT NULL,
    version TEXT NOT NULL, PRIMARY KEY (journey, digest));
CREATE TABLE IF NOT EXISTS jf_sends (customer TEXT NOT NULL, at DOUBLE PRECISION NOT NULL,
    channel TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS jf_sends_customer ON jf_sends (customer, at);
"""

BLOCK = 1 << 32  # timer numbers a store hands out before it takes a fresh block

# Concurrent first opens would race on CREATE ... IF NOT EXISTS: one at a time.
_SCHEMA_LOCK = 0x6A66_0001

OPTIONS = ("partitions", "cache", "lease", "wait", "worker", "batch")


@dataclass(frozen=True)
class PgOptions:
    """What the URL's query says, besides what it says to PostgreSQL itself."""

    conninfo: str
    shown: str  # the URL without its password, for messages
    partitions: int = 64  # used when a journey is first stored; later its own count wins
    cache: int = 20_000
    lease: float = 30.0  # seconds a worker's partitions stay its own without renewal
    wait: float = 10.0  # how long an engine waits for partitions other workers hold
    worker: str = ""
    batch: int = 2000  # inbox events a worker steps per transaction


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def parse_url(url: str) -> PgOptions:
    """``postgresql://user:password@host:port/db?partitions=64&cache=N&lease=S&wait=S``;
    other query options (``sslmode``...) go to PostgreSQL as they are."""
    parts = urlsplit(url)
    ours: dict[str, str] = {}
    theirs: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in OPTIONS:
            ours[key] = value
        else:
            theirs.append((key, value))
    conninfo = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(theirs), ""))
    shown = redact(url)
    try:
        options = PgOptions(
            conninfo, shown, partitions=int(ours.get("partitions", 64)),
            cache=int(ours.get("cache", 20_000)), lease=float(ours.get("lease", 30)),
            wait=float(ours.get("wait", 10)), worker=ours.get("worker") or default_worker_name(),
            batch=int(ours.get("batch", 2000)))
    except ValueError:
        raise JourneyError(f"bad option in store URL '{shown}': partitions, cache and batch "
                           "are whole numbers, lease and wait seconds") from None
    if not 1 <= options.partitions <= 4096 or options.lease <= 0 or options.batch < 1:
        raise JourneyError(f"bad option in store URL '{shown}': partitions is 1 to 4096, "
                           "lease more than 0 seconds, batch at least 1")
    return options


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class OwnConnection:
    """A connection of the object's own, opened on first use where ``options`` says: a
    delivery thread or a send log never shares one with an engine's commits."""

    options: PgOptions
    _conn: psycopg.Connection[Any] | None = None

    @property
    def conn(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            self._conn = connect(self.options)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def connect(options: PgOptions, create: bool = False) -> psycopg.Connection[Any]:
    """An autocommit connection (transactions are explicit); with ``create``, the tables."""
    try:
        conn = psycopg.connect(options.conninfo, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise JourneyError(f"cannot open the state store {options.shown}: "
                           f"{str(exc).strip()}") from None
    if create:
        try:
            # DDL on a store in use would queue behind (and deadlock with) the workers'
            # transactions: an ALTER TABLE takes the table's strongest lock even when
            # there is nothing to add. Run it only when something is missing.
            if not _schema_ready(conn):
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                    conn.execute(SCHEMA)
        except psycopg.Error as exc:
            conn.close()
            raise JourneyError(f"cannot create the tables of the state store {options.shown}: "
                               f"{str(exc).strip()}") from None
    return conn


def _schema_ready(conn: psycopg.Connection[Any]) -> bool:
    """Whether every table and column of this release is there (the last ones added)."""
    row = conn.execute(
        "SELECT to_regclass('jf_sends') IS NOT NULL AND to_regclass('jf_retired') IS NOT NULL "
        "AND to_regclass('jf_versions') IS NOT NULL AND EXISTS (SELECT 1 FROM "
        "information_schema.columns WHERE table_schema = current_schema() AND "
        "table_name = 'jf_journeys' AND column_name = 'migrations')"
    ).fetchone()
    return bool(row and row[0])


def partition_of(cid: str, partitions: int) -> int:
    """The customer's partition: CRC-32 of its id, the same on every machine and Python."""
    return zlib.crc32(cid.encode("utf-8", "surrogatepass")) % partitions


def key_ids(journey: str, keys: Iterable[str]) -> list[uuid.UUID]:
    """The committed-event table's ids of these event keys: a 128-bit hash of (journey,
    key). A B-tree of 16-byte ids takes a worker's thousands of keys per commit at about
    half the cost of one of (journey, key) texts."""
    prefix = journey.encode() + b"\x1f"
    return [uuid.UUID(bytes=hashlib.blake2b(prefix + key.encode("utf-8", "surrogatepass"),
                                            digest_size=16).digest()) for key in keys]
