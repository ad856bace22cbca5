"""Migrating a SQLite store of 100,000 and 1,000,000 customers to a new journey version.

    .venv/bin/python bench/migrate.py [--customers 100000 1000000] [--template 2000]

The store runs ``examples/lifecycle.journey``: a template of customers is run through it
(sign-ups, purchases, abandoned carts, tickets, so they wait in every stage with timers,
delayed statements and bonuses), then copied row by row up to the size wanted. The new
version renames a stage (with a ``migrate`` mapping), changes a timer and a subject.

For each size, two runs on copies of the same file, each in a process of its own so its
peak memory is its own:
* copy, the baseline: read every customer and its timers in the migration's batches and
  write them back unchanged in one transaction, with one history record each;
* migrate: the migration itself (``journeyflow.versions.migrate_store.migrate_rows``).
Prints time, customers per second, peak memory and its growth over the process's memory
before the run, and the ratio of migrate to copy.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
JOURNEY = ROOT / "examples" / "lifecycle.journey"
T0 = 1772442000.0  # 2026-03-02T09:00:00Z
DAY = 86400.0


def new_version(text: str) -> str:
    text = text.replace("version 5", "version 6")
    text = re.sub(r"\bretention\b", "regulars", text)
    text = text.replace('after 14d { offer up_sell', 'after 10d { offer up_sell')
    return text + "\nmigrate { stage retention -> regulars }\n"


def template_events(n: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    events: list[dict[str, Any]] = []
    for i in range(n):
        cid, at = f"c{i}", T0 + i * 30
        events.append({"at": at, "customer": cid, "event": "signed_up",
                       "attributes": {"email": f"{cid}@example.org"}})
        if rng.random() < 0.3:
            events.append({"at": at + 3600, "customer": cid, "event": "cart_abandoned",
                           "data": {"cart_value": 80}})
        for k in range(rng.choice([0, 0, 1, 2, 4])):
            events.append({"at": at + (k + 1) * 3 * DAY, "customer": cid, "event": "purchased",
                           "data": {"amount": 60 + k}})
        if rng.random() < 0.1:
            events.append({"at": at + 2 * DAY, "customer": cid, "event": "support_ticket",
                           "data": {"rating": rng.randint(1, 5)}})
    return sorted(events, key=lambda e: e["at"])


def build(path: Path, customers: int, template: int) -> None:
    """A store of ``customers`` (a multiple of ``template``): the template run through the
    journey, then its rows copied with new ids until there are enough."""
    import journeyflow

    journey = journeyflow.load(JOURNEY)
    engine = journeyflow.Engine(journey, store=f"sqlite:///{path}")
    events = template_events(template)
    for event in events:
        engine.handle(event)
    engine.advance(events[-1]["at"] + DAY)
    engine.close()
    db = sqlite3.connect(path, isolation_level=None)
    # Setting up, not measured: no flushes, a large cache, indexes made once at the end.
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-524288")
    indexes = db.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND "
                         "tbl_name = 'jf_timers' AND sql IS NOT NULL").fetchall()
    db.execute("BEGIN")
    for (sql,) in indexes:
        db.execute("DROP INDEX " + sql.split(" ON ")[0].split()[-1])
    seq = db.execute("SELECT max(seq) FROM jf_timers").fetchone()[0] or 0
    for copy in range(1, customers // template):
        suffix = f"-{copy}"
        db.execute("INSERT INTO jf_customers SELECT journey, id || ?, version, json_set(state, "
                   "'$.id', id || ?) FROM jf_customers WHERE instr(id, '-') = 0",
                   (suffix, suffix))
        db.execute("INSERT INTO jf_timers SELECT journey, seq + ?, due, customer || ?, kind, "
                   "payload FROM jf_timers WHERE instr(customer, '-') = 0", (copy * seq, suffix))
    for (sql,) in indexes:
        db.execute(sql)
    counters = json.loads(db.execute("SELECT counters FROM jf_journeys").fetchone()[0])
    counters["seq"] = seq * (customers // template + 1)
    db.execute("UPDATE jf_journeys SET counters = ?", (json.dumps(counters),))
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def run_one(path: Path, mode: str) -> dict[str, float]:
    """One measured run, in this process (started by :func:`measure`)."""
    import journeyflow
    from journeyflow.journey import version_of
    from journeyflow.live.sqlite import SQLiteDatabase
    from journeyflow.live.sqlite_migrate import SQLiteMigrationRows
    from journeyflow.runtime.program import Program
    from journeyflow.versions.migrate_store import migrate_rows

    journey = journeyflow.loads(new_version(JOURNEY.read_text("utf-8")), "lifecycle.journey")
    program = Program(journey.model)
    database = SQLiteDatabase(path)  # the store's own connection settings (cache, WAL)
    db = database.db
    rows = SQLiteMigrationRows(db, journey.name, version_of(journey))
    before = peak_kb()
    start = time.perf_counter()
    if mode == "copy":
        count = copy_rows(rows)
    else:
        report = migrate_rows(rows, journey, program)
        assert report.applied, report.text()
        count = sum(report.customers.values())
    seconds = time.perf_counter() - start
    peak = peak_kb()
    database.close()
    return {"customers": count, "seconds": seconds, "peak_mb": peak / 1024,
            "growth_mb": (peak - before) / 1024}


def peak_kb() -> int:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss
    over from the parent into a child, and the parent built a store with a large cache."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def copy_rows(rows: Any) -> int:
    """The baseline: the migration's reads and writes, with nothing changed in between."""
    count = 0
    rows.begin()
    for batch in rows.batches():
        rows.write([(cid, state, timers, {"from": version}) for cid, version, state, timers
                    in batch], T0)
        count += len(batch)
    rows.commit()
    return count


def measure(path: Path, mode: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--one", str(path), mode],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode:
        sys.exit(f"the {mode} run failed:\n{done.stderr}")
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--template", type=int, default=2000)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if any(n % opts.template for n in opts.customers):
        parser.error("--customers must be multiples of --template")
    if opts.one:
        print(json.dumps(run_one(Path(opts.one[0]), opts.one[1])))
        return
    with tempfile.TemporaryDirectory() as folder:
        for customers in opts.customers:
            built = Path(folder) / f"built-{customers}.db"
            start = time.perf_counter()
            build(built, customers, opts.template)
            print(f"store of {customers:,} customers built in {time.perf_counter() - start:.1f} s"
                  f" ({built.stat().st_size / 2**20:.0f} MB)")
            results = {}
            for mode in ("copy", "migrate"):
                target = Path(folder) / f"{mode}.db"
                shutil.copy(built, target)
                results[mode] = measure(target, mode)
                target.unlink()
                r = results[mode]
                print(f"  {mode:8} {r['customers']:>9,.0f} customers  {r['seconds']:7.1f} s  "
                      f"{r['customers'] / r['seconds']:>9,.0f}/s  peak {r['peak_mb']:6.0f} MB  "
                      f"growth {r['growth_mb']:5.0f} MB")
            ratio = results["migrate"]["seconds"] / results["copy"]["seconds"]
            print(f"  migrate / copy: {ratio:.1f}x the time")
            built.unlink()


if __name__ == "__main__":
    main()
