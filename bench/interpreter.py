"""Interpreter throughput on examples/lifecycle.journey: journeyflow against the
same journey written by hand (the practical ceiling for CPython) and on the
``transitions`` library.

    .venv/bin/python bench/interpreter.py [--customers 100000] [--seed 1]
        [--only journeyflow|handwritten|transitions ...] [--repeat 2]
        [--repeat-transitions 1] [--mem-customers 10000]

Start with ``--customers 10000`` (about 40 s); the default 100,000 customers take a few
minutes (more on a busy machine).

A seeded workload (bench/baselines/workload.py: ~20 events per customer over 120 days,
2M events for 100k customers) is generated once (cached in the temp dir) and run by
each implementation in a process of its own, ``--repeat`` times, interleaved; the best
run counts (transitions, ~3x slower, runs ``--repeat-transitions`` times). Events are
validated (journeyflow: ``engine.validator.validate``) or prepared (baselines: the same
defaults filled in) in chunks of 100k outside the timing; the timed part is
``for ev in batch: handle_valid(ev)``, counting and clearing the trace records after
each chunk, plus a final ``advance(horizon)`` for the timers still due.

Reported per implementation: events/s in CPU time of the worker process (the figure
compared: on a shared machine wall-clock time mostly measures the neighbours) and in
wall-clock time; trace records produced (and per kind); the memory held by the
customers and timers alone (tracemalloc: traced memory before minus after dropping
them, after a run of ``--mem-customers``, scaled to 100k customers); the peak RSS of
the timed run's process. Every customer's final stage in each baseline is checked
against journeyflow's (the first run of each).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from baselines import harness
from baselines import workload as wl
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 0.5  # journeyflow >= 50% of the hand-written baseline
TARGET_STATE_MB = 100.0  # per 100k customers

console = Console(width=None if sys.stdout.isatty() else 150)


def _worker(impl: str, path: Path, out: Path, mode: str) -> dict[str, Any] | None:
    """Run one worker process; None (and its traceback on stderr) when it fails."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", impl,
               "--workload", str(path), "--out", str(out), "--mode", mode]
    started = time.perf_counter()
    done = subprocess.run(command, check=False, cwd=ROOT)
    if done.returncode != 0:
        console.print(f"[red]{impl} ({mode}) failed with exit status {done.returncode}[/red]")
        return None
    result: dict[str, Any] = json.loads(out.read_text())
    result["wall_total"] = time.perf_counter() - started
    return result


def _mismatches(reference: dict[str, str], other: dict[str, str]) -> list[str]:
    missing = [cid for cid in reference if cid not in other]
    extra = [cid for cid in other if cid not in reference]
    return missing + extra + [cid for cid, stage in reference.items()
                              if cid in other and other[cid] != stage]


def _command() -> str:
    python = os.path.relpath(sys.executable, Path.cwd())
    script = os.path.relpath(Path(__file__).resolve(), Path.cwd())
    return shlex.join([python, script, *sys.argv[1:]])


def _table(args: argparse.Namespace, best: dict[str, dict[str, Any]],
           memory: dict[str, dict[str, Any]], checks: dict[str, int | None],
           reference: str | None) -> Table:
    table = Table(title=f"lifecycle.journey, {args.customers:,} customers; best of "
                        f"{args.repeat} runs (transitions: {args.repeat_transitions})")
    for column in ("implementation", "events/s (CPU)", "events/s (wall)",
                   "journeyflow ÷ this", "trace records", "state MB / 100k",
                   "peak RSS MB", f"final stages ≠ {reference or '-'}"):
        table.add_column(column, justify="left" if column == "implementation" else "right")
    jf = best.get("journeyflow")
    for impl, result in best.items():
        ratio = "" if jf is None else f"{jf['events_per_s'] / result['events_per_s']:.2f}"
        mem = memory.get(impl)
        state = "" if mem is None else f"{mem['per_customer'] * 100_000 / 1e6:.1f}"
        check = checks.get(impl)
        table.add_row(impl, f"{result['events_per_s']:,.0f}",
                      f"{result['wall_events_per_s']:,.0f}", ratio, f"{result['records']:,}",
                      state, f"{result['peak_rss_mb']:.0f}",
                      "" if check is None else f"{check:,}")
    return table


def _kinds_table(best: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="trace records by kind")
    table.add_column("kind")
    for impl in best:
        table.add_column(impl, justify="right")
    kinds = sorted({k for r in best.values() for k in r["kinds"]})
    for kind in kinds:
        table.add_row(kind, *(f"{r['kinds'].get(kind, 0):,}" for r in best.values()))
    return table


