"""Weeks in the journey and messages per customer per week in the report."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest

from journeyflow.journey import Journey
from journeyflow.simulate import simulate
from journeyflow.simulate.report import SCHEMA_PATH

WEEKLY = """journey "weekly"
event signed_up {}
message hi via email { subject "Hi" }
message ping via push { body "Ping" }
stage a start {
  on enter { send hi }
  after 7d -> done { send ping }
}
stage done final
simulate {
  arrivals signed_up 100 per day for 1d
}
"""


def test_a_customer_counts_from_arrival_to_its_final_stage(
        compile_journey: Callable[[str], Journey]) -> None:
    report = simulate(compile_journey(WEEKLY), days=30, seed=4).report
    assert report["customers"] == 100
    assert report["customer_weeks"] == pytest.approx(100.0)  # exactly 7 days each
    assert report["messages"]["hi"]["per_customer_week"] == pytest.approx(1.0)
    assert report["channels"]["push"]["per_customer_week"] == pytest.approx(1.0)


def test_a_customer_never_finishing_counts_to_the_horizon(
        compile_journey: Callable[[str], Journey]) -> None:
    report = simulate(compile_journey(WEEKLY.replace("after 7d", "after 70d")), days=14,
                      seed=4).report
    # Arrivals are spread over the first day: each stays 13 to 14 days.
    assert 100 * 13 / 7 < report["customer_weeks"] < 100 * 14 / 7
    assert report["channels"]["email"]["per_customer_week"] == pytest.approx(
        100 / report["customer_weeks"], abs=1e-4)
    assert report["messages"]["ping"]["per_customer_week"] == 0.0


def test_reports_without_the_weekly_figures_still_validate(
        compile_journey: Callable[[str], Journey]) -> None:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text("utf-8"))
    report = json.loads(json.dumps(simulate(compile_journey(WEEKLY), days=30).report))
    jsonschema.Draft202012Validator(schema).validate(report)
    del report["customer_weeks"]
    for part in (*report["messages"].values(), *report["channels"].values()):
        del part["per_customer_week"]
    jsonschema.Draft202012Validator(schema).validate(report)
