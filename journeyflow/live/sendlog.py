"""The send log of a service's journeys, kept in the store beside their customers.

Every delivery that counts toward caps is saved in ``jf_sends`` by the commit of the
step that made it, so after a restart a customer's caps still see what every journey
sent them. Rows older than the longest cap window of the service are pruned.
"""

from __future__ import annotations

import sqlite3

from journeyflow.runtime.sendlog import Send, SendLog

__all__ = ["StoredSendLog"]


class StoredSendLog(SendLog):
    """A :class:`SendLog` that reads the customers it does not hold from ``jf_sends``."""

    def __init__(self, db: sqlite3.Connection, keep: float = 0.0) -> None:
        super().__init__(keep)
        self.db = db

    def load(self, cid: str) -> list[Send]:
        return [(float(at), str(channel)) for at, channel in self.db.execute(
            "SELECT at, channel FROM jf_sends WHERE customer = ? ORDER BY at", (cid,))]

    def prune(self, now: float) -> int:
        """Delete saved deliveries no cap can see any more; how many went."""
        # One statement: atomic on its own in the store's autocommit connection.
        return self.db.execute("DELETE FROM jf_sends WHERE at <= ?",
                               (now - self.keep,)).rowcount
