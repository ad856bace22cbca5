"""Warnings about statements that compile but cannot do what they say (JF620, JF621)."""

from __future__ import annotations

import journeyflow


def warnings(source: str) -> list[tuple[str, int, int]]:
    journey = journeyflow.loads(source, "t.journey")
    return [(d.code, d.span.line, d.span.col) for d in journey.warnings]


def test_a_delayed_statement_before_a_move_in_the_same_block_is_reported() -> None:
    assert warnings("""journey "w"
event go {}
stage a start {
  on go {
    after 2h { tag "late" }
    if true { -> b }
  }
}
stage b final
""") == [("JF620", 5, 5)]


def test_delayed_statements_in_a_transition_block_belong_to_the_new_stage() -> None:
    assert warnings("""journey "w"
event go {}
stage a start { on go -> b { after 2h { tag "late" } } }
stage b { after 1d -> c }
stage c final
""") == []


def test_a_reminder_nobody_handles_is_reported_at_its_duration() -> None:
    source = """journey "w"
event go {}
stage a start { on go -> b { grant bonus b 5 expires 30d remind 3d before } }
stage b final
"""
    assert warnings(source) == [("JF621", 3, 65)]
    handled = source + 'anywhere { on bonus_expiring { tag "reminded" } }\n'
    assert warnings(handled) == []
