"""Scenarios: a journey's own executable examples (docs/language.md, Scenarios)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from journeyflow.model.journey import Location, Part, SourceExpr

__all__ = ["Expectation", "ExpectationKind", "FeedEvent", "Scenario", "ScenarioStep", "Wait"]

ExpectationKind = Literal["stage", "sent", "tagged", "goal", "bonus", "suppressed", "arm",
                          "expr"]


class FeedEvent(Part, frozen=True, kw_only=True):
    """``at TIME|+DURATION EVENT {data} [as "id"] [with {attributes}]``."""

    kind: Literal["event"] = "event"
    at: datetime | None = None
    offset: timedelta | None = None
    event: str
    data: dict[str, Any]
    customer: str | None = None
    attributes: dict[str, Any]
    location: Location


class Wait(Part, frozen=True, kw_only=True):
    kind: Literal["wait"] = "wait"
    duration: timedelta
    location: Location


class Expectation(Part, frozen=True, kw_only=True):
    """``expect [not] stage|sent|tagged|goal|bonus|suppressed NAME``, ``expect sent NAME
    N times``, ``expect sent NAME containing "text"``, ``expect suppressed NAME because
    REASON``, ``expect arm "SPLIT" LABEL`` or ``expect EXPR``."""

    kind: ExpectationKind
    negated: bool = False
    name: str | None = None
    condition: SourceExpr | None = None
    times: int | None = None
    containing: str | None = None
    reason: str | None = None
    split: str | None = None
    location: Location

    @property
    def text(self) -> str:
        if self.condition is not None:
            return f"expect {self.condition.source}"
        neg = "not " if self.negated else ""
        value = f'"{self.name}"' if self.kind == "tagged" else self.name
        if self.split is not None:
            value = f'"{self.split}" {self.name}'
        text = f"expect {neg}{self.kind} {value}"
        if self.times is not None:
            text += f" {self.times} times"
        if self.containing is not None:
            text += f' containing "{self.containing}"'
        if self.reason is not None:
            text += f" because {self.reason}"
        return text


ScenarioStep = FeedEvent | Wait | Expectation


class Scenario(Part, frozen=True, kw_only=True):
    name: str
    steps: tuple[ScenarioStep, ...]
    location: Location
