"""Simulating stored customers: each resumes where the store has it and lives to the horizon.

A stored customer brings its whole state (stage and time of entry, attributes, tags,
bonuses, goals reached, split arms, history aggregates) and its pending timers. The
forecast starts at the store's "now": timers the store still holds that were due
before it fire first, at their own times, as the service would on its next step; then
the same race of behaviour, timers and reactions as for a new arrival
(:mod:`journeyflow.simulate.engine`) runs from now to the horizon. A customer already
final or parked takes no behaviour events; its remaining timers (deferred sends, bonus
expiry) still run.

What the report counts for a stored customer is what happens within the forecast: it
"arrives" at now in the stage it is in (so the funnel's reached column starts from the
stored stages), goals are those reached after now, and its value is what the journey's
``value`` gains between now and the horizon.
"""

from __future__ import annotations

import hashlib
import heapq
from dataclasses import dataclass
from random import Random
from typing import Any

from journeyflow.runtime.state import ACTIVE, Customer
from journeyflow.simulate.engine import EMPTY, PartitionRun
from journeyflow.simulate.plan import Plan
from journeyflow.simulate.tally import Tally

__all__ = ["ResumeRun", "Resumed", "stored_stream"]


@dataclass(frozen=True)
class Resumed:
    """A stored customer decoded for one journey's program, with its pending timers."""

    customer: Customer
    timers: tuple[tuple[Any, ...], ...]


def stored_stream(seed: int, cid: str, rng: Random | None = None) -> Random:
    """The random stream of stored customer ``cid``: from the seed and its id only.

    The id is turned into a stable number (BLAKE2b, not Python's per-process ``hash``),
    so the stream does not depend on the process, the partition or the order.

    >>> stored_stream(1, "ana").random() == stored_stream(1, "ana").random()
    True
    >>> stored_stream(1, "ana").random() == stored_stream(2, "ana").random()
    False
    """
    number = int.from_bytes(hashlib.blake2b(cid.encode(), digest_size=8).digest(), "big")
    key = (seed << 64) + number
    if rng is None:
        return Random(key)
    rng.seed(key)
    return rng


class ResumeRun(PartitionRun):
    """Simulates the stored customers of one partition with one interpreter."""

    def __init__(self, plan: Plan) -> None:
        super().__init__(plan)
        population = plan.population
        assert population is not None, "a resumed run needs a stored population"
        ip = self.ip
        # Timers, `unless` waits and deferred sends made by the forecast are numbered
        # after the store's own, so ties keep the store's order and marks compare right.
        ip.seq, ip.steps = population.seq, population.steps
        self.first_step = population.steps
        self.now = plan.start
        self.value = self.tables.program.value

    def run_stored(self, customers: list[Resumed]) -> Tally:
        for resumed in customers:
            self.resume(resumed)
        return self.close()

    def resume(self, stored: Resumed) -> None:
        """Simulate one stored customer from now to the horizon, then forget it."""
        ip, now, c = self.ip, self.now, stored.customer
        cid = c.id
        rng = stored_stream(self.plan.seed, cid, self.rng)
        ip.customers[cid] = c
        for timer in stored.timers:
            heapq.heappush(ip.timers, timer)
            if timer[1] > ip.seq:
                ip.seq = timer[1]
        self.deliveries.start(rng)
        before = self._value(c, now)
        # The stay in progress at the start: the funnel and occupancy count it from now.
        ip.records.append((now, cid, "enter", {"stage": self.tables.program.stage_names[c.stage]}))
        self.tally.timer_steps += self._overdue(now)
        touch = self._live(c, rng, now, None) if c.status is ACTIVE else None
        if c.status is not ACTIVE:
            ip.advance(self.horizon)  # deferred sends and bonus expiry still happen
        outcome = self._outcome(c, now, touch)
        outcome.value -= before
        self.tally.absorb(ip.records, c, outcome)
        ip.records.clear()
        ip.timers.clear()
        del ip.customers[cid]

    def _overdue(self, now: float) -> int:
        """Fire the stored timers due before now, in order; how many did something."""
        timers, fire = self.ip.timers, self.ip.fire_timer
        fired = 0
        while timers and timers[0][0] < now:
            fired += fire(heapq.heappop(timers))
        return fired

    def _value(self, c: Customer, now: float) -> float:
        value = self.value(c, EMPTY, now) if self.value is not None else None
        return float(value) if isinstance(value, int | float) else 0.0
