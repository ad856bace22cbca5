"""The compiled-journey cache: a journey read back is the journey compiled, and a stale,
damaged or foreign entry is never used."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import networkx as nx
import pytest

from journeyflow import journey_cache as jc
from journeyflow.errors import CompileError
from journeyflow.journey import Journey, load
from journeyflow.runtime.scenarios import run_scenarios
from tests.conftest import EXAMPLES, GOLDEN

WARNED = GOLDEN / "errors" / "JF601-unreachable-stage.journey"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.journey.pickle"))


def _same(cached: Journey, fresh: Journey) -> None:
    assert cached.model == fresh.model
    assert cached.warnings == fresh.warnings
    assert cached.scenarios == fresh.scenarios
    assert cached.behaviour == fresh.behaviour
    assert (cached.source, cached.file) == (fresh.source, fresh.file)
    assert nx.node_link_data(cached.graph, edges="edges") == nx.node_link_data(
        fresh.graph, edges="edges")


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.journey")) + [WARNED],
                         ids=lambda p: p.stem)
def test_a_journey_read_back_is_the_journey_compiled(path: Path, folder: Path) -> None:
    fresh = jc.load_cached(path, folder)
    assert type(fresh) is Journey
    assert len(_entries(folder)) == 1
    cached = jc.load_cached(path, folder)
    assert isinstance(cached, jc.CachedJourney)
    _same(cached, fresh)
    assert [(r.ok, r.failures, r.error) for r in run_scenarios(cached)] == [
        (r.ok, r.failures, r.error) for r in run_scenarios(fresh)]


def test_warnings_are_kept(folder: Path) -> None:
    jc.load_cached(WARNED, folder)
    cached = jc.load_cached(WARNED, folder)
    assert isinstance(cached, jc.CachedJourney)
    assert [d.code for d in cached.warnings] == [d.code for d in load(WARNED).warnings]
    assert "JF601" in {d.code for d in cached.warnings}


def _journey(tmp_path: Path, subject: str = "Hi") -> Path:
    path = tmp_path / "j.journey"
    path.write_text('journey "j"\nevent hi {}\nmessage welcome via email { template "w.txt" }\n'
                    'stage a start { on hi -> b }\nstage b { on enter { send welcome } }\n',
                    "utf-8")
    (tmp_path / "w.txt").write_text(subject + " {{ customer.id }}", "utf-8")
    return path


def test_an_edited_journey_is_compiled_again(tmp_path: Path, folder: Path) -> None:
    path = _journey(tmp_path)
    jc.load_cached(path, folder)
    path.write_text(path.read_text("utf-8").replace('"j"', '"k"'), "utf-8")
    journey = jc.load_cached(path, folder)
    assert type(journey) is Journey
    assert journey.name == "k"
    assert len(_entries(folder)) == 2


def test_an_edited_template_is_checked_again(tmp_path: Path, folder: Path) -> None:
    path = _journey(tmp_path)
    jc.load_cached(path, folder)
    assert isinstance(jc.load_cached(path, folder), jc.CachedJourney)
    (tmp_path / "w.txt").write_text("Hello {{ customer.id }}", "utf-8")
    assert type(jc.load_cached(path, folder)) is Journey
    (tmp_path / "w.txt").write_text("{{ customer.nickname }}", "utf-8")
    with pytest.raises(CompileError) as cached:
        jc.load_cached(path, folder)
    with pytest.raises(CompileError) as fresh:
        load(path)
    assert cached.value.diagnostics == fresh.value.diagnostics
    (tmp_path / "w.txt").unlink()
    with pytest.raises(CompileError):
        jc.load_cached(path, folder)


def test_errors_are_reported_as_without_the_cache_and_never_kept(tmp_path: Path,
                                                                  folder: Path) -> None:
    path = tmp_path / "bad.journey"
    path.write_text('journey "j"\nstage a start { on nothing -> b }\n', "utf-8")
    with pytest.raises(CompileError) as cached:
        jc.load_cached(path, folder)
    with pytest.raises(CompileError) as fresh:
        load(path)
    assert cached.value.diagnostics == fresh.value.diagnostics
    assert _entries(folder) == []


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_a_damaged_entry_is_compiled_again_and_replaced(damage: str, tmp_path: Path,
                                                        folder: Path) -> None:
    path = _journey(tmp_path)
    jc.load_cached(path, folder)
    (entry,) = _entries(folder)
    data = entry.read_bytes()
    entry.write_bytes({"truncate": data[:len(data) // 2],
                       "flip": data[:-10] + bytes([data[-10] ^ 1]) + data[-9:],
                       "garbage": b"\x80\x05not a pickle", "empty": b""}[damage])
    journey = jc.load_cached(path, folder)
    assert type(journey) is Journey
    assert entry.read_bytes() == data
    assert isinstance(jc.load_cached(path, folder), jc.CachedJourney)


def test_an_entry_of_another_build_is_not_read(tmp_path: Path, folder: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = _journey(tmp_path)
    jc.load_cached(path, folder)
    monkeypatch.setattr(jc, "_build_text", "another journeyflow")
    assert type(jc.load_cached(path, folder)) is Journey
    assert len(_entries(folder)) == 2


def test_a_folder_others_can_write_to_is_not_used(tmp_path: Path, folder: Path) -> None:
    path = _journey(tmp_path)
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    assert type(jc.load_cached(path, folder)) is Journey
    assert type(jc.load_cached(path, folder)) is Journey
    assert _entries(folder) == []


def test_an_unusable_folder_never_fails_a_load(tmp_path: Path) -> None:
    path = _journey(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("", "utf-8")
    assert jc.load_cached(path, blocker / "cache").name == "j"


def test_the_least_recently_used_entries_go(tmp_path: Path, folder: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jc, "MAX_ENTRIES", 2)
    path = _journey(tmp_path)
    text = path.read_text("utf-8")
    for age, name in enumerate("kmn"):
        path.write_text(text.replace('journey "j"', f'journey "{name}"'), "utf-8")
        jc.load_cached(path, folder)
        for entry in _entries(folder):  # each older than the next, whatever the clock
            if entry.stat().st_mtime_ns > 10**12:
                os.utime(entry, ns=(age * 10**9, age * 10**9))
    assert len(_entries(folder)) == 2
    assert isinstance(jc.load_cached(path, folder), jc.CachedJourney)  # the newest stays
    path.write_text(text.replace('journey "j"', 'journey "k"'), "utf-8")
    assert type(jc.load_cached(path, folder)) is Journey  # the oldest went


def test_without_a_folder_nothing_is_kept(tmp_path: Path) -> None:
    path = _journey(tmp_path)
    assert type(jc.load_cached(path, None)) is Journey


def test_a_scenario_file_beside_the_journey_is_part_of_the_key(tmp_path: Path,
                                                               folder: Path) -> None:
    source = EXAMPLES / "lifecycle.journey"
    path = tmp_path / "lifecycle.journey"
    shutil.copy(source, path)
    first = jc.load_cached(path, folder)
    sidecar = path.with_suffix(".scenario")
    sidecar.write_text('scenario "from the side file" {\n}\n', "utf-8")
    second = jc.load_cached(path, folder)
    assert type(second) is Journey
    assert len(second.scenarios) == len(first.scenarios) + 1
