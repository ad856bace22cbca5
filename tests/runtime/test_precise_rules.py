"""The precise rules of docs/language.md ("Precise rules"), one test or more per rule.

Each test here failed before the interpreter followed its rule.
"""

from __future__ import annotations

from typing import Any

import pytest

import journeyflow
from journeyflow.errors import JourneyError


def run(source: str, events: list[dict[str, Any]], until: str | None = None
        ) -> journeyflow.Engine:
    engine = journeyflow.Engine(journeyflow.loads(source, "t.journey"))
    for event in events:
        assert engine.handle(event).accepted, event
    if until:
        engine.advance(until)
    return engine


def ev(day: str, name: str, data: dict[str, Any] | None = None, cid: str = "c1",
       **extra: Any) -> dict[str, Any]:
    return {"at": f"2026-01-{day}Z", "customer": cid, "event": name, "data": data or {},
            **extra}


def records(engine: journeyflow.Engine, kind: str, customer: str = "c1") -> list[dict[str, Any]]:
    return [r for r in engine.trace if r["kind"] == kind and r["customer"] == customer]


def tags_in_order(engine: journeyflow.Engine) -> list[str]:
    return [r["tag"] for r in records(engine, "action") if r["action"] == "tag"]


# ---- targets on hooks ----------------------------------------------------------------


def test_on_enter_with_a_target_moves_the_customer_after_its_block() -> None:
    engine = run("""
journey "hooks"
event go {}
stage a start { on go -> b }
stage b {
  on enter where true -> c { tag "moving" }
  on enter { tag "never" }
}
stage c final
""", [ev("01T10:00:00", "go")])
    assert engine.customer("c1").stage == "c"  # type: ignore[union-attr]
    assert tags_in_order(engine) == ["moving"]
    moves = records(engine, "transition")
    assert [(m["from"], m["to"]) for m in moves] == [("a", "b"), ("b", "c")]
    assert moves[1]["rule"] == "t.journey:6"


def test_on_enter_target_whose_guard_is_false_lets_the_next_hooks_run() -> None:
    engine = run("""
journey "hooks"
customer { vip: bool = false }
event go {}
stage a start { on go -> b }
stage b {
  on enter where vip -> c
  on enter { tag "stayed" }
}
stage c final
""", [ev("01T10:00:00", "go")])
    assert engine.customer("c1").stage == "b"  # type: ignore[union-attr]
    assert tags_in_order(engine) == ["stayed"]


def test_on_exit_with_a_target_is_a_compile_error() -> None:
    with pytest.raises(JourneyError) as err:
        journeyflow.loads("""
journey "hooks"
event go {}
stage a start { on go -> b  on exit -> c }
stage b final
stage c final
""", "t.journey")
    codes = [(d.code, d.span.line, d.span.col) for d in err.value.diagnostics]
    assert ("JF305", 4, 40) in codes


# ---- inactivity ------------------------------------------------------------------------


def test_after_without_rearms_after_every_event() -> None:
    engine = run("""
journey "inactivity"
event buy {}
stage a start { after 10d without buy { tag "idle" } }
""", [ev("01T00:00:00", "buy"), ev("20T00:00:00", "buy")], until="2026-02-15T00:00:00Z")
    idle = [r["at"] for r in records(engine, "action")]
    # 10 days after the first purchase, then 10 days after the second; not again while idle.
    assert idle == ["2026-01-11T00:00:00Z", "2026-01-30T00:00:00Z"]


def test_anywhere_after_without_rearms_too() -> None:
    engine = run("""
journey "inactivity"
event buy {}
anywhere { after 5d without buy { tag "idle" } }
stage a start { on buy -> a }
""", [ev("01T00:00:00", "buy"), ev("10T00:00:00", "buy")], until="2026-01-31T00:00:00Z")
    assert [r["at"] for r in records(engine, "action") if r["action"] == "tag"] == [
        "2026-01-06T00:00:00Z", "2026-01-15T00:00:00Z"]


# ---- null -------------------------------------------------------------------------------


NULLS = """
journey "nulls"
customer { x: number?  b: bool?  country: text? }
event go {}
stage a start {
  on go {
    if x != 5 { tag "x-not-5" }
    if not b { tag "not-b" }
    if country not in ["DE", "AT"] { tag "abroad" }
    if x == null { tag "x-null" }
    set b = not b
  }
}
"""


