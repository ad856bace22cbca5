"""The step semantics of docs/language.md: steps, precise rules, over every customer at once.

One global timer heap ordered by ``(due, seq)`` keeps the trace in time order
across customers. Timers are never removed when cancelled: each carries the
stage *epoch* (or bonus grant, or life) it was made for, and a stale one is
skipped when it comes due.
"""

from __future__ import annotations

import heapq
from collections import Counter, deque
from typing import TYPE_CHECKING, Any

from journeyflow.runtime.codegen import NO_BODY, Body
from journeyflow.runtime.executor import ActionExecutor
from journeyflow.runtime.program import CompiledRule, Program
from journeyflow.runtime.state import ACTIVE, FINAL, NO_KEYS, PARKED, Bonus, Customer
from journeyflow.runtime.timerkinds import (
    ANYWHERE,
    DELAYED,
    DELIVER,
    EXPIRE,
    MAX_TRANSITIONS,
    REMIND,
    RULE,
)
from journeyflow.runtime.timeutil import format_instant
from journeyflow.runtime.trace import Trace

if TYPE_CHECKING:
    from journeyflow.runtime.sendlog import SendLog

__all__ = ["Interpreter"]

COMPACT_MIN = 100_000
EMPTY: dict[str, Any] = {}


class Parked(Exception):
    """Unwinds a step whose customer has just been parked."""


