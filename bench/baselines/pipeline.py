"""The lifecycle journey's batch run written by hand: the ceiling for ``journeyflow run``.

    python bench/baselines/pipeline.py EVENTS.jsonl TRACE.jsonl STAGES.json

What a competent engineer would write for one journey and a file known to be in time
order: read the lines as bytes, parse each with orjson (the library journeyflow uses),
parse ``at`` with ``datetime.fromisoformat``, check each field's type by hand and fill
the defaults, dispatch to the hand-written journey (bench/baselines/handwritten.py),
and write every trace record as a JSON line with orjson, 8,192 records at a time. A
bad line is counted and skipped. At the end it fires the timers due up to the last
event's time and writes every customer's final stage.

It does not sort (it trusts the file's order), keeps no rejected events, checks no
late or duplicate events, and writes no state beyond the stages: what ``journeyflow
run`` does on top of it is the price of its contract.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from baselines.handwritten import Handwritten  # noqa: E402

FLUSH = 8_192
NUMBER = (int, float)
# event -> ((field, types, default or None when required), ...)
FIELDS: dict[str, tuple[tuple[str, Any, Any], ...]] = {
    "page_viewed": (("page", str, "home"),),
    "signed_up": (("source", str, "web"),),
    "cart_abandoned": (("cart_value", NUMBER, None),),
    "purchased": (("amount", NUMBER, None), ("category", str, "other")),
    "support_ticket": (("rating", NUMBER, None),),
    "referred": (("friend", str, None),),
    "unsubscribed": (),
}


class Clock:
    """``at`` as ISO 8601 text, remembering the last one (records come in runs)."""

    def __init__(self) -> None:
        self.last = -1.0
        self.text = ""

    def iso(self, t: float) -> str:
        if t != self.last:
            self.last = t
            self.text = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
        return self.text


def parse(line: bytes) -> tuple[str, str, dict[str, Any], float, dict[str, Any]] | None:
    try:
        raw = orjson.loads(line)
        name = raw["event"]
        spec = FIELDS[name]
        at = datetime.fromisoformat(raw["at"])
        customer = raw["customer"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(customer, str) or at.tzinfo is None:
        return None
    data = raw.get("data") or {}
    out = {}
    for field, types, default in spec:
        value = data.get(field, default)
        if value is None or not isinstance(value, types) or isinstance(value, bool):
            return None
        out[field] = value
    return customer, name, out, at.timestamp(), {}


def write(records: list[tuple[Any, ...]], out: Any, clock: Clock) -> int:
    dumps = orjson.dumps
    newline = orjson.OPT_APPEND_NEWLINE
    iso = clock.iso
    buffer = bytearray()  # not a list of lines: orjson gives each line 4 KiB
    for r in records:
        buffer += dumps({"at": iso(r[0]), "customer": r[1], "kind": r[2], "detail": r[3:]},
                        option=newline)
    out.write(buffer)
    count = len(records)
    records.clear()
    return count


def main(events: Path, trace: Path, stages: Path) -> None:
    journey = Handwritten()
    records = journey.records
    clock = Clock()
    last = None
    bad = written = 0
    with events.open("rb") as lines, trace.open("wb") as out:
        for line in lines:
            event = parse(line)
            if event is None:
                bad += 1
                continue
            journey.handle_valid(event)
            last = event[3]
            if len(records) >= FLUSH:
                written += write(records, out, clock)
        if last is not None:
            journey.advance(last)
        written += write(records, out, clock)
    stages.write_bytes(orjson.dumps({"stages": journey.final_stages(), "bad": bad,
                                     "records": written}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
