"""A stored population as plain data: what a forecast from a durable store hands to workers.

Everything here pickles cheaply and holds no connection: the parent process reads the
store (:mod:`journeyflow.simulate.storeread`) and ships each partition's rows, as the
store wrote them, to whichever process simulates it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["StoredPartition", "StoredPopulation", "StoredRow", "StoredTimer"]

StoredTimer = tuple[float, int, int, str]  # (due, seq, kind, payload) as jf_timers holds it


@dataclass(frozen=True)
class StoredRow:
    """One stored customer: its row of ``jf_customers`` and its pending timers."""

    id: str
    version: str
    state: str
    timers: tuple[StoredTimer, ...]


@dataclass(frozen=True)
class StoredPartition:
    """Customers ``number * size ..`` of the store in id order: one unit of work."""

    number: int
    rows: tuple[StoredRow, ...]


@dataclass(frozen=True)
class StoredPopulation:
    """What the forecast knows of the store before any customer is simulated.

    ``now`` is where the forecast starts (the latest customer clock, or ``--start``);
    ``seq`` and ``steps`` are the store's counters, so that timers, waits and deferred
    sends made during the forecast are numbered after the stored ones. The census
    (customers per stage, status and goal held) is the population at ``now``.
    """

    url: str
    journey: str
    version: str
    now: float
    latest: float  # the latest customer clock in the store
    customers: int
    seq: int
    steps: int
    stages: tuple[tuple[str, int], ...]
    statuses: tuple[tuple[str, int], ...]
    goals: tuple[tuple[str, int], ...]
    # The journey file of each version the store recorded, to move customers of another
    # version onto the forecast's file as a migration would (in memory only).
    sources: tuple[tuple[str, str], ...] = ()
    # Customers per version they are stored on (others than ``version`` are moved onto it).
    stored_versions: tuple[tuple[str, int], ...] = ()
