"""Aggregates of a simulation: what is left of each customer's trace.

A :class:`Tally` holds only counts, sums and histograms, so memory does not
grow with the number of customers. Tallies of partitions are merged in
partition order; every float is added in that same order whatever ran the
partitions, which keeps the report byte-identical across worker counts.

Times to reach a stage or goal are kept as histograms of whole hours since the
customer arrived: exact to merge, and the report's medians are to the hour.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from journeyflow.runtime.state import FINAL, PARKED, Customer
from journeyflow.runtime.trace import TraceRecord
from journeyflow.simulate.plan import DAY

__all__ = ["HOUR", "Outcome", "Tally", "UNREAD", "add_counts"]

HOUR = 3600.0
# Trace records the tally never reads, so a simulation's program leaves them out
# (``Program(untraced=...)``). Sends and offers are counted as they are delivered, by
# the simulation's executor (engine.Deliveries).
UNREAD = frozenset({"exit", "offer", "send", "set", "tag", "untag"})
K = TypeVar("K", int, str)


@dataclass
class Outcome:
    """What the engine knows of one customer besides its trace."""

    arrival: float
    group: str | None = None
    value: float = 0.0
    segments: tuple[str, ...] = ()


@dataclass
class Tally:
    """Counts of one partition, or of many merged (see the module docstring)."""

    stages: list[str]
    start: float
    days: int
    customers: int = 0
    reached: Counter[str] = field(default_factory=Counter)
    reach_hours: dict[str, Counter[int]] = field(default_factory=dict)
    at_end: Counter[str] = field(default_factory=Counter)
    occupancy: list[list[int]] = field(default_factory=list)  # per stage: day deltas
    transitions: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    delivered: Counter[str] = field(default_factory=Counter)
    suppressed: Counter[str] = field(default_factory=Counter)
    goals: Counter[str] = field(default_factory=Counter)
    goal_hours: dict[str, Counter[int]] = field(default_factory=dict)
    bonuses: dict[str, Counter[str]] = field(default_factory=dict)  # what -> bonus -> n
    parked: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    rejected: int = 0
    value: float = 0.0
    # Seconds customers spent in the journey, from arrival to a final stage or the
    # horizon: the exposure that messages per customer per week divide by.
    active_seconds: float = 0.0
    segments: Counter[str] = field(default_factory=Counter)
    segment_value: dict[str, float] = field(default_factory=dict)
    arms: Counter[tuple[str, int]] = field(default_factory=Counter)
    arm_value: dict[tuple[str, int], float] = field(default_factory=dict)
    arm_goals: Counter[tuple[str, int, str]] = field(default_factory=Counter)
    suppressed_reasons: Counter[str] = field(default_factory=Counter)
    # With a holdout: per cohort ("journey", "holdout"), each customer's (value, goals).
    cohorts: dict[str, list[tuple[float, tuple[str, ...]]]] = field(default_factory=dict)
    # (split, arm) -> the same rows per cohort, for each arm's uplift
    arm_cohorts: dict[tuple[str, int], dict[str, list[tuple[float, tuple[str, ...]]]]] = field(
        default_factory=dict)
    groups: Counter[str] = field(default_factory=Counter)
    group_reached: dict[str, Counter[str]] = field(default_factory=dict)
    events: Counter[str] = field(default_factory=Counter)  # behaviour events by type
    reactions: Counter[str] = field(default_factory=Counter)  # of them, caused by a send
    timer_steps: int = 0
    steps: int = 0  # events the interpreter processed, emitted and built-in ones included
    partitions: list[dict[str, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.occupancy:
            self.occupancy = [[0] * (self.days + 1) for _ in self.stages]
        self._index = {name: i for i, name in enumerate(self.stages)}
        # The per-customer path counts in plain dicts, added to the Counters above by
        # close_partition (see add_counts).
        self._reached: dict[str, int] = {}
        self._reach_hours: dict[str, dict[int, int]] = {}
        self._at_end: dict[str, int] = {}
        self._transitions: dict[tuple[str, str, str], int] = {}
        self._goals: dict[str, int] = {}
        self._goal_hours: dict[str, dict[int, int]] = {}

    # ---- one customer ----------------------------------------------------------------

    def absorb(self, records: list[TraceRecord], c: Customer, out: Outcome) -> None:
        """Fold one finished customer's trace and final state into the counts."""
        self.customers += 1
        arrival = out.arrival
        first, entered = self._walk(records, arrival)
        horizon = self.start + self.days * DAY
        until = entered if c.status is FINAL and entered is not None else horizon
        self.active_seconds += max(0.0, min(until, horizon) - arrival)
        reached, reach_hours = self._reached, self._reach_hours
        for stage, at in first.items():
            reached[stage] = reached.get(stage, 0) + 1
            hours = reach_hours.get(stage)
            if hours is None:
                hours = reach_hours[stage] = {}
            # -1 marks "at arrival" (the start stage), so its median is exactly 0.
            hour = -1 if at <= arrival else int((at - arrival) // HOUR)
            hours[hour] = hours.get(hour, 0) + 1
        at_end, stage = self._at_end, self.stages[c.stage]
        at_end[stage] = at_end.get(stage, 0) + 1
        if c.status is PARKED:
            self.parked += 1
        self.value += out.value
        for name in out.segments:
            self.segments[name] += 1
            self.segment_value[name] = self.segment_value.get(name, 0.0) + out.value
        arms = c.arms
        if arms:
            goals = c.goals
            for split, arm in arms.items():
                key = (split, arm)
                self.arms[key] += 1
                self.arm_value[key] = self.arm_value.get(key, 0.0) + out.value
                for goal in goals:
                    self.arm_goals[split, arm, goal] += 1
        if c._layout.holdout is not None:
            self._cohorts(c, out.value, arms)
        if out.group is not None:
            self.groups[out.group] += 1
            group = self.group_reached.get(out.group)
            if group is None:
                group = self.group_reached[out.group] = Counter()
            for stage in first:
                group[stage] += 1

    def _walk(self, records: list[TraceRecord],  # noqa: C901 - one branch per record kind
              arrival: float) -> tuple[dict[str, float], float | None]:
        """One pass over a customer's trace: the counters, the day-end occupancy of each
        stay; returns when each stage was first reached and when the last stay began.

        Kinds are tested most frequent first, and counters are bound to locals:
        this loop runs for every trace record of every simulated customer.
        """
        first: dict[str, float] = {}
        transitions, goals, goal_hours = self._transitions, self._goals, self._goal_hours
        occupancy, index, start, ceil = self.occupancy, self._index, self.start, math.ceil
        # The stay in progress: its stage, and the first day end it covers. A stay
        # [t0, t1) covers the day ends b with t0 <= b < t1 (day k ends at start+(k+1)*DAY).
        stay: str | None = None
        low = 0
        entered: float | None = None
        for at, _, kind, f in records:
            if kind == "action":
                action = f["action"]
                if action == "grant_bonus":
                    self.count_bonus("granted", f["bonus"])
                elif action == "redeem_bonus" and f.get("held", True):
                    self.count_bonus("redeemed", f["bonus"])
            elif kind == "enter":
                assert at is not None  # the interpreter stamps every record it writes
                stage = f["stage"]
                entered = at
                if stage not in first:
                    first[stage] = at
                end = ceil((at - start) / DAY) - 1
                if end < 0:
                    end = 0
                if stay is not None and end > low:
                    row = occupancy[index[stay]]
                    row[low] += 1
                    row[end] -= 1
                stay, low = stage, end
            elif kind == "transition":
                key = (f["from"], f["to"], f["rule"])
                transitions[key] = transitions.get(key, 0) + 1
            elif kind == "goal":
                assert at is not None
                goal = f["goal"]
                goals[goal] = goals.get(goal, 0) + 1
                seconds = at - arrival
                # -1 marks "at arrival", so a goal reached on arrival has median 0.
                hours = goal_hours.get(goal)
                if hours is None:
                    hours = goal_hours[goal] = {}
                hour = -1 if seconds <= 0 else int(seconds // HOUR)
                hours[hour] = hours.get(hour, 0) + 1
            elif kind == "suppressed":
                self.suppressed[f["message"]] += 1
                self.suppressed_reasons[f["reason"]] += 1
            elif kind == "error":
                self.errors[f["reason"]] += 1
            elif kind == "rejected":
                self.rejected += 1
        if stay is not None and self.days > low:  # the last stay lasts past the horizon
            row = occupancy[index[stay]]
            row[low] += 1
            row[self.days] -= 1
        return first, entered

    def _cohorts(self, c: Customer, value: float, arms: dict[str, int]) -> None:
        """The customer's row in its holdout cohort, overall and for each arm it took."""
        cohort = "holdout" if c._layout.held_out(c) else "journey"
        row = (value, c.goals)
        self.cohorts.setdefault(cohort, []).append(row)
        # Held-out customers take arms too: within an arm the cohorts differ only in the
        # arm's marketing, the arm's own uplift.
        for split, arm in arms.items():
            self.arm_cohorts.setdefault((split, arm), {}).setdefault(cohort, []).append(row)

    def count_bonus(self, what: str, bonus: str, n: int = 1) -> None:
        counts = self.bonuses.get(what)
        if counts is None:
            counts = self.bonuses[what] = Counter()
        counts[bonus] += n

    # ---- partitions ------------------------------------------------------------------

    def close_partition(self) -> None:
        """Add up the per-customer counts, and remember this partition's totals for
        bootstrap intervals in --compare."""
        add_counts((self._reached, self.reached), (self._at_end, self.at_end),
                   (self._goals, self.goals), (self._transitions, self.transitions))
        for nested, nested_into in ((self._reach_hours, self.reach_hours),
                                    (self._goal_hours, self.goal_hours)):
            _merge_nested(nested_into, nested)
            nested.clear()
        summary: dict[str, float] = {"customers": self.customers, "value": self.value,
                                     "delivered": sum(self.delivered.values()),
                                     "suppressed": sum(self.suppressed.values())}
        for stage in self.stages:
            summary[f"reached:{stage}"] = self.reached[stage]
            summary[f"at_end:{stage}"] = self.at_end[stage]
        for goal, n in self.goals.items():
            summary[f"goal:{goal}"] = n
        self.partitions = [summary]

    def merge(self, other: Tally) -> None:
        """Add ``other`` (the next partition) to this tally."""
        self.customers += other.customers
        for name in ("reached", "at_end", "transitions", "delivered", "suppressed", "goals",
                     "errors", "segments", "arms", "groups", "events", "reactions",
                     "arm_goals", "suppressed_reasons"):
            getattr(self, name).update(getattr(other, name))
        _merge_nested(self.reach_hours, other.reach_hours)
        _merge_nested(self.goal_hours, other.goal_hours)
        _merge_nested(self.bonuses, other.bonuses)
        _merge_nested(self.group_reached, other.group_reached)
        for row, add in zip(self.occupancy, other.occupancy, strict=True):
            for k, n in enumerate(add):
                if n:
                    row[k] += n
        self.parked += other.parked
        self.rejected += other.rejected
        self.timer_steps += other.timer_steps
        self.steps += other.steps
        self.value += other.value
        self.active_seconds += other.active_seconds
        for seg, v in other.segment_value.items():
            self.segment_value[seg] = self.segment_value.get(seg, 0.0) + v
        for arm, v in other.arm_value.items():
            self.arm_value[arm] = self.arm_value.get(arm, 0.0) + v
        for cohort, rows in other.cohorts.items():
            self.cohorts.setdefault(cohort, []).extend(rows)
        for key, cohorts in other.arm_cohorts.items():
            mine = self.arm_cohorts.setdefault(key, {})
            for cohort, rows in cohorts.items():
                mine.setdefault(cohort, []).extend(rows)
        self.partitions.extend(other.partitions)

    def occupancy_series(self) -> dict[str, list[int]]:
        """Customers in each stage at the end of each day (from the deltas)."""
        out = {}
        for stage, row in zip(self.stages, self.occupancy, strict=True):
            level, series = 0, []
            for n in row[: self.days]:
                level += n
                series.append(level)
            out[stage] = series
        return out


def add_counts(*pairs: tuple[dict[Any, int], Counter[Any]]) -> None:
    """Add each plain-dict count to its Counter and empty the dict.

    The hot path counts in plain dicts because a Counter's item update costs twice a
    dict's; the Counters take the sums once per partition.
    """
    for counts, into in pairs:
        into.update(counts)
        counts.clear()


def _merge_nested(into: dict[str, Counter[K]], more: Mapping[str, Mapping[K, int]]) -> None:
    for key, counts in more.items():
        mine = into.get(key)
        if mine is None:
            mine = into[key] = Counter()
        mine.update(counts)

