"""Reading a durable store for ``journeyflow report``, without writing to it.

A report needs five things from a store, all for one journey name: which journeys
it holds, the span of time its customers cover, the customers one at a time with
their trace history, the outbox counted by status, and the rejected events counted
by reason. :class:`StoreReader` is that interface; :class:`SQLiteReader` implements
it on the SQLite file of ``journeyflow run --store`` and ``journeyflow serve``;
another kind of store adds a class with the same methods and a ``from_url``
constructor, and names it in :data:`READERS`.

The SQLite file is opened read-only: a report may run while a service writes to
the same file (WAL lets a reader see the last committed state without blocking the
writer), and a report can never change what it reads.
"""

from __future__ import annotations

import importlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from journeyflow.errors import JourneyError

__all__ = ["READERS", "DeliveryCount", "SQLiteReader", "StoreReader", "StoredCustomer",
           "open_reader"]

SHARED = "$shared"  # the marker row of a store several journeys of one service share


@dataclass(frozen=True, slots=True)
class StoredCustomer:
    """One customer as the store keeps it: the state (the JSON of ``live/codec.py``)
    and its trace history, each element the JSON text of one list of
    ``[at, kind, fields]`` records, oldest first."""

    id: str
    version: str
    state: str
    history: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DeliveryCount:
    """Outbox rows of one kind (``send`` or ``notify``), channel, message and status."""

    kind: str
    channel: str
    message: str | None  # the message of a send; None for a notification
    status: str  # pending, sent or dead
    rows: int
    attempts: int


class StoreReader(Protocol):
    """What a report reads from a store (see the module docstring).

    ``customers`` must stream: a store may hold millions of customers, and the
    report aggregates them as they come, so an implementation keeps at most one
    customer (and its history) in memory at a time. Every method reads the same
    snapshot of the store, and a store that cannot be read raises
    :class:`~journeyflow.errors.JourneyError` naming it.
    """

    location: str  # the store as people name it, for messages

    def journeys(self) -> dict[str, int]:
        """Every journey name of the store, with its number of customers."""

    def versions(self, journey: str) -> dict[str, int]:
        """The journey versions the customers of ``journey`` run on, with their counts."""

    def span(self, journey: str) -> tuple[float, float] | None:
        """The first arrival and the latest clock of the journey's customers (epoch
        seconds); None when it has no customers."""

    def customers(self, journey: str) -> Iterator[StoredCustomer]:
        """The journey's customers one by one, each with its whole history, in any
        order (SQLite gives them by id)."""

    def deliveries(self, journey: str) -> list[DeliveryCount]:
        """The outbox, counted by kind, channel, message and status."""

    def rejected(self, journey: str) -> dict[str, int]:
        """Rejected events counted by reason."""

    def counters(self, journey: str) -> dict[str, int]:
        """The engine's counters of the journey (``processed``, ``steps``...)."""

    def close(self) -> None: ...


