"""The journey map as one self-contained HTML page: no scripts, fonts or images to fetch.

The page holds the map as inline SVG (laid out by Graphviz), a table of the
stages and one of the rules with their ``file:line``, the ``anywhere`` rules,
and, when a simulation report is given, what a marketer forwards: the figures
at a glance, a funnel chart (inline SVG), goals with the time to reach them,
value per customer, bonuses granted, redeemed and expired, and the sends per
message per customer per week with the suppressed ones marked
(:mod:`~journeyflow.render.report_html`).
"""

from __future__ import annotations

import re
from html import escape

from journeyflow.render.diagram import DiagramStage, JourneyDiagram
from journeyflow.render.dot import PHASE_STYLE, PHASE_TITLE
from journeyflow.render.experiments import experiment_sections
from journeyflow.render.html_parts import row, table
from journeyflow.render.report_html import message_table, report_sections, summary_table

__all__ = ["export_html", "funnel_svg", "inline_svg"]

_PROLOGUE = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5rem; color: #111; }
h1 { font-size: 1.6rem; margin: 0 0 .2rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; }
.file { color: #555; margin: 0 0 1rem; }
figure { margin: 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: .9rem; }
th, td { border: 1px solid #999; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.suppressed { font-weight: bold; text-decoration: underline; color: #8b0000; }
ul { margin: 0; padding-left: 1.1rem; }
@media print { body { margin: 0; } h2 { break-after: avoid; } }
"""


def inline_svg(svg: str) -> str:
    """An SVG document as an element to paste into HTML (no XML prologue or doctype)."""
    return _PROLOGUE.sub("", svg, count=1).strip()


def export_html(diagram: JourneyDiagram, svg: str) -> str:
    """The page for ``diagram``; ``svg`` is the map as Graphviz drew it."""
    title = escape(diagram.name)
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}: journey map</title>", f"<style>{_STYLE}</style>", "</head>",
        "<body>", f"<h1>{title}</h1>", f'<p class="file">{escape(diagram.file)}</p>',
        f'<figure id="map" aria-label="journey map">{inline_svg(svg)}</figure>',
    ]
    report = diagram.report
    if report is not None:
        parts += summary_table(report)
    if diagram.has_stats:
        parts += ["<h2>Funnel</h2>",
                  f"<p>{diagram.customers:,} {diagram.who}. Light bars: customers who "
                  "reached the stage; dark bars: customers still there at the end.</p>",
                  f'<figure id="funnel">{funnel_svg(diagram)}</figure>']
    if report is not None:
        parts += report_sections(report) + experiment_sections(report.experiments)
    parts += _stage_table(diagram) + _rule_table(diagram) + _anywhere_table(diagram)
    if diagram.messages:
        parts += message_table(diagram.messages, report)
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _actions(stage: DiagramStage) -> str:
    items = []
    for line in stage.actions:
        text = f"<i>{escape(line.when)}</i>: {escape(line.text)}"
        if line.delivered is not None:
            text += f" ({line.delivered:,} sent"
            text += (f', <span class="suppressed">{line.suppressed:,} suppressed</span>)'
                     if line.suppressed else ")")
        items.append(f"<li>{text}</li>")
    return f"<ul>{''.join(items)}</ul>" if items else ""


def _stage_table(diagram: JourneyDiagram) -> list[str]:
    heads = ["Stage", "Phase", "Kind", "Actions", "Defined at"]
    if diagram.has_stats:
        heads[4:4] = ["Reached", "At end"]
    rows = []
    for stage in diagram.stages:
        cells = [f"<b>{escape(stage.name)}</b>", PHASE_TITLE[stage.phase], stage.kind,
                 _actions(stage), f"<code>{escape(stage.location)}</code>"]
        if stage.counts is not None:
            cells[4:4] = [f"{stage.counts.reached:,} ({stage.counts.share:.0%})",
                          f"{stage.counts.at_end:,}"]
        rows.append(row(cells, (4, 5) if stage.counts is not None else ()))
    return ["<h2>Stages</h2>", *table("stages", heads, rows)]


def _rule_table(diagram: JourneyDiagram) -> list[str]:
    heads = ["From", "When", "To", "Rule"]
    if diagram.has_stats:
        heads += ["Transitions", "Of the entries into From"]
    rows = []
    for edge in diagram.edges:
        cells = [escape(edge.source), escape(edge.label), escape(edge.target),
                 f"<code>{escape(edge.rule)}</code>"]
        if diagram.has_stats:
            volume = edge.volume
            cells.append(f"{volume.count:,}" if volume else "")
            cells.append(f"{volume.share:.0%}" if volume and volume.share is not None else "")
        rows.append(row(cells, (4, 5)))
    notes = ["<p>A customer who takes a rule again counts again, so a stage's arrows may "
             "add up to more transitions than it has customers.</p>"] if diagram.has_stats \
        else []
    return ["<h2>Rules</h2>", *notes, *table("rules", heads, rows)]


def _anywhere_table(diagram: JourneyDiagram) -> list[str]:
    if not diagram.anywhere:
        return []
    heads = ["When", "To", "Actions", "Rule"] + (["Transitions"] if diagram.has_stats else [])
    rows = []
    for rule in diagram.anywhere:
        cells = [escape(rule.label), escape(", ".join(rule.targets)),
                 escape(", ".join(rule.actions)), f"<code>{escape(rule.rule)}</code>"]
        if diagram.has_stats:
            cells.append(f"{rule.count:,}" if rule.count is not None else "")
        rows.append(row(cells, (4,)))
    return ["<h2>In every stage</h2>", *table("anywhere", heads, rows)]


def funnel_svg(diagram: JourneyDiagram) -> str:
    """Customers per stage as horizontal bars: reached (light) and still there at the end."""
    customers = max(diagram.customers or 0, 1)
    label_w, bar_w, row_h = 170, 560, 30
    height = row_h * len(diagram.stages) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 230}" '
           f'height="{height}" role="img" aria-label="funnel" font-family="Helvetica, Arial" '
           'font-size="13">']
    for i, stage in enumerate(diagram.stages):
        counts = stage.counts
        reached = counts.reached if counts else 0
        at_end = counts.at_end if counts else 0
        y = 5 + i * row_h
        fill, border, _ = PHASE_STYLE[stage.phase]
        dash = ' stroke-dasharray="5 3"' if border == "dashed" else ""
        width = bar_w * min(reached / customers, 1)
        out += [
            f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end">{escape(stage.name)}</text>',
            f'<rect x="{label_w}" y="{y + 3}" width="{width:.1f}" height="{row_h - 8}" '
            f'fill="{fill}" stroke="#222"{dash}/>',
            f'<rect x="{label_w}" y="{y + 9}" width="{bar_w * min(at_end / customers, 1):.1f}" '
            f'height="{row_h - 20}" fill="#333"/>',
            f'<text x="{label_w + width + 8:.1f}" y="{y + 19}">{reached:,} reached · '
            f"{at_end:,} at end</text>",
        ]
    out.append("</svg>")
    return "".join(out)
