"""The store-backed side of ``journeyflow run``: channels, resuming, the summary line."""

from __future__ import annotations

import logging
import sqlite3
import sys
from contextlib import ExitStack

import click

from journeyflow.errors import JourneyError
from journeyflow.journey import Journey
from journeyflow.live.config import channel_specs
from journeyflow.live.run import LiveRun, channel_handlers, close_handlers
from journeyflow.runtime.engine import Engine
from journeyflow.runtime.statefile import write_state
from journeyflow.runtime.timeutil import format_instant

__all__ = ["run_live"]


def run_live(journey: Journey, events_file: str, until_at: float | None,
             trace_file: str | None, state_file: str, store: str, fmt: str,
             channel_texts: tuple[str, ...], smtp: str | None, mail_from: str) -> None:
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    handlers, policies = channel_handlers(channel_specs(channel_texts, smtp, mail_from))
    try:
        engine = Engine(journey, store=store, channels=handlers or None, retry=policies)
    except JourneyError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
    start = len(engine.interpreter.records)
    if trace_file is None and hasattr(engine.store, "keep_trace"):
        engine.store.keep_trace = False  # no trace file: keep memory flat, the store has it
    live = LiveRun(engine)
    failures: tuple[type[Exception], ...] = (sqlite3.Error, OSError, JourneyError,
                                             *_driver_errors(store))
    try:
        _run(engine, live, events_file, fmt, until_at, trace_file, state_file, start)
        customers = engine.store.count()
    except failures as exc:
        click.echo(f"error: the run stopped: {exc}; what was committed is kept, and running "
                   "again on the same file continues from there", err=True)
        sys.exit(1)
    finally:
        try:
            engine.close()
        except failures as exc:  # the store is gone: the error above says what is kept
            click.echo(f"error: the store could not be closed cleanly: {exc}", err=True)
        close_handlers(handlers)
    s = live.summary
    mails = ", ".join(f"{n} {status}" for status, n in s.deliveries.items())
    click.echo(f"{s.lines} events: {s.processed} processed, {s.rejected} rejected, "
               f"{s.already} already committed, {s.pending} pending; {customers} customers"
               + (f", until {format_instant(live.horizon)}" if live.horizon is not None
                  else "")
               + (f"; deliveries: {mails}" if mails else ""), err=True)


def _driver_errors(store: str) -> tuple[type[Exception], ...]:
    """What a lost database connection raises mid-run, besides OSError."""
    if store.startswith(("postgresql://", "postgres://")):
        import psycopg

        return (psycopg.Error,)
    return ()


def _run(engine: Engine, live: LiveRun, events_file: str, fmt: str, until_at: float | None,
         trace_file: str | None, state_file: str, start: int) -> None:
    from journeyflow.runtime.command import _open_events

    with ExitStack() as stack:
        stream = _open_events(stack, events_file)
        valid = live.read(stream, fmt)
    live.horizon = until_at if until_at is not None else (valid[-1][0] if valid else None)
    live.process(valid, live.horizon)
    live.deliver()
    _write_outputs(engine, trace_file, state_file, live.summary.pending, start)


def _write_outputs(engine: Engine, trace_file: str | None, state_file: str, pending: int,
                   start: int) -> None:
    from journeyflow.runtime.command import _open_out

    with ExitStack() as stack:
        if trace_file is not None:
            engine.interpreter.trace.write_jsonl(_open_out(stack, trace_file), start)
        out = _open_out(stack, state_file)
        # One customer at a time from the store: a store of millions is never all in memory.
        write_state(out, engine.state_entries(), engine.state_totals(pending))
        out.flush()
