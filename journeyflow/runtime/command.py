"""``journeyflow run`` (docs/language.md) and ``journeyflow test`` (Scenarios)."""

from __future__ import annotations

import io
import os
import stat
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TextIO, cast

import click

from journeyflow.errors import JourneyError
from journeyflow.journey import Journey
from journeyflow.runtime.batch import run_batch, run_in_order
from journeyflow.runtime.engine import Engine
from journeyflow.runtime.fieldvalues import Rejection, timestamp
from journeyflow.runtime.io import read_events
from journeyflow.runtime.statefile import write_state
from journeyflow.runtime.timeutil import format_instant
from journeyflow.runtime.trace import TraceWriter
from journeyflow.runtime.tuning import batch_gc

if TYPE_CHECKING:
    from journeyflow.runtime.scenarios import ScenarioResult

__all__ = ["run", "test"]


def _open_out(stack: ExitStack, target: str) -> IO[bytes]:
    """A binary stream for an output file, or standard output for ``-``."""
    if target == "-":
        sys.stdout.flush()
        buffer: IO[bytes] | None = getattr(sys.stdout, "buffer", None)
        return buffer if buffer is not None else cast(IO[bytes], _TextSink(sys.stdout))
    try:
        return stack.enter_context(open(target, "wb"))  # noqa: SIM115
    except OSError as exc:
        raise click.UsageError(f"cannot write {target}: {exc.strerror}") from exc


