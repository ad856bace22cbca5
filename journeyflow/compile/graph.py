"""The journey as a networkx ``MultiDiGraph``: a node per stage, an edge per transition.

The graph is for checks, layout and export; the interpreter compiles the
model into flat dispatch tables instead of walking the graph per event.
"""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx

from journeyflow.model import journey as m

__all__ = ["action_summary", "build_graph", "trigger_label", "transitions"]


def trigger_label(trigger: m.Trigger) -> str:
    """The trigger as the file says it, e.g. ``after 60d without purchased``."""
    kind = trigger.kind
    if kind == "on":
        return f"on {trigger.event}"
    if kind in ("enter", "exit"):
        return f"on {kind}"
    if kind in ("after", "every"):
        text = f"{kind} {format_timedelta(trigger.duration)}"
        return text + (f" without {trigger.without}" if trigger.without else "")
    if kind in ("at", "when"):
        return f"{kind} {trigger.expr.source if trigger.expr else ''}"
    return "->"


def format_timedelta(value: object) -> str:
    from datetime import timedelta

    assert isinstance(value, timedelta)
    seconds = int(value.total_seconds())
    parts = []
    # Days, not weeks: marketers write 14d and 180d.
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0m"


def action_summary(action: m.Action) -> str:  # noqa: C901 - one line per action kind
    """A short line for an action, as a journey map shows it."""
    if isinstance(action, m.Send):
        return f"send {action.message}"
    if isinstance(action, m.Offer):
        return f"offer {action.offer} \"{action.item}\" via {action.message}"
    if isinstance(action, m.GrantBonus):
        text = f"bonus {action.bonus} {action.value_text} for {format_timedelta(action.expires)}"
        return text + (f", remind {format_timedelta(action.remind)} before" if action.remind
                       else "")
    if isinstance(action, m.RedeemBonus):
        return f"redeem bonus {action.bonus}"
    if isinstance(action, m.SetAttribute):
        return f"set {action.attribute} {action.op} {action.value.source}"
    if isinstance(action, m.TagAction):
        return f"{action.kind} \"{action.tag}\""
    if isinstance(action, m.Emit):
        return f"emit {action.event}"
    if isinstance(action, m.Notify):
        return f"notify {action.handler}"
    if isinstance(action, m.Delayed):
        inner = "; ".join(action_summary(x) for x in action.body)
        when = (f"at {action.at.source}" if action.at is not None
                else f"after {format_timedelta(action.after)}")
        return f"{when}{action.unless_text}: {inner}"
    if isinstance(action, m.IfAction):
        then = "; ".join(action_summary(x) for x in action.then)
        return f"if {action.condition.source}: {then}"
    if isinstance(action, m.Split):
        name = f'"{action.name}" ' if action.name is not None else ""
        return f"split {name}" + " / ".join(
            (f"{arm.label} " if arm.label is not None else "") + f"{arm.share:g}%"
            for arm in action.arms)
    return f"-> {action.stage}"


def transitions(rule: m.Rule) -> Iterator[tuple[str, float | None, str | None]]:
    """(target, split share, condition) for every way ``rule`` can move a customer."""
    if rule.target is not None:
        yield rule.target, None, None
    yield from _body_transitions(rule.body, None, None)


def _body_transitions(body: tuple[m.Action, ...], share: float | None,
                      cond: str | None) -> Iterator[tuple[str, float | None, str | None]]:
    for action in body:
        if isinstance(action, m.Goto):
            yield action.stage, share, cond
        elif isinstance(action, m.IfAction):
            yield from _body_transitions(action.then, share, action.condition.source)
            yield from _body_transitions(action.orelse, share,
                                         f"not ({action.condition.source})")
        elif isinstance(action, m.Split):
            for arm in action.arms:
                yield from _body_transitions(arm.body, arm.share, cond)
        elif isinstance(action, m.Delayed):
            yield from _body_transitions(action.body, share, cond)


def build_graph(model: m.JourneyModel) -> nx.MultiDiGraph[str]:
    """Nodes are stage names; each edge carries trigger, guard, share and rule.

    Examples
    --------
    >>> import journeyflow
    >>> j = journeyflow.loads('journey "j"\\nevent go {}\\n'
    ...     'stage a start { on go -> b }\\nstage b final')
    >>> sorted(j.graph.edges(data="trigger"))
    [('a', 'b', 'on go')]
    """
    graph: nx.MultiDiGraph[str] = nx.MultiDiGraph(name=model.name, timezone=model.timezone)
    for stage in model.stages.values():
        actions: dict[str, list[str]] = {}
        for rule in stage.rules:
            summary = [action_summary(x) for x in rule.body if not isinstance(x, m.Goto)]
            if summary:
                actions.setdefault(trigger_label(rule.trigger), []).extend(summary)
        graph.add_node(stage.name, start=stage.start, final=stage.final, actions=actions,
                       location=str(stage.location))
    for stage in model.stages.values():
        for rule in stage.rules:
            for target, share, cond in transitions(rule):
                if target not in model.stages:
                    continue
                guard = rule.guard.source if rule.guard else None
                if cond:
                    guard = f"{guard} and {cond}" if guard else cond
                graph.add_edge(stage.name, target, trigger=trigger_label(rule.trigger),
                               kind=rule.trigger.kind, guard=guard, share=share,
                               rule=str(rule.location))
    graph.graph["anywhere"] = [
        {"trigger": trigger_label(rule.trigger),
         "guard": rule.guard.source if rule.guard else None,
         "targets": [t for t, _, _ in transitions(rule)], "rule": str(rule.location),
         "actions": [action_summary(x) for x in rule.body if not isinstance(x, m.Goto)]}
        for rule in model.anywhere
    ]
    return graph
