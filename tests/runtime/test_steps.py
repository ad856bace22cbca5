"""Generated step, entry and exit functions: made on first use, from the checked model."""

from __future__ import annotations

import journeyflow
from journeyflow.runtime.steps import StepCompiler

SOURCE = """
journey "steps"
event go { n: number = 0 }
event other {}
anywhere {
  on go { tag "seen" }
  on go where event.n == 1 { tag "one" }
  on go where event.n == 2 -> done
}
stage a start {
  on go where event.n >= 1 -> b
  on go -> c
}
stage b { on enter { tag "in b" } }
stage c {}
stage done final
"""


def engine() -> journeyflow.Engine:
    return journeyflow.Engine(journeyflow.loads(SOURCE, "t.journey"))


def go(e: journeyflow.Engine, cid: str, n: int) -> None:
    e.handle({"at": "2026-01-05T10:00:00Z", "customer": cid, "event": "go", "data": {"n": n}})


def test_steps_are_generated_on_first_use_only() -> None:
    e = engine()
    steps = e.program.steps
    assert steps.table == {}
    go(e, "c1", 0)
    row = steps.table["go"]
    assert row[e.program.stage_index["a"]] is not None
    assert row[e.program.stage_index["b"]] is None
    assert steps.enters[e.program.stage_index["c"]] is not None
    assert steps.enters[e.program.stage_index["b"]] is None


def test_every_matching_anywhere_rule_runs_until_one_moves() -> None:
    e = engine()
    go(e, "c1", 1)  # both tagging rules, then the stage rule
    c1 = e.customer("c1")
    assert c1 is not None
    assert c1.stage == "b"
    assert set(c1.tags) == {"seen", "one", "in b"}
    go(e, "c2", 2)  # the moving `anywhere` rule wins; the stage's rules do not run
    c2 = e.customer("c2")
    assert c2 is not None
    assert c2.stage == "done"
    assert set(c2.tags) == {"seen"}
    go(e, "c3", 0)  # first matching stage rule only
    c3 = e.customer("c3")
    assert c3 is not None
    assert c3.stage == "c"


def test_user_strings_never_become_code() -> None:
    hostile = "x'); import os; ('"
    source = SOURCE.replace('tag "seen"', f'tag "{hostile}"')
    e = journeyflow.Engine(journeyflow.loads(source, "t.journey"))
    go(e, "c1", 0)
    c1 = e.customer("c1")
    assert c1 is not None
    assert hostile in c1.tags


def test_a_final_stage_step_only_counts_history() -> None:
    source = """
journey "final"
event go {}
goal many when count(go) >= 2
stage a start { on go -> z }
stage z final
"""
    e = journeyflow.Engine(journeyflow.loads(source, "t.journey"))
    for minute in ("00", "01", "02"):
        e.handle({"at": f"2026-01-05T10:{minute}:00Z", "customer": "c1", "event": "go"})
    c = e.interpreter.customers["c1"]
    assert getattr(c, e.program.layout.history["count:go"]) == 3
    # Goals are not checked while final (they are on re-entry).
    assert c.goals == ()


def test_compiler_is_per_program() -> None:
    one, two = engine().program, engine().program
    assert isinstance(one.steps, StepCompiler)
    assert one.steps is not two.steps


def test_a_redeemed_bonus_event_removes_the_bonus() -> None:
    source = """
journey "bonus"
event bought {}
stage a start { on bought { grant bonus gift 10% expires 30d } }
"""
    e = journeyflow.Engine(journeyflow.loads(source, "t.journey"))
    e.handle({"at": "2026-01-05T10:00:00Z", "customer": "c1", "event": "bought"})
    e.handle({"at": "2026-01-06T10:00:00Z", "customer": "c1", "event": "bonus_redeemed",
              "data": {"bonus": "gift"}})
    c1 = e.customer("c1")
    assert c1 is not None
    assert c1.bonuses == {}
    assert [r["action"] for r in e.trace if r["kind"] == "action"] == ["grant_bonus",
                                                                      "redeem_bonus"]


def test_generated_sources_are_kept_for_reading() -> None:
    e = engine()
    go(e, "c1", 0)
    source = e.program.steps.sources["go in a"]
    assert source.startswith("def step(ip, c, e, t):")
    assert "ip._transition" in source


def test_timer_and_settle_functions_are_generated_per_rule_and_stage_on_first_use() -> None:
    e = journeyflow.Engine(journeyflow.loads("""
journey "timers"
customer { n: number = 0 }
event go {}
stage a start {
  on go { set n += 1 }
  when n >= 2 -> b
  after 1d -> c
}
stage b { after 1d -> c }
stage c {}
""", "t.journey"))
    steps, index = e.program.steps, e.program.stage_index
    e.handle({"at": "2026-01-05T10:00:00Z", "customer": "c1", "event": "go"})
    assert steps.settles[index["a"]] is not None
    assert steps.settles[index["b"]] is None
    assert not any(steps.timers)
    e.handle({"at": "2026-01-05T11:00:00Z", "customer": "c1", "event": "go"})
    e.advance("2026-01-07T00:00:00Z")
    assert e.customer("c1").stage == "c"
    fired = [rule for rule, fn in zip(e.program.rules, steps.timers, strict=True) if fn]
    assert [(rule.stage, rule.kind) for rule in fired] == [("b", "after")]
    assert "def timer(ip, c, t, kind, life):" in steps.sources[f"timer {fired[0].location}"]
