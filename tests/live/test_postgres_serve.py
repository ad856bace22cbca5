"""The service on a PostgreSQL store: events into the inbox, stepped by workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

with warnings.catch_warnings():  # as in test_serve: this Starlette prefers httpx's successor
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

import journeyflow
from journeyflow.live.http import make_app
from journeyflow.live.service import LiveService
from journeyflow.live.workerproc import WorkerProcess
from tests.live.test_serve import JOURNEY, NOW, OTHER
from tests.peers import free_port, service_up


@pytest.fixture
def pg_service(pg_url: str, tmp_path: Path) -> Iterator[tuple[LiveService, TestClient]]:
    journeys = [journeyflow.loads(JOURNEY, str(tmp_path / "welcome.journey")),
                journeyflow.loads(OTHER)]
    live = LiveService(journeys, pg_url + "?partitions=4", None, now=lambda: NOW)
    with TestClient(make_app(live)) as client:
        yield live, client


def step_all(pg_url: str, tmp_path: Path, until: float) -> None:
    journeys = [journeyflow.loads(JOURNEY, str(tmp_path / "welcome.journey")),
                journeyflow.loads(OTHER)]
    process = WorkerProcess(journeys, pg_url + "?partitions=4", None, until=until)
    try:
        process.run(threading.Event(), drain=True)
    finally:
        process.close()


def test_events_go_to_the_inbox_and_workers_step_them(pg_service: Any, pg_url: str,
                                                      tmp_path: Path) -> None:
    live, client = pg_service
    lines = [{"customer": "c1", "event": "signed_up", "id": "s1"},
             {"customer": "c1", "event": "purchased", "data": {"amount": 80}},
             {"customer": "c2", "event": "nope"},
             {"customer": "c1", "event": "signed_up", "id": "s1"}]
    body = "".join(json.dumps(line) + "\n" for line in lines) + "{not json\n"
    response = client.post("/events", content=body,
                           headers={"content-type": "application/x-ndjson"})
    assert response.status_code == 400
    answer = response.json()
    assert answer["accepted"] == 2
    reasons = {r["line"]: r["reason"] for r in answer["rejected"]}
    assert "unknown event 'nope'" in reasons[3]
    assert reasons[4] == "duplicate event id 's1': already accepted"
    assert reasons[5].startswith("not valid JSON")
    # a purchase goes to both journeys, which declare it: three inbox rows in all
    assert client.get("/health").json()["inbox"] == 3
    assert client.get("/customers/c1").status_code == 404  # accepted, not stepped yet
    step_all(pg_url, tmp_path, NOW + 60)
    assert client.get("/health").json()["inbox"] == 0
    found = client.get("/customers/c1").json()["journeys"]
    assert found["welcome"]["state"]["stage"] == "bought"
    assert found["loyalty"]["state"]["stage"] == "member"
    assert [r["kind"] for r in found["welcome"]["trace"]][:2] == ["enter", "exit"]
    exported = client.get("/customers/c1/export").json()["journeys"]
    assert exported["welcome"]["state"]["stage"] == "bought"
    with psycopg.connect(pg_url) as conn:
        kept = [r[0] for r in conn.execute("SELECT reason FROM jf_rejected ORDER BY seq")]
    assert len(kept) == 3  # every refused line is kept
    assert client.delete("/customers/c1").json() == {"customer": "c1", "deleted": True}
    assert client.get("/customers/c1").status_code == 404
    metrics = client.get("/metrics").text
    assert 'journeyflow_events_total{journey="welcome",outcome="rejected"}' in metrics


def test_a_second_request_with_a_committed_id_is_refused_by_the_worker(
        pg_service: Any, pg_url: str, tmp_path: Path) -> None:
    _, client = pg_service
    event = {"customer": "c1", "event": "signed_up", "id": "s1"}
    assert client.post("/events", json=event).status_code == 202
    step_all(pg_url, tmp_path, NOW)
    assert client.post("/events", json=event).status_code == 202  # not in the inbox now
    step_all(pg_url, tmp_path, NOW)
    with psycopg.connect(pg_url) as conn:
        kept = [r[0] for r in conn.execute("SELECT reason FROM jf_rejected")]
    assert kept == ["duplicate event id 's1': already committed"]


@pytest.mark.slow
def test_serve_with_two_workers_steps_everything_and_stops_cleanly(pg_url: str,
                                                                   tmp_path: Path) -> None:
    journey = tmp_path / "welcome.journey"
    journey.write_text(JOURNEY, "utf-8")
    port = free_port()
    exe = str(Path(sys.executable).with_name("journeyflow"))
    store = pg_url + "?partitions=8&lease=2"
    process = subprocess.Popen(
        [exe, "serve", str(journey), "--store", store, "--workers", "2",
         "--listen", f"127.0.0.1:{port}", "--channel", "email=trace"],
        stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        service_up(url)
        deadline = time.monotonic() + 60
        events = "".join(json.dumps({"customer": f"c{i}", "event": "signed_up"}) + "\n"
                         for i in range(200))
        response = httpx.post(f"{url}/events", content=events,
                              headers={"content-type": "application/x-ndjson"})
        assert response.status_code == 202
        while httpx.get(f"{url}/health").json()["inbox"]:
            assert time.monotonic() < deadline + 60, "the workers did not step the events"
            time.sleep(0.2)
        state = httpx.get(f"{url}/customers/c7").json()["journeys"]["welcome"]["state"]
        assert state["stage"] == "waiting"
        os.kill(process.pid, signal.SIGTERM)
        _, err = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode in (0, -signal.SIGTERM), err
    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    stopped = [entry for entry in logs if entry["message"] == "worker stopped"]
    assert len(stopped) == 2
    assert sum(entry["events"] for entry in stopped) == 200
    assert any(entry["message"] == "service stopped" for entry in logs)
