"""A batch in time order through blocks spilled to disk, and a trace streamed out."""

from __future__ import annotations

import io
import json
import random

import pytest

import journeyflow
from journeyflow.runtime import batch
from journeyflow.runtime.batch import TimeOrder, run_batch
from journeyflow.runtime.io import read_jsonl
from journeyflow.runtime.trace import TraceWriter
from tests.runtime.intake_journey import JOURNEY, T0_SECONDS


def items(times: list[float]) -> list[batch.Item]:
    return [(at, line, ("c", "signed_up", {}, at, {}), None, b"")
            for line, at in enumerate(times, start=1)]


@pytest.mark.parametrize("block", [1, 3, 1000])
def test_sorted_input_comes_back_in_file_order(block: int) -> None:
    order = TimeOrder(block)
    given = items([1.0, 1.0, 2.0, 3.0, 3.0, 3.0, 4.0])
    for item in given:
        order.add(item)
    assert order.in_order
    assert list(order) == given


@pytest.mark.parametrize("block", [1, 2, 7, 1000])
def test_unsorted_input_is_merged_stably(block: int) -> None:
    rng = random.Random(block)
    times = [float(rng.randrange(20)) for _ in range(500)]
    order = TimeOrder(block)
    for item in items(times):
        order.add(item)
    assert not order.in_order
    out = [(at, line) for at, line, *_ in order]
    assert out == sorted(out)  # by time, ties by line: stable
    assert len(out) == 500


def lines(events: list[dict[str, object]]) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in events)


def test_the_trace_is_written_as_it_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "FLUSH", 5)
    monkeypatch.setattr(batch, "BLOCK", 4)
    engine = journeyflow.Engine(journeyflow.loads(JOURNEY, "intake.journey"))
    events = [{"at": T0_SECONDS + i, "customer": f"c{i % 7}", "event": "signed_up"}
              for i in range(60)]
    out = io.BytesIO()
    seen: list[int] = []

    class Watched(TraceWriter):
        def drain(self, records: list[batch.Any]) -> None:
            seen.append(len(records))
            super().drain(records)

    writer = Watched(out)
    result = run_batch(engine, read_jsonl(io.BytesIO(lines(events))), None, writer)
    assert result.pending == 0
    assert engine.processed == 60
    assert max(seen) < 20  # never more than a flush's worth, plus one step's records
    assert engine.interpreter.records == []
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(records) == writer.written
    assert [r["at"] for r in records] == sorted(r["at"] for r in records)


def test_events_after_until_are_pending() -> None:
    engine = journeyflow.Engine(journeyflow.loads(JOURNEY, "intake.journey"))
    events = [{"at": T0_SECONDS + i * 60, "customer": "c1", "event": "signed_up"}
              for i in range(5)]
    result = run_batch(engine, read_jsonl(io.BytesIO(lines(events))), T0_SECONDS + 120, None)
    assert (engine.processed, result.pending, result.horizon) == (3, 2, T0_SECONDS + 120)
    assert engine.interpreter.records == []  # without a trace file, records are dropped


def test_in_order_processing_gives_up_at_the_first_earlier_event() -> None:
    from journeyflow.runtime.batch import run_in_order

    engine = journeyflow.Engine(journeyflow.loads(JOURNEY, "intake.journey"))
    events = [{"at": T0_SECONDS + at, "customer": "c1", "event": "signed_up"}
              for at in (0, 60, 60, 30)]
    lines_in = read_jsonl(io.BytesIO(lines(events)))
    assert run_in_order(engine, lines_in, None, None) is None
    ordered = journeyflow.Engine(journeyflow.loads(JOURNEY, "intake.journey"))
    result = run_in_order(ordered, read_jsonl(io.BytesIO(lines(events[:3]))), None, None)
    assert result is not None
    assert (ordered.processed, result.horizon) == (3, T0_SECONDS + 60)
