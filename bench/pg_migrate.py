"""Migrating a PostgreSQL store against migrating the same customers in a SQLite store.

    .venv/bin/python bench/pg_migrate.py [--customers 100000] [--template 2000] [--fast]

The customers are those of ``bench/migrate.py`` (``examples/lifecycle.journey``, a template
run through it and copied up to the size wanted), loaded into a throw-away PostgreSQL
server (tests/pgserver.py; durable, fsync on, unless ``--fast``). Each run is a process of
its own, on a fresh copy of the store, so its peak memory is its own:
* sqlite migrate, the baseline: ``bench/migrate.py``'s migration of the SQLite store;
* pg copy: the PostgreSQL migration's reads and writes with nothing changed in between;
* pg migrate: the migration as opening the store runs it (lock, batches, one transaction).
Prints time, customers per second, peak memory and its growth, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg  # noqa: E402
from migrate import JOURNEY, build, copy_rows, new_version, peak_kb  # noqa: E402

from tests.pgserver import postgres_running  # noqa: E402


def load_into(path: Path, url: str) -> None:
    """The SQLite store's journey, customers, timers and recorded sources, in PostgreSQL."""
    from journeyflow.live.pgschema import connect, parse_url, partition_of

    options = parse_url(url)
    connect(options, create=True).close()
    lite = sqlite3.connect(path)
    parts = options.partitions
    with psycopg.connect(url) as conn:
        for name, version in lite.execute("SELECT name, version FROM jf_journeys"):
            conn.execute("INSERT INTO jf_journeys (name, version, partitions) VALUES "
                         "(%s, %s, %s)", (name, version, parts))
        for row in lite.execute("SELECT journey, version, source FROM jf_versions"):
            conn.execute("INSERT INTO jf_versions VALUES (%s, %s, %s)", row)
        with conn.cursor().copy("COPY jf_customers (journey, id, part, version, state) "
                                "FROM STDIN") as copy:
            for journey, cid, version, state in lite.execute(
                    "SELECT journey, id, version, state FROM jf_customers"):
                copy.write_row((journey, cid, partition_of(cid, parts), version, state))
        with conn.cursor().copy("COPY jf_timers (journey, seq, part, due, customer, kind, "
                                "payload) FROM STDIN") as copy:
            for journey, seq, due, cid, kind, payload in lite.execute(
                    "SELECT journey, seq, due, customer, kind, payload FROM jf_timers"):
                copy.write_row((journey, seq, partition_of(cid, parts), due, cid, kind,
                                payload))
        conn.execute("SELECT setval('jf_timer_blocks', 1)")
    lite.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def run_one(target: str, mode: str) -> dict[str, float]:
    """One measured run, in this process."""
    import journeyflow
    from journeyflow.journey import version_of
    from journeyflow.live.pg_migrate import PostgresMigrationRows, open_journey
    from journeyflow.live.pgschema import connect, parse_url
    from journeyflow.live.sqlite import SQLiteDatabase
    from journeyflow.live.sqlite_migrate import SQLiteMigrationRows
    from journeyflow.runtime.program import Program
    from journeyflow.versions.migrate_store import migrate_rows

    journey = journeyflow.loads(new_version(JOURNEY.read_text("utf-8")), "lifecycle.journey")
    program = Program(journey.model)
    before = peak_kb()
    start = time.perf_counter()
    if mode == "sqlite":
        database = SQLiteDatabase(Path(target))
        rows: Any = SQLiteMigrationRows(database.db, journey.name, version_of(journey))
        report = migrate_rows(rows, journey, program)
        database.close()
        count = sum(report.customers.values())
    else:
        conn = connect(parse_url(target))
        if mode == "copy":
            with conn.transaction():
                rows = PostgresMigrationRows(conn, journey.name, version_of(journey))
                count = copy_rows(rows)
        else:
            opened = open_journey(conn, journey, program, target)
            assert opened.migration is not None
            assert opened.migration.applied, opened.migration.text()
            count = sum(opened.migration.customers.values())
        conn.close()
    seconds = time.perf_counter() - start
    peak = peak_kb()
    return {"customers": count, "seconds": seconds, "peak_mb": peak / 1024,
            "growth_mb": (peak - before) / 1024}


def measure(target: str, mode: str) -> dict[str, float]:
    import subprocess

    done = subprocess.run([sys.executable, __file__, "--one", target, mode],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode:
        sys.exit(f"the {mode} run failed:\n{done.stderr}")
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


def fresh_copy(server_url: str, template: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--template", type=int, default=2000)
    parser.add_argument("--fast", action="store_true", help="PostgreSQL without fsync")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.one:
        print(json.dumps(run_one(opts.one[0], opts.one[1])))
        return
    if opts.customers % opts.template:
        parser.error("--customers must be a multiple of --template")
    with tempfile.TemporaryDirectory() as folder, \
            postgres_running(durable=not opts.fast) as server:
        built = Path(folder) / "built.db"
        start = time.perf_counter()
        build(built, opts.customers, opts.template)
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute('CREATE DATABASE "built"')
        load_into(built, server.url.rsplit("/", 1)[0] + "/built")
        print(f"stores of {opts.customers:,} customers built in "
              f"{time.perf_counter() - start:.1f} s")
        results = {"sqlite": measure(str(built), "sqlite")}
        for mode in ("copy", "migrate"):
            results[mode] = measure(fresh_copy(server.url, "built", mode), mode)
        for mode, r in results.items():
            label = mode if mode == "sqlite" else f"pg {mode}"
            print(f"  {label:11} {r['customers']:>9,.0f} customers  {r['seconds']:7.1f} s  "
                  f"{r['customers'] / r['seconds']:>9,.0f}/s  peak {r['peak_mb']:6.0f} MB  "
                  f"growth {r['growth_mb']:5.0f} MB")
        pg = results["migrate"]["seconds"]
        print(f"  pg migrate / pg copy: {pg / results['copy']['seconds']:.1f}x the time; "
              f"pg migrate / sqlite migrate: {pg / results['sqlite']['seconds']:.1f}x")


if __name__ == "__main__":
    main()
