"""What one simulation run is: the journey, its behaviour, the population and the horizon.

A :class:`Plan` is plain, picklable data. It is all a worker process (or a dask
worker on another machine) needs: it compiles the journey itself from the source
text, so nothing with closures ever crosses a process boundary.

Customers are numbered ``0 .. customers - 1``. The number decides everything
about a customer: its arrival line and time, its id and its random stream, so
any partition of the numbers can be simulated anywhere, in any order.

A forecast from a durable store (``--from-store``) has a ``population``: the stored
customers, in id order, simulated from the store's "now" (its start) in the first
partitions; with ``--with-arrivals`` the new arrivals follow in partitions of their own
(:mod:`journeyflow.simulate.fromstore`).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cached_property
from zoneinfo import ZoneInfo

from journeyflow.errors import JourneyError, did_you_mean
from journeyflow.journey import Journey
from journeyflow.model.behaviour import Behaviour
from journeyflow.simulate.stored import StoredPopulation

__all__ = ["ArrivalLine", "DAY", "PARTITION_SIZE", "Plan", "arrival_lines", "check_by",
           "make_plan"]

DAY = 86400.0
# Fixed, and independent of the number of workers: partitions are the unit
# of merging and of the bootstrap in --compare, so they must not move.
PARTITION_SIZE = 1000


@dataclass(frozen=True)
class ArrivalLine:
    """Customers ``first .. first + count - 1`` arrive with ``event`` over ``window`` s."""

    arrival: int  # index into Behaviour.arrivals
    event: str
    first: int
    count: int
    window: float


@dataclass(frozen=True)
class Plan:
    """One simulation run, as data (see the module docstring)."""

    source: str
    file: str
    behaviour: Behaviour
    start: float
    start_date: str
    days: int
    seed: int
    customers: int
    lines: tuple[ArrivalLine, ...]
    by: str | None = None
    partition_size: int = PARTITION_SIZE
    population: StoredPopulation | None = None  # set: the customers come from a store

    @cached_property
    def key(self) -> str:
        """What the compiled tables depend on, as a digest (for per-process caches)."""
        text = "\x1f".join((self.file, self.source, repr(self.behaviour),
                            self.by or ""))
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def horizon(self) -> float:
        return self.start + self.days * DAY

    @property
    def stored_partitions(self) -> int:
        """Partitions of stored customers; they come first, before any of new arrivals."""
        if self.population is None:
            return 0
        return -(-self.population.customers // self.partition_size)

    @property
    def arrivals(self) -> int:
        """How many new customers arrive (all of them, without a stored population)."""
        return self.customers - (self.population.customers if self.population else 0)

    @property
    def partitions(self) -> int:
        return self.stored_partitions + -(-self.arrivals // self.partition_size)

    def members(self, partition: int) -> range:
        """The arrival numbers of one partition (of new arrivals)."""
        low = (partition - self.stored_partitions) * self.partition_size
        return range(low, min(low + self.partition_size, self.arrivals))

    def for_journey(self, journey: Journey, behaviour: Behaviour) -> Plan:
        """The same run (population, seed, horizon) for another journey: for --compare."""
        return Plan(journey.source, journey.file, behaviour, self.start, self.start_date,
                    self.days, self.seed, self.customers, self.lines, self.by,
                    self.partition_size, self.population)


def _largest_remainder(weights: list[float], total: int) -> list[int]:
    """Integers proportional to ``weights`` that add up to ``total`` exactly.

    >>> _largest_remainder([1.0, 1.0, 1.0], 10)
    [4, 3, 3]
    """
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    counts = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (counts[i] - exact[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def arrival_lines(behaviour: Behaviour, days: int,
                  customers: int | None) -> tuple[ArrivalLine, ...]:
    """Arrival lines; ``for D`` longer than the horizon is cut to the horizon."""
    if not behaviour.arrivals:
        raise JourneyError("the behaviour model has no arrivals, so no customer would ever "
                           "start: add one, e.g. `arrivals signed_up 100 per day for 30d`")
    windows = [min(x.days if x.days is not None else days, days) * DAY
               for x in behaviour.arrivals]
    weights = [x.per_day * w / DAY for x, w in zip(behaviour.arrivals, windows, strict=True)]
    if sum(weights) <= 0:
        raise JourneyError("the arrivals of the behaviour model bring no customers in")
    counts = (_largest_remainder(weights, customers) if customers is not None
              else [round(w) for w in weights])
    lines, first = [], 0
    for i, (arrival, window, count) in enumerate(
            zip(behaviour.arrivals, windows, counts, strict=True)):
        if count:
            lines.append(ArrivalLine(i, arrival.event, first, count, window))
        first += count
    return tuple(lines)


def check_by(journey: Journey, by: str | None) -> None:
    if by is None:
        return
    model = journey.model
    fields = {f for event in model.events.values() for f in event.fields}
    if by not in model.attributes and by not in fields:
        hint = did_you_mean(by, [*model.attributes, *fields])
        raise JourneyError(f"--by {by}: the journey has no customer attribute or event field "
                           f"'{by}'" + (f"; {hint}" if hint else ""))


def make_plan(journey: Journey, behaviour: Behaviour, *, start: date, days: int, seed: int,
              customers: int | None = None, by: str | None = None) -> Plan:
    """The run of ``journey`` from local midnight of ``start`` for ``days`` days.

    ``customers`` rescales the arrival rates so that exactly that many arrive
    (docs/simulate.md); without it, the rates decide.

    >>> import journeyflow
    >>> j = journeyflow.loads('''journey "j"
    ... event come {}
    ... stage a start { on come -> b }
    ... stage b final
    ... simulate { arrivals come 10 per day for 3d }''')
    >>> plan = make_plan(j, j.behaviour, start=date(2026, 1, 1), days=30, seed=1)
    >>> plan.customers, plan.lines[0].window / DAY
    (30, 3.0)
    """
    if days < 1:
        raise JourneyError("--days must be at least 1")
    check_by(journey, by)
    lines = arrival_lines(behaviour, days, customers)
    total = sum(line.count for line in lines)
    if total == 0:
        raise JourneyError("no customer arrives within the horizon: raise the arrival rate, "
                           "--days or --customers")
    zone = ZoneInfo(journey.model.timezone)
    first = datetime.combine(start, time(), zone).timestamp()
    return Plan(journey.source, journey.file, behaviour, first, start.isoformat(), days, seed,
                total, lines, by)
