"""The ``--stats`` simulation report: validation with clear errors, and the overlay numbers."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from journeyflow import Journey, JourneyError
from journeyflow.render.diagram import build_diagram
from journeyflow.render.dot import export_dot
from journeyflow.render.stats import parse_report, read_report
from tests.render.cases import LANGUAGE_REPORT

SAMPLE: dict[str, Any] = json.loads(LANGUAGE_REPORT.read_text("utf-8"))


def _edited(change: str, value: Any = None) -> dict[str, Any]:
    """The sample with one dotted key removed (``value`` None) or set."""
    data = copy.deepcopy(SAMPLE)
    *path, last = change.split(".")
    target: Any = data
    for key in path:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is None:
        del target[last]
    else:
        target[last] = value
    return data


def test_sample_overlay(language_example: Journey) -> None:
    diagram = build_diagram(language_example, read_report(LANGUAGE_REPORT))
    assert diagram.customers == 1000
    consideration = diagram.stage("consideration")
    assert consideration.counts is not None
    assert (consideration.counts.reached, consideration.counts.at_end) == (960, 50)
    edge = next(e for e in diagram.edges if (e.source, e.target) == ("service", "retention"))
    assert edge.volume is not None
    assert edge.volume.count == 230
    assert edge.volume.share == pytest.approx(230 / 420)
    welcome = next(a for a in consideration.actions if a.messages == ("welcome",))
    assert (welcome.delivered, welcome.suppressed) == (940, 20)
    # The two unsubscribe transitions belong to the anywhere rule, shown in the legend.
    assert [r.count for r in diagram.anywhere] == [50, None]


def test_overlay_in_dot(language_example: Journey) -> None:
    text = export_dot(build_diagram(language_example, read_report(LANGUAGE_REPORT)))
    assert "960 reached (96%)</B> · 50 at end" in text
    assert 'label="signed_up\\n960 transitions (96%)"' in text
    assert "penwidth=6.00" in text  # the busiest edge is the widest
    assert "<U>20 suppressed</U>" in text
    assert "unsubscribed → churned (50 transitions)" in text
    assert "1,000 simulated customers" in text


@pytest.mark.parametrize(("change", "value", "message"), [
    ("customers", None, "missing key 'customers' in the report"),
    ("stages", None, "missing key 'stages' in the report"),
    ("transitions", None, "missing key 'transitions' in the report"),
    ("messages", None, "missing key 'messages' in the report"),
    ("stages.loyalty.reached", None, "missing key 'reached' in stages.loyalty"),
    ("stages.loyalty.at_end", -1, "stages.loyalty.at_end must be a whole number >= 0"),
    ("stages.loyalty.share", 42, "stages.loyalty.share must be a fraction from 0 to 1"),
    ("customers", "many", "customers must be a whole number >= 0"),
    ("customers", True, "customers must be a whole number >= 0"),
    ("stages", [], "stages must be a JSON object, got list"),
    ("transitions", {}, "transitions must be a JSON list"),
    ("transitions.0.count", None, "missing key 'count' in transitions[0]"),
    ("transitions.0.from", 3, "transitions[0]: 'from', 'to' and 'rule' must be strings"),
    ("messages.welcome.suppressed", None, "missing key 'suppressed' in messages.welcome"),
])
def test_bad_reports_are_named_clearly(change: str, value: Any, message: str) -> None:
    with pytest.raises(JourneyError, match=f"^r.json: {re.escape(message)}"):
        parse_report(_edited(change, value), "r.json")


@pytest.mark.parametrize(("change", "value", "message"), [
    ("stages.loyality", {"reached": 1, "share": 0.1, "at_end": 0},
     "unknown stage 'loyality' in stages"),
    ("transitions.0.to", "considration", "unknown stage 'considration' in transitions[0].to"),
    ("messages.welcom", {"channel": "email", "delivered": 1, "suppressed": 0},
     "unknown message 'welcom' in messages"),
])
def test_unknown_names_are_rejected_with_a_hint(language_example: Journey, change: str,
                                                value: Any, message: str) -> None:
    report = parse_report(_edited(change, value), "r.json")
    with pytest.raises(JourneyError, match=re.escape(message)) as err:
        build_diagram(language_example, report, "r.json")
    assert "hint: did you mean" in str(err.value)


def test_a_transition_no_rule_makes_is_rejected(language_example: Journey) -> None:
    data = copy.deepcopy(SAMPLE)
    data["transitions"].append({"from": "awareness", "to": "loyalty", "rule": "x.journey:1",
                                "count": 1})
    with pytest.raises(JourneyError, match="no rule of the journey moves customers from "
                                           "'awareness' to 'loyalty'"):
        build_diagram(language_example, parse_report(data, "r.json"), "r.json")


def test_a_renumbered_rule_still_maps_when_only_one_rule_joins_the_stages(
        language_example: Journey) -> None:
    data = copy.deepcopy(SAMPLE)
    data["transitions"][0]["rule"] = "language_example.journey:40"
    diagram = build_diagram(language_example, parse_report(data, "r.json"), "r.json")
    assert diagram.edges[0].volume is not None
    assert diagram.edges[0].volume.count == 960


@pytest.mark.parametrize(("content", "message"), [
    (b"{not json", "r.json:1:2: the stats report is not valid JSON"),
    (b"\xff\xfe", "the stats report is not UTF-8 text"),
    (b"[]", "the report must be a JSON object, got list"),
])
def test_unreadable_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(content)
    with pytest.raises(JourneyError, match=re.escape(message)):
        read_report(path)
    with pytest.raises(JourneyError, match="cannot read the stats report"):
        read_report(tmp_path / "missing.json")
