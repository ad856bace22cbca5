"""Dates without an offset, read in the customer's own time zone.

With ``timezone customer.tz or "Europe/Berlin"``, ``"birthday": "1990-05-17"`` or
``"renewal": "2026-09-01T09:00"`` in an event means that day or that wall time where
the customer lives. Validation has already read such a value in the fallback zone
(it checks an event before knowing its customer); here, once the customer is known,
each offset-less text value of a ``date`` or ``datetime`` field is read again in the
customer's zone. A value with an offset, or given as a number, names one instant
anywhere and is left as it is. An event's own ``at`` stays in the fallback zone: the
events of a file are put in time order before any customer exists.

Journeys with one zone for everybody never build this object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from journeyflow.model.journey import JourneyModel
from journeyflow.runtime.jsonio import decode_line
from journeyflow.runtime.timeutil import parse_date_value
from journeyflow.runtime.zones import CustomerZones, zone_named

__all__ = ["LocalDates", "local_dates"]

DATES = ("date", "datetime")


class LocalDates:
    """Re-reads the offset-less date values of an event in its customer's zone."""

    def __init__(self, model: JourneyModel, zones: CustomerZones, attribute: str) -> None:
        self.zones = zones
        self.attribute = attribute
        self.attributes = [name for name, spec in model.attributes.items()
                           if spec.type in DATES]
        self.fields = {name: [f for f, spec in event.fields.items() if spec.type in DATES]
                       for name, event in model.events.items()}

    def wanted(self, event: str, attributes: Mapping[str, Any]) -> bool:
        """Whether this event can carry a date to re-read (most events cannot)."""
        return bool(self.fields.get(event)) or (
            bool(self.attributes) and any(name in attributes for name in self.attributes))

    def relocate(self, customer: Any, event: str, data: dict[str, Any],
                 attributes: dict[str, Any], raw: Any) -> None:
        """Read ``data`` and ``attributes`` dates again in the customer's zone, in place."""
        given = _as_dict(raw)
        if given is None:
            return
        zone = self._zone(customer, attributes)
        if zone is None:
            return
        _reread(data, _as_dict(given.get("data")), self.fields.get(event, ()), zone)
        _reread(attributes, _as_dict(given.get("attributes")), self.attributes, zone)

    def _zone(self, customer: Any, attributes: Mapping[str, Any]) -> ZoneInfo | None:
        """The zone the event's dates are meant in; None when it is the fallback."""
        if self.attribute in attributes:
            zone = zone_named(attributes[self.attribute])
        elif customer is not None:
            zone = self.zones.of(customer)
        else:
            zone = None
        return None if zone is None or zone == self.zones.fallback else zone


def local_dates(model: JourneyModel, zones: CustomerZones) -> LocalDates | None:
    """The re-reader for a journey whose customers have zones of their own, else None."""
    attribute = model.timezone_attribute
    if attribute is None:
        return None
    found = LocalDates(model, zones, attribute)
    if not found.attributes and not any(found.fields.values()):
        return None
    return found


def _as_dict(value: Any) -> dict[str, Any] | None:
    if isinstance(value, bytes):
        try:
            value = decode_line(value)
        except Exception:  # noqa: BLE001 - it was valid when validated; nothing to redo
            return None
    if isinstance(value, dict):
        return value
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        dumped = dump()
        return dumped if isinstance(dumped, dict) else None
    return None


def _reread(values: dict[str, Any], given: Mapping[str, Any] | None, names: Any,
            zone: ZoneInfo) -> None:
    if not given:
        return
    for name in names:
        text = given.get(name)
        if isinstance(text, str) and name in values and values[name] is not None:
            try:
                values[name] = parse_date_value(text, zone.key)
            except (ValueError, TypeError):
                continue  # validation read it; a zone that cannot changes nothing
