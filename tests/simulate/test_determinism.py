"""Same seed, same report: whatever runs the partitions, and in whatever order."""

from __future__ import annotations

from datetime import date

import pytest

import journeyflow
from journeyflow.simulate import simulate
from journeyflow.simulate.engine import run_partition
from journeyflow.simulate.plan import make_plan
from journeyflow.simulate.report import dumps

from .conftest import LIFECYCLE

CUSTOMERS = 2500  # three partitions, the last one short


@pytest.fixture(scope="module")
def lifecycle() -> journeyflow.Journey:
    return journeyflow.load(LIFECYCLE)


@pytest.fixture(scope="module")
def single(lifecycle: journeyflow.Journey) -> str:
    return dumps(simulate(lifecycle, customers=CUSTOMERS, days=120, seed=4, by="source").report)


def test_two_worker_processes_give_the_same_report(lifecycle: journeyflow.Journey,
                                                   single: str) -> None:
    two = simulate(lifecycle, customers=CUSTOMERS, days=120, seed=4, by="source", workers=2)
    assert dumps(two.report) == single


def test_dask_local_cluster_gives_the_same_report(lifecycle: journeyflow.Journey,
                                                  single: str) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        result = simulate(lifecycle, customers=CUSTOMERS, days=120, seed=4, by="source",
                          dask=cluster.scheduler_address)
    assert dumps(result.report) == single


def test_another_seed_gives_another_report(lifecycle: journeyflow.Journey, single: str) -> None:
    other = simulate(lifecycle, customers=CUSTOMERS, days=120, seed=5, by="source")
    assert dumps(other.report) != single


def test_a_partition_does_not_depend_on_the_others(lifecycle: journeyflow.Journey) -> None:
    # Streams come from (seed, customer number) only: partition 1 alone, twice,
    # and after another partition in the same process, is the same.
    plan = make_plan(lifecycle, lifecycle.behaviour, start=date(2026, 1, 1), days=60, seed=8,
                     customers=2500)
    alone = run_partition(plan, 1)
    run_partition(plan, 0)
    again = run_partition(plan, 1)
    assert alone.partitions == again.partitions
    assert alone.transitions == again.transitions
    assert alone.occupancy == again.occupancy


def test_memory_stays_flat(lifecycle: journeyflow.Journey) -> None:
    from journeyflow.simulate.engine import PartitionRun

    plan = make_plan(lifecycle, lifecycle.behaviour, start=date(2026, 1, 1), days=365,
                     seed=1, customers=300)
    run = PartitionRun(plan)
    run.run(0)
    ip = run.ip
    assert not ip.customers
    assert not ip.records
    assert not ip.timers
    assert not ip.touched
