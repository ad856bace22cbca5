"""The outbox and the delivery loop over the SQLite store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import journeyflow
from journeyflow.errors import JourneyError
from journeyflow.runtime.delivery_loop import ChannelPolicy, DeliveryLoop
from journeyflow.runtime.outbox import MemoryOutbox, OutboxRow

JOURNEY = """journey "outbox"
customer { email: text? }
channel crm
event signed_up {}
message welcome via email { subject "Hi" }
message ping via push { body "Ping" }
stage new start {
  on signed_up { send welcome  send ping  notify crm { task: "call" } }
}
"""
EVENT = {"at": "2026-01-01T10:00:00Z", "customer": "c1", "event": "signed_up",
         "attributes": {"email": "a@example.org"}}


class Flaky:
    """A channel that fails ``failures`` times, then takes everything."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.got: list[Any] = []

    def __call__(self, delivery: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("provider unavailable")
        self.got.append(delivery)


def test_a_channel_without_handler_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(JourneyError, match="delivers on 'crm', 'push' but no handler"):
        journeyflow.Engine(journeyflow.loads(JOURNEY), store=f"sqlite:///{tmp_path / 's.db'}",
                           channels={"email": Flaky()})
    # in memory the engine still starts, and each such delivery is recorded dead
    engine = journeyflow.Engine(journeyflow.loads(JOURNEY), channels={"email": Flaky()})
    engine.handle(EVENT)
    dead = [r for r in engine.trace if r["kind"] == "delivery" and r["status"] == "dead"]
    assert {r["channel"] for r in dead} == {"push", "crm"}
    assert all("no handler" in r["error"] for r in dead)


def test_trace_only_channels_are_explicit(tmp_path: Path) -> None:
    email = Flaky()
    engine = journeyflow.Engine(journeyflow.loads(JOURNEY),
                                store=f"sqlite:///{tmp_path / 's.db'}",
                                channels={"email": email, "push": None, "crm": None})
    engine.handle(EVENT)
    assert [d.message for d in email.got] == ["welcome"]
    assert [r["channel"] for r in engine.trace if r["kind"] == "delivery"] == ["email"]
    engine.close()


def test_pending_deliveries_survive_a_restart_with_their_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    journey = journeyflow.loads(JOURNEY)
    down = Flaky(failures=99)
    first = journeyflow.Engine(journey, store=url, retry={"*": ChannelPolicy(5, 0.2)},
                               channels={"email": down, "push": down, "crm": down})
    first.handle(EVENT)  # committed; the first attempts fail, retries are due later
    keys = {r["key"] for r in first.trace if r["kind"] == "delivery"}
    assert len(keys) == 3
    first.close()
    up = Flaky()
    second = journeyflow.Engine(journey, store=url, retry={"*": ChannelPolicy(5, 0)},
                                channels={"email": up, "push": up, "crm": up})
    assert second.deliveries is not None
    second.deliveries.drain(timeout=5)  # what the first left pending goes out now
    assert {d.key for d in up.got} == keys
    assert sorted(type(d).__name__ for d in up.got) == [
        "KeyedDelivery", "KeyedDelivery", "KeyedNotification"]
    notification = next(d for d in up.got if type(d).__name__ == "KeyedNotification")
    assert notification.data == {"task": "call"}
    assert [r["attempt"] for r in second.trace if r["kind"] == "delivery"] == [2, 2, 2]
    store: Any = second.store
    assert store.outbox.status_counts() == {"sent": 3}
    history = [r for r in store.history("c1") if r["kind"] == "delivery"]
    assert [(r["status"], r["attempt"]) for r in history] == [("failed", 1)] * 3 + [
        ("sent", 2)] * 3
    assert second.customer("c1") is not None  # the step was never undone
    second.close()


def test_backoff_doubles_and_attempts_are_per_channel() -> None:
    clock = [1000.0]
    outbox = MemoryOutbox()
    row = OutboxRow("j", "c1", "send", "sms", 0.0, {"message": "ping", "action": "send"}, {})
    outbox.add([row])
    program = journeyflow.Engine(journeyflow.loads(JOURNEY)).program
    loop = DeliveryLoop(program, outbox, {"sms": Flaky(failures=99)},
                        {"sms": ChannelPolicy(attempts=4, backoff=2.0)}, now=lambda: clock[0])
    waits = []
    for _ in range(4):
        assert loop.run_due() == 1
        if row.status == "pending":
            waits.append(row.next_at - clock[0])
            clock[0] = row.next_at
    assert waits == [2.0, 4.0, 8.0]
    assert row.status == "dead"
    assert loop.counts == {"sent": 0, "failed": 3, "dead": 1}
    with pytest.raises(ValueError, match="at least one attempt"):
        ChannelPolicy(attempts=0)


def test_a_customer_forgotten_during_a_delivery_stays_forgotten(tmp_path: Path) -> None:
    engine: Any = None

    def forget_meanwhile(delivery: Any) -> None:
        engine.store.forget(delivery.customer)  # a DELETE arriving while the mail goes out

    engine = journeyflow.Engine(journeyflow.loads(JOURNEY),
                                store=f"sqlite:///{tmp_path / 's.db'}",
                                channels={"email": forget_meanwhile, "push": None, "crm": None})
    engine.handle(EVENT)
    db = engine.store.db
    for table in ("jf_customers", "jf_history", "jf_outbox", "jf_timers"):
        column = "id" if table == "jf_customers" else "customer"
        count = db.execute(f"SELECT count(*) FROM {table} WHERE {column} = 'c1'").fetchone()
        assert count[0] == 0, table
    engine.close()
