"""The step semantics of LANGUAGE.md sections 6 and 11, over every customer at once.

One global timer heap ordered by ``(due, seq)`` keeps the trace in time order
across customers. Timers are never removed when cancelled: each carries the
stage *epoch* (or bonus grant, or life) it was made for, and a stale one is
skipped when it comes due.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections import Counter, deque
from typing import Any

from journeyflow.runtime.codegen import NO_BODY, Body
from journeyflow.runtime.executor import ActionExecutor
from journeyflow.runtime.expressions import CompiledExpr, history_key
from journeyflow.runtime.program import CompiledRule, Program
from journeyflow.runtime.state import ACTIVE, EMPTY_MAP, FINAL, NO_KEYS, PARKED, Bonus, Customer
from journeyflow.runtime.timeutil import format_instant
from journeyflow.runtime.trace import Trace

__all__ = ["Interpreter", "MAX_TRANSITIONS"]

MAX_TRANSITIONS = 100
COMPACT_MIN = 100_000
RULE, ANYWHERE, DELAYED, EXPIRE, REMIND, DELIVER = range(6)
EMPTY: dict[str, Any] = {}


# (count it, keep its last time, keep its order for `unless`, sums, last values, window)
# Keys into the customer's one history dict, each None when nothing reads it:
# (count key, last-time key, order key, sums [(key, field)], lasts [(key, field)],
#  window key, window length, whether the window keeps payloads)
HistoryPlan = tuple[str | None, str | None, str | None, list[tuple[str, str]],
                    list[tuple[str, str]], str | None, float, bool]


def _history_plans(program: Program) -> dict[str, HistoryPlan]:
    """Per event, the history the journey's expressions and timers read; nothing else."""
    needs = program.needs
    unless = {body_unless for _, body_unless in program.delayed if body_unless}
    events = (needs.counts | needs.last_at | {e for e, _ in needs.sums}
              | {e for e, _ in needs.lasts} | set(needs.windows) | unless)
    return {event: (
        history_key("count", event) if event in needs.counts else None,
        history_key("last_at", event) if event in needs.last_at else None,
        history_key("order", event) if event in unless else None,
        [(history_key("sum", event, f), f) for e, f in sorted(needs.sums) if e == event],
        [(history_key("last", event, f), f) for e, f in sorted(needs.lasts) if e == event],
        history_key("window", event) if event in needs.windows else None,
        needs.windows.get(event, 0.0), event in needs.window_fields)
        for event in events}


