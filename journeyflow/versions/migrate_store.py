"""Running a migration over any store: the store hands over its rows in batches.

A store implements :class:`MigrationRows` (SQLite: ``live.sqlite_migrate``). The whole
migration is one transaction: every customer of another version moves, or, when anything
blocks, none does, and the report lists every problem with the customers it concerns.
Only one batch of customers is in memory at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

import orjson

from journeyflow.errors import JourneyError
from journeyflow.journey import Journey, loads, version_of
from journeyflow.runtime.program import Program
from journeyflow.versions.migrate_report import MigrationReport
from journeyflow.versions.migration import CustomerMigrator, StoredTimer

__all__ = ["MigrationRows", "StoredCustomer", "customer_batches", "edited", "migrate_rows",
           "old_programs"]

StoredCustomer = tuple[str, str, str, list[StoredTimer]]  # id, version, state, timers


class MigrationRows(Protocol):
    """One journey's customers in a store, as a migration reads and writes them."""

    def other_versions(self) -> dict[str, int]:
        """Version -> how many customers run on it, for versions other than the new one."""

    def sources(self) -> dict[str, str]:
        """Version -> the journey source the store recorded for it."""

    def latest_time(self) -> float | None:
        """The latest time any customer of the journey was stepped at."""

    def batches(self) -> Iterator[list[StoredCustomer]]:
        """Every customer of another version, with its timers, a batch at a time."""

    def begin(self) -> None: ...

    def write(self, batch: list[tuple[str, str, list[StoredTimer], dict[str, Any]]],
              at: float) -> None:
        """Save migrated customers: state, timers (replacing theirs), `migrated` record."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


def customer_batches(fetch: Callable[[str], list[tuple[str, str, str]]],
                     timers: Callable[[list[str]], Iterable[tuple[str, float, int, int, str]]]
                     ) -> Iterator[list[StoredCustomer]]:
    """What :meth:`MigrationRows.batches` yields, for a store that can ``fetch`` the next
    batch of ``(id, version, state)`` after an id (ordered by id) and list the timer rows
    ``(customer, due, seq, kind, payload)`` of some customers: a walk by id, one batch of
    customers and their timers (in the order they fire) at a time."""
    after = ""
    while True:
        rows = fetch(after)
        if not rows:
            return
        found: dict[str, list[tuple[float, int, int, str]]] = {}
        for cid, due, seq, kind, payload in timers([cid for cid, _, _ in rows]):
            found.setdefault(cid, []).append((due, seq, kind, payload))
        # Sorted here, not in SQL: ordering there makes SQLite walk the due-time index
        # over every timer of the journey for each batch.
        yield [(cid, version, state, [(due, seq, kind, orjson.loads(payload))
                                      for due, seq, kind, payload in sorted(found.get(cid, ()))])
               for cid, version, state in rows]
        after = rows[-1][0]


def migrate_rows(rows: MigrationRows, journey: Journey, program: Program, *,
                 old: Mapping[str, str] | None = None, dry_run: bool = False,
                 at: float | None = None) -> MigrationReport:
    """Migrate (or, with ``dry_run``, rehearse) every customer of another version.

    ``old`` adds journey sources by version to those the store recorded; ``at`` is the
    migration's time (default: the latest time the store has seen).
    """
    version = version_of(journey)
    migration = journey.model.migration
    report = MigrationReport(journey.name, version, dry_run,
                             moves=migration.stages if migration is not None else {})
    versions = rows.other_versions()
    if not versions:
        return report
    programs = old_programs({**rows.sources(), **(old or {})}, versions, journey.name)
    report.old_stages = {stage for p in programs.values() for stage in p.stage_names}
    now = at if at is not None else rows.latest_time() or 0.0
    migrator = CustomerMigrator(program, version, programs, now, report)
    write = not dry_run
    if write:
        rows.begin()
    try:
        for batch in rows.batches():
            done = [(cid, *result) for cid, from_version, state, timers in batch
                    if (result := migrator.migrate(from_version, state, timers)) is not None]
            if write and not report.blocked:
                rows.write(done, now)
    except BaseException:
        if write:
            rows.rollback()
        raise
    if write and not report.blocked:
        rows.commit()
        report.applied = True
    elif write:
        rows.rollback()
    return report


def edited(old_source: str, journey: Journey) -> bool:
    """Whether ``journey`` differs from ``old_source`` in anything that matters to customers
    (layout and comments do not). A source that no longer compiles cannot be compared."""
    from journeyflow.versions.diff import diff_journeys

    try:
        old = loads(old_source, journey.file)
    except JourneyError:
        return False
    return old.name == journey.name and bool(diff_journeys(old, journey))


def old_programs(sources: Mapping[str, str], versions: Mapping[str, int],
                  name: str) -> dict[str, Program]:
    """The compiled earlier versions the store's customers run on; one whose source no
    longer compiles, or is another journey, is as good as missing."""
    programs = {}
    for version, source in sources.items():
        if version not in versions:
            continue
        try:
            old = loads(source, f"version {version}")
        except JourneyError:
            continue
        if old.name == name:
            programs[version] = Program(old.model)
    return programs
