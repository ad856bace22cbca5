"""The stage pass: stages, rules and their statements, checked and lowered."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from journeyflow.compile.context import CompileContext
from journeyflow.compile.typecheck import Scope, article, duration_value, number_value
from journeyflow.errors import Span, did_you_mean
from journeyflow.model import journey as m
from journeyflow.syntax import ast as a

__all__ = ["lower_anywhere", "lower_stages"]

OFFER_KINDS = ("cross_sell", "up_sell")
NO_EVENT = {
    "enter": "an 'on enter' rule has no event of its own",
    "exit": "an 'on exit' rule has no event of its own",
    "after": "a timer has no event",
    "every": "a timer has no event",
    "at": "a timer has no event",
    "when": "a 'when' rule has no event",
    "pass": "a pass-through has no event",
}


def lower_stages(ctx: CompileContext, file: a.JourneyFile) -> dict[str, m.Stage]:
    stages: dict[str, m.Stage] = {}
    starts: list[tuple[a.Ident, str]] = []
    for decl in file.decls:
        if not isinstance(decl, a.StageDecl):
            continue
        for flag in decl.flags:
            if flag.name == "start":
                starts.append((flag, decl.name.name))
        if decl.is_final:
            for rule in decl.rules:
                ctx.sink.error("JF303", f"final stage '{decl.name.name}' cannot have rules",
                               rule.trigger.span,
                               "a customer in a final stage runs no rules; remove 'final' or "
                               "the rule")
        rules = tuple(_rule(ctx, rule, decl.name.name) for rule in decl.rules)
        if decl.name.name not in stages:
            stages[decl.name.name] = m.Stage(
                name=decl.name.name, start=decl.is_start, final=decl.is_final, rules=rules,
                location=ctx.location(decl.name.span))
    if not starts:
        first_stage = next(iter(ctx.names.stages), "awareness")
        ctx.sink.error("JF301", "the journey has no start stage", file.header.span,
                       f"mark the stage customers begin in: stage {first_stage} start {{ ... }}")
    for extra, _ in starts[1:]:
        first, name = starts[0]
        ctx.sink.error("JF302", "only one stage can be the start stage", extra.span,
                       f"'{name}' is already the start stage (line {first.span.line})")
    return stages


def lower_anywhere(ctx: CompileContext, file: a.JourneyFile) -> tuple[m.Rule, ...]:
    rules: list[m.Rule] = []
    for decl in file.decls:
        if isinstance(decl, a.AnywhereDecl):
            for rule in decl.rules:
                if rule.trigger.kind in ("enter", "exit", "pass"):
                    ctx.sink.error("JF309", f"'{_trigger_words(rule.trigger)}' has no meaning in "
                                   "'anywhere'", _trigger_span(ctx, rule.trigger),
                                   "put it in the stage it belongs to")
                rules.append(_rule(ctx, rule, None))
    return tuple(rules)


def _trigger_words(trigger: a.Trigger) -> str:
    return {"enter": "on enter", "exit": "on exit", "pass": "->"}.get(trigger.kind, trigger.kind)


def _trigger_span(ctx: CompileContext, trigger: a.Trigger) -> Span:
    """The trigger's words: ``on enter`` is two tokens, the tree keeps only ``on``."""
    span = trigger.span
    if trigger.kind not in ("enter", "exit"):
        return span
    line = ctx.source.split("\n")[span.line - 1]
    end = line.find(trigger.kind, span.end_col - 1)
    if end < 0 or line[span.end_col - 1:end].strip():
        return span
    return Span(span.line, span.col, span.line, end + len(trigger.kind) + 1)


