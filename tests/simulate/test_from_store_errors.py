"""``simulate --from-store`` on stores it cannot forecast: clear messages, never tracebacks."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeyflow.cli import main

from .conftest import LIFECYCLE
from .test_from_store import TRIAL, TRIAL_EVENTS, make_store, write_events


def fails(runner: CliRunner, journey: Path, url: str, *more: str, code: int = 1) -> str:
    result = runner.invoke(main, ["simulate", str(journey), "--from-store", url, *more])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.output


@pytest.fixture
def trial_journey(tmp_path: Path) -> Path:
    path = tmp_path / "trial.journey"
    path.write_text(TRIAL, "utf-8")
    return path


@pytest.fixture
def trial_url(tmp_path: Path, runner: CliRunner, trial_journey: Path) -> str:
    events = write_events(tmp_path / "e.jsonl", TRIAL_EVENTS)
    return make_store(runner, trial_journey, events, tmp_path / "trial.db")


def test_a_missing_store(runner: CliRunner, tmp_path: Path, trial_journey: Path) -> None:
    output = fails(runner, trial_journey, f"sqlite:///{tmp_path / 'nowhere.db'}")
    assert "there is no store at" in output
    assert not (tmp_path / "nowhere.db").exists()  # a forecast never creates a store


def test_a_file_that_is_not_sqlite(runner: CliRunner, tmp_path: Path,
                                   trial_journey: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("just some notes\n" * 100, "utf-8")
    assert "cannot read" in fails(runner, trial_journey, f"sqlite:///{text}")


def test_a_sqlite_file_that_is_not_a_store(runner: CliRunner, tmp_path: Path,
                                           trial_journey: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE things (x)")
    conn.close()
    output = fails(runner, trial_journey, f"sqlite:///{other}")
    assert "is not a journeyflow state store" in output
    assert "jf_customers" in output


def test_a_store_of_another_journey(runner: CliRunner, trial_url: str) -> None:
    output = fails(runner, LIFECYCLE, trial_url)
    assert "holds customers of journey 'trial', not 'Customer lifecycle'" in output


def test_an_empty_store(runner: CliRunner, tmp_path: Path, trial_journey: Path) -> None:
    url = make_store(runner, trial_journey, write_events(tmp_path / "none.jsonl", []),
                     tmp_path / "empty.db")
    assert "holds no customers yet" in fails(runner, trial_journey, url)


@pytest.mark.parametrize(("url", "words"), [
    ("postgresql://jf@db.example.org/journeys", "PostgreSQL store is not supported yet"),
    ("postgres://jf@db.example.org/journeys", "PostgreSQL store is not supported yet"),
    ("mysql://db/journeys", "give a SQLite store URL"),
    ("state.db", "give a SQLite store URL"),
    ("sqlite:///", "give a SQLite store URL"),
])
def test_urls_it_cannot_read(runner: CliRunner, trial_journey: Path, url: str,
                             words: str) -> None:
    assert words in fails(runner, trial_journey, url)


def report_of(runner: CliRunner, journey: Path, url: str, out: Path, *more: str
              ) -> dict[str, object]:
    done = runner.invoke(main, ["simulate", str(journey), "--from-store", url, "--days", "30",
                                "--out", str(out), *more])
    assert done.exit_code == 0, done.output
    loaded: dict[str, object] = json.loads(out.read_text("utf-8"))
    return loaded


def test_customers_of_another_version_are_moved_onto_the_file(
        runner: CliRunner, tmp_path: Path, trial_journey: Path, trial_url: str) -> None:
    newer = tmp_path / "newer.journey"
    newer.write_text(TRIAL.replace("version 1", "version 2"), "utf-8")
    same = report_of(runner, trial_journey, trial_url, tmp_path / "a.json")
    moved = report_of(runner, newer, trial_url, tmp_path / "b.json")
    for key in ("stages", "goals", "customers"):
        assert moved[key] == same[key], key

    def moves(report: dict[str, object]) -> list[tuple[object, ...]]:
        found = report["transitions"]
        assert isinstance(found, list)
        return [(t["from"], t["to"], t["rule"].split(":")[-1], t["count"]) for t in found]

    assert moves(moved) == moves(same)  # the same rules, named in the other file
    population = moved["population"]
    assert isinstance(population, dict)
    assert (population["version"], population["stored_versions"]) == ("2", {"1": 5})
    said = runner.invoke(main, ["simulate", str(newer), "--from-store", trial_url, "--days", "1"])
    assert "5 customers (5 on version 1, moved onto version 2 in memory)" in said.output
    db = Path(trial_url[len("sqlite:///"):])
    with sqlite3.connect(db) as conn:  # a forecast never writes the store
        assert {v for (v,) in conn.execute("SELECT version FROM jf_customers")} == {"1"}


def test_a_renamed_stage_with_its_migrate_line_is_forecast(
        runner: CliRunner, tmp_path: Path, trial_url: str) -> None:
    renamed = tmp_path / "renamed.journey"
    renamed.write_text(TRIAL.replace("version 1", "version 2").replace("trial {", "trying {")
                       .replace("-> trial", "-> trying") + "migrate { stage trial -> trying }\n",
                       "utf-8")
    report = report_of(runner, renamed, trial_url, tmp_path / "r.json", "--days", "0")
    population = report["population"]
    assert isinstance(population, dict)
    assert "trial" not in population["stages"]
    assert population["stages"]["trying"] >= 1


def test_a_migration_something_blocks_is_refused_with_its_report(
        runner: CliRunner, tmp_path: Path, trial_url: str) -> None:
    dropped = tmp_path / "dropped.journey"
    dropped.write_text(TRIAL.replace("version 1", "version 2").replace("trial {", "trying {")
                       .replace("-> trial", "-> trying"), "utf-8")
    output = fails(runner, dropped, trial_url)
    assert "cannot be moved onto" in output
    assert "'trial'" in output
    assert "migrate { stage trial ->" in output


def test_a_version_whose_file_the_store_never_recorded_needs_the_old_file(
        runner: CliRunner, tmp_path: Path, trial_url: str) -> None:
    db = Path(trial_url[len("sqlite:///"):])
    with sqlite3.connect(db) as conn:  # as a store written before versions were recorded
        conn.execute("DELETE FROM jf_versions")
    newer = tmp_path / "newer.journey"
    newer.write_text(TRIAL.replace("version 1", "version 2"), "utf-8")
    output = fails(runner, newer, trial_url)
    assert "5 on version 1" in output
    assert "this file is version 2" in output
    assert "--old OLD.journey" in output


def test_compare_with_another_version_starts_from_the_same_customers(
        runner: CliRunner, tmp_path: Path, trial_journey: Path, trial_url: str) -> None:
    newer = tmp_path / "newer.journey"
    newer.write_text(TRIAL.replace("version 1", "version 2").replace("after 3d", "after 1d"),
                     "utf-8")
    out = tmp_path / "c.json"
    done = runner.invoke(main, ["simulate", str(trial_journey), "--from-store", trial_url,
                                "--days", "30", "--compare", str(newer), "--out", str(out)])
    assert done.exit_code == 0, done.output
    both = json.loads(out.read_text("utf-8"))
    assert both["a"]["population"]["stages"] == both["b"]["population"]["stages"]


def test_an_edit_under_the_same_version_that_drops_a_stage(
        runner: CliRunner, tmp_path: Path, trial_url: str) -> None:
    renamed = tmp_path / "renamed.journey"
    renamed.write_text(TRIAL.replace("trial", "trying").replace('journey "trying"',
                                                                'journey "trial"'), "utf-8")
    output = fails(runner, renamed, trial_url)
    assert "stored customer" in output
    assert "does not fit" in output
    assert "'trial'" in output


def test_a_start_before_the_store_s_now(runner: CliRunner, trial_journey: Path,
                                        trial_url: str) -> None:
    output = fails(runner, trial_journey, trial_url, "--start", "2026-05-01")
    assert "already at 2026-05-03T12:00:00Z" in output


def test_customers_do_not_apply(runner: CliRunner, trial_journey: Path,
                                trial_url: str) -> None:
    output = fails(runner, trial_journey, trial_url, "--customers", "10", code=2)
    assert "--customers does not apply with --from-store" in output


def test_zero_days_needs_a_store(runner: CliRunner, trial_journey: Path) -> None:
    result = runner.invoke(main, ["simulate", str(trial_journey), "--days", "0"])
    assert result.exit_code == 2
    assert "0 only with --from-store" in result.output


def test_no_charts_of_zero_days(runner: CliRunner, tmp_path: Path, trial_journey: Path,
                                trial_url: str) -> None:
    output = fails(runner, trial_journey, trial_url, "--days", "0", "--plot",
                   str(tmp_path / "p.png"), code=2)
    assert "with --days 0 there is none" in output


def test_an_edit_under_the_same_version_that_drops_a_pending_timer(
        runner: CliRunner, tmp_path: Path, trial_url: str) -> None:
    edited = tmp_path / "edited.journey"
    edited.write_text(TRIAL.replace("  after 3d -> paid\n", ""), "utf-8")
    output = fails(runner, edited, trial_url, "--days", "5")
    assert "a pending timer of stage 'trial' is not one of its timers in the file" in output


def test_arrivals_need_a_store_and_a_day(runner: CliRunner, trial_journey: Path,
                                         trial_url: str) -> None:
    alone = runner.invoke(main, ["simulate", str(trial_journey), "--with-arrivals"])
    assert alone.exit_code == 2
    assert "--with-arrivals go with --from-store" in alone.output
    output = fails(runner, trial_journey, trial_url, "--with-arrivals", "--days", "0", code=2)
    assert "in 0 days nobody arrives" in output
