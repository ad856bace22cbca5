"""The migration report: every count it keeps, as text and as JSON."""

from __future__ import annotations

from journeyflow.versions.blocking import Problem
from journeyflow.versions.migrate_report import MigrationReport


def _report() -> MigrationReport:
    report = MigrationReport("Trial", "2", moves={"trial": "onboarding", "demo": "onboarding"})
    report.customers.update({"1": 3400, "sha256:abc": 12})
    report.moved["trial", "onboarding"] = 3412
    report.rewritten["seats"] = 3412
    report.added_attributes["vip"] = 3412
    report.dropped_attributes["plan"] = 3412
    report.dropped_goals["trialled"] = 7
    report.timers_kept, report.timers_recomputed, report.timers_due_now = 5, 9, 2
    report.delayed_kept = 4
    report.delayed_dropped["after 2d at line 11"] = 1
    report.sends_kept = 2
    report.sends_dropped["tip"] = 1
    report.fired_forgotten = 3
    return report


def test_the_text_counts_every_change() -> None:
    assert _report().text() == (
        "journey 'Trial': 3,412 customers on other versions (3,400 customers on version 1, "
        "12 customers on version sha256:abc)\n"
        "would move them to version 2:\n"
        "  stage trial -> onboarding: 3,412 customers\n"
        "  attribute seats rewritten: 3,412 customers\n"
        "  attribute vip added (its default): 3,412 customers\n"
        "  attribute plan dropped: 3,412 customers\n"
        "  goal trialled dropped: 7 customers\n"
        "  stage timers kept (rule unchanged): 5\n"
        "  stage timers recomputed: 9 (2 already due: they fire at the next step)\n"
        "  delayed statements kept: 4\n"
        "  delayed statement after 2d at line 11 dropped: 1\n"
        "  deferred sends kept: 2\n"
        "  deferred send of tip dropped: 1\n"
        "  `when` rules that may fire again (gone or changed): 3\n"
        "  warning: stage demo -> onboarding moved nobody ('demo' was empty, or the name is "
        "misspelt)\n")


def test_an_unused_mapping_is_explained_by_the_old_stages() -> None:
    report = _report()
    report.old_stages = {"trial"}
    assert report.unused_move_text("demo") == (
        "stage demo -> onboarding moved nobody: no earlier version in the store has a stage "
        "'demo' (misspelt?)")
    report.old_stages = {"trial", "demo"}
    assert report.unused_move_text("demo") == ("stage demo -> onboarding moved nobody: 'demo' "
                                               "was empty")


def test_an_applied_migration_says_moved() -> None:
    report = _report()
    report.applied = True
    assert report.text().split("\n")[1] == "moved them to version 2:"


def test_json_has_the_same_counts() -> None:
    data = _report().as_json()
    assert data["customers"] == {"1": 3400, "sha256:abc": 12}
    assert data["unused_moves"] == ["demo"]
    assert data["timers"] == {"kept": 5, "recomputed": 9, "due_now": 2}
    assert data["blocked"] is False


def test_problems_replace_the_changes() -> None:
    report = _report()
    report.problems.add(Problem("stage", "trial"), 3412)
    report.problems.add(Problem("type", "plan", "text"), 1)
    assert report.text().split("\n")[1:] == [
        "migration to version 2 is blocked; nothing was changed:",
        "  error: 3,412 customers are in stage 'trial', which version 2 does not have",
        "    hint: add  migrate { stage trial -> STAGE }",
        "  error: 1 customer holds text in 'plan', which version 2 declares with another type",
        "    hint: add  migrate { set plan = ... }  (it reads the old values)",
        ""]
    assert [p["customers"] for p in report.as_json()["problems"]] == [3412, 1]
