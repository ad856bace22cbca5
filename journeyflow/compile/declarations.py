"""The declaration pass: customer, events, messages, channels, limits, segments...

First every name is collected (so a stage may use a segment declared below
it), then each declaration is checked and lowered to its model.
"""

from __future__ import annotations

import math
from datetime import time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from journeyflow.compile.context import CompileContext
from journeyflow.compile.templates import check_message_templates
from journeyflow.compile.typecheck import (
    ATTRIBUTE_TYPES,
    Scope,
    clock_value,
    duration_value,
    number_value,
)
from journeyflow.errors import Span, did_you_mean
from journeyflow.model import journey as m
from journeyflow.syntax import ast as a

__all__ = ["collect_names", "lower_declarations", "Declarations"]

BUILTIN_EVENT_FIELDS = {name: {"bonus": "text"} for name in m.BUILTIN_EVENTS}
WEEKDAYS = m.WEEKDAYS
MESSAGE_PARTS = ("subject", "body", "template")
SINGLETONS = (a.CustomerDecl, a.QuietHours, a.SendWindow, a.ValueDecl, a.ReentryDecl,
              a.HoldoutDecl, a.MigrateDecl)
MAX_HOLDOUT = 50.0  # percent: beyond it the journey itself becomes the experiment's minority


def collect_names(ctx: CompileContext, file: a.JourneyFile) -> None:
    """Fill ``ctx.names`` and report duplicate or malformed declarations."""
    names = ctx.names
    names.events.update({k: dict(v) for k, v in BUILTIN_EVENT_FIELDS.items()})
    names.channels.update(m.BUILTIN_CHANNELS)
    _singletons_declared_twice(ctx, file)
    message_lines: dict[str, int] = {}
    for decl in file.decls:
        if isinstance(decl, a.CustomerDecl):
            for fld in decl.fields:
                _declare_field(ctx, names.attributes, fld, "the customer has the attribute")
        elif isinstance(decl, a.EventDecl):
            _collect_event(ctx, decl)
        elif isinstance(decl, a.MessageDecl):
            _unique(ctx, names.messages, decl.name, "message", message_lines.get(decl.name.name))
            message_lines.setdefault(decl.name.name, decl.name.span.line)
            names.messages.setdefault(decl.name.name, decl.channel.name)
        elif isinstance(decl, a.ChannelDecl):
            if decl.name.name in names.channels:
                ctx.sink.error("JF224", f"channel '{decl.name.name}' is already declared",
                               decl.name.span, _builtin_hint(decl.name.name)
                               or "remove this declaration")
            names.channels.add(decl.name.name)
        elif isinstance(decl, a.SegmentDecl):
            _unique(ctx, dict.fromkeys(names.segments), decl.name, "segment")
            names.segments.add(decl.name.name)
        elif isinstance(decl, a.GoalDecl):
            names.goals.add(decl.name.name)
        elif isinstance(decl, a.StageDecl):
            first = names.stages.get(decl.name.name)
            _unique(ctx, names.stages, decl.name, "stage",
                    first.name.span.line if first is not None else None)
            names.stages.setdefault(decl.name.name, decl)
    names.bonuses.update(_granted_bonuses(file))
    _segments_named_like_attributes(ctx, file)


def _singletons_declared_twice(ctx: CompileContext, file: a.JourneyFile) -> None:
    seen: dict[type, a.Decl] = {}
    for decl in file.decls:
        if isinstance(decl, SINGLETONS):
            first = seen.setdefault(type(decl), decl)
            if first is not decl:
                ctx.sink.error("JF225", f"'{_keyword(decl)}' is declared twice",
                               _keyword_span(ctx, decl),
                               f"merge it into the one on line {first.span.line}")


def _segments_named_like_attributes(ctx: CompileContext, file: a.JourneyFile) -> None:
    """Checked once every attribute is known: the customer may be declared below."""
    for decl in file.decls:
        if isinstance(decl, a.SegmentDecl) and decl.name.name in ctx.names.attributes:
            ctx.sink.error("JF224", f"segment '{decl.name.name}' has the name of a customer "
                           "attribute", decl.name.span,
                           f"rename the segment, e.g. is_{decl.name.name}")


