"""Scenario expectations: N times, containing, suppressed [because], arm."""

from __future__ import annotations

from pathlib import Path

import journeyflow
from journeyflow.journey import check_text
from journeyflow.runtime.scenarios import run_scenarios

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "expectations.journey"


def results() -> dict[str, list[tuple[str, str]]]:
    journey = journeyflow.load(FIXTURE)
    return {r.scenario.name: [(f.expectation, f.actual) for f in r.failures]
            for r in run_scenarios(journey)}


def test_the_new_expectations_hold_when_they_should() -> None:
    assert results()["passes"] == []


def test_each_new_expectation_fails_with_what_actually_happened() -> None:
    assert results()["fails on purpose"] == [
        ("expect sent welcome 1 times", "'welcome' was sent 0 times"),
        ('expect sent welcome containing "Welcome"', "'welcome' was not sent"),
        ("expect suppressed welcome because frequency_cap", "suppressed: welcome (no_consent)"),
        ('expect arm "subject_line" plain', "the customer took arm '2'"),
    ]


def test_unknown_split_arm_and_reason_are_compile_errors() -> None:
    text = FIXTURE.read_text("utf-8").replace(
        'expect arm "subject_line" plain\n}', 'expect arm "subject" plain\n'
        '  expect arm "subject_line" fancy\n  expect suppressed promo because capped\n}')
    diags = check_text(text, "e.journey").diagnostics
    assert [(d.code, d.span.line) for d in diags if d.is_error] == [
        ("JF215", 53), ("JF216", 54), ("JF214", 55)]
