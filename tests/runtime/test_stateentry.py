"""The state file's entry of a customer, made by the function generated per journey."""

from __future__ import annotations

import journeyflow

JOURNEY = """journey "entry"
customer { email: text?  born: date?  seen: datetime?  likes: list?  points: number = 0 }
event joined {}
event bought { amount: number }
goal buyer when points > 0
segment fans where points >= 10
value points * 2
message thanks via email { subject "Thanks" }
stage new start {
  on joined { tag "new"  tag "web" }
  on bought { set points += event.amount  grant bonus welcome 5 expires 30d  send thanks }
}
"""


def test_the_entry_shows_every_part_of_a_customer() -> None:
    engine = journeyflow.Engine(journeyflow.loads(JOURNEY))
    engine.handle({"at": "2026-01-05T10:00:00Z", "customer": "c1", "event": "joined",
                   "attributes": {"email": "a@example.org", "born": "1990-02-03",
                                  "seen": "2026-01-04T09:30:00Z", "likes": ["shoes"]}})
    engine.handle({"at": "2026-01-06T10:00:00Z", "customer": "c1", "event": "bought",
                   "data": {"amount": 12}})
    state = engine.customer("c1")
    assert state is not None
    entry = state.model_dump()
    assert entry["attributes"]["likes"] == ["shoes"]
    assert isinstance(entry["attributes"]["born"], str)
    assert entry["attributes"]["seen"] == "2026-01-04T09:30:00Z"
    assert entry["tags"] == ["new", "web"]
    assert entry["goals"] == ["buyer"]
    assert entry["segments"] == ["fans"]
    assert entry["value"] == 24.0
    assert entry["bonuses"] == {"welcome": {"value": 5, "expires": "2026-02-05T10:00:00Z"}}
    assert entry["pending"] == []


def test_a_listed_attribute_is_copied() -> None:
    engine = journeyflow.Engine(journeyflow.loads(JOURNEY))
    engine.handle({"at": "2026-01-05T10:00:00Z", "customer": "c1", "event": "joined",
                   "attributes": {"likes": ["shoes"]}})
    (cid, entry), = engine.state_entries()
    entry["attributes"]["likes"].append("bags")
    again = dict(engine.state_entries())[cid]
    assert again["attributes"]["likes"] == ["shoes"]
