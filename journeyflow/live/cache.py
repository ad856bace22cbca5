"""The customers an engine holds in memory: loaded from the store on first use.

The interpreter reads customers with ``customers.get(cid)`` and ``customers[cid]``;
this dict answers both from memory when it can and from the store when not, so a
store of a million customers needs only the ones being stepped in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from journeyflow.runtime.state import Customer

__all__ = ["CustomerCache"]


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

