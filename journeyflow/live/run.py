"""``journeyflow run`` with a store or delivery channels: resumable, committed in groups.

Every line of the events file gets a key: its ``id``, or a hash of its content and
how many identical lines came before it. A line whose key the store has committed is
not processed again, so a run killed at any moment and started again on the same file
continues where it stopped. The summary counts this run's file: events in = processed
+ rejected + already committed + pending (after ``--until``); the store keeps the
totals of every run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

from journeyflow.runtime.delivery_loop import ChannelPolicy
from journeyflow.runtime.engine import Engine
from journeyflow.runtime.events import Rejection, ValidEvent
from journeyflow.runtime.io import RawLine, read_events
from journeyflow.runtime.jsonio import decode_line
from journeyflow.runtime.tuning import batch_gc

__all__ = ["LiveRun", "RunSummary", "line_keys"]

BATCH = 20000  # events per commit: large enough to amortise it, small enough to lose little


@dataclass
class RunSummary:
    """What one run did with its file."""

    lines: int = 0
    processed: int = 0
    rejected: int = 0
    already: int = 0
    pending: int = 0
    deliveries: dict[str, int] = field(default_factory=dict)


def line_keys(stream: IO[bytes], fmt: str) -> list[tuple[str, RawLine]]:
    """Each line with its key: ``id:ID``, or ``line:HASH#N`` for the N-th identical line
    (the hash of the line as written when it could not be read, else of what it holds,
    keys sorted, so the same event gets the same key however its line was laid out)."""
    seen: dict[str, int] = {}
    out = []
    for item in read_events(stream, fmt):
        number, raw, error = item
        if isinstance(raw, bytes) and error is None:
            try:
                raw = decode_line(raw)
            except Rejection as rej:
                error = rej.reason
            item = (number, raw, error)
        ident = raw.get("id") if isinstance(raw, dict) else None
        if ident is not None and ident != "":
            key = f"id:{ident}"
        else:
            if isinstance(raw, bytes):
                data = raw
            elif isinstance(raw, str):
                data = raw.encode("utf-8", "surrogatepass")
            else:
                data = orjson.dumps(raw, option=orjson.OPT_SORT_KEYS, default=str)
            digest = hashlib.blake2b(data, digest_size=12).hexdigest()
            n = seen[digest] = seen.get(digest, 0) + 1
            key = f"line:{digest}#{n}"
        out.append((key, item))
    return out


class LiveRun:
    """Feeds a file of events to a store-backed engine, in committed batches."""

    def __init__(self, engine: Engine, batch: int = BATCH) -> None:
        self.engine = engine
        self.batch = batch
        self.summary = RunSummary()
        self.horizon: float | None = None  # timers fire up to here

    def read(self, stream: IO[bytes], fmt: str) -> list[tuple[float, int, ValidEvent, Any, str]]:
        """Validate the lines not committed before; reject the bad ones (kept, with keys)."""
        engine = self.engine
        keyed = line_keys(stream, fmt)
        self.summary.lines = len(keyed)
        committed = _committed(engine, [key for key, _ in keyed])
        valid = []
        rejected_keys = []
        for key, (number, raw, error) in keyed:
            if key in committed:
                self.summary.already += 1
                continue
            try:
                if error is not None:
                    raise Rejection(error)
                event = engine.validator.validate(raw)
            except Rejection as rej:
                engine.reject(rej.reason, raw, number)
                self.summary.rejected += 1
                rejected_keys.append(key)
                continue
            valid.append((event[3], number, event, raw, key))
        valid.sort(key=lambda item: (item[0], item[1]))  # by time, stable in file order
        engine.commit(rejected_keys)
        return valid

    def process(self, valid: list[tuple[float, int, ValidEvent, Any, str]],
                horizon: float | None) -> None:
        engine = self.engine
        store = engine.store
        summary = self.summary
        keys: list[str] = []
        preload = getattr(engine.interpreter.customers, "preload", None)
        with batch_gc():
            for i, (at, number, event, raw, key) in enumerate(valid):
                if preload is not None and i % self.batch == 0:
                    preload([item[2][0] for item in valid[i:i + self.batch]])
                if horizon is not None and at > horizon:
                    summary.pending += 1
                    continue
                store.before(at)
                if engine.handle_valid(event, raw, number).accepted:
                    summary.processed += 1
                else:
                    summary.rejected += 1
                keys.append(key)
                if len(keys) >= self.batch:
                    engine.commit(keys)
                    keys = []
            if horizon is not None:
                store.before(horizon)
                engine.interpreter.advance(horizon)
            engine.commit(keys)

    def deliver(self, timeout: float | None = None) -> bool:
        """Send what is left in the outbox, waiting out retries; False if time ran out."""
        loop = self.engine.deliveries
        if loop is None:
            return True
        done = loop.drain(timeout)
        self.summary.deliveries = {k: v for k, v in loop.counts.items() if v}
        return done


def _committed(engine: Engine, keys: list[str]) -> set[str]:
    store: Any = engine.store
    if hasattr(store, "committed_keys"):
        found: set[str] = store.committed_keys(keys)
        return found
    return {key for key in keys if store.committed(key)}


def channel_handlers(specs: Iterable[Any]) -> tuple[dict[str, Any], dict[str, ChannelPolicy]]:
    """Handlers and retry policies by channel name, from parsed ``--channel`` specs."""
    handlers: dict[str, Any] = {}
    policies: dict[str, ChannelPolicy] = {}
    for spec in specs:
        handlers[spec.name] = spec.handler
        policies[spec.name] = spec.policy
    return handlers, policies


def close_handlers(handlers: Mapping[str, Any]) -> None:
    for handler in handlers.values():
        close = getattr(handler, "close", None)
        if callable(close):
            close()