def test_comparisons_with_null_are_false_and_not_null_is_null() -> None:
    engine = run(NULLS, [ev("01T00:00:00", "go")])
    assert tags_in_order(engine) == ["x-null"]
    assert engine.customer("c1").attributes["b"] is None  # type: ignore[union-attr]


def test_the_same_conditions_with_values() -> None:
    engine = run(NULLS, [ev("01T00:00:00", "go",
                            attributes={"x": 4, "b": False, "country": "FR"})])
    assert tags_in_order(engine) == ["x-not-5", "not-b", "abroad"]
    assert engine.customer("c1").attributes["b"] is True  # type: ignore[union-attr]


# ---- steps and goals ----------------------------------------------------------------------


def test_a_timer_whose_guard_is_false_still_settles_when_rules() -> None:
    engine = run("""
journey "steps"
customer { vip: bool = false }
event go {}
stage a start {
  after 1d where vip { tag "vip" }
  when stage_time > 12h -> b
}
stage b final
""", [ev("01T00:00:00", "go")], until="2026-01-03T00:00:00Z")
    enter = records(engine, "enter")
    assert [(r["stage"], r["at"]) for r in enter] == [("a", "2026-01-01T00:00:00Z"),
                                                     ("b", "2026-01-02T00:00:00Z")]


def test_goals_decided_by_history_are_checked_at_creation_in_declaration_order() -> None:
    engine = run("""
journey "goals"
event visit {}
event buy {}
goal visited on visit
goal never_bought when count(buy) == 0
goal first when count(visit) >= 1
stage a start { on buy -> a }
""", [ev("01T00:00:00", "visit")])
    assert [r["goal"] for r in records(engine, "goal")] == ["visited", "never_bought", "first"]


def test_goals_are_checked_when_the_creating_step_ends_in_a_final_stage() -> None:
    engine = run("""
journey "goals"
event visit {}
goal visited on visit
goal counted when count(visit) >= 1
stage a start { -> done }
stage done final
""", [ev("01T00:00:00", "visit")])
    assert engine.customer("c1").stage == "done"  # type: ignore[union-attr]
    assert [r["goal"] for r in records(engine, "goal")] == ["visited", "counted"]


# ---- parked customers, re-entry, bonuses, moves -----------------------------------------------


def test_a_parked_customer_ignores_later_attributes() -> None:
    engine = run("""
journey "parked"
customer { name: text = "x" }
event ping {}
stage a start { on ping { emit ping } }
""", [ev("01T00:00:00", "ping"), ev("02T00:00:00", "ping", attributes={"name": "new"})])
    state = engine.customer("c1")
    assert state is not None
    assert state.status == "parked"
    assert state.attributes["name"] == "x"


def test_reentry_writes_exit_transition_and_enter() -> None:
    engine = run("""
journey "again"
event go {}
event stop {}
reentry always
stage a start { on stop -> done }
stage done final
""", [ev("01T00:00:00", "stop"), ev("02T00:00:00", "go")])
    second_day = [(r["kind"], r.get("stage") or r.get("to"), r.get("rule"))
                  for r in engine.trace if r["at"] == "2026-01-02T00:00:00Z"]
    assert second_day == [("exit", "done", None), ("transition", "a", "t.journey:5"),
                          ("enter", "a", None)]


def test_numeric_bonus_values_are_numbers_and_percentages_text() -> None:
    engine = run("""
journey "bonus"
event go {}
stage a start { on go { grant bonus points 15 expires 30d  grant bonus off 10% expires 30d } }
""", [ev("01T00:00:00", "go")])
    grants = [r["value"] for r in records(engine, "action") if r["action"] == "grant_bonus"]
    assert grants == [15, "10%"]
    state = engine.customer("c1")
    assert state is not None
    assert state.bonuses["points"]["value"] == 15
    assert state.bonuses["off"]["value"] == "10%"


