"""What each value of an incoming event must be, and why it is rejected when it is not.

These are the full checks: the generated checks of :mod:`journeyflow.runtime.eventcode`
accept the common case inline and call these for everything else, so every reason a
value is refused is written here once. Every function returns the value as the
interpreter keeps it (a plain ``int``, ``float`` or ``str``, an instant as epoch
seconds) or raises :class:`~journeyflow.runtime.events.Rejection`.

A value that passes can always be written back as JSON: numbers are finite and of a
size a float (and JavaScript) holds exactly, text is valid Unicode, lists hold only
such values and are not nested without end.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from journeyflow.runtime.timeutil import (
    EARLIEST,
    LATEST,
    format_instant,
    in_range,
    instant_of,
    parse_date_value,
    parse_instant,
)

__all__ = ["LIMIT", "MAX_DEPTH", "Rejection", "as_object", "check_date", "check_list",
           "check_number", "check_text", "customer_id", "event_id", "show", "timestamp",
           "valid_unicode"]

LIMIT = 2**53 - 1  # the largest whole number a float (and JavaScript) holds exactly
MAX_DEPTH = 32  # lists and objects inside a list value
SHOWN = 60  # characters of a bad value quoted in a reason


class Rejection(Exception):
    """Why an event cannot be processed.

    ``event`` is the event as it came (a dict, or the text of a line that could not
    be read), ``at`` its time when that was valid and ``customer`` its customer id
    when that was: the rejection record keeps all three.
    """

    def __init__(self, reason: str, event: Any = None, at: float | None = None,
                 customer: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.event = event
        self.at = at
        self.customer = customer


def show(value: Any) -> str:
    """A bad value as a reason quotes it: its repr, cut short; never raises.

    >>> show("viel"), show(10**5000), show("x" * 100)[-4:]
    ("'viel'", 'a 16610-bit integer', 'xxx…')
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"a {value.bit_length()}-bit integer"  # repr of a huge int is slow or refused
    try:
        text = repr(value)
    except Exception:  # a broken __repr__, or nesting too deep to print
        return f"a {type(value).__name__}"
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"


def valid_unicode(text: str) -> bool:
    """False when ``text`` holds a lone surrogate, which no UTF encoding can write."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_number(value: Any, what: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Rejection(f"{what} must be a number, got {show(value)}")
    plain: int | float = int(value) if isinstance(value, int) else float(value)
    if not -LIMIT <= plain <= LIMIT:  # also false for NaN
        raise Rejection(f"{what} must be a finite number between -{LIMIT} and {LIMIT}, "
                        f"got {show(plain)}")
    return plain


def check_text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise Rejection(f"{what} must be text, got {show(value)}")
    text = str(value)
    if not valid_unicode(text):
        raise Rejection(f"{what} is not valid Unicode: it holds a lone surrogate, "
                        f"{show(text)}")
    return text


def check_bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise Rejection(f"{what} must be true or false, got {show(value)}")
    return bool(value)


def check_date(value: Any, what: str, word: str, zone: str) -> float:
    """A ``date`` or ``datetime`` value as epoch seconds; without offset in ``zone``."""
    try:
        instant = parse_date_value(value, zone)
    except (ValueError, TypeError, OverflowError):
        raise Rejection(f"{what} must be {word}, got {show(value)}") from None
    if not in_range(instant):
        raise Rejection(f"{what} must be {word} between the years 1000 and 8999, "
                        f"got {show(value)}")
    return instant


def check_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise Rejection(f"{what} must be a list, got {show(value)}")
    if not _plain_json(value, 0):
        raise Rejection(f"{what} must be a list of text, finite numbers, true/false, null, "
                        f"lists and objects (at most {MAX_DEPTH} deep), got {show(value)}")
    return value


def _plain_json(value: Any, depth: int) -> bool:
    """Whether ``value`` is made of JSON values that can be written back as they are."""
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, str):
        return value.isascii() or valid_unicode(value)
    if isinstance(value, int | float):
        return -LIMIT <= value <= LIMIT
    if depth >= MAX_DEPTH:
        return False
    if isinstance(value, list):
        return all(_plain_json(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _plain_json(key, depth)
                   and _plain_json(item, depth + 1) for key, item in value.items())
    return False


def as_object(value: Any, name: str) -> dict[str, Any]:
    """``data`` or ``attributes`` as a dict: absent is empty, anything else is refused."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        try:
            return dict(value.items())
        except Exception as exc:  # a mapping of the embedder's that fails to iterate
            raise Rejection(f"'{name}' could not be read: {type(exc).__name__}") from None
    raise Rejection(f"'{name}' must be an object")


def customer_id(value: Any) -> str:
    """The customer id as text: text, or a whole number (as some stores number them)."""
    if value is None or value == "":
        raise Rejection("no customer id")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Rejection(f"customer id must be text, got {show(value)}")
    if isinstance(value, int):
        if value.bit_length() > 64:
            raise Rejection(f"customer id must be text, got {show(value)}")
        return str(int(value))
    return check_text(value, "customer id")


def event_id(value: Any) -> str | None:
    """An event's ``id`` (redelivery detection) as text."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int) or (
            isinstance(value, int) and value.bit_length() > 64):
        raise Rejection(f"'id' must be text or a whole number, got {show(value)}")
    return str(int(value)) if isinstance(value, int) else check_text(value, "'id'")


def timestamp(value: Any, zone: str, default_at: float | None) -> float:
    """An event's ``at`` as epoch seconds: ISO 8601 text (without offset: local time in
    ``zone``), a ``datetime``, or a number of seconds since 1970 (UTC)."""
    if value is None:
        if default_at is None:
            raise Rejection("no timestamp ('at')")
        return default_at
    if isinstance(value, datetime):
        try:
            return _ranged(instant_of(value, zone), value)
        except (OverflowError, ValueError):
            raise Rejection(f"unparsable timestamp {show(value)}") from None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            seconds = float(value)
        except OverflowError:
            seconds = math.inf
        return _ranged(seconds, value)
    if not isinstance(value, str):
        raise Rejection(f"unparsable timestamp {show(value)}")
    try:
        instant = parse_instant(value, zone)
    except (ValueError, OverflowError):
        shown = value if len(value) <= SHOWN else value[:SHOWN] + "…"
        raise Rejection(f"unparsable timestamp '{shown}'") from None
    return _ranged(instant, value)


def _ranged(instant: float, given: Any) -> float:
    if in_range(instant):
        return instant
    hint = ""
    if isinstance(given, int | float) and instant > 0 and in_range(instant / 1000):
        hint = (f"; it looks like milliseconds since 1970, which would be "
                f"{format_instant(instant / 1000)}: divide by 1000")
    raise Rejection(f"timestamp {show(given)} is out of range: an event time must lie "
                    f"between {format_instant(EARLIEST)} and {format_instant(LATEST)}{hint}")
