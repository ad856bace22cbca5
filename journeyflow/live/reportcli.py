"""``journeyflow report``: the report of a store's real customers, as simulate writes one."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console

from journeyflow.errors import JourneyError

__all__ = ["report"]


@click.command("report")
@click.argument("journey_file", metavar="JOURNEY",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--store", required=True, metavar="URL",
              help="The state store to read: sqlite:///state.db, as given to run or serve. "
                   "It is opened read-only, so a running service can keep writing.")
@click.option("-o", "--out", metavar="FILE",
              help="Write the report as JSON (FILE.json, or - for stdout) or as an HTML page "
                   "with the journey map (FILE.html).")
@click.option("--journey", "name", metavar="NAME",
              help="The journey's name in the store, when it differs from the file's "
                   "(a store shared by several journeys of one service).")
@click.option("--at", "at_text", metavar="TIME",
              help="The instant the report describes (default: the latest step in the "
                   "store); a later time counts customers' time in the journey up to it. "
                   "Without an offset it is in the journey's time zone.")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True,
              help="Seed of the bootstrap behind the holdout's uplift intervals.")
@click.option("--timeseries", type=click.Path(dir_okay=False, path_type=Path),
              help="Write customers per stage at the end of each day as CSV.")
def report(journey_file: Path, store: str, out: str | None, name: str | None,
           at_text: str | None, seed: int, timeseries: Path | None) -> None:
    """Report on the real customers of JOURNEY in a state store.

    Funnel, goals, value, deliveries by status, suppressions, split arms, uplift over
    the holdout and rejected events, in the layout of simulate's report, so render
    --stats draws it on the map."""
    from journeyflow.cliutil import load_or_exit
    from journeyflow.live.report import live_report
    from journeyflow.live.reportread import open_reader
    from journeyflow.render.stats import parse_report

    journey = load_or_exit(journey_file)
    at = _instant(at_text, journey.model.timezone)
    try:
        reader = open_reader(store)
        try:
            data = live_report(journey, reader, name, at, seed)
        finally:
            reader.close()
        parse_report(data, "the live report")  # what render --stats will read must read
    except JourneyError as err:
        _fail(err)
    if out != "-":
        from journeyflow.live.reportsummary import print_live_report

        print_live_report(data, Console(highlight=False))
    _outputs(journey, data, out, timeseries)


def _instant(text: str | None, zone: str) -> float | None:
    from journeyflow.runtime.fieldvalues import Rejection, timestamp

    if text is None:
        return None
    try:
        return timestamp(text, zone, None)
    except Rejection as rej:
        raise click.BadParameter(rej.reason.replace("timestamp", "time", 1),
                                 param_hint="--at") from None


def _outputs(journey: Any, data: dict[str, Any], out: str | None,
             timeseries: Path | None) -> None:
    from journeyflow.live.reportpage import live_page
    from journeyflow.simulate.report import dumps, is_page, write_timeseries

    if out == "-":
        click.echo(dumps(data), nl=False)
    elif out is not None:
        try:
            text = live_page(journey, data) if is_page(Path(out)) else dumps(data)
        except JourneyError as err:  # no Graphviz: the install advice, not a traceback
            _fail(err)
        _write(Path(out), lambda stream: stream.write(text))
        click.echo(f"wrote {out}", err=True)
    if timeseries is not None:
        _write(timeseries, lambda stream: write_timeseries(data, stream))


def _write(path: Path, write: Any) -> None:
    try:
        with path.open("w", encoding="utf-8", newline="") as stream:
            write(stream)
    except OSError as exc:
        _fail(JourneyError(f"cannot write {path}: {exc.strerror}"))


def _fail(err: JourneyError) -> NoReturn:
    click.echo(f"error: {err}", err=True)
    sys.exit(1)
