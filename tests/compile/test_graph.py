"""Model and graph: resolved names, durations, edge attributes, graph checks."""

from __future__ import annotations

from datetime import timedelta

import journeyflow
from journeyflow.compile.checks import dead_end_stages, unreachable_stages, when_cycles

SOURCE = """journey "graph"
customer { points: number = 0 }
event go {}
event buy { amount: number }
message m via email { subject "x" }
anywhere { on go -> out }
stage a start {
  on buy where event.amount > 100 -> b
  after 14d without buy -> c
  on go { split { 40% { send m -> b } 60% { -> c } } }
}
stage b { when points > 10 -> c }
stage c { -> b }
stage island {}
stage out final
"""


def test_model_resolves_and_normalises() -> None:
    journey = journeyflow.loads(SOURCE, "graph.journey")
    rule = journey.model.stages["a"].rules[1]
    assert rule.trigger.duration == timedelta(days=14)
    assert rule.trigger.without == "buy"
    assert journey.model.start_stage == "a"


def test_graph_nodes_and_edges() -> None:
    graph = journeyflow.loads(SOURCE, "graph.journey").graph
    assert graph.nodes["a"]["start"] is True
    assert graph.nodes["out"]["final"] is True
    edges = {(u, v, d["trigger"], d["guard"], d["share"], d["rule"])
             for u, v, d in graph.edges(data=True)}
    assert ("a", "b", "on buy", "event.amount > 100", None, "graph.journey:8") in edges
    assert ("a", "c", "after 14d without buy", None, None, "graph.journey:9") in edges
    assert ("a", "b", "on go", None, 40.0, "graph.journey:10") in edges
    assert graph.graph["anywhere"][0]["targets"] == ["out"]


def test_graph_checks() -> None:
    journey = journeyflow.loads(SOURCE, "graph.journey")
    assert unreachable_stages(journey.graph) == ["island"]
    assert dead_end_stages(journey.graph) == []  # the anywhere rule leaves every stage
    assert when_cycles(journey.graph) == [["b", "c"]]
    codes = {d.code for d in journey.warnings}
    assert {"JF601", "JF604"} <= codes
