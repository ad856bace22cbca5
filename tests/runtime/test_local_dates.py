"""Dates without an offset are read in the customer's own zone (``timezone customer.tz``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

import journeyflow
from journeyflow.cli import main

JOURNEY = """journey "zones"
timezone customer.tz or "Europe/Berlin"
customer { tz: text?  birthday: date? }
event booked { start: datetime }
stage a start { on booked { tag "booked" } }
"""


def attributes_after(events: list[dict[str, Any]]) -> dict[str, Any]:
    engine = journeyflow.Engine(journeyflow.loads(JOURNEY, "z.journey"))
    for event in events:
        assert engine.handle(event).accepted
    state = engine.customer("c1")
    assert state is not None
    return dict(state.attributes)


def booked(start: str, **attributes: Any) -> dict[str, Any]:
    return {"at": "2026-08-01T12:00:00Z", "customer": "c1", "event": "booked",
            "data": {"start": start}, "attributes": attributes}


def test_a_date_is_midnight_where_the_customer_lives() -> None:
    la = attributes_after([booked("2026-09-01T09:00", tz="America/Los_Angeles",
                                  birthday="1990-05-17")])
    assert la["birthday"] == "1990-05-17T07:00:00Z"  # midnight in Los Angeles (PDT)
    berlin = attributes_after([booked("2026-09-01T09:00", birthday="1990-05-17")])
    assert berlin["birthday"] == "1990-05-16T22:00:00Z"  # the fallback zone (CEST)


def test_a_zone_set_earlier_applies_to_later_events() -> None:
    later = attributes_after([booked("2026-09-01T09:00", tz="Asia/Tokyo"),
                              booked("2026-09-01T09:00", birthday="1990-05-17")])
    assert later["birthday"] == "1990-05-16T15:00:00Z"


def test_event_data_and_offsets(tmp_path: Path) -> None:
    journey = tmp_path / "z.journey"
    journey.write_text(JOURNEY.replace('{ tag "booked" }', '{ set birthday = event.start }'),
                       "utf-8")
    events = tmp_path / "e.jsonl"
    lines = [booked("2026-09-01T09:00", tz="America/Los_Angeles"),
             {**booked("2026-09-01T09:00+02:00"), "at": "2026-08-02T12:00:00Z"}]
    events.write_text("".join(json.dumps(line) + "\n" for line in lines), "utf-8")
    done = CliRunner().invoke(main, ["run", str(journey), "--events", str(events),
                                     "--trace", str(tmp_path / "t.jsonl")])
    assert done.exit_code == 0, done.output
    sets = [json.loads(line)["value"] for line in (tmp_path / "t.jsonl").read_text().split()
            if '"set"' in line]
    # 09:00 in Los Angeles, then an explicit offset left as written
    assert sets == ["2026-09-01T16:00:00Z", "2026-09-01T07:00:00Z"]
