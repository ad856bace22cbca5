"""``journeyflow simulate``: run a journey against a behaviour model (docs/simulate.md).

Modules: ``behaviour`` (where the model comes from), ``plan`` (the run as data),
``draws`` and ``tables`` (the model compiled for the engine), ``engine`` (one
customer at a time), ``tally`` (aggregates), ``runner`` (local, processes or
dask), ``report``, ``summary``, ``compare``, ``plot`` and ``command`` (the CLI).
"""

from journeyflow.simulate.api import DEFAULT_START, Simulation, simulate, simulate_plan

__all__ = ["DEFAULT_START", "Simulation", "simulate", "simulate_plan"]
