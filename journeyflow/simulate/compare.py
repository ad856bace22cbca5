"""``--compare``: two journeys, one behaviour model, one seed; the differences.

Both runs see the same customers with the same random streams (common random
numbers), so a partition of run A and the same partition of run B are a pair.
Confidence intervals come from a paired bootstrap over partitions: resample
partitions with replacement, and recompute each metric's difference as a ratio
of sums (customer-weighted), many times.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from journeyflow.simulate.tally import Tally

__all__ = ["Difference", "differences", "RESAMPLES"]

RESAMPLES = 2000
LEVEL = 0.95


@dataclass(frozen=True)
class Difference:
    """One metric of A and B, B − A, and its bootstrap interval (None: too few partitions)."""

    metric: str
    a: float
    b: float
    difference: float
    low: float | None
    high: float | None

    @property
    def significant(self) -> bool:
        """The interval excludes zero."""
        return self.low is not None and self.high is not None and (
            self.low > 0 or self.high < 0)

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "a": self.a, "b": self.b,
                "difference": self.difference, "low": self.low, "high": self.high,
                "significant": self.significant}


def _metrics(a: Tally, b: Tally, goals: list[str], values: bool) -> list[tuple[str, str]]:
    """(label, partition-summary key) of every metric both journeys have."""
    out = [(f"reached {s}", f"reached:{s}") for s in a.stages if s in b.stages]
    out += [(f"at end in {s}", f"at_end:{s}") for s in a.stages if s in b.stages]
    out += [(f"goal {g}", f"goal:{g}") for g in goals]
    out += [("messages delivered per customer", "delivered"),
            ("sends suppressed per customer", "suppressed")]
    if values:
        out.append(("value per customer", "value"))
    return out


def _matrix(tally: Tally, keys: list[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.array([[p.get(k, 0.0) for k in keys] for p in tally.partitions], dtype=float)


def differences(a: Tally, b: Tally, seed: int, goals: list[str], values: bool = True,
                resamples: int = RESAMPLES) -> list[Difference]:
    """Every common metric of ``a`` and ``b`` with a paired bootstrap interval.

    ``goals`` are the goals both journeys declare, ``values`` whether both have a
    ``value``. Metrics are per customer (reached 0.41 means 41% of customers);
    intervals are the central 95% of the resampled differences.
    """
    if len(a.partitions) != len(b.partitions):
        raise ValueError("the two runs must have the same partitions")
    metrics = _metrics(a, b, goals, values)
    keys = [key for _, key in metrics]
    ma, mb = _matrix(a, keys), _matrix(b, keys)
    n = np.array([p["customers"] for p in a.partitions], dtype=float)
    total = n.sum()
    share_a, share_b = ma.sum(axis=0) / total, mb.sum(axis=0) / total
    parts = len(n)
    low = high = None
    if parts >= 2:
        rng = np.random.default_rng(seed)
        # Resampling weights: how often each partition is drawn in each resample.
        weights = rng.multinomial(parts, np.full(parts, 1.0 / parts), size=resamples)
        diff = (weights @ (mb - ma)) / (weights @ n)[:, None]
        tail = (1 - LEVEL) / 2 * 100
        low, high = np.percentile(diff, [tail, 100 - tail], axis=0)
    out = []
    for i, (label, _) in enumerate(metrics):
        out.append(Difference(label, round(float(share_a[i]), 6), round(float(share_b[i]), 6),
                              round(float(share_b[i] - share_a[i]), 6),
                              None if low is None else round(float(low[i]), 6),
                              None if high is None else round(float(high[i]), 6)))
    return out
