"""Instructions per event, journeyflow against the hand-written baseline, under callgrind.

    .venv/bin/python bench/instructions.py [--customers 2000] [--seed 1]

``bench/interpreter.py`` times the implementations; on a shared or virtual machine
whose speed drifts between runs, its ratio drifts with it. Counting instructions
does not drift: ``valgrind --tool=callgrind`` runs each implementation twice on the
same seeded workload (bench/baselines/workload.py), once only loading the journey
and preparing the events, once also processing them, and the difference is the
cost of processing. Both figures and their ratio are printed. Needs valgrind
(Debian: ``apt-get install valgrind``); callgrind is ~50x slower than a normal
run, so a few thousand customers are enough.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from baselines import harness
from baselines import workload as wl
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
console = Console()


def _worker(impl: str, path: Path, full: bool) -> None:
    """Inside valgrind: load and prepare; with ``full``, also process every event."""
    w = wl.load(path)
    s = harness.subject(impl)
    batches = list(harness._batches(s, w, harness.CHUNK))
    if full:
        for batch in batches:
            for ev in batch:
                s.handle(ev)
            s.records().clear()
        s.advance(w.horizon)


def _instructions(impl: str, path: Path, full: bool, out: Path) -> int:
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
               str(Path(__file__).resolve()), "--worker", impl, "--workload", str(path)]
    if full:
        command.append("--full")
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    found = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no total for {impl}:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--workload", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--full", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker, args.workload, args.full)
        return
    if shutil.which("valgrind") is None:
        console.print("[red]valgrind is not installed (apt-get install valgrind)[/red]")
        raise SystemExit(2)
    path = wl.cached_workload(args.customers, args.seed)
    events = len(wl.load(path))
    per_event: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for impl in ("journeyflow", "handwritten"):
            setup = _instructions(impl, path, False, Path(tmp) / f"{impl}.setup")
            total = _instructions(impl, path, True, Path(tmp) / f"{impl}.full")
            per_event[impl] = (total - setup) / events
    table = Table(title=f"lifecycle.journey, {args.customers:,} customers, {events:,} events")
    table.add_column("implementation")
    table.add_column("instructions per event", justify="right")
    table.add_column("journeyflow's speed as a share of this", justify="right")
    for impl, cost in per_event.items():
        table.add_row(impl, f"{cost:,.0f}", f"{cost / per_event['journeyflow']:.0%}")
    console.print(table)
    share = per_event["handwritten"] / per_event["journeyflow"]
    console.print(f"journeyflow does the work in {1 / share:.2f}x the hand-written instructions: "
                  f"{share:.0%} of its speed by instruction count (target >= 50%)")


if __name__ == "__main__":
    main()