def _rule(ctx: CompileContext, rule: a.Rule, stage: str | None) -> m.Rule:
    trig = rule.trigger
    event = None
    if trig.kind == "on" and trig.event is not None:
        # An unknown event is reported once: its fields are then not checked either.
        event = _event(ctx, trig.event) or trig.event.name
    scope = ctx.scope(event, NO_EVENT.get(trig.kind, "no event is in scope here"))
    trigger = m.Trigger(
        kind=cast(m.TriggerKind, trig.kind),  # the grammar's trigger keywords
        event=trig.event.name if trig.event else None,
        duration=_duration(ctx, trig.duration) if trig.duration else None,
        without=_event(ctx, trig.without) if trig.without else None,
        expr=_trigger_expr(ctx, trig, scope), yearly=trig.every_year)
    guard = ctx.source_expr(rule.guard, scope, condition=True) if rule.guard else None
    target = _stage(ctx, rule.target) if rule.target else None
    if trig.kind == "exit" and rule.target is not None:
        ctx.sink.error("JF305", "'-> STAGE' is not allowed in 'on exit'", rule.target.span,
                       "the customer is already leaving; the rule that moves them decides "
                       "where to")
    body: tuple[m.Action, ...] = ()
    if rule.block is not None:
        if rule.target is not None:
            for goto in _gotos(rule.block):
                ctx.sink.error("JF304", "this rule already has a target; its block cannot end "
                               "in '-> STAGE' too", goto.span, "keep one of the two targets")
        if trig.kind == "exit":
            for goto in _gotos(rule.block):
                ctx.sink.error("JF305", "'-> STAGE' is not allowed in 'on exit'", goto.span,
                               "the customer is already leaving; the rule that moves them "
                               "decides where to")
        body = _block(ctx, rule.block, scope)
    return m.Rule(trigger=trigger, guard=guard, target=target, body=body,
                  location=ctx.location(trig.span), stage=stage)


def _trigger_expr(ctx: CompileContext, trig: a.Trigger, scope: Scope) -> m.SourceExpr | None:
    if trig.expr is None:
        return None
    if trig.kind == "at" and trig.yearly is not None:
        found = ctx.source_expr(trig.expr, scope)
        if found.type not in ("datetime", "any"):
            ctx.sink.error("JF418", "'every year' repeats a date, but this is "
                           f"{article(found.type)}",
                           trig.expr.span.to(trig.yearly),
                           "give a date, e.g. at birthday + 9h every year")
        return found
    if trig.kind == "at":
        return ctx.source_expr(trig.expr, scope, wanted="datetime", what="an 'at' time")
    return ctx.source_expr(trig.expr, scope, condition=True)


def _event(ctx: CompileContext, ident: a.Ident) -> str | None:
    return ident.name if ctx.known_event(ident) else None


def _stage(ctx: CompileContext, ident: a.Ident) -> str:
    ctx.known_stage(ident)
    return ident.name


def _duration(ctx: CompileContext, duration: a.Duration) -> timedelta:
    return duration_value(ctx.sink, duration)


def _gotos(block: a.Block) -> list[a.Goto]:
    found: list[a.Goto] = []
    for stmt in block.stmts:
        if isinstance(stmt, a.Goto):
            found.append(stmt)
        elif isinstance(stmt, a.If):
            found += _gotos(stmt.then)
            if isinstance(stmt.orelse, a.Block):
                found += _gotos(stmt.orelse)
            elif stmt.orelse is not None:
                found += _gotos(a.Block((stmt.orelse,)))
        elif isinstance(stmt, a.Split):
            for arm in stmt.arms:
                found += _gotos(arm.block)
    return found


def _block(ctx: CompileContext, block: a.Block, scope: Scope) -> tuple[m.Action, ...]:
    actions: list[m.Action] = []
    for i, stmt in enumerate(block.stmts):
        if isinstance(stmt, a.Goto) and i != len(block.stmts) - 1:
            ctx.sink.error("JF307", "'-> STAGE' must be the last statement of its block",
                           block.stmts[i + 1].span, "statements after it would never run")
        action = _statement(ctx, stmt, scope)
        if action is not None:
            actions.append(action)
    return tuple(actions)


