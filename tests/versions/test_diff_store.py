"""``journeyflow diff OLD NEW --store URL``: the in-flight customers each change touches."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from journeyflow.cli import main
from journeyflow.versions.schema import DIFF_SCHEMA
from tests.versions.migrating import RENAMED, T0, V1, edit, run_and_close, signups, url, version
from tests.versions.migrating import versions as stored_versions


def _files(tmp_path: Path, new_text: str) -> tuple[str, str, str]:
    store = url(tmp_path)
    paid = {"at": T0 + 3600, "customer": "c0", "event": "paid", "id": "p0"}
    run_and_close(V1, store, [*signups(3), paid])
    old, new = tmp_path / "v1.journey", tmp_path / "v2.journey"
    old.write_text(V1, "utf-8")
    new.write_text(new_text, "utf-8")
    return store, str(old), str(new)


def test_each_change_says_whom_it_touches(tmp_path: Path, runner: CliRunner) -> None:
    store, old, new = _files(tmp_path, edit(RENAMED, ('"Thank you"', '"Thanks!"')))
    result = runner.invoke(main, ["diff", old, new, "--store", store])
    assert result.exit_code == 1
    out = result.output
    assert "  ~ message thanks: subject changed\n" in out
    thanks = out.split("message thanks: subject changed", 1)[1]
    assert thanks.split("\n")[3] == "      in flight: 1 customer"  # c0 is in `customer`
    assert "in flight in " + store + ": 3 customers\n" in out
    assert "would move them to version 2:\n  stage trial -> onboarding: 2 customers" in out
    assert "blocks the migration" not in out
    assert stored_versions(store) == {"1": 3}  # a rehearsal only


def test_a_change_that_blocks_the_migration(tmp_path: Path, runner: CliRunner) -> None:
    renamed = edit(version(V1, 2), ("stage trial start", "stage onboarding start"))
    store, old, new = _files(tmp_path, renamed)
    out = runner.invoke(main, ["diff", old, new, "--store", store]).output
    assert ("      blocks the migration: 2 customers are in stage 'trial', which version 2 "
            "does not have; add  migrate { stage trial -> STAGE }") in out
    assert "migration to version 2 is blocked" in out


def test_json_with_a_store(tmp_path: Path, runner: CliRunner) -> None:
    store, old, new = _files(tmp_path, RENAMED)
    result = runner.invoke(main, ["diff", old, new, "--store", store, "--format", "json"])
    data = json.loads(result.output)
    jsonschema.validate(data, DIFF_SCHEMA)
    assert data["store"]["by_stage"] == {"customer": 1, "trial": 2}
    assert data["store"]["migration"]["blocked"] is False
    assert all(isinstance(c["in_flight"], int) for c in data["changes"])


def test_a_bad_store_is_a_usage_error(tmp_path: Path, runner: CliRunner) -> None:
    _, old, new = _files(tmp_path, RENAMED)
    result = runner.invoke(main, ["diff", old, new, "--store", "memory://"])
    assert result.exit_code == 2
    assert "diff --store reads a durable store" in result.output


def test_an_edit_that_kept_its_version_line(tmp_path: Path, runner: CliRunner) -> None:
    store, old, new = _files(tmp_path, edit(V1, ("after 3d {", "after 1d {")))
    out = runner.invoke(main, ["diff", old, new, "--store", store]).output
    assert "(3 customers on version 1 as it was before this edit)" in out
