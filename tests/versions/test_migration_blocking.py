"""Every reason a migration is blocked: nothing changes, every problem is listed with the
customers it concerns and the line that would fix it."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from journeyflow.errors import JourneyError
from tests.versions.migrating import (
    V1,
    edit,
    engine,
    history,
    run_and_close,
    signups,
    url,
    version,
    versions,
)

PROMO = """journey "Promo"
version 1
customer { plan: text = "basic" }
event signed_up {}
event redeemed {}
message a via email { subject "A" }
message b via email { subject "B" }
message c via email { subject "C" }
stage new start {
  on signed_up {
    grant bonus welcome 10% expires 30d
    split "subject" { 34% first { send a } 33% second { send b } 33% third { send c } }
  }
  on redeemed -> done
}
stage done final
"""


def blocked(text: str, store: str) -> str:
    """The report of a migration to ``text`` that something blocks."""
    with pytest.raises(JourneyError) as err:
        engine(text, store)
    return str(err.value)


def arms(store: str) -> list[int]:
    with sqlite3.connect(store.removeprefix("sqlite:///")) as db:
        return [int(arm) for (arm,) in db.execute(
            "SELECT json_extract(state, '$.arms.subject') FROM jf_customers")]


@pytest.fixture
def promo(tmp_path: Path) -> str:
    store = url(tmp_path)
    run_and_close(PROMO, store, signups(12))
    return store


def test_a_populated_stage_the_new_version_lacks(tmp_path: Path) -> None:
    store = url(tmp_path)
    run_and_close(V1, store, signups(3))
    report = blocked(edit(version(V1, 2), ("stage trial start", "stage onboarding start")),
                     store)
    assert ("error: 3 customers are in stage 'trial', which version 2 does not have\n"
            "    hint: add  migrate { stage trial -> STAGE }") in report
    assert versions(store) == {"1": 3}
    assert history(store, "migrated") == []


def test_an_attribute_whose_type_changed(tmp_path: Path) -> None:
    store = url(tmp_path)
    run_and_close(V1, store, signups(2))
    report = blocked(edit(version(V1, 2), ('plan: text = "basic"', "plan: number = 0")), store)
    assert ("error: 2 customers hold text in 'plan', which version 2 declares with another "
            "type\n    hint: add  migrate { set plan = ... }  (it reads the old values)"
            ) in report


def test_a_rewrite_that_gives_the_wrong_type(tmp_path: Path) -> None:
    store = url(tmp_path)
    run_and_close(V1, store, signups(2))
    new = edit(version(V1, 2), ('plan: text = "basic"', "plan: number = 0")) + (
        "migrate { set plan = plan }\n")
    report = blocked(new, store)
    assert ("error: the migrate rewrite of 'plan' fails for 2 customers: it gives text, not "
            "number\n    hint: fix  set plan = ...  in the migrate block") in report


def test_a_held_bonus_the_new_version_cannot_expire(promo: str) -> None:
    new = edit(version(PROMO, 2), ("    grant bonus welcome 10% expires 30d\n", ""))
    report = blocked(new, promo)
    assert ("error: 12 customers hold bonus 'welcome', which version 2 never grants, so it "
            "could neither expire nor be redeemed\n"
            "    hint: keep a  grant bonus welcome ...  statement in version 2") in report


def test_a_split_that_no_longer_exists(promo: str) -> None:
    new = edit(version(PROMO, 2), (
        '    split "subject" { 34% first { send a } 33% second { send b } 33% third '
        '{ send c } }\n', "    send a\n"))
    report = blocked(new, promo)
    assert ("error: 12 customers took an arm of split 'subject', which version 2 no longer "
            "has") in report


def test_a_split_that_lost_an_arm(promo: str) -> None:
    third = arms(promo).count(2)
    assert third > 0
    new = edit(version(PROMO, 2), ("34% first { send a } 33% second { send b } 33% third "
                                   "{ send c }", "50% first { send a } 50% second { send b }"))
    report = blocked(new, promo)
    who = "1 customer" if third == 1 else f"{third} customers"
    assert (f"error: {who} took arm 3 of split 'subject', which has fewer arms in version 2"
            ) in report


def test_every_problem_is_listed_at_once(promo: str) -> None:
    """The most customers first; as many, by kind (bonus, split, stage, attribute type)."""
    new = edit(version(PROMO, 2), ("stage new start", "stage fresh start"),
               ('plan: text = "basic"', "plan: bool = false"),
               ("    grant bonus welcome 10% expires 30d\n", ""))
    report = blocked(new, promo)
    errors = re.findall(r"error: (\d+) customers (are in stage|hold text|hold bonus)", report)
    assert [kind for _, kind in errors] == ["hold bonus", "are in stage", "hold text"]
    assert report.startswith(f"the state store {promo.removeprefix('sqlite:///')} holds "
                             "customers of another version: journey 'Promo': 12 customers")


def test_a_store_without_the_old_source_needs_the_old_file(tmp_path: Path) -> None:
    store = url(tmp_path)
    run_and_close(V1, store, signups(2))
    with sqlite3.connect(store.removeprefix("sqlite:///")) as db:
        db.execute("DELETE FROM jf_versions")
    report = blocked(version(V1, 2), store)
    assert ("error: 2 customers run on version 1, whose journey the store does not hold, so "
            "their timers and delayed statements cannot be matched\n"
            "    hint: pass that version's file: journeyflow migrate --store URL --old "
            "OLD.journey NEW.journey") in report
