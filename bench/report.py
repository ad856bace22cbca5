"""``journeyflow report`` on big stores, against reading the same rows with plain SQL.

    .venv/bin/python bench/report.py [--sizes 10000,100000,1000000] [--seed-customers 2000]
                                     [--journey examples/lifecycle.journey] [--repeat 1]

A seed store is made by a real ``journeyflow run --store`` of the customers of
bench/baselines/workload.py (~20 events each): mail goes to a webhook port nobody
listens on (one attempt, so every mail ends ``dead`` in the outbox with its
``delivery`` record), push and the CRM are recorded in the trace only. Each size is
then the seed's customers copied under new ids (state, history, outbox, rejected
events), so a store of a million customers takes seconds to make, not hours.

For each size, each in a process of its own: ``journeyflow report STORE -o report.json``
(wall and CPU seconds, peak RSS), and the baselines, a plain ``SELECT count(*)`` of the
customers and plain SQL counts of the rows the report reads (customers by id, history
by customer), in its order, adding up their lengths so every page is read. The
report's time over the rows' is what turning the rows into figures costs.

With the lifecycle example's ``holdout 10%``, the uplift's bootstrap (simulate's code)
resamples 1,000 times every customer of each cohort, a few resamples at a time, so its
memory stays flat; its time grows with the customers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from durable import write_events  # noqa: E402

from tests.peers import free_port  # noqa: E402

EXE = str(Path(sys.executable).with_name("journeyflow"))

COUNT = """
import sqlite3, sys, time
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
began = time.perf_counter()
for sql in sys.argv[2].split(";"):
    print(db.execute(sql).fetchone())
print(time.perf_counter() - began)
"""
PLAIN_COUNT = "SELECT count(*) FROM jf_customers"
# The rows a report reads, in the order it reads them, counted and their lengths added up
# (so every page is read), without turning them into Python objects.
ROWS_COUNT = ("SELECT count(*), sum(length(state)) FROM (SELECT state FROM jf_customers "
              "ORDER BY journey, id);"
              "SELECT count(*), sum(length(records)) FROM (SELECT records FROM jf_history "
              "ORDER BY journey, customer, seq)")


def seed_store(journey: Path, customers: int, tmp: Path) -> Path:
    events, horizon, _ = write_events(customers, 1)
    path = tmp / "seed.db"
    dead_mail = f"email=http://127.0.0.1:{free_port()}/?attempts=1"
    subprocess.run([EXE, "run", str(journey), "--events", str(events), "--store",
                    f"sqlite:///{path}", "--channel", dead_mail, "--channel", "push=trace",
                    "--channel", "crm=trace", "--state", os.devnull],
                   check=True, capture_output=True)
    return path


def grow(seed: Path, size: int, tmp: Path) -> Path:
    """The seed's customers copied under new ids until the store holds ``size``."""
    path = tmp / f"store-{size}.db"
    if path.exists():
        return path
    shutil.copy(seed, path)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    (have,) = db.execute("SELECT count(*) FROM jf_customers").fetchone()
    copies = -(-size // have) - 1
    db.execute("BEGIN")
    db.execute("CREATE TEMP TABLE copies (k INTEGER PRIMARY KEY)")
    db.executemany("INSERT INTO copies VALUES (?)", [(k,) for k in range(1, copies + 1)])
    suffix = "'~' || k"
    db.execute(f"INSERT INTO jf_customers SELECT journey, id || {suffix}, version, "  # noqa: S608
               f"json_set(state, '$.id', id || {suffix}) FROM jf_customers, copies")
    db.execute(f"INSERT INTO jf_history (journey, customer, records) SELECT journey, "  # noqa: S608
               f"customer || {suffix}, records FROM jf_history, copies ORDER BY k, seq")
    db.execute(f"INSERT INTO jf_outbox (journey, customer, key, kind, channel, at, fields, "  # noqa: S608
               f"context, status, attempts, next_at, error) SELECT journey, customer || "
               f"{suffix}, key || {suffix}, kind, channel, at, fields, context, status, "
               "attempts, next_at, error FROM jf_outbox, copies")
    db.execute(f"INSERT INTO jf_rejected (journey, customer, line, reason, event) SELECT "  # noqa: S608
               f"journey, customer || {suffix}, line, reason, event FROM jf_rejected, copies "
               "WHERE customer IS NOT NULL")
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


def reaped(args: list[str]) -> tuple[float, float, float, str]:
    """Wall and CPU seconds, peak RSS (MB) and stdout of one process of its own (its own
    rusage: os.wait4 reaps it)."""
    began = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(args, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - began
        out.seek(0)
        err.seek(0)
        if process.returncode:
            raise SystemExit(f"{' '.join(args)} failed:\n{err.read()}")
        return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read()


def measure(journey: Path, store: Path, repeat: int, tmp: Path) -> dict[str, float]:
    best: dict[str, float] = {}
    for _ in range(repeat):
        report = reaped([EXE, "report", str(journey), "--store", f"sqlite:///{store}",
                         "-o", str(tmp / "report.json")])
        plain = reaped([sys.executable, "-c", COUNT, str(store), PLAIN_COUNT])
        rows = reaped([sys.executable, "-c", COUNT, str(store), ROWS_COUNT])
        for name, (wall, cpu, rss, _) in (("report", report), ("count", plain),
                                          ("rows", rows)):
            for what, value in (("wall", wall), ("cpu", cpu), ("rss", rss)):
                key = f"{name}_{what}"
                best[key] = min(best.get(key, value), value)
    data = json.loads((tmp / "report.json").read_text("utf-8"))
    best["customers"] = data["customers"]
    best["dead"] = data["deliveries"]["dead"]
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--seed-customers", type=int, default=2000)
    parser.add_argument("--journey", type=Path, default=ROOT / "examples" / "lifecycle.journey")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    has_holdout = "\nholdout " in args.journey.read_text("utf-8")
    with tempfile.TemporaryDirectory(prefix="journeyflow-report-bench-") as name:
        tmp = Path(name)
        began = time.perf_counter()
        seed = seed_store(args.journey, args.seed_customers, tmp)
        print(f"seed store: {args.seed_customers:,} customers by journeyflow run --store in "
              f"{time.perf_counter() - began:.1f} s ({seed.stat().st_size / 2**20:.1f} MB)")
        print(f"journey: {args.journey}"
              + (" (holdout: uplift bootstrap included)" if has_holdout else ""))
        head = (f"{'customers':>10} {'store MB':>9} {'report s':>9} {'CPU s':>7} "
                f"{'peak MB':>8} {'rows s':>7} {'count s':>8} {'report/rows':>12} "
                f"{'customers/s':>12}")
        print(head)
        for size in (int(s) for s in args.sizes.split(",")):
            store = grow(seed, size, tmp)
            m = measure(args.journey, store, args.repeat, tmp)
            print(f"{int(m['customers']):>10,} {store.stat().st_size / 2**20:>9,.0f} "
                  f"{m['report_wall']:>9.2f} {m['report_cpu']:>7.2f} {m['report_rss']:>8.0f} "
                  f"{m['rows_wall']:>7.2f} {m['count_wall']:>8.2f} "
                  f"{m['report_wall'] / m['rows_wall']:>11.1f}x "
                  f"{m['customers'] / m['report_wall']:>12,.0f}")
            store.unlink()
        print("report: `journeyflow report` wall seconds, start-up included; rows: the "
              "customers and history rows it reads, in its order, counted by sqlite3 in a "
              "process of its own; count: SELECT count(*) of the customers")


if __name__ == "__main__":
    main()
