"""Scenario steps checked against the journey they test."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from journeyflow.compile.context import CompileContext
from journeyflow.compile.declarations import constant_value
from journeyflow.compile.typecheck import BAD_DATE_HINT, duration_value
from journeyflow.errors import Span, did_you_mean
from journeyflow.model.scenario import Expectation, FeedEvent, Scenario, ScenarioStep, Wait
from journeyflow.syntax import ast as a

__all__ = ["lower_scenarios"]


def lower_scenarios(ctx: CompileContext,
                    decls: tuple[a.ScenarioDecl, ...]) -> tuple[Scenario, ...]:
    messages, goals = set(ctx.names.messages), ctx.names.goals
    out = []
    for decl in decls:
        steps = tuple(_step(ctx, step, messages, goals) for step in decl.steps)
        out.append(Scenario(name=decl.name, steps=steps, location=ctx.location(decl.span)))
    return tuple(out)


def _step(ctx: CompileContext, step: a.Step, messages: set[str],
          goals: set[str]) -> ScenarioStep:
    if isinstance(step, a.StepWait):
        return Wait(duration=duration_value(ctx.sink, step.duration, allow_zero=True),
                    location=ctx.location(step.span))
    if isinstance(step, a.StepEvent):
        return _feed(ctx, step)
    return _expect(ctx, step, messages, goals)


def _feed(ctx: CompileContext, step: a.StepEvent) -> FeedEvent:
    event = step.event.name
    if event not in ctx.names.events:
        ctx.sink.error("JF202", f"unknown event '{event}'", step.event.span,
                       did_you_mean(event, ctx.names.events,
                                    f"declare it: event {event} {{ ... }}"))
    at = offset = None
    if isinstance(step.when, a.DateTimeLit):
        at = _datetime(ctx, step.when)
    else:
        offset = duration_value(ctx.sink, step.when, allow_zero=True)
    fields = ctx.names.events.get(event, {})
    data = _values(ctx, step.data, fields, event)
    attributes = _values(ctx, step.attributes, ctx.names.attributes, None)
    return FeedEvent(at=at, offset=offset, event=event, data=data, customer=step.customer,
                     attributes=attributes, location=ctx.location(step.span))


def _datetime(ctx: CompileContext, lit: a.DateTimeLit) -> datetime:
    try:
        value = datetime.fromisoformat(lit.text.replace("Z", "+00:00"))
    except ValueError:
        ctx.sink.error("JF413", f"'{lit.text}' is not a valid date", lit.span, BAD_DATE_HINT)
        return datetime(2000, 1, 1, tzinfo=UTC)
    if value.tzinfo is None:
        from zoneinfo import ZoneInfo

        value = value.replace(tzinfo=ZoneInfo(ctx.timezone))
    try:
        return value.astimezone(UTC)
    except OverflowError:
        ctx.sink.error("JF413", f"'{lit.text}' is out of range", lit.span,
                       "scenarios run between the years 1 and 9999")
        return datetime(2000, 1, 1, tzinfo=UTC)


def _values(ctx: CompileContext, kvs: tuple[a.KV, ...], known: dict[str, str],
            event: str | None) -> dict[str, Any]:
    """Plain values for an event's fields, or for customer attributes when ``event`` is None."""
    values: dict[str, Any] = {}
    scope = ctx.scope(None, "a scenario step has no event in scope")
    for kv in kvs:
        key = kv.key.name
        if key in known:
            pass
        elif event is None:
            ctx.sink.error("JF204", f"unknown customer attribute '{key}'", kv.key.span,
                           did_you_mean(key, known, "declare it in customer { ... }"))
        elif event in ctx.names.events:
            ctx.sink.error("JF205", f"event '{event}' has no field '{key}'", kv.key.span,
                           did_you_mean(key, known, f"'{event}' has the fields: "
                                        + (", ".join(known) or "none")))
        ok, value = constant_value(kv.expr)
        if not ok:
            ctx.sink.error("JF410", "a scenario gives plain values such as 80 or \"shoes\"",
                           kv.expr.span, "work the value out and write the result")
        elif key in known:
            ctx.types.expect(kv.expr, scope, known[key], f"'{key}'")
        values[key] = value
    return values


_UNKNOWN = {  # expectation kind -> code, message, hint when no name is close
    "stage": ("JF201", "unknown stage '{}'", "declare it: stage {} {{ ... }}"),
    "sent": ("JF203", "unknown message '{}'", "declare it: message {} via email {{ ... }}"),
    "goal": ("JF213", "unknown goal '{}'", "declare it: goal {} on EVENT"),
    "bonus": ("JF209", "no rule grants a bonus '{}'",
              "grant it in a rule: grant bonus {} 10% expires 30d"),
}


def _expect(ctx: CompileContext, step: a.Expect, messages: set[str],
            goals: set[str]) -> Expectation:
    location = ctx.location(step.span)
    if step.kind == "expr":
        assert step.expr is not None
        scope = ctx.scope(None, "an expectation has no event")
        condition = ctx.source_expr(step.expr, scope, condition=True, what="an expectation")
        return Expectation(kind="expr", condition=condition, location=location)
    known: dict[str, set[str] | dict[str, Any]] = {
        "stage": ctx.names.stages, "sent": messages, "goal": goals,
        "bonus": ctx.names.bonuses}
    names = known.get(step.kind)
    if names is not None and step.name is not None and step.name not in names:
        code, message, otherwise = _UNKNOWN[step.kind]
        end = step.span
        ctx.sink.error(code, message.format(step.name),
                       Span(end.end_line, end.end_col - len(step.name), end.end_line, end.end_col),
                       did_you_mean(step.name, names, otherwise.format(step.name)))
    return Expectation(kind=step.kind, negated=step.negated, name=step.name,
                       location=location)
