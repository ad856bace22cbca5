"""Customer layout: one slotted class per journey, values by name through the layout."""

from __future__ import annotations

import pytest

import journeyflow
from journeyflow.runtime.layout import CustomerLayout
from journeyflow.runtime.program import Program

SOURCE = """
journey "layout"
customer { points: number = 5, favourites: list = ["a"] }
event bought { amount: number, category: text = "x" }
event viewed {}
message hello via email { subject "Hi" }
limit email to 2 per 7d
segment busy where count(viewed within 7d) >= 2
goal first on bought
goal second when count(bought) >= 2
value sum(bought.amount)
stage a start {
  on bought {
    tag "buyer"
    split { 50% { send hello } 50% { tag "plain" } }
  }
  on viewed where last(bought.category) == "x" -> b
}
stage b final
"""


def program() -> Program:
    return journeyflow.Engine(journeyflow.loads(SOURCE, "t.journey")).program


def test_every_value_has_a_slot_and_customers_have_no_dict() -> None:
    p = program()
    layout = p.layout
    assert set(layout.attributes) == {"points", "favourites"}
    assert set(layout.history) == {"window:viewed", "count:bought", "sum:bought.amount",
                                   "last:bought.category"}
    assert set(layout.caps) == {"email"}
    assert len(layout.arms) == 1
    c = layout.new("c1", p.start, 0.0)
    assert not hasattr(c, "__dict__")
    assert c.attrs == {"points": 5, "favourites": ["a"]}
    assert layout.get_history(c) == {"window:viewed": (), "count:bought": 0,
                                     "sum:bought.amount": 0, "last:bought.category": None}


def test_a_list_default_is_copied_per_customer() -> None:
    layout = program().layout
    one, two = layout.new("c1", 0, 0.0), layout.new("c2", 0, 0.0)
    slot = layout.attributes["favourites"]
    getattr(one, slot).append("b")
    assert getattr(two, slot) == ["a"]


def test_attributes_are_read_only_through_the_customer() -> None:
    layout = program().layout
    c = layout.new("c1", 0, 0.0)
    with pytest.raises(TypeError):
        c.attrs["points"] = 9  # type: ignore[index]
    layout.set_attributes(c, {"points": 9, "unknown": 1})
    assert c.attrs["points"] == 9


def test_tags_and_goals_are_bits_read_back_as_names() -> None:
    engine = journeyflow.Engine(journeyflow.loads(SOURCE, "t.journey"))
    for day in ("05", "06"):
        engine.handle({"at": f"2026-01-{day}T10:00:00Z", "customer": "c1", "event": "bought",
                       "data": {"amount": 10}})
    c = engine.interpreter.customers["c1"]
    assert isinstance(c.tag_bits, int)
    assert isinstance(c.goal_bits, int)
    assert "buyer" in c.tags
    assert c.goals == ("first", "second")
    assert engine.customer("c1").goals == ["first", "second"]  # type: ignore[union-attr]


def test_no_slot_after_the_class_is_built() -> None:
    layout = CustomerLayout({"a": 1})
    layout.build("j")
    with pytest.raises(RuntimeError):
        layout.history_slot("count", "late")
    assert layout.build("j") is layout.cls
