"""Scenario steps checked against the journey they test."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from journeyflow.compile.context import CompileContext
from journeyflow.compile.declarations import constant_value
from journeyflow.compile.typecheck import BAD_DATE_HINT, duration_value
from journeyflow.errors import Span, did_you_mean
from journeyflow.model.journey import Location
from journeyflow.model.scenario import (
    Expectation,
    ExpectationKind,
    FeedEvent,
    Scenario,
    ScenarioStep,
    Wait,
)
from journeyflow.syntax import ast as a

__all__ = ["SUPPRESSION_REASONS", "lower_scenarios"]

# Why a send can be suppressed (the `reason` of a `suppressed` trace record).
SUPPRESSION_REASONS = ("frequency_cap", "no_consent", "holdout")


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
    "suppressed": ("JF203", "unknown message '{}'",
                   "declare it: message {} via email {{ ... }}"),
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
    if step.kind == "arm":
        return _expect_arm(ctx, step, location)
    known: dict[str, set[str] | dict[str, Any]] = {
        "stage": ctx.names.stages, "sent": messages, "goal": goals,
        "bonus": ctx.names.bonuses, "suppressed": messages}
    names = known.get(step.kind)
    if names is not None and step.name is not None and step.name not in names:
        code, message, otherwise = _UNKNOWN[step.kind]
        ctx.sink.error(code, message.format(step.name), _name_span(step),
                       did_you_mean(step.name, names, otherwise.format(step.name)))
    times = None
    if step.times is not None:
        value = step.times.value
        if not value.is_integer():
            ctx.sink.error("JF414", f"a message is sent a whole number of times, not "
                           f"{step.times.text}", step.times.span, "e.g. expect sent welcome 1 "
                           "times")
        times = int(value) if value.is_integer() and value < 2**31 else 0
    reason = step.reason.name if step.reason is not None else None
    if step.reason is not None and reason not in SUPPRESSION_REASONS:
        ctx.sink.error("JF214", f"a send is never suppressed because of '{reason}'",
                       step.reason.span, did_you_mean(step.reason.name, SUPPRESSION_REASONS,
                                                      "reasons: "
                                                      + ", ".join(SUPPRESSION_REASONS)))
    return Expectation(kind=cast(ExpectationKind, step.kind), negated=step.negated, name=step.name,
                       times=times, reason=reason,
                       containing=step.containing.value if step.containing else None,
                       location=location)


def _name_span(step: a.Expect) -> Span:
    """Where the expectation names its message, stage... (after `expect [not] KIND`)."""
    assert step.name is not None
    line, col = step.span.line, step.span.col
    words = ["expect", *(["not"] if step.negated else []), step.kind]
    return Span.point(line, col + len(" ".join(words)) + 1, len(step.name))


def _expect_arm(ctx: CompileContext, step: a.Expect, location: Location) -> Expectation:
    """``expect arm "SPLIT" LABEL``: the split by name (or "LINE:COL"), one of its arms."""
    assert step.split is not None
    assert step.name is not None
    splits = ctx.names.splits
    arms = splits.get(step.split.value)
    if arms is None:
        ctx.sink.error("JF215", f"no split is named '{step.split.value}'", step.split.span,
                       did_you_mean(step.split.value, splits,
                                    'name the split: split "NAME" { ... }'))
    elif step.name not in arms:
        ctx.sink.error("JF216", f"split '{step.split.value}' has no arm '{step.name}'",
                       Span(step.span.end_line, step.span.end_col - len(step.name),
                            step.span.end_line, step.span.end_col),
                       did_you_mean(step.name, arms, "its arms: " + ", ".join(arms)))
    return Expectation(kind="arm", negated=step.negated, name=step.name,
                       split=step.split.value, location=location)
