"""A running service takes a new version of a journey: POST /journeys and SIGHUP."""

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
import pytest

with warnings.catch_warnings():  # this Starlette prefers a successor of httpx; httpx works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

import journeyflow
from journeyflow.live.http import make_app
from journeyflow.live.service import LiveService
from journeyflow.runtime.delivery_loop import ChannelPolicy
from tests.peers import free_port, service_up

V1 = """journey "welcome"
version 1
customer { email: text? }
event signed_up {}
event purchased { amount: number }
message hello via email { subject "Hello" }
stage new start { on signed_up -> waiting }
stage waiting {
  on enter { send hello }
  on purchased -> bought
}
stage bought final
"""
COPY_EDIT = V1.replace("version 1", "version 2").replace('"Hello"', '"Hi there"')
RENAMED = (V1.replace("version 1", "version 2").replace("waiting", "pending")
           + "migrate {\n  stage waiting -> pending\n}\n")
BLOCKED = V1.replace("version 1", "version 2").replace("waiting", "pending")
TOKEN = "s3cret-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/plain"}


class Sent:
    """An email channel that fails while ``down`` is set."""

    def __init__(self) -> None:
        self.down = False
        self.tried: list[Any] = []
        self.delivered: list[Any] = []

    def __call__(self, delivery: Any) -> None:
        self.tried.append(delivery)
        if self.down:
            raise ConnectionError("mail server down")
        self.delivered.append(delivery)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[LiveService, TestClient, Sent]]:
    sent = Sent()
    path = tmp_path / "welcome.journey"
    path.write_text(V1, "utf-8")
    live = LiveService([journeyflow.load(path)], f"sqlite:///{tmp_path / 's.db'}",
                       {"email": sent}, retry={"email": ChannelPolicy(3, 1.5)}, tick=0.05)
    with TestClient(make_app(live, admin_token=TOKEN)) as client:
        yield live, client, sent


def wait_for(check: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail("timed out")
        time.sleep(0.02)


def sign_up(client: TestClient, cid: str) -> None:
    response = client.post("/events", json={"customer": cid, "event": "signed_up",
                                            "attributes": {"email": f"{cid}@example.org"}})
    assert response.status_code == 202, response.text


def test_a_copy_edit_renders_later_and_pending_deliveries(running: Any) -> None:
    live, client, sent = running
    sent.down = True
    sign_up(client, "c1")  # its mail fails once and waits for a retry
    wait_for(lambda: len(sent.tried) == 1)
    response = client.post("/journeys", content=COPY_EDIT, headers=ADMIN)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["journey"], body["from"], body["to"]) == ("welcome", "1", "2")
    assert body["migrated"]["customers"] == {"total": 1, "by_version": {"1": 1}}
    sent.down = False
    sign_up(client, "c2")
    wait_for(lambda: len(sent.delivered) == 2)
    assert {d.customer: d.subject for d in sent.delivered} == {"c1": "Hi there",
                                                                 "c2": "Hi there"}
    listed = client.get("/journeys").json()["journeys"]
    assert [(j["journey"], j["version"], j["last_error"]) for j in listed] == [
        ("welcome", "2", None)]
    assert live.engines["welcome"].journey.source == COPY_EDIT


def test_a_renamed_stage_moves_its_customers(running: Any) -> None:
    _, client, _ = running
    sign_up(client, "c1")
    response = client.post("/journeys", content=RENAMED, headers=ADMIN)
    assert response.status_code == 200, response.text
    assert response.json()["migrated"]["moved"] == [
        {"from": "waiting", "to": "pending", "customers": 1}]
    welcome = client.get("/customers/c1").json()["journeys"]["welcome"]
    assert welcome["state"]["stage"] == "pending"
    migrated = [r for r in welcome["trace"] if r["kind"] == "migrated"]
    assert len(migrated) == 1
    assert client.post("/events", json={"customer": "c1", "event": "purchased",
                                        "data": {"amount": 5}}).status_code == 202
    assert client.get("/customers/c1").json()["journeys"]["welcome"]["state"]["stage"] == (
        "bought")


