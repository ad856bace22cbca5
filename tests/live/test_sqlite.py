"""The SQLite store: durable on return, one writer, customers loaded on demand."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import journeyflow
from journeyflow.errors import JourneyError

JOURNEY = """journey "store"
customer { email: text?  points: number = 0 }
event signed_up {}
event purchased { amount: number }
message welcome via email { subject "Hi" }
message nudge via email { subject "Still there?" }
stage new start {
  on signed_up -> active
}
stage active {
  on enter { send welcome }
  on purchased { set points += event.amount }
  after 3d without purchased { send nudge }
  after 10d -> dormant
}
stage dormant {}
"""

T0 = 1767261600.0  # 2026-01-01T10:00:00Z


def events(n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(n):
        out.append({"at": T0 + i * 60, "customer": f"c{i}", "event": "signed_up",
                    "id": f"s{i}"})
        if i % 3 == 0:
            out.append({"at": T0 + 86400 + i * 60, "customer": f"c{i}", "event": "purchased",
                        "data": {"amount": i}, "id": f"p{i}"})
    return sorted(out, key=lambda e: e["at"])


def feed(engine: journeyflow.Engine, items: list[dict[str, Any]], until: float) -> None:
    for event in items:
        assert engine.handle(event).accepted
    engine.advance(until)


def test_state_is_durable_when_handle_returns(tmp_path: Path) -> None:
    """A process killed right after `handle` returned loses nothing (no close, no flush)."""
    journey_file = tmp_path / "store.journey"
    journey_file.write_text(JOURNEY, "utf-8")
    db = tmp_path / "state.db"
    script = (
        "import journeyflow, os, sys\n"
        f"e = journeyflow.Engine(journeyflow.load({str(journey_file)!r}), "
        f"store='sqlite:///{db}')\n"
        f"e.handle({{'at': {T0}, 'customer': 'c1', 'event': 'signed_up', 'id': 'a'}})\n"
        f"e.handle({{'at': {T0 + 60}, 'customer': 'c1', 'event': 'purchased', "
        "'data': {'amount': 5}, 'id': 'b'})\n"
        "os._exit(9)  # no close: as if killed\n")
    subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    engine = journeyflow.Engine(journeyflow.load(journey_file), store=f"sqlite:///{db}")
    state = engine.customer("c1")
    assert state is not None
    assert (state.stage, state.attributes["points"]) == ("active", 5)
    assert engine.processed == 2
    # the same event again (an at-least-once feed after the crash) is a duplicate
    again = engine.handle({"at": T0 + 60, "customer": "c1", "event": "purchased",
                           "data": {"amount": 5}, "id": "b"})
    assert not again.accepted
    assert "already committed" in (again.reason or "")
    engine.advance(T0 + 20 * 86400)  # the timers survived the crash too
    assert engine.customer("c1").stage == "dormant"  # type: ignore[union-attr]
    engine.close()


def test_a_second_writer_waits_then_fails_clearly(tmp_path: Path) -> None:
    journey = journeyflow.loads(JOURNEY)
    url = f"sqlite:///{tmp_path / 'state.db'}"
    first = journeyflow.Engine(journey, store=url)
    feed(first, events(3), T0 + 86400)
    started = time.monotonic()
    with pytest.raises(JourneyError, match="in use by another process") as caught:
        journeyflow.Engine(journey, store=url + "?wait=0.3")
    assert time.monotonic() - started >= 0.3
    assert "one writer at a time" in str(caught.value)
    first.close()
    second = journeyflow.Engine(journey, store=url)  # free again once the first closes
    assert second.store.count() == 3
    second.close()


def test_a_small_cache_gives_the_same_run(tmp_path: Path) -> None:
    """Customers are loaded on demand: a cache of 8 for 60 customers changes nothing."""
    journey = journeyflow.loads(JOURNEY)
    items = events(60)
    whole = journeyflow.Engine(journey)
    feed(whole, items, T0 + 30 * 86400)
    stored = journeyflow.Engine(journey, store=f"sqlite:///{tmp_path / 's.db'}?cache=8")
    feed(stored, items, T0 + 30 * 86400)
    assert dict.__len__(stored.interpreter.customers) <= 8 + 1
    assert stored.state() == whole.state()
    assert stored.trace == whole.trace
    stored.close()


def test_a_store_of_another_journey_is_refused_another_version_migrated(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    engine = journeyflow.Engine(journeyflow.loads(JOURNEY), store=url)
    feed(engine, events(2), T0)
    engine.close()
    other = JOURNEY.replace('journey "store"', 'journey "other"')
    with pytest.raises(JourneyError, match="belongs to journey 'store'"):
        journeyflow.Engine(journeyflow.loads(other), store=url)
    edited = JOURNEY.replace('"Hi"', '"Hello"')  # a copy edit: nothing blocks the migration
    migrated = journeyflow.Engine(journeyflow.loads(edited), store=url)
    assert migrated.store.count() == 2
    migrated.close()


def test_unknown_store_and_bad_options_are_clear_errors(tmp_path: Path) -> None:
    journey = journeyflow.loads(JOURNEY)
    with pytest.raises(JourneyError, match="unknown store"):
        journeyflow.Engine(journey, store="redis://x")
    with pytest.raises(JourneyError, match="bad option"):
        journeyflow.Engine(journey, store=f"sqlite:///{tmp_path / 'a.db'}?cache=lots")
    with pytest.raises(JourneyError, match="cannot open the state store"):
        journeyflow.Engine(journey, store=f"sqlite:///{tmp_path / 'no' / 'a.db'}")


def test_export_and_forget_a_customer(tmp_path: Path) -> None:
    journey = journeyflow.loads(JOURNEY)
    engine = journeyflow.Engine(journey, store=f"sqlite:///{tmp_path / 'state.db'}",
                                channels={"email": lambda delivery: None})
    engine.handle({"at": T0, "customer": "c1", "event": "signed_up",
                   "attributes": {"email": "ana@example.org"}})
    engine.handle({"at": T0, "customer": "c2", "event": "signed_up"})
    store: Any = engine.store
    exported = store.export("c1")
    assert exported["state"]["stage"] == "active"
    assert exported["stored"]["attrs"]["email"] == "ana@example.org"
    assert [r["kind"] for r in exported["history"]][:3] == ["enter", "exit", "transition"]
    assert exported["timers"]
    assert exported["deliveries"][0]["status"] == "sent"
    json.dumps(exported)  # all of it is plain JSON
    assert store.forget("c1")
    assert engine.customer("c1") is None
    assert store.export("c1") is None
    engine.advance(T0 + 30 * 86400)  # c1's timers are gone with it; c2's still fire
    assert engine.customer("c2").stage == "dormant"  # type: ignore[union-attr]
    assert not any(r["customer"] == "c1" for r in engine.trace[-10:])
    count = store.db.execute("SELECT count(*) FROM jf_history WHERE customer = 'c1'")
    assert count.fetchone()[0] == 0
    engine.close()


def test_committed_keys_are_pruned_after_their_days(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}?keys=2"
    clock = [time.time()]
    monkeypatch.setattr("journeyflow.live.sqlite.time.time", lambda: clock[0])
    with journeyflow.Engine(journeyflow.loads(JOURNEY), store=url) as engine:
        assert engine.handle({"at": T0, "customer": "c1", "event": "signed_up",
                              "id": "a"}).accepted
        clock[0] += 86400  # a day later: still recognised
        assert not engine.handle({"at": T0, "customer": "c1", "event": "signed_up",
                                  "id": "a"}).accepted
        clock[0] += 2 * 86400  # three days after its commit: pruned by the next commit
        engine.handle({"at": T0 + 60, "customer": "c2", "event": "signed_up", "id": "b"})
        assert not engine.store.committed("id:a")
        assert engine.store.committed("id:b")
        late = engine.handle({"at": T0 - 60, "customer": "c1", "event": "signed_up",
                              "id": "a"})
        assert not late.accepted
        assert "late" in (late.reason or "")


def test_keys_all_keeps_every_key_and_bad_keys_are_refused(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    clock = [time.time()]
    monkeypatch.setattr("journeyflow.live.sqlite.time.time", lambda: clock[0])
    url = f"sqlite:///{tmp_path / 's.db'}?keys=all"
    with journeyflow.Engine(journeyflow.loads(JOURNEY), store=url) as engine:
        engine.handle({"at": T0, "customer": "c1", "event": "signed_up", "id": "a"})
        clock[0] += 1000 * 86400
        engine.handle({"at": T0 + 60, "customer": "c2", "event": "signed_up", "id": "b"})
        assert engine.store.committed("id:a")
    for bad in ("0", "-1", "soon"):
        with pytest.raises(JourneyError, match="keys a number of days or 'all'"):
            journeyflow.Engine(journeyflow.loads(JOURNEY),
                               store=f"sqlite:///{tmp_path / 'b.db'}?keys={bad}")


def test_a_store_of_an_earlier_release_gets_dated_keys(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE jf_events (journey TEXT NOT NULL, key TEXT NOT NULL, "
               "PRIMARY KEY (journey, key)) WITHOUT ROWID")
    db.execute("INSERT INTO jf_events VALUES ('store', 'id:old')")
    db.commit()
    db.close()
    with journeyflow.Engine(journeyflow.loads(JOURNEY), store=f"sqlite:///{path}") as engine:
        assert engine.store.committed("id:old")
        at = engine.store.db.execute("SELECT at FROM jf_events").fetchone()[0]
        assert abs(at - time.time()) < 60
