"""The journey map as a Mermaid flowchart, for wikis and pull requests that render Mermaid.

Stages get short ids (``s0``, ``s1`` ...) because Mermaid ids cannot hold every
Unicode word a stage may be called; the stage name is the quoted label. Label
text is escaped with Mermaid's entity codes (``#quot;``, ``#lt;`` ...), so a
guard such as ``amount > 100`` cannot end a label early.

Examples
--------
>>> import journeyflow
>>> from journeyflow.render.diagram import build_diagram
>>> j = journeyflow.loads('journey "j"\\nevent go {}\\nstage a start { on go -> b }\\n'
...                       'stage b final')
>>> print(export_mermaid(build_diagram(j)))  # doctest: +ELLIPSIS
flowchart LR
  start_point(( )) --> s0
  s0["<b>a</b>"]
  s1(["<b>b</b>"])
  s0 -->|"go"| s1
...
"""

from __future__ import annotations

from journeyflow.render.diagram import DiagramEdge, DiagramStage, JourneyDiagram, transitions
from journeyflow.render.dot import PHASE_STYLE

__all__ = ["export_mermaid", "mermaid_text"]

# '#' first: every other code starts with it.
_ENTITIES = (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("&", "#amp;"),
             ("|", "#124;"), ("`", "#96;"))
_EDGE_ARROW = {"after": "-.->", "every": "-.->", "when": "-.->", "at": "-.->"}


def mermaid_text(text: str) -> str:
    """``text`` safe inside a quoted Mermaid label.

    >>> mermaid_text('amount > 100 "x" #1')
    'amount #gt; 100 #quot;x#quot; #35;1'
    """
    for raw, code in _ENTITIES:
        text = text.replace(raw, code)
    return text.replace("\n", " ")


def export_mermaid(diagram: JourneyDiagram) -> str:
    """The map as Mermaid ``flowchart LR`` text, stages in lifecycle order."""
    ids = {stage.name: f"s{i}" for i, stage in enumerate(diagram.stages)}
    out = ["flowchart LR"]
    start = next((s.name for s in diagram.stages if s.kind == "start"), None)
    if start is not None:
        out.append(f"  start_point(( )) --> {ids[start]}")
    out += [f"  {_stage(stage, ids[stage.name])}" for stage in diagram.stages]
    out += [f"  {_edge(edge, ids)}" for edge in diagram.edges]
    out += [f"  {line}" for line in _legend(diagram)]
    for phase, (fill, border, width) in PHASE_STYLE.items():
        dash = ",stroke-dasharray:6 3" if border == "dashed" else ""
        out.append(f"  classDef {phase} fill:{fill},stroke:#222,stroke-width:{width}px{dash}")
    for phase in PHASE_STYLE:
        members = [ids[s.name] for s in diagram.stages if s.phase == phase]
        if members:
            out.append(f"  class {','.join(members)} {phase}")
    return "\n".join(out) + "\n"


def _stage(stage: DiagramStage, node_id: str) -> str:
    lines = [f"<b>{mermaid_text(stage.name)}</b>"]
    lines += [mermaid_text(f"{a.when}: {a.text}") + _sends(a.delivered, a.suppressed)
              for a in stage.actions]
    if stage.counts is not None:
        lines.append(f"{stage.counts.reached:,} reached ({stage.counts.share:.0%}), "
                     f"{stage.counts.at_end:,} at end")
    label = "<br/>".join(lines)
    # A final stage is a stadium, so it stands out without colour.
    return f'{node_id}(["{label}"])' if stage.kind == "final" else f'{node_id}["{label}"]'


def _sends(delivered: int | None, suppressed: int | None) -> str:
    if delivered is None:
        return ""
    text = f" ({delivered:,} sent"
    return text + (f", <b>{suppressed:,} suppressed</b>)" if suppressed else ")")


def _edge(edge: DiagramEdge, ids: dict[str, str]) -> str:
    label = mermaid_text(edge.label)
    if edge.volume is not None:
        share = f", {edge.volume.share:.0%}" if edge.volume.share is not None else ""
        label += f"<br/>{transitions(edge.volume.count)}{share}"
    arrow = _EDGE_ARROW.get(edge.kind, "-->")
    return f'{ids[edge.source]} {arrow}|"{label}"| {ids[edge.target]}'


def _legend(diagram: JourneyDiagram) -> list[str]:
    """``anywhere`` rules as one unconnected box, never as an edge from every stage."""
    if not diagram.anywhere:
        return []
    lines = ["<b>In every stage</b>"]
    for rule in diagram.anywhere:
        text = rule.label + "".join(f" → {t}" for t in rule.targets)
        if rule.actions:
            text += ": " + ", ".join(rule.actions)
        if rule.count is not None:
            text += f" ({transitions(rule.count)})"
        lines.append(mermaid_text(text))
    return [f'anywhere_rules["{"<br/>".join(lines)}"]']
