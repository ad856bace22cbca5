"""A SQLite store's rows for a migration: read in batches, written in one transaction."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import journeyflow
from journeyflow.live.sqlite_migrate import SQLiteMigrationRows, record_source
from journeyflow.runtime.program import Program
from journeyflow.versions.migrate_store import migrate_rows
from tests.versions.migrating import FILE, RENAMED, T0, V1, edit, history, run_and_close, signups
from tests.versions.migrating import url as store_url
from tests.versions.migrating import versions as stored_versions


def _rows(store: str, version: str, batch: int) -> tuple[sqlite3.Connection,
                                                          SQLiteMigrationRows]:
    db = sqlite3.connect(store.removeprefix("sqlite:///"), isolation_level=None)
    return db, SQLiteMigrationRows(db, "Trial", version, batch=batch)


def test_customers_are_read_a_batch_at_a_time(tmp_path: Path) -> None:
    store = store_url(tmp_path)
    run_and_close(V1, store, signups(10))
    db, rows = _rows(store, "2", batch=3)
    sizes = [len(batch) for batch in rows.batches()]
    db.close()
    assert sizes == [3, 3, 3, 1]


def test_a_migration_in_batches_moves_everyone(tmp_path: Path) -> None:
    store = store_url(tmp_path)
    run_and_close(V1, store, signups(10))
    journey = journeyflow.loads(RENAMED, FILE)
    db, rows = _rows(store, "2", batch=3)
    report = migrate_rows(rows, journey, Program(journey.model))
    db.close()
    assert report.applied
    assert stored_versions(store) == {"2": 10}
    assert len(history(store, "migrated")) == 10


def test_a_problem_in_a_late_batch_undoes_the_earlier_ones(tmp_path: Path) -> None:
    store = store_url(tmp_path)
    paid = {"at": T0 + 3600, "customer": "c9", "event": "paid", "id": "p9"}
    run_and_close(V1, store, [*signups(10), paid])
    no_customer_stage = edit(RENAMED, ("-> customer", "-> lapsed"),
                             ('stage customer {\n  on enter { send thanks }\n'
                              '  on used { set seats += event.minutes }\n}\n', ""))
    journey = journeyflow.loads(no_customer_stage, FILE)
    db, rows = _rows(store, "2", batch=3)
    report = migrate_rows(rows, journey, Program(journey.model))
    db.close()
    assert report.blocked
    assert not report.applied
    assert stored_versions(store) == {"1": 10}
    assert history(store, "migrated") == []


def test_the_source_of_each_version_is_kept(tmp_path: Path) -> None:
    store = store_url(tmp_path)
    run_and_close(V1, store, signups(1))
    db, rows = _rows(store, "2", batch=3)
    assert rows.sources() == {"1": V1}
    record_source(db, "Trial", "1", "edited")
    assert rows.sources() == {"1": "edited"}  # the last file opened under that version
    db.close()
