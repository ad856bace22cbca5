"""Check a laid-out map for the faults that make a printed map hard to read.

Graphviz's JSON output gives every stage box, every edge's spline and every
text run with its width. :func:`layout_problems` reports labels that overlap
each other or a stage, and edges that pass through a stage or through another
edge's label. :func:`fit_page` uses it to choose how many layers to put on one
row when a long lifecycle has to fit an A4 landscape page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from journeyflow.render.diagram import JourneyDiagram
from journeyflow.render.dot import export_dot
from journeyflow.render.engine import run_dot
from journeyflow.render.layout import rows_needed

__all__ = ["Box", "fit_page", "layout_problems", "measure", "page_attributes", "page_scale"]

_PAGE = (11.7 * 72, 8.3 * 72)  # A4 landscape in points
_SAMPLES = 24  # points per Bezier segment; enough to catch a curve through a box


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned rectangle in points, with a name for messages."""

    name: str
    x0: float
    y0: float
    x1: float
    y1: float

    def shrunk(self, by: float) -> Box:
        return Box(self.name, self.x0 + by, self.y0 + by, self.x1 - by, self.y1 - by)

    def overlaps(self, other: Box) -> bool:
        return (self.x0 < other.x1 and other.x0 < self.x1
                and self.y0 < other.y1 and other.y0 < self.y1)

    def contains(self, x: float, y: float) -> bool:
        return self.x0 < x < self.x1 and self.y0 < y < self.y1


def _visible(item: dict[str, Any]) -> bool:
    return "invis" not in str(item.get("style", ""))


def _node_box(node: dict[str, Any]) -> Box:
    x, y = (float(v) for v in node["pos"].split(","))
    w, h = float(node["width"]) * 36, float(node["height"]) * 36
    return Box(f"stage {node['name']}", x - w, y - h, x + w, y + h)


def _text_box(name: str, ops: Sequence[dict[str, Any]]) -> Box | None:
    """The box around every text run of an ``_ldraw_`` list."""
    size, boxes = 10.0, []
    for op in ops:
        if op["op"] == "F":
            size = float(op["size"])
        elif op["op"] == "T" and op["text"].strip():
            x, y = op["pt"]
            width = float(op["width"])
            left = x - width / 2 if op["align"] == "c" else x - width if op["align"] == "r" else x
            boxes.append((left, y - size * 0.25, left + width, y + size * 0.8))
    if not boxes:
        return None
    return Box(name, min(b[0] for b in boxes), min(b[1] for b in boxes),
               max(b[2] for b in boxes), max(b[3] for b in boxes))


def _curve(edge: dict[str, Any]) -> Iterator[tuple[float, float]]:
    """Points along the edge's drawn Bezier spline."""
    for op in edge.get("_draw_", []):
        if op["op"] not in ("b", "B"):
            continue
        pts = op["points"]
        for i in range(0, len(pts) - 3, 3):
            (x0, y0), (x1, y1), (x2, y2), (x3, y3) = pts[i:i + 4]
            for step in range(_SAMPLES + 1):
                t = step / _SAMPLES
                a, b, c, d = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t ** 3
                yield (a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3)