def _verdicts(best: dict[str, dict[str, Any]], memory: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    jf, hw = best.get("journeyflow"), best.get("handwritten")
    if jf is not None and hw is not None:
        share = jf["events_per_s"] / hw["events_per_s"]
        verdict = "met" if share >= TARGET_RATIO else "NOT met"
        lines.append(f"journeyflow runs at {share:.0%} of the hand-written baseline "
                     f"(target >= {TARGET_RATIO:.0%}: {verdict})")
    tr = best.get("transitions")
    if jf is not None and tr is not None:
        lines.append(f"journeyflow is {jf['events_per_s'] / tr['events_per_s']:.1f}x "
                     "transitions")
    if "journeyflow" in memory:
        mb = memory["journeyflow"]["per_customer"] * 100_000 / 1e6
        verdict = "met" if mb <= TARGET_STATE_MB else "NOT met"
        lines.append(f"journeyflow state: {mb:.1f} MB per 100k customers "
                     f"(target <= {TARGET_STATE_MB:.0f} MB: {verdict})")
    return lines


def _reference(stages: dict[str, dict[str, str]]) -> str | None:
    """journeyflow when it ran, else the hand-written baseline."""
    return next((impl for impl in ("journeyflow", "handwritten") if impl in stages), None)


def _cross_check(stages: dict[str, dict[str, str]]) -> dict[str, int | None]:
    """Per implementation, how many customers end in another stage than in the reference."""
    checks: dict[str, int | None] = {}
    ref = _reference(stages)
    for impl, other in stages.items():
        if ref is None or impl == ref:
            checks[impl] = None
            continue
        reference = stages[ref]
        wrong = _mismatches(reference, other)
        checks[impl] = len(wrong)
        for cid in wrong[:5]:
            console.print(f"  [red]{impl}: {cid} ends in {other.get(cid)}, "
                          f"{ref}: {reference.get(cid)}[/red]")
    return checks


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=harness.IMPLEMENTATIONS, action="append",
                        help="run only this implementation (repeatable)")
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs of journeyflow and the hand-written baseline (best counts)")
    parser.add_argument("--repeat-transitions", type=int, default=1,
                        help="runs of the transitions baseline (slow; informative only)")
    parser.add_argument("--mem-customers", type=int, default=10_000,
                        help="customers in the tracemalloc run (scaled to 100k)")
    parser.add_argument("--worker", choices=harness.IMPLEMENTATIONS, help=argparse.SUPPRESS)
    parser.add_argument("--workload", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=("stages", "time", "memory"), default="stages",
                        help=argparse.SUPPRESS)
    return parser


Results = dict[str, dict[str, Any]]


def _timed_runs(args: argparse.Namespace, impls: list[str], path: Path,
                tmp: Path) -> tuple[Results, dict[str, dict[str, str]]]:
    """Every implementation ``--repeat`` times, interleaved: the best run and final stages."""
    best: Results = {}
    stages: dict[str, dict[str, str]] = {}
    for run in range(max(args.repeat, args.repeat_transitions)):
        for impl in impls:
            runs = args.repeat_transitions if impl == "transitions" else args.repeat
            if run >= runs:
                continue
            with console.status(f"{impl}: run {run + 1} of {runs}"):
                result = _worker(impl, path, tmp / f"{impl}-{run}.json",
                                 "stages" if impl not in stages else "time")
            if result is None:
                continue
            console.print(f"{impl} run {run + 1}: {result['events_per_s']:,.0f} events/s CPU, "
                          f"{result['wall_events_per_s']:,.0f} wall, "
                          f"{result['records']:,} records (worker: {result['wall_total']:.0f} s)")
            if result["stages"] is not None:
                stages[impl] = result["stages"]
            if impl not in best or result["events_per_s"] > best[impl]["events_per_s"]:
                best[impl] = result
    return best, stages


def _memory_runs(args: argparse.Namespace, impls: list[str], tmp: Path) -> Results:
    customers = min(args.customers, args.mem_customers)
    with console.status("generating the memory workload"):
        path = wl.cached_workload(customers, args.seed)
    memory: Results = {}
    for impl in impls:
        with console.status(f"{impl}: memory of {customers:,} customers"):
            measured = _worker(impl, path, tmp / f"{impl}-mem.json", "memory")
        if measured is not None:
            memory[impl] = measured
    return memory


def _report(args: argparse.Namespace, best: Results, stages: dict[str, dict[str, str]],
            memory: Results, started: float) -> None:
    checks = _cross_check(stages)
    ref = _reference(stages)
    console.print(_table(args, best, memory, checks, ref))
    console.print(_kinds_table(best))
    for line in _verdicts(best, memory):
        console.print(line)
    for impl, wrong in checks.items():
        if wrong is not None and ref is not None:
            console.print(f"final stage cross-check, {impl} vs {ref}: {wrong:,} of "
                          f"{len(stages[impl]):,} customers differ; trace records "
                          f"{best[impl]['records']:,} vs {best[ref]['records']:,}")
    console.print(f"state memory: tracemalloc, customers and timers dropped after a run of "
                  f"{min(args.customers, args.mem_customers):,} customers, scaled to 100k")
    console.print(f"command: {_command()}  ({time.perf_counter() - started:.0f} s)")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.worker:
        if args.mode == "memory":
            harness.memory(args.worker, args.workload, args.out)
        else:
            harness.run(args.worker, args.workload, args.out, stages=args.mode == "stages")
        return 0

    impls = [i for i in harness.IMPLEMENTATIONS if not args.only or i in args.only]
    started = time.perf_counter()
    with console.status("generating the workload"):
        path = wl.cached_workload(args.customers, args.seed)
        facts = wl.describe(wl.load(path))
    console.print(f"workload: {facts['events']:,} events, {facts['customers']:,} customers "
                  f"({facts['per_customer']:.1f} each) over {facts['days']} days; "
                  + ", ".join(f"{k} {v:,}" for k, v in facts["kinds"].items()))
    with tempfile.TemporaryDirectory(prefix="jf-bench-") as tmp:
        best, stages = _timed_runs(args, impls, path, Path(tmp))
        memory = _memory_runs(args, impls, Path(tmp))
    _report(args, best, stages, memory, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
