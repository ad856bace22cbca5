"""Program: records left out of the trace for consumers that never read them; split arms."""

from __future__ import annotations

import hashlib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import journeyflow
from journeyflow.runtime.interpreter import Interpreter
from journeyflow.runtime.program import Program
from journeyflow.runtime.splits import split_arm, split_chooser
from journeyflow.runtime.trace import Trace

SOURCE = """
journey "untraced"
customer { points: number = 0, joined: date }
event buy { amount: number = 10 }
event join {}
message hi via email { subject "hi" }
stage a start {
  on join {
    set joined = now
    tag "joined"
  }
  on buy {
    set points += event.amount
    untag "joined"
    -> b
  }
}
stage b {
  on enter { send hi }
  on exit { tag "left b" }
  after 1d -> c
}
stage c final
"""

UNREAD = frozenset({"exit", "offer", "send", "set", "tag", "untag"})


def run(untraced: frozenset[str]) -> tuple[list[Any], Interpreter]:
    model = journeyflow.loads(SOURCE, "u.journey").model
    ip = Interpreter(Program(model, untraced=untraced), Trace())
    ip.handle("c1", "join", {}, 1767607200.0)
    ip.handle("c1", "buy", {"amount": 5.0}, 1767610800.0)
    ip.advance(1767610800.0 + 2 * 86400)
    return ip.records, ip


def unread(record: Any) -> bool:
    _, _, kind, fields = record
    return kind in UNREAD or (kind == "action" and fields["action"] in UNREAD)


def test_untraced_records_are_left_out_and_nothing_else_changes() -> None:
    full, everything = run(frozenset())
    lean, lean_ip = run(UNREAD)
    assert any(unread(r) for r in full)  # the journey does make every such record
    assert not any(unread(r) for r in lean)
    assert lean == [r for r in full if not unread(r)]
    c, d = everything.customers["c1"], lean_ip.customers["c1"]
    assert (c.stage, c.status, c.attrs, c.tags) == (d.stage, d.status, d.attrs, d.tags)
    assert d.attrs["points"] == 5.0
    assert d.tags == ("left b",)


def contract_arm(journey: str, customer: str, position: str, shares: tuple[float, ...]) -> int:
    """The split rule of docs/language.md ("Precise rules", split arms), word for word."""
    digest = hashlib.sha256(f"{journey}\x1f{customer}\x1f{position}".encode()).digest()
    point = (int.from_bytes(digest[:8], "big") % 10000) / 100
    total = 0.0
    for i, share in enumerate(shares):
        total += share
        if total > point:
            return i
    return len(shares) - 1


@settings(max_examples=500)
@given(st.text(min_size=1, max_size=12), st.text(min_size=1, max_size=12),
       st.sampled_from([(50.0, 50.0), (30.0, 70.0), (33.3, 33.3, 33.3), (10.0, 20.0, 30.0, 40.0),
                        (99.0,), (0.5, 99.5)]))
def test_split_arm_follows_the_contract(journey: str, customer: str,
                                        shares: tuple[float, ...]) -> None:
    assert split_arm(journey, customer, "12:5", shares) == contract_arm(
        journey, customer, "12:5", shares)
    assert split_chooser(journey, "12:5", shares)(customer) == contract_arm(
        journey, customer, "12:5", shares)