def _keyword(decl: a.Decl) -> str:
    return {a.CustomerDecl: "customer", a.QuietHours: "quiet hours", a.SendWindow: "send window",
            a.ValueDecl: "value", a.ReentryDecl: "reentry", a.HoldoutDecl: "holdout",
            a.MigrateDecl: "migrate"}[type(decl)]


def _keyword_span(ctx: CompileContext, decl: a.Decl) -> Span:
    """The declaration's keyword (``quiet hours`` as two words when written on one line)."""
    start = decl.span
    words = _keyword(decl).split()
    width = len(words[0])
    line = ctx.source.split("\n")[start.line - 1] if start.line >= 1 else ""
    rest = line[start.col - 1:]
    if len(words) == 2:
        second = rest[len(words[0]):]
        gap = len(second) - len(second.lstrip(" \t"))
        if gap and second.lstrip(" \t").startswith(words[1]):
            width += gap + len(words[1])
    return Span.point(start.line, start.col, width)


def _builtin_hint(name: str) -> str | None:
    return "email, sms, push and webhook are built in" if name in m.BUILTIN_CHANNELS else None


def _unique(ctx: CompileContext, seen: dict[str, Any], ident: a.Ident, what: str,
            first_line: int | None = None) -> None:
    if ident.name in seen:
        where = f" (the first is on line {first_line})" if first_line else ""
        ctx.sink.error("JF220" if what == "stage" else "JF222" if what == "message" else "JF224",
                       f"{what} '{ident.name}' is declared twice", ident.span,
                       f"rename or remove one of the two {what}s{where}")


def _collect_event(ctx: CompileContext, decl: a.EventDecl) -> None:
    names = ctx.names
    name = decl.name.name
    if name in m.BUILTIN_EVENTS:
        ctx.sink.error("JF221", f"'{name}' is a built-in event and cannot be redeclared",
                       decl.name.span, "its payload is { bonus: text }")
        return
    if name in names.events:
        ctx.sink.error("JF221", f"event '{name}' is declared twice", decl.name.span,
                       "give one event all the fields, and remove the other")
        return
    fields: dict[str, str] = {}
    for fld in decl.fields:
        _declare_field(ctx, fields, fld, f"event '{name}' has the field")
    names.events[name] = fields
    names.required_fields[name] = {f.name.name for f in decl.fields
                                   if f.default is None and not f.optional}


def _declare_field(ctx: CompileContext, into: dict[str, str], fld: a.Field, what: str) -> None:
    if fld.name.name in into:
        ctx.sink.error("JF223", f"{what} '{fld.name.name}' twice", fld.name.span,
                       "remove one of the two, or rename it")
        return
    kind = ATTRIBUTE_TYPES.get(fld.type.name)
    if kind is None:
        ctx.sink.error("JF208", f"unknown type '{fld.type.name}'", fld.type.span,
                       did_you_mean(fld.type.name, ATTRIBUTE_TYPES)
                       or "types: " + ", ".join(ATTRIBUTE_TYPES))
        kind = "any"
    into[fld.name.name] = kind


def nested_statements(stmt: a.Stmt) -> tuple[a.Stmt, ...]:
    """The statements directly inside ``stmt`` (a delayed block, if/else, split arms)."""
    if isinstance(stmt, a.Delayed):
        return stmt.block.stmts
    if isinstance(stmt, a.If):
        orelse = stmt.orelse
        tail = orelse.stmts if isinstance(orelse, a.Block) else (orelse,) if orelse else ()
        return stmt.then.stmts + tail
    if isinstance(stmt, a.Split):
        return tuple(s for arm in stmt.arms for s in arm.block.stmts)
    return ()


