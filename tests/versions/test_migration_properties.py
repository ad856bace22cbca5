"""Properties of migration: random customers run events A on the old version, the store is
migrated, they run events B on the new one; the outcome is what it should be."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.versions.migrating import RENAMED, T0, V1, edit, run, run_and_close, version

PROPERTY = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
HOUR = 3600.0
# Stores made and dropped by the hundred: in memory-backed files when the machine has them.
SCRATCH = "/dev/shm" if Path("/dev/shm").is_dir() else None

steps = st.lists(st.tuples(st.integers(0, 2), st.sampled_from(["signed_up", "used", "paid"]),
                           st.integers(0, 60), st.integers(1, 9)), min_size=1, max_size=14)


def _events(drawn: list[tuple[int, str, int, int]]) -> list[dict[str, Any]]:
    at, out = T0, []
    for i, (who, name, gap, minutes) in enumerate(drawn):
        at += gap * HOUR
        event: dict[str, Any] = {"at": at, "customer": f"c{who}", "event": name, "id": f"e{i}"}
        if name == "used":
            event["data"] = {"minutes": minutes}
        out.append(event)
    return out


def _split(events: list[dict[str, Any]], cut: int) -> tuple[list[dict[str, Any]],
                                                             list[dict[str, Any]], float, float]:
    cut = min(cut, len(events))
    first, second = events[:cut], events[cut:]
    middle = first[-1]["at"] if first else T0
    end = (events[-1]["at"] if events else T0) + 10 * 24 * HOUR
    return first, second, middle, end


def _migrated_run(old: str, new: str, first: list[dict[str, Any]], second: list[dict[str, Any]],
                  middle: float, end: float) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A on ``old`` in a store, then B on ``new`` (opening it migrates): final state and
    B's trace."""
    with tempfile.TemporaryDirectory(dir=SCRATCH) as folder:
        store = f"sqlite:///{Path(folder) / 'state.db'}"
        run_and_close(old, store, first, middle)
        e = run(new, store, second, end)
        state, trace = e.state(), e.trace
        e.close()
    return state, trace


@PROPERTY
@given(steps, st.integers(0, 14))
def test_a_version_migrated_to_itself_changes_nothing(drawn: list[Any], cut: int) -> None:
    first, second, middle, end = _split(_events(drawn), cut)
    same = _migrated_run(V1, V1, first, second, middle, end)
    bumped = _migrated_run(V1, version(V1, 2), first, second, middle, end)
    assert bumped == same


@PROPERTY
@given(steps, st.integers(0, 14))
def test_a_rename_with_a_mapping_ends_as_if_named_so_all_along(drawn: list[Any],
                                                               cut: int) -> None:
    events = _events(drawn)
    first, second, middle, end = _split(events, cut)
    migrated, _ = _migrated_run(V1, RENAMED, first, second, middle, end)
    along = run(RENAMED, None, events, middle)
    along.advance(end)
    assert migrated["customers"] == along.state()["customers"]


@PROPERTY
@given(steps, st.integers(0, 14))
# Two customers' timers due at one instant: they must fire in the order they had.
@example([(0, "signed_up", 0, 1), (0, "signed_up", 24, 1), (1, "signed_up", 0, 1),
          (0, "signed_up", 24, 1)], 4)
def test_a_copy_edit_changes_only_the_text(drawn: list[Any], cut: int) -> None:
    first, second, middle, end = _split(_events(drawn), cut)
    copy = edit(version(V1, 2), ('"Still there?"', '"Are you still there?"'),
                ('"Thank you"', '"Thanks a lot"'))
    assert _migrated_run(V1, copy, first, second, middle, end) == _migrated_run(
        V1, V1, first, second, middle, end)
