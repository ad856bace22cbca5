"""The seeded workload for examples/lifecycle.journey.

Every customer gets its own random stream, derived from ``(seed, customer index)``,
so the first N customers of a bigger workload are exactly the customers of a
workload of N. A customer arrives in the first 90 days, has a persona (browser,
lead, buyer, loyal), a lifespan and 12-28 events (20 on average), mostly in the
daytime of the journey's zone; 1.5% unsubscribe at some point, and about 1% unsubscribe
early and come back 95 days later. The whole stream is
sorted by time, stable, and kept as compact arrays; :func:`raw_events` turns a slice
into the raw event dicts of the embedding API (``{"at", "customer", "event", "data"}``).
"""

from __future__ import annotations

import calendar
import hashlib
import math
import pickle
import random
import tempfile
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["EVENTS", "START", "Workload", "cached_workload", "events_file", "generate",
           "raw_events"]

START = float(calendar.timegm((2026, 3, 2, 0, 0, 0)))  # Monday 2 March 2026, 00:00 UTC
DAY = 86400
SPAN_DAYS = 120
ARRIVAL_DAYS = 90
RETURN_BY, RETURN_AFTER = 20, 95

EVENTS = ("page_viewed", "signed_up", "cart_abandoned", "purchased", "support_ticket",
          "referred", "unsubscribed")
PAGE, SIGNUP, CART, BUY, TICKET, REFER, UNSUB = range(len(EVENTS))
PAGES = ("home", "shoes", "bags", "sale")
SOURCES = ("ads", "search", "social")
CATEGORIES = ("shoes", "bags", "other")

# Persona: (share, lifespan days (low, high), event mix after sign-up: (kind, weight)...).
_PERSONAS: tuple[tuple[float, tuple[float, float], tuple[tuple[int, float], ...]], ...] = (
    (0.35, (1, 30), ((PAGE, 0.89), (CART, 0.08), (SIGNUP, 0.02), (BUY, 0.01))),
    (0.20, (10, 80), ((PAGE, 0.65), (CART, 0.30), (BUY, 0.02), (TICKET, 0.03))),
    (0.30, (20, 120), ((PAGE, 0.60), (CART, 0.15), (BUY, 0.17), (TICKET, 0.06),
                       (REFER, 0.02))),
    (0.15, (30, 120), ((PAGE, 0.45), (BUY, 0.35), (CART, 0.08), (TICKET, 0.04),
                       (REFER, 0.08))),
)


@dataclass
class Workload:
    """``n`` events sorted by time: offsets from :data:`START` in seconds, customer
    index, event kind (index into :data:`EVENTS`), a number and an option per event."""

    customers: int
    seed: int
    at: array[int]
    customer: array[int]
    kind: array[int]
    number: array[float]
    option: array[int]

    def __len__(self) -> int:
        return len(self.at)

    @property
    def horizon(self) -> float:
        """The end of the simulated period: timers due up to here fire at the end."""
        return START + SPAN_DAYS * DAY


def _pick(rng: random.Random, mix: tuple[tuple[int, float], ...]) -> int:
    x = rng.random()
    for kind, weight in mix:
        x -= weight
        if x < 0:
            return kind
    return mix[0][0]


def _moment(rng: random.Random, low: float, high: float) -> int:
    """A time in [low, high), seconds; night-time draws (Berlin) are mostly redrawn."""
    t = rng.uniform(low, high)
    hour = (t % DAY) / 3600 + 1  # roughly local time (UTC+1)
    if (hour < 7 or hour >= 23) and rng.random() < 0.75:
        t = rng.uniform(low, high)
    return int(t)


def _payload(rng: random.Random, kind: int) -> tuple[float, int]:
    if kind == PAGE:
        return 0.0, (rng.randrange(len(PAGES)) if rng.random() < 0.7 else -1)
    if kind == SIGNUP:
        x = rng.random()
        return 0.0, (0 if x < 0.45 else 1 if x < 0.72 else 2 if x < 0.9 else -1)
    if kind == CART:
        return round(rng.uniform(5, 250), 2), 0
    if kind == BUY:
        x = rng.random()
        category = 0 if x < 0.4 else 1 if x < 0.75 else 2 if x < 0.95 else -1
        return round(rng.lognormvariate(4.3, 0.6), 2), category
    if kind == TICKET:
        return float(rng.randint(1, 5)), 0
    return 0.0, 0


