"""The report follows its JSON Schema, and what the map renderer reads is there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

import journeyflow
from journeyflow.render.stats import parse_report
from journeyflow.simulate import simulate
from journeyflow.simulate.report import SCHEMA_PATH, quantile_days

from .conftest import KUNDEN, LIFECYCLE


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SCHEMA_PATH.read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(data)
    return data


def validate(report: Any, schema: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(report)


@pytest.mark.parametrize("path", [LIFECYCLE, KUNDEN], ids=lambda p: Path(p).name)
def test_reports_validate(path: Path, schema: dict[str, Any]) -> None:
    journey = journeyflow.load(path)
    report = json.loads(json.dumps(simulate(journey, customers=1200, days=90, seed=2,
                                            by="source").report))
    validate(report, schema)
    parsed = parse_report(report, "report.json")  # what `render --stats` reads
    assert parsed.customers == 1200
    assert set(parsed.stages) == set(journey.model.stages)
    assert set(parsed.messages) == set(journey.model.messages)
    assert all(t.rule.startswith(Path(path).name + ":") for t in parsed.transitions)


def test_report_counts_add_up() -> None:
    journey = journeyflow.load(LIFECYCLE)
    report = simulate(journey, customers=1500, days=365, seed=3).report
    stages = report["stages"]
    assert sum(s["at_end"] for s in stages.values()) == report["customers"]
    start = next(iter(stages))
    assert stages[start]["reached"] == report["customers"]
    entered = {name: 0 for name in stages}
    for t in report["transitions"]:
        entered[t["to"]] += t["count"]
    for name, s in stages.items():
        if name != start:
            assert s["reached"] <= entered[name]  # re-entries count as transitions too
    for name, bonus in report["bonuses"].items():
        assert bonus["redeemed"] + bonus["expired"] <= bonus["granted"], name
    occupancy = report["occupancy"]["stages"]
    assert {s: occupancy[s][-1] for s in stages} == {s: v["at_end"] for s, v in stages.items()}
    arms = report["splits"][0]["arms"]
    assert sum(a["customers"] for a in arms) >= stages["winback"]["reached"] * 0.9


def test_a_broken_report_does_not_validate(schema: dict[str, Any]) -> None:
    journey = journeyflow.load(LIFECYCLE)
    report = json.loads(json.dumps(simulate(journey, customers=50, days=10).report))
    report["stages"]["awareness"]["share"] = 1.5
    with pytest.raises(jsonschema.ValidationError):
        validate(report, schema)


def test_comparison_schema(schema: dict[str, Any]) -> None:
    registry: Registry[Any] = Registry().with_resource(schema["$id"],
                                                       Resource.from_contents(schema))
    compare = {"$ref": schema["$id"] + "#/$defs/comparison"}
    journey = journeyflow.load(LIFECYCLE)
    report = json.loads(json.dumps(simulate(journey, customers=50, days=10).report))
    doc = {"a": report, "b": report, "differences": [
        {"metric": "goal converted", "a": 0.5, "b": 0.6, "difference": 0.1, "low": 0.05,
         "high": 0.15, "significant": True}]}
    jsonschema.Draft202012Validator(compare, registry=registry).validate(doc)


def test_quantiles_from_hour_bins() -> None:
    from collections import Counter

    assert quantile_days(Counter(), 0.5) is None
    assert quantile_days(Counter({23: 1}), 0.5) == round(23.5 / 24, 2)
