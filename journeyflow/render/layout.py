"""Where a stage sits on the map: its lifecycle phase and its left-to-right layer.

Phases colour the map: *acquisition* (before the first purchase), *retention*
(from the first purchase on: service, loyalty, advocacy, renewal) and *win-back*
(lapsed customers and the ones we lost). A stage's name decides when it is a
lifecycle word; otherwise its position in the graph decides:

1. stages reachable from the start stage without crossing a conversion edge
   (``on EVENT`` where EVENT is a ``goal`` event or a purchase-like word) are
   acquisition;
2. of the rest, a stage entered only by inactivity timers (``after D without E``)
   or only from win-back stages is win-back;
3. everything else is retention.

The order is a layering: a depth-first walk from the start stage marks the
edges that go back (a win-back offer that returns a customer to retention), and
each stage's layer is its longest path from the start over the other edges.
Stages in one layer keep file order.

Examples
--------
>>> name_phase("first_purchase"), name_phase("churn_save"), name_phase("prospect")
('retention', 'winback', 'acquisition')
>>> name_phase("listening") is None
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import networkx as nx

__all__ = ["PHASES", "Phase", "back_edges", "is_conversion_event", "layers", "name_phase",
           "phases", "rows_needed", "snake"]

Phase = Literal["acquisition", "retention", "winback"]
PHASES: tuple[Phase, ...] = ("acquisition", "retention", "winback")

# Checked in this order, so "winback_customer" is win-back and "first_purchase" retention.
# A word matches a name token exactly, or as a prefix when it is five letters or more.
_NAME_WORDS: tuple[tuple[Phase, tuple[str, ...]], ...] = (
    ("winback", ("winback", "win", "churn", "churned", "lapse", "lapsed", "lost", "dormant",
                 "inactive", "reactivat", "rückgewinnung", "rueckgewinnung", "save", "sunset",
                 "risk", "expired", "cancel", "abandon", "leaver", "verloren", "abgewandert",
                 "gekündigt", "reaktivierung")),
    ("retention", ("purchase", "purchased", "bought", "buyer", "customer", "active", "service",
                   "retention", "retain", "loyal", "loyalty", "vip", "advocacy", "advocate",
                   "referral", "renew", "renewal", "repeat", "member", "bronze", "silver", "gold",
                   "platinum", "tier", "upsell", "cross", "guest", "stay", "returning",
                   "subscriber", "paying", "onsite", "post", "review", "account", "adopt", "kauf",
                   "erstkauf", "kunde", "stammkunde", "treue", "empfehlung", "bestand")),
    ("acquisition", ("awareness", "aware", "consideration", "consider", "prospect", "lead",
                     "onboard", "onboarding", "new", "signup", "trial", "welcome", "interest",
                     "visitor", "entry", "discover", "browse", "browsing", "cart", "checkout",
                     "shop", "intent", "inquiry", "enquiry", "evaluation", "demo", "pre",
                     "interessent", "erstkontakt", "anmeldung", "neu")),
)
_CONVERSION_WORDS = ("purchase", "purchased", "order", "ordered", "bought", "buy", "paid",
                     "payment", "booked", "booking", "checkout", "converted", "subscribed",
                     "renewed", "contract", "signed_contract", "won", "deal")
_TOKENS = re.compile(r"[^\W_]+")
_RANK = {"acquisition": 0, "retention": 1, "winback": 2}


def _tokens(name: str) -> list[str]:
    return [t.lower() for t in _TOKENS.findall(name)]


def _matches(name: str, words: Iterable[str]) -> bool:
    tokens = _tokens(name)
    return any(t == w or (len(w) >= 5 and t.startswith(w)) for t in tokens for w in words)


def name_phase(name: str) -> Phase | None:
    """The phase a stage's name states, or ``None`` when the name is not a lifecycle word."""
    for phase, words in _NAME_WORDS:
        if _matches(name, words):
            return phase
    return None


def is_conversion_event(event: str, goal_events: Iterable[str] = ()) -> bool:
    """Whether ``on EVENT`` marks a conversion: a goal's event, or a purchase-like word."""
    return event in set(goal_events) or _matches(event, _CONVERSION_WORDS)


def _start(graph: nx.MultiDiGraph[str]) -> str | None:
    return next((n for n, start in graph.nodes(data="start") if start), None)


def _conversion_edge(data: Mapping[str, Any], goal_events: set[str]) -> bool:
    trigger = str(data.get("trigger", ""))
    return data.get("kind") == "on" and is_conversion_event(trigger.removeprefix("on "),
                                                            goal_events)


