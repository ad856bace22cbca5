"""Engine.handle on bad input: every event is either processed or rejected with its
reason, nothing raises, and the trace and state stay valid JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import pytest

import journeyflow
from journeyflow.runtime.clock import SimulatedClock
from journeyflow.runtime.trace import TraceWriter
from tests.runtime.intake_journey import JOURNEY, T0, T0_SECONDS


@pytest.fixture
def engine() -> journeyflow.Engine:
    return journeyflow.Engine(journeyflow.loads(JOURNEY, "intake.journey"),
                              clock=SimulatedClock(T0_SECONDS))


def purchase(**data: Any) -> dict[str, Any]:
    return {"at": T0, "customer": "c1", "event": "purchased", "data": data}


def written_trace(engine: journeyflow.Engine) -> list[dict[str, Any]]:
    """The trace as ``journeyflow run`` writes it, read back by a strict JSON reader."""
    import io

    out = io.BytesIO()
    TraceWriter(out).write(engine.interpreter.records)
    return [json.loads(line, parse_constant=_refuse) for line in out.getvalue().splitlines()]


def _refuse(word: str) -> Any:
    raise AssertionError(f"{word} written into the trace")


class Hostile(Mapping[str, Any]):
    """A mapping whose iteration fails, as an embedder's broken object might."""

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("broken")

    def __len__(self) -> int:
        return 3


class BadRepr:
    def __repr__(self) -> str:
        raise ValueError("no repr")


def deep(levels: int) -> Any:
    value: Any = []
    for _ in range(levels):
        value = [value]
    return value


BAD_EVENTS: list[tuple[Any, str]] = [
    (purchase(amount=10**4000), "must be a finite number"),
    (purchase(amount=float("nan")), "must be a finite number"),
    (purchase(amount=float("inf")), "must be a finite number"),
    (purchase(amount=1e400), "must be a finite number"),
    (purchase(amount=True), "must be a number, got True"),
    (purchase(amount="viel"), "must be a number, got 'viel'"),
    (purchase(amount=5, note="\ud800"), "not valid Unicode"),
    (purchase(amount=5, paid="0001-01-01T00:00:00"), "between the years 1000 and 8999"),
    (purchase(amount=5, paid=12), "must be a date-time, got 12"),
    ({"at": -1e12, "customer": "c1", "event": "signed_up"}, "out of range"),
    ({"at": 1e20, "customer": "c1", "event": "signed_up"}, "out of range"),
    ({"at": float("nan"), "customer": "c1", "event": "signed_up"}, "out of range"),
    ({"at": float("inf"), "customer": "c1", "event": "signed_up"}, "out of range"),
    ({"at": 10**4000, "customer": "c1", "event": "signed_up"}, "out of range"),
    ({"at": 1772445600000, "customer": "c1", "event": "signed_up"}, "milliseconds"),
    ({"at": "gestern", "customer": "c1", "event": "signed_up"}, "unparsable timestamp"),
    ({"at": [1], "customer": "c1", "event": "signed_up"}, "unparsable timestamp"),
    ({"at": T0, "customer": "\udc80", "event": "signed_up"}, "customer id is not valid"),
    ({"at": T0, "customer": {"id": 1}, "event": "signed_up"}, "customer id must be text"),
    ({"at": T0, "customer": 10**30, "event": "signed_up"}, "customer id must be text"),
    ({"at": T0, "customer": "c1", "event": "x" * 10_000}, "unknown event"),
    ({"at": T0, "customer": "c1", "event": "signed_\ud800"}, "unknown event"),
    ({"at": T0, "customer": "c1", "event": "signed_up", "id": {"a": 1}}, "'id' must be"),
    ({"at": T0, "customer": "c1", "event": "signed_up", "data": [1]}, "'data' must be"),
    ({"at": T0, "customer": "c1", "event": "signed_up", "attributes": "x"},
     "'attributes' must be"),
    ({"at": T0, "customer": "c1", "event": "signed_up", "attributes": {"likes": deep(5000)}},
     "must be a list of"),
    ({"at": T0, "customer": "c1", "event": "signed_up", "attributes": {"points": "\ud800"}},
     "must be a number"),
    ({"at": T0, "customer": "c1", "event": "signed_up", "attributes": {"birthday": 1e300}},
     "must be a date"),
    (deep(5000), "must be a JSON object"),
    ("not an event", "must be a JSON object"),
    (None, "must be a JSON object"),
    (b"\xff\xfe", "must be a JSON object"),
    (BadRepr(), "must be a JSON object"),
    ({"at": T0, "customer": BadRepr(), "event": "signed_up"}, "customer id must be text"),
    (Hostile(), "could not be read"),
    ({"at": T0, "customer": "c1", "event": "signed_up", "data": Hostile()}, "could not be read"),
    ({1: 2, (3,): BadRepr()}, "no customer id"),
]