EventPlan = tuple[HistoryPlan | None, tuple[CompiledRule, ...],
                  tuple[tuple[str, CompiledExpr | None], ...]]


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
        self.now = 0.0
        self.reentered = False
        self.path: list[str] = []
        self.queue: deque[tuple[str, dict[str, Any]]] = deque()
        self.stats: Counter[tuple[str, str]] = Counter()
        # Customers changed since the store last saved; None when nothing is persisted.
        self.touched: set[str] | None = None
        names = program.stage_names
        self._enter_fields = [{"stage": n} for n in names]
        self._instant = [program.anywhere_instant + s.instant for s in program.stages]
        self._history = _history_plans(program)
        self._plans: dict[str, EventPlan] = {}
        self._when_goals = program.when_goals

    # ---- entry points ----------------------------------------------------------

    def handle(self, cid: str, name: str, data: dict[str, Any], t: float,
               attributes: dict[str, Any] | None = None, c: Customer | None = None) -> Customer:
        """Process one validated event (timers due before ``t`` must already have fired).

        ``c`` is the customer when the caller has already looked it up.
        """
        if c is None:
            c = self.customers.get(cid)
        if self.touched is not None:
            self.touched.add(cid)
        self.used = 0
        if self.path:
            self.path = []
        self.now = t
        if self.reentered:
            self.reentered = False
        try:
            if c is None:
                c = self._create(cid, t, attributes or EMPTY)
            else:
                if attributes:
                    c.attrs.update(attributes)
                if c.status is FINAL:
                    self._maybe_reenter(c, t)
            if c.status is PARKED:
                self._remember(c, name, data, t)
            else:
                self._event_step(c, name, data, t)
                if self.queue:
                    self._drain(c, t)
        except Parked:
            self.queue.clear()
            c = self.customers[cid]
        if t > c.clock:
            c.clock = t
        return c

    def advance(self, until: float) -> None:
        """Fire every timer due at or before ``until``, in (due, seq) order."""
        timers = self.timers
        while timers and timers[0][0] <= until:
            self._fire_timer(heapq.heappop(timers))

    def next_due(self) -> float | None:
        return self.timers[0][0] if self.timers else None

    # ---- creation and re-entry ---------------------------------------------------

    def _create(self, cid: str, t: float, attributes: dict[str, Any]) -> Customer:
        attrs = dict(self.p.defaults)
        attrs.update(attributes)
        c = Customer(cid, self.p.start, attrs, t)
        self.customers[cid] = c
        self._start(c, t)
        return c

    def _start(self, c: Customer, t: float) -> None:
        self._schedule_anywhere(c, t)
        self._enter(c, t, EMPTY, self.p.start)
        self._settle(c, t)

    def _maybe_reenter(self, c: Customer, t: float) -> None:
        mode = self.p.reentry.mode
        if mode == "never":
            return
        after = self.p.reentry.after
        if mode == "after" and after is not None and c.final_at is not None and (
                t < c.final_at + after.total_seconds()):
            return
        c.status = ACTIVE
        # History kept growing while the customer was final, unchecked by goals: this
        # step checks every `when` goal, not only those its event could change.
        self.reentered = True
        c.life += 1
        c.epoch += 1
        c.fired = NO_KEYS
        self._start(c, t)

    # ---- event steps --------------------------------------------------------------

    def _remember(self, c: Customer, name: str, data: dict[str, Any], t: float) -> None:
        """Update event history: done before rules run, so count() includes this event."""
        self.steps += 1
        plan = self._history.get(name)
        if plan is not None:
            self._remember_more(c, name, data, t, plan)

    def _remember_more(self, c: Customer, name: str, data: dict[str, Any], t: float,
                       plan: HistoryPlan) -> None:
        count, last, order, sums, lasts, window, span, keep_payload = plan
        history = c.history
        if history is EMPTY_MAP:
            history = c.history = {}
        if count is not None:
            history[count] = history.get(count, 0) + 1
        if last is not None:
            history[last] = t
        if order is not None:
            history[order] = self.steps
        for key, fld in sums:
            value = data.get(fld)
            if value is not None:
                history[key] = history.get(key, 0) + value
        for key, fld in lasts:
            history[key] = data.get(fld)
        if window is not None:
            times, payloads = history.get(window, ((), ()))
            old = bisect_right(times, t - span)
            # Payloads are kept only for `sum(... within)`; `count(... within)` needs times.
            kept = (*payloads[old:], data) if keep_payload else ()
            history[window] = ((*times[old:], t), kept)

    def _event_step(self, c: Customer, name: str, data: dict[str, Any],  # noqa: C901
                     t: float) -> None:
        """One event for one customer (LANGUAGE.md 6.3): history, rules, `when`, goals.

        Every event runs through here, so it is one flat function on purpose: each
        call it saves is worth more than the split would be.
        """
        self.steps += 1
        plan = self._plans.get(name)
        if plan is None:
            plan = self._plan(name)
        history, anywhere, goals = plan
        if history is not None:
            self._remember_more(c, name, data, t, history)
        if name == "bonus_redeemed":
            self.redeem(c, t, str(data.get("bonus")), record=False)
        if c.status is not ACTIVE:
            return
        moved = False
        for rule in anywhere:
            guard = rule.guard
            if guard is None or guard(c, data, t):
                if rule.target is None:
                    if rule.body(self, c, t, data):
                        moved = True
                        break
                else:
                    self._transition(c, t, data, rule.target, rule.location, rule.body)
                    moved = True
                    break
        if not moved:
            for rule in self.p.stages[c.stage].on.get(name, ()):
                guard = rule.guard
                if guard is None or guard(c, data, t):
                    if rule.target is None:
                        rule.body(self, c, t, data)
                    else:
                        self._transition(c, t, data, rule.target, rule.location, rule.body)
                    break
        if self._instant[c.stage]:
            self._settle(c, t)
        if goals:
            reached = c.goals
            for goal, cond in goals:
                if goal not in reached and (cond is None or cond(c, data, t)):
                    self._reach(c, t, goal)
                    reached = c.goals
        for goal, cond, events in self._when_goals:
            if (events is None or name in events or self.reentered) and (
                    goal not in c.goals and cond(c, EMPTY, t)):
                self._reach(c, t, goal)

    def _plan(self, name: str) -> EventPlan:
        """What an event of this name touches: history, `anywhere` rules, goals."""
        plan = (self._history.get(name), self.p.anywhere_on.get(name, ()),
                tuple(self.p.goals_by_event.get(name, ())))
        self._plans[name] = plan
        return plan

    def _drain(self, c: Customer, t: float) -> None:
        queue = self.queue
        while queue:
            name, data = queue.popleft()
            self._event_step(c, name, data, t)

    # ---- rules and transitions ------------------------------------------------------

    def _fire(self, c: Customer, rule: CompiledRule, t: float, e: dict[str, Any]) -> bool:
        """Run a matching rule; True when it moved the customer."""
        target = rule.target
        if target is None:
            return rule.body(self, c, t, e)
        self._transition(c, t, e, target, rule.location, rule.body)
        return True

    def move(self, c: Customer, t: float, e: dict[str, Any], target: int, location: str) -> None:
        """``-> STAGE`` inside a block: the actions before it have already run."""
        self._transition(c, t, e, target, location, NO_BODY)

    def _transition(self, c: Customer, t: float, e: dict[str, Any], target: int, location: str,
                    body: Body) -> None:
        """exit, the old stage's `on exit`, the rule's block, transition, enter (11.1)."""
        if self.used >= MAX_TRANSITIONS:
            self._park(c)
        self.used += 1
        old = c.stage
        names = self.p.stage_names
        records = self.records
        records.append((t, c.id, "exit", self._enter_fields[old]))
        for rule in self.p.stages[old].exit:
            guard = rule.guard
            if guard is None or guard(c, e, t):
                rule.body(self, c, t, e)
        c.epoch += 1  # the old stage's timers and delayed statements are now stale
        if body is not NO_BODY:
            body(self, c, t, e)
        records.append((t, c.id, "transition",
                        {"from": names[old], "to": names[target], "rule": location}))
        self.path.append(names[target])
        if c.fired:
            c.fired = tuple(key for key in c.fired if key < 0)  # `anywhere` keys stay
        self._enter(c, t, e, target)

    def _spend(self, c: Customer) -> None:
        """Count one emitted event toward the runaway guard (LANGUAGE.md 11.8)."""
        if self.used >= MAX_TRANSITIONS:
            self._park(c)
        self.used += 1

    def _park(self, c: Customer) -> None:
        c.status = PARKED
        self.records.append((self.now, c.id, "error", {
            "reason": f"more than {MAX_TRANSITIONS} transitions and emitted events in one "
                      "step; the customer is parked",
            "stage": self.p.stage_names[c.stage], "path": self.path[:]}))
        raise Parked

    def _enter(self, c: Customer, t: float, e: dict[str, Any], target: int) -> None:
        c.stage = target
        c.entered = t
        self.records.append((t, c.id, "enter", self._enter_fields[target]))
        stage = self.p.stages[target]
        if stage.final:
            c.status = FINAL
            c.final_at = t
            return
        if stage.timers:
            timers, epoch, cid = self.timers, c.epoch, c.id
            for rule in stage.timers:
                if rule.kind == "at":
                    self._schedule_rule(c, t, e, rule, RULE, epoch)
                else:
                    self.seq += 1
                    heapq.heappush(timers, (t + rule.duration, self.seq, cid, RULE, epoch,
                                            rule.id, None))
            if len(timers) > self._compact_at:
                self._compact()
        for rule in stage.enter:
            guard = rule.guard
            if (guard is None or guard(c, e, t)) and rule.body(self, c, t, e):
                return

    def _settle(self, c: Customer, t: float) -> None:
        """Run-to-completion: `when` rules and pass-throughs until none fires."""
        while c.status is ACTIVE:
            for rule in self._instant[c.stage]:
                if rule.kind == "pass":
                    self._fire(c, rule, t, EMPTY)
                    break
                key = rule.id if rule.stage is not None else -rule.id - 1
                if rule.target is None and key in c.fired:
                    continue
                expr, guard = rule.expr, rule.guard
                if (expr is None or expr(c, EMPTY, t)) and (guard is None or guard(c, EMPTY, t)):
                    if rule.target is None:
                        c.fired = (*c.fired, key)
                    self._fire(c, rule, t, EMPTY)
                    break
            else:
                return

    def _when_goals_after_timer(self, c: Customer, t: float) -> None:
        """`goal ... when` checks at the end of a timer step (event steps check inline)."""
        for goal, cond, _ in self._when_goals:
            if goal not in c.goals and cond(c, EMPTY, t):
                self._reach(c, t, goal)

    def _reach(self, c: Customer, t: float, goal: str) -> None:
        c.goals = {**c.goals, goal: t}
        self.records.append((t, c.id, "goal", {"goal": goal}))

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
        if c is None:
            return True
        if kind == DELIVER:
            return False
        if kind == EXPIRE or kind == REMIND:
            bonus = c.bonuses.get(a)
            return bonus is None or bonus.grant != b
        if c.status is not ACTIVE:
            return True
        return bool(a != (c.life if kind == ANYWHERE else c.epoch))

    def _schedule_rule(self, c: Customer, t: float, e: dict[str, Any], rule: CompiledRule,
                       kind: int, life: int) -> None:
        if rule.kind == "at":
            assert rule.expr is not None
            due = rule.expr(c, e, t)
            if due is None or due < t:
                return  # a past time does not fire
        else:
            due = t + rule.duration
        self._push(due, c.id, kind, life, rule.id)

    def _schedule_anywhere(self, c: Customer, t: float) -> None:
        for rule in self.p.anywhere_timers:
            self._schedule_rule(c, t, EMPTY, rule, ANYWHERE, c.life)

    def _fire_timer(self, entry: tuple[Any, ...]) -> None:
        due, _, cid, kind, a, b, extra = entry
        c = self.customers.get(cid)
        if c is None:
            return
        if self.touched is not None:
            self.touched.add(cid)
        self.used = 0
        self.path = []
        self.now = due
        try:
            if kind == RULE or kind == ANYWHERE:
                self._rule_timer(c, due, kind, a, b)
            elif kind == DELAYED:
                self._delayed_timer(c, due, a, b, extra)
            elif kind == EXPIRE or kind == REMIND:
                self._bonus_timer(c, due, kind, a, b)
            else:
                self._deliver_pending(c, due, a)
            self._drain(c, due)
        except Parked:
            self.queue.clear()
        if due > c.clock:
            c.clock = due

    def _rule_timer(self, c: Customer, t: float, kind: int, life: int, rule_id: int) -> None:
        if c.status is not ACTIVE or life != (c.epoch if kind == RULE else c.life):
            return
        rule = self.p.rules[rule_id]
        if rule.without is not None:
            last = c.history.get(history_key("last_at", rule.without))
            start = c.entered if kind == RULE else c.created
            due = max(start, last if last is not None else start) + rule.duration
            if due > t:
                self._push(due, c.id, kind, life, rule_id)
                return
        if rule.kind == "every":
            self._push(t + rule.duration, c.id, kind, life, rule_id)
        guard = rule.guard
        if guard is None or guard(c, EMPTY, t):
            self._fire(c, rule, t, EMPTY)
            self._settle(c, t)
        self._when_goals_after_timer(c, t)

    def _delayed_timer(self, c: Customer, t: float, epoch: int, delayed_id: int,
                       extra: tuple[dict[str, Any], int]) -> None:
        if c.status is not ACTIVE or epoch != c.epoch:
            return
        body, unless = self.p.delayed[delayed_id]
        event, scheduled_at = extra
        if unless is not None and c.history.get(history_key("order", unless), -1) > scheduled_at:
            return
        body(self, c, t, event)
        self._settle(c, t)
        self._when_goals_after_timer(c, t)

    def _bonus_timer(self, c: Customer, t: float, kind: int, name: str, grant: int) -> None:
        bonus = c.bonuses.get(name)
        if bonus is None or bonus.grant != grant:
            return
        if kind == EXPIRE:
            c.bonuses = {k: v for k, v in c.bonuses.items() if k != name}
            self.stats["bonus_expired", name] += 1
            self._event_step(c, "bonus_expired", {"bonus": name}, t)
        else:
            self.stats["bonus_reminded", name] += 1
            self._event_step(c, "bonus_expiring", {"bonus": name}, t)

    def schedule_delayed(self, c: Customer, due: float, delayed_id: int,
                         e: dict[str, Any]) -> None:
        self._push(due, c.id, DELAYED, c.epoch, delayed_id, (e, self.steps))

    # ---- actions ------------------------------------------------------------------------

    def record(self, c: Customer, t: float, kind: str, fields: dict[str, Any]) -> None:
        self.records.append((t, c.id, kind, fields))

    def record_set(self, c: Customer, t: float, name: str, value: Any) -> None:
        if name in self.p.date_attributes and isinstance(value, float):
            value = format_instant(value)
        self.records.append((t, c.id, "action", {"action": "set", "attribute": name,
                                                 "value": value}))

    def send(self, c: Customer, t: float, e: dict[str, Any], fields: dict[str, Any]) -> None:
        delivery = self.p.delivery
        at = delivery.next_allowed(t) if delivery.timed else t
        if at != t:
            pending = {"message": fields["message"], "due": at, "fields": fields, "event": e,
                       "seq": self.seq + 1}
            c.pending = (*c.pending, pending)
            self._push(at, c.id, DELIVER, pending, None)
            return
        self._deliver(c, t, fields, e)

    def _deliver_pending(self, c: Customer, t: float, pending: dict[str, Any]) -> None:
        c.pending = tuple(p for p in c.pending if p is not pending)
        self._deliver(c, t, pending["fields"], pending["event"])

    def _deliver(self, c: Customer, t: float, fields: dict[str, Any], e: dict[str, Any]) -> None:
        delivery = self.p.delivery
        channel = fields["channel"]
        if delivery.limits:
            if delivery.over_cap(c.sends, channel, t):
                self.records.append((t, c.id, "suppressed", {
                    "message": fields["message"], "channel": channel,
                    "reason": "frequency_cap"}))
                return
            if c.sends is EMPTY_MAP:
                c.sends = {}
            delivery.record(c.sends, channel, t)
        c.last_contact = t
        self.records.append((t, c.id, "action", fields))
        if self.executor is not None:
            self.executor.deliver(self.p, c, t, fields, e)

    def grant(self, c: Customer, t: float, name: str, value: str, expires: float,
              remind: float | None) -> None:
        c.grants += 1
        at = t + expires
        c.bonuses = {**c.bonuses, name: Bonus(value, at, c.grants)}
        self._push(at, c.id, EXPIRE, name, c.grants)
        if remind is not None:
            self._push(at - remind, c.id, REMIND, name, c.grants)
        self.records.append((t, c.id, "action", {"action": "grant_bonus", "bonus": name,
                                                 "value": value,
                                                 "expires": format_instant(at)}))

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
        self._spend(c)
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
