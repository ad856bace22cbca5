"""The send log of journeys run together on a PostgreSQL store (table ``jf_sends``).

Each worker steps a customer's every journey (their partitions are leased together,
:mod:`journeyflow.live.jointleases`), so the log it holds in memory is the customer's
whole log while it holds the partition. A customer it has not read yet, or one of a
partition it has just taken over, is read from the table, where every worker's commits
save the deliveries their steps made.
"""

from __future__ import annotations

from journeyflow.live.pgschema import OwnConnection, PgOptions
from journeyflow.runtime.sendlog import Send, SendLog

__all__ = ["PostgresSendLog"]


class PostgresSendLog(SendLog, OwnConnection):
    """A :class:`SendLog` reading the customers it does not hold from ``jf_sends``, on a
    connection of its own (it reads in the middle of a step, outside any commit)."""

    def __init__(self, options: PgOptions, keep: float = 0.0) -> None:
        super().__init__(keep)
        self.options = options

    def load(self, cid: str) -> list[Send]:
        return [(float(at), str(channel)) for at, channel in self.conn.execute(
            "SELECT at, channel FROM jf_sends WHERE customer = %s ORDER BY at", (cid,))]

    def prune(self, now: float) -> int:
        """Delete saved deliveries no cap can see any more; how many went."""
        return self.conn.execute("DELETE FROM jf_sends WHERE at <= %s",
                                 (now - self.keep,)).rowcount
