"""Incoming events: the pydantic ``Event`` of the embedding API, and validation.

A bad event is never dropped: validation returns the reason, and the caller
keeps it among the rejected (step 8, precise rule 11).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from journeyflow.errors import did_you_mean
from journeyflow.model.journey import Attribute, JourneyModel
from journeyflow.runtime.timeutil import parse_date_value, parse_instant

__all__ = ["Event", "EventValidator", "Rejection", "ValidEvent"]


class Event(BaseModel):
    """One thing a customer did (or that happened to them).

    >>> Event(at="2026-01-05T10:00:00Z", customer="c1", event="purchased",
    ...       data={"amount": 120}).customer
    'c1'
    """

    model_config = ConfigDict(extra="forbid")

    at: datetime | None = None
    customer: str
    event: str
    id: str | None = None  # makes redelivery of the same event harmless
    data: dict[str, Any] = Field(default_factory=dict)
    attributes: dict[str, Any] = Field(default_factory=dict)


class Rejection(Exception):
    """Why an event cannot be processed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


ValidEvent = tuple[str, str, dict[str, Any], float, dict[str, Any]]

_TYPE_WORDS = {"number": "a number", "text": "text", "bool": "true or false",
               "date": "a date", "datetime": "a date-time", "list": "a list"}


class EventValidator:
    """Checks raw events against the journey's declarations, field by field."""

    def __init__(self, model: JourneyModel) -> None:
        self.zone = model.timezone
        self.events = {name: dict(event.fields) for name, event in model.events.items()}
        self.attributes = dict(model.attributes)
        self.warnings = 0

    def validate(self, raw: Any, default_at: float | None = None) -> ValidEvent:
        """``(customer, event, data, at, attributes)`` or :class:`Rejection`."""
        if isinstance(raw, Event):
            raw = raw.model_dump()
        if not isinstance(raw, Mapping):
            raise Rejection("an event must be a JSON object")
        customer = raw.get("customer")
        if customer is None or customer == "":
            raise Rejection("no customer id")
        if not isinstance(customer, str | int) or isinstance(customer, bool):
            raise Rejection(f"customer id must be text, got {customer!r}")
        name = raw.get("event")
        if not isinstance(name, str) or not name:
            raise Rejection("no event type")
        fields = self.events.get(name)
        if fields is None:
            hint = did_you_mean(name, self.events)
            raise Rejection(f"unknown event '{name}'" + (f"; {hint}" if hint else ""))
        at = self._timestamp(raw.get("at"), default_at)
        data = self._fields(raw.get("data"), fields, "field", require=True)
        attributes = self._fields(raw.get("attributes"), self.attributes, "attribute",
                                  require=False)
        return str(customer), name, data, at, attributes

    def _timestamp(self, value: Any, default_at: float | None) -> float:
        if value is None:
            if default_at is None:
                raise Rejection("no timestamp ('at')")
            return default_at
        if isinstance(value, datetime):
            return value.timestamp() if value.tzinfo else parse_instant(value.isoformat())
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)  # seconds since the epoch, as embeddings often have them
        if not isinstance(value, str):
            raise Rejection(f"unparsable timestamp {value!r}")
        try:
            return parse_instant(value)
        except ValueError:
            raise Rejection(f"unparsable timestamp '{value}'") from None

    def _fields(self, given: Any, declared: Mapping[str, Attribute], what: str,
                require: bool) -> dict[str, Any]:
        if given is None:
            given = {}
        if not isinstance(given, Mapping):
            raise Rejection(f"'{'data' if require else 'attributes'}' must be an object")
        out: dict[str, Any] = {}
        for key, value in given.items():
            spec = declared.get(key)
            if spec is None:
                self.warnings += 1  # extra fields are ignored, and counted (11.11)
                continue
            out[key] = self._value(key, value, spec, what, require)
        if require:
            for key, spec in declared.items():
                if key not in out:
                    if spec.default is not None:
                        out[key] = self._value(key, spec.default, spec, what, True)
                    elif spec.optional:
                        out[key] = None
                    else:
                        raise Rejection(f"missing {what} '{key}'")
        return out

    def _value(self, key: str, value: Any, spec: Attribute, what: str, require: bool) -> Any:
        if value is None:
            if require and not spec.optional and spec.default is None:
                raise Rejection(f"{what} '{key}' is null")
            return None
        kind = spec.type
        ok = (
            (kind == "number" and isinstance(value, int | float) and not isinstance(value, bool))
            or (kind == "text" and isinstance(value, str))
            or (kind == "bool" and isinstance(value, bool))
            or (kind == "list" and isinstance(value, list))
        )
        if kind in ("date", "datetime"):
            try:
                return parse_date_value(value, self.zone)
            except (ValueError, TypeError):
                raise Rejection(f"{what} '{key}' must be {_TYPE_WORDS[kind]}, "
                                f"got {value!r}") from None
        if not ok:
            raise Rejection(f"{what} '{key}' must be {_TYPE_WORDS.get(kind, kind)}, "
                            f"got {value!r}")
        return value
