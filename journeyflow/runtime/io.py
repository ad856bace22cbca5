"""Reading event files (JSON Lines or CSV) for ``journeyflow run``.

Each line yields either a raw event or the reason it could not be read, with
its line number, so a malformed line is rejected and reported, never lost.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

__all__ = ["RawLine", "read_csv", "read_events", "read_jsonl"]

RawLine = tuple[int, Any, str | None]  # (line number, raw event or raw text, error)


def read_jsonl(stream: Iterable[str]) -> Iterator[RawLine]:
    for number, line in enumerate(stream, start=1):
        text = line.strip().lstrip("\ufeff")  # a byte-order mark some editors write
        if not text:
            continue
        try:
            yield number, json.loads(text), None
        except json.JSONDecodeError as exc:
            yield number, text, f"not valid JSON: {exc.msg} at column {exc.colno}"


def _cell(value: str) -> Any:
    """A CSV cell: JSON where it parses (numbers, true, objects), text otherwise."""
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def read_csv(stream: TextIO) -> Iterator[RawLine]:
    """Columns ``at, customer, event`` plus ``data``/``attributes`` (JSON objects)
    or ``data.FIELD`` / ``attributes.NAME`` columns, one value each."""
    reader = csv.DictReader(stream)
    for row in reader:
        number = reader.line_num
        event: dict[str, Any] = {}
        try:
            for key, value in row.items():
                if key is None or value is None or value == "":
                    continue
                if key in ("at", "customer", "event", "id"):
                    event[key] = value
                elif key in ("data", "attributes"):
                    event.setdefault(key, {}).update(json.loads(value))
                elif "." in key:
                    group, name = key.split(".", 1)
                    event.setdefault(group, {})[name] = _cell(value)
        except (json.JSONDecodeError, AttributeError, TypeError):
            yield number, row, "the data or attributes column is not a JSON object"
            continue
        yield number, event, None


def read_events(stream: TextIO, fmt: str) -> Iterator[RawLine]:
    return read_csv(stream) if fmt == "csv" else read_jsonl(stream)
