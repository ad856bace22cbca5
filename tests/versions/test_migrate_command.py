"""``journeyflow migrate --store URL NEW [--dry-run]`` as a user drives it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from journeyflow.cli import main
from tests.versions.migrating import RENAMED, T0, V1, edit, run_and_close, signups, url, version
from tests.versions.migrating import versions as stored_versions


def _setup(tmp_path: Path, customers: int = 3) -> tuple[str, str]:
    store = url(tmp_path)
    run_and_close(V1, store, signups(customers), T0 + 3600)
    new = tmp_path / "v2.journey"
    new.write_text(RENAMED, "utf-8")
    return store, str(new)


def test_a_dry_run_reports_and_changes_nothing(tmp_path: Path, runner: CliRunner) -> None:
    store, new = _setup(tmp_path)
    result = runner.invoke(main, ["migrate", "--store", store, new, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "journey 'Trial': 3 customers on other versions (3 customers on version 1)\n"
        "would move them to version 2:\n"
        "  stage trial -> onboarding: 3 customers\n"
        "  stage timers kept (rule unchanged): 9\n"
        "  stage timers recomputed: 0 (0 already due: they fire at the next step)\n"
        "  delayed statements kept: 3\n"
        "  deferred sends kept: 0\n")
    assert stored_versions(store) == {"1": 3}


def test_a_mapping_from_a_stage_no_version_had_is_a_warning(tmp_path: Path,
                                                            runner: CliRunner) -> None:
    store, new = _setup(tmp_path)
    Path(new).write_text(RENAMED.replace("migrate {", "migrate { stage trail -> onboarding"),
                         "utf-8")
    result = runner.invoke(main, ["migrate", "--store", store, new, "--dry-run"])
    assert result.exit_code == 0
    assert result.output.endswith(
        "  warning: stage trail -> onboarding moved nobody: no earlier version in the store "
        "has a stage 'trail' (misspelt?)\n")


def test_a_migration_moves_the_customers(tmp_path: Path, runner: CliRunner) -> None:
    store, new = _setup(tmp_path)
    result = runner.invoke(main, ["migrate", "--store", store, new])
    assert result.exit_code == 0, result.output
    assert "moved them to version 2:" in result.output
    assert stored_versions(store) == {"2": 3}
    again = runner.invoke(main, ["migrate", "--store", store, new])
    assert again.output == ("journey 'Trial': every customer runs on version 2; nothing to "
                            "migrate\n")


def test_json_report(tmp_path: Path, runner: CliRunner) -> None:
    store, new = _setup(tmp_path, 2)
    result = runner.invoke(main, ["migrate", "--store", store, new, "--format", "json"])
    report = json.loads(result.output)
    assert report["applied"] is True
    assert report["blocked"] is False
    assert report["customers"] == {"1": 2}
    assert report["moved"] == [{"from": "trial", "to": "onboarding", "customers": 2}]
    assert report["delayed"] == {"kept": 2, "dropped": {}}


def test_a_blocked_migration_exits_1_with_every_problem(tmp_path: Path,
                                                        runner: CliRunner) -> None:
    store, _ = _setup(tmp_path)
    new = tmp_path / "v3.journey"
    new.write_text(edit(version(V1, 3), ("stage trial start", "stage onboarding start")),
                   "utf-8")
    result = runner.invoke(main, ["migrate", "--store", store, str(new)])
    assert result.exit_code == 1
    assert "migration to version 3 is blocked; nothing was changed:" in result.output
    assert "hint: add  migrate { stage trial -> STAGE }" in result.output
    as_json = runner.invoke(main, ["migrate", "--store", store, str(new), "--format", "json"])
    (problem,) = json.loads(as_json.output)["problems"]
    assert problem["kind"] == "stage"
    assert problem["customers"] == 3
    assert stored_versions(store) == {"1": 3}


def test_old_gives_the_source_a_store_lacks(tmp_path: Path, runner: CliRunner) -> None:
    store, new = _setup(tmp_path)
    with sqlite3.connect(store.removeprefix("sqlite:///")) as db:
        db.execute("DELETE FROM jf_versions")
    assert runner.invoke(main, ["migrate", "--store", store, new]).exit_code == 1
    old = tmp_path / "v1.journey"
    old.write_text(V1, "utf-8")
    result = runner.invoke(main, ["migrate", "--store", store, new, "--old", str(old)])
    assert result.exit_code == 0, result.output
    assert stored_versions(store) == {"2": 3}


def test_a_later_migration_uses_the_recorded_source(tmp_path: Path, runner: CliRunner) -> None:
    store, new = _setup(tmp_path)
    runner.invoke(main, ["migrate", "--store", store, new])
    third = tmp_path / "v3.journey"
    third.write_text(RENAMED.replace("version 2", "version 3"), "utf-8")
    result = runner.invoke(main, ["migrate", "--store", store, str(third)])
    assert result.exit_code == 0, result.output
    assert stored_versions(store) == {"3": 3}


def test_usage_errors(tmp_path: Path, runner: CliRunner) -> None:
    store, new = _setup(tmp_path)
    bad_store = runner.invoke(main, ["migrate", "--store", "memory://", new])
    assert bad_store.exit_code == 2
    assert "migrate works on a durable store" in bad_store.output
    bad_time = runner.invoke(main, ["migrate", "--store", store, new, "--at", "soon"])
    assert bad_time.exit_code == 2
    missing = runner.invoke(main, ["migrate", new])
    assert missing.exit_code == 2


def test_a_store_of_another_journey(tmp_path: Path, runner: CliRunner) -> None:
    store, _ = _setup(tmp_path)
    other = tmp_path / "other.journey"
    other.write_text(RENAMED.replace('journey "Trial"', 'journey "Other"'), "utf-8")
    result = runner.invoke(main, ["migrate", "--store", store, str(other)])
    assert result.exit_code == 1
    assert "belongs to journey 'Trial', not 'Other'" in result.output


def test_a_journey_that_does_not_compile(tmp_path: Path, runner: CliRunner) -> None:
    store, _ = _setup(tmp_path)
    broken = tmp_path / "broken.journey"
    broken.write_text(RENAMED.replace("stage trial -> onboarding", "stage trial -> onbord"),
                      "utf-8")
    result = runner.invoke(main, ["migrate", "--store", store, str(broken)])
    assert result.exit_code == 1
    assert "error[JF230]" in result.output


def test_an_edit_that_kept_its_version_line(tmp_path: Path, runner: CliRunner) -> None:
    store, _ = _setup(tmp_path)
    edited = tmp_path / "v1-edited.journey"
    edited.write_text(edit(V1, ("after 3d {", "after 1d {")), "utf-8")
    result = runner.invoke(main, ["migrate", "--store", store, str(edited), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "journey 'Trial': 3 customers on other versions (3 customers on version 1 as it was "
        "before this edit)\nwould move them to version 1:\n")
    assert "  stage timers recomputed: 3 (0 already due" in result.output