def layout_problems(layout: dict[str, Any]) -> list[str]:
    """Overlaps and crossings in ``dot -Tjson`` output, one sentence each (empty is good)."""
    objects = layout.get("objects", [])
    nodes = {o["_gvid"]: o for o in objects if "pos" in o and _visible(o)}
    stage_boxes = {gvid: _node_box(n) for gvid, n in nodes.items()}
    edges = [e for e in layout.get("edges", []) if _visible(e)]
    labels: list[tuple[int, Box]] = []
    for index, edge in enumerate(edges):
        box = _text_box(f"label '{edge.get('label') or edge.get('xlabel', '')}'",
                        edge.get("_ldraw_", []))
        if box is not None:
            labels.append((index, box))
    legend = _text_box("the legend", layout.get("_ldraw_", []))
    problems = []
    texts = [box for _, box in labels] + ([legend] if legend else [])
    for i, box in enumerate(texts):
        problems += [f"{box.name} overlaps {other.name}" for other in texts[i + 1:]
                     if box.shrunk(0.5).overlaps(other.shrunk(0.5))]
        problems += [f"{box.name} overlaps {stage.name}" for stage in stage_boxes.values()
                     if box.shrunk(0.5).overlaps(stage)]
    for edge in edges:
        ends = {edge.get("tail"), edge.get("head")}
        points = list(_curve(edge))
        name = f"edge {nodes.get(edge.get('tail'), {}).get('name')} -> " \
               f"{nodes.get(edge.get('head'), {}).get('name')}"
        for gvid, stage in stage_boxes.items():
            if gvid not in ends and any(stage.shrunk(2).contains(*p) for p in points):
                problems.append(f"{name} crosses {stage.name}")
        for _, box in labels + ([(-1, legend)] if legend else []):
            if any(box.shrunk(1).contains(*p) for p in points):
                problems.append(f"{name} crosses {box.name}")
    return problems


def page_scale(layout: dict[str, Any]) -> float:
    """How much the picture must shrink to fit A4 landscape (1 means no shrinking)."""
    x0, y0, x1, y1 = (float(v) for v in layout["bb"].split(","))
    return min(1.0, _PAGE[0] / max(x1 - x0, 1), _PAGE[1] / max(y1 - y0, 1))


def measure(dot_text: str) -> dict[str, Any]:
    """The layout ``dot`` makes of ``dot_text`` (its JSON output)."""
    data: dict[str, Any] = json.loads(_layout_json(dot_text))
    return data


@lru_cache(maxsize=32)
def _layout_json(dot_text: str) -> bytes:
    # One render often lays the same text out twice (choosing rows, then sizing the
    # page); bytes are immutable, so a cached answer cannot be changed by a caller.
    return run_dot(dot_text, "json")


def fit_page(diagram: JourneyDiagram) -> tuple[int | None, dict[str, Any]]:
    """The row width (in layers) that reads best on A4 landscape, and its layout.

    ``None`` means one row. Every row width that needs at most three rows is
    laid out; the fewest layout problems win, then the least shrinking, then
    the fewest rows.
    """
    count = max((s.layer for s in diagram.stages), default=0) + 1
    best: tuple[int, float, int] | None = None
    choice: tuple[int | None, dict[str, Any]] = (None, {})
    for width in range(count, 0, -1):
        rows = rows_needed(count, width)
        if rows > 3:
            break
        columns = width if rows > 1 else None
        layout = measure(export_dot(diagram, columns=columns))
        score = (len(layout_problems(layout)), -page_scale(layout), rows)
        if best is None or score < best:
            best, choice = score, (columns, layout)
    return choice


def page_attributes(layout: dict[str, Any], dpi: int | None = None) -> list[str]:
    """Graph attributes that put ``layout`` on an A4 landscape page, centred, not distorted.

    ``size`` shrinks the picture to the page; ``pad`` (which ``size`` scales
    too) fills the short side so the page keeps A4 proportions.
    """
    x0, y0, x1, y1 = (float(v) for v in layout["bb"].split(","))
    width, height = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    margin = 0.25 * 72 / page_scale(layout)  # a quarter inch on paper, before scaling
    width, height = width + 2 * margin, height + 2 * margin
    target = _PAGE[0] / _PAGE[1]
    pad_x = max(height * target - width, 0) / 2 + margin
    pad_y = max(width / target - height, 0) / 2 + margin
    # "!" scales a small journey up to the page too; margin=0 because PDF adds half an
    # inch of margin otherwise, which would spoil the proportions.
    attrs = [f'size="{_PAGE[0] / 72:g},{_PAGE[1] / 72:g}!"', "margin=0",
             f'pad="{pad_x / 72:.3f},{pad_y / 72:.3f}"']
    return attrs + ([f"dpi={dpi}"] if dpi else [])
