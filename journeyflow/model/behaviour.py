"""The behaviour model of ``simulate { ... }`` (docs/simulate.md)."""

from __future__ import annotations

from typing import Literal

from journeyflow.model.journey import Frozen

__all__ = ["Arrival", "Behaviour", "Distribution", "Rate", "Reaction"]


class Distribution(Frozen):
    """How one payload field is drawn."""

    kind: Literal["normal", "lognormal", "uniform", "exponential", "choice", "constant"]
    params: tuple[float, ...] = ()
    choices: tuple[tuple[str, float], ...] = ()
    constant: float | str | bool | None = None
    low: float | None = None
    high: float | None = None


class Arrival(Frozen):
    event: str
    per_day: float
    days: float | None = None
    payload: dict[str, Distribution]


class Rate(Frozen):
    """Events per customer per day while in ``stages`` (empty: anywhere)."""

    stages: tuple[str, ...]
    event: str
    per_day: float
    payload: dict[str, Distribution]


class Reaction(Frozen):
    message: str
    event: str
    probability: float
    within_seconds: float


class Behaviour(Frozen):
    arrivals: tuple[Arrival, ...] = ()
    rates: tuple[Rate, ...] = ()
    reactions: tuple[Reaction, ...] = ()