def _statement(ctx: CompileContext, stmt: a.Stmt, scope: Scope) -> m.Action | None:  # noqa: C901
    if isinstance(stmt, a.Send):
        return m.Send(message=_message(ctx, stmt.message))
    if isinstance(stmt, a.Offer):
        if stmt.kind.name not in OFFER_KINDS:
            ctx.sink.error("JF212", f"unknown offer '{stmt.kind.name}'", stmt.kind.span,
                           did_you_mean(stmt.kind.name, OFFER_KINDS, "use cross_sell or up_sell"))
        kind = stmt.kind.name if stmt.kind.name in OFFER_KINDS else "cross_sell"
        return m.Offer(offer=cast(m.OfferKind, kind), item=stmt.item,
                       message=_message(ctx, stmt.message))
    if isinstance(stmt, a.Grant):
        return _grant(ctx, stmt)
    if isinstance(stmt, a.Redeem):
        if stmt.bonus.name not in ctx.names.bonuses:
            ctx.sink.error("JF209", f"no rule grants a bonus '{stmt.bonus.name}'", stmt.bonus.span,
                           did_you_mean(stmt.bonus.name, ctx.names.bonuses,
                                        f"grant it in a rule: grant bonus {stmt.bonus.name} 10% "
                                        "expires 30d"))
        return m.RedeemBonus(bonus=stmt.bonus.name)
    if isinstance(stmt, a.Set):
        return _set(ctx, stmt, scope)
    if isinstance(stmt, a.Tag):
        return m.TagAction(kind="untag" if stmt.remove else "tag", tag=stmt.tag)
    if isinstance(stmt, a.Emit):
        return _emit(ctx, stmt, scope)
    if isinstance(stmt, a.Notify):
        if stmt.handler.name not in ctx.names.channels:
            ctx.sink.error("JF207", f"unknown channel '{stmt.handler.name}'", stmt.handler.span,
                           did_you_mean(stmt.handler.name, ctx.names.channels)
                           or f"declare it first: channel {stmt.handler.name}")
        fields = {kv.key.name: ctx.source_expr(kv.expr, scope) for kv in stmt.fields}
        return m.Notify(handler=stmt.handler.name, fields=fields)
    if isinstance(stmt, a.Delayed):
        return _delayed(ctx, stmt, scope)
    if isinstance(stmt, a.If):
        return _if(ctx, stmt, scope)
    if isinstance(stmt, a.Split):
        return _split(ctx, stmt, scope)
    return m.Goto(stage=_stage(ctx, stmt.stage), location=ctx.location(stmt.span))


def _delayed(ctx: CompileContext, stmt: a.Delayed, scope: Scope) -> m.Delayed:
    unless = _event(ctx, stmt.unless) if stmt.unless else None
    where = None
    if stmt.where is not None and stmt.unless is not None:
        # An unknown event is reported once: its fields are then not checked either.
        where = ctx.source_expr(stmt.where, scope.for_unless(unless or stmt.unless.name),
                                condition=True, what="an 'unless' guard")
    at = None
    if stmt.at is not None:
        at = ctx.source_expr(stmt.at, scope, wanted="datetime", what="an 'at' time")
    return m.Delayed(after=_duration(ctx, stmt.after) if stmt.after is not None else None,
                     at=at, unless=unless, unless_where=where,
                     body=_block(ctx, stmt.block, scope), location=ctx.location(stmt.span))


def _message(ctx: CompileContext, ident: a.Ident) -> str:
    if ident.name not in ctx.names.messages:
        ctx.sink.error("JF203", f"unknown message '{ident.name}'", ident.span,
                       did_you_mean(ident.name, ctx.names.messages,
                                    f"declare it: message {ident.name} via email {{ ... }}"))
    return ident.name


def _grant(ctx: CompileContext, stmt: a.Grant) -> m.GrantBonus:
    expires = _duration(ctx, stmt.expires)
    remind = _duration(ctx, stmt.remind) if stmt.remind else None
    if remind is not None and stmt.remind is not None and remind >= expires:
        ctx.sink.error("JF414", "the reminder must come before the bonus expires",
                       stmt.remind.span, f"remind less than {stmt.expires.text} before")
    return m.GrantBonus(bonus=stmt.bonus.name, value=number_value(ctx.sink, stmt.value),
                        percent=isinstance(stmt.value, a.Percent), expires=expires, remind=remind)


def _set(ctx: CompileContext, stmt: a.Set, scope: Scope) -> m.SetAttribute:
    name = stmt.attribute.name
    kind = ctx.names.attributes.get(name)
    if kind is None:
        ctx.sink.error("JF204", f"unknown customer attribute '{name}'", stmt.attribute.span,
                       did_you_mean(name, ctx.names.attributes)
                       or "declare it in customer { ... }")
        kind = "any"
    if stmt.op != "=" and kind not in ("number", "any"):
        ctx.sink.error("JF401", f"'{stmt.op}' needs a number attribute, '{name}' is {kind}",
                       stmt.attribute.span, f"replace the value instead: set {name} = ...")
    wanted = kind if stmt.op == "=" else "number"
    value = ctx.source_expr(stmt.expr, scope, wanted=wanted, what=f"the value of '{name}'")
    return m.SetAttribute(attribute=name, op=cast(m.AssignOp, stmt.op), value=value)


