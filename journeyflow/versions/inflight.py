"""The customers a store holds in a journey, for ``journeyflow diff --store``: how many each
change touches, and whether moving them to the new version would be blocked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from journeyflow.journey import Journey, version_of
from journeyflow.runtime.program import Program
from journeyflow.versions.changes import Change
from journeyflow.versions.migrate_report import MigrationReport
from journeyflow.versions.migrate_store import migrate_rows

__all__ = ["InFlight", "read_in_flight"]


@dataclass(frozen=True)
class InFlight:
    url: str
    by_stage: dict[str, int]  # stage name (as stored) -> customers, every version
    migration: MigrationReport  # the rehearsal of a migration to the new version

    @property
    def total(self) -> int:
        return sum(self.by_stage.values())

    def touched(self, change: Change) -> int:
        """The customers in the stages a change concerns (everyone, for a journey-wide one)."""
        if change.everyone:
            return self.total
        return sum(self.by_stage.get(stage, 0) for stage in change.stages)

    def blocks(self, change: Change) -> list[str]:
        """The migration's problems this change causes: a removed or renamed stage that
        still holds customers, an attribute whose type changed under them."""
        new = self.migration.version
        found = []
        for problem, n in sorted(self.migration.problems.counts.items()):
            if (change.kind == "stage" and problem.kind == "stage"
                    and problem.subject in change.stages) or (
                    change.kind == "attribute" and problem.kind in ("type", "rewrite")
                    and change.subject == f"attribute {problem.subject}"):
                found.append(f"{problem.message(n, new)}; {problem.hint(new)}")
        return found

    def as_json(self) -> dict[str, Any]:
        return {"url": self.url, "customers": self.total, "by_stage": self.by_stage,
                "migration": self.migration.as_json()}

    def summary(self) -> str:
        head = f"in flight in {self.url}: {self.total:,} customers"
        if not self.migration.customers:
            return f"{head}, all on version {self.migration.version}: nothing to migrate\n"
        return f"{head}\n{self.migration.text()}"


def read_in_flight(url: str, journey: Journey) -> InFlight:
    """Count a store's customers of ``journey`` and rehearse their migration."""
    from journeyflow.errors import JourneyError

    if url.startswith(("postgresql://", "postgres://")):
        from journeyflow.live.pg_migrate import in_flight
        from journeyflow.live.pgschema import redact

        by_stage, report = in_flight(url, journey)
        return InFlight(redact(url), by_stage, report)
    if not url.startswith("sqlite:///"):
        raise JourneyError(f"'{url}': diff --store reads a durable store, "
                           "sqlite:///path/to/state.db or postgresql://USER@HOST/DB")
    from journeyflow.live.sqlite import SQLiteStore
    from journeyflow.live.sqlite_migrate import SQLiteMigrationRows, edited_source, owner_check

    store = SQLiteStore.open(url)
    try:
        db = store.database.db
        owner_check(db, store.database.path, journey.name)
        by_stage = dict(db.execute(
            "SELECT json_extract(state, '$.stage'), count(*) FROM jf_customers WHERE "
            "journey = ? GROUP BY 1 ORDER BY 1", (journey.name,)).fetchall())
        version = version_of(journey)
        in_place = edited_source(db, journey, version) is not None
        rows = SQLiteMigrationRows(db, journey.name, version, in_place=in_place)
        report = migrate_rows(rows, journey, Program(journey.model), dry_run=True)
    finally:
        store.close()
    return InFlight(url, by_stage, report)
