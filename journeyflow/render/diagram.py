"""The journey map as plain frozen data, between the compiled graph and the backends.

:func:`build_diagram` reads the compiled journey once (stages, edges and
``anywhere`` rules from its graph; action wording from its model) and every
backend (DOT, Mermaid, HTML) only reads the :class:`JourneyDiagram` it returns,
so all formats show the same words in the same order and none can change the
journey.

Examples
--------
>>> import journeyflow
>>> j = journeyflow.loads('journey "j"\\nevent go {}\\nmessage hi via email { subject "x" }\\n'
...     'stage a start { on enter { send hi } on go -> b }\\nstage b final')
>>> d = build_diagram(j)
>>> [(s.name, s.kind, s.layer) for s in d.stages]
[('a', 'start', 0), ('b', 'final', 1)]
>>> d.stages[0].actions[0].text, d.edges[0].label
('hi mail', 'go')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import networkx as nx

from journeyflow.compile.graph import trigger_label
from journeyflow.errors import JourneyError
from journeyflow.journey import Journey
from journeyflow.model import journey as m
from journeyflow.render import layout
from journeyflow.render.stats import MessageStats, SimulationReport, StageStats, check_report
from journeyflow.render.words import action_texts, expression_words, trigger_words

__all__ = ["ActionLine", "DiagramEdge", "DiagramStage", "EdgeVolume", "JourneyDiagram",
           "LegendRule", "StageCounts", "StageKind", "build_diagram", "transitions"]

# What a stage shows of a simulation: the report's own per-stage figures.
StageCounts = StageStats

StageKind = Literal["start", "final", "normal"]


@dataclass(frozen=True, slots=True)
class ActionLine:
    """One thing a stage does: ``when`` it happens ("on entry") and ``text`` ("welcome mail")."""

    when: str
    text: str
    messages: tuple[str, ...] = ()
    delivered: int | None = None
    suppressed: int | None = None


@dataclass(frozen=True, slots=True)
class DiagramStage:
    """A stage box on the map."""

    name: str
    kind: StageKind
    phase: layout.Phase
    layer: int
    location: str
    actions: tuple[ActionLine, ...] = ()
    counts: StageCounts | None = None


@dataclass(frozen=True, slots=True)
class EdgeVolume:
    """Simulated transitions along an edge (a customer who loops counts each time);
    ``share`` is of the entries into its source stage, so it never passes 100%."""

    count: int
    share: float | None


@dataclass(frozen=True, slots=True)
class DiagramEdge:
    """A way from one stage to another; ``back`` when it points against lifecycle order."""

    source: str
    target: str
    label: str
    kind: str
    rule: str
    back: bool = False
    split: float | None = None
    volume: EdgeVolume | None = None


@dataclass(frozen=True, slots=True)
class LegendRule:
    """An ``anywhere`` rule: listed once in the legend, never drawn from every stage."""

    label: str
    targets: tuple[str, ...]
    actions: tuple[str, ...]
    rule: str
    count: int | None = None


@dataclass(frozen=True)
class JourneyDiagram:
    """Everything a backend draws, stages in lifecycle order, edges in stage order."""

    name: str
    file: str
    stages: tuple[DiagramStage, ...]
    edges: tuple[DiagramEdge, ...]
    anywhere: tuple[LegendRule, ...] = ()
    customers: int | None = None
    messages: tuple[MessageStats, ...] = ()
    report: SimulationReport | None = None  # all of it, for the HTML page

    @property
    def has_stats(self) -> bool:
        return self.customers is not None

    @property
    def who(self) -> str:
        """Whose figures the map shows: a forecast's, or a store's real customers."""
        live = self.report is not None and self.report.live
        return "customers in the store" if live else "simulated customers"

    def stage(self, name: str) -> DiagramStage:
        """The stage called ``name`` (``KeyError`` when there is none)."""
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)


def build_diagram(journey: Journey, report: SimulationReport | None = None,
                  report_name: str = "stats report") -> JourneyDiagram:
    """The map of ``journey``, overlaid with ``report`` when one is given.

    Raises
    ------
    JourneyError
        When ``report`` names stages, messages or transitions the journey does not have.
    """
    model, graph = journey.model, journey.graph
    goal_events = [g.event for g in model.goals.values() if g.event]
    phase = layout.phases(graph, goal_events)
    back = layout.back_edges(graph, phase)
    layer = layout.layers(graph, back)
    file_order = {name: i for i, name in enumerate(model.stages)}
    names = sorted(model.stages, key=lambda s: (layer[s], file_order[s]))
    stages = tuple(_stage(model.stages[n], graph, phase[n], layer[n], model) for n in names)
    position = {s.name: i for i, s in enumerate(stages)}
    edges = sorted((_edge(graph, s, t, data, back, model) for s, t, data in
                    graph.edges(data=True)),
                   key=lambda e: (position[e.source], position[e.target], _line(e.rule)))
    diagram = JourneyDiagram(model.name, journey.file, stages, tuple(edges),
                             tuple(_legend(rule, model) for rule in model.anywhere))
    if report is None:
        return diagram
    check_report(report, report_name, model.stages, model.messages)
    return _overlay(diagram, report, report_name)


def transitions(count: int) -> str:
    """A count of transitions as words: ``1 transition``, ``1,250 transitions``."""
    return f"{count:,} transition{'' if count == 1 else 's'}"


def _line(rule: str) -> int:
    line = rule.rpartition(":")[2]
    return int(line) if line.isdigit() else 0


def _stage(stage: m.Stage, graph: nx.MultiDiGraph[str], phase: layout.Phase, layer: int,
           model: m.JourneyModel) -> DiagramStage:
    kind: StageKind = "start" if stage.start else "final" if stage.final else "normal"
    lines = []
    for rule in stage.rules:
        when = _rule_words(rule)
        lines += [ActionLine(when, a.text, a.messages)
                  for a in action_texts(rule.body, model.messages)]
    return DiagramStage(stage.name, kind, phase, layer, str(graph.nodes[stage.name]["location"]),
                        tuple(lines))


def _rule_words(rule: m.Rule) -> str:
    """The trigger and guard of a rule, e.g. ``support_ticket, rating <= 2``."""
    return _with_guard(rule.trigger.kind, trigger_words(rule.trigger),
                       rule.guard.source if rule.guard else None)


def _with_guard(kind: str, words: str, guard: str | None) -> str:
    if not guard:
        return words
    # An event reads as "purchased, amount > 100"; a timer needs the "if".
    joiner = ", " if kind == "on" else ", if " if kind != "pass" else "if "
    return f"{words if kind != 'pass' else ''}{joiner}{expression_words(guard)}"


def _rule_for(source: str, data: Mapping[str, Any], model: m.JourneyModel) -> m.Rule | None:
    candidates = [r for r in model.stages[source].rules if str(r.location) == data["rule"]]
    if len(candidates) > 1:  # two rules on one line: tell them apart by trigger
        candidates = [r for r in candidates if trigger_label(r.trigger) == data["trigger"]]
    return candidates[0] if candidates else None


def _edge(graph: nx.MultiDiGraph[str], source: str, target: str, data: Mapping[str, Any],
          back: set[tuple[str, str]], model: m.JourneyModel) -> DiagramEdge:
    rule = _rule_for(source, data, model)
    words = trigger_words(rule.trigger) if rule else str(data["trigger"])
    label = _with_guard(str(data["kind"]), words, data.get("guard"))
    split = data.get("share")
    if split is not None:
        label = f"{label}, {split:g}% split" if label != "immediately" else f"{split:g}% split"
    return DiagramEdge(source, target, label, str(data["kind"]), str(data["rule"]),
                       (source, target) in back, split)


def _legend(rule: m.Rule, model: m.JourneyModel) -> LegendRule:
    targets: list[str] = [rule.target] if rule.target else []
    targets += [a.stage for a in rule.body if isinstance(a, m.Goto)]
    return LegendRule(_rule_words(rule), tuple(targets),
                      tuple(a.text for a in action_texts(rule.body, model.messages)),
                      str(rule.location))


def _overlay(diagram: JourneyDiagram, report: SimulationReport, where: str) -> JourneyDiagram:
    """Copy ``diagram`` with the report's numbers on stages, edges, sends and the legend."""
    edge_counts = [0] * len(diagram.edges)
    legend_counts = [0] * len(diagram.anywhere)
    for t in report.transitions:
        index = _match_edge(diagram.edges, t.source, t.target, t.rule, exact=True)
        legend = next((i for i, r in enumerate(diagram.anywhere) if r.rule == t.rule), None)
        if index is None and legend is None:
            index = _match_edge(diagram.edges, t.source, t.target, t.rule, exact=False)
        if index is not None:
            edge_counts[index] += t.count
        elif legend is not None:
            legend_counts[legend] += t.count
        else:
            raise JourneyError(f"{where}: no rule of the journey moves customers from "
                               f"'{t.source}' to '{t.target}' ({t.rule})")
    entries = _entries(diagram, report)
    edges = tuple(replace(e, volume=EdgeVolume(c, c / entries[e.source]
                                               if entries[e.source] else None))
                  for e, c in zip(diagram.edges, edge_counts, strict=True))
    stages = tuple(replace(s, counts=_counts(report, s.name),
                           actions=tuple(_sends(a, report.messages) for a in s.actions))
                   for s in diagram.stages)
    # A rule that moves no one (a counter, say) has no count to show.
    anywhere = tuple(replace(r, count=c if r.targets else None)
                     for r, c in zip(diagram.anywhere, legend_counts, strict=True))
    messages = tuple(report.messages[n] for n in sorted(report.messages))
    return replace(diagram, stages=stages, edges=edges, anywhere=anywhere,
                   customers=report.customers, messages=messages, report=report)


def _entries(diagram: JourneyDiagram, report: SimulationReport) -> dict[str, int]:
    """How often customers entered each stage: every customer enters the start stage on
    arrival, and every transition enters its target."""
    entries = {s.name: report.customers if s.kind == "start" else 0 for s in diagram.stages}
    for t in report.transitions:
        entries[t.target] += t.count
    return entries


def _match_edge(edges: Iterable[DiagramEdge], source: str, target: str, rule: str,
                exact: bool) -> int | None:
    pairs = [(i, e) for i, e in enumerate(edges) if (e.source, e.target) == (source, target)]
    if exact:
        return next((i for i, e in pairs if e.rule == rule), None)
    # A report from a slightly edited file still maps when only one rule joins the stages.
    return pairs[0][0] if len(pairs) == 1 else None


def _counts(report: SimulationReport, name: str) -> StageCounts:
    stats = report.stages.get(name)
    return stats if stats is not None else StageCounts(0, 0.0, 0)


def _sends(line: ActionLine, messages: Mapping[str, MessageStats]) -> ActionLine:
    known = [messages[n] for n in line.messages if n in messages]
    if not known:
        return line
    return replace(line, delivered=sum(s.delivered for s in known),
                   suppressed=sum(s.suppressed for s in known))
