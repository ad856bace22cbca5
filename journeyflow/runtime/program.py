"""A compiled journey: rules resolved to integers and generated code, once per journey.

Walking the networkx graph per event costs 6-14x; instead every block becomes a
generated function (``codegen``), and every (event, stage) step, stage entry
and exit, settling and rule timer one more (``steps``), made on first use.
"""

from __future__ import annotations

from typing import Any

from journeyflow.model import journey as m
from journeyflow.model.scenario import Expectation, Scenario
from journeyflow.runtime.codegen import NO_BODY, Body, BodyCompiler
from journeyflow.runtime.delivery import DeliveryRules
from journeyflow.runtime.expressions import CompiledExpr, ExpressionCompiler, WaitGuard
from journeyflow.runtime.layout import CustomerLayout
from journeyflow.runtime.splits import holdout_test
from journeyflow.runtime.steps import StepCompiler
from journeyflow.runtime.timeutil import format_instant, parse_instant
from journeyflow.runtime.zones import CustomerZones

__all__ = ["CompiledRule", "CompiledStage", "Program"]



class CompiledRule:
    __slots__ = ("body", "duration", "event", "expr", "expr_source", "fields", "guard_source",
                 "id", "kind", "location", "stage", "target", "without", "without_slot",
                 "yearly")

    def __init__(self, rid: int, rule: m.Rule) -> None:
        self.id = rid
        self.kind = rule.trigger.kind
        self.event = rule.trigger.event
        self.location = str(rule.location)
        self.duration = rule.trigger.duration.total_seconds() if rule.trigger.duration else 0.0
        self.without = rule.trigger.without
        self.yearly = rule.trigger.yearly
        self.stage = rule.stage
        self.guard_source: str | None = None  # the guard's generated Python, for inlining
        self.expr: CompiledExpr | None = None  # an `at` rule's time
        self.expr_source: str | None = None  # a `when` condition's generated Python
        self.without_slot: str | None = None
        # The transition's trace record, shared by every firing; None for `anywhere` rules,
        # which leave whatever stage the customer is in.
        self.fields: dict[str, Any] | None = None
        self.target: int | None = None
        self.body: Body = NO_BODY


class CompiledStage:
    __slots__ = ("enter", "exit", "final", "index", "instant", "name", "on", "timers")

    def __init__(self, index: int, stage: m.Stage) -> None:
        self.index = index
        self.name = stage.name
        self.final = stage.final
        self.on: dict[str, tuple[CompiledRule, ...]] = {}
        self.enter: tuple[CompiledRule, ...] = ()
        self.exit: tuple[CompiledRule, ...] = ()
        self.timers: tuple[CompiledRule, ...] = ()
        self.instant: tuple[CompiledRule, ...] = ()


def history_events(expr: Any) -> frozenset[str] | None:
    """The events whose history alone decides ``expr``, or None if anything else may.

    ``count(purchased) >= 2`` can only change when a ``purchased`` is processed;
    a condition that reads attributes, tags, segments or the time can change at any step.

    >>> from journeyflow.syntax.parser import parse_journey
    >>> tree = parse_journey('journey "j" goal g when count(buy) >= 2 and sum(buy.n) > 9')
    >>> sorted(history_events(tree.decls[0].when))
    ['buy']
    """
    from journeyflow.syntax import expr as a

    events: set[str] = set()

    def walk(node: Any) -> bool:
        if isinstance(node, a.Number | a.Percent | a.Duration | a.StringLit | a.BoolLit
                      | a.NullLit | a.DateTimeLit):
            return True
        if isinstance(node, a.Binary):
            return walk(node.left) and walk(node.right)
        if isinstance(node, a.Unary):
            return walk(node.operand)
        if isinstance(node, a.Call) and node.func in ("count", "sum", "last"):
            target = node.args[0].expr
            if node.args[0].within is not None:
                return False  # a window also changes as time passes
            if isinstance(target, a.Name):
                events.add(target.name)
            elif isinstance(target, a.Path):
                events.add(target.owner)
            return True
        return False

    return frozenset(events) if walk(expr) else None


