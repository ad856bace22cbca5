"""Step semantics beyond the cases of tests/cases (docs/language.md, step and precise rules)."""

from __future__ import annotations

from typing import Any

import journeyflow


def run(source: str, events: list[dict[str, Any]], until: str | None = None
        ) -> journeyflow.Engine:
    engine = journeyflow.Engine(journeyflow.loads(source, "t.journey"))
    for event in events:
        engine.handle(event)
    if until:
        engine.advance(until)
    return engine


def kinds(engine: journeyflow.Engine, customer: str = "c1") -> list[str]:
    out = []
    for r in engine.trace:
        if r["customer"] != customer:
            continue
        detail = r.get("stage") or r.get("to") or r.get("message") or r.get("tag") or r.get(
            "action") or r.get("goal") or ""
        out.append(f"{r['kind']}:{detail}")
    return out


def ev(at: str, name: str, data: dict[str, Any] | None = None, cid: str = "c1") -> dict[str, Any]:
    return {"at": f"2026-01-{at}Z", "customer": cid, "event": name, "data": data or {}}


def test_transition_trace_order() -> None:
    engine = run("""
journey "order"
event go {}
stage a start {
  on exit { tag "left" }
  on go -> b { tag "moving" }
}
stage b { on enter { tag "arrived" } }
""", [ev("01T10:00:00", "go")])
    assert kinds(engine) == ["enter:a", "exit:a", "action:left", "action:moving",
                             "transition:b", "enter:b", "action:arrived"]


def test_goto_inside_block_writes_exit_when_reached() -> None:
    engine = run("""
journey "goto"
event go { n: number }
stage a start {
  on go {
    tag "first"
    if event.n > 1 { tag "big" -> b } else { tag "small" }
  }
}
stage b final
""", [ev("01T10:00:00", "go", {"n": 2})])
    assert kinds(engine) == ["enter:a", "action:first", "action:big", "exit:a",
                             "transition:b", "enter:b"]


def test_anywhere_move_stops_stage_rules_and_final_runs_nothing() -> None:
    engine = run("""
journey "anywhere"
event unsubscribed {}
anywhere { on unsubscribed -> churned }
stage a start { on unsubscribed { tag "never" } }
stage churned final
""", [ev("01T10:00:00", "unsubscribed"), ev("02T10:00:00", "unsubscribed")])
    assert "action:never" not in kinds(engine)
    state = engine.customer("c1")
    assert state is not None
    assert state.status == "final"


def test_reentry_after_duration() -> None:
    source = """
journey "again"
reentry after 7d
event go {}
stage a start { on go -> done }
stage done final
"""
    engine = run(source, [ev("01T10:00:00", "go"), ev("03T10:00:00", "go"),
                          ev("10T10:00:00", "go")])
    entries = [k for k in kinds(engine) if k == "enter:a"]
    assert len(entries) == 2  # created on the 1st, re-entered on the 10th (not the 3rd)


def test_when_without_target_fires_once_per_stay() -> None:
    engine = run("""
journey "once"
customer { points: number = 0 }
event buy { amount: number }
anywhere { on buy { set points += event.amount } }
stage a start { when points >= 10 { tag "ten" } }
""", [ev("01T10:00:00", "buy", {"amount": 10}), ev("02T10:00:00", "buy", {"amount": 10})])
    assert kinds(engine).count("action:ten") == 1


def test_after_with_guard_false_is_dropped_and_at_in_the_past_never_fires() -> None:
    engine = run("""
journey "timers"
customer { vip: bool = false  renewal: datetime? }
event go {}
stage a start {
  after 1d where vip { tag "vip-day" }
  at renewal - 7d { tag "renewal-soon" }
  every 2d { tag "tick" }
}
""", [{"at": "2026-01-10T10:00:00Z", "customer": "c1", "event": "go",
       "attributes": {"renewal": "2026-01-12T10:00:00Z"}}], until="2026-01-15T10:00:00Z")
    assert "action:vip-day" not in kinds(engine)
    assert "action:renewal-soon" not in kinds(engine)  # renewal - 7d was before entry
    assert kinds(engine).count("action:tick") == 2  # the 12th and the 14th