def test_a_blocked_migration_keeps_the_old_version(running: Any) -> None:
    live, client, _ = running
    sign_up(client, "c1")
    response = client.post("/journeys", content=BLOCKED, headers=ADMIN)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "blocked"
    assert "waiting" in body["message"]
    assert body["report"]["blocked"] is True
    listed = client.get("/journeys").json()["journeys"][0]
    assert listed["version"] == "1"
    assert listed["last_error"]["error"] == "blocked"
    sign_up(client, "c2")  # the old version still runs: c2 waits in `waiting`
    assert client.get("/customers/c2").json()["journeys"]["welcome"]["state"]["stage"] == (
        "waiting")
    metrics = client.get("/metrics").text
    assert 'journeyflow_reloads_total{journey="welcome",outcome="blocked"} 1.0' in metrics
    assert live.engines["welcome"].journey.source == V1


def test_a_syntax_error_is_answered_with_file_line_col(running: Any) -> None:
    _, client, _ = running
    broken = V1.replace("version 1", "version 2").replace("-> bought", "-> ")
    response = client.post("/journeys?file=welcome-v2.journey", content=broken,
                           headers=ADMIN)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid"
    first = body["diagnostics"][0]
    assert first["file"] == "welcome-v2.journey"
    assert first["text"].startswith(f"welcome-v2.journey:{first['line']}:{first['col']}: "
                                    "error[JF")
    assert "^" in first["text"]
    assert client.get("/journeys").json()["journeys"][0]["version"] == "1"


def test_a_compile_error_lists_every_diagnostic(running: Any) -> None:
    _, client, _ = running
    broken = V1.replace("-> bought", "-> bougth").replace("send hello", "send helo")
    response = client.post("/journeys", content=broken, headers=ADMIN)
    assert response.status_code == 422
    messages = {d["message"] for d in response.json()["diagnostics"]}
    assert len(messages) == 2


def test_unknown_or_other_journeys_are_404(running: Any) -> None:
    _, client, _ = running
    other = V1.replace('journey "welcome"', 'journey "loyalty"')
    assert client.post("/journeys", content=other, headers=ADMIN).status_code == 404
    response = client.post("/journeys?journey=welcome", content=other, headers=ADMIN)
    assert response.status_code == 422
    assert "not 'welcome'" in response.json()["message"]


def test_the_admin_token_is_required(running: Any, tmp_path: Path) -> None:
    _, client, _ = running
    plain = {"Content-Type": "text/plain"}
    assert client.post("/journeys", content=COPY_EDIT, headers=plain).status_code == 401
    wrong = {**plain, "Authorization": "Bearer nope"}
    assert client.post("/journeys", content=COPY_EDIT, headers=wrong).status_code == 403
    assert client.get("/journeys").json()["journeys"][0]["version"] == "1"
    live = LiveService([journeyflow.loads(V1)], f"sqlite:///{tmp_path / 'other.db'}", None)
    with TestClient(make_app(live)) as unprotected:
        response = unprotected.post("/journeys", content=COPY_EDIT, headers=ADMIN)
        assert response.status_code == 403
        assert "--admin-token" in response.json()["error"]


def test_reading_the_files_again_swaps_only_changed_ones(running: Any, tmp_path: Path) -> None:
    from journeyflow.live.reload import Reloader

    live, client, _ = running
    reloader = Reloader(live)
    assert reloader.from_files() == []  # unchanged
    (tmp_path / "welcome.journey").write_text("journey \"welcome\"\nstage a start {\n",
                                               "utf-8")
    [refused] = reloader.from_files()
    assert refused.outcome == "invalid"  # type: ignore[union-attr]
    (tmp_path / "welcome.journey").write_text(RENAMED, "utf-8")
    [swapped] = reloader.from_files()
    assert swapped.to_version == "2"  # type: ignore[union-attr]
    assert reloader.running["welcome"].last_error is None


