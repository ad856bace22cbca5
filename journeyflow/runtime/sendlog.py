"""The deliveries that count toward frequency caps, per customer, shared by journeys.

A ``limit email to 2 per 7d`` protects a person from fatigue, whichever journey
writes to them. Engines of several journeys that share one :class:`SendLog` (a
service running them together does) read every counted delivery of a customer
before testing a cap, so the limit holds across them. A journey on its own needs
none: its customers' cap slots hold its own deliveries.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from journeyflow.runtime.delivery import DeliveryRules
    from journeyflow.runtime.state import Customer

__all__ = ["Send", "SendLog"]

Send = tuple[float, str]  # (when delivered, channel)


class SendLog:
    """Counted deliveries by customer, in time order, kept as long as a cap can see them.

    ``keep`` is the longest cap window of the journeys sharing the log, in seconds;
    older deliveries cannot matter to any cap and are dropped as the customer is read.
    A durable log reads a customer it does not hold from its table (:meth:`load`) and
    saves what :meth:`take` hands its store at commit.
    """

    def __init__(self, keep: float = 0.0) -> None:
        self.keep = keep
        self._sends: dict[str, list[Send]] = {}
        self._pending: defaultdict[str, list[tuple[str, float, str]]] = defaultdict(list)

    def load(self, cid: str) -> list[Send]:
        """The customer's counted deliveries held elsewhere (a table); none in memory."""
        return []

    def sends(self, cid: str, now: float) -> list[Send]:
        found = self._sends.get(cid)
        if found is None:
            found = self._sends[cid] = sorted(self.load(cid))
        cut = bisect_right(found, (now - self.keep, "\U0010ffff"))
        if cut:
            del found[:cut]
        return found

    def sync(self, rules: DeliveryRules, c: Customer, now: float) -> None:
        """Set the customer's cap slots of this journey from every journey's deliveries."""
        sends = self.sends(c.id, now)
        for key, slot in rules.slots.items():
            floor = now - rules.keep[key]
            setattr(c, slot, tuple(at for at, channel in sends
                                   if at > floor and (key == "any" or channel == key)))

    def add(self, journey: str, cid: str, channel: str, at: float) -> None:
        """A delivery that counts toward caps, made by ``journey``."""
        insort(self.sends(cid, at), (at, channel))
        self._pending[journey].append((cid, at, channel))

    def take(self, journey: str) -> list[tuple[str, float, str]]:
        """The deliveries ``journey`` made since its last commit, for its store to save."""
        return self._pending.pop(journey, [])

    def widen(self, keep: float) -> None:
        """Keep deliveries at least ``keep`` seconds (a journey with a longer cap joined)."""
        self.keep = max(self.keep, keep)

    def discard(self, journey: str) -> None:
        """A commit of ``journey`` failed: what it logged since its last commit is dropped,
        and so is every customer held, to be read again from what was committed."""
        self._pending.pop(journey, None)
        self.reset()

    def reset(self) -> None:
        """Forget every customer held, when :meth:`load` can read them back (another
        process may have logged deliveries to them since they were read)."""
        if type(self).load is not SendLog.load:
            self._sends.clear()

    def forget(self, cid: str) -> None:
        self._sends.pop(cid, None)
        for rows in self._pending.values():
            rows[:] = [row for row in rows if row[0] != cid]

    def evict(self, limit: int) -> None:
        """Drop held customers beyond ``limit`` when :meth:`load` can read them back."""
        if type(self).load is SendLog.load or len(self._sends) <= limit:
            return
        pending = {row[0] for rows in self._pending.values() for row in rows}
        for cid in list(self._sends)[:len(self._sends) - limit // 2]:
            if cid not in pending:
                del self._sends[cid]
