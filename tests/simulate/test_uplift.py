"""The journey's uplift over its holdout, and suppressions and goals per arm in reports."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from journeyflow.cli import main
from journeyflow.simulate.uplift import uplift

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "journeyflow" / "schemas" / "report.schema.json").read_text("utf-8"))


def test_uplift_is_the_difference_of_the_cohorts_with_an_interval_around_it() -> None:
    cohorts = {"journey": [(10.0, ("bought",))] * 60 + [(0.0, ())] * 40,
               "holdout": [(10.0, ("bought",))] * 30 + [(0.0, ())] * 70}
    found = uplift(cohorts, ["bought"], 10.0, seed=1)
    value = found["uplift"]["value_per_customer"]
    assert value["difference"] == 3.0
    assert value["low"] < 3.0 < value["high"]
    rate = found["uplift"]["goal_rates"]["bought"]
    assert rate["difference"] == 0.3
    assert 0.1 < rate["low"] < 0.3 < rate["high"] < 0.5
    assert found["journey"]["goal_rates"] == {"bought": 0.6}


def test_uplift_does_not_depend_on_the_order_customers_were_merged_in() -> None:
    rows = [(float(i % 7), ("g",) if i % 3 else ()) for i in range(50)]
    a = uplift({"journey": rows, "holdout": rows[:20]}, ["g"], 10.0, seed=3)
    b = uplift({"journey": rows[::-1], "holdout": rows[:20][::-1]}, ["g"], 10.0, seed=3)
    assert a == b


def test_an_empty_cohort_has_no_uplift() -> None:
    found = uplift({"journey": [(1.0, ())]}, ["g"], 10.0, seed=0)
    assert found["uplift"] is None
    assert found["holdout"]["value_per_customer"] is None


def test_the_report_has_suppressions_arms_and_uplift(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["simulate", str(ROOT / "examples" / "lifecycle.journey"),
                                       "--customers", "400", "--days", "90",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text("utf-8"))
    jsonschema.validate(report, SCHEMA)
    assert set(report["suppressed"]) <= {"frequency_cap", "no_consent", "holdout"}
    assert report["suppressed"]["holdout"] > 0
    [split] = report["splits"]
    assert split["name"] == "winback_offer"
    assert [arm["name"] for arm in split["arms"]] == ["coupon", "plain"]
    assert set(split["arms"][0]["goals"]) == set(report["goals"])
    held = report["holdout"]
    assert held["share"] == 10.0
    assert held["customers"]["journey"] + held["customers"]["holdout"] == 400
    assert "Uplift over the 10% holdout" in result.output


def test_resamples_drawn_in_chunks_are_those_drawn_at_once(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    import numpy as np

    from journeyflow.simulate import uplift as module

    values = np.random.default_rng(5).random(3000)
    at_once = np.random.default_rng(3)
    whole = values[at_once.integers(0, 3000, size=(module.RESAMPLES, 3000))].mean(axis=1)
    monkeypatch.setattr(module, "CHUNK", 3000 * 7)  # seven resamples at a time
    chunked = module._resampled_means(values, np.random.default_rng(3))
    assert np.array_equal(whole, chunked)


def test_each_arm_has_its_uplift_over_the_held_out_customers_of_that_arm(tmp_path: Path
                                                                          ) -> None:
    out = tmp_path / "r.json"
    done = CliRunner().invoke(main, ["simulate", str(ROOT / "examples" / "lifecycle.journey"),
                                     "--customers", "3000", "--days", "200", "--out",
                                     str(out)])
    assert done.exit_code == 0, done.output
    report = json.loads(out.read_text("utf-8"))
    jsonschema.validate(report, SCHEMA)
    arms = [(split["name"] or split["position"], arm) for split in report["splits"]
            for arm in split["arms"]]
    assert arms
    assert [(a["split"], a["arm"]) for a in report["arm_uplift"]] == [
        (name, arm["name"]) for name, arm in arms]
    for entry, (_, arm) in zip(report["arm_uplift"], arms, strict=True):
        # every customer who took the arm is in one of the two cohorts
        assert sum(entry["customers"].values()) == arm["customers"]


def test_the_terminal_shows_each_arm_s_uplift() -> None:
    done = CliRunner().invoke(main, ["simulate", str(ROOT / "examples" / "lifecycle.journey"),
                                     "--customers", "600", "--days", "120"])
    assert done.exit_code == 0, done.output
    assert "Uplift per split arm, over the held-out customers of the arm" in done.output
