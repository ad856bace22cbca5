"""``journeyflow simulate``: the click command over :mod:`journeyflow.simulate`.

Exit status: 0 on success; 1 when a journey or the behaviour model does not
compile, or there is no behaviour model; 2 on a usage error.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from journeyflow.errors import Diagnostic, JourneyError
from journeyflow.journey import Journey
from journeyflow.simulate.api import DEFAULT_START, Simulation, simulate_plan
from journeyflow.simulate.behaviour import (
    BehaviourSource,
    LoweredBehaviour,
    behaviour_source,
    lower_for,
)
from journeyflow.simulate.compare import differences
from journeyflow.simulate.plan import Plan, make_plan
from journeyflow.simulate.report import dumps, is_page, report_page, write_timeseries
from journeyflow.simulate.runner import Progress as ProgressFn
from journeyflow.simulate.summary import print_comparison, print_report

__all__ = ["simulate"]


# journeyflow.cli imports this module while it registers commands, so its helpers
# are imported when called: importing this module first must not import a cycle.
def _load(path: Path) -> Journey:
    from journeyflow.cliutil import load_or_exit

    journey: Journey = load_or_exit(path)
    return journey


def _print(diags: tuple[Diagnostic, ...], sources: dict[str, str]) -> None:
    from journeyflow.cliutil import print_diagnostics

    print_diagnostics(diags, sources)


def _fail(err: JourneyError, source: BehaviourSource | None) -> NoReturn:
    """Print a JourneyError like ``journeyflow check`` does, and exit 1."""
    if err.diagnostics:
        sources = {source.file: source.text} if source is not None else {}
        _print(err.diagnostics, sources)
    click.echo(f"error: {err}", err=True)
    sys.exit(1)


def _behaviour(journey: Journey, source: BehaviourSource) -> LoweredBehaviour:
    try:
        lowered = lower_for(journey, source)
    except JourneyError as err:
        _fail(err, source)
    if lowered.warnings and source.bare:
        _print(lowered.warnings, {source.file: source.text})
    return lowered


@contextmanager
def _progress(total: int, label: str) -> Iterator[ProgressFn | None]:
    """A progress bar on stderr, only when stderr is a terminal."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    with Progress(f"[bold]{label}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _run(journey: Journey, plan: Plan, workers: int, dask: str | None) -> Simulation:
    with _progress(plan.customers, f"simulating {Path(journey.file).name}") as progress:
        try:
            return simulate_plan(journey, plan, workers=workers, dask=dask, progress=progress)
        except JourneyError as err:
            _fail(err, None)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, "utf-8")
    except OSError as exc:
        raise click.UsageError(f"cannot write {path}: {exc.strerror}") from exc


def _stdout() -> Console:
    console = Console()
    # Piped output gets a width that fits the tables instead of rich's 80.
    return console if console.is_terminal else Console(width=120)


@click.command()
@click.argument("journey_file", metavar="JOURNEY",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--behaviour", "behaviour_file", type=click.Path(exists=True, dir_okay=False,
                                                               path_type=Path),
              help="A file with a simulate { ... } block to use instead of the journey's.")
@click.option("--customers", type=click.IntRange(min=1),
              help="How many customers arrive (rescales the arrival rates).")
@click.option("--days", type=click.IntRange(min=1), default=365, show_default=True,
              help="The horizon in days.")
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]),
              default=DEFAULT_START.isoformat(), show_default=True,
              help="The first day (local midnight in the journey's time zone).")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes (or dask workers with --dask local).")
@click.option("--dask", metavar="local|ADDRESS",
              help="Run on dask: 'local' starts a LocalCluster, or tcp://host:8786.")
@click.option("--by", metavar="ATTRIBUTE",
              help="Split the funnel by a customer attribute or an event field (first touch).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report as JSON (journeyflow/schemas/report.schema.json), or "
                   "as an HTML page with the journey map when FILE ends in .html.")
@click.option("--timeseries", type=click.Path(dir_okay=False, path_type=Path),
              help="Write customers per stage at the end of each day as CSV.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path),
              help="Draw the funnel and stage occupancy into a PNG.")
@click.option("--compare", "compare_file", type=click.Path(exists=True, dir_okay=False,
                                                           path_type=Path),
              help="Run a second journey with the same behaviour and seed; print differences.")
def simulate(journey_file: Path, behaviour_file: Path | None, customers: int | None,
             days: int, start: datetime, seed: int, workers: int, dask: str | None,
             by: str | None, out: Path | None, timeseries: Path | None, plot: Path | None,
             compare_file: Path | None) -> None:
    """Simulate customers going through a journey and report funnel, goals and value."""
    if compare_file is not None and (timeseries is not None or plot is not None
                                     or (out is not None and is_page(out))):
        raise click.UsageError("--timeseries, --plot and an HTML --out describe one run; "
                               "leave them out with --compare")
    journey = _load(journey_file)
    try:
        source = behaviour_source(journey, behaviour_file)
    except JourneyError as err:
        _fail(err, None)
    lowered = _behaviour(journey, source)
    try:
        plan = make_plan(journey, lowered.behaviour, start=start.date(), days=days, seed=seed,
                         customers=customers, by=by)
    except JourneyError as err:
        _fail(err, None)
    if compare_file is not None:
        _compare(journey, plan, source, compare_file, workers, dask, out)
        return
    began = time.perf_counter()
    result = _run(journey, plan, workers, dask)
    print_report(result.report, _stdout(), time.perf_counter() - began)
    _outputs(journey, result.report, out, timeseries, plot)


def _outputs(journey: Journey, report: dict[str, Any], out: Path | None,
             timeseries: Path | None, plot: Path | None) -> None:
    if out is not None and is_page(out):
        try:
            _write(out, report_page(journey, report))
        except JourneyError as err:  # no Graphviz: the install advice, not a traceback
            _fail(err, None)
    elif out is not None:
        _write(out, dumps(report))
    if timeseries is not None:
        try:
            with timeseries.open("w", encoding="utf-8", newline="") as stream:
                write_timeseries(report, stream)
        except OSError as exc:
            raise click.UsageError(f"cannot write {timeseries}: {exc.strerror}") from exc
    if plot is not None:
        from journeyflow.simulate.plot import plot_report

        plot_report(report, plot)


def _compare(a: Journey, plan: Plan, source: BehaviourSource, other: Path, workers: int,
             dask: str | None, out: Path | None) -> None:
    """Run A and B on the same customers and streams; print B − A with intervals."""
    b = _load(other)
    # The same behaviour text, checked against B's names: the same arrivals, rates
    # and reactions, so B meets exactly A's customers (same numbers, same streams).
    plan_b = plan.for_journey(b, _behaviour(b, source).behaviour)
    result_a = _run(a, plan, workers, dask)
    result_b = _run(b, plan_b, workers, dask)
    goals = [g for g in a.model.goals if g in b.model.goals]
    both_values = a.model.value is not None and b.model.value is not None
    diffs = differences(result_a.tally, result_b.tally, plan.seed, goals, both_values)
    console = _stdout()
    print_comparison(result_a.report, result_b.report, diffs, console)
    if out is not None:
        _write(out, dumps({"a": result_a.report, "b": result_b.report,
                           "differences": [d.as_dict() for d in diffs]}))
