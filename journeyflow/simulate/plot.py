"""``--plot out.png``: the funnel and stage occupancy over time, with matplotlib.

The Agg backend is chosen before pyplot is imported, so no display is needed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

__all__ = ["plot_report"]


def plot_report(report: dict[str, Any], path: Path) -> None:
    """Draw the funnel (left) and daily stage occupancy (right) into ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (funnel, occupancy) = plt.subplots(1, 2, figsize=(14, 6),
                                            gridspec_kw={"width_ratios": [2, 3]})
    try:
        _funnel(funnel, report)
        _occupancy(occupancy, report)
        fig.suptitle(f"{report['journey']}: {report['customers']:,} customers, "
                     f"{report['days']} days from {report['start']} (seed {report['seed']})")
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)


def _funnel(ax: Any, report: dict[str, Any]) -> None:
    names = list(report["stages"])
    reached = [report["stages"][s]["reached"] for s in names]
    bars = ax.barh(range(len(names)), reached, color="#4c72b0")
    ax.set_yticks(range(len(names)), labels=names)
    ax.invert_yaxis()  # the start stage on top, as in the file
    ax.set_xlabel("customers who reached the stage")
    ax.set_title("Funnel")
    for bar, s in zip(bars, names, strict=True):
        share = report["stages"][s]["share"]
        ax.annotate(f" {100 * share:.1f}%", (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                    va="center", fontsize=9)
    ax.set_xlim(0, max(reached + [1]) * 1.18)


def _occupancy(ax: Any, report: dict[str, Any]) -> None:
    occupancy = report["occupancy"]
    days = [date.fromisoformat(d) for d in occupancy["dates"]]
    names = list(occupancy["stages"])
    ax.stackplot(days, *(occupancy["stages"][s] for s in names), labels=names, alpha=0.85)
    ax.set_title("Customers per stage at the end of each day")
    ax.set_ylabel("customers")
    # Outside the axes: inside, the legend hides the stages it names.
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.margins(x=0)
    ax.tick_params(axis="x", labelrotation=30)
