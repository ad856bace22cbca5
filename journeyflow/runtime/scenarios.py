"""Running a journey's scenarios (docs/language.md, Scenarios) on a simulated clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from journeyflow.journey import Journey
from journeyflow.model.scenario import Expectation, FeedEvent, Scenario, Wait
from journeyflow.runtime.clock import SimulatedClock
from journeyflow.runtime.engine import Engine
from journeyflow.runtime.state import Customer

__all__ = ["Failure", "ScenarioResult", "run_scenario", "run_scenarios"]

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
    engine = Engine(journey, clock=clock)
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
            failure = _check(engine, step, current, clock.now())
            if failure is not None:
                result.failures.append(failure)
    return result


def _check(engine: Engine, step: Expectation, cid: str, now: float) -> Failure | None:
    c = engine.interpreter.customers.get(cid)
    mine = [r for r in engine.trace if r["customer"] == cid]
    if c is None:
        return Failure(str(step.location), step.text, f"there is no customer '{cid}' yet", mine)
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
