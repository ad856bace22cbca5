"""The customers an engine holds in memory: loaded from the store on first use.

The interpreter reads customers with ``customers.get(cid)`` and ``customers[cid]``;
this dict answers both from memory when it can and from the store when not, so a
store of a million customers needs only the ones being stepped in memory.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

from journeyflow.live.codec import timer_from_row
from journeyflow.runtime.state import Customer

__all__ = ["CustomerCache", "TimerRow", "push_timers"]


class CustomerCache(dict[str, Customer]):
    """A dict of customers that loads a missing one with ``load`` (None: no such customer)."""

    def __init__(self, load: Callable[[str], Customer | None], limit: int,
                 load_many: Callable[[list[str]], dict[str, Customer]] | None = None) -> None:
        super().__init__()
        self._load = load
        self._load_many = load_many
        self.limit = limit
        # Ids the store does not hold. Only this process writes the store, so an id stays
        # absent until the interpreter creates it here; cleared with every eviction.
        self.absent: set[str] = set()

    def get(self, cid: str, default: Any = None) -> Any:
        c = dict.get(self, cid)
        if c is None:
            if cid in self.absent:
                return default
            c = self._load(cid)
            if c is None:
                self.absent.add(cid)
                return default
            self[cid] = c
        return c

    def __missing__(self, cid: str) -> Customer:
        c = self.get(cid)
        if c is None:
            raise KeyError(cid)
        return c  # type: ignore[no-any-return]

    def preload(self, cids: list[str]) -> None:
        """Load the customers among ``cids`` not in memory, in few queries."""
        wanted = [cid for cid in dict.fromkeys(cids)
                  if cid not in self.absent and dict.get(self, cid) is None]
        if not wanted or self._load_many is None:
            return
        found = self._load_many(wanted)
        self.update(found)
        self.absent.update(cid for cid in wanted if cid not in found)

    def __contains__(self, cid: object) -> bool:
        return isinstance(cid, str) and self.get(cid) is not None

    def evict(self, keep: set[str] | frozenset[str] = frozenset()) -> None:
        """Drop the longest-held customers once over the limit (all are saved by then)."""
        self.absent.clear()
        if len(self) <= self.limit:
            return
        drop = len(self) - self.limit // 2
        for cid in list(self)[:drop]:
            if cid not in keep:
                del self[cid]


TimerRow = tuple[float, int, str, int, str]  # due, seq, customer, kind, payload


def push_timers(rows: list[TimerRow], customers: CustomerCache, heap: list[tuple[Any, ...]],
                loaded: set[int], dropped: set[int], chunk: int
                ) -> tuple[tuple[float, int] | None, float | None]:
    """Put a chunk of a store's timer rows, in (due, seq) order, on the interpreter's heap,
    their customers loaded in few queries. A timer whose customer or deferred send is
    gone is ``dropped`` (deleted at commit), the others are ``loaded``. Returns where the
    next chunk starts, and when it is due (None: this was the last chunk)."""
    customers.preload([row[2] for row in rows])
    for due, seq, cid, kind, payload in rows:
        c = customers.get(cid)
        timer = None if c is None else timer_from_row(due, seq, cid, kind, payload, c)
        if timer is None:
            dropped.add(seq)
            continue
        loaded.add(seq)
        heapq.heappush(heap, timer)
    if not rows:
        return None, None
    return (rows[-1][0], rows[-1][1]), (rows[-1][0] if len(rows) == chunk else None)
