"""A forecast from a store of N customers against simulating N new arrivals, in one run.

    .venv/bin/python bench/fromstore.py [--customers 100000] [--days 90] [--workers 1,2]

First a state store of N customers of the lifecycle journey is made the way a service
makes one, with ``journeyflow run --store`` on an event file (each customer views a
page; most sign up, some abandon a cart or buy, over 60 days; the store is kept in the
temporary folder and reused). Then each measurement runs in a fresh process of its own
and prints its wall time and peak resident memory (the larger of the process's own
and its largest worker process's):

* ``arrivals``: ``simulate`` of N new arrivals over the same horizon (the baseline);
* ``from-store``: ``simulate --from-store`` of the N stored customers, for each worker
  count; the reports of all worker counts must be byte-identical.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The lifecycle journey every benchmark has measured (examples/ grows with the language).
JOURNEY = ROOT / "bench" / "baselines" / "lifecycle.journey"
EXE = str(Path(sys.executable).with_name("journeyflow"))
START = 1_772_000_000.0  # 2026-02-25: the events' first day
DAY = 86400.0

PROBE = """
import json, resource, sys, time
from datetime import date
import journeyflow
from journeyflow.simulate.api import simulate
from journeyflow.simulate.report import dumps
journey = journeyflow.load(sys.argv[1])
store, days, workers, out = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
customers = int(sys.argv[6])
began = time.perf_counter()
if store == "-":
    result = simulate(journey, days=days, workers=workers, customers=customers,
                      start=date(2026, 4, 26))
else:
    result = simulate(journey, days=days, workers=workers, from_store=store)
took = time.perf_counter() - began
with open(out, "w") as f:
    f.write(dumps(result.report))
# VmHWM, not ru_maxrss: the latter keeps the high-water mark of the process this one was
# forked from, so a bench that had just built a big event list would inflate it.
with open("/proc/self/status") as status:
    own = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
peak = max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
events = result.report["events"]
print(json.dumps({"seconds": took, "peak_mb": peak / 1024, "customers": result.report["customers"],
                  "events": sum(events["behaviour"].values()) + events["timer_steps"]}))
"""


def _events(customers: int, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    out: list[dict[str, object]] = []
    for k in range(customers):
        cid = f"u{k:07d}"
        at = START + 60 * DAY * rng.random()
        out.append({"at": at, "customer": cid, "event": "page_viewed", "data": {"page": "home"}})
        if rng.random() < 0.8:
            at += 3600 * rng.random()
            out.append({"at": at, "customer": cid, "event": "signed_up",
                        "data": {"source": rng.choice(["ads", "search", "social"])},
                        "attributes": {"email": f"{cid}@example.org"}})
            if rng.random() < 0.3:
                at += DAY * rng.random()
                out.append({"at": at, "customer": cid, "event": "cart_abandoned",
                            "data": {"cart_value": round(20 + 200 * rng.random())}})
            if rng.random() < 0.3:
                at += 5 * DAY * rng.random()
                out.append({"at": at, "customer": cid, "event": "purchased",
                            "data": {"amount": round(20 + 150 * rng.random())}})
    out.sort(key=lambda e: (e["at"], e["customer"]))  # type: ignore[arg-type, return-value]
    for event in out:
        event["at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(event["at"])))  # type: ignore[arg-type]
    return out


def make_store(customers: int, seed: int) -> tuple[Path, float]:
    """The store of ``customers`` (made once, kept in the temporary folder); build seconds."""
    folder = Path(tempfile.gettempdir())
    db = folder / f"journeyflow-fromstore-{customers}-{seed}.db"
    if db.exists():
        return db, 0.0
    events = folder / f"journeyflow-fromstore-{customers}-{seed}.jsonl"
    with events.open("w", encoding="utf-8") as out:
        for event in _events(customers, seed):
            out.write(json.dumps(event) + "\n")
    began = time.perf_counter()
    part = db.with_name(db.name + ".part")
    subprocess.run([EXE, "run", str(JOURNEY), "--events", str(events), "--state", os.devnull,
                    "--store", f"sqlite:///{part}"], check=True, capture_output=True)
    part.rename(db)
    part.with_name(part.name + ".lock").unlink(missing_ok=True)  # the writer's lock file
    events.unlink()
    return db, time.perf_counter() - began


def measure(store: str, days: int, workers: int, customers: int,
            out: Path) -> dict[str, float]:
    """One simulation in a fresh process: seconds, peak MB, customers, events."""
    done = subprocess.run([sys.executable, "-c", PROBE, str(JOURNEY), store, str(days),
                           str(workers), str(out), str(customers)],
                          capture_output=True, text=True, check=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _line(name: str, f: dict[str, float]) -> str:
    return (f"  {name:<22} {f['seconds']:7.1f} s  {f['customers'] / f['seconds']:9,.0f} "
            f"customers/s  {f['events'] / f['seconds']:9,.0f} events/s  "
            f"peak {f['peak_mb']:6.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    db, built = make_store(args.customers, args.seed)
    print(f"lifecycle.journey: {args.customers:,} customers, {args.days} days, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; store {db} "
          f"({db.stat().st_size / 2**20:.0f} MB" + (f", made in {built:.0f} s)" if built else ")"))
    with tempfile.TemporaryDirectory(prefix="journeyflow-fromstore-") as folder:
        base, runs = _measure_all(db, args.days, args.customers, args.workers, Path(folder))
    print(_line("arrivals, workers 1", base))
    for workers, figures, _ in runs:
        print(_line(f"from-store, workers {workers}", figures))
    first = runs[0][1]
    print(f"  from-store / arrivals, 1 worker: {first['seconds'] / base['seconds']:.2f}x the "
          f"time, {first['peak_mb'] / base['peak_mb']:.2f}x the peak memory")
    print("  reports identical across worker counts:",
          all(report == runs[0][2] for _, _, report in runs))


def _measure_all(db: Path, days: int, customers: int, workers: str, work: Path
                 ) -> tuple[dict[str, float], list[tuple[int, dict[str, float], bytes]]]:
    """The arrivals baseline, then the forecast of the store for each worker count."""
    base = measure("-", days, 1, customers, work / "arrivals.json")
    runs = []
    for count in (int(w) for w in workers.split(",")):
        out = work / f"store-{count}.json"
        runs.append((count, measure(f"sqlite:///{db}", days, count, 0, out), out.read_bytes()))
    return base, runs

if __name__ == "__main__":
    main()
