"""Journeys in two versions and a store to migrate between them, for the migration tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import journeyflow

T0 = 1767261600.0  # 2026-01-01T10:00:00Z
DAY = 86400.0
FILE = "trial.journey"  # both versions are read as this file, so traces name the same rules

V1 = """journey "Trial"
version 1
customer { plan: text = "basic", seats: number = 1 }
event signed_up {}
event used { minutes: number = 1 }
event paid {}
message hello via email { subject "Hello" }
message nudge via email { subject "Still there?" }
message thanks via email { subject "Thank you" }
stage trial start {
  on enter { after 2d { send hello } }
  on used { set seats += 1 }
  after 3d { send nudge }
  every 2d { tag "reminded" }
  after 5d without used -> lapsed
  on paid -> customer
}
stage customer {
  on enter { send thanks }
  on used { set seats += event.minutes }
}
stage lapsed final
"""


def edit(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text


def version(text: str, number: int) -> str:
    return edit(text, ("version 1", f"version {number}"))


RENAMED = edit(version(V1, 2), ("stage trial start", "stage onboarding start")) + (
    "migrate { stage trial -> onboarding }\n")


def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


def engine(text: str, store: str | None = None) -> journeyflow.Engine:
    return journeyflow.Engine(journeyflow.loads(text, FILE), store=store)


def run(text: str, store: str | None, events: list[dict[str, Any]],
        until: float | None = None) -> journeyflow.Engine:
    """Feed ``events`` to a new engine, advance to ``until``; the engine is left open."""
    e = engine(text, store)
    for event in events:
        assert e.handle(event).accepted, event
    if until is not None:
        e.advance(until)
    return e


def run_and_close(text: str, store: str, events: list[dict[str, Any]],
                  until: float | None = None) -> dict[str, Any]:
    e = run(text, store, events, until)
    state = e.state()
    e.close()
    return state


def signups(n: int, at: float = T0) -> list[dict[str, Any]]:
    return [{"at": at + i * 60, "customer": f"c{i}", "event": "signed_up", "id": f"s{i}"}
            for i in range(n)]


def versions(store: str) -> dict[str, int]:
    """Version -> customers, read straight from the store's file."""
    with sqlite3.connect(store.removeprefix("sqlite:///")) as db:
        return dict(db.execute("SELECT version, count(*) FROM jf_customers GROUP BY version"))


def history(store: str, kind: str) -> list[dict[str, Any]]:
    """Every record of ``kind`` in the customers' stored history."""
    from journeyflow.live.codec import loads

    out = []
    with sqlite3.connect(store.removeprefix("sqlite:///")) as db:
        for cid, text in db.execute("SELECT customer, records FROM jf_history ORDER BY seq"):
            out += [{"customer": cid, "at": at, **fields}
                    for at, k, fields in loads(text) if k == kind]
    return out