def _customer(seed: int, index: int) -> list[tuple[int, int, float, int]]:
    """One customer's events: (offset seconds, kind, number, option), in time order."""
    rng = random.Random(seed * 1_000_003 + index)
    x = rng.random()
    persona = 0
    while persona < len(_PERSONAS) - 1 and x >= _PERSONAS[persona][0]:
        x -= _PERSONAS[persona][0]
        persona += 1
    _, (low, high), mix = _PERSONAS[persona]
    arrival = rng.random() * ARRIVAL_DAYS * DAY
    end = min(arrival + rng.uniform(low, high) * DAY, SPAN_DAYS * DAY)
    # A few early visitors unsubscribe within days and come back after a quarter
    # (`reentry after 90d`): their later events move 95 days on, starting with a sign-up.
    returner = arrival < RETURN_BY * DAY and rng.random() < 0.05
    if returner:
        end = min(end, arrival + 5 * DAY)
    n = rng.randint(12, 28)
    times = sorted(_moment(rng, arrival, end) for _ in range(n))
    signup = -1 if persona == 0 else rng.randint(0, 4) if persona < 3 else rng.randint(0, 1)
    if persona == 2 and rng.random() < 0.15:
        signup = -1  # guest buyers
    unsubscribe = rng.randint(1, n - 1) if rng.random() < 0.015 else -1
    if returner:
        unsubscribe = rng.randint(1, 3)
        times[unsubscribe + 1:] = [t + RETURN_AFTER * DAY for t in times[unsubscribe + 1:]]
    events = []
    for i, t in enumerate(times):
        if i == unsubscribe:
            kind = UNSUB
        elif i == signup or (returner and i == unsubscribe + 1):
            kind = SIGNUP
        elif i < signup:
            kind = PAGE
        else:
            kind = _pick(rng, mix)
        number, option = _payload(rng, kind)
        events.append((t, kind, number, option))
    return events


def generate(customers: int, seed: int) -> Workload:
    """The whole workload, sorted by time (stable: ties keep customer, then event order)."""
    at: array[int] = array("i")
    who: array[int] = array("i")
    kind: array[int] = array("b")
    number: array[float] = array("d")
    option: array[int] = array("b")
    for index in range(customers):
        for t, k, x, o in _customer(seed, index):
            at.append(t)
            who.append(index)
            kind.append(k)
            number.append(x)
            option.append(o)
    order = sorted(range(len(at)), key=at.__getitem__)
    return Workload(customers, seed,
                    array("i", [at[j] for j in order]), array("i", [who[j] for j in order]),
                    array("b", [kind[j] for j in order]),
                    array("d", [number[j] for j in order]),
                    array("b", [option[j] for j in order]))


def cached_workload(customers: int, seed: int) -> Path:
    """Generate once and keep as a pickle in the temp dir, keyed by this module's text."""
    key = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"journeyflow-bench-{customers}-{seed}-{key}.pickle"
    if not path.exists():
        partial = path.with_suffix(".partial")
        with partial.open("wb") as out:
            pickle.dump(generate(customers, seed), out, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(path)
    return path


def load(path: Path) -> Workload:
    with path.open("rb") as stream:
        workload = pickle.load(stream)
    assert isinstance(workload, Workload)
    return workload


def customer_id(index: int) -> str:
    return f"c{index:06d}"


def raw_events(w: Workload, start: int, stop: int) -> list[dict[str, Any]]:
    """Events ``start:stop`` as raw dicts, as an embedding would receive them (fresh
    strings and dicts per event, as after JSON parsing)."""
    out: list[dict[str, Any]] = []
    append = out.append
    at, who, kinds, numbers, options = w.at, w.customer, w.kind, w.number, w.option
    for j in range(start, stop):
        k = kinds[j]
        o = options[j]
        data: dict[str, Any]
        if k == PAGE:
            data = {} if o < 0 else {"page": PAGES[o]}
        elif k == SIGNUP:
            data = {} if o < 0 else {"source": SOURCES[o]}
        elif k == CART:
            data = {"cart_value": numbers[j]}
        elif k == BUY:
            data = {"amount": numbers[j]}
            if o >= 0:
                data["category"] = CATEGORIES[o]
        elif k == TICKET:
            data = {"rating": int(numbers[j])}
        elif k == REFER:
            data = {"friend": f"friend.{who[j]}@example.org"}
        else:
            data = {}
        append({"at": START + at[j], "customer": f"c{who[j]:06d}", "event": EVENTS[k],
                "data": data})
    return out


def describe(w: Workload) -> dict[str, Any]:
    """Counts per event kind and the time span, for the report."""
    counts = [0] * len(EVENTS)
    for k in w.kind:
        counts[k] += 1
    days = (w.at[-1] - w.at[0]) / DAY if len(w) else 0.0
    return {"events": len(w), "customers": w.customers,
            "per_customer": len(w) / max(1, w.customers),
            "days": math.ceil(days), "kinds": dict(zip(EVENTS, counts, strict=True))}


def events_file(customers: int, seed: int, name: str) -> tuple[Path, float, int]:
    """The workload as a JSON Lines file in the temporary folder (written once, then
    reused), its horizon and its number of events; ``name`` keeps benchmarks apart."""
    import json
    import tempfile

    workload = load(cached_workload(customers, seed))
    path = Path(tempfile.gettempdir()) / f"journeyflow-{name}-{customers}-{seed}.jsonl"
    if not path.exists():
        with path.open("w", encoding="utf-8") as out:
            for start in range(0, len(workload), 100_000):
                for event in raw_events(workload, start, min(len(workload), start + 100_000)):
                    out.write(json.dumps(event) + "\n")
    return path, workload.horizon, len(workload)
