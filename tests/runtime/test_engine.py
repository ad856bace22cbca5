"""The embedding API: Engine, channels, late events, clock, snapshots."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import journeyflow
from journeyflow.runtime.clock import SimulatedClock
from journeyflow.runtime.executor import Delivery, Notification

SHOP = """
journey "shop"
timezone "Europe/Berlin"

customer { email: text  first_name: text = "du"  points: number = 0  birthday: date? }

event signed_up { source: text = "web" }
event purchased { amount: number }
event pinged {}

channel crm

message welcome via email { subject "Willkommen, {{ customer.first_name }}!" body "Hallo" }
message thanks via email { subject "Danke für {{ event.amount }} Euro" }
message nudge via sms { body "Komm zurück" }

segment big where points >= 100
goal converted on purchased where event.amount > 50

stage visitor start {
  on signed_up -> member
}

stage member {
  on enter { send welcome  notify crm { email: email } }
  on purchased {
    set points += event.amount
    send thanks
  }
  on pinged -> member
  after 3d without purchased { send nudge }
}
"""

T0 = "2026-03-02T10:00:00Z"


@pytest.fixture
def journey() -> journeyflow.Journey:
    return journeyflow.loads(SHOP, "shop.journey")


def test_handle_and_snapshot(journey: journeyflow.Journey) -> None:
    engine = journeyflow.Engine(journey, clock=SimulatedClock(0))
    assert engine.handle({"at": T0, "customer": "c1", "event": "signed_up",
                          "attributes": {"email": "a@example.org"}}).accepted
    engine.handle(journeyflow.Event(at=datetime(2026, 3, 2, 11, tzinfo=UTC), customer="c1",
                                    event="purchased", data={"amount": 120}))
    state = engine.customer("c1")
    assert state is not None
    assert state.stage == "member"
    assert state.attributes["points"] == 120
    assert state.goals == ["converted"]
    assert state.segments == ["big"]
    kinds = [(r["kind"], r.get("action"), r.get("message")) for r in engine.trace]
    assert ("action", "send", "welcome") in kinds
    assert ("action", "notify", None) in kinds
    assert ("goal", None, None) in kinds


def test_channels_receive_rendered_deliveries(journey: journeyflow.Journey) -> None:
    mails: list[Delivery] = []
    crm: list[Notification] = []
    engine = journeyflow.Engine(journey, channels={"email": mails.append, "crm": crm.append})
    engine.handle({"at": T0, "customer": "c1", "event": "signed_up",
                   "attributes": {"email": "a@example.org", "first_name": "Ada"}})
    engine.handle({"at": "2026-03-02T12:00:00Z", "customer": "c1", "event": "purchased",
                   "data": {"amount": 80}})
    assert [m.subject for m in mails] == ["Willkommen, Ada!", "Danke für 80 Euro"]
    assert mails[0].body == "Hallo"
    assert crm[0].data == {"email": "a@example.org"}


def test_rejections_are_kept_with_reasons(journey: journeyflow.Journey) -> None:
    engine = journeyflow.Engine(journey)
    bad: list[dict[str, Any]] = [
        {"at": T0, "customer": "c1", "event": "signed_upp"},
        {"at": T0, "customer": "c1", "event": "purchased", "data": {"amount": "viel"}},
        {"at": "gestern", "customer": "c1", "event": "signed_up"},
        {"at": T0, "event": "signed_up"},
    ]
    results = [engine.handle(event) for event in bad]
    assert not any(r.accepted for r in results)
    assert "did you mean 'signed_up'" in (results[0].reason or "")
    assert len(engine.rejected) == 4
    assert [r["kind"] for r in engine.trace] == ["rejected"] * 4


def test_late_event_is_rejected_in_streaming(journey: journeyflow.Journey) -> None:
    engine = journeyflow.Engine(journey)
    engine.handle({"at": T0, "customer": "c1", "event": "signed_up"})
    late = engine.handle({"at": "2026-03-01T10:00:00Z", "customer": "c1", "event": "pinged"})
    assert not late.accepted
    assert "late event" in (late.reason or "")


def test_advance_fires_timers_and_uses_the_clock(journey: journeyflow.Journey) -> None:
    clock = SimulatedClock(datetime(2026, 3, 2, 10, tzinfo=UTC))
    engine = journeyflow.Engine(journey, clock=clock)
    engine.handle({"customer": "c1", "event": "signed_up"})  # no `at`: the clock's now
    clock.advance(3 * 86400 - 60)
    engine.advance()
    assert "nudge" not in [r.get("message") for r in engine.trace]
    clock.advance(120)
    engine.advance()
    nudges = [r for r in engine.trace if r.get("message") == "nudge"]
    assert [r["at"] for r in nudges] == ["2026-03-05T10:00:00Z"]


def test_self_transition_reenters_and_restarts_timers(journey: journeyflow.Journey) -> None:
    engine = journeyflow.Engine(journey)
    engine.handle({"at": T0, "customer": "c1", "event": "signed_up"})
    engine.handle({"at": "2026-03-04T10:00:00Z", "customer": "c1", "event": "pinged"})
    engine.advance("2026-03-06T11:00:00Z")
    nudges = [r["at"] for r in engine.trace if r.get("message") == "nudge"]
    assert nudges == []  # the stay began again on the 4th: the nudge is due on the 7th
    engine.advance("2026-03-07T10:00:00Z")
    assert [r["at"] for r in engine.trace if r.get("message") == "nudge"] == [
        "2026-03-07T10:00:00Z"]
    welcomes = [r for r in engine.trace if r.get("message") == "welcome"]
    assert len(welcomes) == 2


def test_state_matches_the_run_contract(journey: journeyflow.Journey) -> None:
    engine = journeyflow.Engine(journey)
    engine.handle({"at": T0, "customer": "c1", "event": "signed_up",
                   "data": {"extra": 1}, "attributes": {"unknown": 2, "birthday": "1990-05-01"}})
    state = engine.state()
    assert set(state) == {"customers", "processed", "rejected", "pending", "warnings"}
    assert state["warnings"] == 2
    assert state["customers"]["c1"]["attributes"]["birthday"] == "1990-04-30T22:00:00Z"


def test_redelivered_events_are_rejected_as_duplicates(journey: journeyflow.Journey) -> None:
    engine = journeyflow.Engine(journey)
    event = {"id": "evt-1", "at": T0, "customer": "c1", "event": "signed_up"}
    assert engine.handle(event).accepted
    again = engine.handle(dict(event))
    assert not again.accepted
    assert again.reason == "duplicate event id 'evt-1'"
    assert engine.handle({**event, "id": "evt-2", "event": "pinged"}).accepted
    older = engine.handle({**event, "at": "2026-03-01T00:00:00Z"})
    assert not older.accepted  # older than the customer's clock: late
