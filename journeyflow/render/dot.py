"""The journey map as Graphviz DOT text: deterministic, escaped, readable in grey print.

Stages are written in lifecycle order and edges by (source, target, rule line),
so the same journey always gives the same bytes and a golden file can hold it.
Phases differ in fill *lightness* and in border style, not in hue alone:
acquisition is near white with a thin solid border, retention mid green with a
bold border, win-back dark orange with a dashed border. Timers are drawn as
dashed edges and conditions (``when``/``at``) as dotted ones.

Examples
--------
>>> import journeyflow
>>> from journeyflow.render.diagram import build_diagram
>>> j = journeyflow.loads('journey "j"\\nevent go {}\\nstage a start { on go -> b }\\n'
...                       'stage b final')
>>> text = export_dot(build_diagram(j))
>>> '"a" -> "b"' in text and "rankdir=LR" in text
True
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from html import escape

from journeyflow.render.diagram import (
    ActionLine,
    DiagramEdge,
    DiagramStage,
    JourneyDiagram,
    transitions,
)
from journeyflow.render.layout import Phase, rows_needed, snake

__all__ = ["PHASE_STYLE", "PHASE_TITLE", "START_POINT", "dot_quote", "export_dot", "html_text"]

# fill, border style, border width: the fills print as three clearly different greys.
PHASE_STYLE: dict[Phase, tuple[str, str, float]] = {
    "acquisition": ("#E8F1FB", "solid", 1.2),
    "retention": ("#A9D18E", "solid", 2.6),
    "winback": ("#D9844A", "dashed", 2.2),
}
PHASE_TITLE: dict[Phase, str] = {
    "acquisition": "acquisition", "retention": "retention", "winback": "win-back"}
# A stage name is one word, so a name with a space can never clash with a stage.
START_POINT = "journey start"
_EDGE_STYLE = {"after": "dashed", "every": "dashed", "when": "dotted", "at": "dotted"}
_FONT = "Helvetica"
_ACTION_WIDTH = 26
_EDGE_WIDTH = 15


def dot_quote(text: str) -> str:
    """A DOT double-quoted string: a backslash in ``text`` stays a backslash, a newline breaks
    the line."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def html_text(text: str, width: int | None = None) -> str:
    """Text for an HTML-like label: escaped, and wrapped at ``width`` with ``<BR/>``."""
    lines = textwrap.wrap(text, width, break_long_words=False) if width else [text]
    return '<BR ALIGN="LEFT"/>'.join(escape(line, quote=True) for line in lines or [""])


def export_dot(diagram: JourneyDiagram, columns: int | None = None,
               page: Sequence[str] = ()) -> str:
    """The map as DOT text.

    ``columns`` wraps a long lifecycle into rows of that many layers (see
    :func:`~journeyflow.render.layout.snake`); ``page`` holds extra graph
    attributes such as ``size="11.7,8.3"`` that fit it to paper.
    """
    layers = {s.name: s.layer for s in diagram.stages}
    wrap = columns is not None and rows_needed(max(layers.values(), default=0) + 1, columns) > 1
    grid = snake(layers, columns) if wrap and columns else None
    out = [f"digraph {dot_quote(diagram.name)} {{"]
    out += [f"  {line}" for line in _graph_attributes(diagram)]
    out += [f"  {attribute};" for attribute in page]
    out.append(f"  {dot_quote(START_POINT)} [shape=circle, style=filled, fillcolor=black, "
               'width=0.22, fixedsize=true, label="", tooltip="customers start here"];')
    out += [f"  {_stage(stage, diagram)}" for stage in diagram.stages]
    start = next((s.name for s in diagram.stages if s.kind == "start"), None)
    if start is not None:
        out.append(f"  {dot_quote(START_POINT)} -> {dot_quote(start)} [penwidth=1.5];")
    heaviest = max((e.volume.count for e in diagram.edges if e.volume), default=0)
    labels: list[tuple[int, float, str]] = []  # (column, row position, label node)
    for i, edge in enumerate(diagram.edges):
        if grid is None:
            out.append(f"  {_edge(i, edge, heaviest, edge.back)}")
            continue
        (col, row), (target_col, target_row) = grid[edge.source], grid[edge.target]
        if col == target_col and edge.source != edge.target:
            node = f"label of edge {i}"
            labels.append((col, (row + target_row) / 2, node))
            out += [f"  {line}" for line in _flat_edge(i, edge, heaviest, node,
                                                        upward=target_row < row)]
        else:
            out.append(f"  {_edge(i, edge, heaviest, target_col < col)}")
    if grid is not None:
        out += [f"  {line}" for line in _columns(diagram, grid, labels)]
    out.append("}")
    return "\n".join(out) + "\n"


