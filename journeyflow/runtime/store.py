"""State stores behind one interface: in memory (default) and a SQLite file.

The SQLite store keeps customers, the timer queue and the engine's counters
in one file (WAL journal), written in one transaction per batch, so a run
can stop and a later run resume exactly where it left off.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Protocol

from journeyflow.errors import JourneyError
from journeyflow.runtime.interpreter import DELIVER, Interpreter
from journeyflow.runtime.layout import CustomerLayout
from journeyflow.runtime.state import ACTIVE, EMPTY_MAP, FINAL, PARKED, Bonus, Customer

__all__ = ["MemoryStore", "SQLiteStore", "Store", "open_store"]


class Store(Protocol):
    def load(self, ip: Interpreter, journey_key: str) -> dict[str, Any]:
        """Restore customers and timers into ``ip``; return the saved counters."""

    def save(self, ip: Interpreter, counters: dict[str, Any], touched: set[str]) -> None:
        """Persist what changed, atomically."""

    def close(self) -> None: ...


class MemoryStore:
    """The default: state lives as long as the engine."""

    def load(self, ip: Interpreter, journey_key: str) -> dict[str, Any]:
        return {}

    def save(self, ip: Interpreter, counters: dict[str, Any], touched: set[str]) -> None:
        return None

    def close(self) -> None:
        return None


def open_store(spec: Store | str | None) -> Store:
    """``None`` or ``memory://`` for memory, ``sqlite:///path.db`` for a file."""
    if spec is None or spec == "memory://":
        return MemoryStore()
    if not isinstance(spec, str):
        return spec
    if spec.startswith("sqlite:///"):
        return SQLiteStore(Path(spec[len("sqlite:///"):]))
    raise JourneyError(f"unknown store '{spec}': use memory:// or sqlite:///path/to/state.db")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS customers (id TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS timers (seq INTEGER PRIMARY KEY, due REAL NOT NULL,
                                   customer TEXT NOT NULL, kind INTEGER NOT NULL,
                                   payload TEXT NOT NULL);
"""


class SQLiteStore:
    """A real SQLite file; the working set is held in memory while a run lasts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.db = sqlite3.connect(path)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise JourneyError(f"cannot open the state store {path}: {exc}") from exc

    def load(self, ip: Interpreter, journey_key: str) -> dict[str, Any]:
        meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("journey", journey_key) != journey_key:
            raise JourneyError(f"the state store {self.path} belongs to another journey "
                               f"({meta['journey']}); use a new file")
        for cid, text in self.db.execute("SELECT id, state FROM customers"):
            ip.customers[cid] = _customer_from(ip.p.layout, json.loads(text))
        for seq, due, cid, kind, payload in self.db.execute(
                "SELECT seq, due, customer, kind, payload FROM timers ORDER BY due, seq"):
            a, b, extra = json.loads(payload)
            if kind == DELIVER:
                a = next(p for p in ip.customers[cid].pending if p["seq"] == a)
            elif extra is not None:
                extra = tuple(extra)
            ip.timers.append((due, seq, cid, kind, a, b, extra))
        counters = json.loads(meta.get("counters", "{}"))
        ip.seq = counters.get("seq", 0)
        ip.steps = counters.get("steps", 0)
        return counters  # type: ignore[no-any-return]

    def save(self, ip: Interpreter, counters: dict[str, Any], touched: set[str]) -> None:
        counters = {**counters, "seq": ip.seq, "steps": ip.steps}
        with self.db:  # one transaction
            self.db.executemany(
                "INSERT OR REPLACE INTO customers (id, state) VALUES (?, ?)",
                ((cid, json.dumps(_customer_to(ip.p.layout, ip.customers[cid])))
                 for cid in sorted(touched)))
            self.db.execute("DELETE FROM timers")
            self.db.executemany(
                "INSERT INTO timers (seq, due, customer, kind, payload) VALUES (?, ?, ?, ?, ?)",
                ((seq, due, cid, kind, json.dumps([a["seq"] if kind == DELIVER else a, b, extra]))
                 for due, seq, cid, kind, a, b, extra in ip.timers))
            self.db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                                [("counters", json.dumps(counters)),
                                 ("journey", counters["journey"])])

    def close(self) -> None:
        self.db.close()


def _customer_to(layout: CustomerLayout, c: Customer) -> dict[str, Any]:
    out = {slot: getattr(c, slot) for slot in Customer.__slots__}
    out = {slot: (dict(value) if value is EMPTY_MAP else value)
           for slot, value in out.items()}
    # Tags and goals by name: their bits are an in-memory detail.
    del out["tag_bits"], out["goal_bits"]
    out["tags"] = list(c.tags)
    out["goals"] = list(c.goals)
    out["fired"] = list(c.fired)
    out["bonuses"] = {k: list(b) for k, b in c.bonuses.items()}
    out["pending"] = list(c.pending)
    out["seen"] = None if c.seen is None else [c.seen[0], sorted(c.seen[1])]
    # The journey's own slots, by name: slot numbers are an in-memory detail.
    out["attrs"] = layout.get_attributes(c)
    out["history"] = layout.get_history(c)
    out["sends"] = {k: list(v) for k, v in layout.get_caps(c).items()}
    out["arms"] = layout.get_arms(c)
    return out


def _customer_from(layout: CustomerLayout, data: dict[str, Any]) -> Customer:
    c = layout.new(data["id"], data["stage"], data["created"])
    for slot in Customer.__slots__:
        if slot in data:
            setattr(c, slot, data[slot])
    # The interpreter compares statuses by identity: use the module's own strings.
    c.status = {ACTIVE: ACTIVE, FINAL: FINAL, PARKED: PARKED}[data["status"]]
    c.tag_bits = sum(layout.tag_bit(tag) for tag in data["tags"])
    c.goal_bits = sum(layout.goal_bit(goal) for goal in data["goals"])
    c.fired = tuple(data["fired"])
    c.bonuses = {k: Bonus(v, e, g) for k, (v, e, g) in data["bonuses"].items()}
    c.pending = tuple(data["pending"])
    seen = data["seen"]
    c.seen = None if seen is None else (seen[0], tuple(seen[1]))
    layout.set_attributes(c, data["attrs"])
    # JSON has no tuples: `within` windows and cap logs come back as lists.
    for key, value in data["history"].items():
        if key in layout.history:
            windowed = layout.history_parts[key][0] in ("window", "payloads")
            setattr(c, layout.history[key], tuple(value) if windowed else value)
    for channel, times in data["sends"].items():
        if channel in layout.caps:
            setattr(c, layout.caps[channel], tuple(times))
    for position, arm in data["arms"].items():
        if position in layout.arms:
            setattr(c, layout.arms[position], arm)
    return c
