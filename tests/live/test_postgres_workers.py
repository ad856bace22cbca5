"""Workers sharing a PostgreSQL store: the inbox, the same results with one worker or two,
each customer's events in order, takeover of a killed worker, deliveries, forget."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

import journeyflow
from journeyflow.cli import main
from journeyflow.live.enqueue import enqueue_file
from journeyflow.live.inbox import Intake
from journeyflow.live.pgschema import parse_url
from journeyflow.live.postgres import PostgresStore
from journeyflow.live.sqlite import SQLiteStore
from journeyflow.live.workerproc import WorkerProcess
from tests.live.test_sqlite import JOURNEY, T0

UNTIL = T0 + 40 * 86400
UNTIL_TEXT = "2026-02-10T10:00:00Z"
JOURNEY_ORDER = """journey "order"
customer { last: number = 0  count: number = 0 }
event tick { n: number }
stage counting start {
  on tick { set last = event.n  set count += 1 }
}
"""


def busy_events(customers: int, per_customer: int) -> list[dict[str, Any]]:
    """Sign-ups, then purchases spread over a month, each with a line of its own."""
    out: list[dict[str, Any]] = []
    for i in range(customers):
        out.append({"at": T0 + i, "customer": f"c{i}", "event": "signed_up"})
        for k in range(per_customer):
            out.append({"at": T0 + 3600 + k * 2 * 86400 + i, "customer": f"c{i}",
                        "event": "purchased", "data": {"amount": k + 1}})
    out.append({"at": T0 + 5, "customer": "c1", "event": "purchased",
                "data": {"amount": "lots"}})  # rejected at the door, and kept
    return sorted(out, key=lambda e: e["at"])


def write_events(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in items), "utf-8")
    return path


def reference(tmp_path: Path, journey_file: Path, events_file: Path) -> dict[str, Any]:
    out = tmp_path / "reference.json"
    result = CliRunner().invoke(main, [
        "run", str(journey_file), "--events", str(events_file), "--until", UNTIL_TEXT,
        "--store", f"sqlite:///{tmp_path / 'reference.db'}", "--state", str(out)])
    assert result.exit_code == 0, result.output
    return dict(json.loads(out.read_text("utf-8")))


def final_state(url: str, journey_file: Path) -> dict[str, Any]:
    engine = journeyflow.Engine(journeyflow.load(journey_file), store=url)
    try:
        return engine.state()
    finally:
        engine.close()


def enqueue(url: str, journey_file: Path, events_file: Path) -> None:
    with events_file.open("rb") as stream:
        enqueue_file(journeyflow.load(journey_file), parse_url(url), stream, "jsonl")


def work_process(url: str, journey_file: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from journeyflow.cli import main; main()", "work",
         str(journey_file), "--store", url, "--until", UNTIL_TEXT, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stopped_logs(stderr: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [line for line in lines if line["message"] == "worker stopped"]


@pytest.fixture
def journey_file(tmp_path: Path) -> Path:
    path = tmp_path / "store.journey"
    path.write_text(JOURNEY, "utf-8")
    return path


def test_one_worker_in_process_gives_the_run_result(pg_url: str, journey_file: Path,
                                                    tmp_path: Path) -> None:
    events_file = write_events(tmp_path / "events.jsonl", busy_events(30, 4))
    expected = reference(tmp_path, journey_file, events_file)
    url = pg_url + "?partitions=8&batch=25"
    enqueue(url, journey_file, events_file)
    enqueue(url, journey_file, events_file)  # a second time: nothing is queued twice
    process = WorkerProcess([journeyflow.load(journey_file)], url, None, until=UNTIL)
    try:
        process.run(threading.Event(), drain=True)
    finally:
        process.close()
    assert process.worker.stats.events == 30 * 5
    assert final_state(url, journey_file) == expected
    assert [r["reason"] for r in expected["rejected"]] == [
        "field 'amount' must be a number, got 'lots'"]


@pytest.mark.slow
def test_two_worker_processes_give_what_one_gives(pg_url: str, journey_file: Path,
                                                  tmp_path: Path) -> None:
    # Enough events that one worker cannot drain them all before the other joins and
    # the partitions are shared again (every second).
    events_file = write_events(tmp_path / "events.jsonl", busy_events(2000, 8))
    expected = reference(tmp_path, journey_file, events_file)
    url = pg_url + "?partitions=16&batch=20&lease=1.5"
    enqueue(url, journey_file, events_file)
    supervisor = work_process(url, journey_file, "--drain", "--workers", "2")
    _, stderr = supervisor.communicate(timeout=240)
    assert supervisor.returncode == 0, stderr
    stopped = stopped_logs(stderr)
    assert len(stopped) == 2
    assert sum(s["events"] for s in stopped) == 2000 * 9
    assert all(s["events"] > 0 for s in stopped), stderr  # both did a share
    assert final_state(url, journey_file) == expected


@pytest.mark.slow
def test_each_customer_s_events_are_stepped_in_order(pg_url: str, tmp_path: Path) -> None:
    journey_file = tmp_path / "order.journey"
    journey_file.write_text(JOURNEY_ORDER, "utf-8")
    items = [{"at": T0 + n, "customer": f"k{n % 3}", "event": "tick", "data": {"n": n}}
             for n in range(900)]
    url = pg_url + "?partitions=4&batch=7&lease=1.5"
    enqueue(url, journey_file, write_events(tmp_path / "ticks.jsonl", items))
    workers = [work_process(url, journey_file, "--drain") for _ in range(2)]
    for worker in workers:
        _, stderr = worker.communicate(timeout=240)
        assert worker.returncode == 0, stderr
    state = final_state(url, journey_file)
    assert state["rejected"] == []  # not one late event: never out of order
    for k in range(3):
        attributes = state["customers"][f"k{k}"]["attributes"]
        assert attributes == {"last": 897 + k, "count": 300}


def _inbox_left(url: str) -> int:
    with psycopg.connect(url.split("?")[0]) as conn:
        row = conn.execute("SELECT count(*) FROM jf_inbox").fetchone()
        return int(row[0]) if row else 0


@pytest.mark.slow
def test_a_killed_worker_s_share_is_taken_over_and_nothing_runs_twice(
        pg_url: str, journey_file: Path, tmp_path: Path) -> None:
    items = busy_events(400, 10)
    events_file = write_events(tmp_path / "events.jsonl", items)
    expected = reference(tmp_path, journey_file, events_file)
    url = pg_url + "?partitions=16&batch=30&lease=1"
    enqueue(url, journey_file, events_file)
    total = _inbox_left(url)
    victim = work_process(url, journey_file)
    deadline = time.monotonic() + 120
    while _inbox_left(url) > total * 0.6 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(victim.pid, signal.SIGKILL)  # mid-stream, most likely mid-transaction
    victim.communicate(timeout=30)
    assert 0 < _inbox_left(url) < total
    heir = work_process(url, journey_file, "--drain")
    _, stderr = heir.communicate(timeout=240)
    assert heir.returncode == 0, stderr
    assert final_state(url, journey_file) == expected
    assert expected["processed"] == total
    # Every customer's history (each step's records) is the reference's, record for record:
    # a step run twice would show twice.
    journey = journeyflow.load(journey_file)
    lite = journeyflow.Engine(journey, store=f"sqlite:///{tmp_path / 'reference.db'}")
    pg = journeyflow.Engine(journey, store=url)
    assert isinstance(lite.store, SQLiteStore)
    assert isinstance(pg.store, PostgresStore)
    for i in range(0, 400, 7):
        assert pg.store.history(f"c{i}") == lite.store.history(f"c{i}")
    lite.close()
    pg.close()


def test_workers_deliver_each_decision_once_with_its_key(pg_url: str, journey_file: Path,
                                                         tmp_path: Path,
                                                         http_hook: tuple[Any, str]) -> None:
    hook, hook_url = http_hook
    events_file = write_events(tmp_path / "events.jsonl", busy_events(12, 1))
    url = pg_url + "?partitions=4&batch=5"
    enqueue(url, journey_file, events_file)
    process = WorkerProcess([journeyflow.load(journey_file)], url,
                            {"email": _webhook(hook_url)}, until=UNTIL)
    try:
        process.run(threading.Event(), drain=True)
    finally:
        process.close()
    sent: list[Any] = []
    memory = journeyflow.Engine(journeyflow.load(journey_file), channels={"email": sent.append})
    for event in busy_events(12, 1):
        memory.handle(event)
    memory.advance(UNTIL)
    decided = sorted((d.customer, d.message) for d in sent)
    received = [json.loads(body) for _, _, body in hook.requests]
    assert sorted((r["customer"], r["message"]) for r in received) == decided
    keys = [headers.get("Idempotency-Key") for _, headers, _ in hook.requests]
    assert len(set(keys)) == len(keys) == len(decided)
    assert keys == [r["key"] for r in received]
    with psycopg.connect(url.split("?")[0]) as conn:
        rows = conn.execute("SELECT status, count(*) FROM jf_outbox GROUP BY status").fetchall()
    assert rows == [("sent", len(decided))]


def _webhook(url: str) -> Any:
    from journeyflow.runtime.channels import WebhookChannel

    return WebhookChannel(url, timeout=5)


def test_the_inbox_refuses_what_can_never_be_valid_and_repeats(pg_url: str,
                                                               journey_file: Path) -> None:
    intake = Intake(parse_url(pg_url), [journeyflow.load(journey_file)])
    good = {"customer": "c1", "event": "signed_up", "id": "e1"}
    admitted = [intake.admit(raw) for raw in (good, {"customer": "c1", "event": "nope"}, good)]
    queued = [q for _, qs, _ in admitted for q in qs]
    refused = [r for _, _, rs in admitted for r in rs]
    repeats = intake.write(queued, refused, refuse_repeats=True)
    assert [q.key for q in repeats] == ["id:e1"]
    assert "unknown event 'nope'" in admitted[1][0].reasons["store"]
    assert json.loads(queued[0].event)["at"]  # stamped with the time it arrived
    assert intake.waiting() == 1
    with psycopg.connect(pg_url) as conn:
        reasons = [r[0] for r in conn.execute("SELECT reason FROM jf_rejected ORDER BY seq")]
    assert len(reasons) == 2
    assert "unknown event 'nope'" in reasons[0]
    assert reasons[1] == "duplicate event id 'e1': already accepted"
    intake.close()


def test_forget_while_a_worker_holds_the_customer(pg_url: str, journey_file: Path,
                                                  tmp_path: Path) -> None:
    url = pg_url + "?partitions=2&batch=10"
    journey = journeyflow.load(journey_file)
    intake = Intake(parse_url(url), [journey])
    write = intake.write
    for raw in ({"at": T0, "customer": "c1", "event": "signed_up"},
                {"at": T0, "customer": "c2", "event": "signed_up"}):
        write(intake.admit(raw)[1], [])
    process = WorkerProcess([journey], url, None, until=T0 + 60)
    process.worker.turn()  # c1 and c2 are in the worker's memory now
    other = journeyflow.Engine(journey, store=PostgresStore(parse_url(url), exclusive=False))
    assert isinstance(other.store, PostgresStore)
    assert other.store.forget("c1")
    write(intake.admit({"at": T0 + 30, "customer": "c2", "event": "purchased",
                        "data": {"amount": 4}})[1], [])
    process.worker.turn()  # its fence sees the forget: it reads its customers again
    process.worker.turn()
    process.close()
    other.close()
    intake.close()
    state = final_state(url, journey_file)
    assert set(state["customers"]) == {"c2"}
    assert state["customers"]["c2"]["attributes"]["points"] == 4


def test_a_backlog_enqueued_at_once_renews_the_inbox_statistics(pg_url: str, journey_file: Path,
                                                                tmp_path: Path) -> None:
    import psycopg

    from journeyflow.live.inbox import ANALYZE_AFTER

    url = pg_url + "?partitions=4"
    small = write_events(tmp_path / "small.jsonl", busy_events(10, 1))
    enqueue(url, journey_file, small)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        def counted() -> float:
            row = conn.execute("SELECT reltuples FROM pg_class WHERE relname = 'jf_inbox'"
                               ).fetchone()
            assert row is not None
            return float(row[0])

        assert counted() < 100  # a few events: the planner's figures are left to autovacuum
        customers = ANALYZE_AFTER // 4 + 50  # the first ten are queued already
        backlog = write_events(tmp_path / "backlog.jsonl", busy_events(customers, 3))
        enqueue(url, journey_file, backlog)
        # Without fresh figures the workers' fetch in inbox order sorts the whole inbox.
        rows = conn.execute("SELECT count(*) FROM jf_inbox").fetchone()
        assert counted() > ANALYZE_AFTER, rows
