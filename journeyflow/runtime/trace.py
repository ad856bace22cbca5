"""The trace (docs/language.md): every action, suppression, transition, goal,
rejection and error, in processing order.

Records are kept as tuples ``(at, customer, kind, fields)`` and turned into
dicts only when read or written, which keeps the hot path cheap; ``fields``
is often a dict shared by every record of the same action. Instants stay
floats until then: ``at``, and a granted bonus's ``expires``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, TextIO

from journeyflow.runtime.timeutil import format_instant

__all__ = ["Trace", "TraceRecord", "record_to_dict"]

TraceRecord = tuple[float | None, str | None, str, dict[str, Any]]


def record_to_dict(record: TraceRecord) -> dict[str, Any]:
    at, customer, kind, fields = record
    out: dict[str, Any] = {"at": format_instant(at) if at is not None else None,
                           "customer": customer, "kind": kind}
    out.update(fields)
    if "expires" in fields:
        out["expires"] = format_instant(fields["expires"])
    return out


class Trace:
    """An append-only list of trace records with JSON Lines output."""

    __slots__ = ("enabled", "records")

    def __init__(self, enabled: bool = True) -> None:
        self.records: list[TraceRecord] = []
        self.enabled = enabled

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (record_to_dict(r) for r in self.records)

    def dicts(self, start: int = 0) -> list[dict[str, Any]]:
        return [record_to_dict(r) for r in self.records[start:]]

    def write_jsonl(self, stream: TextIO, start: int = 0) -> None:
        dumps = json.dumps
        for record in self.records[start:]:
            stream.write(dumps(record_to_dict(record), ensure_ascii=False, default=str))
            stream.write("\n")
