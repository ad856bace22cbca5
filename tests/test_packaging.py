"""The built wheel ships the grammar (the one loader reads it as package data)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_the_grammar_and_type_marker(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(tmp_path)],
                   check=True, capture_output=True)
    wheel = next(tmp_path.glob("journeyflow-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "journeyflow/grammar/journey.lark" in names
    assert "journeyflow/py.typed" in names


def test_top_level_grammar_is_the_packaged_one() -> None:
    top = ROOT / "grammar" / "journey.lark"
    assert top.resolve() == (ROOT / "journeyflow" / "grammar" / "journey.lark").resolve()
