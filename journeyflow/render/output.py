"""One entry point for every format: a compiled journey in, the file's bytes out.

``dot`` and ``mermaid`` are plain text and need nothing installed. ``svg``,
``png``, ``pdf`` and ``html`` are laid out by Graphviz ``dot``; a long lifecycle
is wrapped into rows (:func:`~journeyflow.render.legibility.fit_page`) and PNG
and PDF are sized for an A4 landscape page.

Examples
--------
>>> format_for("map.mmd"), format_for("map.svg", "png")
('mermaid', 'png')
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from journeyflow.errors import JourneyError
from journeyflow.journey import Journey
from journeyflow.render.diagram import JourneyDiagram, build_diagram
from journeyflow.render.dot import export_dot
from journeyflow.render.engine import require_dot, run_dot
from journeyflow.render.html import export_html
from journeyflow.render.legibility import fit_page, measure, page_attributes
from journeyflow.render.mermaid import export_mermaid
from journeyflow.render.stats import SimulationReport

__all__ = ["FORMATS", "Format", "SUFFIXES", "format_for", "render", "render_diagram"]

Format = Literal["svg", "png", "pdf", "dot", "mermaid", "html"]
FORMATS: tuple[Format, ...] = get_args(Format)
SUFFIXES: dict[str, Format] = {
    ".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot",
    ".mmd": "mermaid", ".mermaid": "mermaid", ".html": "html", ".htm": "html",
}


def format_for(out: str, given: str | None = None) -> Format:
    """The format to write: ``given`` when there is one, else the one ``out``'s suffix names."""
    if given is not None:
        if given not in FORMATS:
            raise JourneyError(f"unknown format '{given}'; choose one of {', '.join(FORMATS)}")
        return given
    suffix = Path(out).suffix.lower()
    if suffix not in SUFFIXES:
        known = ", ".join(sorted(SUFFIXES))
        raise JourneyError(f"cannot tell the format from '{out}'; give --format or use one of "
                           f"the suffixes {known}")
    return SUFFIXES[suffix]


def render(journey: Journey, fmt: Format, report: SimulationReport | None = None,
           report_name: str = "stats report", columns: int | None = None) -> bytes:
    """``journey`` drawn in ``fmt``, with ``report``'s numbers when one is given."""
    return render_diagram(build_diagram(journey, report, report_name), fmt, columns)


def render_diagram(diagram: JourneyDiagram, fmt: Format, columns: int | None = None) -> bytes:
    """A built diagram drawn in ``fmt``; ``columns`` fixes the row width in layers."""
    if fmt == "dot":
        return export_dot(diagram, columns=columns).encode("utf-8")
    if fmt == "mermaid":
        return export_mermaid(diagram).encode("utf-8")
    require_dot()  # before any layout work, so the message is the install hint
    if columns is None:
        wrap, layout = fit_page(diagram)
    else:
        wrap, layout = columns, measure(export_dot(diagram, columns=columns))
    if fmt in ("png", "pdf"):
        # 150 dpi makes an A4 PNG of 1755 x 1245 pixels; PDF is vector and needs none.
        page = page_attributes(layout, dpi=150 if fmt == "png" else None)
        return run_dot(export_dot(diagram, columns=wrap, page=page), fmt)
    svg = run_dot(export_dot(diagram, columns=wrap), "svg").decode("utf-8")
    if fmt == "svg":
        return svg.encode("utf-8")
    return export_html(diagram, svg).encode("utf-8")
