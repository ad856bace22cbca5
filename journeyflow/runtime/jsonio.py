"""JSON in and out for events, the trace and the state file, with orjson.

orjson reads a line about seven times faster than the standard library and writes a
record about twenty times faster (``bench/endtoend.py --codecs`` measures both on
this machine), and it refuses what is not JSON: NaN and Infinity, numbers beyond a
double, invalid UTF-8, lone surrogate escapes, nesting deeper than 1,024. Whatever
it refuses becomes a reason here; whatever it cannot write (a huge integer, a lone
surrogate, an object of an embedder's) is written in a safe form instead, so
writing never fails and always gives valid JSON.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import orjson

from journeyflow.runtime.fieldvalues import Rejection, show, valid_unicode

__all__ = ["decode_line", "dump_document", "dump_line", "dump_value", "json_safe", "line_text",
           "pydantic_model"]

MAX_DEPTH = 64  # nesting kept when a value is made safe; deeper parts are cut
LINE = orjson.OPT_APPEND_NEWLINE  # the options of a JSON Lines record
_DOCUMENT = orjson.OPT_APPEND_NEWLINE | orjson.OPT_INDENT_2
_VALUE = orjson.OPT_INDENT_2
_NOT_NUMBERS = ("-Infinity", "-NaN", "Infinity", "NaN")


def pydantic_model(value: Any) -> bool:
    """Whether ``value`` is a pydantic model (an :class:`~journeyflow.Event`), asked
    without importing pydantic: until something has, no model can exist."""
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(value, pydantic.BaseModel)


def decode_line(line: bytes) -> Any:
    """The JSON value of one UTF-8 line, or :class:`Rejection` saying why it has none.

    >>> decode_line(b'{"a": 1}')
    {'a': 1}
    >>> decode_line(b'{"a": NaN}')
    Traceback (most recent call last):
    ...
    journeyflow.runtime.fieldvalues.Rejection: not valid JSON: NaN is not a number JSON \
can hold (column 7); numbers must be finite
    """
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise Rejection(_explain(line, exc), event=line_text(line)) from None


def line_text(line: bytes) -> str:
    """A line as text for the rejection record, undecodable bytes written as ``\\xNN``."""
    return line.strip().decode("utf-8", "backslashreplace")


def _explain(line: bytes, exc: orjson.JSONDecodeError) -> str:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as bad:
        column = len(line[:bad.start].decode("utf-8", "replace")) + 1
        return f"not valid UTF-8: byte 0x{line[bad.start]:02x} at column {column}"
    if "\x00" in text:
        return "not valid JSON: the line holds zero bytes (is it UTF-16 inside a UTF-8 file?)"
    start = max(0, exc.pos - 1)
    near = text[start:exc.pos + 9]
    for word in _NOT_NUMBERS:
        if word in near:
            column = start + near.index(word) + 1
            return (f"not valid JSON: {word.lstrip('-')} is not a number JSON can hold "
                    f"(column {column}); numbers must be finite")
    for clue, meaning in _MEANINGS:
        if clue in exc.msg:
            return f"not valid JSON: {meaning} at column {exc.colno}"
    # The standard library says what it expected, and where, in the words most tools
    # use ("Expecting ',' delimiter"); a bad line is rare, so parsing it twice is cheap.
    try:
        json.loads(text.rstrip("\r\n"))
    except json.JSONDecodeError as plain:
        return f"not valid JSON: {plain.msg} at column {plain.colno}"
    except (RecursionError, ValueError):
        pass
    return f"not valid JSON: {exc.msg} at column {exc.colno}"


# What orjson's terser messages mean, for a reason a marketer can act on.
_MEANINGS = (
    ("infinity", "a number too large to hold (numbers must be finite)"),
    ("surrogate", "a lone surrogate escape such as \\ud800, which is not a character"),
    ("depth", "nested more than 1,024 deep"),
)


def dump_line(value: Any) -> bytes:
    """One JSON Lines record (with its newline); never fails."""
    try:
        return orjson.dumps(value, default=fallback, option=LINE)
    except TypeError:  # too deep, an integer beyond 64 bits, a lone surrogate...
        return orjson.dumps(json_safe(value), option=LINE)


def dump_document(value: Any) -> bytes:
    """An indented JSON document (the state file); never fails."""
    try:
        return orjson.dumps(value, default=fallback, option=_DOCUMENT)
    except TypeError:
        return orjson.dumps(json_safe(value), option=_DOCUMENT)


def dump_value(value: Any, depth: int = 0) -> bytes:
    """``value`` indented as it is inside a document (no newline after it); never fails.
    ``depth`` is where it sits in that document, for :func:`json_safe`'s cut."""
    try:
        return orjson.dumps(value, default=fallback, option=_VALUE)
    except TypeError:
        return orjson.dumps(json_safe(value, depth), option=_VALUE)


def fallback(value: Any) -> Any:
    """What orjson cannot write by itself: sets as lists, anything else as text."""
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    try:
        return str(value)
    except Exception:
        return show(value)


def json_safe(value: Any, depth: int = 0) -> Any:
    """``value`` made of what JSON can hold: keys and text valid Unicode, NaN and
    Infinity as text, integers beyond 64 bits described, other objects as their repr,
    nesting cut at :data:`MAX_DEPTH`.

    >>> json_safe({"a": float("nan"), 1: "\\ud800", "b": [10**30, {1, 2}]})
    {'a': 'NaN', '1': '\\\\ud800', 'b': ['a 100-bit integer', '{1, 2}']}
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value) if valid_unicode(value) else value.encode(
            "utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, int):
        return int(value) if value.bit_length() <= 63 else show(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else ("NaN" if value != value else
                                                           "Infinity" if value > 0
                                                           else "-Infinity")
    if depth >= MAX_DEPTH:
        return "…"
    if isinstance(value, dict):
        return {json_safe(_key(k), depth): json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item, depth + 1) for item in value]
    return show(value)


def _key(key: Any) -> str:
    return key if isinstance(key, str) else show(key)