@pytest.mark.parametrize(("event", "reason"), BAD_EVENTS)
def test_bad_events_are_rejected_with_their_reason(engine: journeyflow.Engine, event: Any,
                                                   reason: str) -> None:
    result = engine.handle(event, line=7)
    assert not result.accepted
    assert reason in (result.reason or "")
    assert engine.rejected[-1].line == 7
    records = written_trace(engine)
    assert records[-1]["kind"] == "rejected"
    assert reason in records[-1]["reason"]
    state = json.loads(journeyflow.runtime.jsonio.dump_document(engine.state()),
                       parse_constant=_refuse)
    assert state["rejected"][-1]["line"] == 7


def test_good_events_go_on_after_bad_ones(engine: journeyflow.Engine) -> None:
    for event, _ in BAD_EVENTS:
        engine.handle(event)
    assert engine.handle({"at": T0, "customer": "c1", "event": "signed_up"}).accepted
    assert engine.handle(purchase(amount=80)).accepted
    state = engine.customer("c1")
    assert state is not None
    assert (state.stage, state.attributes["points"]) == ("member", 80)
    assert engine.processed == 2
    assert len(engine.rejected) == len(BAD_EVENTS)


def test_a_rejected_event_keeps_its_valid_time_and_customer(
        engine: journeyflow.Engine) -> None:
    engine.handle({"at": "2026-03-02T10:00:00Z", "customer": "c9", "event": "signed_upp"})
    engine.handle({"at": "2026-03-02T10:00:00Z", "customer": "c9", "event": "purchased",
                   "data": {"amount": "x"}})
    engine.handle({"at": "gestern", "customer": "c9", "event": "signed_up"})
    first, second, third = [r for r in engine.trace if r["kind"] == "rejected"]
    assert (first["at"], first["customer"]) == ("2026-03-02T10:00:00Z", "c9")
    assert (second["at"], second["customer"]) == ("2026-03-02T10:00:00Z", "c9")
    assert (third["at"], third["customer"]) == (None, "c9")


def test_an_event_without_time_takes_the_clock(engine: journeyflow.Engine) -> None:
    assert engine.handle({"customer": "c1", "event": "signed_up"}).accepted
    assert engine.trace[0]["at"] == T0


def test_offset_less_times_are_in_the_journeys_zone(engine: journeyflow.Engine) -> None:
    engine.handle({"at": "2026-03-02T11:00:00", "customer": "c1", "event": "signed_up"})
    engine.handle({"at": datetime(2026, 7, 1, 12, 0), "customer": "c2", "event": "signed_up"})
    engine.handle({"at": "2026-03-02T12:00:00+01:00", "customer": "c3", "event": "signed_up"})
    assert [(r["customer"], r["at"]) for r in engine.trace if r["kind"] == "transition"] == [
        ("c1", "2026-03-02T10:00:00Z"), ("c2", "2026-07-01T10:00:00Z"),
        ("c3", "2026-03-02T11:00:00Z")]


def test_valid_values_are_kept_as_the_interpreter_reads_them(
        engine: journeyflow.Engine) -> None:
    class Amount(float):
        pass

    engine.handle({"at": T0, "customer": 42, "event": "signed_up",
                   "attributes": {"birthday": "1990-05-17", "likes": ["shoes", 3, None],
                                  "vip": True, "unknown": 1}})
    engine.handle({"at": T0, "customer": 42, "event": "purchased",
                   "data": {"amount": Amount(2.5), "paid": "2026-03-02T09:00:00Z",
                            "extra": 1}})
    state = engine.customer("42")
    assert state is not None
    assert state.attributes["birthday"] == "1990-05-16T22:00:00Z"  # midnight in Berlin
    assert state.attributes["likes"] == ["shoes", 3, None]
    assert state.attributes["points"] == 2.5
    assert type(state.attributes["points"]) is float
    assert engine.warnings == 2


def test_pydantic_events_and_ids(engine: journeyflow.Engine) -> None:
    event = journeyflow.Event(at=datetime(2026, 3, 2, 11, 0), customer="c1",
                              event="signed_up", id="e1")
    assert engine.handle(event).accepted
    assert engine.trace[0]["at"] == T0  # a naive datetime is Berlin time too
    again = engine.handle(event)
    assert not again.accepted
    assert "duplicate event id 'e1'" in (again.reason or "")


def test_a_number_at_the_limit_is_accepted(engine: journeyflow.Engine) -> None:
    assert engine.handle(purchase(amount=2**53 - 1)).accepted
    assert not engine.handle(purchase(amount=2**53)).accepted
    assert not math.isnan(engine.customer("c1").attributes["points"])  # type: ignore[union-attr]


def test_a_default_out_of_range_rejects_only_the_events_that_rely_on_it() -> None:
    journey = journeyflow.loads('journey "d"\nevent big { amount: number = 99999999999999999999 }'
                                "\nstage a start { on big -> b }\nstage b final", "d.journey")
    engine = journeyflow.Engine(journey)
    left_out = engine.handle({"at": T0, "customer": "c", "event": "big"})
    assert not left_out.accepted
    assert "must be a finite number" in (left_out.reason or "")
    assert engine.handle({"at": T0, "customer": "c", "event": "big", "data": {"amount": 3}}
                         ).accepted
