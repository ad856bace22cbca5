"""Each kind of change, on a small journey that declares a bit of everything."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

import journeyflow
from journeyflow.versions import JourneyDiff, diff_journeys
from journeyflow.versions.schema import DIFF_SCHEMA

SHOP = """journey "shop"
version 1
timezone "Europe/Berlin"

customer {
  email: text
  points: number = 0
}

event signed_up { source: text = "web" }
event purchased { amount: number }
channel crm

message welcome via email { subject "Welcome" body "Nice to meet you" }
message thanks via email { subject "Thanks" }
message nudge via push { body "Still there?" }

limit email to 3 per 7d
quiet hours 22:00 to 08:00
send window mon-fri 09:00 to 18:00
segment big where points >= 100
goal bought on purchased
value sum(purchased.amount)
reentry after 90d

anywhere {
  on purchased { set points += event.amount }
}

stage lead start {
  on enter { send welcome }
  on signed_up where event.source == "ads" -> member { tag "ads" }
  on signed_up -> member
  after 7d { send nudge }
}

stage member {
  on purchased where big -> vip
  on purchased -> buyer {
    send thanks
    after 2d unless purchased { notify crm { task: "call" } }
  }
  every 30d { split { 50% { send nudge } 50% {} } }
}

stage buyer { when points > 500 -> vip }
stage vip final
"""


def diff(old: str, new: str) -> JourneyDiff:
    result = diff_journeys(journeyflow.loads(old, "old.journey"),
                           journeyflow.loads(new, "new.journey"))
    jsonschema.validate(result.as_dict(), DIFF_SCHEMA)
    return result


def edited(*replacements: tuple[str, str]) -> str:
    text = SHOP
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text


def summary(old: str, new: str) -> list[tuple[str, str, str | None, str | None]]:
    """The changes, but a moved split: most edits here move the one split of SHOP, which
    test_a_line_added_above_a_split_moves_it covers."""
    return [(c.kind, c.verb, c.old.text, c.new.text) for c in diff(old, new).changes
            if c.kind != "action.split_position"]


@pytest.mark.parametrize(("replacements", "expected"), [
    ((('journey "shop"', 'journey "store"'),),
     [("journey.name", "renamed", '"shop"', '"store"')]),
    ((("version 1", "version 2"),), [("journey.version", "changed", "1", "2")]),
    ((('"Europe/Berlin"', '"Europe/Paris"'),),
     [("journey.timezone", "changed", '"Europe/Berlin"', '"Europe/Paris"')]),
    ((("  points: number = 0\n", "  points: number = 0\n  vip_since: date?\n"),),
     [("attribute", "added", None, "vip_since: date?")]),
    ((("points: number = 0", "points: number = 10"),),
     [("attribute", "changed", "points: number = 0", "points: number = 10")]),
    ((("email: text", "email: text?"),),
     [("attribute", "changed", "email: text", "email: text?")]),
    ((('source: text = "web"', 'source: text = "web", campaign: text?'),),
     [("event.field", "added", None, "campaign: text?")]),
    ((('body "Nice to meet you"', 'body "Nice to see you"'),),
     [("message.body", "changed", "Nice to meet you", "Nice to see you")]),
    ((('subject "Thanks"', 'subject "Thank you"'),),
     [("message.subject", "changed", "Thanks", "Thank you")]),
    ((('message nudge via push', 'message nudge via sms'),),
     [("message.channel", "changed", "push", "sms")]),
    ((("limit email to 3 per 7d", "limit email to 2 per 7d"),),
     [("limit", "changed", "limit email to 3 per 7d", "limit email to 2 per 7d")]),
    ((("limit email to 3 per 7d", "limit email to 3 per 1w"),), []),
    ((("limit email to 3 per 7d", "limit email to 3 per 7d\nlimit push to 1 per 1d"),),
     [("limit", "added", None, "limit push to 1 per 1d")]),
    ((("quiet hours 22:00 to 08:00", "quiet hours 21:00 to 08:00"),),
     [("quiet_hours", "changed", "quiet hours 22:00 to 08:00", "quiet hours 21:00 to 08:00")]),
    ((("send window mon-fri 09:00 to 18:00\n", ""),),
     [("send_window", "removed", "send window mon,tue,wed,thu,fri 09:00 to 18:00", None)]),
    ((("send window mon-fri", "send window monday,tue,wed-fri"),), []),
    ((("points >= 100", "points >= 200"),),
     [("segment", "changed", "segment big where points >= 100",
       "segment big where points >= 200")]),
    ((("goal bought on purchased", "goal bought on purchased where event.amount > 10"),),
     [("goal", "changed", "goal bought on purchased",
       "goal bought on purchased where event.amount > 10")]),
    ((("value sum(purchased.amount)\n", ""),),
     [("value", "removed", "value sum(purchased.amount)", None)]),
    ((("reentry after 90d", "reentry never"),),
     [("reentry", "changed", "reentry after 90d", "reentry never")]),
    ((("reentry after 90d", "reentry after 2160h"),), []),
    ((("channel crm\n", "channel crm\nchannel sales\n"),),
     [("channel", "added", None, "channel sales")]),
])
def test_journey_wide(replacements: tuple[tuple[str, str], ...],
                      expected: list[tuple[str, str, str | None, str | None]]) -> None:
    assert summary(SHOP, edited(*replacements)) == expected


def test_journey_wide_changes_concern_the_right_customers() -> None:
    result = diff(SHOP, edited(('subject "Thanks"', 'subject "Thank you"'),
                               ("points: number = 0", "points: number = 5"),
                               ("reentry after 90d", "reentry always")))
    by_kind = {c.kind: c for c in result.changes}
    assert by_kind["message.subject"].stages == ("member",)
    assert not by_kind["message.subject"].everyone
    assert by_kind["attribute"].everyone
    assert by_kind["reentry"].stages == ("vip",)
    assert all(c.group.kind == "journey" for c in result.changes)


@pytest.mark.parametrize(("replacements", "expected"), [
    ((("after 7d { send nudge }", "after 10d { send nudge }"),),
     [("rule.trigger", "changed", "after 7d", "after 10d")]),
    ((("after 7d { send nudge }", "after 168h { send nudge }"),), []),
    ((("every 30d", "every 4w"),), [("rule.trigger", "changed", "every 30d", "every 4w")]),
    ((("when points > 500", "when points > 1000"),),
     [("rule.trigger", "changed", "when points > 500", "when points > 1000")]),
    ((('where event.source == "ads"', 'where event.source in ["ads", "social"]'),),
     [("rule.guard", "changed", 'event.source == "ads"', 'event.source in ["ads", "social"]')]),
    ((('where event.source == "ads"', 'where (event.source=="ads")'),), []),
    ((("on purchased where big -> vip", "on purchased -> vip"),),
     [("rule.guard", "removed", "big", None)]),
    ((("when points > 500 -> vip", "when points > 500 -> member"),),
     [("rule.target", "changed", "-> vip", "-> member")]),
    ((("  on signed_up -> member\n", ""),),
     [("rule", "removed", "on signed_up -> member", None)]),
    ((("    send thanks\n", "    send thanks\n    tag \"buyer\"\n"),),
     [("action", "added", None, 'tag "buyer"')]),
    ((("    send thanks\n", "    send welcome\n"),),
     [("action", "changed", "send thanks", "send welcome")]),
    ((("after 2d unless purchased", "after 3d unless purchased"),),
     [("action.timer", "changed", "after 2d unless purchased", "after 3d unless purchased")]),
    ((('task: "call"', 'task: "mail"'),),
     [("action", "changed", 'notify crm { task: "call" }', 'notify crm { task: "mail" }')]),
    ((("50% { send nudge } 50% {}", "70% { send nudge } 30% {}"),),
     [("action.split", "changed", "split 50% / 50%", "split 70% / 30%")]),
])
def test_rules(replacements: tuple[tuple[str, str], ...],
               expected: list[tuple[str, str, str | None, str | None]]) -> None:
    assert summary(SHOP, edited(*replacements)) == expected


def test_a_line_added_above_a_split_moves_it() -> None:
    [change] = diff(SHOP, edited(("stage lead start {", "\nstage lead start {"))).changes
    assert (change.kind, change.verb, change.group.name) == (
        "action.split_position", "moved", "member")
    assert (change.old.text, change.new.text) == ("split at line 43, column 15",
                                                  "split at line 44, column 15")
    assert change.note is not None
    assert "another arm" in change.note


def test_a_changed_guard_reads_as_one_change_even_among_rules_of_one_trigger() -> None:
    result = diff(SHOP, edited(('where event.source == "ads"', 'where event.source == "tv"')))
    [change] = result.changes
    assert (change.kind, change.group.name) == ("rule.guard", "lead")
    assert [(r.stage, r.trigger, r.old_index, r.new_index) for r in change.rules] == [
        ("lead", "on signed_up", 1, 1)]


def test_rules_of_different_triggers_may_be_reordered_freely() -> None:
    swapped = edited(("  on signed_up -> member\n  after 7d { send nudge }\n",
                      "  after 7d { send nudge }\n  on signed_up -> member\n"))
    assert diff(SHOP, swapped).changes == ()


def test_first_match_rules_swapped_is_a_reorder() -> None:
    swapped = edited(
        ('  on signed_up where event.source == "ads" -> member { tag "ads" }\n'
         "  on signed_up -> member\n",
         "  on signed_up -> member\n"
         '  on signed_up where event.source == "ads" -> member { tag "ads" }\n'))
    [change] = diff(SHOP, swapped).changes
    assert (change.kind, change.verb, change.group.name) == ("rule.order", "reordered", "lead")
    assert change.old.text == ('1. on signed_up where event.source == "ads" -> member\n'
                               "2. on signed_up -> member")
    assert [(r.old_index, r.new_index) for r in change.rules] == [(2, 1), (1, 2)]


def test_hooks_swapped_is_a_reorder() -> None:
    old = edited(("  on enter { send welcome }\n",
                  "  on enter { send welcome }\n  on enter { tag \"new\" }\n"))
    new = edited(("  on enter { send welcome }\n",
                  "  on enter { tag \"new\" }\n  on enter { send welcome }\n"))
    [change] = diff(old, new).changes
    assert change.kind == "rule.order"
    assert change.note == "these rules run in file order"


def test_anywhere_rules_are_their_own_group() -> None:
    new = edited(("on purchased { set points += event.amount }",
                  "on purchased { set points += event.amount * 2 }"))
    [change] = diff(SHOP, new).changes
    assert change.group.kind == "anywhere"
    assert change.everyone
    assert change.rules[0].stage is None


def test_stages_added_removed_and_flags() -> None:
    new = edited(("stage buyer { when points > 500 -> vip }\n", ""),
                 ("on purchased -> buyer", "on purchased -> vip"),
                 ("stage vip final", "stage vip {\n  after 1d -> gone\n}\nstage gone final"))
    kinds = [(c.kind, c.verb, c.group.name) for c in diff(SHOP, new).changes]
    assert kinds == [
        ("rule.target", "changed", "member"),
        ("stage.final", "changed", "vip"),
        ("rule", "added", "vip"),
        ("stage", "added", "gone"),
        ("stage", "removed", "buyer"),
    ]


def test_a_renamed_stage_is_one_change_and_its_references_follow() -> None:
    new = SHOP.replace("buyer", "customer")
    [change] = diff(SHOP, new).changes
    assert (change.kind, change.verb, change.subject) == ("stage", "renamed",
                                                          "stage buyer -> customer")
    assert change.stages == ("buyer",)


def test_a_different_stage_is_not_a_rename() -> None:
    new = edited(("stage buyer { when points > 500 -> vip }",
                  "stage buyer { when points > 500 -> vip }\nstage other { after 1d -> lead }"),
                 ("stage vip final", "stage vip final\nstage gone final"))
    new = new.replace("-> buyer", "-> other").replace("stage buyer { when points > 500 -> vip }\n",
                                                      "")
    verbs = sorted((c.verb, c.subject) for c in diff(SHOP, new).changes if c.kind == "stage")
    assert verbs == [("added", "stage gone"), ("added", "stage other"),
                     ("removed", "stage buyer")]


def test_start_stage_changed() -> None:
    new = edited(("stage lead start", "stage lead"), ("stage member {", "stage member start {"))
    kinds = [(c.kind, c.old.text, c.new.text) for c in diff(SHOP, new).changes]
    assert kinds == [("stage.start", "lead", "member")]


def test_template_content_is_compared(tmp_path: Path) -> None:
    for side, text in (("old", "Hello {{ customer.email }}"), ("new", "Hi {{ customer.email }}")):
        (tmp_path / side).mkdir()
        (tmp_path / side / "welcome.txt").write_text(text, "utf-8")
        source = SHOP.replace('body "Nice to meet you"', 'template "welcome.txt"')
        (tmp_path / side / "shop.journey").write_text(source, "utf-8")
    result = diff_journeys(journeyflow.load(tmp_path / "old" / "shop.journey"),
                           journeyflow.load(tmp_path / "new" / "shop.journey"))
    assert [(c.kind, c.old.text, c.new.text) for c in result.changes] == [
        ("message.template", "Hello {{ customer.email }}", "Hi {{ customer.email }}")]
