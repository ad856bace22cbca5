"""``journeyflow render``: draw a journey as a map (SVG, PNG, PDF, DOT, Mermaid or HTML)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from journeyflow.errors import JourneyError
from journeyflow.render.output import FORMATS, format_for
from journeyflow.render.output import render as render_journey
from journeyflow.render.stats import read_report

__all__ = ["render"]

_TEXT_FORMATS = ("dot", "mermaid")


@click.command("render")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", "out", required=True, metavar="OUT",
              help="File to write; '-' writes dot or mermaid text to stdout.")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format; by default taken from OUT's suffix.")
@click.option("--stats", "stats", type=click.Path(dir_okay=False, path_type=Path),
              default=None, metavar="REPORT.json",
              help="Overlay a simulation report: customers per stage and edge, suppressed sends.")
@click.option("--columns", type=click.IntRange(min=1), default=None,
              help="Layers per row; by default SVG, PNG, PDF and HTML choose what reads best "
                   "and DOT keeps one row.")
def render(file: Path, out: str, fmt: str | None, stats: Path | None,
           columns: int | None) -> None:
    """Draw FILE as a journey map: stages left to right, coloured by lifecycle phase."""
    from journeyflow.cliutil import load_or_exit

    try:
        chosen = format_for(out, fmt) if out != "-" else format_for(out, fmt or "dot")
        if out == "-" and chosen not in _TEXT_FORMATS:
            raise JourneyError(f"'-o -' writes text; {chosen} needs a file name "
                               "(or use --format dot or --format mermaid)")
        journey = load_or_exit(file)
        report = read_report(stats) if stats is not None else None
        data = render_journey(journey, chosen, report, str(stats), columns)
    except JourneyError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
    if out == "-":
        click.echo(data.decode("utf-8"), nl=False)
        return
    try:
        Path(out).write_bytes(data)
    except OSError as exc:
        click.echo(f"error: cannot write {out}: {exc.strerror}", err=True)
        sys.exit(1)
    click.echo(f"wrote {out} ({chosen})")
