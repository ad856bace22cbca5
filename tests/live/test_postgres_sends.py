"""Journeys run together by PostgreSQL workers share each customer's send log: a `limit`
holds across them, whichever worker steps which journey, because a worker leases the
same partitions of every journey it runs."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import psycopg

import journeyflow
from journeyflow.live.enqueue import enqueue_file
from journeyflow.live.pgschema import parse_url
from journeyflow.live.postgres import PostgresStore
from journeyflow.live.workerproc import WorkerProcess
from tests.runtime.test_sendlog import NEWS, OFFERS

T0 = 1767261600.0
DAY = 86400.0
CUSTOMERS = 60


def _files(tmp_path: Path) -> tuple[Path, Path]:
    news, offers = tmp_path / "news.journey", tmp_path / "offers.journey"
    news.write_text(NEWS, "utf-8")
    offers.write_text(OFFERS, "utf-8")
    return news, offers


def _enqueue(url: str, journey: Path, items: list[dict[str, Any]], tmp_path: Path) -> None:
    path = tmp_path / f"{journey.stem}.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in items), "utf-8")
    with path.open("rb") as stream:
        enqueue_file(journeyflow.load(journey), parse_url(url), stream, "jsonl")


def _drain_with_two_workers(url: str, files: tuple[Path, Path], until: float) -> None:
    journeys = [journeyflow.load(path) for path in files]
    workers = [WorkerProcess(journeys, url, None, until=until) for _ in range(2)]
    threads = [threading.Thread(target=w.run, args=(threading.Event(), True)) for w in workers]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        held = []
        for worker in workers:
            parts = [set(store.leases.held) for store in worker.worker.stores
                     if store.leases is not None]
            assert parts[0] == parts[1]  # the same partitions in both journeys
            held.append(parts[0])
        assert not held[0] & held[1]
    finally:
        for worker in workers:
            worker.close()


def _signups(at: float) -> list[dict[str, Any]]:
    return [{"at": at + i, "customer": f"c{i}", "event": "signed_up"} for i in range(CUSTOMERS)]


def _outcomes(url: str, journey: str) -> dict[str, list[str]]:
    """Each customer's sends and suppressions in ``journey``, from the store's history."""
    found: dict[str, list[str]] = {}
    with psycopg.connect(parse_url(url).conninfo) as conn:
        for customer, records in conn.execute(
                "SELECT customer, records FROM jf_history WHERE journey = %s ORDER BY seq",
                (journey,)):
            for _, kind, fields in json.loads(records):
                if kind in ("action", "suppressed") and fields.get("message") == "offer":
                    found.setdefault(customer, []).append(
                        fields.get("reason", "sent") if kind == "suppressed" else "sent")
    return found


def test_a_limit_holds_across_journeys_stepped_by_two_workers(pg_url: str,
                                                              tmp_path: Path) -> None:
    url = pg_url + "?partitions=8&batch=7&lease=2"
    files = _files(tmp_path)
    _enqueue(url, files[0], _signups(T0), tmp_path)  # a digest to everyone
    _drain_with_two_workers(url, files, T0 + DAY)
    _enqueue(url, files[1], _signups(T0 + 3600), tmp_path)  # an offer, the same week
    _drain_with_two_workers(url, files, T0 + DAY)
    assert _outcomes(url, "offers") == {f"c{i}": ["frequency_cap"] for i in range(CUSTOMERS)}

    # a week later the digest has left the window: the offer goes out
    later = [{"at": T0 + 8 * DAY + i, "customer": f"c{i}", "event": "visited"}
             for i in range(CUSTOMERS)]
    _enqueue(url, files[1], later, tmp_path)
    _drain_with_two_workers(url, files, T0 + 9 * DAY)
    assert _outcomes(url, "offers") == {f"c{i}": ["frequency_cap", "sent"]
                                        for i in range(CUSTOMERS)}
    with psycopg.connect(parse_url(url).conninfo) as conn:
        logged = conn.execute("SELECT min(at) FROM jf_sends").fetchone()
    # the digests left every cap's window and were pruned; the offers are kept
    assert logged is not None
    assert logged[0] >= T0 + 8 * DAY


def test_export_and_forget_cover_the_send_log(pg_url: str, tmp_path: Path) -> None:
    url = pg_url + "?partitions=4"
    files = _files(tmp_path)
    _enqueue(url, files[0], _signups(T0)[:2], tmp_path)
    _drain_with_two_workers(url, files, T0 + DAY)
    engine = journeyflow.Engine(journeyflow.load(files[0]), store=url)
    try:
        store = engine.store
        assert isinstance(store, PostgresStore)
        exported = store.export("c0")
        assert exported is not None
        assert [s["channel"] for s in exported["sends"]] == ["email"]
        assert store.forget("c0")
        again = store.export("c1")
        assert again is not None
        assert len(again["sends"]) == 1
        with psycopg.connect(parse_url(url).conninfo) as conn:
            left = conn.execute("SELECT customer FROM jf_sends ORDER BY customer").fetchall()
        assert left == [("c1",)]
    finally:
        engine.close()


def test_journeys_of_different_partition_counts_count_their_own_limits(
        pg_url: str, tmp_path: Path, caplog: Any) -> None:
    files = _files(tmp_path)
    for path, parts in zip(files, (4, 8), strict=True):  # each count is fixed at first use
        journeyflow.Engine(journeyflow.load(path), store=f"{pg_url}?partitions={parts}").close()
    process = WorkerProcess([journeyflow.load(path) for path in files], pg_url, None,
                            until=T0 + DAY)
    try:
        assert not process.worker.together
        assert all(e.interpreter.shared is None for e in process.engines)
    finally:
        process.close()
    assert "different partition counts" in caplog.text
