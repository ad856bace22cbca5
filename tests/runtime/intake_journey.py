"""The journey the intake tests feed: every field type, in a zone with an offset."""

from __future__ import annotations

JOURNEY = """journey "intake"
timezone "Europe/Berlin"

customer { email: text?  points: number = 0  birthday: date?  vip: bool = false  likes: list? }

event signed_up { source: text = "web" }
event purchased { amount: number  note: text?  paid: datetime?  gift: bool = false }

stage visitor start {
  on signed_up -> member
}

stage member {
  on purchased { set points += event.amount }
  on signed_up -> visitor
}
"""

T0 = "2026-03-02T10:00:00Z"
T0_SECONDS = 1772445600.0