def phases(graph: nx.MultiDiGraph[str], goal_events: Iterable[str] = ()) -> dict[str, Phase]:
    """Every stage's phase, by name first and by graph position otherwise (module docs)."""
    goals = set(goal_events)
    found: dict[str, Phase] = {}
    for stage in graph.nodes:
        phase = name_phase(stage)
        if phase is not None:
            found[stage] = phase
    start = _start(graph)
    todo = [start] if start is not None else []
    seen = set(todo)
    while todo:  # rule 1: before the first conversion
        stage = todo.pop()
        found.setdefault(stage, "acquisition")
        if found[stage] != "acquisition":
            continue
        for _, target, data in graph.out_edges(stage, data=True):
            if target not in seen and not _conversion_edge(data, goals):
                seen.add(target)
                todo.append(target)
    _position_winback(graph, found)
    return {stage: found.get(stage, "retention") for stage in graph.nodes}


def _position_winback(graph: nx.MultiDiGraph[str], found: dict[str, Phase]) -> None:
    """Rule 2, repeated until nothing changes, since win-back spreads along edges."""
    changed = True
    while changed:
        changed = False
        for stage in graph.nodes:
            incoming = list(graph.in_edges(stage, data=True))
            if stage in found or not incoming:
                continue
            if all((d.get("kind") == "after" and " without " in str(d.get("trigger")))
                   or found.get(src) == "winback" for src, _, d in incoming):
                found[stage] = "winback"
                changed = True


def back_edges(graph: nx.MultiDiGraph[str], phase: Mapping[str, Phase]) -> set[tuple[str, str]]:
    """(source, target) pairs that point back against the lifecycle order.

    The walk visits successors earlier-phase first, then in file order, so a
    win-back stage comes after the retention stages it catches customers from.
    """
    start = _start(graph)
    roots = ([start] if start is not None else []) + list(graph.nodes)
    state: dict[str, int] = {}  # 1 on the walk's path, 2 finished
    back: set[tuple[str, str]] = set()
    for root in roots:
        if root in state:
            continue
        stack = [(root, iter(_successors(graph, root, phase)))]
        state[root] = 1
        while stack:
            stage, successors = stack[-1]
            target = next(successors, None)
            if target is None:
                state[stage] = 2
                stack.pop()
            elif state.get(target) == 1:
                back.add((stage, target))
            elif target not in state:
                state[target] = 1
                stack.append((target, iter(_successors(graph, target, phase))))
    return back


def _successors(graph: nx.MultiDiGraph[str], stage: str, phase: Mapping[str, Phase]) -> list[str]:
    # Edges come in file order; the stable sort keeps it within one phase.
    targets = dict.fromkeys(t for _, t in graph.out_edges(stage))
    return sorted(targets, key=lambda t: (_RANK[phase[t]], graph.nodes[t].get("final", False)))


def layers(graph: nx.MultiDiGraph[str], back: set[tuple[str, str]]) -> dict[str, int]:
    """Each stage's layer: the longest path to it over the edges that are not ``back``."""
    forward: nx.DiGraph[str] = nx.DiGraph()
    forward.add_nodes_from(graph.nodes)
    forward.add_edges_from((s, t) for s, t in graph.edges() if (s, t) not in back and s != t)
    layer: dict[str, int] = {}
    for stage in nx.topological_sort(forward):
        preds = [layer[p] + 1 for p in forward.predecessors(stage)]
        layer[stage] = max(preds, default=0)
    return layer


def snake(layer: Mapping[str, int], columns: int) -> dict[str, tuple[int, int]]:
    """(column, row) for each stage when at most ``columns`` layers fit on one row.

    Rows run alternately left to right and right to left (a boustrophedon), so
    the step from the end of one row to the start of the next stays one short
    edge within a column.

    Examples
    --------
    >>> snake({"a": 0, "b": 1, "c": 2}, 2)
    {'a': (0, 0), 'b': (1, 0), 'c': (1, 1)}
    """
    columns = max(columns, 1)
    grid = {}
    for stage, value in layer.items():
        row, offset = divmod(value, columns)
        grid[stage] = (offset if row % 2 == 0 else columns - 1 - offset, row)
    return grid


def rows_needed(layer_count: int, columns: int) -> int:
    """How many rows :func:`snake` makes of ``layer_count`` layers.

    >>> rows_needed(9, 5), rows_needed(9, 9), rows_needed(9, 3)
    (2, 1, 3)
    """
    return max(1, -(-layer_count // max(columns, 1)))
