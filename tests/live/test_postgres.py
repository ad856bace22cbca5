"""The PostgreSQL store used by an engine on its own: the SQLite store's results, durable
when it returns, rejected events kept, the outbox, export and forget, and the fence."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

import journeyflow
from journeyflow.cli import main
from journeyflow.errors import JourneyError
from journeyflow.live.leases import LeaseLost
from journeyflow.live.pgschema import parse_url
from journeyflow.live.postgres import PostgresStore
from tests.conftest import EXAMPLES
from tests.live.test_sqlite import JOURNEY, T0, events, feed

UNTIL = "2026-09-01T00:00:00Z"


def example_events(journey: journeyflow.Journey, customers: int,
                   seed: int) -> list[dict[str, Any]]:
    """Events of every type the journey declares, with values of the declared field types
    (some deliberately wrong, to be rejected alike), for ``customers`` customers."""
    rng = random.Random(seed)
    model = journey.model
    names = sorted(model.events)
    out: list[dict[str, Any]] = []
    for n in range(customers):
        at = T0 + rng.randrange(0, 30 * 86400)
        for _ in range(rng.randrange(2, 9)):
            name = rng.choice(names)
            fields = model.events[name].fields
            data = {field: _value(rng, str(getattr(spec, "type", spec)))
                    for field, spec in fields.items()}
            event: dict[str, Any] = {"at": at, "customer": f"c{n}", "event": name, "data": data}
            if rng.random() < 0.3:
                event["attributes"] = {"email": f"c{n}@example.org", "first_name": "Ana"}
            out.append(event)
            at += rng.randrange(0, 9 * 86400)
    return sorted(out, key=lambda e: e["at"])


def _value(rng: random.Random, kind: str) -> Any:
    if rng.random() < 0.02:
        return "wrong"
    if kind == "number":
        return rng.randrange(0, 400)
    if kind == "datetime":
        return "2026-02-15T10:00:00Z"
    if kind == "bool":
        return rng.random() < 0.5
    return rng.choice(["a", "b", "shoes", "bags", "low", "high"])


def run_cli(journey: Path, events_file: Path, store: str, out: Path) -> dict[str, Any]:
    result = CliRunner().invoke(main, [
        "run", str(journey), "--events", str(events_file), "--until", UNTIL, "--store", store,
        "--state", str(out / "state.json"), "--trace", str(out / "trace.jsonl")])
    assert result.exit_code == 0, result.output
    return {"state": json.loads((out / "state.json").read_text("utf-8")),
            "trace": (out / "trace.jsonl").read_text("utf-8")}


@pytest.mark.parametrize("name", ["lifecycle", "abandoned_cart", "b2b_renewal",
                                  "fashion_triggers", "resort_guests"])
def test_run_gives_what_sqlite_gives_on_the_examples(name: str, pg_url: str,
                                                     tmp_path: Path) -> None:
    path = EXAMPLES / f"{name}.journey"
    events_file = EXAMPLES / f"{name}.events.jsonl"
    if not events_file.exists():
        events_file = tmp_path / "events.jsonl"
        items = example_events(journeyflow.load(path), 40, seed=len(name))
        events_file.write_text("".join(json.dumps(e) + "\n" for e in items), "utf-8")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    lite = run_cli(path, events_file, f"sqlite:///{tmp_path / 'state.db'}", tmp_path / "a")
    pg = run_cli(path, events_file, pg_url, tmp_path / "b")
    assert pg["state"] == lite["state"]
    assert pg["trace"] == lite["trace"]
    assert pg["state"]["customers"]
    # resumed on the same file: every line is committed already, nothing changes
    again = run_cli(path, events_file, pg_url, tmp_path / "b")
    assert again["state"] == lite["state"]


def test_state_is_durable_when_handle_returns(pg_url: str, tmp_path: Path) -> None:
    journey_file = tmp_path / "store.journey"
    journey_file.write_text(JOURNEY, "utf-8")
    script = (
        "import journeyflow, os\n"
        f"e = journeyflow.Engine(journeyflow.load({str(journey_file)!r}), "
        f"store={pg_url + '?lease=1'!r})\n"
        f"e.handle({{'at': {T0}, 'customer': 'c1', 'event': 'signed_up', 'id': 'a'}})\n"
        f"e.handle({{'at': {T0 + 60}, 'customer': 'c1', 'event': 'purchased', "
        "'data': {'amount': 5}, 'id': 'b'})\n"
        "os._exit(9)  # no close: as if killed\n")
    subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    # the killed engine's leases (1 s) run out, then this engine takes every partition
    engine = journeyflow.Engine(journeyflow.load(journey_file), store=pg_url + "?wait=10")
    state = engine.customer("c1")
    assert state is not None
    assert (state.stage, state.attributes["points"]) == ("active", 5)
    again = engine.handle({"at": T0 + 60, "customer": "c1", "event": "purchased",
                           "data": {"amount": 5}, "id": "b"})
    assert not again.accepted
    assert "already committed" in (again.reason or "")
    engine.advance(T0 + 20 * 86400)
    assert engine.customer("c1").stage == "dormant"  # type: ignore[union-attr]
    engine.close()


def test_a_small_cache_gives_the_same_run(pg_url: str) -> None:
    journey = journeyflow.loads(JOURNEY)
    items = events(60)
    whole = journeyflow.Engine(journey)
    feed(whole, items, T0 + 30 * 86400)
    stored = journeyflow.Engine(journey, store=pg_url + "?cache=8&partitions=4")
    feed(stored, items, T0 + 30 * 86400)
    assert dict.__len__(stored.interpreter.customers) <= 8 + 1
    assert stored.state() == whole.state()
    assert stored.trace == whole.trace
    stored.close()


def test_a_second_engine_waits_for_the_partitions_then_fails_clearly(pg_url: str) -> None:
    journey = journeyflow.loads(JOURNEY)
    first = journeyflow.Engine(journey, store=pg_url)
    feed(first, events(3), T0)
    with pytest.raises(JourneyError, match="being run by other workers"):
        journeyflow.Engine(journey, store=pg_url + "?wait=0.3")
    first.close()  # gives its partitions back at once
    second = journeyflow.Engine(journey, store=pg_url + "?wait=0")
    assert second.store.count() == 3
    second.close()


def test_bad_urls_and_other_versions_are_clear_errors(pg_url: str) -> None:
    journey = journeyflow.loads(JOURNEY)
    with pytest.raises(JourneyError, match="bad option"):
        journeyflow.Engine(journey, store=pg_url + "?partitions=lots")
    with pytest.raises(JourneyError, match="cannot open the state store") as caught:
        journeyflow.Engine(journey, store="postgresql://nobody:secret@127.0.0.1:1/none")
    assert "secret" not in str(caught.value)  # the password is never shown
    engine = journeyflow.Engine(journey, store=pg_url)
    feed(engine, events(2), T0)
    engine.close()
    renamed = JOURNEY.replace("stage active", "stage engaged").replace("-> active",
                                                                      "-> engaged")
    with pytest.raises(JourneyError, match="holds customers of another version"):
        journeyflow.Engine(journeyflow.loads(renamed), store=pg_url)


def test_rejected_events_are_kept(pg_url: str) -> None:
    journey = journeyflow.loads(JOURNEY)
    engine = journeyflow.Engine(journey, store=pg_url)
    engine.handle({"at": T0, "customer": "c1", "event": "signed_up"})
    assert not engine.handle({"at": T0 - 60, "customer": "c1", "event": "purchased",
                              "data": {"amount": 1}}).accepted
    assert not engine.handle({"customer": "c2", "event": "nope"}).accepted
    engine.close()
    again = journeyflow.Engine(journey, store=pg_url)
    reasons = [r.reason for r in again.rejected]
    assert len(reasons) == 2
    assert reasons[0].startswith("late event")
    assert "unknown event 'nope'" in reasons[1]
    again.close()


def test_deliveries_leave_through_the_outbox_with_their_keys(pg_url: str) -> None:
    journey = journeyflow.loads(JOURNEY)
    sent: list[Any] = []
    engine = journeyflow.Engine(journey, store=pg_url, channels={"email": sent.append})
    feed(engine, events(6), T0 + 30 * 86400)
    keys = [d.key for d in sent]
    assert len(keys) == len(set(keys)) == 6 + 6  # a welcome and a nudge each
    assert isinstance(engine.store, PostgresStore)
    assert engine.store.outbox.status_counts() == {"sent": 12}
    engine.close()


def test_export_and_forget_a_customer(pg_url: str) -> None:
    journey = journeyflow.loads(JOURNEY)
    engine = journeyflow.Engine(journey, store=pg_url, channels={"email": lambda d: None})
    feed(engine, events(3), T0 + 86400)
    store = engine.store
    assert isinstance(store, PostgresStore)
    exported = store.export("c0")
    assert exported is not None
    assert exported["state"]["stage"] == "active"
    assert exported["history"][0]["kind"] == "enter"
    assert exported["deliveries"][0]["status"] == "sent"
    assert exported["timers"]
    assert store.forget("c0")
    assert store.export("c0") is None
    assert not store.forget("c0")
    engine.advance(T0 + 30 * 86400)  # its timers are gone with it: nothing fires for c0
    assert engine.customer("c0") is None
    with psycopg.connect(pg_url) as conn:
        for table in ("jf_timers", "jf_history", "jf_outbox", "jf_customers"):
            column = "id" if table == "jf_customers" else "customer"
            found = conn.execute(f"SELECT count(*) FROM {table} WHERE {column} = 'c0'")  # noqa: S608
            assert found.fetchone() == (0,)
    engine.close()


def _worker_store(url: str, name: str) -> tuple[journeyflow.Engine, PostgresStore]:
    joined = "&" if "?" in url else "?"
    store = PostgresStore(parse_url(f"{url}{joined}worker={name}"), exclusive=False)
    engine = journeyflow.Engine(journeyflow.loads(JOURNEY), store=store)
    return engine, store


def test_a_worker_whose_lease_was_taken_cannot_commit(pg_url: str) -> None:
    url = pg_url + "?partitions=2&lease=30"
    a, store_a = _worker_store(url, "a")
    b, store_b = _worker_store(url, "b")
    assert store_a.leases is not None
    assert store_b.leases is not None
    assert store_a.leases.claim(2) == {0, 1}
    store_a.gained({0, 1})
    a.handle({"at": T0, "customer": "c1", "event": "signed_up"})
    # a stalls; its leases run out and b takes both partitions over
    with psycopg.connect(pg_url) as conn:
        conn.execute("UPDATE jf_leases SET expires = now() - interval '1 second'")
    assert store_b.leases.claim(2) == {0, 1}
    store_b.gained({0, 1})
    a.step({"at": T0 + 60, "customer": "c1", "event": "purchased", "data": {"amount": 7}})
    with pytest.raises(LeaseLost) as lost:
        a.commit()
    assert lost.value.partitions == {0, 1}
    assert store_a.leases.held == {}
    assert dict.__len__(a.interpreter.customers) == 0  # its uncommitted customers dropped
    # nothing of a's step was written: b sees c1 as a's last commit left it
    state = b.customer("c1")
    assert state is not None
    assert state.attributes["points"] == 0
    b.handle({"at": T0 + 120, "customer": "c1", "event": "purchased", "data": {"amount": 3}})
    assert b.customer("c1").attributes["points"] == 3  # type: ignore[union-attr]
    a.close()
    b.close()


def test_an_engine_on_its_own_that_lost_its_partitions_says_so(pg_url: str) -> None:
    engine = journeyflow.Engine(journeyflow.loads(JOURNEY), store=pg_url + "?partitions=2")
    engine.handle({"at": T0, "customer": "c1", "event": "signed_up"})
    with psycopg.connect(pg_url) as conn:
        conn.execute("UPDATE jf_leases SET expires = now() - interval '1 second'")
    worker, store = _worker_store(pg_url + "?partitions=2", "w")
    assert store.leases is not None
    assert store.leases.claim(2) == {0, 1}
    with pytest.raises(JourneyError, match=r"another worker took over partitions \[0, 1\]"):
        engine.handle({"at": T0 + 60, "customer": "c1", "event": "purchased",
                       "data": {"amount": 2}})
    assert worker.customer("c1").attributes["points"] == 0  # type: ignore[union-attr]
    worker.close()
    engine.close()


class _Dying:
    """A channel whose process dies at its point of no return: it lets the delivery loop
    commit the hand-over, then stops like a killed process (nothing after it runs)."""

    def __init__(self) -> None:
        self.handed: list[str] = []

    def hand_over(self, delivery: Any, commit: Any) -> None:
        commit()
        self.handed.append(delivery.key)
        raise SystemExit("killed")


def test_a_row_left_sending_by_a_dead_worker_is_settled_after_its_claim(pg_url: str) -> None:
    from journeyflow.live.pgoutbox import PostgresOutbox
    from journeyflow.runtime.delivery_loop import DeliveryLoop
    from journeyflow.runtime.outbox import HAND_OVER_CLAIM

    journey = journeyflow.loads(JOURNEY)
    dying = _Dying()
    engine = journeyflow.Engine(journey, store=pg_url, channels={"email": dying})
    engine.deliver_inline = False
    assert engine.handle(events(1)[0]).accepted  # a welcome, committed to the outbox
    assert engine.deliveries is not None
    with pytest.raises(SystemExit):
        engine.deliveries.run_due()
    assert isinstance(engine.store, PostgresStore)
    assert engine.store.outbox.status_counts() == {"sending": 1}

    # another worker's loop: the row is left to its sender until the claim has passed
    outbox = PostgresOutbox(parse_url(pg_url), journey.name)
    sent: list[Any] = []
    now = [engine.clock.now() + 1]
    loop = DeliveryLoop(engine.program, outbox, {"email": sent.append}, now=lambda: now[0])
    assert loop.run_due() == 0
    now[0] += HAND_OVER_CLAIM
    assert loop.run_due() == 1
    assert sent == []  # settled, not sent again
    assert outbox.status_counts() == {"sent": 1}
    history = [r for r in engine.store.history("c0") if r["kind"] == "delivery"]
    assert [(r["status"], r["attempt"], r["key"]) for r in history] == [
        ("sent", 1, dying.handed[0])]
    assert "not sent again" in history[0]["unconfirmed"]
    outbox.close()
    engine.close()
