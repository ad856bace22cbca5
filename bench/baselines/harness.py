"""One implementation on one workload, in a process of its own.

``run(impl, workload, out)`` times the event loop over chunks of 100k events: each
chunk is turned into raw event dicts and validated (journeyflow) or prepared
(baselines) outside the timing, then ``for ev in batch: handle_valid(ev)`` runs timed,
the trace records are counted and the list cleared; a final ``advance(horizon)``
fires the timers still due. ``memory(impl, workload, out)`` repeats the run under
tracemalloc and reports the memory held by the customers and timers alone: traced
memory before minus after dropping them.
"""

from __future__ import annotations

import gc
import json
import resource
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from baselines import workload as wl
from baselines.lifecycle import JOURNEY_FILE

__all__ = ["CHUNK", "IMPLEMENTATIONS", "memory", "run"]

IMPLEMENTATIONS = ("journeyflow", "handwritten", "transitions")
CHUNK = 100_000

DEFAULTS: dict[str, dict[str, Any]] = {
    "page_viewed": {"page": "home"}, "signed_up": {"source": "web"},
    "purchased": {"category": "other"}}


def prepare(raw: dict[str, Any]) -> tuple[str, str, dict[str, Any], float, dict[str, Any]]:
    """What journeyflow's validator gives, for the baselines: defaults filled in."""
    name = raw["event"]
    data = raw["data"]
    defaults = DEFAULTS.get(name)
    if defaults is not None:
        data = {**defaults, **data}
    return str(raw["customer"]), name, data, float(raw["at"]), {}


@dataclass
class Subject:
    """An implementation as the harness drives it."""

    name: str
    handle: Callable[[Any], Any]
    advance: Callable[[float], Any]
    records: Callable[[], list[Any]]
    prepare: Callable[[dict[str, Any]], Any]
    final_stages: Callable[[], dict[str, str]]
    drop_state: Callable[[], None]
    before_measure: Callable[[], None]


def _journeyflow() -> Subject:
    import journeyflow

    engine = journeyflow.Engine(journeyflow.load(JOURNEY_FILE))
    ip = engine.interpreter

    def final_stages() -> dict[str, str]:
        out: dict[str, str] = {}
        for cid in ip.customers:
            state = engine.customer(cid)
            assert state is not None
            out[cid] = state.stage
        return out

    def drop_state() -> None:
        ip.customers.clear()
        ip.timers.clear()

    return Subject("journeyflow", engine.handle_valid, engine.advance, lambda: ip.records,
                   engine.validator.validate, final_stages, drop_state, engine.flush)


def _baseline(name: str) -> Subject:
    engine: Any
    if name == "handwritten":
        from baselines.handwritten import Handwritten

        engine = Handwritten()
    else:
        from baselines.with_transitions import WithTransitions

        engine = WithTransitions()

    def drop_state() -> None:
        engine.customers.clear()
        engine.timers.clear()

    return Subject(name, engine.handle_valid, engine.advance, lambda: engine.records, prepare,
                   engine.final_stages, drop_state, lambda: None)


def subject(name: str) -> Subject:
    if name not in IMPLEMENTATIONS:
        raise ValueError(f"unknown implementation {name!r}")
    return _journeyflow() if name == "journeyflow" else _baseline(name)


def _batches(s: Subject, w: wl.Workload, chunk: int) -> Any:
    for start in range(0, len(w), chunk):
        raw = wl.raw_events(w, start, min(len(w), start + chunk))
        prepare = s.prepare
        yield [prepare(event) for event in raw]


class Stopwatch:
    """CPU time of this process and wall-clock time, over the timed sections only."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.wall = 0.0
        self._cpu = self._wall = 0.0

    def start(self) -> None:
        self._cpu = time.process_time()
        self._wall = time.perf_counter()

    def stop(self) -> None:
        self.wall += time.perf_counter() - self._wall
        self.cpu += time.process_time() - self._cpu


def _drive(s: Subject, w: wl.Workload, chunk: int) -> tuple[Stopwatch, int, Counter[str]]:
    """The timed run: time in handle_valid/advance, records produced, records per kind."""
    clock = Stopwatch()
    produced = 0
    kinds: Counter[str] = Counter()
    handle = s.handle
    for batch in _batches(s, w, chunk):
        clock.start()
        for ev in batch:
            handle(ev)
        records = s.records()
        produced += len(records)
        clock.stop()
        kinds.update(r[2] for r in records)  # not timed
        clock.start()
        records.clear()
        clock.stop()
    del batch
    clock.start()
    s.advance(w.horizon)
    records = s.records()
    produced += len(records)
    clock.stop()
    kinds.update(r[2] for r in records)
    records.clear()
    return clock, produced, kinds


def run(impl: str, workload_path: Path, out: Path, stages: bool = True,
        chunk: int = CHUNK) -> None:
    """The timed run; with ``stages``, every customer's final stage goes in the result."""
    w = wl.load(workload_path)
    s = subject(impl)
    clock, produced, kinds = _drive(s, w, chunk)
    result = {
        "impl": impl, "customers": w.customers, "events": len(w), "cpu_seconds": clock.cpu,
        "wall_seconds": clock.wall, "events_per_s": len(w) / clock.cpu,
        "wall_events_per_s": len(w) / clock.wall, "records": produced, "kinds": dict(kinds),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "stages": s.final_stages() if stages else None,
    }
    out.write_text(json.dumps(result))


def memory(impl: str, workload_path: Path, out: Path, chunk: int = CHUNK) -> None:
    """Traced memory held by the customers and timers after a run, per customer."""
    w = wl.load(workload_path)
    s = subject(impl)
    gc.collect()
    tracemalloc.start()
    for batch in _batches(s, w, chunk):
        for ev in batch:
            s.handle(ev)
        s.records().clear()
    del batch
    s.advance(w.horizon)
    s.records().clear()
    s.before_measure()
    gc.collect()
    held = tracemalloc.get_traced_memory()[0]
    s.drop_state()
    gc.collect()
    state = held - tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    out.write_text(json.dumps({"impl": impl, "customers": w.customers, "state_bytes": state,
                               "per_customer": state / max(1, w.customers)}))
