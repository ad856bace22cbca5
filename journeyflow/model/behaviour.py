"""The behaviour model of ``simulate { ... }`` (docs/simulate.md)."""

from __future__ import annotations

from typing import Literal

from journeyflow.model.journey import Part

__all__ = ["Arrival", "Behaviour", "Distribution", "DistributionKind", "Rate", "Reaction"]

DistributionKind = Literal["normal", "lognormal", "uniform", "exponential", "choice", "constant"]


class Distribution(Part, frozen=True, kw_only=True):
    """How one payload field is drawn."""

    kind: DistributionKind
    params: tuple[float, ...] = ()
    choices: tuple[tuple[str, float], ...] = ()
    constant: float | str | bool | None = None
    low: float | None = None
    high: float | None = None


class Arrival(Part, frozen=True, kw_only=True):
    event: str
    per_day: float
    days: float | None = None
    payload: dict[str, Distribution]


class Rate(Part, frozen=True, kw_only=True):
    """Events per customer per day while in ``stages`` (empty: anywhere)."""

    stages: tuple[str, ...]
    event: str
    per_day: float
    payload: dict[str, Distribution]


class Reaction(Part, frozen=True, kw_only=True):
    message: str
    event: str
    probability: float
    within_seconds: float


class Behaviour(Part, frozen=True, kw_only=True):
    arrivals: tuple[Arrival, ...] = ()
    rates: tuple[Rate, ...] = ()
    reactions: tuple[Reaction, ...] = ()