def _granted_bonuses(file: a.JourneyFile) -> set[str]:
    found: set[str] = set()

    def walk(stmts: tuple[a.Stmt, ...]) -> None:
        for stmt in stmts:
            if isinstance(stmt, a.Grant):
                found.add(stmt.bonus.name)
            walk(nested_statements(stmt))

    for decl in file.decls:
        if isinstance(decl, a.StageDecl | a.AnywhereDecl):
            for rule in decl.rules:
                if rule.block is not None:
                    walk(rule.block.stmts)
    return found


class Declarations:
    """The lowered declarations, ready for :class:`~journeyflow.model.journey.JourneyModel`."""

    def __init__(self) -> None:
        self.timezone = "UTC"
        self.timezone_attribute: str | None = None
        self.version: int | None = None
        self.attributes: dict[str, m.Attribute] = {}
        self.events: dict[str, m.EventType] = {}
        self.messages: dict[str, m.Message] = {}
        self.limits: list[m.Limit] = []
        self.quiet_hours: m.QuietHours | None = None
        self.send_window: m.SendWindow | None = None
        self.segments: dict[str, m.Segment] = {}
        self.consents: list[m.Consent] = []
        self.holdout: float | None = None
        self.goals: dict[str, m.Goal] = {}
        self.value: m.SourceExpr | None = None
        self.reentry = m.Reentry()


def lower_declarations(ctx: CompileContext, file: a.JourneyFile) -> Declarations:
    out = Declarations()
    out.timezone = _timezone(ctx, file.header)
    out.timezone_attribute = _timezone_attribute(ctx, file.header)
    out.version = _version(ctx, file.header)
    for name, fields in ctx.names.events.items():
        out.events[name] = m.EventType(name=name, fields={
            f: m.Attribute(name=f, type=t) for f, t in fields.items()},
            builtin=name in m.BUILTIN_EVENTS)
    scope = ctx.scope(why="no event is in scope in a declaration")
    for decl in file.decls:
        _lower_one(ctx, decl, out, scope)
    return out


def _lower_one(ctx: CompileContext, decl: a.Decl, out: Declarations,  # noqa: C901
               scope: Scope) -> None:  # one case per declaration
    if isinstance(decl, a.CustomerDecl):
        for fld in decl.fields:
            out.attributes.setdefault(fld.name.name, _attribute(ctx, fld, scope))
    elif isinstance(decl, a.EventDecl) and decl.name.name in out.events:
        fields = {f.name.name: _attribute(ctx, f, scope) for f in decl.fields}
        out.events[decl.name.name] = m.EventType(name=decl.name.name, fields=fields)
    elif isinstance(decl, a.MessageDecl):
        msg = _message(ctx, decl)
        out.messages.setdefault(msg.name, msg)
    elif isinstance(decl, a.LimitDecl):
        out.limits.append(_limit(ctx, decl))
    elif isinstance(decl, a.QuietHours):
        out.quiet_hours = m.QuietHours(start=_clock(ctx, decl.start), end=_clock(ctx, decl.end))
    elif isinstance(decl, a.SendWindow):
        out.send_window = m.SendWindow(days=_days(ctx, decl.days), start=_clock(ctx, decl.start),
                                       end=_clock(ctx, decl.end))
    elif isinstance(decl, a.SegmentDecl):
        out.segments[decl.name.name] = m.Segment(
            name=decl.name.name, condition=ctx.source_expr(decl.expr, scope, condition=True,
                                                           what="a segment"))
    elif isinstance(decl, a.ConsentDecl):
        out.consents.append(_consent(ctx, decl, scope))
    elif isinstance(decl, a.HoldoutDecl):
        out.holdout = _holdout(ctx, decl)
    elif isinstance(decl, a.GoalDecl):
        _goal(ctx, decl, out)
    elif isinstance(decl, a.ValueDecl):
        out.value = ctx.source_expr(decl.expr, scope, wanted="number", what="the value")
    elif isinstance(decl, a.ReentryDecl):
        after = _timedelta(ctx, decl.after) if decl.after else None
        out.reentry = m.Reentry(mode=cast(m.ReentryMode, decl.mode), after=after,
                                location=ctx.location(decl.span))


