"""``journeyflow simulate``: the click command over :mod:`journeyflow.simulate`.

Exit status: 0 on success; 1 when a journey or the behaviour model does not
compile, there is no behaviour model, or the store of ``--from-store`` cannot be
forecast; 2 on a usage error.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

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
from journeyflow.simulate.fromstore import check_same_population, store_plan
from journeyflow.simulate.plan import Plan, make_plan
from journeyflow.simulate.report import dumps, is_page, report_page, write_timeseries
from journeyflow.simulate.runner import Progress as ProgressFn
from journeyflow.simulate.storeread import StoreReader
from journeyflow.simulate.storesummary import print_population
from journeyflow.simulate.summary import print_comparison, print_report

__all__ = ["MAX_CUSTOMERS", "MAX_DAYS", "simulate"]

# Beyond these a run would not finish in memory or in a lifetime: refused as usage errors.
MAX_CUSTOMERS = 100_000_000
MAX_DAYS = 36_500  # 100 years, the longest duration a journey may write
LAST_DAY = date(9998, 12, 31)  # Python dates end in 9999; keep a year for the time zones


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


def _run(journey: Journey, plan: Plan, workers: int, dask: str | None,
         store: StoreReader | None = None) -> Simulation:
    with _progress(plan.customers, f"simulating {Path(journey.file).name}") as progress:
        try:
            return simulate_plan(journey, plan, workers=workers, dask=dask, progress=progress,
                                 store=store)
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
@click.option("--customers", type=click.IntRange(min=1, max=MAX_CUSTOMERS),
              help="How many customers arrive (rescales the arrival rates).")
@click.option("--days", type=click.IntRange(min=0, max=MAX_DAYS), default=365,
              show_default=True,
              help="The horizon in days (0 only with --from-store: the store as it is).")
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]),
              help=f"The first day (local midnight in the journey's time zone); default "
                   f"{DEFAULT_START.isoformat()}, or the store's latest customer clock with "
                   "--from-store.")
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
@click.option("--from-store", "store_url", metavar="URL",
              help="Forecast the customers a state store holds now (sqlite:///state.db), "
                   "each from where it is, instead of new arrivals.")
@click.option("--with-arrivals", is_flag=True,
              help="With --from-store: new arrivals of the behaviour model come too, from "
                   "the store's now (--customers sets how many).")
def simulate(journey_file: Path, behaviour_file: Path | None, customers: int | None,
             days: int, start: datetime | None, seed: int, workers: int, dask: str | None,
             by: str | None, out: Path | None, timeseries: Path | None, plot: Path | None,
             compare_file: Path | None, store_url: str | None, with_arrivals: bool) -> None:
    """Simulate customers going through a journey and report funnel, goals and value."""
    if compare_file is not None and (timeseries is not None or plot is not None
                                     or (out is not None and is_page(out))):
        raise click.UsageError("--timeseries, --plot and an HTML --out describe one run; "
                               "leave them out with --compare")
    _check_store_options(store_url, with_arrivals, days, customers, (timeseries, plot))
    first = start.date() if start is not None else None
    if (first or DEFAULT_START).toordinal() + days > LAST_DAY.toordinal():
        raise click.UsageError(f"--start {first or DEFAULT_START} with --days {days:,} ends "
                               f"after {LAST_DAY}: pick an earlier start or fewer days")
    journey = _load(journey_file)
    try:
        source = behaviour_source(journey, behaviour_file)
    except JourneyError as err:
        _fail(err, None)
    lowered = _behaviour(journey, source)
    if store_url is not None:
        population = _Population(store_url, first, with_arrivals, customers)
        _from_store(journey, lowered, population, days, seed, workers, dask, by,
                    (out, timeseries, plot), compare_file)
        return
    start_date = first or DEFAULT_START
    try:
        plan = make_plan(journey, lowered.behaviour, start=start_date, days=days, seed=seed,
                         customers=customers, by=by)
    except JourneyError as err:
        _fail(err, None)
    _check_size(plan)
    if compare_file is not None:
        _compare(journey, plan, source, compare_file, workers, dask, out)
        return
    began = time.perf_counter()
    result = _run(journey, plan, workers, dask)
    print_report(result.report, _stdout(), time.perf_counter() - began)
    _outputs(journey, result.report, out, timeseries, plot)


def _check_store_options(store_url: str | None, arrivals: bool, days: int,
                         customers: int | None, charts: tuple[Path | None, Path | None]) -> None:
    if store_url is None and (days == 0 or arrivals):
        raise click.UsageError("--days 0 and --with-arrivals go with --from-store" if arrivals
                               else "--days must be at least 1 (0 only with --from-store, "
                               "to see the store's customers as they are)")
    if arrivals and days == 0:
        raise click.UsageError("--with-arrivals needs --days 1 or more: in 0 days nobody "
                               "arrives")
    if days == 0 and any(chart is not None for chart in charts):
        raise click.UsageError("--timeseries and --plot chart the days of a forecast: with "
                               "--days 0 there is none")
    if store_url is not None and customers is not None and not arrivals:
        raise click.UsageError("--customers does not apply with --from-store: the store's "
                               "customers are the population (add --with-arrivals for N new "
                               "arrivals besides)")


def _check_size(plan: Plan) -> None:
    if plan.arrivals > MAX_CUSTOMERS:
        raise click.UsageError(f"the arrival rates bring {plan.arrivals:,} customers in "
                               f"{plan.days:,} days, more than {MAX_CUSTOMERS:,}: pass "
                               "--customers or fewer --days")


class _Population(NamedTuple):
    """Who a forecast from a store simulates: the store's customers, and new arrivals?"""

    url: str
    start: date | None
    arrivals: bool
    customers: int | None


