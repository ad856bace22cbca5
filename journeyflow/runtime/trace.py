"""The trace (docs/language.md): every action, suppression, transition, goal,
rejection and error, in processing order.

Records are kept as tuples ``(at, customer, kind, fields)`` and turned into
dicts only when read or written, which keeps the hot path cheap; ``fields``
is often a dict shared by every record of the same action. Instants stay
floats until then: ``at``, and a granted bonus's ``expires``.

An embedding reads :class:`Trace` whole; ``journeyflow run`` streams it to its file
with a :class:`TraceWriter` as it is made, so a run's memory does not grow with
its trace.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import IO, Any

import orjson

from journeyflow.runtime.jsonio import LINE, dump_line, fallback
from journeyflow.runtime.timeutil import format_instant

__all__ = ["Trace", "TraceRecord", "TraceWriter", "record_to_dict"]

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

    def write_jsonl(self, stream: IO[bytes] | IO[str], start: int = 0) -> None:
        """Write ``records[start:]`` as JSON Lines to a binary or a text stream."""
        if isinstance(stream, io.TextIOBase):
            stream.write(b"".join(map(dump_line, self.dicts(start))).decode("utf-8"))
        else:
            TraceWriter(stream).write(self.records, start)  # type: ignore[arg-type]


class TraceWriter:
    """Writes trace records to a binary stream as JSON Lines, one buffer per call."""

    __slots__ = ("_at", "_text", "stream", "written")

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.written = 0
        self._at: float | None = None
        self._text: str | None = None

    def write(self, records: list[TraceRecord], start: int = 0) -> None:
        """Write ``records[start:]``; the caller clears the list when it owns it.

        One step writes several records at one instant, so the instant's text is
        kept from one record to the next rather than formatted for each. Lines are
        copied into one buffer as they are made: orjson gives each line a 4 KiB
        allocation, which a list of lines would keep until the write.
        """
        out = bytearray()
        last, text = self._at, self._text
        dumps = orjson.dumps
        for at, customer, kind, fields in records[start:] if start else records:
            if at != last:
                last, text = at, (None if at is None else format_instant(at))
            if "expires" in fields:
                fields = {**fields, "expires": format_instant(fields["expires"])}
            record = {"at": text, "customer": customer, "kind": kind, **fields}
            try:  # dump_line, written out: a call less per record
                out += dumps(record, default=fallback, option=LINE)
            except TypeError:
                out += dump_line(record)
        self._at, self._text = last, text
        self.stream.write(out)
        self.written += len(records) - start

    def drain(self, records: list[TraceRecord]) -> None:
        """Write every record and empty the list in place (the interpreter holds it)."""
        if records:
            self.write(records)
            records.clear()
