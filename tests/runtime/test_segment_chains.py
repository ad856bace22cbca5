"""Segments built on segments compile however deep or long the chain (no crash at run)."""

from __future__ import annotations

import journeyflow


def stage_after_one_event(source: str) -> str:
    engine = journeyflow.Engine(journeyflow.loads(source, "t.journey"))
    engine.handle({"at": "2026-01-01T00:00:00Z", "customer": "c1", "event": "e"})
    state = engine.customer("c1")
    assert state is not None
    return state.stage


HEAD = 'journey "s"\ncustomer { ok: bool = true }\nevent e {}\n'
TAIL = "stage a start {{ on e where {last} -> b }}\nstage b final\n"


def test_deep_segments_used_by_each_other() -> None:
    # Each alone is within the nesting limit; inlined into each other they would not be.
    source = HEAD + "segment s0 where " + "not " * 60 + "ok\n" + "".join(
        f"segment s{i} where " + "not " * 61 + f"s{i - 1}\n" for i in range(1, 4))
    assert stage_after_one_event(source + TAIL.format(last="s3")) == "a"  # 3 odd flips
    source = source.replace("not " * 61, "not " * 60)
    assert stage_after_one_event(source + TAIL.format(last="s3")) == "b"


def test_a_long_chain_of_segments() -> None:
    source = HEAD + "segment s0 where ok\n" + "".join(
        f"segment s{i} where s{i - 1}\n" for i in range(1, 500))
    assert stage_after_one_event(source + TAIL.format(last="s499")) == "b"
