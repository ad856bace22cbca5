"""State stores behind one interface: in memory (default) or durable.

An engine calls its store around every step: :meth:`Store.before` makes the
customers and timers due up to a time ready, :meth:`Store.commit` makes what the
steps since the last commit did durable, deliveries included. The memory store
keeps everything in the engine; the durable ones live in :mod:`journeyflow.live`
(``sqlite:///state.db``, ``postgresql://...``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from journeyflow.errors import JourneyError
from journeyflow.live.outbox import MemoryOutbox, Outbox, OutboxExecutor

if TYPE_CHECKING:
    from journeyflow.runtime.engine import Engine
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
        self.outbox = MemoryOutbox()
        self.engine: Engine | None = None

    def attach(self, engine: Engine) -> dict[str, Any]:
        self.engine = engine
        return {}

    def before(self, at: float) -> None:
        return None

    def committed(self, key: str) -> bool:
        return False

    def commit(self, keys: Iterable[str] = ()) -> None:
        executor = self.engine.interpreter.executor if self.engine else None
        if isinstance(executor, OutboxExecutor) and executor.rows:
            self.outbox.add(executor.take())

    def customers(self) -> Iterator[Customer]:
        assert self.engine is not None
        found = self.engine.interpreter.customers
        return (found[cid] for cid in sorted(found))

    def count(self) -> int:
        return len(self.engine.interpreter.customers) if self.engine else 0

    def close(self) -> None:
        return None


def open_store(spec: Store | str | None) -> Store:
    """``None`` or ``memory://`` for memory, ``sqlite:///path.db`` for a file.

    A SQLite URL takes options after ``?``: ``wait=SECONDS`` (how long to wait for
    another process holding the file, default 10), ``cache=N`` (customers kept in
    memory, default 20000), ``synchronous=full`` (survive power loss, not only a
    crash of the process, at the price of one disk flush per commit).
    """
    if spec is None or spec == "memory://":
        return MemoryStore()
    if not isinstance(spec, str):
        return spec
    if spec.startswith("sqlite:///"):
        from journeyflow.live.sqlite import SQLiteStore

        return SQLiteStore.open(spec)
    if spec.startswith(("postgresql://", "postgres://")):
        from journeyflow.live.postgres import PostgresStore

        return PostgresStore.open(spec)
    raise JourneyError(f"unknown store '{spec}': use memory://, sqlite:///path/to/state.db "
                       "or postgresql://user@host/database")
