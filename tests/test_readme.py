"""The README's commands and embedding example stay true."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_embedding_example_runs_as_printed() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    code = re.search(r"```python\n(.*?)```", readme, re.S)
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
    assert lines[1].startswith("['Welcome, Ana!', 'Thank you for your order, Ana'")
    assert lines[2].startswith("{'at': ")


def test_readme_commands_name_real_files() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert (ROOT / "scripts" / "bootstrap").exists()
    for name in re.findall(r"examples/[\w.]+", readme):
        assert (ROOT / name).exists(), name
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert ".venv/bin/pytest" in readme
    assert ".venv/bin/pytest" in ci
