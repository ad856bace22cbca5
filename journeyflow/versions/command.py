"""``journeyflow diff OLD NEW``: what changed between two versions of a journey.

Exit status as ``diff``'s: 0 when nothing that matters to customers changed, 1 when
something did, 2 when a file cannot be read or does not compile (its diagnostics are
printed as ``check`` prints them).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from journeyflow.cliutil import print_diagnostics, read_source
from journeyflow.errors import JourneyError
from journeyflow.journey import Journey, load
from journeyflow.versions.changes import JourneyDiff
from journeyflow.versions.diff import diff_journeys
from journeyflow.versions.inflight import InFlight, read_in_flight
from journeyflow.versions.text import print_diff

__all__ = ["diff"]

CHANGED, TROUBLE = 1, 2


@click.command()
@click.argument("old", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json prints one object for tools (see docs/diff.md).")
@click.option("--store", "url", metavar="URL", help="A store of the journey "
              "(sqlite:///path/to/state.db or postgresql://USER@HOST/DB): how many "
              "in-flight customers each change touches, and whether migrating them to NEW "
              "would be blocked.")
def diff(old: Path, new: Path, fmt: str, url: str | None) -> None:
    """Show what changed from OLD to NEW that matters to customers.

    Compares the two compiled journeys, not their text: comments and layout never show,
    and every change names the stage and rule it concerns with FILE:LINE on both sides.
    Exits 0 when nothing changed, 1 when something did, 2 on an error.
    """
    journeys = [_load(path) for path in (old, new)]
    if None in journeys:
        sys.exit(TROUBLE)
    before, after = journeys
    assert before is not None
    assert after is not None
    result = diff_journeys(before, after, str(old), str(new))
    flight = _in_flight(url, after)
    if fmt == "json":
        click.echo(json.dumps(_as_json(result, flight), indent=2, ensure_ascii=False))
    else:
        print_diff(result, sys.stdout, flight)
        if flight is not None:
            click.echo("\n" + flight.summary(), nl=False)
    sys.exit(CHANGED if result else 0)


def _in_flight(url: str | None, new: Journey) -> InFlight | None:
    if url is None:
        return None
    try:
        return read_in_flight(url, new)
    except JourneyError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(TROUBLE)


def _as_json(result: JourneyDiff, flight: InFlight | None) -> dict[str, Any]:
    out = result.as_dict()
    if flight is not None:
        for change, item in zip(result.changes, out["changes"], strict=True):
            item["in_flight"] = flight.touched(change)
            item["blocks"] = flight.blocks(change)
        out["store"] = flight.as_json()
    return out


def _load(path: Path) -> Journey | None:
    """The compiled journey, or None once its diagnostics are printed on stderr."""
    try:
        return load(path)
    except JourneyError as err:
        if not err.diagnostics:
            click.echo(f"error: {err}", err=True)
            return None
        sources = {str(path): read_source(path)}
        sidecar = path.with_suffix(".scenario")
        if sidecar.is_file():
            sources[str(sidecar)] = read_source(sidecar)
        print_diagnostics(err.diagnostics, sources)
        click.echo(f"error: {path} does not compile, so it cannot be compared", err=True)
        return None
