"""Generated checks of incoming event data, one Python function per event type.

Like the steps, the checks are made once per journey from the checked model (field
names are identifiers the compiler accepted and are written with ``repr``; defaults
are passed as constants, never written into the source). A generated check reads
each declared field once, accepts the common case inline (an ``int`` or ``float`` in
range, ASCII text, a bool) and hands everything else to :mod:`fieldvalues`, which
holds every reason a value is refused.

A check takes the event as it came (a dict) and returns the valid event
``(customer, event, data, at, attributes)`` with ``data`` in declaration order and
defaults filled in, and the event's ``id``; it adds how many given fields and
attributes the journey does not declare (ignored, and counted as warnings) to a
counter. The first problem rejects the event: customer, time, then the fields in
declaration order.

>>> from journeyflow.model.journey import Attribute
>>> ignored = [0]
>>> check = build_event_check("purchased", {"amount": Attribute(name="amount", type="number")},
...                           "UTC", 0, lambda given: (dict(given), 0), ignored)
>>> check({"at": 0, "customer": "c1", "data": {"amount": 12, "coupon": "X"}}, None)
(('c1', 'purchased', {'amount': 12}, 0.0, {}), None)
>>> ignored
[1]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from journeyflow.model.journey import Attribute
from journeyflow.runtime import fieldvalues as fv
from journeyflow.runtime.timeutil import EARLIEST, LATEST, zone_info

__all__ = ["AttributesCheck", "EventCheck", "ValueCheck", "build_event_check",
           "build_value_check"]

# (raw event, time of an event without one) -> (valid event, its id)
EventCheck = Callable[[dict[str, Any], float | None],
                      tuple[tuple[str, str, dict[str, Any], float, dict[str, Any]], str | None]]
# attributes as given -> (checked attributes, unknown ones ignored)
AttributesCheck = Callable[[Any], tuple[dict[str, Any], int]]
ValueCheck = Callable[[Any], Any]

_WORDS = {"date": "a date", "datetime": "a date-time"}
_MISSING = object()

# The inline test that lets a value through without a call, by type.
_FAST = {
    "number": "(type(value) is int or type(value) is float) and -LIMIT <= value <= LIMIT",
    "text": "type(value) is str and value.isascii()",
    "bool": "type(value) is bool",
}


def _slow_call(spec: Attribute, what: str) -> str:
    """The call that checks (and converts) a value the inline test did not accept."""
    shown = repr(what)
    if spec.type == "number":
        return f"check_number(value, {shown})"
    if spec.type == "text":
        return f"check_text(value, {shown})"
    if spec.type == "bool":
        return f"check_bool(value, {shown})"
    if spec.type in _WORDS:
        return f"check_date(value, {shown}, {_WORDS[spec.type]!r}, ZONE)"
    if spec.type == "list":
        return f"check_list(value, {shown})"
    raise ValueError(f"no check for type {spec.type!r}")


def _value_lines(spec: Attribute, what: str, indent: str) -> list[str]:
    """Check ``value`` (not null) in place."""
    fast = _FAST.get(spec.type)
    if fast is None:
        return [f"{indent}value = {_slow_call(spec, what)}"]
    return [f"{indent}if not ({fast}):",
            f"{indent}    value = {_slow_call(spec, what)}"]


def _field_lines(index: int, key: str, spec: Attribute, namespace: dict[str, Any],
                 zone: str) -> list[str]:
    what = f"field '{key}'"
    if spec.default is not None:
        try:
            namespace[f"DEFAULT_{index}"] = build_value_check(spec, what, zone)(spec.default)
            missing = f"value = DEFAULT_{index}"
        except fv.Rejection as bad:  # a default the checks refuse rejects what relies on it
            missing = f"raise Rejection({bad.reason!r})"
    elif spec.optional:
        missing = "value = None"
    else:
        missing = f"raise Rejection({f'missing {what}'!r})"
    # Null is kept for a field that may be left out; a required one cannot be null.
    required = not spec.optional and spec.default is None
    null = f"raise Rejection({f'{what} is null'!r})" if required else "pass"
    return [
        f"    value = data.get({key!r}, MISSING)",
        "    if value is MISSING:",
        f"        {missing}",
        "    else:",
        "        matched += 1",
        "        if value is None:",
        f"            {null}",
        "        else:",
        *_value_lines(spec, what, "            "),
        f"    out[{key!r}] = value",
    ]


def _namespace(zone: str) -> dict[str, Any]:
    return {"MISSING": _MISSING, "LIMIT": fv.LIMIT, "ZONE": zone, "TZ": zone_info(zone),
            "EARLIEST": EARLIEST, "LATEST": LATEST, "Rejection": fv.Rejection,
            "fromisoformat": datetime.fromisoformat, "timestamp": fv.timestamp,
            "customer_id": fv.customer_id, "event_id": fv.event_id,
            "as_object": fv.as_object, "check_number": fv.check_number,
            "check_text": fv.check_text, "check_bool": fv.check_bool,
            "check_date": fv.check_date, "check_list": fv.check_list}


def build_event_check(name: str, fields: Mapping[str, Attribute], zone: str, index: int,
                      attributes: AttributesCheck, ignored: list[int]) -> EventCheck:
    """The check of one event type: its envelope (customer, time, attributes, id) and
    its ``data``; ``attributes`` checks the customer attributes an event carries, and
    ``ignored[0]`` counts the fields and attributes of valid events that are ignored
    (counted here, not returned: a tuple less per event)."""
    namespace = _namespace(zone)
    namespace.update(NAME=name, ATTRIBUTES=attributes, IGNORED=ignored)
    lines = [f"def check_event_{index}(raw, default_at):",
             *_ENVELOPE,
             "    data = raw.get('data')",
             "    if type(data) is not dict:",
             "        data = as_object(data, 'data')",
             "    matched = 0",
             "    out = {}"]
    for number, (key, spec) in enumerate(fields.items()):
        lines += _field_lines(number, key, spec, namespace, zone)
    lines += ["    attributes = raw.get('attributes')",
              "    if attributes is None:",
              "        attributes = {}",
              "        extra = len(data) - matched",
              "    else:",
              "        attributes, extra = ATTRIBUTES(attributes)",
              "        extra += len(data) - matched",
              "    ident = raw.get('id')",
              "    if ident is not None and (type(ident) is not str or not ident.isascii()):",
              "        ident = event_id(ident)",
              "    if extra:",
              "        IGNORED[0] += extra",
              "    return (customer, NAME, out, at, attributes), ident"]
    return _compile(lines, namespace, f"check_event_{index}")  # type: ignore[no-any-return]


# The envelope, the same for every event type: customer id, then time.
_ENVELOPE = (
    "    customer = raw.get('customer')",
    "    if type(customer) is not str or not customer or not customer.isascii():",
    "        customer = customer_id(customer)",
    "    at = raw.get('at')",
    "    if type(at) is str:",
    "        try:",
    "            moment = fromisoformat(at)",
    "        except ValueError:",
    "            at = timestamp(at, ZONE, default_at)  # spaces around it, or the reason",
    "        else:",
    "            at = (moment.replace(tzinfo=TZ) if moment.tzinfo is None else moment)"
    ".timestamp()",
    "            if not EARLIEST <= at < LATEST:",
    "                at = timestamp(raw['at'], ZONE, default_at)  # the reason",
    "    else:",
    "        at = timestamp(at, ZONE, default_at)",
)


def build_value_check(spec: Attribute, what: str, zone: str) -> ValueCheck:
    """The check of one value (a customer attribute given with an event); null passes."""
    namespace = _namespace(zone)
    lines = ["def check_value(value):",
             "    if value is None:",
             "        return None",
             *_value_lines(spec, what, "    "),
             "    return value"]
    return _compile(lines, namespace, "check_value")  # type: ignore[no-any-return]


def _compile(lines: list[str], namespace: dict[str, Any], name: str) -> Any:
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<journeyflow {name}>", "exec"), namespace)  # noqa: S102
    return namespace[name]
