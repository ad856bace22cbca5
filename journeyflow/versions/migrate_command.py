"""``journeyflow migrate --store URL NEW [--dry-run]``: move a store's customers to NEW.

Exit status: 0 when the customers moved (or would move, with ``--dry-run``) or there was
nothing to move; 1 when something blocks the migration (every problem is printed, with
the customers it concerns, and nothing is changed) or a journey does not compile; 2 on a
usage error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from journeyflow.cliutil import load_or_exit
from journeyflow.errors import JourneyError
from journeyflow.journey import Journey, version_of
from journeyflow.runtime.program import Program
from journeyflow.runtime.timeutil import parse_instant
from journeyflow.versions.migrate_report import MigrationReport
from journeyflow.versions.migrate_store import migrate_rows

__all__ = ["migrate"]

BLOCKED = 1


@click.command()
@click.argument("new", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--store", "url", required=True, metavar="URL",
              help="The store to migrate: sqlite:///path/to/state.db or "
              "postgresql://USER@HOST/DB")
@click.option("--dry-run", is_flag=True, help="Rehearse: report what would change, change "
              "nothing.")
@click.option("--old", "olds", multiple=True, metavar="FILE",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The journey file of an earlier version, for a store that does not hold "
              "it (stores record each version they are opened with). Repeatable.")
@click.option("--at", "at_text", metavar="TIME", help="The migration's time (default: the "
              "latest time the store has seen); timers already due then fire at the next step.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json prints the report as one object for tools.")
def migrate(new: Path, url: str, dry_run: bool, olds: tuple[Path, ...], at_text: str | None,
            fmt: str) -> None:
    """Move the customers of every earlier version in the store to NEW.

    Stages carry over by name or by NEW's `migrate { stage OLD -> NEW }` lines, attributes
    by name (`migrate { set ATTR = EXPR }` rewrites them from the old values), stage timers
    are set again from NEW counted from each customer's original entry. When anything
    blocks (a stage NEW lacks, a changed attribute type, a bonus or split NEW cannot
    hold), nothing changes and every problem is listed with a hint.
    """
    journey: Journey = load_or_exit(new)
    old = {version_of(j): j.source for j in (load_or_exit(path) for path in olds)}
    at = _instant(at_text)
    try:
        report = _run(url, journey, old, dry_run, at)
    except JourneyError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
    if fmt == "json":
        click.echo(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(report.text() if report.customers else
                   f"journey '{journey.name}': every customer runs on "
                   f"version {report.version}; nothing to migrate\n", nl=False)
    sys.exit(BLOCKED if report.blocked else 0)


def _instant(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return parse_instant(text)
    except ValueError:
        raise click.BadParameter(f"'{text}' is not a time such as 2026-06-01T00:00:00Z",
                                 param_hint="--at") from None


def _run(url: str, journey: Journey, old: dict[str, str], dry_run: bool,
         at: float | None) -> MigrationReport:
    if url.startswith(("postgresql://", "postgres://")):
        from journeyflow.live.pg_migrate import migrate_url

        return migrate_url(url, journey, old=old, dry_run=dry_run, at=at)
    if not url.startswith("sqlite:///"):
        raise click.BadParameter(f"'{url}': migrate works on a durable store, "
                                 "sqlite:///path/to/state.db or postgresql://USER@HOST/DB",
                                 param_hint="--store")
    from journeyflow.live.sqlite import SQLiteStore
    from journeyflow.live.sqlite_migrate import (
        SQLiteMigrationRows,
        edited_source,
        owner_check,
        record_source,
    )

    store = SQLiteStore.open(url)
    try:
        db = store.database.db
        owner_check(db, store.database.path, journey.name)
        version = version_of(journey)
        in_place = edited_source(db, journey, version) is not None
        rows = SQLiteMigrationRows(db, journey.name, version, in_place=in_place)
        report = migrate_rows(rows, journey, Program(journey.model), old=old, dry_run=dry_run,
                              at=at)
        if report.applied:
            record_source(db, journey.name, version, journey.source)
        return report
    finally:
        store.close()