def _version(ctx: CompileContext, header: a.Header) -> int | None:
    if header.version is None:
        return None
    value = header.version.value
    if not math.isfinite(value) or not value.is_integer() or value > 2**31:
        ctx.sink.error("JF414", "a version is a whole number, e.g. version 3",
                       header.version.span)
        return None
    return int(value)


def _timezone(ctx: CompileContext, header: a.Header) -> str:
    if header.timezone is None:
        return "UTC"
    zone = header.timezone.value
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        ctx.sink.error("JF406", f"unknown time zone '{zone}'", header.timezone.span,
                       did_you_mean(zone, available_timezones())
                       or 'use an IANA name such as "Europe/Berlin"')
        return "UTC"
    return zone


def _timezone_attribute(ctx: CompileContext, header: a.Header) -> str | None:
    """``timezone customer.ATTR or "Zone"``: ATTR must be a text attribute."""
    ident = header.timezone_attribute
    if ident is None:
        return None
    kind = ctx.names.attributes.get(ident.name)
    if kind is None:
        ctx.sink.error("JF204", f"unknown customer attribute '{ident.name}'", ident.span,
                       did_you_mean(ident.name, ctx.names.attributes)
                       or f"declare it: customer {{ {ident.name}: text? }}")
        return None
    if kind != "text":
        ctx.sink.error("JF401", f"a time zone is text such as \"America/Los_Angeles\", but "
                       f"'{ident.name}' is {kind}", ident.span,
                       f"declare it as text: {ident.name}: text?")
        return None
    return ident.name


def constant_value(expr: a.Expr | None) -> tuple[bool, Any]:
    """``(True, value)`` when ``expr`` is a literal that can be a default."""
    if expr is None:
        return True, None
    if isinstance(expr, a.Number):
        value = expr.value
        return True, int(value) if value.is_integer() else value
    if isinstance(expr, a.Unary) and expr.op == "-" and isinstance(expr.operand, a.Number):
        ok, value = constant_value(expr.operand)
        return ok, -value
    if isinstance(expr, a.StringLit | a.BoolLit):
        return True, expr.value
    if isinstance(expr, a.NullLit):
        return True, None
    if isinstance(expr, a.DateTimeLit):
        return True, expr.text
    if isinstance(expr, a.ListLit):
        values = [constant_value(item) for item in expr.items]
        return all(ok for ok, _ in values), [v for _, v in values]
    return False, None


def _attribute(ctx: CompileContext, fld: a.Field, scope: Scope) -> m.Attribute:
    kind = ATTRIBUTE_TYPES.get(fld.type.name, "any")
    ok, value = constant_value(fld.default)
    if not ok and fld.default is not None:
        ctx.sink.error("JF410", "a default must be a plain value such as 0, \"DE\" or true",
                       fld.default.span, "compute values in a rule instead: "
                       f"on enter {{ set {fld.name.name} = ... }}")
    elif fld.default is not None:
        ctx.types.expect(fld.default, scope, kind, f"the default of '{fld.name.name}'")
    return m.Attribute(name=fld.name.name, type=fld.type.name if kind != "any" else "text",
                       optional=fld.optional, default=value)


def _message(ctx: CompileContext, decl: a.MessageDecl) -> m.Message:
    channel = decl.channel.name
    if channel not in ctx.names.channels:
        ctx.sink.error("JF207", f"unknown channel '{channel}'", decl.channel.span,
                       did_you_mean(channel, ctx.names.channels)
                       or f"declare it first: channel {channel}")
    parts: dict[str, str] = {}
    for part in decl.parts:
        key = part.name.name
        if key not in MESSAGE_PARTS:
            ctx.sink.error("JF210", f"a message has no '{key}'", part.name.span,
                           did_you_mean(key, MESSAGE_PARTS) or "use subject, body or template")
        elif key in parts:
            ctx.sink.error("JF223", f"message '{decl.name.name}' has '{key}' twice",
                           part.name.span, "keep one of the two")
        else:
            parts[key] = part.value
    msg = m.Message(name=decl.name.name, channel=channel, subject=parts.get("subject"),
                    body=parts.get("body"), template=parts.get("template"),
                    transactional=decl.transactional,
                    location=ctx.location(decl.name.span))
    check_message_templates(ctx, decl, msg)
    return msg


