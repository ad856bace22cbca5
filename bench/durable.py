"""``journeyflow run --store sqlite`` against the same run in memory.

    .venv/bin/python bench/durable.py [--customers 20000] [--seed 1] [--repeat 1]
    .venv/bin/python bench/durable.py --growth 100000,300000,1000000

The events of bench/baselines/workload.py (~20 per customer, lifecycle journey) are
written once to a JSON Lines file; each run is a `journeyflow run` process of its own
(no --trace, state to /dev/null, nothing delivered: channels are recorded in the trace
only), timed in wall-clock and CPU seconds, start-up included (an empty run is timed
too and subtracted). The store run begins from an empty file each time; the best of
``--repeat`` counts. Both runs must end with the same state. Then memory: an engine
opens the store the run left (its cache holds a tenth of the customers), touches
every customer once, and reports how much its RSS grew, against an engine holding the same
customers in memory; figures scaled to 100k customers.

``--growth`` answers how the working set grows with the customers a store holds:
for each size a store of that many customers is built (one ``journeyflow run --store``
of one event per customer), then a fresh engine with the default cache steps every
stored customer once, in groups of 1,000 committed together as a service does, and
reports its RSS growth, against an engine holding the smallest size in memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))  # as bench/interpreter.py: its cached workloads load

from baselines.workload import events_file  # noqa: E402

JOURNEY = ROOT / "examples" / "lifecycle.journey"
EXE = str(Path(sys.executable).with_name("journeyflow"))


def write_events(customers: int, seed: int) -> tuple[Path, float, int]:
    return events_file(customers, seed, "durable")


def timed(args: list[str]) -> tuple[float, float, str]:  # wall, CPU, summary line
    """Wall and CPU seconds of one run (in a process of its own), and its stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stderr.strip().splitlines()[-1]


MEMORY_PROBE = """
import os, sys, journeyflow
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
journey = journeyflow.load(sys.argv[1])
store = sys.argv[2] if sys.argv[2] != "memory://" else None
engine = journeyflow.Engine(journey, store=store, trace=False)
ids = sys.argv[3:] if store is None else [
    row[0] for row in engine.store.db.execute("SELECT id FROM jf_customers ORDER BY id")]
base = rss()
at = 1830000000.0  # after every workload event: each touch is one more step
for cid in ids:
    engine.handle({"at": at, "customer": cid, "event": "page_viewed", "data": {}})
print(rss() - base, len(ids))
"""


def memory(store: str, ids: list[str]) -> tuple[float, int]:
    """Extra RSS (MB) of an engine once it has touched every customer."""
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(JOURNEY), store, *ids],
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]) / 1024, int(out[1])


GROWTH_PROBE = """
import os, sys, time, journeyflow
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
journey = journeyflow.load(sys.argv[1])
store = sys.argv[2] if sys.argv[2] != "memory://" else None
count = int(sys.argv[3])
engine = journeyflow.Engine(journey, store=store, trace=False)
base = rss()
at = 1830000000.0
started = time.perf_counter()
for start in range(0, count, 1000):
    for i in range(start, min(count, start + 1000)):
        engine.step({"at": at, "customer": f"c{i:07d}", "event": "page_viewed", "data": {}})
    engine.commit()
print(rss() - base, engine.store.count(), time.perf_counter() - started)
"""


