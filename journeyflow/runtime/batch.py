"""A batch of events, as ``journeyflow run`` processes it, in memory that does not grow.

Every line is read and validated first (a bad one is rejected at once, with its line
number); the valid events are then processed in time order, stable in file order,
and the trace is written as it is made. Only the valid events have to wait for the
end of the file, so they wait on disk: blocks of :data:`BLOCK` events are sorted in
memory and spilled to temporary files in pieces, then read back one piece at a time,
in sequence when the file was already in time order (the usual case) and merged when
it was not. Memory stays that of one block, whatever the number of events.
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import IO, Any

from journeyflow.runtime.engine import Engine
from journeyflow.runtime.events import Rejection, ValidEvent
from journeyflow.runtime.io import RawLine
from journeyflow.runtime.trace import TraceWriter

__all__ = ["BLOCK", "BatchResult", "TimeOrder", "run_batch"]

BLOCK = 65_536  # valid events held in memory before a block goes to disk
PIECE = 1_024  # events per pickle in a spilled block: what a merge holds per block
FLUSH = 8_192  # trace records held before they are written

# (at, line, valid event, event id, the event as read: its line or its CSV row)
Item = tuple[float, int, ValidEvent, str | None, Any]
_at = itemgetter(0)


class TimeOrder:
    """Events in time order, stable in the order they were added, in bounded memory."""

    def __init__(self, block: int = BLOCK) -> None:
        self.block: list[Item] = []
        self.size = block
        self.runs: list[IO[bytes]] = []
        self.in_order = True  # every event so far at or after the one before
        self.last = -float("inf")
        self.count = 0

    def add(self, item: Item) -> None:
        if item[0] < self.last:
            self.in_order = False
        else:
            self.last = item[0]
        self.block.append(item)
        self.count += 1
        if len(self.block) >= self.size:
            self._spill()

    def _spill(self) -> None:
        block = self.block
        if not self.in_order:
            block.sort(key=_at)  # stable: ties keep file order
        run = tempfile.TemporaryFile()  # noqa: SIM115 - closed when read back
        dump = pickle.dump
        for start in range(0, len(block), PIECE):
            dump(block[start:start + PIECE], run, pickle.HIGHEST_PROTOCOL)
        run.seek(0)
        self.runs.append(run)
        self.block = []

    def __iter__(self) -> Iterator[Item]:
        """Every event once, in time order; the spilled runs are consumed."""
        block, self.block = self.block, []
        if not self.in_order:
            block.sort(key=_at)
        runs: list[Iterable[Item]] = [_read_run(run) for run in self.runs]
        self.runs = []
        if self.in_order:
            return chain(*runs, block)
        return heapq.merge(*runs, block, key=_at)  # ties: earlier runs, so earlier lines


def _read_run(run: IO[bytes]) -> Iterator[Item]:
    load = pickle.load
    with run:
        while True:
            try:
                piece: list[Item] = load(run)
            except EOFError:
                return
            yield from piece


@dataclass
class BatchResult:
    pending: int  # valid events after the horizon, not processed
    horizon: float | None  # --until, or the last event's time


def run_batch(engine: Engine, lines: Iterable[RawLine], until: float | None,
              trace: TraceWriter | None) -> BatchResult:
    """Validate every line, then process the valid events up to ``until`` in time order.

    Trace records are written to ``trace`` (or dropped without one) every
    :data:`FLUSH` records, so a run holds only the customers' state.
    """
    records = engine.interpreter.records
    order = TimeOrder(BLOCK)
    _read(engine, lines, order, trace)
    horizon = until if until is not None else (order.last if order.count else None)
    pending = 0
    process = engine.process
    for at, number, valid, ident, raw in order:
        if horizon is not None and at > horizon:
            pending += 1
            continue
        process(valid, ident, raw, number)
        if len(records) >= FLUSH:
            _flush(records, trace)
    if horizon is not None:
        engine.advance(horizon)
    _flush(records, trace)
    return BatchResult(pending, horizon)


def _read(engine: Engine, lines: Iterable[RawLine], order: TimeOrder,
          trace: TraceWriter | None) -> None:
    """Validate every line into ``order``; reject the bad ones with their line number."""
    validate_line = engine.validator.validate_line
    validate = engine.validator.validate
    records = engine.interpreter.records
    for number, raw, error in lines:
        if error is not None:
            engine.reject(error, raw, number)
            if len(records) >= FLUSH:
                _flush(records, trace)
            continue
        event: Any
        try:
            if type(raw) is bytes:
                valid, event = validate_line(raw)
            else:
                valid = validate(raw)
                event = raw
        except Rejection as rejection:
            engine.reject(rejection.reason, rejection.event, number, rejection.at,
                          rejection.customer)
            if len(records) >= FLUSH:
                _flush(records, trace)
            continue
        ident = event.get("id")
        order.add((valid[3], number, valid, None if ident is None else str(ident), raw))


def _flush(records: list[Any], trace: TraceWriter | None) -> None:
    if trace is not None:
        trace.drain(records)
    else:
        records.clear()