def _consent(ctx: CompileContext, decl: a.ConsentDecl, scope: Scope) -> m.Consent:
    channel = decl.channel.name
    if channel != "any" and channel not in ctx.names.channels:
        ctx.sink.error("JF207", f"unknown channel '{channel}'", decl.channel.span,
                       did_you_mean(channel, [*ctx.names.channels, "any"])
                       or f"declare it first: channel {channel}, or write 'any'")
    why = "no event is in scope: consent is checked when a send is delivered"
    condition = ctx.source_expr(decl.expr, scope.with_event(None, why), condition=True,
                                what="a consent rule")
    return m.Consent(channel=channel, condition=condition)


def _holdout(ctx: CompileContext, decl: a.HoldoutDecl) -> float | None:
    share = number_value(ctx.sink, decl.share)
    if not 0 < share <= MAX_HOLDOUT:
        ctx.sink.error("JF415", f"a holdout of {decl.share.text} is out of range",
                       decl.share.span, "hold out more than 0% and at most 50% of customers, "
                       "e.g. holdout 10%")
        return None
    return share


def _limit(ctx: CompileContext, decl: a.LimitDecl) -> m.Limit:
    channel = decl.channel.name
    if channel != "any" and channel not in ctx.names.channels:
        ctx.sink.error("JF207", f"unknown channel '{channel}'", decl.channel.span,
                       did_you_mean(channel, [*ctx.names.channels, "any"],
                                    f"declare it first: channel {channel}"))
    count = number_value(ctx.sink, decl.count)
    if math.isfinite(decl.count.value) and (count < 1 or not count.is_integer()):
        ctx.sink.error("JF414", "a limit allows a whole number of sends, at least 1",
                       decl.count.span, f"e.g. limit {channel} to 2 per 7d")
    return m.Limit(channel=channel, count=max(int(count), 1),
                   per=_timedelta(ctx, decl.per))


def _timedelta(ctx: CompileContext, duration: a.Duration) -> timedelta:
    return duration_value(ctx.sink, duration)


def _clock(ctx: CompileContext, clock: a.Clock) -> time:
    return clock_value(ctx.sink, clock)


def _days(ctx: CompileContext, spans: tuple[a.DaySpan, ...]) -> frozenset[int]:
    days: set[int] = set()
    for span in spans:
        idents = [span.first] + ([span.last] if span.last else [])
        index = []
        for ident in idents:
            day = m.day_index(ident.name)
            if day is None:
                ctx.sink.error("JF211", f"unknown day '{ident.name}'", ident.span,
                               did_you_mean(ident.name.lower(), WEEKDAYS)
                               or "days: mon tue wed thu fri sat sun")
                continue
            index.append(day)
        if len(index) == 2:
            days.update(m.day_range(*index))
        elif len(index) == 1 and span.last is None:
            days.add(index[0])
    return frozenset(days)


def _goal(ctx: CompileContext, decl: a.GoalDecl, out: Declarations) -> None:
    name = decl.name.name
    if name in out.goals:
        ctx.sink.error("JF224", f"goal '{name}' is declared twice", decl.name.span,
                       "rename one of the two goals (the first is on line "
                       f"{out.goals[name].location.line})")
        return
    event = decl.event.name if decl.event else None
    if decl.event is not None and event not in ctx.names.events:
        ctx.sink.error("JF202", f"unknown event '{event}'", decl.event.span,
                       did_you_mean(decl.event.name, ctx.names.events,
                                    f"declare it: event {event} {{ ... }}"))
        event = None
    expr = decl.where if decl.where is not None else decl.when
    condition = None
    if expr is not None:
        why = "a 'goal ... when' has no event; use 'goal NAME on EVENT where ...'"
        condition = ctx.source_expr(expr, ctx.scope(event, why), condition=True, what="a goal")
    out.goals[name] = m.Goal(name=name, event=event, condition=condition,
                             location=ctx.location(decl.name.span))