def _columns(diagram: JourneyDiagram, grid: dict[str, tuple[int, int]],
             labels: list[tuple[int, float, str]]) -> list[str]:
    """Pin each stage to its column; invisible anchors keep the columns in order."""
    count = max(col for col, _ in grid.values()) + 1
    anchors = [dot_quote(f"column {i}") for i in range(count)]
    out = [f"{a} [style=invis, label=\"\", width=0, height=0, fixedsize=true];"
           for a in anchors]
    out.append(" -> ".join(anchors) + " [style=invis];")
    order = {s.name: i for i, s in enumerate(diagram.stages)}
    for col, anchor in enumerate(anchors):
        members = [(float(row), order[n], n) for n, (c, row) in grid.items() if c == col]
        members += [(row, -1, node) for c, row, node in labels if c == col]
        names = [dot_quote(name) for _, _, name in sorted(members)]
        out.append(f"{{rank=same; {anchor}; {' '.join(f'{n};' for n in names)}}}")
        # Invisible edges within the column keep the rows top to bottom.
        out.append(" -> ".join([anchor, *names]) + " [style=invis];")
    return out


def _graph_attributes(diagram: JourneyDiagram) -> list[str]:
    return [
        "rankdir=LR;", "newrank=true;", "nodesep=0.3;", "ranksep=0.3;",
        f'fontname="{_FONT}";', 'labelloc="b";', 'labeljust="l";',
        f"label=<{_legend(diagram)}>;",
        f'node [fontname="{_FONT}", fontsize=11, shape=box, margin="0.08,0.05"];',
        f'edge [fontname="{_FONT}", fontsize=10, color="#333333", fontcolor="#222222", '
        'arrowsize=0.8];',
    ]


def _stage(stage: DiagramStage, diagram: JourneyDiagram) -> str:
    fill, border, width = PHASE_STYLE[stage.phase]
    style = ["filled", "rounded"] + ([border] if border != "solid" else [])
    attrs = [
        f"id={dot_quote('stage-' + stage.name)}",
        f"label=<{_stage_label(stage, diagram)}>",
        f'style="{",".join(style)}"', f'fillcolor="{fill}"', f"penwidth={width}",
        f"tooltip={dot_quote(f'{stage.name} ({stage.phase}), {stage.location}')}",
    ]
    if stage.kind == "final":
        attrs.append("peripheries=2")
    return f"{dot_quote(stage.name)} [{', '.join(attrs)}];"


def _stage_label(stage: DiagramStage, diagram: JourneyDiagram) -> str:
    rows = [f'<TR><TD COLSPAN="2"><FONT POINT-SIZE="14"><B>{html_text(stage.name)}</B></FONT>'
            f"{_kind_words(stage)}</TD></TR>"]
    previous = None
    for line in stage.actions:
        # Graphviz rejects an empty <I></I>, so a repeated heading is a bare empty cell.
        when = "" if line.when == previous else f"<I>{html_text(line.when, 16)}</I>"
        previous = line.when
        rows.append(f'<TR><TD ALIGN="LEFT" BALIGN="LEFT" VALIGN="TOP">{when}</TD>'
                    f'<TD ALIGN="LEFT" BALIGN="LEFT">{_action(line)}</TD></TR>')
    if stage.counts is not None and diagram.customers is not None:
        c = stage.counts
        rows.append(f'<TR><TD COLSPAN="2"><B>{c.reached:,} reached ({c.share:.0%})</B>'
                    f" · {c.at_end:,} at end</TD></TR>")
    return f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">{"".join(rows)}' \
           "</TABLE>"


def _kind_words(stage: DiagramStage) -> str:
    if stage.kind == "normal":
        return ""
    return f'<BR/><FONT POINT-SIZE="9"><I>{stage.kind} stage</I></FONT>'


def _action(line: ActionLine) -> str:
    text = html_text(line.text, _ACTION_WIDTH)
    if line.delivered is None:
        return text
    text += f'<BR ALIGN="LEFT"/><FONT POINT-SIZE="9">{line.delivered:,} sent</FONT>'
    if line.suppressed:
        # Bold and underlined, so a grey print still shows the warning.
        text += f' <FONT POINT-SIZE="9" COLOR="#8B0000"><B><U>{line.suppressed:,} ' \
                "suppressed</U></B></FONT>"
    return text