def test_incoming_bonus_redeemed_writes_a_redeem_record() -> None:
    engine = run("""
journey "bonus"
event go {}
stage a start { on go { grant bonus points 15 expires 30d } }
""", [ev("01T00:00:00", "go"), ev("02T00:00:00", "bonus_redeemed", {"bonus": "points"})])
    redeemed = [r for r in records(engine, "action") if r["action"] == "redeem_bonus"]
    assert [(r["bonus"], r["at"]) for r in redeemed] == [("points", "2026-01-02T00:00:00Z")]
    assert engine.customer("c1").bonuses == {}  # type: ignore[union-attr]


def test_the_rule_of_a_move_inside_a_block_is_the_move_statement() -> None:
    engine = run("""
journey "moves"
event go {}
stage a start {
  on go {
    tag "x"
    -> b
  }
}
stage b final
""", [ev("01T00:00:00", "go")])
    assert records(engine, "transition")[0]["rule"] == "t.journey:7"


# ---- one instant, one guard -----------------------------------------------------------------


def test_an_at_trigger_that_moves_to_its_own_stage_fires_once() -> None:
    engine = run("""
journey "loop"
event go {}
stage a start { at 2026-01-05T00:00 -> a }
""", [ev("01T00:00:00", "go")], until="2026-02-01T00:00:00Z")
    assert len(records(engine, "transition")) == 1
    assert engine.customer("c1").status == "active"  # type: ignore[union-attr]


def test_a_two_stage_cycle_through_a_past_at_ends() -> None:
    engine = run("""
journey "loop"
event go {}
stage a start { at 2026-01-05T00:00 -> b }
stage b { at 2026-01-05T00:00 -> a }
""", [ev("01T00:00:00", "go")], until="2026-02-01T00:00:00Z")
    assert [(r["from"], r["to"]) for r in records(engine, "transition")] == [("a", "b")]


def test_steps_of_one_instant_share_the_runaway_guard() -> None:
    # Each `every` step moves once, but a self-loop through `on enter` chains 100 moves
    # within the instant of the first step: the customer is parked there.
    engine = run("""
journey "loop"
event go {}
stage a start { on go -> b }
stage b { on enter -> c }
stage c { on enter -> b }
""", [ev("01T00:00:00", "go")])
    state = engine.customer("c1")
    assert state is not None
    assert state.status == "parked"
    assert len(records(engine, "error")) == 1


def test_timers_due_at_the_same_instant_fire_in_the_order_they_were_set() -> None:
    engine = run("""
journey "ties"
event go {}
stage a start {
  after 2d { tag "second-rule" }
  every 1d { tag "tick" }
  after 48h { tag "third-rule" }
}
""", [ev("01T00:00:00", "go")], until="2026-01-03T00:00:00Z")
    # On the 3rd, both `after`s were set at entry; the `every` was set again on the 2nd.
    assert tags_in_order(engine) == ["tick", "second-rule", "third-rule", "tick"]


def test_anywhere_when_without_target_fires_once_per_life() -> None:
    engine = run("""
journey "life"
customer { points: number = 0 }
event buy {}
anywhere { when points >= 10 { tag "ten" } }
stage a start { on buy -> b { set points += 10 } }
stage b { on buy -> a { set points += 10 } }
""", [ev("01T00:00:00", "buy"), ev("02T00:00:00", "buy"), ev("03T00:00:00", "buy")])
    assert tags_in_order(engine) == ["ten"]


def test_the_loop_warning_names_a_loop_that_exists() -> None:
    journey = journeyflow.loads("""
journey "loop"
customer { x: number = 0 }
event go {}
stage z start { on go -> m }
stage m { when x > 1 -> b }
stage b { -> z2 }
stage z2 { when x > 2 -> m }
""", "t.journey")
    loops = [d.message for d in journey.warnings if d.code == "JF604"]
    assert loops == ["these stages can move a customer in a loop within one step: "
                     "b -> z2 -> m -> b"]


def test_many_events_at_one_instant_are_not_a_runaway() -> None:
    # Each event moves once: a burst of events sharing a timestamp (a daily import) is
    # not a loop, so the guard counts each event afresh.
    events = [ev("01T00:00:00", "go") for _ in range(150)]
    engine = run("""
journey "burst"
event go {}
stage a start { on go -> b }
stage b { on go -> a }
""", events)
    assert engine.customer("c1").status == "active"  # type: ignore[union-attr]
    assert len(records(engine, "transition")) == 150
