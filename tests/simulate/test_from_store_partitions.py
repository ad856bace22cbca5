"""Forecasts from a store through the library: partitions, worker processes, read-only use."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import journeyflow
from journeyflow.errors import JourneyError
from journeyflow.live.sqlite import SQLiteDatabase
from journeyflow.simulate import api
from journeyflow.simulate.fromstore import store_plan
from journeyflow.simulate.storeread import StoreReader

from .test_from_store import TRIAL, make_store, write_events

N = 30  # customers in the store


def _events() -> list[tuple[str, str, str, dict[str, Any]]]:
    """N customers who signed up over ten days, every third one with enough points."""
    out: list[tuple[str, str, str, dict[str, Any]]] = []
    for k in range(N):
        at = f"2026-05-{1 + k // 3:02d}T{8 + k % 3:02d}:00:00Z"
        out.append((at, f"u{k:03d}", "signed_up", {"points": 20 if k % 3 == 0 else 0}))
    return out


@pytest.fixture
def store(tmp_path: Path, runner: CliRunner) -> tuple[journeyflow.Journey, str, Path]:
    path = tmp_path / "trial.journey"
    path.write_text(TRIAL, "utf-8")
    db = tmp_path / "many.db"
    url = make_store(runner, path, write_events(tmp_path / "e.jsonl", _events()), db)
    return journeyflow.load(path), url, db


def _report(journey: journeyflow.Journey, url: str, size: int, workers: int,
            dask: str | None = None) -> dict[str, Any]:
    assert journey.behaviour is not None
    with StoreReader(url) as reader:
        plan = store_plan(journey, journey.behaviour, reader, start=None, days=5, seed=9)
        plan = dataclasses.replace(plan, partition_size=size)
        return api.simulate_plan(journey, plan, workers=workers, dask=dask,
                                 store=reader).report


def test_workers_and_partitions_do_not_change_the_forecast(
        store: tuple[journeyflow.Journey, str, Path]) -> None:
    journey, url, _ = store
    serial = _report(journey, url, 4, 1)
    assert serial["partitions"] == 8
    assert _report(journey, url, 4, 2) == serial  # spawned processes, 8 partitions
    # A customer's stream depends on its id only, not on the partition it falls in.
    whole = _report(journey, url, 1000, 1)
    for key in ("partitions", "partition_size"):
        del whole[key], serial[key]
    assert json.dumps(whole, sort_keys=True) == json.dumps(serial, sort_keys=True)
    assert serial["stages"]["vip"]["at_end"] > 0  # some still in trial had the points


def test_a_dask_cluster_writes_the_same_report(
        store: tuple[journeyflow.Journey, str, Path]) -> None:
    distributed = pytest.importorskip("distributed")
    journey, url, _ = store
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        on_dask = _report(journey, url, 4, 2, cluster.scheduler_address)
    assert on_dask == _report(journey, url, 4, 1)


def test_the_library_entry_point(store: tuple[journeyflow.Journey, str, Path]) -> None:
    journey, url, _ = store
    result = api.simulate(journey, days=0, from_store=url)
    population = result.report["population"]
    assert population["customers"] == N
    assert population["stages"]["trial"] + population["stages"]["paid"] == N
    assert {s: v["at_end"] for s, v in result.report["stages"].items()} == population["stages"]
    with pytest.raises(JourneyError, match="the store decides the population"):
        api.simulate(journey, days=1, from_store=url, customers=5)


def test_reads_beside_a_writer_and_changes_nothing(
        store: tuple[journeyflow.Journey, str, Path]) -> None:
    journey, url, db = store
    writer = SQLiteDatabase(db, wait=0.1)  # holds the store's writer lock, as a service does
    try:
        with StoreReader(url) as reader:
            assert journey.behaviour is not None
            plan = store_plan(journey, journey.behaviour, reader, start=None, days=3, seed=1)
            # The service goes on writing while the forecast reads: its snapshot holds.
            writer.db.execute("DELETE FROM jf_customers WHERE id = 'u000'")
            result = api.simulate_plan(journey, plan, store=reader)
    finally:
        writer.close()
    assert result.report["customers"] == N
    assert api.simulate(journey, days=0, from_store=url).report["customers"] == N - 1


def test_the_store_file_is_not_written(store: tuple[journeyflow.Journey, str, Path]) -> None:
    journey, url, db = store
    before = db.read_bytes()
    api.simulate(journey, days=3, from_store=url)
    assert db.read_bytes() == before
    # SQLite may make the WAL's index beside a read-only reader, never write a frame.
    wal = db.with_name(db.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