def _edge_label(edge: DiagramEdge) -> str:
    lines = textwrap.wrap(edge.label, _EDGE_WIDTH, break_long_words=False) or [""]
    if edge.volume is not None:
        share = f" ({edge.volume.share:.0%})" if edge.volume.share is not None else ""
        lines.append(f"{transitions(edge.volume.count)}{share}")
    return "\n".join(lines)


def _edge_style(edge: DiagramEdge, heaviest: int) -> list[str]:
    attrs = [f"style={_EDGE_STYLE[edge.kind]}"] if edge.kind in _EDGE_STYLE else []
    if edge.volume is not None and heaviest:
        attrs.append(f"penwidth={1 + 5 * edge.volume.count / heaviest:.2f}")
    return attrs


def _edge(index: int, edge: DiagramEdge, heaviest: int, backwards: bool) -> str:
    attrs = [f"id={dot_quote(f'edge-{index}')}", f"label={dot_quote(_edge_label(edge))}",
             f"tooltip={dot_quote(f'{edge.label} ({edge.rule})')}", *_edge_style(edge, heaviest)]
    source, target = dot_quote(edge.source), dot_quote(edge.target)
    if backwards:
        # Written the other way round with dir=back: ranks follow the lifecycle, and the
        # arrow still points where customers go.
        attrs.append("dir=back")
        return f"{target} -> {source} [{', '.join(attrs)}];"
    return f"{source} -> {target} [{', '.join(attrs)}];"


def _flat_edge(index: int, edge: DiagramEdge, heaviest: int, node: str,
               upward: bool) -> list[str]:
    """An edge within one column, drawn through its label as a node of its own.

    Graphviz places the label of such an edge on top of the line; as a node
    the label gets its own space, and the line stops on either side of it.
    Both halves are written top to bottom, the order the column keeps.
    """
    tooltip = dot_quote(f"{edge.label} ({edge.rule})")
    style = ", ".join(_edge_style(edge, heaviest))
    style = f", {style}" if style else ""
    label, source, target = dot_quote(node), dot_quote(edge.source), dot_quote(edge.target)
    top, bottom = (target, source) if upward else (source, target)
    first, second = ("dir=back", "dir=none") if upward else ("dir=none", "dir=forward")
    return [
        f"{label} [shape=plaintext, id={dot_quote(f'edge-{index}-label')}, "
        f'label={dot_quote(_edge_label(edge))}, fontsize=10, fontcolor="#222222", '
        f'margin="0.04,0.02", tooltip={tooltip}];',
        f"{top} -> {label} [id={dot_quote(f'edge-{index}-a')}, {first}{style}, "
        f"tooltip={tooltip}];",
        f"{label} -> {bottom} [id={dot_quote(f'edge-{index}')}, {second}{style}, "
        f"tooltip={tooltip}];",
    ]


def _legend(diagram: JourneyDiagram) -> str:
    """The graph label: title, phase key and the rules that apply in every stage."""
    cells = "".join(f'<TD BGCOLOR="{PHASE_STYLE[p][0]}" BORDER="1" STYLE="{PHASE_STYLE[p][1]}">'
                    f"{PHASE_TITLE[p]}</TD>" for p in PHASE_STYLE)
    rows = [f'<TR><TD ALIGN="LEFT" COLSPAN="3"><FONT POINT-SIZE="15"><B>'
            f"{html_text(diagram.name)}</B></FONT></TD></TR>",
            f"<TR>{cells}</TR>"]
    if diagram.has_stats:
        rows.append(f'<TR><TD ALIGN="LEFT" COLSPAN="3">{diagram.customers:,} {diagram.who}'
                    "; on each arrow the transitions along it and their share of "
                    "the entries into the stage it leaves; width shows volume</TD></TR>")
    if diagram.anywhere:
        rows.append('<TR><TD ALIGN="LEFT" COLSPAN="3"><B>In every stage:</B></TD></TR>')
    for rule in diagram.anywhere:
        text = rule.label + "".join(f" → {t}" for t in rule.targets)
        if rule.actions:
            text += ": " + ", ".join(rule.actions)
        if rule.count is not None:
            text += f" ({transitions(rule.count)})"
        rows.append(f'<TR><TD ALIGN="LEFT" COLSPAN="3" BALIGN="LEFT">{html_text(text, 70)}'
                    "</TD></TR>")
    return f'<TABLE BORDER="0" CELLSPACING="4" CELLPADDING="3">{"".join(rows)}</TABLE>'
