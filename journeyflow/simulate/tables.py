"""The behaviour model compiled against one journey's program, once per process.

Per stage index: the total rate of the stage's and the ``anywhere`` rates (per
second), their cumulative shares to pick which event comes, and a payload
sampler per event for reactions, which carry no payload of their own.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from journeyflow.errors import JourneyError
from journeyflow.journey import check_text
from journeyflow.model.behaviour import Arrival, Behaviour, Distribution, Rate
from journeyflow.runtime.program import Program
from journeyflow.simulate.draws import Payload, payload_sampler
from journeyflow.simulate.plan import DAY, Plan
from journeyflow.simulate.tally import UNREAD

__all__ = ["StageRates", "Tables", "program_for", "tables_for"]


@dataclass(frozen=True)
class StageRates:
    """The competing behaviour events of one stage."""

    total: float  # events per customer per second; 0 when nothing happens here
    cumulative: tuple[float, ...]
    events: tuple[tuple[str, Payload], ...]


@dataclass(frozen=True)
class Tables:
    """Everything the engine looks up while stepping one customer."""

    program: Program
    stages: tuple[StageRates, ...]
    arrivals: tuple[Payload, ...]  # by index into Behaviour.arrivals
    reactions: dict[str, tuple[tuple[str, float, float], ...]]  # message -> (event, p, within)
    reaction_payloads: tuple[dict[str, Payload], ...]  # by stage index: event -> payload
    by_field: str | None  # --by names an event field: first-touch value
    by_attribute: str | None  # --by names a customer attribute: value at the end


@lru_cache(maxsize=8)
def program_for(source: str, file: str) -> Program:
    """Compile a journey's program once per process (workers get only the text)."""
    model = check_text(source, file).model
    if model is None:
        raise JourneyError(f"{file} does not compile")
    return Program(model, untraced=UNREAD)


class _Payloads:
    """Payload samplers with the journey's declared field types and defaults."""

    def __init__(self, program: Program) -> None:
        model = program.model
        self.zone = model.timezone
        self.types = {name: {f: a.type for f, a in e.fields.items()}
                      for name, e in model.events.items()}
        self.defaults: dict[str, dict[str, Any]] = {}
        for name, event in model.events.items():
            base = dict(program.event_defaults.get(name, {}))
            for f, attr in event.fields.items():
                if f not in base and attr.optional:
                    base[f] = None  # an optional field without default arrives as null
            self.defaults[name] = base
        self.required = {name: {f for f, a in e.fields.items()
                                if a.default is None and not a.optional}
                         for name, e in model.events.items()}

    def make(self, event: str, fields: dict[str, Distribution]) -> Payload:
        return payload_sampler(event, fields, self.types.get(event, {}),
                               self.defaults.get(event, {}), self.zone)


def _stage_rates(behaviour: Behaviour, stage: str, payloads: _Payloads) -> StageRates:
    rates = [r for r in behaviour.rates if (not r.stages or stage in r.stages) and r.per_day > 0]
    per_second = [r.per_day / DAY for r in rates]
    return StageRates(sum(per_second), tuple(itertools.accumulate(per_second)),
                      tuple((r.event, payloads.make(r.event, r.payload)) for r in rates))


def _reaction_payloads(behaviour: Behaviour, stage: str, payloads: _Payloads,
                       fallback: dict[str, Payload]) -> dict[str, Payload]:
    """A reaction's payload: the stage's own rate for the event, else the fallback."""
    out = dict(fallback)
    for rate in reversed(behaviour.rates):  # reversed: the first in file order wins
        if stage in rate.stages:
            out[rate.event] = payloads.make(rate.event, rate.payload)
    return out


def _fallbacks(behaviour: Behaviour, payloads: _Payloads) -> dict[str, Payload]:
    """Per reaction event: an ``anywhere`` rate, else any rate, else an arrival of it."""
    fields: dict[str, dict[str, Distribution]] = {}
    sources: tuple[Sequence[Arrival | Rate], ...] = (
        behaviour.arrivals, [r for r in behaviour.rates if r.stages],
        [r for r in behaviour.rates if not r.stages])
    for source in sources:
        # Later sources take precedence; within one, the first in file order.
        for item in reversed(source):
            fields[item.event] = item.payload
    out = {}
    for reaction in behaviour.reactions:
        event = reaction.event
        given = fields.get(event, {})
        missing = sorted(payloads.required.get(event, set()) - given.keys())
        if missing:
            raise JourneyError(
                f"reacts to {reaction.message} {{ {event} ... }}: no rate or arrival of "
                f"'{event}' says how to draw {', '.join(missing)}; add one, e.g. "
                f"anywhere {{ {event} 0 per day {{ {missing[0]}: ... }} }}")
        out[event] = payloads.make(event, given)
    return out


def _build(plan: Plan) -> Tables:
    program = program_for(plan.source, plan.file)
    behaviour = plan.behaviour
    payloads = _Payloads(program)
    fallback = _fallbacks(behaviour, payloads)
    reactions: dict[str, list[tuple[str, float, float]]] = {}
    for r in behaviour.reactions:
        reactions.setdefault(r.message, []).append((r.event, r.probability, r.within_seconds))
    model = program.model
    by_attribute = plan.by if plan.by in model.attributes else None
    return Tables(
        program=program,
        stages=tuple(_stage_rates(behaviour, s, payloads) for s in program.stage_names),
        arrivals=tuple(payloads.make(a.event, a.payload) for a in behaviour.arrivals),
        reactions={m: tuple(v) for m, v in reactions.items()},
        reaction_payloads=tuple(_reaction_payloads(behaviour, s, payloads, fallback)
                                for s in program.stage_names),
        by_field=plan.by if plan.by is not None and by_attribute is None else None,
        by_attribute=by_attribute)


_CACHE: dict[str, Tables] = {}


def tables_for(plan: Plan) -> Tables:
    """The tables of ``plan``, built once per process (a worker may get many copies)."""
    key = plan.key
    tables = _CACHE.get(key)
    if tables is None:
        if len(_CACHE) >= 8:
            _CACHE.clear()
        tables = _CACHE[key] = _build(plan)
    return tables
