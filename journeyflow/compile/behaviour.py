"""Check and lower a ``simulate`` block with the same care as the journey itself."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import cast

from journeyflow.compile.context import CompileContext
from journeyflow.compile.typecheck import duration_value, number_value
from journeyflow.errors import Span, did_you_mean
from journeyflow.model.behaviour import (
    Arrival,
    Behaviour,
    Distribution,
    DistributionKind,
    Rate,
    Reaction,
)
from journeyflow.syntax import ast as a

__all__ = ["lower_behaviour", "PERIODS"]

PERIODS = {"minute": 1 / 1440, "hour": 1 / 24, "day": 1.0, "week": 7.0, "month": 30.0,
           "year": 365.0}
ARITY = {"normal": 2, "lognormal": 2, "uniform": 2, "exponential": 1}
DISTRIBUTIONS = (*ARITY, "choice")
SIGNATURES = {"normal": "mean, spread", "lognormal": "mu, sigma", "uniform": "low, high",
              "exponential": "mean"}


def lower_behaviour(ctx: CompileContext, decl: a.SimulateDecl) -> Behaviour:
    arrivals: list[Arrival] = []
    rates: list[Rate] = []
    reactions: list[Reaction] = []
    for item in decl.items:
        if isinstance(item, a.SimArrivals):
            event = _event(ctx, item.event)
            period = _period(ctx, item.period)
            lasting = duration_value(ctx.sink, item.lasting) if item.lasting else None
            arrivals.append(Arrival(event=event,
                                    per_day=number_value(ctx.sink, item.count) / period,
                                    days=lasting / timedelta(days=1) if lasting else None,
                                    payload=_payload(ctx, item.event, item.payload)))
        elif isinstance(item, a.SimIn):
            stages = tuple(_stage(ctx, s) for s in item.stages)
            for rate in item.rates:
                rates.append(_rate(ctx, stages, rate))
        else:
            message = item.message.name
            if message not in ctx.names.messages:
                ctx.sink.error("JF203", f"unknown message '{message}'", item.message.span,
                               did_you_mean(message, ctx.names.messages,
                                            f"declare it: message {message} via email {{ ... }}"))
            for reaction in item.reactions:
                share = reaction.share.value
                if not 0 < share <= 100:
                    ctx.sink.error("JF501", "a reaction's chance is between 0% and 100%",
                                   reaction.share.span,
                                   "it is the chance that one delivered send causes the event")
                within = duration_value(ctx.sink, reaction.within)
                reactions.append(Reaction(message=message, event=_event(ctx, reaction.event),
                                          probability=share / 100,
                                          within_seconds=float(int(within.total_seconds()))))
    return Behaviour(arrivals=tuple(arrivals), rates=tuple(rates), reactions=tuple(reactions))


def _rate(ctx: CompileContext, stages: tuple[str, ...], rate: a.SimRate) -> Rate:
    event = _event(ctx, rate.event)
    period = _period(ctx, rate.period)
    value = number_value(ctx.sink, rate.rate)
    if isinstance(rate.rate, a.Percent):
        if value > 100:
            ctx.sink.error("JF501", f"a rate of {rate.rate.text} is over 100% per "
                           f"{rate.period.name}", rate.rate.span,
                           "a share of customers per period is at most 100%; for several "
                           "events per customer write a plain number: 3 per day")
        value /= 100
    return Rate(stages=stages, event=event, per_day=value / period,
                payload=_payload(ctx, rate.event, rate.payload))


def _event(ctx: CompileContext, ident: a.Ident) -> str:
    ctx.known_event(ident)
    return ident.name


def _stage(ctx: CompileContext, ident: a.Ident) -> str:
    ctx.known_stage(ident)
    return ident.name


def _period(ctx: CompileContext, ident: a.Ident) -> float:
    name = ident.name.rstrip("s") if ident.name.endswith("s") else ident.name
    if name not in PERIODS:
        ctx.sink.error("JF502", f"unknown period '{ident.name}'", ident.span,
                       did_you_mean(ident.name, PERIODS) or "use day, week, hour or month")
        return 1.0
    return PERIODS[name]


def _payload(ctx: CompileContext, ident: a.Ident,
             fields: tuple[a.DistField, ...]) -> dict[str, Distribution]:
    """The payload distributions of the simulated ``ident`` events, checked field by field."""
    event = ident.name
    declared = ctx.names.events.get(event, {})
    out: dict[str, Distribution] = {}
    for fld in fields:
        kind = declared.get(fld.name.name)
        if event in ctx.names.events and kind is None:
            ctx.sink.error("JF205", f"event '{event}' has no field '{fld.name.name}'",
                           fld.name.span, did_you_mean(fld.name.name, declared,
                                                       f"'{event}' has the fields: "
                                                       + (", ".join(declared) or "none")))
        out[fld.name.name] = _distribution(ctx, fld, kind)
    missing = sorted(ctx.names.required_fields.get(event, set()) - out.keys())
    if missing:
        ctx.sink.error("JF411", f"simulated '{event}' events lack the field"
                       f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}", ident.span,
                       "give every field without a default a value: "
                       f"{{ {missing[0]}: ... }}")
    return out


def _distribution(ctx: CompileContext, fld: a.DistField, kind: str | None) -> Distribution:
    dist = fld.dist
    if _too_large(ctx, dist):
        return Distribution(kind="constant", constant=0.0)
    if dist.func is None:
        return Distribution(kind="constant", constant=dist.constant)
    func = dist.func
    for x in dist.args:
        if x.kind == "bound" and x.label not in ("min", "max"):
            ctx.sink.error("JF503", f"unknown bound '{x.label}'", x.span, "use min or max")
    if func == "choice":
        return _choice(ctx, dist)
    if func not in ARITY:
        ctx.sink.error("JF503", f"unknown distribution '{func}'",
                       Span.point(dist.span.line, dist.span.col, len(func)),
                       did_you_mean(func, DISTRIBUTIONS,
                                    "use normal, lognormal, uniform, exponential or choice"))
        return Distribution(kind="constant", constant=0.0)
    numbers = [x.value for x in dist.args if x.kind == "number"]
    if len(numbers) != ARITY[func]:
        ctx.sink.error("JF503", f"{func} takes {ARITY[func]} number"
                       f"{'s' if ARITY[func] > 1 else ''}, not {len(numbers)}", dist.span,
                       f"write {func}({SIGNATURES[func]})")
        return Distribution(kind="constant", constant=0.0)
    bounds = {x.label: x.value for x in dist.args if x.kind == "bound"}
    if func == "normal" and kind == "number" and "min" not in bounds:
        ctx.sink.warning("JF606", f"'{fld.name.name}' is drawn from an unbounded normal "
                         "distribution and may come out negative", dist.span,
                         f"bound it: normal({numbers[0]:g}, {numbers[1]:g}, min 0)")
    _check_parameters(ctx, dist, func, numbers)
    return Distribution(kind=cast(DistributionKind, func), params=tuple(numbers),
                        low=bounds.get("min"), high=bounds.get("max"))


def _too_large(ctx: CompileContext, dist: a.Dist) -> bool:
    """Report numbers too large to compute with (they read as infinity)."""
    huge = [x.span for x in dist.args if not math.isfinite(x.value)]
    if isinstance(dist.constant, float) and not math.isfinite(dist.constant):
        huge.append(dist.span)
    for span in huge:
        ctx.sink.error("JF414", "this number is too large", span)
    return bool(huge)


def _choice(ctx: CompileContext, dist: a.Dist) -> Distribution:
    choices = tuple((x.label or "", x.value) for x in dist.args if x.kind == "choice")
    total = sum(w for _, w in choices)
    numbers = [x for x in dist.args if x.kind == "number"]
    if not choices or numbers or abs(total - 1) > 1e-6:
        ctx.sink.error("JF503", f"choice weights must add up to 1 (they add up to {total:g})"
                       if choices else 'choice takes "value": weight pairs', dist.span,
                       'e.g. choice("shoes": 0.6, "bags": 0.4)')
    return Distribution(kind="choice", choices=choices)


def _check_parameters(ctx: CompileContext, dist: a.Dist, func: str,
                      numbers: list[float]) -> None:
    if func in ("lognormal", "exponential") and numbers[-1] <= 0:
        ctx.sink.error("JF503", f"{func} needs a positive {SIGNATURES[func].split(', ')[-1]}",
                       dist.span, f"write {func}({SIGNATURES[func]})")
    if func == "uniform" and numbers[0] > numbers[1]:
        ctx.sink.error("JF503", "uniform(low, high) needs low <= high", dist.span,
                       f"write uniform({numbers[1]:g}, {numbers[0]:g})")
    if func == "normal" and numbers[1] < 0:
        ctx.sink.error("JF503", "a normal distribution's spread cannot be negative", dist.span,
                       "write normal(mean, spread), e.g. normal(80, 25, min 0)")
