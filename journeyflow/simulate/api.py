"""``simulate()``: the library entry point behind ``journeyflow simulate``.

Examples
--------
>>> import journeyflow
>>> from journeyflow.simulate import simulate
>>> j = journeyflow.loads('''journey "doc"
... event signed_up {}
... event left {}
... stage lead start { on signed_up -> member }
... stage member { on left -> gone }
... stage gone final
... simulate {
...   arrivals signed_up 10 per day for 10d
...   in member { left 10% per day }
... }''')
>>> result = simulate(j, days=30, seed=7)
>>> result.report["customers"], result.report["stages"]["member"]["reached"]
(100, 100)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from journeyflow.errors import JourneyError
from journeyflow.journey import Journey
from journeyflow.model.behaviour import Behaviour
from journeyflow.simulate.fromstore import population_report, store_plan
from journeyflow.simulate.plan import Plan, make_plan
from journeyflow.simulate.report import build_report
from journeyflow.simulate.runner import Progress, run_plan
from journeyflow.simulate.storeread import StoreReader
from journeyflow.simulate.tally import Tally

__all__ = ["DEFAULT_START", "Simulation", "simulate", "simulate_plan"]

# Fixed rather than "today", so that the same command gives the same report
# on any day (quiet hours and send windows depend on the calendar).
DEFAULT_START = date(2026, 1, 1)


@dataclass(frozen=True)
class Simulation:
    """One finished run: its plan, the merged counts and the report dict."""

    plan: Plan
    tally: Tally
    report: dict[str, Any]


def simulate_plan(journey: Journey, plan: Plan, *, workers: int = 1, dask: str | None = None,
                  progress: Progress | None = None,
                  store: StoreReader | None = None) -> Simulation:
    """Run ``plan`` (made for ``journey``) and build its report.

    A plan with a stored population reads its customers from ``store``, and its
    report gains a ``population`` section: the customers it started from.
    """
    tally = run_plan(plan, workers=workers, dask=dask, progress=progress, store=store)
    report = build_report(tally, plan, journey.model)
    if plan.population is not None:
        report["population"] = population_report(plan, journey)
    return Simulation(plan, tally, report)


def simulate(journey: Journey, behaviour: Behaviour | None = None, *,
             start: date | None = None, days: int = 365, seed: int = 1,
             customers: int | None = None, by: str | None = None, workers: int = 1,
             dask: str | None = None, progress: Progress | None = None,
             from_store: str | None = None, arrivals: bool = False) -> Simulation:
    """Simulate ``journey`` with ``behaviour`` (default: its own ``simulate`` block).

    ``workers`` > 1 runs partitions in that many processes; ``dask`` is
    ``"local"`` or a scheduler address. The report is the same either way.
    ``start`` defaults to :data:`DEFAULT_START`.

    ``from_store`` (``sqlite:///state.db``) forecasts the customers the store holds
    instead of new arrivals, from the store's latest customer clock (or ``start``,
    if later) for ``days`` days. ``arrivals`` adds the new arrivals of the behaviour
    model from then on (``customers`` of them, if given).
    """
    if behaviour is None:
        if journey.behaviour is None:
            raise JourneyError(f"{journey.file} has no simulate {{ ... }} block")
        behaviour = journey.behaviour
    if from_store is not None:
        with StoreReader(from_store) as reader:
            plan = store_plan(journey, behaviour, reader, start=start, days=days, seed=seed,
                              by=by, arrivals=arrivals, customers=customers)
            return simulate_plan(journey, plan, workers=workers, dask=dask, progress=progress,
                                 store=reader)
    plan = make_plan(journey, behaviour, start=start or DEFAULT_START, days=days, seed=seed,
                     customers=customers, by=by)
    return simulate_plan(journey, plan, workers=workers, dask=dask, progress=progress)