class SQLiteReader:
    """A :class:`StoreReader` on a SQLite store file, opened read-only."""

    def __init__(self, path: Path) -> None:
        self.location = str(path)
        if not path.is_file():
            raise JourneyError(f"no state store at {path}: the file does not exist (a store is "
                               "made by `journeyflow run --store sqlite:///FILE` or "
                               "`journeyflow serve`)")
        try:
            self.db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                      isolation_level=None, check_same_thread=False)
            # A service may be committing: wait for its write lock rather than fail.
            self.db.execute("PRAGMA busy_timeout=10000")
            # One read transaction for the whole report: every figure comes from the
            # same committed state, whatever a service writes meanwhile.
            self.db.execute("BEGIN")
            tables = {row[0] for row in self.db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise JourneyError(f"cannot read the state store {path}: {exc}") from exc
        missing = {"jf_journeys", "jf_customers", "jf_history", "jf_outbox",
                   "jf_rejected"} - tables
        if missing:
            self.db.close()
            raise JourneyError(f"{path} is not a journeyflow state store (it has no "
                               f"{', '.join(sorted(missing))} table)")

    def journeys(self) -> dict[str, int]:
        with self._reading():
            names = {name: 0 for (name,) in self.db.execute(
                "SELECT name FROM jf_journeys WHERE name != ?", (SHARED,))}
            for name, n in self.db.execute("SELECT journey, count(*) FROM jf_customers "
                                           "GROUP BY journey"):
                names[name] = n
        return names

    def versions(self, journey: str) -> dict[str, int]:
        with self._reading():
            return dict(self.db.execute("SELECT version, count(*) FROM jf_customers WHERE "
                                        "journey = ? GROUP BY version", (journey,)).fetchall())

    def span(self, journey: str) -> tuple[float, float] | None:
        with self._reading():
            first, last = self.db.execute(
                "SELECT min(json_extract(state, '$.created')), "
                "max(json_extract(state, '$.clock')) FROM jf_customers WHERE journey = ?",
                (journey,)).fetchone()
        return None if first is None else (float(first), float(last))

    def customers(self, journey: str) -> Iterator[StoredCustomer]:
        # Two ordered scans merged: customers by id (the primary key) and history rows
        # by customer, in commit order (the (journey, customer) index ends in seq). A
        # join would repeat a customer's state on each of its history rows.
        with self._reading():
            states = self.db.execute("SELECT id, version, state FROM jf_customers WHERE "
                                     "journey = ? ORDER BY id", (journey,))
            rows = self.db.execute("SELECT customer, records FROM jf_history WHERE "
                                   "journey = ? ORDER BY customer, seq", (journey,))
            row = next(rows, None)
            for cid, version, state in states:
                # history of customers the store no longer holds (their events were all
                # rejected) sorts in between: skip it
                while row is not None and row[0] < cid:
                    row = next(rows, None)
                history = []
                while row is not None and row[0] == cid:
                    history.append(row[1])
                    row = next(rows, None)
                yield StoredCustomer(cid, version, state, tuple(history))

    def deliveries(self, journey: str) -> list[DeliveryCount]:
        with self._reading():
            return [DeliveryCount(kind, channel, message, status, rows, attempts or 0)
                    for kind, channel, message, status, rows, attempts in self.db.execute(
                        "SELECT kind, channel, CASE kind WHEN 'send' THEN "
                        "json_extract(fields, '$.message') END, status, count(*), "
                        "sum(attempts) FROM jf_outbox WHERE journey = ? GROUP BY 1, 2, 3, 4 "
                        "ORDER BY 1, 2, 3, 4", (journey,))]

    def rejected(self, journey: str) -> dict[str, int]:
        with self._reading():
            return dict(self.db.execute("SELECT reason, count(*) FROM jf_rejected WHERE "
                                        "journey = ? GROUP BY reason ORDER BY reason",
                                        (journey,)).fetchall())

    @classmethod
    def from_url(cls, url: str) -> SQLiteReader:
        """``sqlite:///path`` (query options of the writing store are ignored)."""
        if not url.startswith("sqlite:///"):
            raise JourneyError(f"store URL '{url}' is not sqlite:///FILE")
        path = url[len("sqlite:///"):].split("?", 1)[0]
        if not path:
            raise JourneyError(f"store URL '{url}' names no file: write sqlite:///state.db")
        return cls(Path(path))

    def counters(self, journey: str) -> dict[str, int]:
        with self._reading():
            row = self.db.execute("SELECT counters FROM jf_journeys WHERE name = ?",
                                  (journey,)).fetchone()
            counters = json.loads(row[0]) if row else {}
        return {k: v for k, v in counters.items() if isinstance(v, int)}

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """A store that fails while read (a damaged file, a lock held too long) is a
        message naming the store, not a traceback."""
        try:
            yield
        except (sqlite3.Error, ValueError) as exc:
            raise JourneyError(f"cannot read the state store {self.location}: {exc}") from exc


# The reader of each store URL scheme, as "module:class" imported when used; a class
# has ``from_url(url)``. A new kind of store adds its line here.
READERS = {"sqlite": "journeyflow.live.reportread:SQLiteReader",
           "postgresql": "journeyflow.live.pgreportread:PostgresReader",
           "postgres": "journeyflow.live.pgreportread:PostgresReader"}


def open_reader(url: str) -> StoreReader:
    """The reader for a store URL, as ``run --store`` and ``serve`` take it."""
    scheme = url.split(":", 1)[0] if ":" in url else url
    target = READERS.get(scheme)
    if target is None:
        known = ", ".join(f"{name}://" for name in sorted(READERS))
        raise JourneyError(f"cannot report on the store '{url}': reports read {known} stores, "
                           f"not '{scheme}'; a memory:// store ends with its process and keeps "
                           "nothing to report on")
    module, _, name = target.partition(":")
    reader: StoreReader = getattr(importlib.import_module(module), name).from_url(url)
    return reader
