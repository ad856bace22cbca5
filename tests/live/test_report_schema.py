"""The live report has the layout of simulate's report: the same keys everywhere, checked
with simulate's JSON Schema, plus three documented live-only keys."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from journeyflow.cli import main
from tests.conftest import EXAMPLES, ROOT

SCHEMA = json.loads((ROOT / "journeyflow" / "schemas" / "report.schema.json").read_text("utf-8"))
LIVE_ONLY = {"as_of", "deliveries", "rejected"}


def live_schema() -> dict[str, Any]:
    """Simulate's schema, with the live format name and the live-only keys allowed."""
    schema = copy.deepcopy(SCHEMA)
    schema["properties"]["format"] = {"const": "journeyflow-live/1"}
    counts = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
    statuses = {"type": "object", "required": ["sent", "pending", "dead"],
                "properties": {s: {"type": "integer", "minimum": 0}
                               for s in ("sent", "pending", "dead")}}
    schema["properties"]["as_of"] = {"type": "string", "format": "date-time"}
    schema["properties"]["deliveries"] = {
        "type": "object", "additionalProperties": False,
        "required": ["sent", "pending", "dead", "attempts", "unconfirmed", "messages",
                     "channels", "notifications"],
        "properties": {"sent": {"type": "integer"}, "pending": {"type": "integer"},
                       "dead": {"type": "integer"}, "attempts": {"type": "integer"},
                       "unconfirmed": {"type": "integer", "minimum": 0},
                       "messages": {"type": "object", "additionalProperties": statuses},
                       "channels": {"type": "object", "additionalProperties": statuses},
                       "notifications": {"type": "object",
                                         "additionalProperties": statuses}}}
    schema["properties"]["rejected"] = {
        "type": "object", "additionalProperties": False, "required": ["count", "reasons"],
        "properties": {"count": {"type": "integer", "minimum": 0}, "reasons": counts}}
    schema["required"] = [*schema["required"], *sorted(LIVE_ONLY)]
    return schema


# Maps keyed by names from the journey or the data (stages, messages, reasons...): their
# keys are figures, not layout, so the shape of a report has "*" in their place.
NAMED = {".stages", ".messages", ".channels", ".goals", ".bonuses", ".segments", ".suppressed",
         ".errors.reasons", ".events.behaviour", ".events.reactions", ".occupancy.stages",
         ".splits[].arms[].goals", ".holdout.journey.goal_rates",
         ".holdout.holdout.goal_rates", ".holdout.uplift.goal_rates",
         ".arm_uplift[].journey.goal_rates", ".arm_uplift[].holdout.goal_rates",
         ".arm_uplift[].uplift.goal_rates"}


def shape(value: Any, path: str = "") -> set[str]:
    """Every key path of a report, names of named maps as "*" and list items as "[]"."""
    out: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{'*' if path in NAMED else key}"
            out.add(here)
            out |= shape(item, here)
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        for item in value:
            out |= shape(item, f"{path}[]")
    return out


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    """simulate's report and the live report of the lifecycle example."""
    tmp = tmp_path_factory.mktemp("schema")
    runner = CliRunner()
    journey = str(EXAMPLES / "lifecycle.journey")
    result = runner.invoke(main, ["simulate", journey, "--customers", "300", "--days", "120",
                                  "--out", str(tmp / "sim.json")])
    assert result.exit_code == 0, result.output
    store = f"sqlite:///{tmp / 'state.db'}"
    result = runner.invoke(main, ["run", journey, "--events",
                                  str(EXAMPLES / "lifecycle.events.jsonl"), "--until",
                                  "2026-06-01T00:00:00Z", "--store", store, "--state",
                                  str(tmp / "state.json"), "--channel", "email=trace",
                                  "--channel", "push=trace", "--channel", "crm=trace"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["report", journey, "--store", store, "-o",
                                  str(tmp / "live.json")])
    assert result.exit_code == 0, result.output
    return (json.loads((tmp / "sim.json").read_text()),
            json.loads((tmp / "live.json").read_text()))


def test_the_live_report_has_every_key_of_simulates(
        reports: tuple[dict[str, Any], dict[str, Any]]) -> None:
    simulated, live = reports
    assert set(live) == set(simulated) | LIVE_ONLY
    assert shape(live) - shape(simulated) == {
        f".{key}{rest}" for key in LIVE_ONLY for rest in shape(live[key], "")} | {
        f".{key}" for key in LIVE_ONLY}
    # What is not there is empty for a reason: a live store has no behaviour model;
    # these seven customers had no send suppressed, and nobody of them is held out, so
    # that cohort has no goal rates and there is no uplift (see docs/simulate.md).
    held = {".holdout.goal_rates.*", ".uplift.value_per_customer",
            ".uplift.value_per_customer.difference", ".uplift.value_per_customer.low",
            ".uplift.value_per_customer.high", ".uplift.goal_rates", ".uplift.goal_rates.*",
            ".uplift.goal_rates.*.difference", ".uplift.goal_rates.*.low",
            ".uplift.goal_rates.*.high", ".uplift.level", ".uplift.resamples"}
    assert shape(simulated) - shape(live) == {
        ".events.behaviour.*", ".events.reactions.*", ".suppressed.*",
        *(f".holdout{rest}" for rest in held), *(f".arm_uplift[]{rest}" for rest in held)}


def test_the_live_report_meets_simulates_schema(
        reports: tuple[dict[str, Any], dict[str, Any]]) -> None:
    simulated, live = reports
    jsonschema.validate(simulated, SCHEMA)
    jsonschema.validate(live, live_schema())
    # the extras really are the only difference: without them, simulate's own schema
    # (but for the format's name) takes the live report
    stripped = {k: v for k, v in live.items() if k not in LIVE_ONLY}
    stripped["format"] = "journeyflow-simulation/1"
    jsonschema.validate(stripped, SCHEMA)


def test_the_docs_list_the_live_only_keys() -> None:
    docs = (ROOT / "docs" / "simulate.md").read_text("utf-8")
    for key in sorted(LIVE_ONLY):
        assert f"`{key}`" in docs


def test_a_live_report_on_disk_is_what_render_reads(
        reports: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path) -> None:
    from journeyflow.render.stats import read_report

    _, live = reports
    path = tmp_path / "live.json"
    path.write_text(json.dumps(live), "utf-8")
    parsed = read_report(path)
    assert parsed.customers == live["customers"]
    assert parsed.experiments is not None
    assert [s.name for s in parsed.experiments.splits] == ["winback_offer"]
