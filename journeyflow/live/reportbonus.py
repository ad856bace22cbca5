"""What became of the bonuses of real customers, from their trace and their state.

The trace records grants and redemptions but not expiries and reminders, which
are timers of the interpreter. Both follow from what is recorded: a grant carries
its expiry, the journey says how long before it the reminder comes, and the
stored state says which bonuses are still held. A grant ends in exactly one way:
redeemed, renewed by a later grant while held, expired, or still held.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from journeyflow.model import journey as m
from journeyflow.runtime.trace import TraceRecord
from journeyflow.simulate.tally import Tally

__all__ = ["BonusWatch"]


class BonusWatch:
    """Counts expired and reminded bonuses into a :class:`Tally`, customer by customer."""

    def __init__(self, model: m.JourneyModel) -> None:
        self.remind = _remind_before(model)

    def count(self, records: Iterable[TraceRecord], held: Mapping[str, Any], clock: float,
              tally: Tally) -> None:
        """Fold one customer's grants and redemptions; ``held`` are the bonuses its stored
        state still holds, ``clock`` how far its timers have run."""
        live: dict[str, tuple[float, float | None]] = {}  # bonus -> (expires, reminder due)
        for at, _, kind, fields in records:
            if kind != "action" or at is None:
                continue
            action = fields.get("action")
            if action == "grant_bonus":
                name = fields["bonus"]
                grant = live.pop(name, None)
                if grant is not None:  # expired before this grant, or renewed by it
                    self._close(tally, name, grant, at, expired=at >= grant[0])
                expires = float(fields["expires"])
                before = self.remind.get(name)
                live[name] = (expires, None if before is None else expires - before)
            elif action == "redeem_bonus" and fields.get("held", True):
                grant = live.pop(fields["bonus"], None)
                if grant is not None:
                    self._close(tally, fields["bonus"], grant, at, expired=False)
        for name, grant in live.items():
            self._close(tally, name, grant, clock, expired=name not in held)

    @staticmethod
    def _close(tally: Tally, name: str, grant: tuple[float, float | None], until: float,
               expired: bool) -> None:
        expires, reminder = grant
        if expired:
            tally.count_bonus("expired", name)
            until = expires
        if reminder is not None and reminder <= until:
            tally.count_bonus("reminded", name)


def _remind_before(model: m.JourneyModel) -> dict[str, float]:
    """Seconds before expiry each bonus is reminded, when every grant of it agrees."""
    found: dict[str, set[float | None]] = {}
    for action in m.parts_of(model, m.GrantBonus):
        found.setdefault(action.bonus, set()).add(
            None if action.remind is None else action.remind.total_seconds())
    return {name: next(iter(before)) for name, before in found.items()  # type: ignore[misc]
            if len(before) == 1 and None not in before}
