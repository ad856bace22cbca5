"""Per-customer state: plain slotted objects, no per-customer machine.

Attributes, history aggregates, cap logs and split arms live in slots of a
class made per journey (see ``layout``). History is kept as aggregates sized by
what the journey's expressions read: a count only for events someone counts, a
last time only for events someone measures time since, sums, last values and
``within`` windows only where an expression needs them. Tags and goals are bits
of one int. Containers that most customers never fill (bonuses, pending sends,
fired `when` rules) start as one shared empty value and are replaced, not
mutated, when written: a hundred thousand customers then cost tens, not
hundreds, of megabytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

if TYPE_CHECKING:
    from journeyflow.runtime.layout import CustomerLayout

__all__ = ["ACTIVE", "EMPTY_MAP", "FINAL", "NO_KEYS", "PARKED", "Bonus", "Customer"]

ACTIVE, FINAL, PARKED = "active", "final", "parked"

# Shared empties: read-only, so a write that forgot to replace one fails loudly.
EMPTY_MAP: Any = MappingProxyType({})
NO_KEYS: tuple[int, ...] = ()


class Bonus(NamedTuple):
    """A held bonus. Tuples of plain values are not tracked by the cyclic garbage
    collector, which matters with a hundred thousand customers alive."""

    value: float | str  # a number, or a percentage as text ("10%")
    expires: float
    grant: int  # bumps on every grant, so old expiry timers find themselves stale


class Customer:
    """Everything the journey knows about one customer."""

    __slots__ = (
        "id", "stage", "status", "tag_bits", "bonuses", "goal_bits",
        "entered", "epoch", "life", "clock", "fired",
        "last_contact", "pending", "final_at", "created", "grants", "seen",
        "spent", "spent_at",
    )
    _layout: ClassVar[CustomerLayout]  # set on the class made for each journey

    def __init__(self, cid: str, stage: int, now: float) -> None:
        self.id = cid
        self.stage = stage
        self.status = ACTIVE
        self.tag_bits = 0  # one bit per tag (see CustomerLayout.tags)
        self.bonuses: dict[str, Bonus] = EMPTY_MAP
        self.goal_bits = 0  # one bit per goal reached
        self.entered = now
        self.epoch = 0  # bumps when the customer leaves a stage: stage timers go stale
        self.life = 0  # bumps on re-entry: `anywhere` timers go stale
        self.clock = now
        self.fired: tuple[int, ...] = NO_KEYS  # `when` rules without target already fired
        self.last_contact: float | None = None
        self.pending: tuple[dict[str, Any], ...] = ()  # deferred sends not yet delivered
        self.final_at: float | None = None
        self.created = now
        self.grants = 0
        # Event ids seen at the customer's latest time: a redelivered event is older than
        # the clock (late) or has the clock's time and one of these ids (duplicate).
        self.seen: tuple[float, tuple[str, ...]] | None = None
        # Transitions and emits spent at instant `spent_at`: every step of one customer at
        # one instant shares the runaway guard, so no chain of steps loops within it.
        self.spent = 0
        self.spent_at = now

    @property
    def attrs(self) -> Mapping[str, Any]:
        """The customer's attributes by name (read-only: the journey's slots are the truth)."""
        return self._layout.attribute_view(self)

    @property
    def tags(self) -> tuple[str, ...]:
        return self._layout.tag_names(self.tag_bits)

    @property
    def goals(self) -> tuple[str, ...]:
        """The goals reached, in the journey's order."""
        return self._layout.goal_names(self.goal_bits)

    @property
    def arms(self) -> dict[str, int]:
        """Split position -> the arm this customer took."""
        return self._layout.get_arms(self)
