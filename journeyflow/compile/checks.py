"""Graph checks that warn (exit 0): the journey compiles but may not do what is meant.

Each check is a function of the compiled graph or model returning a collection,
named as a noun (``unreachable_stages``), so tools can call them one by one.
"""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx

from journeyflow.compile.context import CompileContext
from journeyflow.errors import Span
from journeyflow.model import journey as m
from journeyflow.syntax import ast as a

__all__ = [
    "dead_end_stages",
    "run_graph_checks",
    "shadowed_rules",
    "unreachable_stages",
    "unsent_messages",
    "when_cycles",
]


def unreachable_stages(graph: nx.MultiDiGraph[str]) -> list[str]:
    """Stages no customer can reach from the start stage (or through ``anywhere``).

    Examples
    --------
    >>> g = nx.MultiDiGraph(anywhere=[])
    >>> g.add_node("a", start=True); g.add_node("b", start=False)
    >>> unreachable_stages(g)
    ['b']
    """
    roots = {n for n, start in graph.nodes(data="start") if start}
    for rule in graph.graph.get("anywhere", []):
        roots.update(t for t in rule["targets"] if t in graph)
    reached = set(roots)
    for root in roots:
        reached |= nx.descendants(graph, root)
    return [n for n in graph.nodes if n not in reached]


def dead_end_stages(graph: nx.MultiDiGraph[str]) -> list[str]:
    """Stages that are not final but have no way out: customers stay there for good."""
    if any(rule["targets"] for rule in graph.graph.get("anywhere", [])):
        return []
    return [n for n, final in graph.nodes(data="final")
            if not final and not any(t != n for _, t in graph.out_edges(n))]


def when_cycles(graph: nx.MultiDiGraph[str]) -> list[list[str]]:
    """Cycles made only of ``when`` rules, pass-throughs and ``on enter`` targets: one step
    may loop through them. Each cycle is given in the order a customer walks it, starting
    at its first stage by name, so the warning names a loop that exists.

    >>> g = nx.MultiDiGraph()
    >>> g.add_edge("b", "c", kind="when"); g.add_edge("c", "a", kind="pass")
    0
    0
    >>> g.add_edge("a", "b", kind="enter")
    0
    >>> when_cycles(g)
    [['a', 'b', 'c']]
    """
    instant: nx.DiGraph[str] = nx.DiGraph()
    for u, v, data in graph.edges(data=True):
        if data.get("kind") in ("when", "pass", "enter"):
            instant.add_edge(u, v)
    walks = []
    for cycle in nx.simple_cycles(instant):
        first = cycle.index(min(cycle))
        walks.append(cycle[first:] + cycle[:first])
    return sorted(walks)


def shadowed_rules(model: m.JourneyModel) -> Iterator[tuple[m.Rule, m.Rule]]:
    """(shadowed, shadowing): a rule that can never run because an earlier one always matches."""
    for stage in model.stages.values():
        unconditional: dict[str, m.Rule] = {}
        for rule in stage.rules:
            key = _match_key(rule)
            if key is None:
                continue
            if key in unconditional:
                yield rule, unconditional[key]
            elif rule.guard is None and (rule.trigger.kind != "when"):
                unconditional[key] = rule


def _match_key(rule: m.Rule) -> str | None:
    trig = rule.trigger
    if trig.kind == "on":
        return f"on {trig.event}"
    if trig.kind in ("pass", "when"):
        return "instant"
    return None


def unsent_messages(model: m.JourneyModel) -> list[str]:
    """Messages that no rule sends or offers."""
    used: set[str] = set()

    def walk(body: tuple[m.Action, ...]) -> None:
        for action in body:
            if isinstance(action, m.Send | m.Offer):
                used.add(action.message)
            elif isinstance(action, m.Delayed):
                walk(action.body)
            elif isinstance(action, m.IfAction):
                walk(action.then)
                walk(action.orelse)
            elif isinstance(action, m.Split):
                for arm in action.arms:
                    walk(arm.body)

    for rule in [*model.anywhere, *(r for s in model.stages.values() for r in s.rules)]:
        walk(rule.body)
    return [name for name in model.messages if name not in used]


def run_graph_checks(ctx: CompileContext, file: a.JourneyFile, model: m.JourneyModel,
                     graph: nx.MultiDiGraph[str]) -> None:
    stage_spans = {d.name.name: d.name.span for d in file.decls if isinstance(d, a.StageDecl)}
    message_spans = {d.name.name: d.name.span for d in file.decls
                     if isinstance(d, a.MessageDecl)}
    trigger_spans = {(r.trigger.span.line, r.trigger.span.col): r.trigger.span
                     for d in file.decls if isinstance(d, a.StageDecl) for r in d.rules}
    for name in unreachable_stages(graph):
        ctx.sink.warning("JF601", f"stage '{name}' can never be reached", stage_spans[name],
                         "no rule moves a customer here")
    for name in dead_end_stages(graph):
        ctx.sink.warning("JF602", f"stage '{name}' is a dead end: it is not final and no rule "
                         "leaves it", stage_spans[name], "mark it final, or add a rule with '->'")
    for rule, earlier in shadowed_rules(model):
        ctx.sink.warning("JF603", f"this rule never runs: the rule on line {earlier.location.line}"
                         " always matches first",
                         trigger_spans.get((rule.location.line, rule.location.col),
                                           _span_at(rule.location)),
                         "add a 'where' condition to the earlier rule, or swap them")
    for cycle in when_cycles(graph):
        ctx.sink.warning("JF604", "these stages can move a customer in a loop within one step: "
                         + " -> ".join([*cycle, cycle[0]]), stage_spans[cycle[0]],
                         "make sure their conditions cannot all be true at once; customers "
                         "who loop are parked after 100 transitions")
    for name in unsent_messages(model):
        ctx.sink.warning("JF605", f"message '{name}' is never sent", message_spans[name],
                         f"send it from a rule (send {name}), or remove it")


def _span_at(location: m.Location) -> Span:
    return Span.point(location.line, location.col)
