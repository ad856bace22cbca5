"""One worker against two on the same PostgreSQL store, draining the same inbox.

    .venv/bin/python bench/workers.py [--customers 10000] [--seed 1] [--batch 2000]
                                      [--partitions 64] [--fast] [--together]

The events of bench/baselines/workload.py (~20 per customer, lifecycle journey; 10,000
customers make ~200,000 events) go into the inbox of a fresh database with
`journeyflow enqueue` (timed apart); then N `journeyflow work --drain --until H`
processes (N = 1, then 2) step them all and fire every timer up to the workload's
horizon. Events/s is events / the drain's wall time, from the first worker ready (its
"worker started" log line, after start-up) to the last one done ("worker stopped").
Peak RSS and CPU time are each worker process's own (wait4);
the server's CPU time during the drain is read from /proc. Both runs
must end with the same final state. The PostgreSQL server is started by the bench
(tests/pgserver.py), durable (fsync on) unless --fast, and shares the machine's cores
with the workers: on a 2-core machine, two workers compete with the server for them.

``--together``: two journeys run together (the lifecycle journey and a copy under
another name, each with the events of every customer), so the workers share each
customer's send log and lease the same partitions of both journeys at once.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg  # noqa: E402
from baselines.workload import events_file  # noqa: E402

from tests.pgserver import postgres_running  # noqa: E402

JOURNEY = ROOT / "examples" / "lifecycle.journey"
EXE = str(Path(sys.executable).with_name("journeyflow"))


def write_events(customers: int, seed: int) -> tuple[Path, float, int]:
    return events_file(customers, seed, "workers")


def database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def drain(url: str, workers: int, until: str,
          journeys: list[Path]) -> tuple[float, list[float], list[int], list[float]]:
    """Seconds for ``workers`` processes to drain the inbox, from the first worker ready to
    the last one done (their own log lines: start-up is not counted); each one's peak RSS
    (MB), events stepped and CPU seconds (start-up included)."""
    procs = [subprocess.Popen([EXE, "work", *map(str, journeys), "--store", url, "--until", until,
                               "--drain", "--log-level", "info"], stderr=subprocess.PIPE,
                              text=True) for _ in range(workers)]
    logs: dict[int, list[str]] = {proc.pid: [] for proc in procs}
    readers = [threading.Thread(target=lambda p=proc: logs[p.pid].extend(p.stderr or []))
               for proc in procs]
    for reader in readers:
        reader.start()
    peaks: dict[int, float] = {}
    cpu: dict[int, float] = {}
    while len(peaks) < len(procs):
        pid, status, usage = os.wait4(-1, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"a worker failed: {logs}")
        peaks[pid] = usage.ru_maxrss / 1024
        cpu[pid] = usage.ru_utime + usage.ru_stime
    for reader in readers:
        reader.join()
    started, stopped, events = [], [], []
    for proc in procs:
        proc.returncode = 0  # reaped by wait4 above
        for line in logs[proc.pid]:
            if not line.startswith("{"):
                continue
            entry = json.loads(line)
            when = datetime.fromisoformat(entry["time"].replace("Z", "+00:00")).timestamp()
            if entry["message"] == "worker started":
                started.append(when)
            elif entry["message"] == "worker stopped":
                stopped.append(when)
                events.append(int(entry["events"]))
    return (max(stopped) - min(started), [peaks[p.pid] for p in procs], events,
            [cpu[p.pid] for p in procs])


def server_cpu(data: Path) -> float:
    """CPU seconds the PostgreSQL server has used: its postmaster, the backends it has
    reaped, and the ones still running."""
    tick = os.sysconf("SC_CLK_TCK")
    postmaster = int((data / "postmaster.pid").read_text().split()[0])

    def fields(pid: int) -> list[str]:
        text = Path(f"/proc/{pid}/stat").read_text()
        return text[text.rindex(")") + 2:].split()

    own = fields(postmaster)
    total = sum(int(v) for v in own[11:15])  # utime, stime, cutime, cstime
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = fields(int(entry.name))
            except OSError:
                continue
            if int(stat[1]) == postmaster:
                total += int(stat[11]) + int(stat[12])
    return total / tick


def final_state(url: str, journeys: list[Path]) -> list[dict[str, object]]:
    states = []
    for journey in journeys:
        out = subprocess.run([EXE, "run", str(journey), "--events", os.devnull, "--store",
                              url, "--state", "-"], capture_output=True, text=True,
                             check=True).stdout
        states.append(dict(json.loads(out)))
    return states


def copy_of(journey: Path, folder: Path) -> Path:
    """The journey under another name: a second journey with the same rules and limits."""
    text = journey.read_text("utf-8")
    first, _, rest = text.partition('journey "')
    name, _, rest = rest.partition('"')
    path = folder / "together.journey"
    path.write_text(f'{first}journey "{name} (together)"{rest}', "utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--partitions", type=int, default=64)
    parser.add_argument("--fast", action="store_true",
                        help="run the server without fsync (figures of the CPU work alone)")
    parser.add_argument("--together", action="store_true",
                        help="two journeys run together, sharing the customers' send log")
    options = parser.parse_args()
    events, horizon, count = write_events(options.customers, options.seed)
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(horizon))
    query = f"?batch={options.batch}&partitions={options.partitions}&lease=10"
    with tempfile.TemporaryDirectory() as folder, \
            postgres_running(durable=not options.fast) as server:
        journeys = [JOURNEY, copy_of(JOURNEY, Path(folder))] if options.together else [JOURNEY]
        count *= len(journeys)
        results = {}
        for workers in (1, 2):
            url = database(server.url, f"w{workers}") + query
            started = time.perf_counter()
            for journey in journeys:
                subprocess.run([EXE, "enqueue", str(journey), "--events", str(events),
                                "--store", url], check=True, capture_output=True)
            enqueued = time.perf_counter() - started
            before = server_cpu(server.data)
            wall, peaks, stepped, cpu = drain(url, workers, until, journeys)
            pg_cpu = server_cpu(server.data) - before
            results[workers] = (wall, peaks, stepped, cpu, enqueued,
                                final_state(url, journeys), pg_cpu)
    what = "lifecycle journey and a copy run together" if options.together else \
        "lifecycle journey"
    print(f"{count:,} events, {options.customers:,} customers, {what}; "
          f"batch {options.batch}, {options.partitions} partitions, PostgreSQL "
          f"{'without fsync' if options.fast else 'durable (fsync on)'}; "
          f"{os.cpu_count()} cores")
    rates = {}
    for workers, (wall, peaks, stepped, cpu, enqueued, _, pg_cpu) in results.items():
        rates[workers] = count / max(1e-9, wall)
        print(f"  {workers} worker{'s' if workers > 1 else ' '}: {wall:6.2f} s, "
              f"{rates[workers]:8,.0f} events/s; per worker: events {stepped}, CPU "
              f"{', '.join(f'{c:.1f} s' for c in cpu)}, peak RSS "
              f"{', '.join(f'{p:.0f} MB' for p in peaks)}; PostgreSQL CPU {pg_cpu:.1f} s "
              f"(enqueue {enqueued:.1f} s)")
    per_event = {w: (sum(r[3]) + r[6]) / count * 1e6 for w, r in results.items()}
    print(f"  CPU per event, workers and server together: {per_event[1]:.0f} us with 1 worker, "
          f"{per_event[2]:.0f} us with 2; load average of the machine "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} (other processes share the cores)")
    same = results[1][5] == results[2][5]
    print(f"  2 workers / 1 worker: {rates[2] / rates[1]:.2f}x (target: at least 1.6x); "
          f"same final state: {same}")
    if not same:
        raise SystemExit("the final states differ")


if __name__ == "__main__":
    main()
