"""The HTML page shows suppressions by reason, each split's arms and the holdout's uplift."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeyflow.cli import main
from journeyflow.errors import JourneyError
from journeyflow.render.experiments import experiment_sections, parse_experiments

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "lifecycle.journey"

PARTS = {
    "suppressed": {"frequency_cap": 30, "holdout": 60, "no_consent": 10},
    "splits": [{"position": "j.journey:9:5", "name": "offer", "stage": "winback", "arms": [
        {"arm": 1, "share": 50.0, "name": "coupon", "customers": 200,
         "value_per_customer": 12.5, "goals": {"won_back": 50}},
        {"arm": 2, "share": 50.0, "name": None, "customers": 100, "value_per_customer": None,
         "goals": {}}]}],
    "holdout": {"share": 10.0, "customers": {"journey": 900, "holdout": 100},
                "journey": {"goal_rates": {"won_back": 0.3}, "value_per_customer": 20.0},
                "holdout": {"goal_rates": {"won_back": 0.2}, "value_per_customer": 15.0},
                "uplift": {"value_per_customer": {"difference": 5.0, "low": 1.0, "high": 9.0},
                           "goal_rates": {"won_back": {"difference": 0.1, "low": None,
                                                       "high": None}}}},
}


def test_each_part_is_shown_in_words() -> None:
    page = "\n".join(experiment_sections(parse_experiments(PARTS, "r.json")))
    assert "<td>customer in the holdout</td><td class=\"num\">60</td>" in page
    assert "<td>no consent</td>" in page
    assert "Split offer (stage winback)" in page
    assert "<td>coupon</td>" in page
    assert "<td>arm 2</td>" in page  # an arm without a label is named by its position
    assert "25%" in page  # 50 of the coupon arm's 200 customers won back
    assert "+10.0 pts" in page
    assert "1.00 to 9.00" in page


def test_a_report_without_them_shows_nothing() -> None:
    assert parse_experiments({"customers": 3}, "r.json") is None
    assert experiment_sections(None) == []


def test_a_malformed_part_is_an_error_naming_it() -> None:
    bad = {**PARTS, "suppressed": {"holdout": -1}}
    with pytest.raises(JourneyError, match="suppressed.holdout"):
        parse_experiments(bad, "r.json")


def test_a_simulated_report_draws_them_on_the_map_page(tmp_path: Path) -> None:
    runner = CliRunner()
    report = tmp_path / "report.json"
    done = runner.invoke(main, ["simulate", str(EXAMPLE), "--customers", "600", "--days", "90",
                                "--seed", "2", "--out", str(report)])
    assert done.exit_code == 0, done.output
    assert json.loads(report.read_text())["holdout"]["share"] == 10.0
    page = tmp_path / "map.html"
    done = runner.invoke(main, ["render", str(EXAMPLE), "--stats", str(report),
                                "-o", str(page)])
    assert done.exit_code == 0, done.output
    text = page.read_text()
    for heading in ("Suppressed sends by reason", "Split winback_offer",
                    "Uplift against the holdout"):
        assert heading in text


def test_an_empty_holdout_cohort_is_drawn_without_rates(tmp_path: Path) -> None:
    report = tmp_path / "s.json"
    runner = CliRunner()
    done = runner.invoke(main, ["simulate", str(EXAMPLE), "--customers", "5", "--days", "30",
                                "--out", str(report)])
    assert done.exit_code == 0, done.output
    held = json.loads(report.read_text())["holdout"]
    assert held["customers"]["holdout"] == 0  # five customers: none held out
    assert set(held["holdout"]["goal_rates"].values()) == {None}
    drawn = runner.invoke(main, ["render", str(EXAMPLE), "--stats", str(report), "-o",
                                 str(tmp_path / "m.svg")])
    assert drawn.exit_code == 0, drawn.output
    assert (tmp_path / "m.svg").read_text().lstrip().startswith("<?xml")


def test_each_arm_s_uplift_is_a_table_of_its_own() -> None:
    arm = {"split": "offer", "arm": "coupon", "share": 10.0,
           "customers": {"journey": 180, "holdout": 20},
           "journey": {"goal_rates": {"won_back": 0.3}, "value_per_customer": 20.0},
           "holdout": {"goal_rates": {"won_back": 0.2}, "value_per_customer": 15.0},
           "uplift": {"value_per_customer": {"difference": 5.0, "low": 1.0, "high": 9.0},
                      "goal_rates": {"won_back": {"difference": 0.1, "low": -0.02,
                                                  "high": 0.21}}}}
    empty = {**arm, "arm": "arm 2", "customers": {"journey": 3, "holdout": 0},
             "holdout": {"goal_rates": {}, "value_per_customer": None}, "uplift": None}
    page = "\n".join(experiment_sections(parse_experiments(
        {**PARTS, "arm_uplift": [arm, empty]}, "r.json")))
    assert "<h2>Uplift per split arm</h2>" in page
    assert "offer: coupon" in page
    assert "+10.00 pts (-2.00 to +21.00)" in page
    assert "+5.00 (+1.00 to +9.00)" in page
    assert "offer: arm 2" in page  # nobody held out yet: no difference to show
    with pytest.raises(JourneyError, match=r"arm_uplift\[0\].customers.journey"):
        parse_experiments({**PARTS, "arm_uplift": [{**arm, "customers": {"journey": -1}}]},
                          "r.json")