def test_bonus_reminder_and_renewal() -> None:
    engine = run("""
journey "bonus"
event buy {}
message remind_mail via email { subject "{{ bonus.name }} endet bald" }
stage a start {
  on buy { grant bonus rendezvous 10% expires 30d remind 7d before }
  on bonus_expiring { send remind_mail }
}
""", [ev("01T10:00:00", "buy"), ev("20T10:00:00", "buy")], until="2026-03-01T00:00:00Z")
    sent = [r["at"] for r in engine.trace if r.get("message") == "remind_mail"]
    assert sent == ["2026-02-12T10:00:00Z"]  # the renewed grant's reminder only


def test_sum_within_and_since() -> None:
    engine = run("""
journey "windows"
event buy { amount: number }
stage a start {
  on buy where sum(buy.amount within 7d) >= 100 -> big
  on buy where count(buy within 1d) >= 2 -> busy
}
stage big final
stage busy final
""", [ev("01T10:00:00", "buy", {"amount": 60}), ev("09T10:00:00", "buy", {"amount": 50}),
      ev("10T09:00:00", "buy", {"amount": 50})])
    state = engine.customer("c1")
    assert state is not None
    assert state.stage == "big"


def test_send_window_defers_to_next_opening() -> None:
    engine = run("""
journey "office"
timezone "Europe/Berlin"
event ping {}
message note via email { subject "x" }
send window mon-fri 09:00 to 18:00
stage a start { on ping { send note } }
""", [ev("03T12:00:00", "ping")], until="2026-01-06T00:00:00Z")  # Saturday noon
    assert [r["at"] for r in engine.trace if r.get("message") == "note"] == [
        "2026-01-05T08:00:00Z"]  # Monday 09:00 in Berlin


def test_deferred_send_is_pending_in_state() -> None:
    engine = run("""
journey "night"
event ping {}
message note via email { subject "x" }
quiet hours 22:00 to 08:00
stage a start { on ping { send note } }
""", [ev("01T23:00:00", "ping")])
    state = engine.customer("c1")
    assert state is not None
    assert state.pending == [{"message": "note", "due": "2026-01-02T08:00:00Z"}]


def test_when_goal_reached_after_reentry_counts_history_from_the_final_stage() -> None:
    engine = run("""
journey "goals"
reentry after 1d
event buy {}
event visit {}
goal repeat when count(buy) >= 2
stage a start { on buy -> done }
stage done final
""", [ev("01T10:00:00", "buy"), ev("01T12:00:00", "buy"), ev("05T10:00:00", "visit")])
    # The second buy came while final (no goals checked); the visit after re-entry is
    # the first step that checks, and it must see the count.
    assert "goal:repeat" in kinds(engine)
    state = engine.customer("c1")
    assert state is not None
    assert state.goals == ["repeat"]


def test_settling_runs_when_rules_in_order_across_stages_until_none_fires() -> None:
    engine = run("""
journey "settle"
customer { points: number = 0 }
event buy { amount: number }
anywhere {
  on buy { set points += event.amount }
  when points >= 5 { tag "five" }
}
stage a start {
  when points >= 10 { tag "ten" }
  when points >= 10 -> b
}
stage b { -> c }
stage c { when points >= 20 -> d }
stage d {}
""", [ev("01T10:00:00", "buy", {"amount": 12}), ev("02T10:00:00", "buy", {"amount": 3})])
    assert kinds(engine) == [
        "enter:a", "action:set", "action:five", "action:ten", "exit:a", "transition:b",
        "enter:b", "exit:b", "transition:c", "enter:c", "action:set"]
    assert engine.customer("c1").stage == "c"  # 15 points: c's `when` does not fire


def test_a_when_loop_parks_the_customer_after_the_transition_limit() -> None:
    engine = run("""
journey "loop"
event go {}
stage a start { on go -> b }
stage b { when true -> c }
stage c { -> b }
""", [ev("01T10:00:00", "go")])
    trace = [r for r in engine.trace if r["kind"] in ("transition", "error")]
    assert len([r for r in trace if r["kind"] == "transition"]) == 100
    assert trace[-1]["kind"] == "error"
    assert trace[-1]["path"][:3] == ["b", "c", "b"]
    assert engine.customer("c1").status == "parked"
