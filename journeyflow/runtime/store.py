"""State stores behind one interface: in memory (default) or durable.

An engine calls its store around every step: :meth:`Store.before` makes the
customers and timers due up to a time ready, :meth:`Store.commit` makes what the
steps since the last commit did durable, deliveries included. The memory store
keeps everything in the engine; the durable ones live in :mod:`journeyflow.live`
(``sqlite:///state.db``, ``postgresql://...``).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from journeyflow.errors import JourneyError

if TYPE_CHECKING:
    from journeyflow.runtime.engine import Engine
    from journeyflow.runtime.outbox import MemoryOutbox, Outbox
    from journeyflow.runtime.state import Customer

__all__ = ["MemoryStore", "Store", "open_store"]


class Store(Protocol):
    @property
    def durable(self) -> bool:
        """Whether what it holds survives the process."""

    @property
    def outbox(self) -> Outbox:
        """Where committed deliveries wait for the delivery loop."""

    def attach(self, engine: Engine) -> dict[str, Any]:
        """Bind to ``engine``; return the counters saved by earlier runs."""

    def before(self, at: float) -> None:
        """Make the timers due up to ``at``, and their customers, ready to fire."""

    def committed(self, key: str) -> bool:
        """Whether an event with this key (its id, or a key of its line) is committed."""

    def commit(self, keys: Iterable[str] = ()) -> None:
        """Make every step since the last commit durable, with these event keys."""

    def customers(self) -> Iterator[Customer]:
        """Every customer of the journey, by id."""

    def count(self) -> int: ...

    def close(self) -> None: ...


class MemoryStore:
    """The default: state lives as long as the engine."""

    durable = False

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self._outbox: MemoryOutbox | None = None

    @property
    def outbox(self) -> MemoryOutbox:
        # Made on first use: an engine without channels never commits into it, and a
        # batch run should not import the outbox for nothing.
        if self._outbox is None:
            from journeyflow.runtime.outbox import MemoryOutbox

            self._outbox = MemoryOutbox()
        return self._outbox

    def attach(self, engine: Engine) -> dict[str, Any]:
        self.engine = engine
        return {}

    def before(self, at: float) -> None:
        return None

    def committed(self, key: str) -> bool:
        return False

    def commit(self, keys: Iterable[str] = ()) -> None:
        # Until the outbox module is loaded, no engine can have its executor.
        outbox = sys.modules.get("journeyflow.runtime.outbox")
        executor = self.engine.interpreter.executor if self.engine else None
        if outbox is not None and isinstance(executor, outbox.OutboxExecutor) and executor.rows:
            self.outbox.add(executor.take())

    def customers(self) -> Iterator[Customer]:
        assert self.engine is not None
        found = self.engine.interpreter.customers
        return (found[cid] for cid in sorted(found))

    def count(self) -> int:
        return len(self.engine.interpreter.customers) if self.engine else 0

    def close(self) -> None:
        return None


# Durable stores by URL prefix, as "module:class" with an ``open(url)`` class method.
# They live in the live runtime package, over the engine; naming them here rather than
# importing them keeps this module below it, and loads one only when a URL asks for it.
DURABLE_STORES: dict[str, str] = {
    "sqlite:///": "journeyflow.live.sqlite:SQLiteStore",
    "postgresql://": "journeyflow.live.postgres:PostgresStore",
    "postgres://": "journeyflow.live.postgres:PostgresStore",
}


def open_store(spec: Store | str | None) -> Store:
    """``None`` or ``memory://`` for memory, else a durable store's URL
    (``sqlite:///path.db``: docs/live.md lists the URLs and their options)."""
    if spec is None or spec == "memory://":
        return MemoryStore()
    if not isinstance(spec, str):
        return spec
    for prefix, target in DURABLE_STORES.items():
        if spec.startswith(prefix):
            module, _, name = target.partition(":")
            opened: Store = getattr(importlib.import_module(module), name).open(spec)
            return opened
    raise JourneyError(f"unknown store '{spec}': use memory://, sqlite:///path/to/state.db "
                       "or postgresql://user@host/database")
