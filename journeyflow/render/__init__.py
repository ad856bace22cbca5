"""Journey maps: the compiled graph becomes a :class:`JourneyDiagram`, then a file.

>>> import journeyflow
>>> from journeyflow.render import build_diagram, export_mermaid
>>> j = journeyflow.loads('journey "j"\\nevent go {}\\nstage a start { on go -> b }\\n'
...                       'stage b final')
>>> export_mermaid(build_diagram(j)).splitlines()[0]
'flowchart LR'
"""

from journeyflow.render.diagram import JourneyDiagram, build_diagram
from journeyflow.render.dot import export_dot
from journeyflow.render.html import export_html
from journeyflow.render.mermaid import export_mermaid
from journeyflow.render.output import FORMATS, Format, format_for, render, render_diagram
from journeyflow.render.stats import SimulationReport, parse_report, read_report

__all__ = [
    "FORMATS",
    "Format",
    "JourneyDiagram",
    "SimulationReport",
    "build_diagram",
    "export_dot",
    "export_html",
    "export_mermaid",
    "format_for",
    "parse_report",
    "read_report",
    "render",
    "render_diagram",
]
