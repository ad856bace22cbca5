"""Reading event files (JSON Lines or CSV) for ``journeyflow run``.

Files are read as bytes, so one line of bad bytes costs that line and nothing else:
each line yields its line number and either the line (UTF-8 bytes, for
:meth:`~journeyflow.runtime.events.EventValidator.validate_line`), an event dict
(a CSV row) or the reason it could not be read. The encoding is found as JSON
readers find it: UTF-8, with or without a byte-order mark, or UTF-16 (as Windows
tools write it) when the file starts with its byte-order mark or with a zero byte
beside its first character.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Generator, Iterable, Iterator
from typing import IO, Any, cast

import orjson

from journeyflow.runtime.fieldvalues import valid_unicode

__all__ = ["CSV_CELL_LIMIT", "RawLine", "detect_encoding", "read_csv", "read_events",
           "read_jsonl"]

# (line number, the line's UTF-8 bytes or an event dict, or the reason it has neither)
RawLine = tuple[int, bytes | dict[str, Any] | str, str | None]

CSV_CELL_LIMIT = 131_072  # characters in one CSV cell (128 KiB of ASCII), csv's own limit
_UTF8_BOM = codecs.BOM_UTF8
_CHUNK = 1 << 16
_BLOCK = 1 << 20  # bytes of a UTF-8 file read at once


def detect_encoding(head: bytes) -> str:
    """``utf-8``, ``utf-16`` (with a byte-order mark), ``utf-16-le`` or ``utf-16-be``.

    >>> detect_encoding(b'{"at'), detect_encoding('{"at'.encode("utf-16"))
    ('utf-8', 'utf-16')
    >>> detect_encoding('{"at'.encode("utf-16-be"))
    'utf-16-be'
    """
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(head) >= 2 and head[0] == 0 and head[1] != 0:
        return "utf-16-be"
    if len(head) >= 2 and head[0] != 0 and head[1] == 0:
        return "utf-16-le"
    return "utf-8"


def _peek(stream: IO[bytes]) -> tuple[IO[bytes], bytes]:
    """The stream, buffered so its first bytes can be seen without being consumed."""
    peek = getattr(stream, "peek", None)
    if peek is None:
        buffered = io.BufferedReader(cast(Any, stream))
        return cast(IO[bytes], buffered), buffered.peek(4)[:4]
    return stream, bytes(peek(4)[:4])


def read_jsonl(stream: IO[bytes]) -> Iterator[RawLine]:
    stream, head = _peek(stream)
    encoding = detect_encoding(head)
    if encoding == "utf-8":
        return _utf8_lines(stream)
    return _split_lines(_utf16_lines(stream, encoding))


def _utf8_lines(stream: IO[bytes]) -> Iterator[RawLine]:
    """:func:`_split_lines` of a UTF-8 stream, read a block at a time.

    Most blocks hold nothing but objects ended by LF: their lines are split at once
    and each is checked for its first byte only, which costs a third of taking the
    lines one by one. A block with a carriage return anywhere is left to
    :func:`_split_lines`, line by line, as is the numbering after it.
    """
    number = 0  # the last line's number, as _split_lines counts them
    pieces: list[bytes] = []  # the start of a line that did not end in the last block
    while block := stream.read(_BLOCK):
        end = block.rfind(b"\n") + 1
        if not end:  # one long line, still going on
            pieces.append(block)
            continue
        if pieces:
            pieces.append(block)
            block = b"".join(pieces)
            end = block.rfind(b"\n") + 1
        pieces = [block[end:]] if end < len(block) else []
        lines = block[:end].split(b"\n")
        lines.pop()  # the empty text after the last LF
        if b"\r" in block[:end]:
            number = yield from _split_lines((line + b"\n" for line in lines), number)
            continue
        for line in lines:
            number += 1
            if line[:1] == b"{":
                yield number, line, None
            elif text := line.strip():
                yield number, text[3:] if text.startswith(_UTF8_BOM) else text, None
    if pieces:
        number = yield from _split_lines([b"".join(pieces)], number)


def _split_lines(lines: Iterable[bytes | tuple[str, str]], before: int = 0
                 ) -> Generator[RawLine, None, int]:
    """Numbered, stripped, non-blank lines; a lone carriage return also ends a line.
    Numbers start after ``before``; the last number given is returned."""
    shift = before  # lines before these, and lines ended by a lone CR among them
    number = 0
    for number, line in enumerate(lines, start=1):
        # Most lines are an object and end in LF or CRLF: orjson skips the line end.
        if type(line) is bytes and line[:1] == b"{" and (
                b"\r" not in line or line.find(b"\r") == len(line) - 2):
            yield number + shift, line, None
            continue
        if isinstance(line, tuple):  # a UTF-16 line that could not be decoded
            reason, shown = line
            yield number + shift, shown, reason
            continue
        text = line.strip()
        if not text:
            continue
        if text.startswith(_UTF8_BOM):  # a byte-order mark, also inside joined files
            text = text[3:]
        if b"\r" not in text:
            yield number + shift, text, None
            continue
        parts = text.split(b"\r")
        for offset, part in enumerate(parts):
            part = part.strip()
            if part:
                yield number + shift + offset, part, None
        shift += len(parts) - 1
    return number + shift


def _utf16_lines(stream: IO[bytes], encoding: str) -> Iterator[bytes | tuple[str, str]]:
    """A UTF-16 file as UTF-8 lines, or (reason, text) for a line that is not UTF-16."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="surrogatepass")
    pending = ""
    while True:
        chunk = stream.read(_CHUNK)
        try:
            text = decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            yield "not valid UTF-16: the file ends in the middle of a character", pending
            return
        pending += text
        *whole, pending = pending.split("\n")
        for line in whole:
            yield _utf8(line)
        if not chunk:
            if pending:
                yield _utf8(pending)
            return