class Interpreter:
    """Steps customers through one compiled journey."""

    def __init__(self, program: Program, trace: Trace | None = None,
                 executor: ActionExecutor | None = None) -> None:
        self.p = program
        self.trace = trace if trace is not None else Trace()
        self.records = self.trace.records
        self.executor = executor
        self.customers: dict[str, Customer] = {}
        # Heap of (due, seq, customer, kind, a, b, extra); cancelled ones stay until they
        # are due or a compaction drops them (when the heap has doubled since the last).
        self.timers: list[tuple[Any, ...]] = []
        self._compact_at = COMPACT_MIN
        self.seq = 0
        self.steps = 0
        self.used = 0
        self.reentered = False
        self.path: list[str] = []
        self.queue: deque[tuple[str, dict[str, Any]]] = deque()
        self.stats: Counter[tuple[str, str]] = Counter()
        # Customers changed since the store last saved; None when nothing is persisted.
        self.touched: set[str] | None = None
        # Counted deliveries shared with other journeys' engines, so caps hold across them.
        self.shared: SendLog | None = None
        self._instant = [program.instant_rules(i) for i in range(len(program.stages))]
        self._steps = program.steps
        self._table = program.steps.table
        self._enters = program.steps.enters
        self._exits = program.steps.exits
        self._timers = program.steps.timers
        self._settles = program.steps.settles
        self._layout = program.layout
        self._timer_goals = [(goal, cond) for goal, cond, events, _ in program.when_goals
                             if events is None]
        self._goal_bits = program.layout.goals
        self._goal_fields = {goal: {"goal": goal} for goal in program.layout.goals}

    # ---- entry points ----------------------------------------------------------

    def handle(self, cid: str, name: str, data: dict[str, Any], t: float,
               attributes: dict[str, Any] | None = None, c: Customer | None = None) -> Customer:
        """Process one validated event (timers due before ``t`` must already have fired).

        ``c`` is the customer when the caller has already looked it up. Every event runs
        through here, so the common case (an active customer, no attributes) is kept flat.
        """
        if c is None:
            c = self.customers.get(cid)
        if self.touched is not None:
            self.touched.add(cid)
        self.used = 0
        if self.path:
            self.path.clear()
        self.reentered = False
        try:
            if c is None or attributes or c.status is not ACTIVE:
                c = self._arrive(cid, c, t, attributes)
                if c.status is PARKED:
                    self._remember(c, name, data, t)
                    c.clock = max(c.clock, t)
                    return c
            try:
                step = self._table[name][c.stage]
            except KeyError:
                step = None
            if step is None:
                step = self._steps.step(name, c.stage)
            step(self, c, data, t)
            if self.queue:
                self._drain(c, t)
        except Parked:
            self.queue.clear()
            c = self.customers[cid]
        if self.used or c.spent:
            self._event_spent(c, t)
        if t > c.clock:
            c.clock = t
        return c

    def _event_spent(self, c: Customer, t: float) -> None:
        """An event starts the runaway count of its instant afresh: only the timers and
        delayed statements that come due at that instant add to it."""
        c.spent, c.spent_at = 0, t
        if self.used:
            self._spent_at_instant(c, t)

    def _arrive(self, cid: str, c: Customer | None, t: float,
                attributes: dict[str, Any] | None) -> Customer:
        """A new customer, new attributes, or one that is not active: before the step.

        A parked customer's events, and a final one's that does not start again, only
        count toward history: their ``attributes`` are ignored too.
        """
        if c is None:
            return self._create(cid, t, attributes or EMPTY)
        if c.status is FINAL:
            self._maybe_reenter(c, t, attributes)
        elif attributes and c.status is ACTIVE:
            self._layout.set_attributes(c, attributes)
        return c

    def advance(self, until: float) -> None:
        """Fire every timer due at or before ``until``, in (due, seq) order."""
        timers = self.timers
        while timers and timers[0][0] <= until:
            self.fire_timer(heapq.heappop(timers))

    # ---- creation and re-entry ---------------------------------------------------

    def _create(self, cid: str, t: float, attributes: dict[str, Any]) -> Customer:
        c = self._layout.new(cid, self.p.start, t)
        if attributes:
            self._layout.set_attributes(c, attributes)
        self.customers[cid] = c
        # The first step checks every goal: one decided by history alone may hold already.
        self.reentered = True
        self._start(c, t)
        return c

    def _start(self, c: Customer, t: float) -> None:
        self._schedule_anywhere(c, t)
        self._enter(c, t, EMPTY, self.p.start)
        self._settle(c, t)

    def _maybe_reenter(self, c: Customer, t: float, attributes: dict[str, Any] | None) -> None:
        reentry = self.p.reentry
        if reentry.mode == "never":
            return
        after = reentry.after
        if reentry.mode == "after" and after is not None and c.final_at is not None and (
                t < c.final_at + after.total_seconds()):
            return
        if attributes:
            self._layout.set_attributes(c, attributes)
        c.status = ACTIVE
        # History kept growing while the customer was final, unchecked by goals: this
        # step checks every `when` goal, not only those its event could change.
        self.reentered = True
        c.life += 1
        c.epoch += 1
        c.fired = NO_KEYS
        names = self.p.stage_names
        # exit, transition and enter, so time in the final stage can be read from the trace.
        self.records.append((t, c.id, "exit", {"stage": names[c.stage]}))
        self.records.append((t, c.id, "transition", {
            "from": names[c.stage], "to": names[self.p.start],
            "rule": str(reentry.location) if reentry.location else "reentry"}))
        self._start(c, t)

    def _remember(self, c: Customer, name: str, data: dict[str, Any], t: float) -> None:
        """Update event history only (a parked customer's events still count)."""
        self._steps.remember(name)(self, c, data, t)

    def _event_step(self, c: Customer, name: str, data: dict[str, Any], t: float) -> None:
        """One event for one customer (step 3): history, rules, `when`, goals.

        All of it is the generated function of this (event, stage) pair (see ``steps``);
        ``handle`` inlines the look-up, as every event passes there.
        """
        self._steps.step(name, c.stage)(self, c, data, t)

    def _drain(self, c: Customer, t: float) -> None:
        queue = self.queue
        while queue:
            name, data = queue.popleft()
            self._event_step(c, name, data, t)

    # ---- rules and transitions ------------------------------------------------------

    def move(self, c: Customer, t: float, e: dict[str, Any], target: int, location: str) -> None:
        """``-> STAGE`` inside a block: the actions before it have already run."""
        self._transition(c, t, e, target, location, NO_BODY)

    def _transition(self, c: Customer, t: float, e: dict[str, Any], target: int, location: str,
                    body: Body) -> None:
        """exit, the old stage's `on exit`, the rule's block, transition, enter (11.1).

        For a move whose stage is not known in advance (an `anywhere` rule, ``-> STAGE``
        in a block); a stage rule's transition is generated inline (``steps``).
        """
        if self.used >= MAX_TRANSITIONS:
            self._park(c, t)
        self.used += 1
        old = c.stage
        names = self.p.stage_names
        (self._exits[old] or self._steps.exit(old))(self, c, t, e)
        if body is not NO_BODY:
            body(self, c, t, e)
        self.records.append((t, c.id, "transition",
                             {"from": names[old], "to": names[target], "rule": location}))
        self.path.append(names[target])
        if c.fired:
            c.fired = tuple(key for key in c.fired if key < 0)  # `anywhere` keys stay
        (self._enters[target] or self._steps.enter(target))(self, c, t, e)

    def _spend(self, c: Customer, t: float) -> None:
        """Count one emitted event toward the runaway guard (precise rule 8)."""
        if self.used >= MAX_TRANSITIONS:
            self._park(c, t)
        self.used += 1

    def _spent_at_instant(self, c: Customer, t: float) -> None:
        """Add this step's transitions and emits to the customer's count for instant ``t``.

        An event and the timers and delayed statements that come due at its instant share
        the runaway guard (a statement due at once can chain steps that each move only
        once); the count is kept on the customer, and only by steps that spent any.
        """
        spent = self.used + (c.spent if c.spent_at == t else 0)
        c.spent, c.spent_at = spent, t
        if spent > MAX_TRANSITIONS and c.status is ACTIVE:
            try:
                self._park(c, t)
            except Parked:
                pass

    def _park(self, c: Customer, t: float) -> None:
        c.status = PARKED
        self.records.append((t, c.id, "error", {
            "reason": f"more than {MAX_TRANSITIONS} transitions and emitted events in one "
                      "step; the customer is parked",
            "stage": self.p.stage_names[c.stage], "path": self.path[:]}))
        raise Parked

    def _enter(self, c: Customer, t: float, e: dict[str, Any], target: int) -> None:
        """Enter ``target``: its timers start, then its `on enter` (generated per stage)."""
        (self._enters[target] or self._steps.enter(target))(self, c, t, e)

    def _settle(self, c: Customer, t: float) -> None:
        """Run-to-completion: `when` rules and pass-throughs until none fires (generated
        per stage, see ``steps``)."""
        if self._instant[c.stage]:
            (self._settles[c.stage] or self._steps.settle(c.stage))(self, c, t)

    def _when_goals_after_timer(self, c: Customer, t: float) -> None:
        """`goal ... when` checks at the end of a timer step (event steps check inline).

        A goal decided by event history alone cannot change in a timer step, which
        processes no event (emitted events are steps of their own): only the others.
        """
        for goal, cond in self._timer_goals:
            if not c.goal_bits & self._goal_bits[goal] and cond(c, EMPTY, t):
                self._reach(c, t, goal)

    def _reach(self, c: Customer, t: float, goal: str) -> None:
        c.goal_bits |= self._goal_bits[goal]
        self.records.append((t, c.id, "goal", self._goal_fields[goal]))

    # ---- timers -----------------------------------------------------------------------

    def _push(self, due: float, cid: str, kind: int, a: Any, b: Any, extra: Any = None) -> None:
        self.seq += 1
        heapq.heappush(self.timers, (due, self.seq, cid, kind, a, b, extra))
        if len(self.timers) > self._compact_at:
            self._compact()

    def _compact(self) -> None:
        """Drop cancelled timers, in place (callers hold the list); order is unchanged."""
        timers = self.timers
        timers[:] = [entry for entry in timers if not self._is_stale(entry)]
        heapq.heapify(timers)
        self._compact_at = max(COMPACT_MIN, 2 * len(timers))

    def _is_stale(self, entry: tuple[Any, ...]) -> bool:
        _, _, cid, kind, a, b, _ = entry
        c = self.customers.get(cid)
        return c is None or (kind != DELIVER and self._cancelled(c, kind, a, b))

    @staticmethod
    def _cancelled(c: Customer, kind: int, a: Any, b: Any) -> bool:
        """Whether a timer (other than a deferred send) no longer applies.

        A bonus timer belongs to one grant of its bonus; a stage timer or delayed
        statement to one stay (epoch); an `anywhere` timer to one life.
        """
        if kind == EXPIRE or kind == REMIND:
            bonus = c.bonuses.get(a)
            return bonus is None or bonus.grant != b
        return c.status is not ACTIVE or a != (c.life if kind == ANYWHERE else c.epoch)

    def _schedule_rule(self, c: Customer, t: float, e: dict[str, Any], rule: CompiledRule,
                       kind: int, life: int) -> None:
        if rule.kind == "at":
            assert rule.expr is not None
            due = rule.expr(c, e, t)
            if due is None:
                return
            if rule.yearly:
                due = self.p.zones.anniversary(c, due, t)  # the first at or after entry
            elif due <= t:
                return  # a time already reached does not fire, on entry nor on re-entry
        else:
            due = t + rule.duration
        self._push(due, c.id, kind, life, rule.id)

    def rearm_yearly(self, c: Customer, t: float, kind: int, life: int,
                     rule: CompiledRule) -> None:
        """`at EXPR every year` fired at ``t``: set the next anniversary (EXPR read anew)."""
        assert rule.expr is not None
        value = rule.expr(c, EMPTY, t)
        if value is not None:
            self._push(self.p.zones.anniversary(c, value, t + 1), c.id, kind, life, rule.id)

    def _schedule_anywhere(self, c: Customer, t: float) -> None:
        for rule in self.p.anywhere_timers:
            self._schedule_rule(c, t, EMPTY, rule, ANYWHERE, c.life)

    def fire_timer(self, entry: tuple[Any, ...]) -> bool:
        """Fire one timer taken off the heap; False when it had been cancelled.

        A cancelled timer only moves its customer's clock, so a caller stepping timer
        by timer (``simulate``) can treat it as if nothing happened.
        """
        due, _, cid, kind, a, b, extra = entry
        c = self.customers.get(cid)
        if c is None:
            return False
        if self.touched is not None:
            self.touched.add(cid)
        # _cancelled, with the commonest kind (a stage timer) tested inline.
        if (c.status is not ACTIVE or a != c.epoch) if kind == RULE else (
                kind != DELIVER and self._cancelled(c, kind, a, b)):
            if due > c.clock:
                c.clock = due
            return False
        self.used = 0
        if self.path:
            self.path.clear()
        try:
            if kind == RULE or kind == ANYWHERE:
                (self._timers[b] or self._steps.timer(b))(self, c, due, kind, a)
            elif kind == DELAYED:
                self._delayed_timer(c, due, a, b, extra)
            elif kind == EXPIRE or kind == REMIND:
                self._bonus_timer(c, due, kind, a, b)
            else:
                self._deliver_pending(c, due, a)
            if self.queue:
                self._drain(c, due)
        except Parked:
            self.queue.clear()
        self._timer_spent(c, due)
        return True

    def _timer_spent(self, c: Customer, due: float) -> None:
        if self.used:
            self._spent_at_instant(c, due)
        if due > c.clock:
            c.clock = due

    def _delayed_timer(self, c: Customer, t: float, epoch: int, delayed_id: int,
                       extra: tuple[Any, ...]) -> None:
        body, unless, waits = self.p.delayed[delayed_id]
        event, scheduled_at = extra[0], extra[1]
        if unless is not None and getattr(c, unless) > scheduled_at:
            return
        if waits is not None and not self._end_wait(c, waits, extra[2]):
            return  # a matching `unless` event cancelled it
        body(self, c, t, event)
        self._settle(c, t)
        self._when_goals_after_timer(c, t)

    def _bonus_timer(self, c: Customer, t: float, kind: int, name: str, grant: int) -> None:
        if kind == EXPIRE:
            held = c.bonuses
            c.bonuses = ({} if len(held) == 1 and name in held
                         else {k: v for k, v in held.items() if k != name})
            self.stats["bonus_expired", name] += 1
            self._event_step(c, "bonus_expired", {"bonus": name}, t)
        else:
            self.stats["bonus_reminded", name] += 1
            self._event_step(c, "bonus_expiring", {"bonus": name}, t)

    def schedule_delayed(self, c: Customer, due: float, delayed_id: int,
                         e: dict[str, Any]) -> None:
        self._push(due, c.id, DELAYED, c.epoch, delayed_id, (e, self.steps))

    def schedule_wait(self, c: Customer, due: float, delayed_id: int, e: dict[str, Any],
                      slot: str) -> None:
        """Delayed statements with ``unless EVENT where ...``: the customer keeps the wait
        (with the event that scheduled it) until it fires or a matching EVENT cancels it."""
        wait = self.seq + 1  # the timer's own sequence number: unique, and saved with it
        epoch = c.epoch  # waits of stays already left are dropped on the way
        setattr(c, slot, (*[w for w in getattr(c, slot) if w[3] == epoch],
                          (wait, delayed_id, e, epoch)))
        self._push(due, c.id, DELAYED, c.epoch, delayed_id, (e, self.steps, wait))

    def cancel_waits(self, c: Customer, waits: Any, e: dict[str, Any],
                     t: float) -> tuple[Any, ...]:
        """The waits still live after event ``e`` arrives: those of the current stay whose
        guard does not match it (``origin`` is the event that scheduled each)."""
        guards, epoch = self.p.wait_guards, c.epoch
        return tuple(w for w in waits if w[3] == epoch and not guards[w[1]](c, e, w[2], t))

    @staticmethod
    def _end_wait(c: Customer, slot: str, wait: int) -> bool:
        """Remove wait ``wait`` from the customer; False when it was cancelled already."""
        waits = getattr(c, slot)
        kept = tuple(w for w in waits if w[0] != wait)
        if len(kept) == len(waits):
            return False
        setattr(c, slot, kept)
        return True

    # ---- actions ------------------------------------------------------------------------

    def record(self, c: Customer, t: float, kind: str, fields: dict[str, Any]) -> None:
        self.records.append((t, c.id, kind, fields))

    def record_set(self, c: Customer, t: float, name: str, value: Any) -> None:
        if name in self.p.date_attributes and isinstance(value, float):
            value = format_instant(value)
        self.records.append((t, c.id, "action", {"action": "set", "attribute": name,
                                                 "value": value}))

    def defer(self, c: Customer, at: float, e: dict[str, Any], fields: dict[str, Any],
              deliverer: int) -> None:
        """Hold a send until ``at``; caps are checked when its deliverer runs then."""
        pending = {"message": fields["message"], "due": at, "deliverer": deliverer,
                   "event": e, "seq": self.seq + 1}
        c.pending = (*c.pending, pending)
        self._push(at, c.id, DELIVER, pending, None)

    def _deliver_pending(self, c: Customer, t: float, pending: dict[str, Any]) -> None:
        held = c.pending
        if len(held) == 1 and held[0] is pending:
            c.pending = ()
        else:
            c.pending = tuple([p for p in held if p is not pending])
        self.p.deliverers[pending["deliverer"]](self, c, t, pending["event"])

    def grant(self, c: Customer, t: float, name: str, value: str, expires: float,
              remind: float | None) -> None:
        grants = c.grants = c.grants + 1
        at = t + expires
        c.bonuses = {**c.bonuses, name: Bonus(value, at, grants)}
        self._push(at, c.id, EXPIRE, name, grants)
        if remind is not None:
            self._push(at - remind, c.id, REMIND, name, grants)
        self.records.append((t, c.id, "action", {"action": "grant_bonus", "bonus": name,
                                                 "value": value,
                                                 "expires": at}))

    def redeem(self, c: Customer, t: float, name: str, record: bool) -> None:
        held = name in c.bonuses
        if held:
            c.bonuses = {k: v for k, v in c.bonuses.items() if k != name}
        if held or record:
            fields: dict[str, Any] = {"action": "redeem_bonus", "bonus": name}
            if not held:
                fields["held"] = False
            self.records.append((t, c.id, "action", fields))

    def emit(self, c: Customer, t: float, name: str, data: dict[str, Any]) -> None:
        self._spend(c, t)
        full = dict(self.p.event_defaults.get(name, EMPTY))
        full.update(data)
        self.records.append((t, c.id, "action", {"action": "emit", "event": name,
                                                 "data": data}))
        self.queue.append((name, full))

    def notify(self, c: Customer, t: float, handler: str, data: dict[str, Any]) -> None:
        self.records.append((t, c.id, "action", {"action": "notify", "handler": handler,
                                                 "data": data}))
        if self.executor is not None:
            self.executor.notify(self.p, c, t, handler, data)
