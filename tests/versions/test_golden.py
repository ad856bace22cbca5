"""Golden diffs: each typical edit of an example, as ``journeyflow diff`` prints it.

``tests/golden/diff/NAME.diff`` is the text output, ``NAME.json`` the JSON output where
there is one; regenerate with ``pytest --update-golden`` and review the change.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeyflow.cli import main
from tests.versions.cases import EDITS, Edit

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "diff"
JSON_CASES = {"new-stage", "reordered-first-match-rule", "mail-body-copy-edit"}
UNCHANGED = {"comments-and-layout-only", "reordered-declarations"}


def run_diff(runner: CliRunner, edit: Edit, where: Path, *options: str) -> tuple[int, str]:
    """Write both versions under ``where`` and diff them by relative paths, as a user would."""
    for folder, text in (("old", edit.source()), ("new", edit.apply(edit.source()))):
        (where / folder).mkdir(exist_ok=True)
        (where / folder / edit.example).write_text(text, "utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(where)
        result = runner.invoke(main, ["diff", f"old/{edit.example}", f"new/{edit.example}",
                                      *options])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


@pytest.mark.parametrize("edit", EDITS, ids=lambda e: e.name)
def test_text(edit: Edit, runner: CliRunner, tmp_path: Path,
              golden: Callable[[Path, str], None]) -> None:
    status, output = run_diff(runner, edit, tmp_path)
    golden(GOLDEN / f"{edit.name}.diff", output)
    assert status == (0 if edit.name in UNCHANGED else 1)


@pytest.mark.parametrize("edit", [e for e in EDITS if e.name in JSON_CASES], ids=lambda e: e.name)
def test_json(edit: Edit, runner: CliRunner, tmp_path: Path,
              golden: Callable[[Path, str], None]) -> None:
    status, output = run_diff(runner, edit, tmp_path, "--format", "json")
    golden(GOLDEN / f"{edit.name}.json", output)
    assert status == 1


def test_every_golden_file_has_its_edit() -> None:
    names = {e.name for e in EDITS}
    orphans = [p.name for p in GOLDEN.iterdir() if p.stem not in names]
    assert orphans == []
