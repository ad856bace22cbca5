"""Running a journey's scenarios (docs/language.md, Scenarios) on a simulated clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from journeyflow.journey import Journey
from journeyflow.model import journey as m
from journeyflow.model.scenario import Expectation, FeedEvent, Scenario, Wait
from journeyflow.runtime.clock import SimulatedClock
from journeyflow.runtime.engine import Engine
from journeyflow.runtime.executor import Delivery
from journeyflow.runtime.state import Customer

__all__ = ["Failure", "ScenarioResult", "run_scenario", "run_scenarios", "split_titles"]

DEFAULT_CUSTOMER = "customer"
DEFAULT_START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Failure:
    location: str
    expectation: str
    actual: str
    trace: list[dict[str, Any]]


@dataclass
class ScenarioResult:
    scenario: Scenario
    failures: list[Failure] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failures and self.error is None


def run_scenarios(journey: Journey) -> list[ScenarioResult]:
    return [run_scenario(journey, s) for s in journey.scenarios]


def run_scenario(journey: Journey, scenario: Scenario) -> ScenarioResult:
    """Feed the scenario's events to fresh customers and check each expectation."""
    clock = SimulatedClock(DEFAULT_START)
    # Every delivery is kept, so `expect sent ... containing` reads what the customer got.
    deliveries: list[Delivery] = []
    engine = Engine(journey, clock=clock,
                    channels=dict.fromkeys(journey.model.channels, deliveries.append))
    result = ScenarioResult(scenario)
    current = DEFAULT_CUSTOMER
    for step in scenario.steps:
        if isinstance(step, FeedEvent):
            if step.at is not None:
                clock.set(step.at)
            elif step.offset is not None:
                clock.advance(step.offset.total_seconds())
            current = step.customer or DEFAULT_CUSTOMER
            outcome = engine.handle({"at": clock.now(), "customer": current,
                                     "event": step.event, "data": step.data,
                                     "attributes": step.attributes})
            if not outcome.accepted:
                result.error = f"{step.location}: the event was rejected: {outcome.reason}"
                return result
        elif isinstance(step, Wait):
            clock.advance(step.duration.total_seconds())
            engine.advance(clock.now())
        else:
            engine.advance(clock.now())
            failure = _check(engine, step, current, clock.now(), deliveries)
            if failure is not None:
                result.failures.append(failure)
    return result


def _check(engine: Engine, step: Expectation, cid: str, now: float,
           deliveries: list[Delivery]) -> Failure | None:
    c = engine.interpreter.customers.get(cid)
    mine = [r for r in engine.trace if r["customer"] == cid]
    if c is None:
        return Failure(str(step.location), step.text, f"there is no customer '{cid}' yet", mine)
    if step.kind in ("suppressed", "arm") or step.times is not None or step.containing:
        holds, actual = _evaluate_v2(engine, step, c, mine,
                                     [d for d in deliveries if d.customer == cid])
    else:
        holds, actual = _evaluate(engine, step, c, mine, now)
    if holds != step.negated:
        return None
    return Failure(str(step.location), step.text, actual, mine)


def _evaluate(engine: Engine, step: Expectation, c: Customer, mine: list[dict[str, Any]],
              now: float) -> tuple[bool, str]:
    p = engine.program
    kind, name = step.kind, step.name
    if kind == "stage":
        stage = p.stage_names[c.stage]
        return stage == name, f"the customer is in stage '{stage}' ({c.status})"
    if kind == "sent":
        sent = [r["message"] for r in mine if r["kind"] == "action" and r.get("message")]
        return name in sent, f"sent: {', '.join(sent) or 'nothing'}"
    if kind == "tagged":
        return name in c.tags, f"tags: {', '.join(sorted(c.tags)) or 'none'}"
    if kind == "goal":
        return name in c.goals, f"goals reached: {', '.join(c.goals) or 'none'}"
    if kind == "bonus":
        return name in c.bonuses, f"bonuses held: {', '.join(c.bonuses) or 'none'}"
    assert step.condition is not None
    test = p.expectations[str(step.location)]
    names = sorted({n for n in c.attrs if n in step.condition.source})
    shown = ", ".join(f"{n} = {c.attrs[n]!r}" for n in names)
    return bool(test(c, {}, now)), shown or "the condition is false"


def _evaluate_v2(engine: Engine, step: Expectation, c: Customer, mine: list[dict[str, Any]],
                 deliveries: list[Delivery]) -> tuple[bool, str]:
    """How often a message went out, what it said, why it was held back, which arm."""
    name = step.name
    if step.kind == "arm":
        return _arm(engine, step, c)
    if step.kind == "suppressed":
        held = [r for r in mine if r["kind"] == "suppressed"]
        shown = ", ".join(f"{r['message']} ({r['reason']})" for r in held)
        found = [r for r in held if r["message"] == name
                 and (step.reason is None or r["reason"] == step.reason)]
        return bool(found), f"suppressed: {shown or 'nothing'}"
    if step.times is not None:
        count = sum(1 for r in mine if r["kind"] == "action" and r.get("message") == name
                    and r.get("action") in ("send", "offer"))
        return count == step.times, f"'{name}' was sent {count} time{'s' * (count != 1)}"
    assert step.containing is not None
    texts = []
    for delivery in deliveries:
        if delivery.message == name:
            texts += [delivery.subject, delivery.body]
    said = " | ".join(repr(t) for t in texts if t)
    return (any(step.containing in t for t in texts),
            f"'{name}' read: {said}" if texts else f"'{name}' was not sent")


def _arm(engine: Engine, step: Expectation, c: Customer) -> tuple[bool, str]:
    assert step.split is not None
    titles = split_titles(engine.program.model).get(step.split, ())
    arm = c.arms.get(step.split)
    if arm is None:
        return False, f"the customer has not been through split '{step.split}'"
    taken = titles[arm] if arm < len(titles) else str(arm + 1)
    return taken == step.name, f"the customer took arm '{taken}'"


def split_titles(model: m.JourneyModel) -> dict[str, tuple[str, ...]]:
    """Split key -> its arms' labels (or 1-based positions, as text)."""
    out: dict[str, tuple[str, ...]] = {}

    def walk(body: tuple[m.Action, ...]) -> None:
        for action in body:
            if isinstance(action, m.Split):
                out[action.key] = tuple(str(arm.title(i)) for i, arm in enumerate(action.arms))
                for arm in action.arms:
                    walk(arm.body)
            elif isinstance(action, m.IfAction):
                walk(action.then)
                walk(action.orelse)
            elif isinstance(action, m.Delayed):
                walk(action.body)

    for rule in (*model.anywhere, *(r for st in model.stages.values() for r in st.rules)):
        walk(rule.body)
    return out
