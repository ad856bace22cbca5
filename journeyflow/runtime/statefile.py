"""The state file of ``journeyflow run``, written one customer at a time.

Building the whole document first held every customer twice more (as a dict, then
as JSON) at the very end of a run, when memory is highest; here each customer's
entry is made, written and dropped in turn, a few hundred at a time. The bytes are
those of :func:`~journeyflow.runtime.jsonio.dump_document` on ``Engine.state()``:
the same indentation, key order and trailing newline.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

import orjson

from journeyflow.runtime.jsonio import dump_document, dump_value

__all__ = ["write_state"]

BATCH = 512  # customers written at once
_INDENT = b"\n    "  # an entry sits two levels deep: "customers", then its id


def write_state(out: IO[bytes], entries: Iterable[tuple[str, dict[str, Any]]],
                totals: dict[str, Any]) -> None:
    """Write ``{"customers": {id: entry...}, **totals}`` as an indented JSON document.

    >>> import io
    >>> out = io.BytesIO()
    >>> write_state(out, [("c1", {"stage": "new", "tags": []})], {"processed": 1})
    >>> print(out.getvalue().decode(), end="")
    {
      "customers": {
        "c1": {
          "stage": "new",
          "tags": []
        }
      },
      "processed": 1
    }
    """
    buffer = bytearray(b'{\n  "customers": {')
    count = 0
    batch: dict[str, dict[str, Any]] = {}
    for cid, entry in entries:
        batch[cid] = entry
        if len(batch) == BATCH:
            buffer += _customers(batch, count)
            count += len(batch)
            batch = {}
            out.write(buffer)
            buffer = bytearray()
    if batch:
        buffer += _customers(batch, count)
        count += len(batch)
    buffer += b"\n  }" if count else b"}"
    if totals:  # the fields after the customers: their own document without its "{"
        buffer += b"," + dump_document(totals)[1:]
    else:
        buffer += b"\n}\n"
    out.write(buffer)


def _customers(batch: dict[str, dict[str, Any]], before: int) -> bytes:
    """``"id": entry`` for each customer of ``batch``, as they sit in the document, after
    ``before`` others. One call of the encoder for the batch, not two per customer: its
    object's lines are those of the document, two spaces further in."""
    try:
        text = orjson.dumps(batch, option=orjson.OPT_INDENT_2)
    except TypeError:  # a value the encoder refuses: each customer on its own, made safe
        return b"".join((b",\n    " if before or n else b"\n    ") + dump_value(cid)
                        + b": " + dump_value(entry, depth=2).replace(b"\n", _INDENT)
                        for n, (cid, entry) in enumerate(batch.items()))
    # "{\n  ...\n}" -> the lines between the braces, each two spaces further in
    body = text[2:-2].replace(b"\n", b"\n  ")
    return (b",\n  " if before else b"\n  ") + body
