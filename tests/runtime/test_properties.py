"""Interpreter invariants over generated journeys and event streams (hypothesis)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeyflow
from journeyflow.runtime.interpreter import Interpreter

EVENTS = ("e0", "e1", "e2")
T0 = 1767261600.0  # 2026-01-01T10:00:00Z


@st.composite
def rule_text(draw: st.DrawFn, stages: int) -> str:
    target = f"s{draw(st.integers(0, stages - 1))}"
    event = draw(st.sampled_from(EVENTS))
    other = draw(st.sampled_from(EVENTS))
    hours = draw(st.integers(1, 72))
    return draw(st.sampled_from([
        f"on {event} -> {target}",
        f"on {event} where event.v > {draw(st.integers(0, 9))} -> {target}",
        f'on {event} {{ tag "t{event}" }}',
        f'on {event} {{ untag "t{other}" }}',
        f"after {hours}h -> {target}",
        f"after {hours}h without {event} -> {target}",
        f"every {hours}h {{ send m0 }}",
        f"on {event} {{ after {hours}h unless {other} {{ send m1 }} }}",
        f"when count({event}) >= {draw(st.integers(1, 4))} -> {target}",
        f"on {event} {{ emit {other} {{ v: 1 }} }}",
        f"on {event} {{ split {{ 50% {{ send m0 }} 50% {{ send m1 -> {target} }} }} }}",
        f"on {event} {{ grant bonus b{hours % 2} 5 expires {hours}h remind 30m before }}",
        "on bonus_expired { send m2 }",
        f"when has_tag(\"t{event}\") -> {target}",
    ]))


@st.composite
def journeys(draw: st.DrawFn) -> str:
    n = draw(st.integers(2, 5))
    lines = ['journey "generated"', "customer { n: number = 0 }"]
    lines += [f"event {e} {{ v: number = 0 }}" for e in EVENTS]
    lines += [f"message m{i} via email {{ subject \"m{i}\" }}" for i in range(3)]
    if draw(st.booleans()):
        lines.append("limit email to 2 per 1d")
    if draw(st.booleans()):
        lines.append("quiet hours 22:00 to 07:00")
    lines.append("goal reached on e2")
    final = draw(st.booleans())
    for i in range(n):
        if final and i == n - 1:
            lines.append(f"stage s{i} final")
            continue
        rules = draw(st.lists(rule_text(n), max_size=5))
        flag = " start" if i == 0 else ""
        lines.append(f"stage s{i}{flag} {{\n  " + "\n  ".join(rules) + "\n}")
    return "\n".join(lines) + "\n"


@st.composite
def streams(draw: st.DrawFn) -> list[dict[str, Any]]:
    items = draw(st.lists(st.tuples(st.integers(0, 2), st.sampled_from(EVENTS),
                                    st.integers(0, 60 * 24 * 20), st.integers(0, 9)),
                          min_size=1, max_size=25))
    events = [{"at": T0 + minutes * 60, "customer": f"c{c}", "event": e, "data": {"v": v}}
              for c, e, minutes, v in items]
    return sorted(events, key=lambda x: x["at"])


def feed(engine: journeyflow.Engine, events: list[dict[str, Any]], until: float) -> int:
    pending = 0
    for event in events:
        if event["at"] > until:
            pending += 1
            continue
        engine.handle(event)
    engine.advance(until)
    return pending


def trace_text(engine: journeyflow.Engine) -> str:
    out = io.StringIO()
    engine.interpreter.trace.write_jsonl(out)
    return out.getvalue()


SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(source=journeys(), events=streams(), cut=st.integers(0, 60 * 24 * 25))
def test_trace_time_and_counts(source: str, events: list[dict[str, Any]], cut: int) -> None:
    journey = journeyflow.loads(source, "generated.journey")
    engine = journeyflow.Engine(journey)
    fired: list[tuple[float, int, float]] = []
    limit = [0.0]
    original_advance = Interpreter.advance
    original_fire = Interpreter.fire_timer

    def advance(self: Interpreter, until: float) -> None:
        limit[0] = until
        original_advance(self, until)

    def fire(self: Interpreter, entry: tuple[Any, ...]) -> bool:
        fired.append((entry[0], entry[1], limit[0]))
        return original_fire(self, entry)

    engine.interpreter.advance = advance.__get__(engine.interpreter)  # type: ignore[method-assign]
    engine.interpreter.fire_timer = fire.__get__(engine.interpreter)  # type: ignore[method-assign]
    until = T0 + cut * 60
    pending = feed(engine, events, until)
    times = [r[0] for r in engine.interpreter.records if r[0] is not None]
    assert times == sorted(times), "trace times went backwards"
    assert all(due <= now for due, _, now in fired), "a timer fired early"
    seqs = [seq for _, seq, _ in fired]
    assert len(seqs) == len(set(seqs)), "a timer fired twice"
    assert len(events) == engine.processed + len(engine.rejected) + pending


@SETTINGS
@given(source=journeys(), events=streams())
def test_same_input_gives_identical_trace(source: str, events: list[dict[str, Any]]) -> None:
    journey = journeyflow.loads(source, "generated.journey")
    until = max(e["at"] for e in events) + 86400 * 5
    first, second = journeyflow.Engine(journey), journeyflow.Engine(journey)
    feed(first, events, until)
    feed(second, events, until)
    assert trace_text(first) == trace_text(second)
    assert first.state() == second.state()


@SETTINGS
@given(source=journeys(), events=streams(), split=st.integers(0, 25))
def test_resume_from_sqlite_equals_one_run(tmp_path_factory: Any, source: str,
                                           events: list[dict[str, Any]], split: int) -> None:
    journey = journeyflow.loads(source, "generated.journey")
    split = min(split, len(events))
    until = max(e["at"] for e in events) + 86400 * 3
    whole = journeyflow.Engine(journey)
    feed(whole, events, until)

    db = Path(tmp_path_factory.mktemp("store")) / "state.db"
    first = journeyflow.Engine(journey, store=f"sqlite:///{db}")
    head = events[:split]
    if head:
        feed(first, head, head[-1]["at"])
    first_trace = trace_text(first)
    first.close()
    second = journeyflow.Engine(journey, store=f"sqlite:///{db}")
    feed(second, events[split:], until)
    assert first_trace + trace_text(second) == trace_text(whole)
    assert second.state() == whole.state()
    second.close()
