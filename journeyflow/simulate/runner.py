"""Run a plan's partitions here, in worker processes, or on a dask cluster.

Whatever runs them, partitions are merged in partition order, so the result
(and the report) is byte-identical for ``--workers 1``, ``--workers 2`` and
``--dask``: the backends differ only in where :func:`run_partition` executes.

A forecast from a store (``plan.population``) has partitions of stored customers read
by the parent from a :class:`~journeyflow.simulate.storeread.StoreReader` as the work
goes: a few partitions are in flight at a time, never the whole store.
"""

from __future__ import annotations

import importlib
import itertools
import logging
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from journeyflow.errors import JourneyError
from journeyflow.runtime.tuning import batch_gc
from journeyflow.simulate.engine import run_partition
from journeyflow.simulate.fromstore import run_stored_partition
from journeyflow.simulate.plan import Plan
from journeyflow.simulate.stored import StoredPartition
from journeyflow.simulate.storeread import StoreReader
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


def _work_stored(partition: StoredPartition | int) -> Tally:
    assert _PLAN is not None, "worker started without a plan"
    with batch_gc():
        return run_stored_partition(_PLAN, partition)


def _in_order(submit: Callable[[Any], Any], items: Iterable[Any],
              window: int) -> Iterator[Tally]:
    """The results of ``submit(item)`` in item order, with at most ``window`` in flight,
    so items are read from their source only as fast as the work goes."""
    flight: deque[Any] = deque()
    for item in items:
        flight.append(submit(item))
        if len(flight) >= window:
            yield flight.popleft().result()
    while flight:
        yield flight.popleft().result()


def _stored(plan: Plan, items: Iterable[StoredPartition | int], workers: int,
            dask: str | None) -> Iterator[Tally]:
    """The tallies of stored partitions, read as they are needed (module docstring)."""
    window = 2 * workers  # each worker has one partition running and one waiting
    if dask is not None:
        client, cluster = _client(dask, workers)
        try:
            shared = client.scatter(plan, broadcast=True)
            yield from _in_order(
                lambda item: client.submit(run_stored_partition, shared, item, pure=False),
                items, window)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    elif workers > 1 and plan.partitions > 1:
        context = multiprocessing.get_context("spawn")  # as in _processes
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init,
                                 initargs=(plan,)) as pool:
            yield from _in_order(lambda item: pool.submit(_work_stored, item), items, window)
    else:
        for item in items:
            with batch_gc():
                tally = run_stored_partition(plan, item)
            yield tally


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


def partitions(plan: Plan, workers: int = 1, dask: str | None = None,
               store: StoreReader | None = None) -> Iterator[Tally]:
    """Each partition's tally, in partition order, from the chosen backend.

    ``store`` is where a plan with a stored population reads its customers.
    """
    if plan.population is not None:
        if store is None:
            raise ValueError("a plan with a stored population needs its store")
        # The stored customers first, then the new arrivals if any (plan.members).
        items: Iterable[StoredPartition | int] = itertools.chain(
            store.partitions(plan.population, plan.partition_size),
            range(plan.stored_partitions, plan.partitions))
        return _stored(plan, items, workers, dask)
    if dask is not None:
        return _dask(plan, dask, workers)
    if workers > 1 and plan.partitions > 1:
        return _processes(plan, workers)
    return _serial(plan)


def run_plan(plan: Plan, workers: int = 1, dask: str | None = None,
             progress: Progress | None = None, store: StoreReader | None = None) -> Tally:
    """Simulate every customer of ``plan`` and merge the partitions in order.

    ``dask`` is ``"local"`` (a LocalCluster with ``workers`` processes) or the
    address of a running scheduler, e.g. ``tcp://host:8786``.
    """
    total = Tally(list(_stage_names(plan)), plan.start, plan.days)
    for tally in partitions(plan, workers, dask, store):
        total.merge(tally)
        if progress is not None:
            progress(tally.customers)
    return total


def _stage_names(plan: Plan) -> list[str]:
    from journeyflow.simulate.tables import program_for

    return list(program_for(plan.source, plan.file).stage_names)
