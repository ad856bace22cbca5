"""Simulation throughput of the lifecycle example, with 1 and 2 workers in the same run.

    .venv/bin/python bench/simulate.py [--customers 1000000] [--days 365] [--workers 1,2]
                                       [--profile 3000]

Prints, for each worker count, the wall time, customers/s and events/s (behaviour
events the engine generated plus timer steps; the interpreter's own count of
processed events, emitted and built-in ones included, is shown beside it), then
the speed-up of the second worker count over the first, and checks that every
worker count wrote the same report. ``--profile N`` first profiles N customers in
one process and splits the time between the interpreter (journeyflow.runtime),
the simulation engine (journeyflow.simulate) and the rest.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import sys
import time
from datetime import date
from pathlib import Path

import journeyflow
from journeyflow.simulate.api import Simulation, simulate_plan
from journeyflow.simulate.engine import run_partition
from journeyflow.simulate.plan import Plan, make_plan
from journeyflow.simulate.report import dumps

# The lifecycle journey every benchmark has measured (examples/ grows with the language).
EXAMPLE = Path(__file__).resolve().parent / "baselines" / "lifecycle.journey"


def profile(journey: journeyflow.Journey, customers: int, days: int) -> None:
    """Where the time goes: own time of functions, grouped by package."""
    assert journey.behaviour is not None
    plan = make_plan(journey, journey.behaviour, start=date(2026, 1, 1), days=days, seed=1,
                     customers=customers)
    run_partition(plan, 0)  # compile and warm caches outside the profile
    profiler = cProfile.Profile()
    profiler.enable()
    for partition in range(plan.partitions):
        run_partition(plan, partition)
    profiler.disable()
    stats = pstats.Stats(profiler)
    groups = {"journeyflow/runtime": 0.0, "journeyflow/simulate": 0.0, "other": 0.0}
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, object]] = vars(stats)["stats"]
    for (file, _, _), (_, _, own, _, _) in raw.items():
        group = next((g for g in groups if g in file), None)
        if group is None and file.startswith("<journey"):
            group = "journeyflow/runtime"  # blocks the runtime generates from the journey
        groups[group or "other"] += own
    total = sum(groups.values())
    print(f"profile of {customers:,} customers x {days} days, one process "
          f"(own time, cProfile overhead included):")
    for group, own in groups.items():
        print(f"  {group:<22} {own:7.2f} s  {100 * own / total:5.1f}%")
    print("  top functions by own time:")
    stats.sort_stats("tottime").print_stats(12)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run(journey: journeyflow.Journey, plan: Plan,
        workers: int) -> tuple[Simulation, float, float]:
    """One run: its result, wall seconds and CPU seconds (all processes)."""
    began, cpu = time.perf_counter(), cpu_seconds()
    result = simulate_plan(journey, plan, workers=workers)
    return result, time.perf_counter() - began, cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="first profile N customers in one process")
    args = parser.parse_args()
    journey = journeyflow.load(EXAMPLE)
    if args.profile:
        profile(journey, args.profile, args.days)
    assert journey.behaviour is not None
    plan = make_plan(journey, journey.behaviour, start=date(2026, 1, 1), days=args.days,
                     seed=args.seed, customers=args.customers)
    counts = [int(w) for w in args.workers.split(",")]
    print(f"lifecycle.journey: {plan.customers:,} customers x {plan.days} days, "
          f"{plan.partitions} partitions, seed {plan.seed}, {os.cpu_count()} CPUs, load "
          f"average {os.getloadavg()[0]:.1f}")
    times, reports = [], []
    for workers in counts:
        result, took, cpu = run(journey, plan, workers)
        events = result.report["events"]
        generated = sum(events["behaviour"].values()) + events["timer_steps"]
        print(f"  workers {workers}: {took:7.1f} s  {plan.customers / took:9,.0f} customers/s  "
              f"{generated / took:10,.0f} events/s  (CPU {cpu:.1f} s: "
              f"{plan.customers / cpu:,.0f} customers per CPU-second)")
        times.append(took)
        reports.append(dumps(result.report))
        sys.stdout.flush()
    if len(counts) > 1:
        print(f"  speed-up of {counts[1]} over {counts[0]} workers: {times[0] / times[1]:.2f}x")
    print("  reports identical across worker counts:", all(r == reports[0] for r in reports))
    print(f"  per customer: {generated / plan.customers:.1f} simulated events and timer steps, "
          f"{events['processed'] / plan.customers:.1f} events processed by the interpreter")


if __name__ == "__main__":
    main()
