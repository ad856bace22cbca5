"""A durable store's timers: kept in its table, put on the interpreter's heap a chunk
ahead of the time they are due.

Timers loaded early wait in the heap until due; at commit the heap is emptied and the
table is the truth again, so loading ahead never fires anything early. The SQLite and
PostgreSQL stores share this; each says how to read the next chunk of its table
(:meth:`StoredTimers._timer_rows`) and when its next timer is due
(:meth:`StoredTimers._min_due`).
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

from journeyflow.live.cache import CustomerCache
from journeyflow.live.codec import timer_from_row

if TYPE_CHECKING:
    from journeyflow.runtime.engine import Engine

__all__ = ["StoredTimers", "TimerRow"]

TimerRow = tuple[float, int, str, int, str]  # due, seq, customer, kind, payload
CHUNK = 2000  # timers read at a time


class StoredTimers:
    """Loading a store's timers onto the heap in (due, seq) order, a chunk at a time."""

    engine: Engine | None

    def _init_timers(self) -> None:
        self._loaded: set[int] = set()  # timer seqs taken from the table since the last commit
        self._dropped: set[int] = set()  # timers whose customer or deferred send is gone
        self._cursor: tuple[float, int] = (float("-inf"), 0)  # the last timer loaded
        self._next_due: float | None = None

    def _timer_rows(self, due_after: float, seq_after: int, chunk: int) -> list[TimerRow]:
        """The next ``chunk`` timers after ``(due_after, seq_after)``, in that order."""
        raise NotImplementedError

    def _min_due(self) -> float | None:
        """When the store's earliest timer is due; None when it has none."""
        raise NotImplementedError

    def timers_due(self, at: float) -> bool:
        """Whether a stored timer is due at or before ``at`` (no query: kept at commit)."""
        return self._next_due is not None and self._next_due <= at

    def before(self, at: float) -> None:
        """Load the timers due up to ``at`` into the interpreter's heap, a chunk ahead."""
        while self._next_due is not None and at >= self._next_due:
            self._load_timers()

    def _load_timers(self, chunk: int = CHUNK) -> None:
        assert self.engine is not None
        ip = self.engine.interpreter
        customers = ip.customers
        assert isinstance(customers, CustomerCache)
        rows = self._timer_rows(*self._cursor, chunk)
        customers.preload([row[2] for row in rows])
        for due, seq, cid, kind, payload in rows:
            c = customers.get(cid)
            timer = None if c is None else timer_from_row(due, seq, cid, kind, payload, c)
            if timer is None:
                self._dropped.add(seq)  # deleted at commit
                continue
            self._loaded.add(seq)
            heapq.heappush(ip.timers, timer)
        if rows:
            self._cursor = (rows[-1][0], rows[-1][1])
        # The next chunk starts after the last one loaded; none left: nothing until commit.
        self._next_due = rows[-1][0] if len(rows) == chunk else None

    def _reset_timers(self) -> None:
        """After a commit (or dropping what was not committed): the table is the truth."""
        self._loaded.clear()
        self._dropped.clear()
        self._cursor = (float("-inf"), 0)
        self._next_due = self._min_due()
