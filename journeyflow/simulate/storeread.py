"""Reading a durable store for a forecast: read-only, one snapshot, one partition at a time.

The SQLite file is opened with ``mode=ro`` and without the store's writer lock, so a
forecast can run while a service writes (WAL lets a reader keep its snapshot while the
writer goes on). One read transaction is held from :meth:`StoreReader.describe` to
:meth:`StoreReader.close`: the census, every partition and, with ``--compare``, both
journeys' runs see the same customers however much the service writes meanwhile.

Customers are streamed in id order and cut into partitions of a fixed size, each with
its timers (a merge join on the customer id, both tables sorted by it), so memory holds
one partition, not the store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

from journeyflow.errors import JourneyError
from journeyflow.simulate.stored import StoredPartition, StoredPopulation, StoredRow, StoredTimer

__all__ = ["SCHEME", "StoreReader", "store_path"]

SCHEME = "sqlite:///"
_TABLES = ("jf_journeys", "jf_customers", "jf_timers")
_SKIP = "$shared"  # the marker row of a store several journeys share


def store_path(url: str) -> Path:
    """The file of a ``sqlite:///path.db`` URL (the query string, if any, is ignored).

    >>> store_path("sqlite:///state.db"), store_path("sqlite:////var/jf/state.db?wait=5")
    (PosixPath('state.db'), PosixPath('/var/jf/state.db'))
    """
    if url.startswith(("postgresql://", "postgres://")):
        raise JourneyError(
            f"--from-store {url}: forecasting from a PostgreSQL store is not supported yet; "
            "give a SQLite store, sqlite:///path/to/state.db")
    if not url.startswith(SCHEME) or len(url) == len(SCHEME):
        raise JourneyError(f"--from-store {url}: give a SQLite store URL, "
                           "sqlite:///path/to/state.db")
    return Path(url[len(SCHEME):].split("?", 1)[0])


def _connect(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise JourneyError(f"--from-store: there is no store at {path}"
                           + (" (it is a directory)" if path.is_dir() else ""))
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA busy_timeout=10000")
        names = {row[0] for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as exc:
        raise JourneyError(f"--from-store: cannot read {path} as a SQLite store: {exc}") from None
    missing = [t for t in _TABLES if t not in names]
    if missing:
        db.close()
        raise JourneyError(f"--from-store: {path} is not a journeyflow state store (it has no "
                           f"{', '.join(missing)} table); make one with "
                           "`journeyflow run JOURNEY --store sqlite:///...` or "
                           "`journeyflow serve`")
    return db


class StoreReader:
    """One store, opened read-only and held at one snapshot (module docstring)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = store_path(url)
        self.db = _connect(self.path)
        # Deferred: the snapshot is taken by the first read and kept until close().
        self.db.execute("BEGIN")

    def __enter__(self) -> StoreReader:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.db.execute("COMMIT")
        except sqlite3.Error:
            pass  # nothing to end: the transaction never started or is gone with an error
        self.db.close()

    def _query(self, sql: str, *args: object) -> list[tuple[object, ...]]:
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise JourneyError(f"--from-store: cannot read {self.path}: {exc}") from None

    # ---- the population ---------------------------------------------------------------

    def versions(self, journey: str) -> dict[str, int]:
        """Customers of ``journey`` per version they run on; refuses an unknown journey."""
        held = {str(v): int(str(n)) for v, n in self._query(
            "SELECT version, count(*) FROM jf_customers WHERE journey = ? GROUP BY version "
            "ORDER BY version", journey)}
        if held:
            return held
        others = [str(row[0]) for row in self._query(
            "SELECT DISTINCT journey FROM jf_customers WHERE journey != ? ORDER BY journey",
            _SKIP)]
        if others:
            raise JourneyError(
                f"--from-store: {self.path} holds customers of journey "
                f"{', '.join(repr(n) for n in others)}, not '{journey}': give the store of "
                "this journey, or the journey file this store runs")
        raise JourneyError(f"--from-store: {self.path} holds no customers yet: there is "
                           "nobody to forecast (simulate without --from-store forecasts new "
                           "arrivals)")

    def sources(self, journey: str) -> dict[str, str]:
        """The journey file the store recorded for each version it was opened with."""
        tables = self._query("SELECT 1 FROM sqlite_master WHERE name = 'jf_versions'")
        if not tables:
            return {}
        return {str(v): str(text) for v, text in self._query(
            "SELECT version, source FROM jf_versions WHERE journey = ?", journey)}

    def latest_clock(self, journey: str) -> float:
        """The latest time any customer of ``journey`` has seen: the store's "now"."""
        (value,), = self._query("SELECT max(json_extract(state, '$.clock')) FROM jf_customers "
                                "WHERE journey = ?", journey)
        if not isinstance(value, int | float):
            raise JourneyError(f"--from-store: {self.path} holds customers without a clock: "
                               "not a store this version of journeyflow wrote")
        return float(value)

    def counters(self, journey: str) -> tuple[int, int]:
        """The store's timer sequence and step counters for ``journey``."""
        from journeyflow.live.codec import loads

        rows = self._query("SELECT counters FROM jf_journeys WHERE name = ?", journey)
        if not rows:
            return 0, 0
        counters = loads(str(rows[0][0]))
        return int(counters.get("seq", 0)), int(counters.get("steps", 0))

    def census(self, journey: str, field: str) -> tuple[tuple[str, int], ...]:
        """Customers per value of a text field of the state (stage, status)."""
        rows = self._query(
            f"SELECT json_extract(state, '$.{field}') AS v, count(*) FROM jf_customers "  # noqa: S608 - field is ours
            "WHERE journey = ? GROUP BY v ORDER BY v", journey)
        return tuple((str(v), int(str(n))) for v, n in rows)

    def goals(self, journey: str) -> tuple[tuple[str, int], ...]:
        """Customers holding each goal."""
        rows = self._query(
            "SELECT g.value, count(*) FROM jf_customers, json_each(jf_customers.state, "
            "'$.goals') AS g WHERE journey = ? GROUP BY g.value ORDER BY g.value", journey)
        return tuple((str(v), int(str(n))) for v, n in rows)

    # ---- streaming ----------------------------------------------------------------------

    def partitions(self, population: StoredPopulation, size: int) -> Iterator[StoredPartition]:
        """The customers of ``population.journey`` in id order, ``size`` at a time."""
        rows: list[StoredRow] = []
        number = 0
        for row in self.rows(population.journey):
            rows.append(row)
            if len(rows) == size:
                yield StoredPartition(number, tuple(rows))
                rows, number = [], number + 1
        if rows:
            yield StoredPartition(number, tuple(rows))

    def rows(self, journey: str) -> Iterator[StoredRow]:
        """Every stored customer of ``journey`` with its pending timers, in id order."""
        # Two cursors of one connection, both sorted by customer id, walked side by side.
        try:
            customers = self.db.execute("SELECT id, version, state FROM jf_customers "
                                        "WHERE journey = ? ORDER BY id", (journey,))
            timers = self.db.execute("SELECT customer, due, seq, kind, payload FROM jf_timers "
                                     "WHERE journey = ? ORDER BY customer, due, seq", (journey,))
            pending = next(timers, None)
            for cid, version, state in customers:
                # Timers of customers no longer stored are left behind, as the service does.
                while pending is not None and pending[0] < cid:
                    pending = next(timers, None)
                own: list[StoredTimer] = []
                while pending is not None and pending[0] == cid:
                    own.append((float(pending[1]), int(pending[2]), int(pending[3]),
                                str(pending[4])))
                    pending = next(timers, None)
                yield StoredRow(str(cid), str(version), str(state), tuple(own))
        except sqlite3.Error as exc:
            raise JourneyError(f"--from-store: cannot read {self.path}: {exc}") from None
