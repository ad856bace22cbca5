"""Where cached files are kept, and the switches that move or turn off the cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeyflow.cachedir import cache_folder, private


def test_the_folder_and_switches(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("JOURNEYFLOW_NO_CACHE", "JOURNEYFLOW_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_folder() == tmp_path / ".cache" / "journeyflow"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_folder() == tmp_path / "xdg" / "journeyflow"
    monkeypatch.setenv("JOURNEYFLOW_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_folder() == tmp_path / "mine"
    monkeypatch.setenv("JOURNEYFLOW_NO_CACHE", "1")
    assert cache_folder() is None
    monkeypatch.setenv("JOURNEYFLOW_NO_CACHE", "0")
    assert cache_folder() == tmp_path / "mine"


def test_only_a_private_folder_is_used(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    assert private(mine)  # made, ours, nobody else may write
    assert mine.is_dir()
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    assert not private(shared)
