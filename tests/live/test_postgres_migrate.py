"""Migrating a PostgreSQL store: the SQLite store's results, one migrating process among
many, and processes of the earlier file refusing to commit afterwards."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

import journeyflow
from journeyflow.cli import main
from journeyflow.errors import JourneyError
from journeyflow.live.codec import loads
from journeyflow.live.enqueue import enqueue_file
from journeyflow.live.pg_migrate import PostgresMigrationRows, lock_key
from journeyflow.live.pgschema import parse_url
from journeyflow.live.workerproc import WorkerProcess
from journeyflow.runtime.program import Program
from journeyflow.versions.migrate_store import migrate_rows
from tests.versions.migrating import (
    DAY,
    FILE,
    RENAMED,
    T0,
    V1,
    edit,
    engine,
    run,
    run_and_close,
    signups,
    version,
)
from tests.versions.migrating import history as sqlite_history
from tests.versions.migrating import url as sqlite_url

USED = {"at": T0 + 3600, "customer": "c1", "event": "used", "id": "u1"}
REWRITE = edit(version(V1, 2), ("plan: text", "plan: bool"), ('= "basic"', "= false")) + (
    "migrate { set plan = seats > 1 \n set seats = seats * 10 }\n")
SOONER = edit(version(V1, 2), ("after 3d {", "after 1d {"))
IN_PLACE = edit(V1, ("after 3d {", "after 1d {"))
BLOCKING = edit(version(V1, 3), ("stage trial start", "stage onboarding start"))


def pg_versions(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {v: n for v, n in conn.execute(
            "SELECT version, count(*) FROM jf_customers GROUP BY version")}


def pg_history(url: str, kind: str) -> list[dict[str, Any]]:
    out = []
    with psycopg.connect(url) as conn:
        for cid, text in conn.execute("SELECT customer, records FROM jf_history ORDER BY seq"):
            out += [{"customer": cid, "at": at, **fields}
                    for at, k, fields in loads(text) if k == kind]
    return out


def migrations(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT migrations FROM jf_journeys WHERE name = 'Trial'").fetchone()
    assert row is not None
    return int(row[0])


def _outcome(store: str, new: str, until: float) -> dict[str, Any]:
    e = run(new, store, [], until)
    out = {"customers": e.state()["customers"],
           "sent": sorted((r["customer"], r["at"], r["message"]) for r in e.trace
                          if r.get("message"))}
    e.close()
    return out


@pytest.mark.parametrize(("new", "events", "ran_until", "until"), [
    (RENAMED, signups(3), T0 + DAY, T0 + 3 * DAY),
    (REWRITE, [*signups(2), USED], None, T0 + DAY),
    (SOONER, signups(2), T0 + 0.5 * DAY, T0 + 4 * DAY),
    (IN_PLACE, signups(2), T0 + 0.5 * DAY, T0 + 4 * DAY),
], ids=["rename", "rewrite", "timer", "in-place"])
def test_the_same_migration_as_sqlite(pg_url: str, tmp_path: Path, new: str,
                                      events: list[dict[str, Any]], ran_until: float | None,
                                      until: float) -> None:
    lite = sqlite_url(tmp_path)
    for store in (lite, pg_url):
        run_and_close(V1, store, events, ran_until)
    assert _outcome(pg_url, new, until) == _outcome(lite, new, until)
    assert pg_history(pg_url, "migrated") == sqlite_history(lite, "migrated")
    assert len(pg_history(pg_url, "migrated")) == len({e["customer"] for e in events})
    assert migrations(pg_url) == 1
    run_and_close(new, pg_url, [])  # the next opening finds everyone moved
    assert len(pg_history(pg_url, "migrated")) == len({e["customer"] for e in events})
    assert migrations(pg_url) == 1


def test_a_blocked_migration_changes_nothing(pg_url: str) -> None:
    run_and_close(V1, pg_url, signups(3))
    with pytest.raises(JourneyError) as err:
        engine(BLOCKING, pg_url)
    assert ("error: 3 customers are in stage 'trial', which version 3 does not have\n"
            "    hint: add  migrate { stage trial -> STAGE }") in str(err.value)
    assert pg_versions(pg_url) == {"1": 3}
    assert pg_history(pg_url, "migrated") == []
    assert migrations(pg_url) == 0
    run_and_close(V1, pg_url, [])  # still opens with the version its customers run on


def test_a_problem_in_a_late_batch_undoes_the_earlier_ones(pg_url: str) -> None:
    paid = {"at": T0 + 3600, "customer": "c9", "event": "paid", "id": "p9"}
    run_and_close(V1, pg_url, [*signups(10), paid])
    no_customer = edit(RENAMED, ("-> customer", "-> lapsed"),
                       ('stage customer {\n  on enter { send thanks }\n'
                        '  on used { set seats += event.minutes }\n}\n', ""))
    journey = journeyflow.loads(no_customer, FILE)
    with psycopg.connect(pg_url, autocommit=True) as conn, conn.transaction():
        rows = PostgresMigrationRows(conn, "Trial", "2", batch=3)
        assert [len(b) for b in rows.batches()] == [3, 3, 3, 1]
        report = migrate_rows(rows, journey, Program(journey.model))
    assert report.blocked
    assert pg_versions(pg_url) == {"1": 10}
    assert pg_history(pg_url, "migrated") == []


def _migrate(pg_url: str, tmp_path: Path, text: str, *extra: str) -> Any:
    new = tmp_path / "new.journey"
    new.write_text(text, "utf-8")
    return CliRunner().invoke(main, ["migrate", "--store", pg_url, str(new), *extra])


def test_migrate_command_dry_run_then_for_real(pg_url: str, tmp_path: Path) -> None:
    run_and_close(V1, pg_url, signups(3))
    rehearsal = _migrate(pg_url, tmp_path, RENAMED, "--dry-run", "--format", "json")
    assert rehearsal.exit_code == 0, rehearsal.output
    assert json.loads(rehearsal.output)["applied"] is False
    assert pg_versions(pg_url) == {"1": 3}
    assert pg_history(pg_url, "migrated") == []
    assert migrations(pg_url) == 0
    done = _migrate(pg_url, tmp_path, RENAMED, "--format", "json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert report["applied"] is True
    assert report["moved"] == [{"from": "trial", "to": "onboarding", "customers": 3}]
    assert pg_versions(pg_url) == {"2": 3}
    assert migrations(pg_url) == 1
    again = _migrate(pg_url, tmp_path, RENAMED)
    assert "nothing to migrate" in again.output


def test_migrate_command_blocked_exits_1(pg_url: str, tmp_path: Path) -> None:
    run_and_close(V1, pg_url, signups(3))
    result = _migrate(pg_url, tmp_path, BLOCKING)
    assert result.exit_code == 1
    assert "migration to version 3 is blocked; nothing was changed:" in result.output
    assert pg_versions(pg_url) == {"1": 3}


def test_migrate_command_cannot_reach_the_store(tmp_path: Path) -> None:
    result = _migrate("postgresql://nobody:secret@127.0.0.1:1/none", tmp_path, RENAMED)
    assert result.exit_code == 1
    assert "cannot open the state store" in result.output
    assert "secret" not in result.output


def test_diff_with_a_postgresql_store(pg_url: str, tmp_path: Path) -> None:
    run_and_close(V1, pg_url, signups(3))
    old = tmp_path / "v1.journey"
    old.write_text(V1, "utf-8")
    new = tmp_path / "v3.journey"
    new.write_text(BLOCKING, "utf-8")
    result = CliRunner().invoke(main, ["diff", str(old), str(new), "--store", pg_url,
                                       "--format", "json"])
    assert result.exit_code == 1, result.output
    store = json.loads(result.output)["store"]
    assert store["by_stage"] == {"trial": 3}
    assert store["migration"]["blocked"] is True
    assert pg_versions(pg_url) == {"1": 3}  # a rehearsal


def _waiting_for_lock(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND "
                           "NOT granted").fetchone()
    return int(row[0]) if row else 0


def _until(check: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


OPEN_AND_WORK = """
import json, sys, threading
import journeyflow
from journeyflow.live.workerproc import WorkerProcess
url, text, until = sys.argv[1], open(sys.argv[2]).read(), float(sys.argv[3])
process = WorkerProcess([journeyflow.loads(text, "trial.journey")], url, None, until=until)
report = process.engines[0].store.migration
print(json.dumps(None if report is None else report.applied), flush=True)
process.run(threading.Event(), drain=True)
print(json.dumps(process.worker.stats.events), flush=True)
process.close()
"""


def test_two_processes_opening_the_new_version_at_once(pg_url: str, tmp_path: Path) -> None:
    """Both wait on the journey's lock while the test holds it: one migrates, the other
    finds nothing left to move, and both then step the inbox."""
    run_and_close(V1, pg_url, signups(6))
    new = tmp_path / "new.journey"
    new.write_text(RENAMED, "utf-8")
    used = [{"at": T0 + DAY + i, "customer": f"c{i}", "event": "used", "id": f"u{i}"}
            for i in range(6)]
    lines = "".join(json.dumps(e) + "\n" for e in used).encode()
    enqueue_file(journeyflow.loads(RENAMED, FILE), parse_url(pg_url), io.BytesIO(lines),
                 "jsonl")
    until = str(T0 + 2 * DAY)
    with psycopg.connect(pg_url, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key("Trial"),))
        procs = [subprocess.Popen([sys.executable, "-c", OPEN_AND_WORK, pg_url, str(new),
                                   until], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
        _until(lambda: _waiting_for_lock(pg_url) == 2)
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    opened = sorted((json.loads(out.splitlines()[0]) for out, _ in outputs), key=repr)
    assert opened == [None, True]  # one migrated; the other found nobody to move
    assert sum(json.loads(out.splitlines()[1]) for out, _ in outputs) == 6
    assert pg_versions(pg_url) == {"2": 6}
    assert len(pg_history(pg_url, "migrated")) == 6
    assert migrations(pg_url) == 1
    state = run_and_close(RENAMED, pg_url, [])
    assert {c["attributes"]["seats"] for c in state["customers"].values()} == {2}


def test_an_engine_of_the_old_version_refuses_to_commit(pg_url: str, tmp_path: Path) -> None:
    old = run(V1, pg_url, signups(2))
    assert _migrate(pg_url, tmp_path, RENAMED).exit_code == 0
    with pytest.raises(JourneyError, match="journey 'Trial' was migrated to version 2 by "
                       "another process; restart with the new file"):
        old.handle({"at": T0 + 3600, "customer": "c0", "event": "used", "id": "late"})
    # and again, every time: a caller that goes on loses nothing silently
    with pytest.raises(JourneyError, match="was migrated to version 2"):
        old.handle({"at": T0 + 3600, "customer": "new", "event": "signed_up", "id": "n"})
    with pytest.raises(JourneyError, match="was migrated to version 2"):
        old.store.export("c1")  # type: ignore[attr-defined]
    old.close()
    assert pg_versions(pg_url) == {"2": 2}
    state = run_and_close(RENAMED, pg_url, [])
    assert state["customers"]["c0"]["attributes"]["seats"] == 1  # the late step was not saved


def test_a_worker_of_the_old_version_stops(pg_url: str, tmp_path: Path) -> None:
    run_and_close(V1, pg_url, signups(2))
    process = WorkerProcess([journeyflow.loads(V1, FILE)], pg_url, None, until=T0 + DAY)
    try:
        process.worker.balance()  # holds every partition
        assert _migrate(pg_url, tmp_path, RENAMED).exit_code == 0
        used = {"at": T0 + 3600, "customer": "c0", "event": "used", "id": "late"}
        enqueue_file(journeyflow.loads(V1, FILE), parse_url(pg_url),
                     io.BytesIO((json.dumps(used) + "\n").encode()), "jsonl")
        with pytest.raises(JourneyError, match="was migrated to version 2 by another process"):
            process.worker.turn()
    finally:
        process.close()
    assert _held(pg_url) == 0  # its close gave the partitions back
    state = run_and_close(RENAMED, pg_url, [])
    assert state["customers"]["c0"]["attributes"]["seats"] == 1  # the turn was not saved
    assert state["customers"]["c0"]["stage"] == "onboarding"


def test_the_file_migrated_from_no_longer_opens_the_store(pg_url: str,
                                                          tmp_path: Path) -> None:
    """A supervisor restarting a worker of the earlier file must not move everyone back;
    journeyflow migrate can, on purpose."""
    copy = edit(version(V1, 2), ('"Still there?"', '"Are you still there?"'))
    run_and_close(V1, pg_url, signups(2))
    run_and_close(copy, pg_url, [])
    with pytest.raises(JourneyError, match="was migrated from this file to version 2; open "
                       "the store with the current file, or move its customers back"):
        engine(V1, pg_url)
    assert pg_versions(pg_url) == {"2": 2}
    back = _migrate(pg_url, tmp_path, V1)
    assert back.exit_code == 0, back.output
    assert pg_versions(pg_url) == {"1": 2}
    run_and_close(V1, pg_url, [])
    with pytest.raises(JourneyError, match="was migrated from this file to version 1"):
        engine(copy, pg_url)


def test_an_in_place_edit_retires_the_earlier_text(pg_url: str) -> None:
    run_and_close(V1, pg_url, signups(1))
    run_and_close(IN_PLACE, pg_url, [])
    assert migrations(pg_url) == 1
    with pytest.raises(JourneyError, match="was migrated from this file to version 1"):
        engine(V1, pg_url)
    run_and_close("# only a comment\n" + IN_PLACE, pg_url, [])  # layout: no migration
    assert migrations(pg_url) == 1


def test_a_new_version_on_an_empty_journey_still_stops_the_earlier_file(pg_url: str) -> None:
    """Nobody to move, yet the new file takes over: the earlier one would otherwise keep
    adding customers of its version next to the new file's."""
    old = run(V1, pg_url, [])
    new = WorkerProcess([journeyflow.loads(RENAMED, FILE)], pg_url, None, until=T0)
    assert new.engines[0].store.migration is None  # type: ignore[attr-defined]
    assert migrations(pg_url) == 1
    with pytest.raises(JourneyError, match="was migrated to version 2 by another process"):
        old.handle(signups(1)[0])
    old.close()
    new.close()
    assert pg_versions(pg_url) == {}


def _held(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM jf_leases WHERE worker IS NOT NULL").fetchone()
    return int(row[0]) if row else 0


def test_an_idle_work_process_of_the_old_version_exits(pg_url: str, tmp_path: Path) -> None:
    """With nothing to step it still finds out (within a second) and gives its share back."""
    run_and_close(V1, pg_url, signups(2))
    old = tmp_path / "v1.journey"
    old.write_text(V1, "utf-8")
    worker = subprocess.Popen(
        [sys.executable, "-c", "from journeyflow.cli import main; main()", "work", str(old),
         "--store", pg_url, "--until", "2026-01-01T10:00:00Z"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _until(lambda: _held(pg_url) == 64)
        assert _migrate(pg_url, tmp_path, RENAMED).exit_code == 0
        _, err = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 1
    assert "journey 'Trial' was migrated to version 2 by another process; restart with the " \
        "new file" in err
    assert _held(pg_url) == 0
