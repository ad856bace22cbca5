"""``journeyflow diff`` as a user drives it: exit statuses, errors, JSON shape, colour."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import journeyflow
from journeyflow.cli import main
from journeyflow.versions import diff_journeys
from journeyflow.versions.schema import DIFF_SCHEMA, KINDS
from journeyflow.versions.text import print_diff

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BASE = """journey "j"
event go {}
message hello via email { subject "Hello" }
stage a start { on go -> b }
stage b { on enter { send hello } }
"""


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, "utf-8")
    return str(path)


def test_the_same_file_exits_0(runner: CliRunner) -> None:
    path = str(EXAMPLES / "lifecycle.journey")
    result = runner.invoke(main, ["diff", path, path])
    assert result.exit_code == 0
    assert result.output.startswith("no changes that matter to customers")


def test_a_change_exits_1(runner: CliRunner, tmp_path: Path) -> None:
    old = write(tmp_path, "old.journey", BASE)
    new = write(tmp_path, "new.journey", BASE.replace('"Hello"', '"Hi"'))
    result = runner.invoke(main, ["diff", old, new])
    assert result.exit_code == 1
    assert f"{old}:3" in result.output
    assert f"{new}:3" in result.output


def test_a_file_that_does_not_compile_exits_2_with_its_diagnostics(
        runner: CliRunner, tmp_path: Path) -> None:
    old = write(tmp_path, "old.journey", BASE)
    new = write(tmp_path, "new.journey", BASE.replace("send hello", "send helo"))
    result = runner.invoke(main, ["diff", old, new])
    assert result.exit_code == 2
    assert f"{new}:5:27: error[JF203]: unknown message 'helo'" in result.stderr
    assert "^^^^" in result.stderr
    assert "hint: did you mean 'hello'?" in result.stderr
    assert result.stdout == ""


def test_both_broken_files_are_reported(runner: CliRunner, tmp_path: Path) -> None:
    old = write(tmp_path, "old.journey", BASE.replace("-> b", "-> c"))
    new = write(tmp_path, "new.journey", "journey \"j\"\nstage {")
    result = runner.invoke(main, ["diff", old, new])
    assert result.exit_code == 2
    assert "error[JF201]" in result.stderr
    assert f"{new}:2" in result.stderr


@pytest.mark.parametrize("args", [
    ["diff", "missing.journey", "missing.journey"],
    ["diff", "one-file-only.journey"],
    ["diff", "a", "b", "--format", "yaml"],
])
def test_usage_errors_exit_2(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(main, args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_a_file_that_is_not_utf8_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    old = write(tmp_path, "old.journey", BASE)
    bad = tmp_path / "bad.journey"
    bad.write_bytes(b'journey "\xff"\n')
    result = runner.invoke(main, ["diff", old, str(bad)])
    assert result.exit_code == 2
    assert "not UTF-8" in result.stderr


def test_json_follows_the_schema(runner: CliRunner, tmp_path: Path) -> None:
    old = write(tmp_path, "old.journey", BASE)
    new = write(tmp_path, "new.journey", BASE.replace("on go -> b", "on go where true -> b"))
    result = runner.invoke(main, ["diff", old, new, "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    jsonschema.validate(data, DIFF_SCHEMA)
    assert data["changed"] is True
    assert [c["kind"] for c in data["changes"]] == ["rule.guard"]
    assert data["changes"][0]["rules"] == [
        {"stage": "a", "trigger": "on go", "old_index": 0, "new_index": 0}]


def test_json_of_no_change(runner: CliRunner) -> None:
    path = str(EXAMPLES / "b2b_renewal.journey")
    result = runner.invoke(main, ["diff", path, path, "--format", "json"])
    data = json.loads(result.stdout)
    jsonschema.validate(data, DIFF_SCHEMA)
    assert (data["changed"], data["count"], data["changes"]) == (False, 0, [])
    assert result.exit_code == 0


def test_every_kind_in_the_schema_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "diff.md").read_text("utf-8")
    missing = [kind for kind in KINDS if f"`{kind}`" not in doc]
    assert missing == []


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    old = journeyflow.loads(BASE, "old.journey")
    new = journeyflow.loads(BASE.replace('"Hello"', '"Hi"'), "new.journey")
    tty, plain = Terminal(), io.StringIO()
    print_diff(diff_journeys(old, new), tty)
    print_diff(diff_journeys(old, new), plain)
    assert "\x1b[" in tty.getvalue()
    assert "\x1b[" not in plain.getvalue()
    assert "old.journey:3" in plain.getvalue()
