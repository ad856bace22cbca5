"""The parser's tables are kept in the cache folder and rebuilt when they cannot be read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLES

CHECK = [sys.executable, "-c", "from journeyflow.cli import main; main()", "check",
         str(EXAMPLES / "lifecycle.journey")]


def check(folder: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JOURNEYFLOW_CACHE_DIR": str(folder)}
    env.pop("JOURNEYFLOW_NO_CACHE", None)
    return subprocess.run(CHECK, capture_output=True, text=True, env=env, check=False)


def test_tables_are_kept_read_back_and_rebuilt_when_damaged(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    first = check(folder)
    assert first.returncode == 0, first.stderr
    [tables] = folder.glob("parser-*.lark")
    second = check(folder)
    assert (second.returncode, second.stdout, second.stderr) == (
        first.returncode, first.stdout, first.stderr)
    tables.write_bytes(b"not a table at all")
    third = check(folder)
    assert (third.returncode, third.stdout, third.stderr) == (
        first.returncode, first.stdout, first.stderr)
    assert tables.read_bytes() != b"not a table at all"  # written again


def test_a_folder_others_can_write_to_is_not_used(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    done = check(folder)
    assert done.returncode == 0, done.stderr
    assert not list(folder.glob("parser-*.lark"))
