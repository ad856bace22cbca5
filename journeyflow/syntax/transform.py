"""Lark callbacks that build the syntax tree while the LALR parser runs.

Applied inline (``Lark(transformer=...)``), so no intermediate parse tree is
built: that halves the cost of parsing a large journey.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lark import Token, Transformer

from journeyflow.errors import Span
from journeyflow.syntax import ast as a

__all__ = ["JourneyTransformer", "decode_string", "token_span"]

Children = list[Any]


def token_span(tok: Token) -> Span:
    return Span(tok.line or 1, tok.column or 1, tok.end_line or 1, tok.end_column or 1)


def span_of(node: Any) -> Span:
    if isinstance(node, Token):
        return token_span(node)
    return node.span  # type: ignore[no-any-return]


def _spanning(first: Any, last: Any) -> Span:
    return span_of(first).to(span_of(last))


_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


def decode_string(raw: str) -> str:
    """The value of a string literal, quotes stripped and escapes applied."""
    body = raw[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    chars = iter(body)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
        else:
            out.append(ch)
    return "".join(out)


def _ident(tok: Token) -> a.Ident:
    return a.Ident(str(tok), token_span(tok))


def _duration(tok: Token) -> a.Duration:
    return a.Duration(str(tok), token_span(tok))


class JourneyTransformer(Transformer[Token, Any]):
    """One method per grammar rule or alias; each gets the kept children."""

    # ---- files and declarations ---------------------------------------------

    def journey_file(self, c: Children) -> a.JourneyFile:
        return a.JourneyFile(c[0], tuple(d for d in c[1:] if d is not None))

    def scenario_file(self, c: Children) -> a.ScenarioFile:
        return a.ScenarioFile(tuple(c))

    def header(self, c: Children) -> a.Header:
        opts = dict(c[1:])
        zone, attribute = opts.get("timezone"), None
        if "timezone_customer" in opts:
            attribute, zone = opts["timezone_customer"]
        return a.Header(decode_string(c[0]), opts.get("version"), zone, attribute,
                        token_span(c[0]))

    def timezone_customer(self, c: Children) -> tuple[str, tuple[a.Ident, a.StringLit]]:
        _customer, attribute, fallback = c
        return "timezone_customer", (_ident(attribute), a.StringLit(decode_string(fallback),
                                                                    token_span(fallback)))

    def version(self, c: Children) -> tuple[str, a.Number]:
        return "version", a.Number(str(c[0]), token_span(c[0]))

    def timezone(self, c: Children) -> tuple[str, a.StringLit]:
        return "timezone", a.StringLit(decode_string(c[0]), token_span(c[0]))

    def customer(self, c: Children) -> a.CustomerDecl:
        return a.CustomerDecl(tuple(c[1:-1]), _spanning(c[0], c[-1]))

    def event_decl(self, c: Children) -> a.EventDecl:
        return a.EventDecl(_ident(c[1]), tuple(c[2:-1]), _spanning(c[0], c[-1]))

    def field(self, c: Children) -> a.Field:
        name, typ, qmark, _eq, default = c
        return a.Field(_ident(name), _ident(typ), qmark is not None, default,
                       _spanning(name, default if default is not None else (qmark or typ)))

    def message(self, c: Children) -> a.MessageDecl:
        kw, name, channel, transactional, body = c
        parts, end = body if body is not None else ((), transactional or channel)
        return a.MessageDecl(_ident(name), _ident(channel), parts, transactional is not None,
                             _spanning(kw, end))

    def message_body(self, c: Children) -> tuple[tuple[a.MessagePart, ...], Token]:
        return tuple(c[:-1]), c[-1]

    def message_part(self, c: Children) -> a.MessagePart:
        return a.MessagePart(_ident(c[0]), decode_string(c[1]), _spanning(c[0], c[1]))

    def channel(self, c: Children) -> a.ChannelDecl:
        return a.ChannelDecl(_ident(c[1]), _spanning(c[0], c[1]))

    def limit(self, c: Children) -> a.LimitDecl:
        return a.LimitDecl(_ident(c[1]), a.Number(str(c[2]), token_span(c[2])), _duration(c[3]),
                           _spanning(c[0], c[3]))

    def quiet_hours(self, c: Children) -> a.QuietHours:
        return a.QuietHours(a.Clock(str(c[1]), token_span(c[1])),
                            a.Clock(str(c[2]), token_span(c[2])), _spanning(c[0], c[2]))

    def send_window(self, c: Children) -> a.SendWindow:
        return a.SendWindow(tuple(c[1:-2]), a.Clock(str(c[-2]), token_span(c[-2])),
                            a.Clock(str(c[-1]), token_span(c[-1])), _spanning(c[0], c[-1]))

    def day_span(self, c: Children) -> a.DaySpan:
        first, _minus, last = c
        return a.DaySpan(_ident(first), _ident(last) if last is not None else None,
                         _spanning(first, last or first))

    def segment(self, c: Children) -> a.SegmentDecl:
        return a.SegmentDecl(_ident(c[1]), c[2], _spanning(c[0], c[2]))

    def consent(self, c: Children) -> a.ConsentDecl:
        return a.ConsentDecl(_ident(c[1]), c[2], _spanning(c[0], c[2]))

    def holdout(self, c: Children) -> a.HoldoutDecl:
        return a.HoldoutDecl(a.Percent(str(c[1]), token_span(c[1])), _spanning(c[0], c[1]))

    def goal_on(self, c: Children) -> a.GoalDecl:
        kw, name, _on, event, where = c
        return a.GoalDecl(_ident(name), _ident(event), where, None,
                          _spanning(kw, where if where is not None else event))

    def goal_when(self, c: Children) -> a.GoalDecl:
        return a.GoalDecl(_ident(c[1]), None, None, c[3], _spanning(c[0], c[3]))

    def value(self, c: Children) -> a.ValueDecl:
        return a.ValueDecl(c[1], _spanning(c[0], c[1]))

    def reentry_never(self, c: Children) -> a.ReentryDecl:
        return a.ReentryDecl("never", None, token_span(c[0]))

    def reentry_always(self, c: Children) -> a.ReentryDecl:
        return a.ReentryDecl("always", None, token_span(c[0]))

    def reentry_after(self, c: Children) -> a.ReentryDecl:
        return a.ReentryDecl("after", _duration(c[2]), _spanning(c[0], c[2]))

    def anywhere(self, c: Children) -> a.AnywhereDecl:
        return a.AnywhereDecl(tuple(c[1:-1]), _spanning(c[0], c[-1]), token_span(c[-1]))

    def stage(self, c: Children) -> a.StageDecl:
        kw, name, *flags, body = c
        if body is None:
            last = flags[-1] if flags else name
            return a.StageDecl(_ident(name), tuple(flags), (), False, _spanning(kw, last),
                               span_of(last))
        rules, end = body
        return a.StageDecl(_ident(name), tuple(flags), rules, True, _spanning(kw, end),
                           token_span(end))

    def stage_flag(self, c: Children) -> a.Ident:
        return _ident(c[0])

    def stage_body(self, c: Children) -> tuple[tuple[a.Rule, ...], Token]:
        return tuple(c[:-1]), c[-1]

    # ---- rules ------------------------------------------------------------------

    def rule(self, c: Children) -> a.Rule:
        trigger, guard, target, block = c
        last = block or target or guard or trigger
        return a.Rule(trigger, guard, target, block, trigger.span.to(span_of(last)))

    def pass_through(self, c: Children) -> a.Rule:
        arrow = token_span(c[0])
        return a.Rule(a.Trigger("pass", span=arrow), None, _ident(c[1]), None,
                      arrow.to(token_span(c[1])))

    def on_event(self, c: Children) -> a.Trigger:
        return a.Trigger("on", event=_ident(c[1]), span=token_span(c[0]).to(token_span(c[1])))

    def on_enter(self, c: Children) -> a.Trigger:
        return a.Trigger("enter", span=token_span(c[0]))

    def on_exit(self, c: Children) -> a.Trigger:
        return a.Trigger("exit", span=token_span(c[0]))

    def after(self, c: Children) -> a.Trigger:
        kw, dur, without = c
        return a.Trigger("after", duration=_duration(dur),
                         without=_ident(without) if without is not None else None,
                         span=token_span(kw))

    def every(self, c: Children) -> a.Trigger:
        return a.Trigger("every", duration=_duration(c[1]), span=token_span(c[0]))

    def at(self, c: Children) -> a.Trigger:
        kw, expr, every = c
        return a.Trigger("at", expr=expr, yearly=token_span(every) if every is not None else None,
                         span=token_span(kw))

    def when(self, c: Children) -> a.Trigger:
        return a.Trigger("when", expr=c[1], span=token_span(c[0]))

    def guard(self, c: Children) -> Any:
        return c[0]

    def target(self, c: Children) -> a.Ident:
        return _ident(c[1])

    # ---- statements ---------------------------------------------------------------

    def block(self, c: Children) -> a.Block:
        stmts = tuple(s for s in c[:-1] if s is not None)
        first = stmts[0] if stmts else c[-1]
        return a.Block(stmts, _spanning(first, c[-1]))

    def stmt(self, c: Children) -> None:
        return None  # a lone `;`

    def send(self, c: Children) -> a.Send:
        return a.Send(_ident(c[1]), _spanning(c[0], c[1]))

    def offer(self, c: Children) -> a.Offer:
        return a.Offer(_ident(c[1]), decode_string(c[2]), _ident(c[3]), _spanning(c[0], c[3]))

    def grant(self, c: Children) -> a.Grant:
        kw, name, value, expires, remind = c
        val: a.Number | a.Percent = (a.Percent if value.type == "PERCENT" else a.Number)(
            str(value), token_span(value))
        return a.Grant(_ident(name), val, _duration(expires), remind,
                       _spanning(kw, remind or expires))

    def remind(self, c: Children) -> a.Duration:
        return _duration(c[0])

    def redeem(self, c: Children) -> a.Redeem:
        return a.Redeem(_ident(c[1]), _spanning(c[0], c[1]))

    def set(self, c: Children) -> a.Set:
        return a.Set(_ident(c[1]), str(c[2]), c[3], _spanning(c[0], c[3]))

    def tag(self, c: Children) -> a.Tag:
        return a.Tag(decode_string(c[1]), False, _spanning(c[0], c[1]))

    def untag(self, c: Children) -> a.Tag:
        return a.Tag(decode_string(c[1]), True, _spanning(c[0], c[1]))

    def emit(self, c: Children) -> a.Emit:
        fields = c[2] if c[2] is not None else ((), c[1])
        return a.Emit(_ident(c[1]), fields[0], _spanning(c[0], fields[1]))

    def notify(self, c: Children) -> a.Notify:
        fields = c[2] if c[2] is not None else ((), c[1])
        return a.Notify(_ident(c[1]), fields[0], _spanning(c[0], fields[1]))

    def kv_block(self, c: Children) -> tuple[tuple[a.KV, ...], Token]:
        return tuple(c[:-1]), c[-1]

    def kv(self, c: Children) -> a.KV:
        return a.KV(_ident(c[0]), c[1], _spanning(c[0], c[1]))

    def delayed(self, c: Children) -> a.Delayed:
        kw, dur, unless, block = c
        event, where = unless if unless is not None else (None, None)
        return a.Delayed(_duration(dur), event, block, where, None, _spanning(kw, block))

    def delayed_at(self, c: Children) -> a.Delayed:
        kw, when, unless, block = c
        event, where = unless if unless is not None else (None, None)
        return a.Delayed(None, event, block, where, when, _spanning(kw, block))

    def unless(self, c: Children) -> tuple[a.Ident, Any]:
        return _ident(c[0]), c[1]

    def if_stmt(self, c: Children) -> a.If:
        kw, cond, then, orelse = c
        return a.If(cond, then, orelse, _spanning(kw, orelse or then))

    def else_part(self, c: Children) -> a.Block | a.If:
        return c[0]  # type: ignore[no-any-return]

    def split(self, c: Children) -> a.Split:
        kw, name, *arms, _end = c
        label = a.StringLit(decode_string(name), token_span(name)) if name is not None else None
        return a.Split(tuple(arms), label, token_span(kw))

    def arm(self, c: Children) -> a.Arm:
        share, label, block = c
        return a.Arm(a.Percent(str(share), token_span(share)), block,
                     _ident(label) if label is not None else None, _spanning(share, block))

    def goto(self, c: Children) -> a.Goto:
        return a.Goto(_ident(c[1]), token_span(c[0]))

    # ---- expressions ----------------------------------------------------------------

    def or_(self, c: Children) -> a.Binary:
        return a.Binary("or", c[0], c[1], _spanning(c[0], c[1]))

    def and_(self, c: Children) -> a.Binary:
        return a.Binary("and", c[0], c[1], _spanning(c[0], c[1]))

    def not_(self, c: Children) -> a.Unary:
        return a.Unary("not", c[1], _spanning(c[0], c[1]))

    def compare(self, c: Children) -> a.Binary:
        return a.Binary(str(c[1]), c[0], c[2], _spanning(c[0], c[2]))

    def binop(self, c: Children) -> a.Binary:
        return a.Binary(str(c[1]), c[0], c[2], _spanning(c[0], c[2]))

    def in_(self, c: Children) -> a.InList:
        return a.InList(c[0], c[1], False, _spanning(c[0], c[1]))

    def not_in(self, c: Children) -> a.InList:
        return a.InList(c[0], c[2], True, _spanning(c[0], c[2]))

    def neg(self, c: Children) -> a.Unary:
        return a.Unary("-", c[1], _spanning(c[0], c[1]))

    def number(self, c: Children) -> a.Number:
        return a.Number(str(c[0]), token_span(c[0]))

    def percent(self, c: Children) -> a.Percent:
        return a.Percent(str(c[0]), token_span(c[0]))

    def duration(self, c: Children) -> a.Duration:
        return _duration(c[0])

    def string(self, c: Children) -> a.StringLit:
        return a.StringLit(decode_string(c[0]), token_span(c[0]))

    def clock(self, c: Children) -> a.Clock:
        return a.Clock(str(c[0]), token_span(c[0]))

    def datetime(self, c: Children) -> a.DateTimeLit:
        return a.DateTimeLit(str(c[0]), token_span(c[0]))

    def true(self, c: Children) -> a.BoolLit:
        return a.BoolLit(True, token_span(c[0]))

    def false(self, c: Children) -> a.BoolLit:
        return a.BoolLit(False, token_span(c[0]))

    def null(self, c: Children) -> a.NullLit:
        return a.NullLit(token_span(c[0]))

    def name(self, c: Children) -> a.Name:
        return a.Name(str(c[0]), token_span(c[0]))

    def path(self, c: Children) -> a.Path:
        return a.Path(str(c[0]), str(c[1]), _spanning(c[0], c[1]))

    def event_field(self, c: Children) -> a.EventField:
        return a.EventField(str(c[1]), _spanning(c[0], c[1]))

    def call(self, c: Children) -> a.Call:
        return a.Call(str(c[0]), tuple(c[1:-1]), _spanning(c[0], c[-1]))

    def arg(self, c: Children) -> a.Arg:
        expr, within = c
        return a.Arg(expr, _duration(within) if within is not None else None,
                     _spanning(expr, within or expr))

    def list_lit(self, c: Children) -> a.ListLit:
        return a.ListLit(tuple(c[1:-1]), _spanning(c[0], c[-1]))

    # ---- simulate -------------------------------------------------------------------------

    def migrate(self, c: Children) -> a.MigrateDecl:
        return a.MigrateDecl(tuple(c[1:-1]), _spanning(c[0], c[-1]))

    def migrate_stage(self, c: Children) -> a.MigrateStage:
        return a.MigrateStage(_ident(c[1]), _ident(c[3]), _spanning(c[0], c[3]))

    def migrate_set(self, c: Children) -> a.MigrateSet:
        return a.MigrateSet(_ident(c[1]), c[3], _spanning(c[0], c[3]))

    def simulate(self, c: Children) -> a.SimulateDecl:
        return a.SimulateDecl(tuple(c[1:-1]), _spanning(c[0], c[-1]))

    def sim_arrivals(self, c: Children) -> a.SimArrivals:
        kw, event, count, period, lasting, payload = c
        fields = payload[0] if payload is not None else ()
        return a.SimArrivals(_ident(event), a.Number(str(count), token_span(count)),
                             _ident(period), _duration(lasting) if lasting is not None else None,
                             fields, _spanning(kw, period))

    def sim_in(self, c: Children) -> a.SimIn:
        stages = tuple(_ident(t) for t in c[1:-1] if isinstance(t, Token))
        rates = tuple(r for r in c[1:-1] if isinstance(r, a.SimRate))
        return a.SimIn(stages, rates, _spanning(c[0], c[-1]))

    def sim_anywhere(self, c: Children) -> a.SimIn:
        return a.SimIn((), tuple(c[1:-1]), _spanning(c[0], c[-1]))

    def sim_reacts(self, c: Children) -> a.SimReacts:
        return a.SimReacts(_ident(c[1]), tuple(c[2:-1]), _spanning(c[0], c[-1]))

    def sim_rate(self, c: Children) -> a.SimRate:
        event, rate, period, payload = c
        value: a.Number | a.Percent = (a.Percent if rate.type == "PERCENT" else a.Number)(
            str(rate), token_span(rate))
        fields = payload[0] if payload is not None else ()
        return a.SimRate(_ident(event), value, _ident(period), fields, _spanning(event, period))

    def sim_reaction(self, c: Children) -> a.SimReaction:
        return a.SimReaction(_ident(c[0]), a.Percent(str(c[1]), token_span(c[1])),
                             _duration(c[2]), _spanning(c[0], c[2]))

    def dist_block(self, c: Children) -> tuple[tuple[a.DistField, ...], Token]:
        return tuple(c[:-1]), c[-1]

    def dist_field(self, c: Children) -> a.DistField:
        return a.DistField(_ident(c[0]), c[1], _spanning(c[0], c[1]))

    def dist_call(self, c: Children) -> a.Dist:
        return a.Dist(str(c[0]), tuple(c[1:]), None, _spanning(c[0], c[-1]))

    def dist_const(self, c: Children) -> a.Dist:
        item = c[0]
        if isinstance(item, tuple):
            return a.Dist(None, (), item[0], item[1])
        if item.type == "STRING":
            return a.Dist(None, (), decode_string(item), token_span(item))
        return a.Dist(None, (), item.type == "TRUE", token_span(item))

    def dist_number(self, c: Children) -> a.DistArg:
        return a.DistArg("number", c[0][0], None, c[0][1])

    def dist_choice(self, c: Children) -> a.DistArg:
        return a.DistArg("choice", c[1][0], decode_string(c[0]), token_span(c[0]).to(c[1][1]))

    def dist_bound(self, c: Children) -> a.DistArg:
        return a.DistArg("bound", c[1][0], str(c[0]), token_span(c[0]).to(c[1][1]))

    def signed(self, c: Children) -> tuple[float, Span]:
        minus, tok = c
        text = str(tok)
        value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
        return (-value if minus is not None else value), _spanning(minus or tok, tok)

    # ---- scenarios -------------------------------------------------------------------------

    def scenario(self, c: Children) -> a.ScenarioDecl:
        return a.ScenarioDecl(decode_string(c[1]), tuple(c[2:-1]), _spanning(c[0], c[-1]))

    def step_event(self, c: Children) -> a.StepEvent:
        kw, *rest = c
        when: a.DateTimeLit | a.Duration
        if rest[0].type == "PLUS":
            when, rest = _duration(rest[1]), rest[2:]
        else:
            when, rest = a.DateTimeLit(str(rest[0]), token_span(rest[0])), rest[1:]
        event, data, customer, attributes = rest
        return a.StepEvent(when, _ident(event), data[0] if data else (), customer,
                           attributes or (), _spanning(kw, event))

    def as_clause(self, c: Children) -> str:
        return decode_string(c[0])

    def with_clause(self, c: Children) -> tuple[a.KV, ...]:
        return c[0][0]  # type: ignore[no-any-return]

    def step_wait(self, c: Children) -> a.StepWait:
        return a.StepWait(_duration(c[1]), _spanning(c[0], c[1]))

    def _expect(self, kind: str, c: Children) -> a.Expect:
        kw, negated, target = c
        value = decode_string(target) if target.type == "STRING" else str(target)
        return a.Expect(kind, negated is not None, value, None, span=_spanning(kw, target))

    def expect_stage(self, c: Children) -> a.Expect:
        return self._expect("stage", c)

    def expect_sent(self, c: Children) -> a.Expect:
        kw, negated, target, detail = c
        found = a.Expect("sent", negated is not None, str(target), None,
                         span=_spanning(kw, detail or target))
        if detail is not None and detail.type == "NUMBER":
            return replace(found, times=a.Number(str(detail), token_span(detail)))
        if detail is not None:
            return replace(found, containing=a.StringLit(decode_string(detail),
                                                         token_span(detail)))
        return found

    def sent_times(self, c: Children) -> Token:
        return c[0]  # type: ignore[no-any-return]

    def sent_containing(self, c: Children) -> Token:
        return c[0]  # type: ignore[no-any-return]

    def expect_suppressed(self, c: Children) -> a.Expect:
        kw, negated, target, reason = c
        return a.Expect("suppressed", negated is not None, str(target), None,
                        reason=_ident(reason) if reason is not None else None,
                        span=_spanning(kw, reason or target))

    def expect_arm(self, c: Children) -> a.Expect:
        kw, negated, split, label = c
        return a.Expect("arm", negated is not None, str(label), None,
                        split=a.StringLit(decode_string(split), token_span(split)),
                        span=_spanning(kw, label))

    def expect_tagged(self, c: Children) -> a.Expect:
        return self._expect("tagged", c)

    def expect_goal(self, c: Children) -> a.Expect:
        return self._expect("goal", c)

    def expect_bonus(self, c: Children) -> a.Expect:
        return self._expect("bonus", c)

    def expect_expr(self, c: Children) -> a.Expect:
        return a.Expect("expr", False, None, c[1], span=_spanning(c[0], c[1]))
