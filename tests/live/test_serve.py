"""The service: HTTP in, committed state, wall-clock timers, deliveries, forgetting."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

with warnings.catch_warnings():  # this Starlette prefers a successor of httpx; httpx works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

import journeyflow
from journeyflow.errors import JourneyError
from journeyflow.live.http import make_app
from journeyflow.live.service import LiveService
from journeyflow.runtime.delivery_loop import ChannelPolicy
from tests.peers import free_port, service_up

JOURNEY = """journey "welcome"
customer { email: text? }
event signed_up {}
event purchased { amount: number }
message hello via email { subject "Hello" }
stage new start { on signed_up -> waiting }
stage waiting {
  on enter { send hello }
  on purchased -> bought
  after 2d -> lapsed
}
stage bought final
stage lapsed final
"""
OTHER = """journey "loyalty"
event purchased { amount: number }
stage guest start { on purchased where event.amount > 50 -> member }
stage member {}
"""
NOW = 1767261600.0  # 2026-01-01T10:00:00Z


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[LiveService, TestClient, Clock, list[Any]]]:
    sent: list[Any] = []
    clock = Clock()
    live = LiveService([journeyflow.loads(JOURNEY, str(tmp_path / "welcome.journey")),
                        journeyflow.loads(OTHER)], f"sqlite:///{tmp_path / 's.db'}",
                       {"email": sent.append}, tick=0.05, now=clock)
    with TestClient(make_app(live)) as client:
        yield live, client, clock, sent


def wait_for(check: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail("timed out")
        time.sleep(0.02)


def test_events_are_committed_before_202(service: Any) -> None:
    live, client, _, sent = service
    response = client.post("/events", json={"at": NOW, "customer": "c1", "event": "signed_up",
                                            "attributes": {"email": "a@example.org"}})
    assert response.status_code == 202
    assert response.json() == {"accepted": 1}
    body = client.get("/customers/c1").json()
    welcome = body["journeys"]["welcome"]
    assert welcome["state"]["stage"] == "waiting"
    assert welcome["why"]["rule"].endswith("welcome.journey:6")
    assert [r["kind"] for r in welcome["trace"]][:3] == ["enter", "exit", "transition"]
    wait_for(lambda: len(sent) == 1)
    assert sent[0].message == "hello"
    assert sent[0].key


def test_bad_events_get_400_and_are_kept(service: Any) -> None:
    live, client, _, _ = service
    lines = [{"at": NOW, "customer": "c1", "event": "signed_up"},
             {"at": NOW, "customer": "c2", "event": "purchased", "data": {"amount": "lots"}},
             {"at": NOW, "customer": "c3", "event": "nothing"}]
    body = "\n".join(json.dumps(line) for line in lines) + "\nnot json\n"
    response = client.post("/events", content=body,
                           headers={"content-type": "application/x-ndjson"})
    assert response.status_code == 400
    result = response.json()
    assert result["accepted"] == 1
    reasons = {r["line"]: r["reason"] for r in result["rejected"]}
    assert "field 'amount' must be a number" in reasons[2]
    assert reasons[3] == "unknown event 'nothing'"
    assert reasons[4].startswith("not valid JSON")
    db = live.database.db
    kept = db.execute("SELECT reason FROM jf_rejected ORDER BY seq").fetchall()
    # the bad amount (in both journeys that know `purchased`), the unknown event, the line
    # that is not JSON
    assert len(kept) == 4
    assert kept[2][0].startswith("not valid JSON")


def test_timers_fire_on_the_wall_clock(service: Any) -> None:
    _, client, clock, _ = service
    client.post("/events", json={"at": NOW, "customer": "c1", "event": "signed_up"})
    clock.now = NOW + 3 * 86400

    def lapsed() -> bool:
        body = client.get("/customers/c1").json()
        return bool(body["journeys"]["welcome"]["state"]["stage"] == "lapsed")

    wait_for(lapsed)


def test_several_journeys_share_one_store(service: Any) -> None:
    _, client, _, _ = service
    client.post("/events", json={"at": NOW, "customer": "c1", "event": "signed_up"})
    response = client.post("/events", json={"at": NOW + 60, "customer": "c1",
                                            "event": "purchased", "data": {"amount": 80}})
    assert response.status_code == 202
    journeys = client.get("/customers/c1").json()["journeys"]
    assert journeys["welcome"]["state"]["stage"] == "bought"
    assert journeys["loyalty"]["state"]["stage"] == "member"


def test_export_and_delete(service: Any) -> None:
    live, client, _, sent = service
    client.post("/events", json={"at": NOW, "customer": "c1", "event": "signed_up",
                                 "attributes": {"email": "a@example.org"}})
    wait_for(lambda: len(sent) == 1)
    exported = client.get("/customers/c1/export")
    assert exported.status_code == 200
    welcome = exported.json()["journeys"]["welcome"]
    assert welcome["stored"]["attrs"]["email"] == "a@example.org"
    assert welcome["deliveries"][0]["status"] == "sent"
    assert client.delete("/customers/c1").json() == {"customer": "c1", "deleted": True}
    assert client.get("/customers/c1").status_code == 404
    assert client.get("/customers/c1/export").status_code == 404
    assert client.delete("/customers/c1").status_code == 404
    db = live.database.db
    for table in ("jf_customers", "jf_timers", "jf_history", "jf_outbox"):
        count = db.execute(f"SELECT count(*) FROM {table} WHERE customer = 'c1'"
                           if table != "jf_customers" else
                           "SELECT count(*) FROM jf_customers WHERE id = 'c1'").fetchone()
        assert count[0] == 0, table


def test_health_and_metrics(service: Any) -> None:
    _, client, _, _ = service
    client.post("/events", json={"at": NOW, "customer": "c1", "event": "signed_up"})
    assert client.get("/health").json()["status"] == "ok"
    text = client.get("/metrics").text
    assert 'journeyflow_events_total{journey="welcome",outcome="accepted"} 1.0' in text
    assert 'journeyflow_customers{journey="welcome"} 1.0' in text
    assert "journeyflow_request_seconds_bucket" in text


def test_a_failing_channel_never_blocks_events(tmp_path: Path) -> None:
    calls: list[Any] = []

    def down(delivery: Any) -> None:
        calls.append(delivery)
        raise ConnectionError("mail server down")

    live = LiveService([journeyflow.loads(JOURNEY)], f"sqlite:///{tmp_path / 's.db'}",
                       {"email": down}, retry={"email": ChannelPolicy(2, 0.05)}, tick=0.05)
    with TestClient(make_app(live)) as client:
        assert client.post("/events", json={"customer": "c1", "event": "signed_up"}
                           ).status_code == 202
        wait_for(lambda: len(calls) == 2)
        trace = client.get("/customers/c1").json()["journeys"]["welcome"]["trace"]
        wait_for(lambda: any(r.get("status") == "dead" for r in client.get(
            "/customers/c1").json()["journeys"]["welcome"]["trace"]))
        assert trace[0]["kind"] == "enter"


def test_configuration_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(JourneyError, match="no handler is configured"):
        LiveService([journeyflow.loads(JOURNEY)], f"sqlite:///{tmp_path / 's.db'}", {})
    with pytest.raises(JourneyError, match="durable store"):
        LiveService([journeyflow.loads(JOURNEY)], "memory://", {"email": None})


@pytest.mark.slow
def test_serve_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    journey = tmp_path / "welcome.journey"
    journey.write_text(JOURNEY, "utf-8")
    port = free_port()
    exe = str(Path(sys.executable).with_name("journeyflow"))
    process = subprocess.Popen(
        [exe, "serve", str(journey), "--store", f"sqlite:///{tmp_path / 's.db'}",
         "--listen", f"127.0.0.1:{port}", "--channel", "email=trace"],
        stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        service_up(url)
        events = "".join(json.dumps({"customer": f"c{i}", "event": "signed_up"}) + "\n"
                         for i in range(50))
        response = httpx.post(f"{url}/events", content=events,
                              headers={"content-type": "application/x-ndjson"})
        assert response.status_code == 202
        os.kill(process.pid, signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    # uvicorn finishes its shutdown, then ends by the signal it got, as it should
    assert process.returncode in (0, -signal.SIGTERM), err
    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(entry["message"] == "service stopped" for entry in logs)
    engine = journeyflow.Engine(journeyflow.load(journey),
                                store=f"sqlite:///{tmp_path / 's.db'}")
    assert engine.store.count() == 50
    engine.close()


NEWS = """journey "news"
event signed_up {}
message digest via email { subject "Digest" }
stage reader start { on signed_up { send digest } }
"""
OFFERS = """journey "offers"
limit email to 1 per 7d
event signed_up {}
event visited {}
message offer via email { subject "10% off" }
stage prospect start {
  on signed_up -> browsing
}
stage browsing { on visited { send offer } }
"""


def test_a_limit_holds_across_the_journeys_of_a_service_and_a_restart(tmp_path: Path) -> None:
    sent: list[Any] = []
    clock = Clock()
    url = f"sqlite:///{tmp_path / 's.db'}"
    journeys = [journeyflow.loads(NEWS), journeyflow.loads(OFFERS)]

    def serve_once(event: dict[str, Any]) -> None:
        live = LiveService(journeys, url, {"email": sent.append}, tick=0.05, now=clock)
        with TestClient(make_app(live)) as client:
            assert client.post("/events", json=event).status_code == 202
            wait_for(lambda: live.loops[0].outbox.pending_count() == 0)

    serve_once({"at": NOW, "customer": "c1", "event": "signed_up"})
    serve_once({"at": NOW + 3600, "customer": "c1", "event": "visited"})  # restarted
    assert [mail.message for mail in sent] == ["digest"]
    live = LiveService(journeys, url, {"email": sent.append}, now=clock)
    try:
        offers = live.engines["offers"].store
        history = offers.history("c1")  # type: ignore[attr-defined]
        assert [(r["kind"], r.get("reason")) for r in history if r["kind"] == "suppressed"] \
            == [("suppressed", "frequency_cap")]
        assert live.export("c1")["news"]["sends"] == [{"at": NOW, "channel": "email"}]
    finally:
        live.stop()
