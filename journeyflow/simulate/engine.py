"""Simulate customers one at a time, each on its own random stream.

A customer's life from arrival to the horizon is a race between three clocks:

* behaviour events: a Poisson process whose rate is the sum of the current
  stage's and the ``anywhere`` rates. The next one is drawn when the stage
  changes or the drawn event happens; across other steps (timers, reactions)
  the draw stands, which memorylessness makes exact;
* the journey's own timers (``Interpreter.fire_timer``, one at a time);
* reactions: each delivered send (or offer) of a message with ``reacts to``
  has a chance to cause an event at a uniform time within its window.

The earliest wins; a timer wins a tie, as timers due at an event's time fire
before it (step 1). The customer stops at the horizon, or when it is
final or parked (then only its remaining timers, such as deferred deliveries,
run up to the horizon). Its trace is folded into the :class:`Tally` and
dropped, and the customer is removed, so memory stays flat.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Mapping
from random import Random
from typing import Any

from journeyflow.runtime.interpreter import Interpreter
from journeyflow.runtime.program import Program
from journeyflow.runtime.state import ACTIVE, Customer
from journeyflow.runtime.trace import Trace
from journeyflow.simulate.plan import ArrivalLine, Plan
from journeyflow.simulate.tables import Tables, tables_for
from journeyflow.simulate.tally import Outcome, Tally, add_counts

__all__ = ["PartitionRun", "customer_id", "customer_stream", "run_partition"]

INF = math.inf
EMPTY: dict[str, Any] = {}  # the event of a check made outside any event
SEED_SHIFT = 40  # customer numbers below 2**40 never share a stream


def customer_stream(seed: int, index: int, rng: Random | None = None) -> Random:
    """The random stream of customer ``index``: from (seed, index) only, never shared.

    Given ``rng``, reseeds and returns it rather than making a generator: the same
    stream, without a new generator's 2.5 KB of state for every customer.

    >>> customer_stream(1, 5).random() == customer_stream(1, 5).random()
    True
    >>> customer_stream(1, 5).random() == customer_stream(1, 6).random()
    False
    >>> reused = customer_stream(1, 6)
    >>> customer_stream(1, 5, reused).random() == customer_stream(1, 5).random()
    True
    """
    key = (seed << SEED_SHIFT) + index
    if rng is None:
        return Random(key)
    rng.seed(key)
    return rng


def customer_id(index: int) -> str:
    """The id the journey sees (split arms hash it, so it must not depend on the run)."""
    return f"c{index}"


class PartitionRun:
    """Simulates the customers of one partition with one interpreter."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.tables: Tables = tables_for(plan)
        program = self.tables.program
        self.horizon = plan.horizon
        self.tally = Tally(list(program.stage_names), plan.start, plan.days)
        # Counted in plain dicts, added to the tally once per partition (tally.add_counts).
        self.events: dict[str, int] = {}  # behaviour events by type
        self.reactions: dict[str, int] = {}  # of them, caused by a send
        self.deliveries = Deliveries(self.tables.reactions)
        self.ip = Interpreter(program, Trace(enabled=False), self.deliveries)
        # Per stage: total rate, cumulative rates and the events they choose between, the
        # last one repeated: a draw that rounds up to the total still finds an event.
        self._races = [(rates.total, rates.cumulative, (*rates.events, *rates.events[-1:]))
                       for rates in self.tables.stages]
        self.rng = Random(0)  # reseeded for each customer
        self.first_step = 0  # a run resumed from a store counts on from the store's steps

    def run(self, partition: int) -> Tally:
        for index in self.plan.members(partition):
            self.customer(index)
        return self.close()

    def close(self) -> Tally:
        """The partition's tally, once all its customers are simulated."""
        tally, stats = self.tally, self.ip.stats
        add_counts((self.events, tally.events), (self.reactions, tally.reactions),
                   (self.deliveries.delivered, tally.delivered))
        for (what, bonus), n in sorted(stats.items()):
            tally.count_bonus("reminded" if what == "bonus_reminded" else "expired", bonus, n)
        tally.steps = self.ip.steps - self.first_step
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
        rng = customer_stream(plan.seed, index, self.rng)
        line = self._line(index)
        # Stratified arrival times: exactly `count` customers spread evenly over the
        # window, each at a random point of its own slot.
        arrival = plan.start + line.window * (index - line.first + rng.random()) / line.count
        data = self.tables.arrivals[line.arrival](rng)
        cid = customer_id(index)
        self.deliveries.start(rng)
        self.events[line.event] = self.events.get(line.event, 0) + 1
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
        value = program.value(c, EMPTY, now) if program.value is not None else None
        segments = tuple([name for name, test in program.segment_tests.items()
                          if test(c, EMPTY, now)])
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
        timers, fire, handle = ip.timers, ip.fire_timer, ip.handle
        pending = self.deliveries.pending
        races, by_field = self._races, self.tables.by_field
        reaction_payloads = self.tables.reaction_payloads
        events, reactions = self.events, self.reactions
        timer_steps = 0
        rand, log, bisect_right, heappop = rng.random, math.log, bisect.bisect_right, heapq.heappop
        cid = c.id
        drawn = -1  # the stage whose rates drew `behaviour`, the next behaviour event
        behaviour = total = INF
        cumulative: tuple[float, ...] = ()
        choices: tuple[tuple[str, Any], ...] = ()
        while c.status is ACTIVE:
            if c.stage != drawn:
                drawn = c.stage
                total, cumulative, choices = races[drawn]
                # Inlined expovariate: this line runs once per behaviour event.
                behaviour = t - log(1.0 - rand()) / total if total else INF
            at = behaviour
            if pending and pending[0][0] < at:
                at = pending[0][0]
            # Timers due by then go first, one step each; a cancelled one changes
            # nothing, so the draw above still stands.
            acted = False
            while timers and timers[0][0] <= at:
                due = timers[0][0]
                if due > horizon:
                    break
                if fire(heappop(timers)):
                    acted = True
                    break
            if acted:
                timer_steps += 1
                t = due
                continue
            if at > horizon:
                break
            # The event that won the race: a due reaction, else a behaviour event.
            if pending and pending[0][0] == at:
                name = heappop(pending)[2]
                data = reaction_payloads[c.stage][name](rng)
                reactions[name] = reactions.get(name, 0) + 1
            else:
                name, payload = choices[bisect_right(cumulative, rand() * total)]
                data = payload(rng)
                drawn = -1  # this draw is spent
            events[name] = events.get(name, 0) + 1
            if by_field is not None and touch is None:
                touch = data.get(by_field)
            handle(cid, name, data, at, None, c)
            t = at
        tally.timer_steps += timer_steps
        return touch