def _emit(ctx: CompileContext, stmt: a.Emit, scope: Scope) -> m.Emit:
    event = _event(ctx, stmt.event)
    fields: dict[str, m.SourceExpr] = {}
    declared = ctx.names.events.get(event or "", {})
    for kv in stmt.fields:
        kind = declared.get(kv.key.name)
        if event is not None and kind is None:
            ctx.sink.error("JF205", f"event '{event}' has no field '{kv.key.name}'", kv.key.span,
                           did_you_mean(kv.key.name, declared, f"'{event}' has the fields: "
                                        + (", ".join(declared) or "none")))
        fields[kv.key.name] = ctx.source_expr(kv.expr, scope, wanted=kind or "any",
                                              what=f"field '{kv.key.name}'")
    if event is not None:
        missing = sorted(ctx.names.required_fields.get(event, set()) - fields.keys())
        if missing:
            plural = "s" if len(missing) > 1 else ""
            ctx.sink.error("JF411", f"emit {event} is missing the field{plural}"
                           f" {', '.join(missing)}", stmt.event.span,
                           f"emit {event} {{ {missing[0]}: ... }}")
    return m.Emit(event=stmt.event.name, fields=fields)


def _if(ctx: CompileContext, stmt: a.If, scope: Scope) -> m.IfAction:
    condition = ctx.source_expr(stmt.cond, scope, condition=True)
    orelse: tuple[m.Action, ...] = ()
    if isinstance(stmt.orelse, a.Block):
        orelse = _block(ctx, stmt.orelse, scope)
    elif stmt.orelse is not None:
        orelse = (_if(ctx, stmt.orelse, scope),)
    return m.IfAction(condition=condition, then=_block(ctx, stmt.then, scope), orelse=orelse)


def _split(ctx: CompileContext, stmt: a.Split, scope: Scope) -> m.Split:
    total = sum(arm.share.value for arm in stmt.arms)
    if abs(total - 100) > 1e-9:
        ctx.sink.error("JF306", f"split shares add up to {total:g}%, not 100%", stmt.span,
                       "make the arms' shares sum to 100%")
    for arm in stmt.arms:
        if arm.share.value <= 0:
            ctx.sink.error("JF414", "a split arm needs a share above 0%", arm.share.span,
                           "remove the arm, or give it a share")
    _split_name(ctx, stmt)
    labels: dict[str, a.Ident] = {}
    for arm in stmt.arms:
        if arm.label is None:
            continue
        first = labels.setdefault(arm.label.name, arm.label)
        if first is not arm.label:
            ctx.sink.error("JF227", f"two arms of this split are labelled '{arm.label.name}'",
                           arm.label.span, f"give each arm its own label (the first is on line "
                           f"{first.span.line})")
    arms = tuple(m.SplitArm(share=arm.share.value, body=_block(ctx, arm.block, scope),
                            label=arm.label.name if arm.label is not None else None)
                 for arm in stmt.arms)
    split = m.Split(position=stmt.position, arms=arms,
                    name=stmt.name.value if stmt.name is not None else None)
    ctx.names.splits.setdefault(split.key, tuple(str(arm.title(i))
                                                 for i, arm in enumerate(arms)))
    return split


def _split_name(ctx: CompileContext, stmt: a.Split) -> None:
    """A split's name keys its customers' arms: two splits may not share one."""
    if stmt.name is None:
        return
    if not stmt.name.value.strip():
        ctx.sink.error("JF415", "a split's name cannot be empty", stmt.name.span,
                       'name the experiment, e.g. split "subject_line" { ... }')
        return
    if stmt.name.value == "holdout":
        ctx.sink.error("JF226", "the name 'holdout' keys the journey's holdout", stmt.name.span,
                       "give the split another name; customers would take arms by whether "
                       "they are held out")
        return
    first = ctx.split_names.setdefault(stmt.name.value, stmt.name)
    if first is not stmt.name:
        ctx.sink.error("JF226", f"split '{stmt.name.value}' is named twice", stmt.name.span,
                       f"each split needs its own name (the first is on line {first.span.line}); "
                       "customers would take the same arm in both")
