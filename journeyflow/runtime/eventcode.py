"""Generated checks of incoming event data, one Python function per event type.

Like the steps, the checks are made once per journey from the checked model (field
names are identifiers the compiler accepted and are written with ``repr``; defaults
are passed as constants, never written into the source). A generated check reads
each declared field once, accepts the common case inline (an ``int`` or ``float`` in
range, ASCII text, a bool) and hands everything else to :mod:`fieldvalues`, which
holds every reason a value is refused.

A check takes the event's ``data`` as it came and returns ``(data, extra)``: the
values the interpreter keeps, in declaration order, with defaults filled in, and
how many given fields the journey does not declare (ignored, and counted as
warnings). The first problem, in declaration order, rejects the event.

>>> from journeyflow.model.journey import Attribute
>>> check = build_data_check({"amount": Attribute(name="amount", type="number")}, "UTC")
>>> check({"amount": 12, "coupon": "X"})
({'amount': 12}, 1)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from journeyflow.model.journey import Attribute
from journeyflow.runtime import fieldvalues as fv

__all__ = ["DataCheck", "ValueCheck", "build_data_check", "build_value_check"]

DataCheck = Callable[[Any], tuple[dict[str, Any], int]]
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
        namespace[f"DEFAULT_{index}"] = _checked_default(spec, what, zone)
        missing = f"value = DEFAULT_{index}"
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


def _checked_default(spec: Attribute, what: str, zone: str) -> Any:
    """A declared default as the check would pass it (a date default becomes an instant)."""
    check = build_value_check(spec, what, zone)
    return check(spec.default)


def _namespace(zone: str) -> dict[str, Any]:
    return {"MISSING": _MISSING, "LIMIT": fv.LIMIT, "ZONE": zone, "Rejection": fv.Rejection,
            "as_object": fv.as_object, "check_number": fv.check_number,
            "check_text": fv.check_text, "check_bool": fv.check_bool,
            "check_date": fv.check_date, "check_list": fv.check_list}


def build_data_check(fields: Mapping[str, Attribute], zone: str,
                     name: str = "event") -> DataCheck:
    """The check of one event type's ``data``."""
    namespace = _namespace(zone)
    lines = [f"def check_{name}(data):",
             "    if type(data) is not dict:",
             "        data = as_object(data, 'data')",
             "    matched = 0",
             "    out = {}"]
    for index, (key, spec) in enumerate(fields.items()):
        lines += _field_lines(index, key, spec, namespace, zone)
    lines.append("    return out, len(data) - matched")
    return _compile(lines, namespace, f"check_{name}")  # type: ignore[no-any-return]


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
