"""Reading a PostgreSQL store for ``journeyflow report``, without writing to it.

The same :class:`~journeyflow.live.reportread.StoreReader` as the SQLite reader, over
the tables workers share (``live/pgschema.py``). Everything is read in one read-only
transaction at REPEATABLE READ, so every figure comes from one committed snapshot while
workers go on stepping; customers and their history stream through server-side
cursors, so a store of millions needs one customer in memory at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from journeyflow.errors import JourneyError
from journeyflow.live.pgschema import connect, parse_url
from journeyflow.live.reportread import DeliveryCount, StoredCustomer

__all__ = ["PostgresReader"]

FETCH = 2000  # rows a server-side cursor brings per round trip


class PostgresReader:
    """A :class:`~journeyflow.live.reportread.StoreReader` on a PostgreSQL store."""

    def __init__(self, url: str) -> None:
        options = parse_url(url)
        self.location = options.shown
        self.conn: psycopg.Connection[Any] = connect(options)
        try:
            self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            found = self.conn.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name IN "
                "('jf_journeys', 'jf_customers', 'jf_history', 'jf_outbox', 'jf_rejected')"
            ).fetchone()
        except psycopg.Error as exc:
            self.conn.close()
            raise JourneyError(f"cannot read the state store {self.location}: "
                               f"{str(exc).strip()}") from None
        if found is None or found[0] < 5:
            self.conn.close()
            raise JourneyError(f"{self.location} holds no journeyflow state store (a store "
                               "is made by `journeyflow run`, `work` or `serve` with "
                               "--store postgresql://...)")

    @classmethod
    def from_url(cls, url: str) -> PostgresReader:
        return cls(url)

    def journeys(self) -> dict[str, int]:
        with self._reading():
            names = {name: 0 for (name,) in self.conn.execute("SELECT name FROM jf_journeys")}
            for name, n in self.conn.execute("SELECT journey, count(*) FROM jf_customers "
                                             "GROUP BY journey"):
                names[name] = n
        return names

    def versions(self, journey: str) -> dict[str, int]:
        with self._reading():
            return {version: n for version, n in self.conn.execute(
                "SELECT version, count(*) FROM jf_customers WHERE journey = %s "
                "GROUP BY version", (journey,))}

    def span(self, journey: str) -> tuple[float, float] | None:
        with self._reading():
            row = self.conn.execute(
                "SELECT min((state::jsonb->>'created')::float8), "
                "max((state::jsonb->>'clock')::float8) FROM jf_customers WHERE journey = %s",
                (journey,)).fetchone()
        return None if row is None or row[0] is None else (float(row[0]), float(row[1]))

    def customers(self, journey: str) -> Iterator[StoredCustomer]:
        # As the SQLite reader: customers by id and history by customer, merged. COLLATE
        # "C" orders ids as Python compares them, whatever the database's collation.
        with self._reading():
            states = self.conn.cursor(name="jf_report_customers")
            states.itersize = FETCH
            states.execute('SELECT id, version, state FROM jf_customers WHERE journey = %s '
                           'ORDER BY id COLLATE "C"', (journey,))
            history = self.conn.cursor(name="jf_report_history")
            history.itersize = FETCH
            history.execute('SELECT customer, records FROM jf_history WHERE journey = %s '
                            'ORDER BY customer COLLATE "C", seq', (journey,))
            rows = iter(history)
            row = next(rows, None)
            for cid, version, state in states:
                while row is not None and row[0] < cid:
                    row = next(rows, None)
                records = []
                while row is not None and row[0] == cid:
                    records.append(row[1])
                    row = next(rows, None)
                yield StoredCustomer(cid, version, state, tuple(records))
            states.close()
            history.close()

    def deliveries(self, journey: str) -> list[DeliveryCount]:
        with self._reading():
            return [DeliveryCount(kind, channel, message, status, rows, attempts or 0)
                    for kind, channel, message, status, rows, attempts in self.conn.execute(
                        "SELECT kind, channel, CASE kind WHEN 'send' THEN "
                        "fields::jsonb->>'message' END, status, count(*), sum(attempts) "
                        "FROM jf_outbox WHERE journey = %s GROUP BY 1, 2, 3, 4 "
                        "ORDER BY 1, 2, 3, 4", (journey,))]

    def rejected(self, journey: str) -> dict[str, int]:
        with self._reading():
            return {reason: n for reason, n in self.conn.execute(
                "SELECT reason, count(*) FROM jf_rejected WHERE journey = %s "
                "GROUP BY reason ORDER BY reason", (journey,))}

    def counters(self, journey: str) -> dict[str, int]:
        with self._reading():
            row = self.conn.execute("SELECT processed, warnings, steps FROM jf_journeys "
                                    "WHERE name = %s", (journey,)).fetchone()
        if row is None:
            return {}
        return {"processed": int(row[0]), "warnings": int(row[1]), "steps": int(row[2])}

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as exc:
            raise JourneyError(f"cannot read the state store {self.location}: "
                               f"{str(exc).strip()}") from None
