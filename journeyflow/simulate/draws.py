"""Payload draws: each ``simulate`` distribution compiled to a sampler.

A sampler takes the customer's own ``random.Random`` and returns a value of the
type the event declares for the field (docs/simulate.md), so the
interpreter sees the same kind of data a real event stream would bring.

Examples
--------
>>> import random
>>> from journeyflow.model.behaviour import Distribution
>>> draw = sampler(Distribution(kind="uniform", params=(1, 5)), "number", "rating")
>>> 1 <= draw(random.Random(7)) <= 5
True
>>> sampler(Distribution(kind="constant", constant="x"), "text", "friend")(random.Random(1))
'x'
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Mapping
from random import Random
from typing import Any

from journeyflow.errors import JourneyError
from journeyflow.model.behaviour import Distribution
from journeyflow.runtime.timeutil import parse_date_value

__all__ = ["Payload", "Sampler", "payload_sampler", "sampler"]

Sampler = Callable[[Random], Any]
Payload = Callable[[Random], dict[str, Any]]

# Rejection sampling gives the truncated distribution a marketer means by
# `normal(80, 25, min 0)`; after this many misses the bound is applied by
# clamping, so impossible bounds cannot hang a run.
MAX_TRIES = 100


def _numeric(dist: Distribution) -> Callable[[Random], float]:
    """The unbounded numeric draw of ``dist``."""
    p = dist.params
    if dist.kind == "normal":
        mean, spread = p
        return lambda rng: rng.gauss(mean, spread)
    if dist.kind == "lognormal":
        mu, sigma = p
        return lambda rng: rng.lognormvariate(mu, sigma)
    if dist.kind == "uniform":
        low, width = p[0], p[1] - p[0]
        return lambda rng: low + width * rng.random()
    rate = 1.0 / p[0]  # exponential(mean)
    return lambda rng: rng.expovariate(rate)


def _bounded(dist: Distribution) -> Callable[[Random], float]:
    draw = _numeric(dist)
    low = -math.inf if dist.low is None else dist.low
    high = math.inf if dist.high is None else dist.high
    if dist.low is None and dist.high is None:
        return draw

    def bounded(rng: Random) -> float:
        for _ in range(MAX_TRIES):
            x = draw(rng)
            if low <= x <= high:
                return x
        return min(max(x, low), high)

    return bounded


def _choice(dist: Distribution) -> Callable[[Random], str]:
    labels = [label for label, _ in dist.choices]
    cumulative = list(itertools.accumulate(weight for _, weight in dist.choices))
    total = cumulative[-1]
    last = len(labels) - 1

    def choose(rng: Random) -> str:
        return labels[min(bisect.bisect_right(cumulative, rng.random() * total), last)]

    return choose


def _convert(value: Any, kind: str, where: str, zone: str = "UTC") -> Any:
    """``value`` as a ``kind`` value, or a JourneyError naming the field."""
    if kind == "number":
        if isinstance(value, bool):
            raise JourneyError(f"{where} is a number, not {value!r}")
        try:
            return float(value)
        except ValueError:
            raise JourneyError(f"{where} is a number, not {value!r}") from None
    if kind == "text":
        return value if isinstance(value, str) else f"{value:g}" if isinstance(
            value, float) else str(value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise JourneyError(f"{where} is true or false, not {value!r}")
    if kind in ("date", "datetime"):
        try:
            return parse_date_value(value, zone)
        except (ValueError, TypeError):
            raise JourneyError(f"{where} is a date: give a constant such as "
                               f'"2026-01-01", not {value!r}') from None
    raise JourneyError(f"{where} is a {kind}; simulate cannot draw it")


def sampler(dist: Distribution, kind: str, where: str, zone: str = "UTC") -> Sampler:
    """A sampler for one field of type ``kind`` (``where`` names it in errors).

    A constant date is read in ``zone``, the journey's time zone.
    """
    if dist.kind == "constant":
        value = _convert(dist.constant, kind, where, zone)
        return lambda rng: value
    if dist.kind == "choice":
        for label, _ in dist.choices:
            _convert(label, kind, where)  # fail before the run, not inside it
        choose = _choice(dist)
        if kind == "text":
            return choose
        return lambda rng: _convert(choose(rng), kind, where)
    if kind in ("date", "datetime", "list"):
        _convert(0.0, kind, where)
    draw = _bounded(dist)
    if kind == "number":
        return draw
    return lambda rng: _convert(draw(rng), kind, where)


def payload_sampler(event: str, fields: Mapping[str, Distribution],
                    declared: Mapping[str, str], defaults: Mapping[str, Any],
                    zone: str = "UTC") -> Payload:
    """The whole payload of one simulated ``event``: defaults, then the drawn fields.

    Fields are drawn in the order the ``simulate`` block names them, so a run's
    random stream does not depend on dict order elsewhere.
    """
    draws = tuple((name, sampler(dist, declared.get(name, "text"), f"{event}.{name}", zone))
                  for name, dist in fields.items())
    base = dict(defaults)
    if not draws:
        return lambda rng: dict(base)

    def payload(rng: Random) -> dict[str, Any]:
        data = dict(base)
        for name, draw in draws:
            data[name] = draw(rng)
        return data

    return payload
