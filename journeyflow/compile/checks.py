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
    "cancelled_delays",
    "dead_end_stages",
    "run_graph_checks",
    "shadowed_rules",
    "unhandled_reminders",
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


def _rules(file: a.JourneyFile) -> Iterator[a.Rule]:
    for decl in file.decls:
        if isinstance(decl, a.StageDecl | a.AnywhereDecl):
            yield from decl.rules


def _inner(stmt: a.Stmt) -> Iterator[a.Block]:
    """The blocks directly inside one statement."""
    if isinstance(stmt, a.Delayed):
        yield stmt.block
    elif isinstance(stmt, a.If):
        yield stmt.then
        if isinstance(stmt.orelse, a.If):
            yield from _inner(stmt.orelse)
        elif stmt.orelse is not None:
            yield stmt.orelse
    elif isinstance(stmt, a.Split):
        yield from (arm.block for arm in stmt.arms)


def _within(stmts: tuple[a.Stmt, ...]) -> Iterator[a.Stmt]:
    """Every statement of ``stmts``, nested ones included, in source order."""
    for stmt in stmts:
        yield stmt
        for block in _inner(stmt):
            yield from _within(block.stmts)


def _blocks(stmts: tuple[a.Stmt, ...]) -> Iterator[tuple[a.Stmt, ...]]:
    """``stmts`` and every statement list nested in them."""
    yield stmts
    for stmt in stmts:
        for block in _inner(stmt):
            yield from _blocks(block.stmts)


def _body(rule: a.Rule) -> tuple[a.Stmt, ...]:
    return rule.block.stmts if rule.block is not None else ()


def cancelled_delays(file: a.JourneyFile) -> list[tuple[a.Delayed, a.Goto]]:
    """Delayed statements that a later ``-> STAGE`` of the same block cancels at once.

    The move leaves the stage the statements were scheduled in, and leaving a stage
    cancels its delayed statements, so they can never run on that path.
    """
    found = []
    for rule in _rules(file):
        for stmts in _blocks(_body(rule)):
            for i, stmt in enumerate(stmts):
                if isinstance(stmt, a.Delayed):
                    move = next((later for later in _within(stmts[i + 1:])
                                 if isinstance(later, a.Goto)), None)
                    if move is not None:
                        found.append((stmt, move))
    return found


def unhandled_reminders(file: a.JourneyFile) -> list[a.Grant]:
    """Bonus grants with ``remind ... before`` in a journey with no ``on bonus_expiring``
    rule: the reminder comes due and nothing happens."""
    handled = any(rule.trigger.kind == "on" and rule.trigger.event is not None
                  and rule.trigger.event.name == "bonus_expiring" for rule in _rules(file))
    if handled:
        return []
    return [stmt for rule in _rules(file) for stmt in _within(_body(rule))
            if isinstance(stmt, a.Grant) and stmt.remind is not None]


def run_block_checks(ctx: CompileContext, file: a.JourneyFile) -> None:
    """Warnings about statements that compile but cannot do what they say."""
    for delayed, move in cancelled_delays(file):
        ctx.sink.warning("JF620", "these delayed statements never run: the '-> "
                         f"{move.stage.name}' on line {move.span.line} leaves the stage first, "
                         "which cancels them", delayed.span,
                         "move the customer with the rule's own target (on EVENT -> STAGE "
                         "{ ... }): delayed statements in its block belong to the new stage")
    for grant in unhandled_reminders(file):
        assert grant.remind is not None
        ctx.sink.warning("JF621", f"the reminder for bonus '{grant.bonus.name}' is never "
                         "handled: no rule reacts to 'bonus_expiring'", grant.remind.span,
                         "add a rule such as: anywhere { on bonus_expiring where event.bonus == "
                         f"\"{grant.bonus.name}\" {{ send ... }} }}, or drop 'remind ... before'")


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
    run_block_checks(ctx, file)
    for name in unsent_messages(model):
        ctx.sink.warning("JF605", f"message '{name}' is never sent", message_spans[name],
                         f"send it from a rule (send {name}), or remove it")


def _span_at(location: m.Location) -> Span:
    return Span.point(location.line, location.col)