class Program:
    """Everything the interpreter needs, resolved to integers and closures."""

    def __init__(self, model: m.JourneyModel, scenarios: tuple[Scenario, ...] = (),
                 untraced: frozenset[str] = frozenset()) -> None:
        """``untraced`` names records a consumer never reads, to leave out of the trace:
        the kind ``exit`` and the actions ``send``, ``offer``, ``set``, ``tag`` and
        ``untag`` (a simulation counts deliveries through its executor and the rest from
        the trace; a run or a scenario needs every record).
        """
        self.model = model
        self.untraced = untraced
        self.name = model.name
        self.stage_names = list(model.stages)
        self.stage_index = {name: i for i, name in enumerate(self.stage_names)}
        self.start = self.stage_index[model.start_stage]
        self.defaults = {name: self._default(attr) for name, attr in model.attributes.items()}
        self.layout = CustomerLayout(self.defaults)
        if model.holdout is not None:
            self.layout.hold_out(holdout_test(model.name, model.holdout))
        for goal in model.goals:
            self.layout.goal_bit(goal)
        segments = {name: seg.condition.node for name, seg in model.segments.items()}
        self.exprs = ExpressionCompiler(
            segments, {k: v.type for k, v in model.attributes.items()}, model.timezone,
            self.layout)
        self.delivery = DeliveryRules(model.timezone, model.quiet_hours, model.send_window,
                                      model.limits)
        self.delivery.slots = {channel: self.layout.cap_slot(channel)
                               for channel in self.delivery.limits}
        # Each customer's zone; with no `timezone customer.ATTR`, everyone has the journey's.
        attribute = model.timezone_attribute
        self.zones = CustomerZones(
            model.timezone, self.layout.attribute(attribute) if attribute else None,
            self.delivery.schedule)
        self.exprs.zones = self.zones
        self.channels = {name: msg.channel for name, msg in model.messages.items()}
        self.date_attributes = {k for k, v in model.attributes.items()
                                if v.type in ("date", "datetime")}
        self.rules: list[CompiledRule] = []
        # (block, slot of the `unless` event's order, slot of its live `unless ... where` waits)
        self.delayed: list[tuple[Body, str | None, str | None]] = []
        self.wait_guards: dict[int, WaitGuard] = {}  # delayed id -> its `unless ... where`
        # The delivery of each send that quiet hours or the send window can defer.
        self.deliverers: list[Body] = []
        self.bodies = BodyCompiler(self)
        self.stages = [self._stage(i, stage) for i, stage in enumerate(model.stages.values())]
        any_rules = [self._rule(rule) for rule in model.anywhere]
        self.anywhere_on: dict[str, tuple[CompiledRule, ...]] = {}
        for rule in any_rules:
            if rule.kind == "on" and rule.event is not None:
                self.anywhere_on[rule.event] = (*self.anywhere_on.get(rule.event, ()), rule)
        self.anywhere_timers = tuple(r for r in any_rules if r.kind in ("after", "every", "at"))
        self.anywhere_instant = tuple(r for r in any_rules if r.kind == "when")
        # `goal ... when` conditions, with the only events that can make them true (or
        # None: any step can), so most events skip them.
        self.when_goals = [(g.name, self.exprs.condition(truth),
                            history_events(g.condition.node), truth)
                           for g in model.goals.values()
                           if g.event is None and g.condition is not None
                           for truth in (self.exprs.truth(g.condition.node),)]
        # Every goal in declaration order: (goal, "on" or "when", its event, its condition's
        # source, the only events that can make a `when` goal true or None).
        self.goal_order: list[tuple[str, str, str | None, str | None,
                                    frozenset[str] | None]] = []
        for g in model.goals.values():
            truth = self.exprs.truth(g.condition.node) if g.condition else None
            events = history_events(g.condition.node) if g.event is None and g.condition else None
            self.goal_order.append((g.name, "on" if g.event else "when", g.event, truth, events))
        self.value = self.exprs.compile(model.value.node) if model.value else None
        self.segment_tests = {name: self.exprs.compile_condition(seg.condition.node)
                              for name, seg in model.segments.items()}
        # Scenario expectations may read history the journey itself does not: compile them
        # now, so that history is kept.
        self.expectations = {
            str(step.location): self.exprs.compile_condition(step.condition.node)
            for scenario in scenarios for step in scenario.steps
            if isinstance(step, Expectation) and step.condition is not None}
        # `migrate { set ATTR = EXPR }`, evaluated when a store moves customers to this version.
        self.rewrites = [(r.attribute, self.exprs.compile(r.value.node))
                         for r in (model.migration.rewrites if model.migration else ())]
        self.needs = self.exprs.needs
        self.reentry = model.reentry
        self.event_defaults = {
            name: {f: self._default(attr) for f, attr in event.fields.items()
                   if attr.default is not None}
            for name, event in model.events.items()}
        # Every slot is handed out by now: build the customer class, then the steps.
        self.layout.build(self.name)
        self.steps = StepCompiler(self)

    def instant_rules(self, stage: int) -> tuple[CompiledRule, ...]:
        """`when` rules and pass-throughs to settle in ``stage`` (`anywhere` ones first)."""
        return self.anywhere_instant + self.stages[stage].instant

    def _default(self, attr: m.Attribute) -> Any:
        if attr.default is not None and attr.type in ("date", "datetime"):
            return parse_instant(str(attr.default), self.model.timezone)
        if isinstance(attr.default, list):
            return list(attr.default)
        return attr.default

    def _stage(self, index: int, stage: m.Stage) -> CompiledStage:
        compiled = CompiledStage(index, stage)
        rules = [self._rule(rule) for rule in stage.rules]
        for rule in rules:
            if rule.kind == "on" and rule.event is not None:
                compiled.on[rule.event] = (*compiled.on.get(rule.event, ()), rule)
        compiled.enter = tuple(r for r in rules if r.kind == "enter")
        compiled.exit = tuple(r for r in rules if r.kind == "exit")
        compiled.timers = tuple(r for r in rules if r.kind in ("after", "every", "at"))
        compiled.instant = tuple(r for r in rules if r.kind in ("when", "pass"))
        return compiled

    def _rule(self, rule: m.Rule) -> CompiledRule:
        compiled = CompiledRule(len(self.rules), rule)
        self.rules.append(compiled)
        if rule.guard is not None:
            compiled.guard_source = self.exprs.truth(rule.guard.node)
        expr = rule.trigger.expr
        if expr is not None:
            if rule.trigger.kind == "at":
                compiled.expr = self.exprs.compile(expr.node)
            else:
                compiled.expr_source = self.exprs.truth(expr.node)
        if rule.target is not None:
            compiled.target = self.stage_index[rule.target]
            if rule.stage is not None:
                compiled.fields = {"from": rule.stage, "to": rule.target,
                                   "rule": compiled.location}
        if rule.trigger.without is not None:
            self.exprs.needs.last_at.add(rule.trigger.without)
            compiled.without_slot = self.layout.history_slot("last_at", rule.trigger.without)
        compiled.body = self.bodies.compile(rule.body, str(rule.location))
        return compiled

    def register_delayed(self, body: Body, unless: str | None,
                         where: m.SourceExpr | None = None) -> int:
        """A delayed block's id. A plain ``unless`` compares the event's order with the
        wait's; one ``where`` its guard is checked as each such event arrives."""
        index = len(self.delayed)
        if unless is None:
            self.delayed.append((body, None, None))
        elif where is None:
            self.delayed.append((body, self.layout.history_slot("order", unless), None))
        else:
            self.wait_guards[index] = self.exprs.compile_wait_guard(where.node)
            self.delayed.append((body, None, self.layout.history_slot("waits", unless)))
        return index

    def describe_bonus(self, value: float | str, expires: float) -> dict[str, Any]:
        return {"value": value, "expires": format_instant(expires)}
