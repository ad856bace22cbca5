"""Each split arm's uplift, as words: the figures come from the report's ``arm_uplift``
(``simulate.uplift.arm_uplift``: an arm's customers against the held-out customers who
took the same arm)."""

from __future__ import annotations

from typing import Any

__all__ = ["difference_text"]


def difference_text(interval: dict[str, Any] | None, scale: float, unit: str) -> str:
    """An uplift with its interval, for people (``scale`` 100 for rates in points);
    – when a cohort had nobody to compare."""
    if not interval:
        return "–"
    d, low, high = (interval[k] * scale for k in ("difference", "low", "high"))
    return f"{d:+.2f}{unit} ({low:+.2f} to {high:+.2f})"