class _TextSink(io.RawIOBase):
    """Bytes written to a text stream that has no binary buffer (an embedder's stdout)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.stream.write(bytes(data).decode("utf-8"))
        return len(data)


def _open_events(stack: ExitStack, events_file: str) -> IO[bytes]:
    if events_file == "-":
        return sys.stdin.buffer
    try:
        return stack.enter_context(open(events_file, "rb"))  # noqa: SIM115
    except OSError as exc:
        raise click.UsageError(f"cannot read {events_file}: {exc.strerror}") from exc


@click.command()
@click.argument("journey_file", metavar="JOURNEY",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--events", "events_file", required=True,
              help="JSON Lines or CSV file of events, or - for standard input.")
@click.option("--until", help="Fire timers due up to this time (default: the last event's); "
                              "without an offset it is in the journey's time zone.")
@click.option("--trace", "trace_file", help="Write the trace (JSON Lines) here; - for stdout.")
@click.option("--state", "state_file", default="-", show_default=True,
              help="Write the final state (JSON) here; - for stdout.")
@click.option("--store", default="memory://", show_default=True,
              help="State store: memory://, sqlite:///state.db or postgresql://USER@HOST/DB "
                   "(resumes a previous run).")
@click.option("--format", "fmt", type=click.Choice(["auto", "jsonl", "csv"]), default="auto",
              show_default=True, help="Input format; auto looks at the file's extension.")
@click.option("--smtp", metavar="HOST:PORT",
              help="Deliver email sends to this SMTP server (to each customer's email).")
@click.option("--mail-from", default="journeys@localhost", show_default=True,
              help="Sender address for --smtp.")
@click.option("--channel", "channels", multiple=True, metavar="NAME=TARGET",
              help="Deliver a channel: smtp://HOST:PORT, http(s)://URL (a webhook) or trace "
                   "(recorded only); ?attempts=N&backoff=SECONDS set its retries. Repeatable.")
@click.option("--no-cache", "no_cache", is_flag=True,
              help="Compile JOURNEY afresh instead of reusing the compiled journey kept from "
                   "an earlier run of the same text, and keep none (JOURNEYFLOW_NO_CACHE=1 "
                   "also leaves the parser's tables unkept).")
def run(journey_file: Path, events_file: str, until: str | None, trace_file: str | None,
        state_file: str, store: str, fmt: str, smtp: str | None, mail_from: str,
        channels: tuple[str, ...], no_cache: bool) -> None:
    """Step customers through JOURNEY with the events of a file.

    With --store, every group of events is committed with the deliveries it decided;
    run again on the same file after a crash, it continues where it stopped.
    """
    from journeyflow.cliutil import load_or_exit

    journey = load_or_exit(journey_file, cache=not no_cache)
    until_at = _parse_until(until, journey.model.timezone)
    if fmt == "auto":
        fmt = "csv" if events_file.lower().endswith(".csv") else "jsonl"
    if store != "memory://" or smtp is not None or channels:
        # Stored state or real deliveries: the live runtime commits as it goes.
        from journeyflow.live.runcli import run_live

        run_live(journey, events_file, until_at, trace_file, state_file, store, fmt,
                 channels, smtp, mail_from)
        return
    engine = _engine(journey)
    with ExitStack() as stack:
        stream = _open_events(stack, events_file)
        trace_out = _open_out(stack, trace_file) if trace_file is not None else None
        writer = TraceWriter(trace_out) if trace_out is not None else None
        with batch_gc():
            result = None
            # In file order as it is read, when the file turns out to be in time order;
            # otherwise sorted, which needs the file read again and the trace rewritten.
            if _rewindable(stream) and (
                    trace_out is None or _rewindable(trace_out)):
                result = run_in_order(engine, read_events(stream, fmt), until_at, writer)
                if result is None:
                    engine = _engine(journey)
                    stream.seek(0)
                    if trace_out is not None:
                        trace_out.seek(0)
                        trace_out.truncate()
                        writer = TraceWriter(trace_out)
            if result is None:
                result = run_batch(engine, read_events(stream, fmt), until_at, writer)
        out = _open_out(stack, state_file)
        write_state(out, engine.state_entries(), engine.state_totals(result.pending))
        out.flush()
    engine.close()
    horizon = result.horizon
    click.echo(f"{engine.processed} processed, {len(engine.rejected)} rejected, "
               f"{result.pending} pending, {len(engine.interpreter.customers)} customers"
               + (f", until {format_instant(horizon)}" if horizon is not None else ""),
               err=True)


def _engine(journey: Journey) -> Engine:
    try:
        return Engine(journey)
    except JourneyError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)


def _rewindable(stream: IO[bytes]) -> bool:
    """A regular file, which can be read or written again from its start."""
    try:
        return stream.seekable() and stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):
        return False


def _parse_until(until: str | None, zone: str) -> float | None:
    if until is None:
        return None
    try:
        return timestamp(until, zone, None)
    except Rejection as rej:
        raise click.BadParameter(rej.reason.replace("timestamp", "time", 1),
                                 param_hint="--until") from None


@click.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-v", "--verbose", is_flag=True, help="List passing scenarios too.")
def test(files: tuple[Path, ...], verbose: bool) -> None:
    """Run the scenarios of journey files; exit 1 if an expectation fails."""
    from journeyflow.cliutil import load_or_exit
    from journeyflow.runtime.scenarios import run_scenarios

    passed = failed = 0
    for path in files:
        journey = load_or_exit(path)
        if not journey.scenarios:
            click.echo(f"{path}: no scenarios")
        for result in run_scenarios(journey):
            if result.ok:
                passed += 1
                if verbose:
                    click.echo(f"ok    {path}: {result.scenario.name}")
                continue
            failed += 1
            _report(path, result)
    click.echo(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


def _report(path: Path, result: ScenarioResult) -> None:
    click.echo(f"FAIL  {path}: {result.scenario.name} ({result.scenario.location})")
    if result.error:
        click.echo(f"      {result.error}")
    for failure in result.failures:
        click.echo(f"      {failure.location}: {failure.expectation}")
        click.echo(f"        but {failure.actual}")
        click.echo("        trace:")
        for record in failure.trace:
            click.echo(f"          {_trace_line(record)}")


def _trace_line(record: dict[str, Any]) -> str:
    details = {k: v for k, v in record.items() if k not in ("at", "customer", "kind")}
    text = " ".join(f"{k}={v}" for k, v in details.items())
    return f"{record['at']} {record['kind']} {text}"
