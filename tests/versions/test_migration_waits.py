"""What waits inside a customer across a migration: correlated waits, deferred sends,
`when` rules that fired, unnamed splits, `every` and `at` timers."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.versions.migrating import DAY, T0, edit, history, run, run_and_close, url, version

HOUR = 3600.0
CART = """journey "Cart"
version 1
customer { points: number = 0, renewal: datetime? }
event cart { id: text }
event purchased { id: text }
event ping {}
message reminder via email { subject "Your cart" }
message tip via email { subject "Tip" }
quiet hours 22:00 to 08:00
stage browsing start {
  on cart { after 4h unless purchased where event.id == origin.id { send reminder } }
  on ping { send tip }
  when points >= 0 { set points += 1 }
  every 1d { split { 50% { tag "a" } 50% { tag "b" } } }
  at renewal - 1d { tag "renewing" }
}
"""


def event(at: float, customer: str, name: str, **data: Any) -> dict[str, Any]:
    return {"at": at, "customer": customer, "event": name, "data": data,
            "id": f"{customer}-{name}-{at}"}


def stored_arms(store: str) -> dict[str, int]:
    with sqlite3.connect(store.removeprefix("sqlite:///")) as db:
        (text,) = db.execute("SELECT json_extract(state, '$.arms') FROM jf_customers").fetchone()
    arms: dict[str, int] = json.loads(text)
    return arms


def sends(trace: list[dict[str, Any]], message: str) -> list[tuple[str, str]]:
    return [(r["customer"], r["at"]) for r in trace
            if r.get("action") == "send" and r.get("message") == message]


def test_a_correlated_wait_survives(tmp_path: Path) -> None:
    store = url(tmp_path)
    first = [event(T0, "a", "cart", id="x"), event(T0, "b", "cart", id="y"),
             event(T0 + HOUR, "c", "ping")]
    run_and_close(CART, store, first)
    copy = edit(version(CART, 2), ("Your cart", "Your basket"))
    e = run(copy, store, [event(T0 + 2 * HOUR, "a", "purchased", id="x"),
                          event(T0 + 2 * HOUR, "b", "purchased", id="other")], T0 + DAY)
    reminded = sends(e.trace, "reminder")
    e.close()
    assert reminded == [("b", "2026-01-01T14:00:00Z")]  # a bought that cart, b another one


def test_a_deferred_send_is_delivered_by_the_new_version(tmp_path: Path) -> None:
    store = url(tmp_path)
    run_and_close(CART, store, [event(T0 + 13 * HOUR, "a", "ping")])  # 23:00: quiet hours
    e = run(version(CART, 2), store, [], T0 + DAY)
    tips = sends(e.trace, "tip")
    e.close()
    assert tips == [("a", "2026-01-02T08:00:00Z")]


def test_a_deferred_send_the_new_version_does_not_defer_is_dropped(tmp_path: Path) -> None:
    store = url(tmp_path)
    run_and_close(CART, store, [event(T0 + 13 * HOUR, "a", "ping")])
    e = run(edit(version(CART, 2), ("quiet hours 22:00 to 08:00\n", "")), store, [], T0 + DAY)
    assert sends(e.trace, "tip") == []
    e.close()
    (record,) = history(store, "migrated")
    assert record["dropped"] == ["deferred send of 'tip': version 2 does not defer that message"]


def test_a_when_rule_that_fired_does_not_fire_again(tmp_path: Path) -> None:
    store = url(tmp_path)
    run_and_close(CART, store, [event(T0, "a", "ping")])
    # A rule above it: the `when` rule has another number in version 2.
    moved = edit(version(CART, 2),
                 ("  on cart {", "  on purchased { tag \"bought\" }\n  on cart {"))
    e = run(moved, store, [event(T0 + HOUR, "a", "ping")])
    assert e.state()["customers"]["a"]["attributes"]["points"] == 1
    e.close()


def test_an_unnamed_split_keeps_its_arm_when_lines_move(tmp_path: Path) -> None:
    store = url(tmp_path)
    run_and_close(CART, store, [event(T0, "a", "ping")], T0 + 1.5 * DAY)
    shifted = edit(version(CART, 2), ("customer {", "# a line above moves every split\n"
                                      "customer {"))
    before = stored_arms(store)
    assert list(before) == ["14:14"]
    run_and_close(shifted, store, [])
    assert stored_arms(store) == {"15:14": before["14:14"]}  # one line lower in version 2


def test_a_changed_every_takes_its_next_repetition(tmp_path: Path) -> None:
    store = url(tmp_path)
    run_and_close(CART, store, [event(T0, "a", "ping"), event(T0 + 1.5 * DAY, "z", "ping")],
                  T0 + 1.5 * DAY)
    e = run(edit(version(CART, 2), ("every 1d", "every 2d")), store, [], T0 + 5 * DAY)
    splits = [r["at"] for r in e.trace if r.get("action") == "split" and r["customer"] == "a"]
    e.close()
    assert splits == ["2026-01-03T10:00:00Z", "2026-01-05T10:00:00Z"]


def test_a_changed_at_rule_is_computed_from_the_current_values(tmp_path: Path) -> None:
    store = url(tmp_path)
    renewal = {**event(T0, "a", "ping"), "attributes": {"renewal": "2026-01-10T10:00:00Z"}}
    run_and_close(CART, store, [renewal])
    e = run(edit(version(CART, 2), ("at renewal - 1d", "at renewal - 2d")), store, [],
            T0 + 10 * DAY)
    tagged = [r["at"] for r in e.trace if r.get("tag") == "renewing"]
    e.close()
    assert tagged == ["2026-01-08T10:00:00Z"]
