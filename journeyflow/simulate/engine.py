"""Simulate customers one at a time, each on its own random stream.

A customer's life from arrival to the horizon is a race between three clocks:

* behaviour events: a Poisson process whose rate is the sum of the current
  stage's and the ``anywhere`` rates. The waiting time is drawn afresh after
  every step, because a step may change the stage; memorylessness makes that
  exact;
* the journey's own timers (``Interpreter.next_due``);
* reactions: each delivered send (or offer) of a message with ``reacts to``
  has a chance to cause an event at a uniform time within its window.

The earliest wins; a timer wins a tie, as timers due at an event's time fire
before it (LANGUAGE.md 6.1). The customer stops at the horizon, or when it is
final or parked (then only its remaining timers, such as deferred deliveries,
run up to the horizon). Its trace is folded into the :class:`Tally` and
dropped, and the customer is removed, so memory stays flat.
"""

from __future__ import annotations

import bisect
import heapq
import math
from random import Random
from typing import Any

from journeyflow.runtime.interpreter import Interpreter
from journeyflow.runtime.state import ACTIVE, Customer
from journeyflow.runtime.trace import Trace
from journeyflow.simulate.plan import ArrivalLine, Plan
from journeyflow.simulate.tables import Tables, tables_for
from journeyflow.simulate.tally import Outcome, Tally

__all__ = ["PartitionRun", "customer_id", "customer_stream", "run_partition"]

INF = math.inf
SEED_SHIFT = 40  # customer numbers below 2**40 never share a stream


def customer_stream(seed: int, index: int) -> Random:
    """The random stream of customer ``index``: from (seed, index) only, never shared.

    >>> customer_stream(1, 5).random() == customer_stream(1, 5).random()
    True
    >>> customer_stream(1, 5).random() == customer_stream(1, 6).random()
    False
    """
    return Random((seed << SEED_SHIFT) + index)


def customer_id(index: int) -> str:
    """The id the journey sees (split arms hash it, so it must not depend on the run)."""
    return f"c{index}"


class PartitionRun:
    """Simulates the customers of one partition with one interpreter."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.tables: Tables = tables_for(plan)
        program = self.tables.program
        self.ip = Interpreter(program, Trace(enabled=False))
        self.horizon = plan.horizon
        self.tally = Tally(list(program.stage_names), plan.start, plan.days)

    def run(self, partition: int) -> Tally:
        for index in self.plan.members(partition):
            self.customer(index)
        tally, stats = self.tally, self.ip.stats
        for (what, bonus), n in sorted(stats.items()):
            tally.count_bonus("reminded" if what == "bonus_reminded" else "expired", bonus, n)
        tally.steps = self.ip.steps
        tally.close_partition()
        return tally

    def _line(self, index: int) -> ArrivalLine:
        for line in self.plan.lines:
            if index < line.first + line.count:
                return line
        raise IndexError(index)

    def customer(self, index: int) -> None:
        """Simulate customer ``index`` from its arrival to the horizon, then forget it."""
        plan, ip = self.plan, self.ip
        rng = customer_stream(plan.seed, index)
        line = self._line(index)
        # Stratified arrival times: exactly `count` customers spread evenly over the
        # window, each at a random point of its own slot.
        arrival = plan.start + line.window * (index - line.first + rng.random()) / line.count
        data = self.tables.arrivals[line.arrival](rng)
        cid = customer_id(index)
        self.tally.events[line.event] += 1
        c = ip.handle(cid, line.event, data, arrival)
        by_field = self.tables.by_field
        touch = data.get(by_field) if by_field is not None else None
        touch = self._live(c, rng, arrival, touch)
        if c.status is not ACTIVE:
            ip.advance(self.horizon)  # deferred sends and bonus expiry still happen
        self.tally.absorb(ip.records, c, self._outcome(c, arrival, touch))
        ip.records.clear()
        ip.timers.clear()
        del ip.customers[cid]

    def _outcome(self, c: Customer, arrival: float, touch: object) -> Outcome:
        program, now = self.tables.program, self.horizon
        value = program.value(c, {}, now) if program.value is not None else None
        segments = tuple(name for name, test in program.segment_tests.items()
                         if test(c, {}, now))
        attribute = self.tables.by_attribute
        group = c.attrs.get(attribute) if attribute is not None else touch
        by = None if self.plan.by is None else "(none)" if group is None else str(group)
        return Outcome(arrival, by, float(value) if isinstance(value, int | float) else 0.0,
                       segments)

    def _live(self, c: Customer, rng: Random, t: float, touch: object) -> object:
        """The race of behaviour, timers and reactions (module docstring); the hot loop.

        Returns the first-touch value of ``--by`` (``touch`` if already known).
        """
        ip, tally, horizon = self.ip, self.tally, self.horizon
        records, timers, drop_cancelled = ip.records, ip.timers, ip.drop_cancelled
        stages, reacts, by_field = self.tables.stages, self.tables.reactions, self.tables.by_field
        reaction_payloads = self.tables.reaction_payloads
        events, reactions = tally.events, tally.reactions
        pending: list[tuple[float, int, str]] = []
        scanned, seq = 0, 0  # from 0: the arrival step may already have sent something
        rand, log, bisect_right = rng.random, math.log, bisect.bisect_right
        while c.status is ACTIVE:
            # Every delivery stamps last_contact with the time of the step that made it,
            # so a step after which it is older delivered nothing: skip its records.
            if reacts and c.last_contact == t:
                seq = self._react(rng, scanned, pending, seq)
            scanned = len(records)
            rates = stages[c.stage]
            # Inlined expovariate: this line runs once per step of every customer.
            at = t - log(1.0 - rand()) / rates.total if rates.total else INF
            if pending and pending[0][0] < at:
                at = pending[0][0]
            # A cancelled timer changes nothing, so the draw above still stands.
            while timers and timers[0][0] <= at and drop_cancelled():
                pass
            if timers and timers[0][0] <= at:
                due = timers[0][0]
                if due > horizon:
                    break
                ip.advance(due)
                tally.timer_steps += 1
                t = due
                continue
            if at > horizon:
                break
            # The event that won the race: a due reaction, else a behaviour event.
            if pending and pending[0][0] == at:
                name = heapq.heappop(pending)[2]
                data = reaction_payloads[c.stage][name](rng)
                reactions[name] += 1
            else:
                k = bisect_right(rates.cumulative, rand() * rates.total)
                name, payload = rates.events[min(k, len(rates.events) - 1)]
                data = payload(rng)
            events[name] += 1
            if by_field is not None and touch is None:
                touch = data.get(by_field)
            ip.handle(c.id, name, data, at, None, c)
            t = at
        return touch

    def _react(self, rng: Random, start: int, pending: list[tuple[float, int, str]],
               seq: int) -> int:
        """Give each delivery since ``start`` its chances to cause reaction events."""
        reacts = self.tables.reactions
        records = self.ip.records
        for i in range(start, len(records)):
            at, _, kind, f = records[i]
            if kind != "action":
                continue
            chances = reacts.get(f.get("message", ""))
            if chances is None or f["action"] not in ("send", "offer"):
                continue
            assert at is not None
            for event, probability, within in chances:
                if rng.random() < probability:
                    seq += 1  # ties between reactions keep their causes' order
                    heapq.heappush(pending, (at + within * rng.random(), seq, event))
        return seq


def run_partition(plan: Plan, partition: int) -> Tally:
    """Simulate one partition of ``plan``: the unit of work of every backend."""
    return PartitionRun(plan).run(partition)
