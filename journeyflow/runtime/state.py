"""Per-customer state: plain slotted objects, no per-customer machine.

History is kept as aggregates sized by what the journey's expressions read
(counts and last times always; sums, last values and ``within`` windows only
where an expression needs them).
"""

from __future__ import annotations

from collections import deque
from typing import Any

__all__ = ["ACTIVE", "FINAL", "PARKED", "Bonus", "Customer"]

ACTIVE, FINAL, PARKED = "active", "final", "parked"


class Bonus:
    __slots__ = ("expires", "grant", "value")

    def __init__(self, value: str, expires: float, grant: int) -> None:
        self.value = value
        self.expires = expires
        self.grant = grant  # bumps on every grant, so old expiry timers find themselves stale


class Customer:
    """Everything the journey knows about one customer."""

    __slots__ = (
        "id", "stage", "status", "attrs", "tags", "bonuses", "goals", "counts", "last_at",
        "last_seq", "sums", "lasts", "windows", "entered", "epoch", "life", "clock", "fired",
        "sends", "last_contact", "pending", "final_at", "created", "grants", "arms", "seen",
    )

    def __init__(self, cid: str, stage: int, attrs: dict[str, Any], now: float) -> None:
        self.id = cid
        self.stage = stage
        self.status = ACTIVE
        self.attrs = attrs
        self.tags: set[str] = set()
        self.bonuses: dict[str, Bonus] = {}
        self.goals: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self.last_at: dict[str, float] = {}
        self.last_seq: dict[str, int] = {}
        self.sums: dict[str, float] = {}
        self.lasts: dict[str, Any] = {}
        self.windows: dict[str, deque[tuple[float, dict[str, Any]]]] = {}
        self.entered = now
        self.epoch = 0  # bumps when the customer leaves a stage: stage timers go stale
        self.life = 0  # bumps on re-entry: `anywhere` timers go stale
        self.clock = now
        self.fired: set[int] = set()  # `when` rules without target already fired this stay
        self.sends: dict[str, deque[float]] = {}
        self.last_contact: float | None = None
        self.pending: list[dict[str, Any]] = []
        self.final_at: float | None = None
        self.created = now
        self.grants = 0
        self.arms: dict[str, int] = {}  # split position -> arm taken (for reports)
        # Event ids seen at the customer's latest time: a redelivered event is older than
        # the clock (late) or has the clock's time and one of these ids (duplicate).
        self.seen: tuple[float, set[str]] = (now, set())
