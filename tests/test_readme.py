"""The README's commands and embedding example run as printed."""

from __future__ import annotations

import contextlib
import glob
import io
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeyflow.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")
ACTIVATE = ". .venv/bin/activate"
BOOTSTRAP = "./scripts/bootstrap && "


def shell_blocks() -> list[list[str]]:
    """The README's ``sh`` blocks, each as its command lines."""
    return [[line for line in block.splitlines() if line.strip()]
            for block in re.findall(r"```sh\n(.*?)```", README, re.S)]


def journeyflow_args(line: str, prefix: str) -> list[str]:
    """The arguments of one ``journeyflow`` command line, globs expanded as a shell would."""
    words = shlex.split(line, comments=True)
    assert words[0] == prefix, line
    args: list[str] = []
    for word in words[1:]:
        args += sorted(glob.glob(word)) if "*" in word else [word]
    return args


@pytest.fixture
def in_a_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory like the repository's, so the commands' outputs land in tmp."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_line(line: str, prefix: str) -> str:
    result = CliRunner().invoke(main, journeyflow_args(line, prefix))
    assert result.exit_code == 0, f"{line}\n{result.output}"
    assert "Traceback" not in result.output
    return result.output


def test_the_first_command_runs_the_flagship_journey(in_a_copy: Path) -> None:
    first = shell_blocks()[0]
    assert len(first) == 1
    assert first[0].startswith(BOOTSTRAP)
    output = run_line(first[0].removeprefix(BOOTSTRAP), ".venv/bin/journeyflow")
    assert "19 processed, 2 rejected" in output
    assert (in_a_copy / "lifecycle.trace.jsonl").stat().st_size > 0


def test_the_test_command_is_the_one_ci_runs() -> None:
    assert shell_blocks()[1] == [BOOTSTRAP + ".venv/bin/pytest"]
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert "./scripts/bootstrap" in ci
    assert "\n.venv/bin/pytest\n" in ci


def test_what_it_does_runs_as_written(in_a_copy: Path) -> None:
    lines = shell_blocks()[2]
    assert lines[0] == ACTIVATE
    for line in lines[1:]:
        run_line(line, "journeyflow")
    for written in ("state.json", "report.json", "map.svg"):
        assert (in_a_copy / written).stat().st_size > 0, written


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "activate").is_file(),
                    reason="no .venv: this checkout was not set up with scripts/bootstrap")
def test_activating_the_venv_puts_journeyflow_on_path() -> None:
    script = f"{ACTIVATE} && command -v journeyflow && journeyflow --help"
    done = subprocess.run(["sh", "-c", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={k: v for k, v in os.environ.items()
                                            if k not in ("VIRTUAL_ENV", "PYTHONHOME")},
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == str(ROOT / ".venv" / "bin" / "journeyflow")
    assert "Usage: journeyflow" in done.stdout


def test_bootstrap_says_how_to_activate() -> None:
    assert ACTIVATE in (ROOT / "scripts" / "bootstrap").read_text("utf-8")


def test_embedding_example_runs_as_printed() -> None:
    code = re.search(r"```python\n(.*?)```", README, re.S)
    assert code is not None
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code.group(1), "README.md", "exec"), {})  # noqa: S102 - our own docs
    finally:
        os.chdir(cwd)
    lines = out.getvalue().splitlines()
    assert lines[0] == "service"
    assert lines[1].startswith("['Welcome, Ana!', 'Your order: 80 €'")
    assert lines[2].startswith("{'at': ")


def test_readme_names_real_files() -> None:
    for name in re.findall(r"(?:examples|docs|tests)/[\w./-]+\w", README):
        assert (ROOT / name).exists(), name