class Deliveries:
    """The interpreter's executor during a simulation: counts every delivered send (or
    offer) by message, and gives each delivery of a message with ``reacts to`` its
    chances to cause an event (docs/simulate.md).

    Counting here, as deliveries happen, is why a simulation's program leaves the
    send records out of the trace (tally.UNREAD). Deliveries arrive in trace order, so
    ties between reactions keep their causes' order; ``rng`` and ``pending`` are the
    current customer's.
    """

    def __init__(self, chances: dict[str, tuple[tuple[str, float, float], ...]]) -> None:
        self.chances = chances
        self.delivered: dict[str, int] = {}  # by message
        self.rng = Random(0)
        self.pending: list[tuple[float, int, str]] = []
        self.seq = 0

    def start(self, rng: Random) -> None:
        """A new customer: its stream, and an empty list of pending reactions."""
        self.rng, self.pending, self.seq = rng, [], 0

    def deliver(self, program: Program, c: Customer, t: float, fields: Mapping[str, Any],
                event: Mapping[str, Any]) -> None:
        message = fields["message"]
        delivered = self.delivered
        delivered[message] = delivered.get(message, 0) + 1
        chances = self.chances.get(message)
        if chances is None:
            return
        rand = self.rng.random
        for name, probability, within in chances:
            if rand() < probability:
                self.seq += 1
                heapq.heappush(self.pending, (t + within * rand(), self.seq, name))

    def notify(self, program: Program, c: Customer, t: float, handler: str,
               data: Mapping[str, Any]) -> None:
        return None


def run_partition(plan: Plan, partition: int) -> Tally:
    """Simulate one partition of ``plan``: the unit of work of every backend."""
    return PartitionRun(plan).run(partition)
