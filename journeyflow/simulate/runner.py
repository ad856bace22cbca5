"""Run a plan's partitions here, in worker processes, or on a dask cluster.

Whatever runs them, partitions are merged in partition order, so the result
(and the report) is byte-identical for ``--workers 1``, ``--workers 2`` and
``--dask``: the backends differ only in where :func:`run_partition` executes.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from journeyflow.errors import JourneyError
from journeyflow.runtime.tuning import batch_gc
from journeyflow.simulate.engine import run_partition
from journeyflow.simulate.plan import Plan
from journeyflow.simulate.tally import Tally

__all__ = ["Progress", "run_plan"]

Progress = Callable[[int], None]  # told how many more customers are done
CONNECT_TIMEOUT = "10s"

_PLAN: Plan | None = None  # the plan of this worker process (set by _init)


def _init(plan: Plan) -> None:
    global _PLAN
    _PLAN = plan


def _work(partition: int) -> Tally:
    assert _PLAN is not None, "worker started without a plan"
    with batch_gc():
        return run_partition(_PLAN, partition)


def _serial(plan: Plan) -> Iterator[Tally]:
    for partition in range(plan.partitions):
        with batch_gc():
            tally = run_partition(plan, partition)
        yield tally


def _processes(plan: Plan, workers: int) -> Iterator[Tally]:
    # spawn, not fork: the parent may run a progress-bar thread, and a forked
    # child of a threaded parent can deadlock.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init,
                             initargs=(plan,)) as pool:
        # Several partitions per task: fewer round trips through the pool's queues. The
        # results still arrive one partition each, in order.
        chunk = max(1, min(8, plan.partitions // (4 * workers)))
        yield from pool.map(_work, range(plan.partitions), chunksize=chunk)


def _client(address: str, workers: int) -> tuple[Any, Any]:
    """A dask client for ``address`` ("local" starts a LocalCluster), and its cluster."""
    # Imported here: dask is only needed with --dask, and it is untyped.
    distributed: Any = importlib.import_module("distributed")
    if address == "local":
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        return distributed.Client(cluster), cluster
    try:
        return distributed.Client(address, timeout=CONNECT_TIMEOUT), None
    except (OSError, TimeoutError) as exc:
        raise JourneyError(f"cannot reach the dask scheduler at {address}: {exc}") from exc


def _dask(plan: Plan, address: str, workers: int) -> Iterator[Tally]:
    client, cluster = _client(address, workers)
    try:
        shared = client.scatter(plan, broadcast=True)
        futures = client.map(run_partition, [shared] * plan.partitions,
                             range(plan.partitions), pure=False)
        for future in futures:
            yield future.result()
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def partitions(plan: Plan, workers: int = 1, dask: str | None = None) -> Iterator[Tally]:
    """Each partition's tally, in partition order, from the chosen backend."""
    if dask is not None:
        return _dask(plan, dask, workers)
    if workers > 1 and plan.partitions > 1:
        return _processes(plan, workers)
    return _serial(plan)


def run_plan(plan: Plan, workers: int = 1, dask: str | None = None,
             progress: Progress | None = None) -> Tally:
    """Simulate every customer of ``plan`` and merge the partitions in order.

    ``dask`` is ``"local"`` (a LocalCluster with ``workers`` processes) or the
    address of a running scheduler, e.g. ``tcp://host:8786``.
    """
    total = Tally(list(_stage_names(plan)), plan.start, plan.days)
    for tally in partitions(plan, workers, dask):
        total.merge(tally)
        if progress is not None:
            progress(tally.customers)
    return total


def _stage_names(plan: Plan) -> list[str]:
    from journeyflow.simulate.tables import program_for

    return list(program_for(plan.source, plan.file).stage_names)
