"""Per-customer state: plain slotted objects, no per-customer machine.

History is kept as aggregates sized by what the journey's expressions read:
a count only for events someone counts, a last time only for events someone
measures time since, sums, last values and ``within`` windows only where an
expression needs them. Containers that most customers never fill (bonuses,
goals, tags, pending sends...) start as one shared empty value and are
replaced, not mutated, when written: a hundred thousand customers then cost
tens, not hundreds, of megabytes.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, NamedTuple

__all__ = ["ACTIVE", "EMPTY_MAP", "FINAL", "NO_KEYS", "NO_TAGS", "PARKED", "Bonus", "Customer"]

ACTIVE, FINAL, PARKED = "active", "final", "parked"

# Shared empties: read-only, so a write that forgot to replace one fails loudly.
EMPTY_MAP: Any = MappingProxyType({})
NO_TAGS: tuple[str, ...] = ()
NO_KEYS: tuple[int, ...] = ()


class Bonus(NamedTuple):
    """A held bonus. Tuples of plain values are not tracked by the cyclic garbage
    collector, which matters with a hundred thousand customers alive."""

    value: str
    expires: float
    grant: int  # bumps on every grant, so old expiry timers find themselves stale


class Customer:
    """Everything the journey knows about one customer."""

    __slots__ = (
        "id", "stage", "status", "attrs", "tags", "bonuses", "goals", "history",
        "entered", "epoch", "life", "clock", "fired",
        "sends", "last_contact", "pending", "final_at", "created", "grants", "arms", "seen",
    )

    def __init__(self, cid: str, stage: int, attrs: dict[str, Any], now: float) -> None:
        self.id = cid
        self.stage = stage
        self.status = ACTIVE
        self.attrs = attrs
        self.tags: tuple[str, ...] = NO_TAGS  # small: a tuple is cheaper than a set
        self.bonuses: dict[str, Bonus] = EMPTY_MAP
        self.goals: dict[str, float] = EMPTY_MAP  # goal -> when reached
        # Every aggregate the journey reads, under keys from `history_key`: counts, last
        # times, sums, last values, and `within` windows as (times, payloads).
        self.history: dict[str, Any] = EMPTY_MAP
        self.entered = now
        self.epoch = 0  # bumps when the customer leaves a stage: stage timers go stale
        self.life = 0  # bumps on re-entry: `anywhere` timers go stale
        self.clock = now
        self.fired: tuple[int, ...] = NO_KEYS  # `when` rules without target already fired
        self.sends: dict[str, tuple[float, ...]] = EMPTY_MAP  # channel -> deliveries (caps)
        self.last_contact: float | None = None
        self.pending: tuple[dict[str, Any], ...] = ()  # deferred sends not yet delivered
        self.final_at: float | None = None
        self.created = now
        self.grants = 0
        self.arms: dict[str, int] = EMPTY_MAP  # split position -> arm taken (for reports)
        # Event ids seen at the customer's latest time: a redelivered event is older than
        # the clock (late) or has the clock's time and one of these ids (duplicate).
        self.seen: tuple[float, tuple[str, ...]] | None = None
