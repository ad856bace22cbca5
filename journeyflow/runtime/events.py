"""Incoming events: the pydantic ``Event`` of the embedding API, and validation.

One path serves every source: ``journeyflow run`` hands each line of a file to
:meth:`EventValidator.validate_line`, an embedding hands event dicts (or
:class:`Event` objects, or anything else) to :meth:`EventValidator.validate`. Each
returns a :data:`ValidEvent` or raises :class:`Rejection` with the reason and the
event as it came. A bad event is never dropped: the caller keeps it among the
rejected, and no input, however malformed, raises anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from journeyflow.errors import did_you_mean
from journeyflow.model.journey import JourneyModel
from journeyflow.runtime import fieldvalues as fv
from journeyflow.runtime.eventcode import (
    DataCheck,
    ValueCheck,
    build_data_check,
    build_value_check,
)
from journeyflow.runtime.fieldvalues import Rejection
from journeyflow.runtime.jsonio import decode_line
from journeyflow.runtime.timeutil import in_range, zone_info

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


ValidEvent = tuple[str, str, dict[str, Any], float, dict[str, Any]]

_fromisoformat = datetime.fromisoformat
_HINT_LENGTH = 100  # longer unknown event names get no "did you mean" (it is quadratic)


class EventValidator:
    """Checks raw events against the journey's declarations.

    Each event type's ``data`` is checked by a function generated for it
    (:mod:`journeyflow.runtime.eventcode`); the envelope (customer, event type,
    time, attributes, id) is checked here.
    """

    def __init__(self, model: JourneyModel) -> None:
        self.zone = model.timezone
        self._tz = zone_info(model.timezone)
        self.checks: dict[str, DataCheck] = {
            name: build_data_check(event.fields, model.timezone, f"event_{index}")
            for index, (name, event) in enumerate(model.events.items())}
        self.attribute_checks: dict[str, ValueCheck] = {
            name: build_value_check(spec, f"attribute '{name}'", model.timezone)
            for name, spec in model.attributes.items()}
        self.warnings = 0

    def validate_line(self, line: bytes) -> tuple[ValidEvent, dict[str, Any]]:
        """One line of an event file: the valid event and the event as read."""
        raw = decode_line(line)
        return self.validate(raw), raw

    def validate(self, raw: Any, default_at: float | None = None) -> ValidEvent:
        """``(customer, event, data, at, attributes)`` or :class:`Rejection`.

        ``default_at`` is the time of an event without ``at`` (the engine's clock);
        without it such an event is rejected.
        """
        try:
            if type(raw) is not dict:
                raw = _as_event(raw)
            customer = raw.get("customer")
            if type(customer) is not str or not customer or not customer.isascii():
                customer = fv.customer_id(customer)
            name = raw.get("event")
            check = self.checks.get(name) if type(name) is str else None
            if check is None:
                raise self._unknown_event(name)
            at = raw.get("at")
            if type(at) is str:
                at = self._parse_at(at)
            else:
                at = fv.timestamp(at, self.zone, default_at)
            data, extra = check(raw.get("data"))
            given = raw.get("attributes")
            attributes = {} if given is None else self._attributes(given)
            if "id" in raw:
                fv.event_id(raw["id"])
        except Rejection as rejection:
            self._describe(rejection, raw, default_at)
            raise
        if extra:
            self.warnings += extra
        return customer, name, data, at, attributes

    def _parse_at(self, text: str) -> float:
        """ISO 8601 text, the common case, without the slow path's detours."""
        try:
            moment = _fromisoformat(text)
        except ValueError:
            return fv.timestamp(text, self.zone, None)  # spaces around it, or the reason
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self._tz)
        at = moment.timestamp()
        if not in_range(at):
            return fv.timestamp(text, self.zone, None)  # the reason, with the range
        return at

    def _attributes(self, given: Any) -> dict[str, Any]:
        if type(given) is not dict:
            given = fv.as_object(given, "attributes")
        out: dict[str, Any] = {}
        checks = self.attribute_checks
        for key, value in given.items():
            check = checks.get(key)
            if check is None:
                self.warnings += 1  # unknown attributes are ignored, and counted
                continue
            out[key] = check(value)
        return out

    def _unknown_event(self, name: Any) -> Rejection:
        if not isinstance(name, str) or not name:
            return Rejection("no event type")
        if len(name) > _HINT_LENGTH:
            return Rejection(f"unknown event {fv.show(name)}")
        hint = did_you_mean(name, self.checks)
        shown = name if fv.valid_unicode(name) else fv.show(name)
        return Rejection(f"unknown event '{shown}'" + (f"; {hint}" if hint else ""))

    def _describe(self, rejection: Rejection, raw: Any, default_at: float | None) -> None:
        """Add the event, and its time and customer where they were valid, to a rejection."""
        rejection.event = raw
        if not isinstance(raw, dict):
            return
        if rejection.at is None:
            try:
                rejection.at = fv.timestamp(raw.get("at"), self.zone, default_at)
            except Rejection:
                pass
        if rejection.customer is None:
            try:
                rejection.customer = fv.customer_id(raw.get("customer"))
            except Rejection:
                pass


def _as_event(raw: Any) -> dict[str, Any]:
    """An :class:`Event`, or any mapping an embedder passes, as a plain dict."""
    if isinstance(raw, BaseModel):
        return raw.model_dump()
    if isinstance(raw, Mapping):
        try:
            return dict(raw.items())
        except Exception as exc:  # a mapping of the embedder's that fails to iterate
            raise Rejection(f"the event could not be read: {type(exc).__name__}") from None
    raise Rejection("an event must be a JSON object")

