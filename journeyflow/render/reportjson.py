"""Reading the numbers of a report's JSON: each check names the file and the key, and a
value of the wrong kind is a :class:`~journeyflow.errors.JourneyError`, never a traceback."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from journeyflow.errors import JourneyError

__all__ = ["amount", "count", "key", "mapping", "optional", "share"]


def key(data: Mapping[str, Any], name: str, where: str, what: str) -> Any:
    if name not in data:
        raise JourneyError(f"{where}: missing key '{name}' in {what}")
    return data[name]


def mapping(value: Any, where: str, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise JourneyError(f"{where}: {what} must be a JSON object, got {type(value).__name__}")
    return value


def count(value: Any, where: str, what: str) -> int:
    # bool is an int in Python; a report saying "true" customers is broken.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise JourneyError(f"{where}: {what} must be a whole number >= 0, got {value!r}")
    return value


def share(value: Any, where: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise JourneyError(f"{where}: {what} must be a fraction from 0 to 1, got {value!r}")
    return float(value)


def amount(value: Any, where: str, what: str, *, signed: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or (value < 0 and not signed):
        need = "a number" if signed else "a number >= 0"
        raise JourneyError(f"{where}: {what} must be {need}, got {value!r}")
    return float(value)


def optional(value: Any, where: str, what: str, *, signed: bool = False) -> float | None:
    return None if value is None else amount(value, where, what, signed=signed)
