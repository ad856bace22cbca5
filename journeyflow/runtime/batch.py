"""A batch of events, as ``journeyflow run`` processes it, in memory that does not grow.

Events are processed in time order, stable in file order; a bad line is rejected
when it is read, with its line number; the trace is written as it is made.

Two ways lead there. :func:`run_in_order` processes each event as soon as it is
read, which is right as long as the file is in time order (the usual case) and
gives up, returning None, at the first event earlier than the one before: a caller
that can start again (the file can be read again, the trace rewritten, nothing was
sent) then uses :func:`run_batch`. That one validates every line first, keeps the
valid events in blocks of :data:`BLOCK` that are sorted in memory and spilled to
temporary files, then reads them back one piece at a time, merged. Either way,
memory stays that of one block at most, whatever the number of events.
"""

from __future__ import annotations

import heapq
import marshal
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import IO, Any

from journeyflow.runtime.engine import Engine
from journeyflow.runtime.events import Rejection, ValidEvent
from journeyflow.runtime.io import RawLine
from journeyflow.runtime.trace import TraceWriter

__all__ = ["BLOCK", "BatchResult", "TimeOrder", "run_batch", "run_in_order"]

BLOCK = 16_384  # valid events held in memory before a block goes to disk (about 7 MB)
PIECE = 256  # events per record of a spilled block: what a merge holds per block
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
        self.spilled = 0

    def add(self, item: Item) -> None:
        if item[0] < self.last:
            self.in_order = False
        else:
            self.last = item[0]
        self.block.append(item)
        if len(self.block) >= self.size:
            self.spill()

    @property
    def count(self) -> int:
        return self.spilled + len(self.block)

    def spill(self) -> None:
        """Sort the block in memory (when needed) and write it to a file of its own."""
        block = self.block
        if not self.in_order:
            block.sort(key=_at)  # stable: ties keep file order
        import tempfile  # here: a file in time order never spills, and skips the import

        run = tempfile.TemporaryFile()  # noqa: SIM115 - closed when read back
        dumps = marshal.dumps  # plain tuples, dicts, text and numbers: twice pickle's speed
        for start in range(0, len(block), PIECE):
            piece = dumps(block[start:start + PIECE])
            run.write(len(piece).to_bytes(4, "little"))
            run.write(piece)
        run.seek(0)
        self.runs.append(run)
        self.spilled += len(block)
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
    """A spilled block, one piece at a time (marshal reads a file object byte by byte,
    so each piece is read whole first)."""
    loads, read = marshal.loads, run.read
    with run:
        while size := int.from_bytes(read(4), "little"):
            piece: list[Item] = loads(read(size))
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


def run_in_order(engine: Engine, lines: Iterable[RawLine], until: float | None,
                 trace: TraceWriter | None) -> BatchResult | None:
    """Process each event as it is read; None at the first one out of time order
    (what was processed and written so far is then to be thrown away)."""
    process = engine.process
    records = engine.interpreter.records
    validate_line, check = engine.validator.validate_line, engine.validator.check
    last = -float("inf")
    pending = 0
    # Each line is validated here, not through _valid_lines: a generator less per
    # event is 2% of a run, and nearly every file is in time order.
    for number, raw, error in lines:
        try:
            if error is not None:
                raise Rejection(error, raw)
            valid, ident = validate_line(raw) if type(raw) is bytes else check(raw, None)
        except Rejection as rejection:
            _refuse(engine, rejection, number, trace)
            continue
        at = valid[3]
        if at < last:
            return None
        last = at
        if until is not None and at > until:
            pending += 1
            continue
        process(valid, ident, raw, number)
        if len(records) >= FLUSH:
            _flush(records, trace)
    horizon = until if until is not None else (None if last == -float("inf") else last)
    if horizon is not None:
        engine.advance(horizon)
    _flush(records, trace)
    return BatchResult(pending, horizon)


def _read(engine: Engine, lines: Iterable[RawLine], order: TimeOrder,
          trace: TraceWriter | None) -> None:
    """Validate every line into ``order``; reject the bad ones with their line number."""
    block, size = order.block, order.size  # TimeOrder.add, inlined: it runs per event
    for number, raw, valid, ident in _valid_lines(engine, lines, trace):
        at = valid[3]
        if at < order.last:
            order.in_order = False
        else:
            order.last = at
        block.append((at, number, valid, ident, raw))
        if len(block) >= size:
            order.spill()
            block = order.block


def _valid_lines(engine: Engine, lines: Iterable[RawLine], trace: TraceWriter | None
                 ) -> Iterator[tuple[int, Any, ValidEvent, str | None]]:
    """``(line number, raw, valid event, id)`` of each good line; each bad one is rejected
    with its line number (and its time and customer when they could be read)."""
    validate_line, check = engine.validator.validate_line, engine.validator.check
    for number, raw, error in lines:
        try:
            if error is not None:
                raise Rejection(error, raw)
            valid, ident = validate_line(raw) if type(raw) is bytes else check(raw, None)
        except Rejection as rejection:
            _refuse(engine, rejection, number, trace)
        else:
            yield number, raw, valid, ident


def _refuse(engine: Engine, rejection: Rejection, number: int,
            trace: TraceWriter | None) -> None:
    """Reject a line that is not a valid event, with its line number (and its time and
    customer when they could be read)."""
    engine.reject(rejection.reason, rejection.event, number, rejection.at, rejection.customer)
    records = engine.interpreter.records
    if len(records) >= FLUSH:
        _flush(records, trace)


def _flush(records: list[Any], trace: TraceWriter | None) -> None:
    if trace is not None:
        trace.drain(records)
    else:
        records.clear()
