"""The diagram IR: lifecycle order, phases, marketer wording, and the legend."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import networkx as nx
import pytest

import journeyflow
from journeyflow import Journey
from journeyflow.render import layout
from journeyflow.render.diagram import JourneyDiagram, build_diagram
from journeyflow.render.words import channel_word, duration_words, expression_words
from tests.render.cases import JourneyCase, load

ORDER = ["awareness", "consideration", "first_purchase", "service", "retention", "loyalty",
         "advocacy", "winback", "churned"]


def _diagram(source: str) -> JourneyDiagram:
    return build_diagram(journeyflow.loads(source, "t.journey"))


def test_stages_run_left_to_right_in_lifecycle_order(language_example: Journey) -> None:
    diagram = build_diagram(language_example)
    assert [s.name for s in diagram.stages] == ORDER
    assert [s.layer for s in diagram.stages] == list(range(9))


def test_stage_kinds_and_phases(language_example: Journey) -> None:
    diagram = build_diagram(language_example)
    kinds = {s.name: s.kind for s in diagram.stages}
    assert kinds["awareness"] == "start"
    assert kinds["churned"] == "final"
    assert {k for n, k in kinds.items() if n not in ("awareness", "churned")} == {"normal"}
    phases = {s.name: s.phase for s in diagram.stages}
    assert phases == {"awareness": "acquisition", "consideration": "acquisition",
                      "first_purchase": "retention", "service": "retention",
                      "retention": "retention", "loyalty": "retention",
                      "advocacy": "retention", "winback": "winback", "churned": "winback"}


def test_action_lines_are_marketer_words(language_example: Journey) -> None:
    diagram = build_diagram(language_example)
    lines = {s.name: [(a.when, a.text) for a in s.actions] for s in diagram.stages}
    assert ("on entry", "welcome mail") in lines["consideration"]
    assert ("cart_abandoned", "after 4 hours unless purchased: cart_reminder mail") \
        in lines["consideration"]
    assert ("on entry", "bonus rendezvous 10% for 30 days") in lines["first_purchase"]
    assert ("on entry", "tag vip") in lines["loyalty"]
    assert ("support_ticket, rating <= 2", "tag at_risk") in lines["service"]
    assert ("after 7 days", 'cross-sell "Zubehör" in accessories mail') in lines["service"]
    assert ("referred", "add 100 to points") in lines["advocacy"]
    assert [t for _, t in lines["winback"]] == ["50% split: winback_coupon mail",
                                                "50% split: winback_plain mail"]
    assert lines["awareness"] == []


def test_edge_labels_are_marketer_words(language_example: Journey) -> None:
    diagram = build_diagram(language_example)
    labels = {(e.source, e.target): e.label for e in diagram.edges}
    assert labels[("consideration", "winback")] == "after 14 days"
    assert labels[("service", "winback")] == "after 60 days without purchased"
    assert labels[("retention", "loyalty")] == "when points >= 1000 or big_spender"
    assert labels[("service", "retention")] == "purchased, count(purchased) >= 2"
    assert labels[("first_purchase", "service")] == "immediately"
    assert labels[("awareness", "consideration")] == "signed_up"


def test_guards_and_splits_on_edges() -> None:
    diagram = _diagram('journey "j"\nevent purchased { amount: number }\nevent go {}\n'
                       "stage a start {\n  on purchased where event.amount > 100 -> b\n"
                       "  on go { split { 30% { -> b } 70% { -> c } } }\n}\n"
                       "stage b final\nstage c final\n")
    assert [(e.target, e.label, e.split) for e in diagram.edges] == [
        ("b", "purchased, amount > 100", None), ("b", "go, 30% split", 30.0),
        ("c", "go, 70% split", 70.0)]


def test_every_graph_edge_is_drawn_once_and_back_edges_are_marked(
        language_example: Journey) -> None:
    diagram = build_diagram(language_example)
    assert len(diagram.edges) == language_example.graph.number_of_edges()
    assert [(e.source, e.target) for e in diagram.edges if e.back] == [("winback", "retention")]
    # Edges follow the stage order, so DOT and Mermaid text is stable.
    position = {name: i for i, name in enumerate(ORDER)}
    keys = [(position[e.source], position[e.target]) for e in diagram.edges]
    assert keys == sorted(keys)


def test_anywhere_rules_go_to_the_legend_not_to_edges(language_example: Journey) -> None:
    diagram = build_diagram(language_example)
    assert [(r.label, r.targets, r.rule) for r in diagram.anywhere] == [
        ("unsubscribed", ("churned",), "language_example.journey:37"),
        ("purchased", (), "language_example.journey:38")]
    assert diagram.anywhere[1].actions == ("add amount to total_spent", "add amount to points")
    # unsubscribed -> churned from every stage would be eight edges; none is drawn.
    assert [e.source for e in diagram.edges if e.target == "churned"] == ["winback"]


def test_the_diagram_is_frozen_and_the_graph_untouched(language_example: Journey) -> None:
    before = nx.node_link_data(language_example.graph, edges="edges")
    diagram = build_diagram(language_example)
    assert nx.node_link_data(language_example.graph, edges="edges") == before
    for target, field in ((diagram, "name"), (diagram.stages[0], "name"),
                          (diagram.edges[0], "label")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(target, field, "x")


@pytest.mark.parametrize(("name", "phase"), [
    ("awareness", "acquisition"), ("prospect", "acquisition"), ("onboarding", "acquisition"),
    ("first_purchase", "retention"), ("loyalty", "retention"), ("advocacy", "retention"),
    ("renewal", "retention"), ("winback", "winback"), ("churn_save", "winback"),
    ("lapsed", "winback"), ("churned", "winback"), ("rückgewinnung", "winback"),
    ("listening", None), ("ping", None),
])
def test_name_phase(name: str, phase: str | None) -> None:
    assert layout.name_phase(name) == phase


def test_phase_by_position_when_names_say_nothing() -> None:
    journey = journeyflow.loads(
        'journey "j"\nevent go {}\nevent purchased {}\n'
        "stage alpha start { on go -> beta }\nstage beta { on purchased -> gamma }\n"
        "stage gamma { after 30d without purchased -> delta }\n"
        "stage delta { after 30d -> omega }\nstage omega final\n", "t.journey")
    assert layout.phases(journey.graph) == {"alpha": "acquisition", "beta": "acquisition",
                                            "gamma": "retention", "delta": "winback",
                                            "omega": "winback"}


def test_a_goal_event_marks_the_conversion() -> None:
    journey = journeyflow.loads(
        'journey "j"\nevent go {}\nevent signed {}\ngoal won on signed\n'
        "stage alpha start { on go -> beta }\nstage beta { on signed -> gamma }\n"
        "stage gamma final\n", "t.journey")
    assert layout.phases(journey.graph, ["signed"])["gamma"] == "retention"
    assert build_diagram(journey).stage("gamma").phase == "retention"


def test_snake_rows_alternate_direction() -> None:
    grid = layout.snake({f"s{i}": i for i in range(9)}, 4)
    assert [grid[f"s{i}"] for i in range(9)] == [
        (0, 0), (1, 0), (2, 0), (3, 0), (3, 1), (2, 1), (1, 1), (0, 1), (0, 2)]
    assert layout.rows_needed(9, 4) == 3


def test_unreachable_stages_still_get_a_layer() -> None:
    journey = journeyflow.loads('journey "j"\nevent go {}\nstage a start { on go -> b }\n'
                                "stage b final\nstage island { on go -> b }\n", "t.journey")
    diagram = build_diagram(journey)
    assert [s.name for s in diagram.stages] == ["a", "island", "b"]


def test_words() -> None:
    assert duration_words(timedelta(days=14)) == "14 days"
    assert duration_words(timedelta(hours=1)) == "1 hour"
    assert duration_words(timedelta(minutes=90)) == "1 hour 30 minutes"
    assert expression_words('event.amount > 100 and event.category == "x"') == \
        'amount > 100 and category == "x"'
    assert channel_word("welcome", "email") == "welcome mail"
    assert channel_word("sms_nudge", "sms") == "sms_nudge"
    assert channel_word("note", "crm") == "note via crm"


def test_every_journey_builds(journey_case: JourneyCase) -> None:
    path = journey_case.path
    diagram = build_diagram(load(path))
    assert {s.name for s in diagram.stages} == set(load(path).model.stages)
    assert sum(s.kind == "start" for s in diagram.stages) == 1
