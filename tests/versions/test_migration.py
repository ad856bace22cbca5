"""Opening a store with another version of its journey migrates the customers."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeyflow.errors import JourneyError
from journeyflow.journey import version_of
from journeyflow.live.sqlite import journey_version
from tests.versions.migrating import (
    DAY,
    RENAMED,
    T0,
    V1,
    edit,
    engine,
    history,
    run,
    run_and_close,
    signups,
    url,
    version,
    versions,
)


def test_a_rename_with_a_mapping_moves_every_customer(tmp_path: Path) -> None:
    store = url(tmp_path)
    run_and_close(V1, store, signups(3), T0 + DAY)
    e = engine(RENAMED, store)
    assert {c["stage"] for c in e.state()["customers"].values()} == {"onboarding"}
    report = e.store.migration  # type: ignore[attr-defined]
    assert report.applied
    assert report.moved == {("trial", "onboarding"): 3}
    e.close()
    assert versions(store) == {"2": 3}
    records = history(store, "migrated")
    assert len(records) == 3
    # at the store's latest time: the last step of any customer (the last signup)
    assert records[0] == {"customer": "c0", "at": T0 + 120, "from": "1", "to": "2",
                          "from_stage": "trial", "stage": "onboarding"}


def test_what_carries_over(tmp_path: Path) -> None:
    """Stage, entry, attributes, tags, goals, bonuses: a copy edit keeps all of it."""
    store = url(tmp_path)
    events = [*signups(1), {"at": T0 + 3600, "customer": "c0", "event": "used", "id": "u"}]
    before = run_and_close(V1, store, events, T0 + 4.5 * DAY)
    copy = edit(version(V1, 2), ('"Still there?"', '"Are you still there?"'))
    after = engine(copy, store)
    assert after.state()["customers"] == before["customers"]
    assert list(after.customer("c0").tags) == ["reminded"]  # type: ignore[union-attr]
    after.close()


def test_new_attributes_get_their_default_removed_ones_are_dropped(tmp_path: Path) -> None:
    store = url(tmp_path)
    run_and_close(V1, store, signups(1))
    new = edit(version(V1, 2), ('plan: text = "basic", ', ""),
               ("seats: number = 1 }", "seats: number = 1, vip: bool = true }"))
    e = engine(new, store)
    assert e.state()["customers"]["c0"]["attributes"] == {"seats": 1, "vip": True}
    e.close()


def test_set_rewrites_from_the_old_values(tmp_path: Path) -> None:
    store = url(tmp_path)
    events = [*signups(2), {"at": T0 + 3600, "customer": "c1", "event": "used", "id": "u"}]
    run_and_close(V1, store, events)
    new = edit(version(V1, 2), ("plan: text", "plan: bool"), ('= "basic"', "= false")) + (
        'migrate { set plan = seats > 1 \n set seats = seats * 10 }\n')
    e = engine(new, store)
    attributes = {cid: c["attributes"] for cid, c in e.state()["customers"].items()}
    e.close()
    assert attributes == {"c0": {"plan": False, "seats": 10}, "c1": {"plan": True, "seats": 20}}
    assert history(store, "migrated")[0]["rewritten"] == ["plan", "seats"]


def test_changed_timer_counts_from_the_original_entry(tmp_path: Path) -> None:
    """`after 3d` became `after 1d`: the nudge moves to one day after the customer entered."""
    store = url(tmp_path)
    run_and_close(V1, store, signups(1), T0 + 0.5 * DAY)
    e = run(edit(version(V1, 2), ("after 3d {", "after 1d {")), store, [], T0 + 4 * DAY)
    sends = [r for r in e.trace if r.get("message") == "nudge"]
    e.close()
    assert [r["at"] for r in sends] == ["2026-01-02T10:00:00Z"]


def test_a_timer_whose_new_time_has_passed_fires_at_the_next_step(tmp_path: Path) -> None:
    store = url(tmp_path)
    late = {"at": T0 + 2 * DAY, "customer": "other", "event": "signed_up", "id": "late"}
    run_and_close(V1, store, [*signups(1), late], T0 + 2 * DAY)
    e = run(edit(version(V1, 2), ("after 3d {", "after 1d {")), store, [], T0 + 4 * DAY)
    sends = [r for r in e.trace if r.get("message") == "nudge" and r["customer"] == "c0"]
    e.close()
    assert [r["at"] for r in sends] == ["2026-01-03T10:00:00Z"]  # the store's time, once


def test_a_timer_that_fired_is_not_set_again(tmp_path: Path) -> None:
    store = url(tmp_path)
    run_and_close(V1, store, signups(1), T0 + 3.5 * DAY)  # the nudge went out at 3d
    e = run(edit(version(V1, 2), ("after 3d {", "after 4d {")), store, [], T0 + 4.5 * DAY)
    assert not [r for r in e.trace if r.get("message") == "nudge"]
    e.close()


def test_delayed_statements_keep_their_time(tmp_path: Path) -> None:
    store = url(tmp_path)
    run_and_close(V1, store, signups(1), T0 + DAY)
    e = run(RENAMED, store, [], T0 + 3 * DAY)
    hello = [r["at"] for r in e.trace if r.get("message") == "hello"]
    e.close()
    assert hello == ["2026-01-03T10:00:00Z"]


def test_a_delayed_statement_naming_a_removed_message_is_dropped(tmp_path: Path) -> None:
    store = url(tmp_path)
    run_and_close(V1, store, signups(1), T0 + DAY)
    new = edit(version(V1, 2), ('message hello via email { subject "Hello" }\n', ""),
               ("  on enter { after 2d { send hello } }\n", ""))
    e = run(new, store, [], T0 + 3 * DAY)
    e.close()
    (record,) = history(store, "migrated")
    assert record["dropped"] == ["delayed statement after 2d at line 11: it sends 'hello', "
                                 "which version 2 does not have"]


def test_customers_already_on_the_version_are_left_alone(tmp_path: Path) -> None:
    store = url(tmp_path)
    run_and_close(V1, store, signups(1))
    run_and_close(RENAMED, store, [])
    assert len(history(store, "migrated")) == 1  # the second open found nothing to move


def test_a_blocked_migration_changes_nothing_and_says_why(tmp_path: Path) -> None:
    store = url(tmp_path)
    run_and_close(V1, store, signups(3))
    renamed = edit(version(V1, 2), ("stage trial start", "stage onboarding start"))
    with pytest.raises(JourneyError) as err:
        engine(renamed, store)
    assert ("error: 3 customers are in stage 'trial', which version 2 does not have\n"
            "    hint: add  migrate { stage trial -> STAGE }") in str(err.value)
    assert versions(store) == {"1": 3}
    assert history(store, "migrated") == []
    run_and_close(V1, store, [])  # still opens with the version its customers run on


def test_version_of_matches_the_store(tmp_path: Path) -> None:
    for text in (V1, V1.replace("version 1\n", "")):
        e = engine(text)
        assert version_of(e.journey) == journey_version(e)


def test_an_edit_without_a_new_version_line_migrates_in_place(tmp_path: Path) -> None:
    """The store recorded version 1's file: an edit that keeps `version 1` still moves the
    customers, so their timers name the rules of the file they now run on."""
    store = url(tmp_path)
    run_and_close(V1, store, signups(1), T0 + 0.5 * DAY)
    e = run(edit(V1, ("after 3d {", "after 1d {")), store, [], T0 + 4 * DAY)
    sends = [r["at"] for r in e.trace if r.get("message") == "nudge"]
    e.close()
    assert sends == ["2026-01-02T10:00:00Z"]
    (record,) = history(store, "migrated")
    assert (record["from"], record["to"]) == ("1", "1")
    assert versions(store) == {"1": 1}
    run_and_close(edit(V1, ("after 3d {", "after 1d {")), store, [])
    assert len(history(store, "migrated")) == 1  # the edit is recorded: once is enough


def test_a_layout_edit_without_a_new_version_line_moves_nothing(tmp_path: Path) -> None:
    store = url(tmp_path)
    run_and_close(V1, store, signups(1))
    run_and_close("# a comment changes nothing for customers\n" + V1, store, [])
    assert history(store, "migrated") == []
