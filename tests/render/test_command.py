"""``journeyflow render`` as a user runs it: formats, stdout, and errors without tracebacks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeyflow import JourneyError
from journeyflow.cli import main
from journeyflow.render import engine
from journeyflow.render.output import render_diagram
from tests.render.cases import FIXTURES, LANGUAGE_EXAMPLE, LANGUAGE_REPORT, diagram_of

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")
JOURNEY = str(LANGUAGE_EXAMPLE)
MAGIC = {"png": b"\x89PNG", "pdf": b"%PDF", "svg": b"<?xml", "html": b"<!DOCTYPE html>",
         "dot": b"digraph ", "mmd": b"flowchart LR"}


@needs_dot
@pytest.mark.parametrize("suffix", sorted(MAGIC))
def test_format_from_the_suffix(runner: CliRunner, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"map.{suffix}"
    result = runner.invoke(main, ["render", JOURNEY, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(MAGIC[suffix])


@needs_dot
def test_format_option_wins_over_the_suffix(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "map.txt"
    result = runner.invoke(main, ["render", JOURNEY, "-o", str(out), "--format", "svg"])
    assert result.exit_code == 0, result.output
    assert b"<svg" in out.read_bytes()


@pytest.mark.parametrize(("fmt", "start"), [("dot", "digraph "), ("mermaid", "flowchart LR")])
def test_dash_writes_text_to_stdout(runner: CliRunner, fmt: str, start: str) -> None:
    result = runner.invoke(main, ["render", JOURNEY, "-o", "-", "--format", fmt])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(start)


def test_dash_defaults_to_dot(runner: CliRunner) -> None:
    result = runner.invoke(main, ["render", JOURNEY, "-o", "-"])
    assert result.exit_code == 0
    assert result.stdout.startswith("digraph ")


def test_dash_refuses_binary_formats(runner: CliRunner) -> None:
    result = runner.invoke(main, ["render", JOURNEY, "-o", "-", "-f", "png"])
    assert result.exit_code == 1
    assert "'-o -' writes text; png needs a file name" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_suffix(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["render", JOURNEY, "-o", str(tmp_path / "map.jpg")])
    assert result.exit_code == 1
    assert "cannot tell the format from" in result.stderr
    assert ".svg" in result.stderr


def test_compile_errors_print_diagnostics(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.journey"
    bad.write_text('journey "bad"\nstage a start { -> nowhere }\n', "utf-8")
    result = runner.invoke(main, ["render", str(bad), "-o", str(tmp_path / "x.dot")])
    assert result.exit_code == 1
    assert "bad.journey:2:" in result.stderr
    assert "error[" in result.stderr
    assert not (tmp_path / "x.dot").exists()


@needs_dot
def test_stats_overlay_from_the_command_line(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "map.dot"
    result = runner.invoke(main, ["render", JOURNEY, "-o", str(out), "--stats",
                                  str(LANGUAGE_REPORT)])
    assert result.exit_code == 0, result.output
    assert "1,000 simulated customers" in out.read_text("utf-8")


@pytest.mark.parametrize(("content", "message"), [
    ('{"customers": 3}', "missing key 'stages' in the report"),
    ('{"customers": 3, "stages": {"nowhere": {"reached": 1, "share": 0.3, "at_end": 1}}, '
     '"transitions": [], "messages": {}}', "unknown stage 'nowhere' in stages"),
    ("{", "the stats report is not valid JSON"),
])
def test_bad_stats_are_a_clear_error(runner: CliRunner, tmp_path: Path, content: str,
                                     message: str) -> None:
    report = tmp_path / "report.json"
    report.write_text(content, "utf-8")
    result = runner.invoke(main, ["render", JOURNEY, "-o", "-", "--stats", str(report)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_missing_stats_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["render", JOURNEY, "-o", "-", "--stats",
                                  str(tmp_path / "none.json")])
    assert result.exit_code == 1
    assert "cannot read the stats report" in result.stderr


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf", "html"])
def test_without_graphviz_images_explain_the_install(runner: CliRunner, tmp_path: Path,
                                                     fmt: str) -> None:
    # An empty PATH: the real lookup fails, exactly as on a machine without Graphviz.
    result = runner.invoke(main, ["render", JOURNEY, "-o", str(tmp_path / f"map.{fmt}")],
                           env={"PATH": str(tmp_path)})
    assert result.exit_code == 1
    assert "apt-get install graphviz" in result.stderr
    assert "brew install graphviz" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("fmt", ["dot", "mermaid"])
def test_without_graphviz_text_formats_still_work(runner: CliRunner, tmp_path: Path,
                                                  fmt: str) -> None:
    result = runner.invoke(main, ["render", JOURNEY, "-o", "-", "-f", fmt],
                           env={"PATH": str(tmp_path)})
    assert result.exit_code == 0, result.output


def test_columns_option(runner: CliRunner) -> None:
    result = runner.invoke(main, ["render", JOURNEY, "-o", "-", "--columns", "3"])
    assert result.exit_code == 0
    assert result.stdout.count("{rank=same;") == 3


def test_unicode_names_survive(runner: CliRunner) -> None:
    result = runner.invoke(main, ["render", str(FIXTURES / "tricky.journey"), "-o", "-",
                                  "-f", "mermaid"])
    assert result.exit_code == 0
    assert "<b>prüfung</b>" in result.stdout


def test_help_lists_the_formats(runner: CliRunner) -> None:
    result = runner.invoke(main, ["render", "--help"])
    assert result.exit_code == 0
    for fmt in ("svg", "png", "pdf", "dot", "mermaid", "html", "--stats"):
        assert fmt in result.output


def test_library_raises_a_journey_error_without_graphviz(monkeypatch: pytest.MonkeyPatch) -> None:
    diagram = diagram_of(LANGUAGE_EXAMPLE)
    monkeypatch.setattr(engine, "has_dot", lambda: False)
    for fmt in ("svg", "png", "pdf", "html"):
        with pytest.raises(JourneyError, match="apt-get install graphviz"):
            render_diagram(diagram, fmt)
    assert render_diagram(diagram, "dot").startswith(b"digraph ")
    assert render_diagram(diagram, "mermaid").startswith(b"flowchart LR")
