"""Incoming events: their validation, for every source.

One path serves every source: ``journeyflow run`` hands each line of a file to
:meth:`EventValidator.validate_line`, an embedding hands event dicts (or
:class:`~journeyflow.Event` objects, or anything else) to :meth:`EventValidator.validate`. Each
returns a :data:`ValidEvent` or raises :class:`Rejection` with the reason and the
event as it came. A bad event is never dropped: the caller keeps it among the
rejected, and no input, however malformed, raises anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orjson import JSONDecodeError, loads

from journeyflow.errors import did_you_mean
from journeyflow.model.journey import JourneyModel
from journeyflow.runtime import fieldvalues as fv
from journeyflow.runtime.eventcode import (
    EventCheck,
    ValueCheck,
    build_event_check,
    build_value_check,
)
from journeyflow.runtime.fieldvalues import Rejection
from journeyflow.runtime.jsonio import decode_line, pydantic_model

__all__ = ["EventValidator", "Rejection", "ValidEvent"]


ValidEvent = tuple[str, str, dict[str, Any], float, dict[str, Any]]

_HINT_LENGTH = 100  # longer unknown event names get no "did you mean" (it is quadratic)


class EventValidator:
    """Checks raw events against the journey's declarations.

    Each event type is checked by a function generated for it
    (:mod:`journeyflow.runtime.eventcode`), envelope and fields; this class picks it
    by the event's type and keeps the count of ignored fields (:attr:`warnings`).
    """

    def __init__(self, model: JourneyModel) -> None:
        self.zone = model.timezone
        self.attribute_checks: dict[str, ValueCheck] = {
            name: build_value_check(spec, f"attribute '{name}'", model.timezone)
            for name, spec in model.attributes.items()}
        # The count of ignored fields and attributes: the generated checks add to it.
        self._ignored = [0]
        self.checks: dict[str, EventCheck] = {
            name: build_event_check(name, event.fields, model.timezone, index,
                                    self._attributes, self._ignored)
            for index, (name, event) in enumerate(model.events.items())}

    @property
    def warnings(self) -> int:
        """Given fields and attributes the journey does not declare (ignored) so far."""
        return self._ignored[0]

    @warnings.setter
    def warnings(self, count: int) -> None:
        self._ignored[0] = count

    def validate(self, raw: Any, default_at: float | None = None) -> ValidEvent:
        """``(customer, event, data, at, attributes)`` or :class:`Rejection`.

        ``default_at`` is the time of an event without ``at`` (the engine's clock);
        without it such an event is rejected.
        """
        return self.check(raw, default_at)[0]

    def validate_line(self, line: bytes) -> tuple[ValidEvent, str | None]:
        """One line of an event file: the valid event and its ``id``.

        :meth:`check` on the line's JSON, written out: a batch runs it for every line.
        """
        try:
            raw = loads(line)
        except JSONDecodeError:
            decode_line(line)  # raises the Rejection that says why
            raise
        try:
            check = self.checks.get(raw["event"]) if type(raw) is dict else None
        except (KeyError, TypeError):  # no event type, or one that is not text
            check = None
        if check is None:
            return self.check(raw, None)  # the reason, from the general path
        try:
            return check(raw, None)
        except Rejection as rejection:
            self._describe(rejection, raw, None)
            raise

    def check(self, raw: Any, default_at: float | None) -> tuple[ValidEvent, str | None]:
        """The valid event and its ``id`` (text, or None), or :class:`Rejection`."""
        try:
            if type(raw) is not dict:
                raw = _as_event(raw)
            name = raw.get("event")
            check = self.checks.get(name) if type(name) is str else None
            if check is None:
                fv.customer_id(raw.get("customer"))  # a missing customer is said first
                raise self._unknown_event(name)
            return check(raw, default_at)
        except Rejection as rejection:
            self._describe(rejection, raw, default_at)
            raise

    def _attributes(self, given: Any) -> tuple[dict[str, Any], int]:
        if type(given) is not dict:
            given = fv.as_object(given, "attributes")
        out: dict[str, Any] = {}
        unknown = 0
        checks = self.attribute_checks
        for key, value in given.items():
            check = checks.get(key)
            if check is None:
                unknown += 1  # unknown attributes are ignored, and counted
                continue
            out[key] = check(value)
        return out, unknown

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
        if rejection.event is None:
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
    if pydantic_model(raw):  # an Event
        return raw.model_dump()  # type: ignore[no-any-return]
    if isinstance(raw, Mapping):
        try:
            return dict(raw.items())
        except Exception as exc:  # a mapping of the embedder's that fails to iterate
            raise Rejection(f"the event could not be read: {type(exc).__name__}") from None
    raise Rejection("an event must be a JSON object")

