"""The uplift of each split arm: its customers against the held-out customers of the
same arm.

Held-out customers still take a split's arm (the journey runs unchanged for them,
only marketing is held back), so within one arm the two cohorts reached the same
point of the journey and differ only in the arm's messages and offers: comparing
them is the arm's own effect, without the selection of who reached the split. The
figures and intervals are simulate's uplift (``simulate.uplift``), per arm.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from journeyflow.runtime.state import Customer
from journeyflow.simulate.uplift import uplift

__all__ = ["ArmCohorts", "difference_text"]

Row = tuple[float, tuple[str, ...]]  # a customer's value and goals, as uplift takes them


class ArmCohorts:
    """Each arm's customers, in and out of the holdout, gathered customer by customer."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, int], dict[str, list[Row]]] = {}

    def add(self, c: Customer, value: float) -> None:
        layout = c._layout
        arms = c.arms
        if layout.holdout is None or not arms:
            return
        cohort = "holdout" if layout.held_out(c) else "journey"
        row = (value, c.goals)
        for split, arm in arms.items():
            self.rows.setdefault((split, arm), {}).setdefault(cohort, []).append(row)

    def section(self, report: dict[str, Any], goals: Sequence[str],
                share: float | None, seed: int) -> list[dict[str, Any]] | None:
        """One entry per arm of the report's splits; None without a holdout."""
        if share is None:
            return None
        out = []
        for split in report["splits"]:
            key = split["name"] if split["name"] is not None else \
                split["position"].removeprefix(f"{report['file']}:")
            for i, arm in enumerate(split["arms"]):
                cohorts = self.rows.get((key, i), {})
                out.append({"split": split["name"] or split["position"], "arm": arm["name"],
                            **uplift(cohorts, goals, share, seed)})
        return out


def difference_text(interval: dict[str, Any] | None, scale: float, unit: str) -> str:
    """An uplift with its interval, for people (``scale`` 100 for rates in points);
    – when a cohort had nobody to compare."""
    if not interval:
        return "–"
    d, low, high = (interval[k] * scale for k in ("difference", "low", "high"))
    return f"{d:+.2f}{unit} ({low:+.2f} to {high:+.2f})"