@pytest.mark.slow
def test_sighup_reloads_while_events_keep_coming(tmp_path: Path) -> None:
    path = tmp_path / "welcome.journey"
    path.write_text(V1, "utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    exe = str(Path(sys.executable).with_name("journeyflow"))
    process = subprocess.Popen(
        [exe, "serve", str(path), "--store", f"sqlite:///{tmp_path / 's.db'}",
         "--listen", f"127.0.0.1:{port}", "--channel", "email=trace"],
        stderr=subprocess.PIPE, text=True)
    statuses: list[int] = []
    try:
        service_up(url)
        posting = threading.Event()
        sender = threading.Thread(target=_post_until, args=(url, posting, statuses))
        sender.start()
        wait_for(lambda: len(statuses) >= 20)
        path.write_text(RENAMED, "utf-8")
        os.kill(process.pid, signal.SIGHUP)
        wait_for(lambda: httpx.get(f"{url}/journeys").json()["journeys"][0]["version"] == "2",
                 30)
        before = len(statuses)
        wait_for(lambda: len(statuses) >= before + 20)
        posting.set()
        sender.join(30)
        moved = [httpx.get(f"{url}/customers/c{i}").json()["journeys"]["welcome"]["state"]
                 ["stage"] for i in range(len(statuses))]
        os.kill(process.pid, signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert set(statuses) == {202}
    assert set(moved) == {"pending"}  # before the reload, migrated; after it, stepped by v2
    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    [reloaded] = [entry for entry in logs if entry["message"] == "journey reloaded"]
    assert (reloaded["from"], reloaded["to"]) == ("1", "2")


def _post_until(url: str, stop: threading.Event, statuses: list[int]) -> None:
    with httpx.Client(timeout=30) as http:
        while not stop.is_set():
            cid = f"c{len(statuses)}"
            statuses.append(http.post(f"{url}/events", json={
                "customer": cid, "event": "signed_up"}).status_code)


VISITS = V1.replace("version 1", "version 2").replace(
    "event purchased", "event visited {}\nevent purchased")


def test_on_postgresql_the_files_are_the_way_in(pg_url: str, tmp_path: Path) -> None:
    from journeyflow.live.reload import Reloader

    path = tmp_path / "welcome.journey"
    path.write_text(V1, "utf-8")
    live = LiveService([journeyflow.load(path)], pg_url + "?partitions=2", None)
    with TestClient(make_app(live, admin_token=TOKEN)) as client:
        response = client.post("/journeys", content=VISITS, headers=ADMIN)
        assert response.status_code == 409
        assert "SIGHUP" in response.json()["error"]
        visit = {"customer": "c1", "event": "visited"}
        assert client.post("/events", json=visit).status_code == 400  # v1 has no `visited`
        path.write_text(VISITS, "utf-8")
        [swapped] = Reloader(live).from_files()
        assert swapped.to_version == "2"  # type: ignore[union-attr]
        assert client.post("/events", json=visit).status_code == 202  # the inbox knows v2


WORK_V1 = """journey "visits"
version 1
event signed_up {}
stage new start { on signed_up -> waiting }
stage waiting {}
"""
WORK_V2 = """journey "visits"
version 2
event signed_up {}
event visited {}
stage new start { on signed_up -> waiting }
stage waiting { on visited -> engaged }
stage engaged final
"""


def test_work_reads_its_files_again_on_sighup(pg_url: str, tmp_path: Path) -> None:
    path = tmp_path / "visits.journey"
    path.write_text(WORK_V1, "utf-8")
    log_file = tmp_path / "work.log"
    with log_file.open("w") as stderr:
        worker = subprocess.Popen(
            [sys.executable, "-c", "from journeyflow.cli import main; main()", "work",
             str(path), "--store", pg_url], stderr=stderr, text=True)
    try:
        wait_for(lambda: "worker started" in log_file.read_text(), 60)
        path.write_text(WORK_V2.replace("-> engaged", "-> engagd"), "utf-8")
        os.kill(worker.pid, signal.SIGHUP)  # an unknown stage: refused
        wait_for(lambda: "journey files not reloaded" in log_file.read_text(), 30)
        path.write_text(WORK_V2, "utf-8")
        os.kill(worker.pid, signal.SIGHUP)
        wait_for(lambda: "journeys reloaded" in log_file.read_text(), 30)
        live = LiveService([journeyflow.load(path)], pg_url, None)
        with TestClient(make_app(live)) as client:
            events = [{"customer": "c1", "event": "signed_up"},
                      {"customer": "c1", "event": "visited"}]
            body = "".join(json.dumps(e) + "\n" for e in events)
            assert client.post("/events", content=body, headers={
                "content-type": "application/x-ndjson"}).status_code == 202

            def stage() -> str | None:
                found = client.get("/customers/c1").json().get("journeys", {})
                return found["visits"]["state"]["stage"] if "visits" in found else None
            wait_for(lambda: stage() == "engaged", 30)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    logs = [json.loads(line) for line in log_file.read_text().splitlines()
            if line.startswith("{")]
    [refused] = [e for e in logs if e["message"].startswith("journey files not reloaded")]
    assert refused["diagnostics"][0]["file"] == str(path)
