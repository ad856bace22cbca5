"""The pydantic models of the embedding API: :class:`Event` and :class:`CustomerState`.

They live apart from the engine so that a run which never makes one (``journeyflow
run`` reads its events as bytes and checks them with generated code) starts without
importing pydantic; ``journeyflow.Event`` and ``Engine.customer`` import this module on
first use.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CustomerState", "Event"]


class Event(BaseModel):
    """One thing a customer did (or that happened to them).

    >>> Event(at="2026-01-05T10:00:00Z", customer="c1", event="purchased",
    ...       data={"amount": 120}).customer
    'c1'
    """

    # Built on first use: events are checked by generated code, and a run that never
    # makes an Event should not pay for building its validator at start.
    model_config = ConfigDict(extra="forbid", defer_build=True)

    at: datetime | None = None
    customer: str
    event: str
    id: str | None = None  # makes redelivery of the same event harmless
    data: dict[str, Any] = Field(default_factory=dict)
    attributes: dict[str, Any] = Field(default_factory=dict)


class CustomerState(BaseModel):
    """A snapshot of one customer, as the state file shows it (docs/language.md)."""

    model_config = ConfigDict(defer_build=True)  # built on first use, not at start

    id: str
    stage: str
    status: str
    attributes: dict[str, Any]
    tags: list[str]
    bonuses: dict[str, dict[str, Any]]
    goals: list[str]
    segments: list[str]
    pending: list[dict[str, Any]]
    value: float | None = None