def _from_store(journey: Journey, lowered: LoweredBehaviour, population: _Population,
                days: int, seed: int, workers: int, dask: str | None, by: str | None,
                outputs: tuple[Path | None, Path | None, Path | None],
                compare_file: Path | None) -> None:
    """The forecast of a store's customers; the store is read at one snapshot throughout."""
    out, timeseries, plot = outputs
    try:
        with StoreReader(population.url) as store:
            plan = store_plan(journey, lowered.behaviour, store, start=population.start,
                              days=days, seed=seed, by=by, arrivals=population.arrivals,
                              customers=population.customers)
            _check_size(plan)
            if compare_file is not None:
                _compare(journey, plan, lowered.source, compare_file, workers, dask, out, store)
                return
            began = time.perf_counter()
            result = _run(journey, plan, workers, dask, store)
    except JourneyError as err:
        _fail(err, None)
    console = _stdout()
    print_population(result.report, console)
    print_report(result.report, console, time.perf_counter() - began)
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
             dask: str | None, out: Path | None, store: StoreReader | None = None) -> None:
    """Run A and B on the same customers and streams; print B − A with intervals."""
    b = _load(other)
    # The same behaviour text, checked against B's names: the same arrivals, rates
    # and reactions, so B meets exactly A's customers (same numbers, same streams).
    plan_b = plan.for_journey(b, _behaviour(b, source).behaviour)
    if plan.population is not None:
        assert store is not None
        try:
            check_same_population(plan, b, store)
        except JourneyError as err:
            _fail(err, None)
    result_a = _run(a, plan, workers, dask, store)
    result_b = _run(b, plan_b, workers, dask, store)
    goals = [g for g in a.model.goals if g in b.model.goals]
    both_values = a.model.value is not None and b.model.value is not None
    diffs = differences(result_a.tally, result_b.tally, plan.seed, goals, both_values)
    console = _stdout()
    print_comparison(result_a.report, result_b.report, diffs, console)
    if out is not None:
        _write(out, dumps({"a": result_a.report, "b": result_b.report,
                           "differences": [d.as_dict() for d in diffs]}))
