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

from journeyflow.journey import Journey
from journeyflow.model.behaviour import Behaviour
from journeyflow.simulate.plan import Plan, make_plan
from journeyflow.simulate.report import build_report
from journeyflow.simulate.runner import Progress, run_plan
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
                  progress: Progress | None = None) -> Simulation:
    """Run ``plan`` (made for ``journey``) and build its report."""
    tally = run_plan(plan, workers=workers, dask=dask, progress=progress)
    return Simulation(plan, tally, build_report(tally, plan, journey.model))


def simulate(journey: Journey, behaviour: Behaviour | None = None, *,
             start: date = DEFAULT_START, days: int = 365, seed: int = 1,
             customers: int | None = None, by: str | None = None, workers: int = 1,
             dask: str | None = None, progress: Progress | None = None) -> Simulation:
    """Simulate ``journey`` with ``behaviour`` (default: its own ``simulate`` block).

    ``workers`` > 1 runs partitions in that many processes; ``dask`` is
    ``"local"`` or a scheduler address. The report is the same either way.
    """
    if behaviour is None:
        if journey.behaviour is None:
            from journeyflow.errors import JourneyError

            raise JourneyError(f"{journey.file} has no simulate {{ ... }} block")
        behaviour = journey.behaviour
    plan = make_plan(journey, behaviour, start=start, days=days, seed=seed,
                     customers=customers, by=by)
    return simulate_plan(journey, plan, workers=workers, dask=dask, progress=progress)
