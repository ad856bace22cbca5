"""The PostgreSQL store's outbox, as delivery loops read and update it.

Several workers may run a delivery loop on the same outbox. A loop claims the rows it
is about to send (``FOR UPDATE SKIP LOCKED``, then a claim time in ``next_at``), so two
loops never send the same row at once; a loop that dies with a claim lets the row go
when the claim runs out, and the next attempt carries the same idempotency key.
"""

from __future__ import annotations

from typing import Any

from journeyflow.live.codec import dumps, outbox_rows
from journeyflow.live.pgschema import OwnConnection, PgOptions
from journeyflow.live.sqlite import _fields
from journeyflow.runtime.outbox import PENDING, SENDING, OutboxRow

__all__ = ["PostgresOutbox"]

CLAIM = 300.0  # seconds a claimed row is left to its loop before another may take it


class PostgresOutbox(OwnConnection):
    """The outbox rows of one journey, on a connection of its own."""

    def __init__(self, options: PgOptions, journey: str) -> None:
        self.options = options
        self.journey = journey

    def due(self, now: float, limit: int) -> list[OutboxRow]:
        rows = self.conn.execute(
            "UPDATE jf_outbox AS o SET next_at = %s FROM (SELECT id, next_at FROM jf_outbox "
            "WHERE journey = %s AND status = ANY(%s) AND next_at <= %s ORDER BY id LIMIT %s "
            "FOR UPDATE SKIP LOCKED) AS d WHERE o.id = d.id RETURNING o.id, o.journey, "
            "o.customer, o.key, o.kind, o.channel, o.at, o.fields, o.context, o.attempts, "
            "d.next_at, o.error, o.status",
            (now + CLAIM, self.journey, [PENDING, SENDING], now, limit)).fetchall()
        rows.sort(key=lambda row: row[0])
        return outbox_rows(rows)

    def record_attempt(self, row: OutboxRow, record: dict[str, Any] | None) -> None:
        conn = self.conn
        with conn.transaction():
            kept = conn.execute(
                "UPDATE jf_outbox SET status = %s, attempts = %s, next_at = %s, error = %s "
                "WHERE id = %s", (row.status, row.attempts, row.next_at, row.error, row.id))
            # A customer forgotten while this delivery was in flight stays forgotten.
            if kept.rowcount and record is not None:
                conn.execute("INSERT INTO jf_history (journey, customer, records) "
                             "VALUES (%s, %s, %s)", (row.journey, row.customer,
                                                     dumps([(row.at, "delivery",
                                                             _fields(record))])))

    def next_due(self) -> float | None:
        row = self.conn.execute("SELECT min(next_at) FROM jf_outbox WHERE journey = %s AND "
                                "status = %s", (self.journey, PENDING)).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def pending_count(self) -> int:
        row = self.conn.execute("SELECT count(*) FROM jf_outbox WHERE journey = %s AND "
                                "status = %s", (self.journey, PENDING)).fetchone()
        return int(row[0]) if row else 0

    def status_counts(self) -> dict[str, int]:
        return {status: int(n) for status, n in self.conn.execute(
            "SELECT status, count(*) FROM jf_outbox WHERE journey = %s GROUP BY status",
            (self.journey,))}