def _utf8(line: str) -> bytes | tuple[str, str]:
    try:
        return line.encode("utf-8")
    except UnicodeEncodeError as bad:  # a lone surrogate, which UTF-16 cannot hold either
        shown = line.encode("utf-8", "backslashreplace").decode("utf-8")
        return f"not valid UTF-16: a lone surrogate at column {bad.start + 1}", shown


def _cell(value: str) -> Any:
    """A CSV cell: JSON where it parses (numbers, true, objects), text otherwise."""
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return value


def _row_event(row: dict[str | None, Any]) -> dict[str, Any]:
    """The event of one CSV row; ValueError when a data or attributes cell is not an object."""
    event: dict[str, Any] = {}
    for key, value in row.items():
        if key is None or not isinstance(value, str) or value == "":
            continue  # cells beyond the header, or missing at the end of a short row
        if key in ("at", "customer", "event", "id"):
            event[key] = value
        elif key in ("data", "attributes"):
            try:
                given = orjson.loads(value)
            except orjson.JSONDecodeError:
                given = None
            if not isinstance(given, dict):
                raise ValueError(f"the {key} column is not a JSON object")
            event.setdefault(key, {}).update(given)
        elif "." in key:
            group, name = key.split(".", 1)
            event.setdefault(group, {})[name] = _cell(value)
    return event


def _bad_text(row: dict[str | None, Any]) -> str | None:
    """The column holding bytes that are not text in the file's encoding, if any."""
    for key, value in row.items():
        cells = value if isinstance(value, list) else [value]
        for cell in cells:
            if isinstance(cell, str) and not cell.isascii() and not valid_unicode(cell):
                return key or "beyond the header"
    return None


def read_csv(stream: IO[bytes]) -> Iterator[RawLine]:
    """Columns ``at, customer, event`` plus ``data``/``attributes`` (JSON objects)
    or ``data.FIELD`` / ``attributes.NAME`` columns, one value each."""
    stream, head = _peek(stream)
    encoding = detect_encoding(head)
    text = io.TextIOWrapper(cast(Any, stream),
                            encoding="utf-8-sig" if encoding == "utf-8" else encoding,
                            errors="surrogateescape" if encoding == "utf-8" else "surrogatepass",
                            newline="")
    try:
        yield from _csv_rows(csv.DictReader(text), "UTF-8" if encoding == "utf-8" else "UTF-16")
    finally:
        text.detach()  # the caller's stream stays open: a run may read it again


def _csv_rows(reader: csv.DictReader[str], label: str) -> Iterator[RawLine]:
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.reader.line_num, "", _csv_reason(exc)
            continue
        except UnicodeDecodeError:
            yield reader.reader.line_num + 1, "", f"not valid {label}: the file ends in " \
                                                  "the middle of a character"
            return
        number = reader.line_num
        column = _bad_text(row)
        if column is not None:
            yield number, _safe_row(row), f"not valid {label} in column '{column}'"
            continue
        try:
            yield number, _row_event(row), None
        except ValueError as exc:
            yield number, _safe_row(row), str(exc)


def _csv_reason(exc: csv.Error) -> str:
    if "field limit" in str(exc):
        return (f"a cell holds more than {CSV_CELL_LIMIT:,} characters, the most a CSV "
                "cell may hold")
    return f"not valid CSV: {exc}"


def _safe_row(row: dict[str | None, Any]) -> dict[str, Any]:
    """A CSV row as the rejection record keeps it."""
    return {str(key): value for key, value in row.items()}


def read_events(stream: IO[bytes], fmt: str) -> Iterator[RawLine]:
    return read_csv(stream) if fmt == "csv" else read_jsonl(stream)