def growth(sizes: list[int]) -> None:
    """RSS growth of an engine stepping every customer of stores of growing size."""
    work = Path(tempfile.mkdtemp(prefix="journeyflow-growth-"))
    print("store-backed engine, default cache (20,000 customers), every stored customer "
          "stepped once:")
    for size in sizes:
        events = work / f"events-{size}.jsonl"
        with events.open("w", encoding="utf-8") as out:
            for i in range(size):
                out.write(f'{{"at": "2026-01-01T00:00:00Z", "customer": "c{i:07d}", '
                          f'"event": "page_viewed"}}\n')
        db = work / f"state-{size}.db"
        subprocess.run([EXE, "run", str(JOURNEY), "--events", str(events), "--state",
                        "/dev/null", "--store", f"sqlite:///{db}"], capture_output=True,
                       check=True)
        events.unlink()
        out = subprocess.run([sys.executable, "-c", GROWTH_PROBE, str(JOURNEY),
                              f"sqlite:///{db}", str(size)], capture_output=True, text=True,
                             check=True).stdout.split()
        grown, held, seconds = float(out[0]) / 1024, int(out[1]), float(out[2])
        print(f"  {held:>9,} stored: +{grown:5.0f} MB RSS, {held / seconds:,.0f} customers "
              f"stepped/s; store file "
              f"{db.stat().st_size / 2**20:,.0f} MB")
        db.unlink()
    smallest = sizes[0]
    out = subprocess.run([sys.executable, "-c", GROWTH_PROBE, str(JOURNEY), "memory://",
                          str(smallest)], capture_output=True, text=True,
                         check=True).stdout.split()
    held_mb = float(out[0]) / 1024
    print(f"  baseline, the same {smallest:,} customers held in memory (no store): "
          f"+{held_mb:.0f} MB ({held_mb * 100_000 / smallest:.1f} MB per 100k), growing "
          "linearly with the customers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--growth", help="store sizes, comma-separated (e.g. 100000,1000000)")
    options = parser.parse_args()
    if options.growth:
        growth([int(size) for size in options.growth.split(",")])
        return
    events, horizon, count = write_events(options.customers, options.seed)
    work = Path(tempfile.mkdtemp(prefix="journeyflow-durable-"))
    empty = work / "empty.jsonl"
    empty.write_text("")
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(horizon))
    base = [EXE, "run", str(JOURNEY), "--until", until]
    empties = [timed([*base, "--events", str(empty), "--state", "/dev/null"]) for _ in range(2)]
    startup = min(wall for wall, _, _ in empties)
    startup_cpu = min(cpu for _, cpu, _ in empties)
    best: dict[str, tuple[float, float, str]] = {}
    for i in range(options.repeat):
        for name in ("memory", "sqlite"):
            state = work / f"{name}.json"
            args = [*base, "--events", str(events), "--state", str(state)]
            if name == "sqlite":
                db = work / f"state-{i}.db"
                args += ["--store", f"sqlite:///{db}"]
            result = timed(args)
            if name not in best or result[0] < best[name][0]:
                best[name] = result
    same = json.loads((work / "memory.json").read_text()) == json.loads(
        (work / "sqlite.json").read_text())
    print(f"{count:,} events, {options.customers:,} customers; start-up {startup:.2f} s wall, "
          f"{startup_cpu:.2f} s CPU (subtracted)")
    rates, cpu_rates = {}, {}
    for name, (wall, cpu, summary) in best.items():
        rates[name] = count / max(1e-9, wall - startup)
        cpu_rates[name] = count / max(1e-9, cpu - startup_cpu)
        print(f"  {name:7} {wall:7.2f} s wall, {cpu:7.2f} s CPU: {rates[name]:,.0f} events/s "
              f"wall, {cpu_rates[name]:,.0f} events/s CPU   [{summary}]")
    print(f"  sqlite runs at {rates['sqlite'] / rates['memory']:.0%} of memory in wall-clock "
          f"time, {cpu_rates['sqlite'] / cpu_rates['memory']:.0%} in CPU time (target: at "
          f"least 50%); same final state: {same}")
    ids = [f"c{i:06d}" for i in range(options.customers)]
    cache = max(500, options.customers // 10)
    stored, n = memory(f"sqlite:///{work / 'state-0.db'}?cache={cache}", [])
    held, _ = memory("memory://", ids)
    scale = 100_000 / max(1, n)
    print(f"memory to step {n:,} customers once: store-backed engine with a cache of "
          f"{cache:,} customers +{stored:.0f} MB RSS (bounded by the cache and SQLite's page "
          f"cache of up to 64 MB, not by the "
          f"{n:,} stored); in memory +{held:.0f} MB ({held * scale:.0f} MB per 100k customers)")


if __name__ == "__main__":
    main()
