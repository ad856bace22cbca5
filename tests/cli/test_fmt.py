"""`journeyflow fmt` on files: rewrite, --check, and the moved-split warning."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from journeyflow.cli import main

MESSY = ('journey "s"\n\n\n\nevent go {}\nmessage a via email { subject "a" }\n'
         'message b via email { subject "b" }\n'
         "stage x start { on go { split { 50% { send a } 50% { send b } } } }  # a/b test\n")


def test_fmt_rewrites_and_check_reports(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "s.journey"
    path.write_text(MESSY, "utf-8")
    checked = runner.invoke(main, ["fmt", "--check", str(path)])
    assert checked.exit_code == 1
    assert path.read_text("utf-8") == MESSY  # --check changes nothing
    result = runner.invoke(main, ["fmt", str(path)])
    assert result.exit_code == 0
    assert "# a/b test" in path.read_text("utf-8")
    assert "formatting moves a split from 8:25" in result.output
    again = runner.invoke(main, ["fmt", "--check", str(path)])
    assert again.exit_code == 0


def test_fmt_syntax_error_is_reported(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "bad.journey"
    path.write_text('journey "x"\nstage a start {\n', "utf-8")
    result = runner.invoke(main, ["fmt", str(path)])
    assert result.exit_code == 1
    assert "bad.journey:2:" in result.output
    assert "Traceback" not in result.output
