"""``journeyflow run`` (docs/language.md) and ``journeyflow test`` (Scenarios)."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TextIO

import click

from journeyflow.errors import JourneyError
from journeyflow.runtime.channels import SmtpChannel
from journeyflow.runtime.engine import Engine
from journeyflow.runtime.events import Rejection, ValidEvent
from journeyflow.runtime.io import read_events
from journeyflow.runtime.scenarios import ScenarioResult, run_scenarios
from journeyflow.runtime.timeutil import format_instant, parse_instant
from journeyflow.runtime.tuning import batch_gc

__all__ = ["run", "test"]


def _open_out(stack: ExitStack, target: str) -> TextIO:
    if target == "-":
        return sys.stdout
    try:
        return stack.enter_context(open(target, "w", encoding="utf-8"))  # noqa: SIM115
    except OSError as exc:
        raise click.UsageError(f"cannot write {target}: {exc.strerror}") from exc


def _read_valid(engine: Engine, stream: TextIO, fmt: str) -> list[tuple[float, int, ValidEvent,
                                                                        Any]]:
    """Validate every line; reject the bad ones (with their line) and keep the rest."""
    valid = []
    for number, raw, error in read_events(stream, fmt):
        if error is not None:
            engine.reject(error, raw, number)
            continue
        try:
            event = engine.validator.validate(raw)
        except Rejection as rej:
            engine.reject(rej.reason, raw, number)
            continue
        valid.append((event[3], number, event, raw))
    valid.sort(key=lambda item: (item[0], item[1]))  # by time, stable in file order
    return valid


@click.command()
@click.argument("journey_file", metavar="JOURNEY",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--events", "events_file", required=True,
              help="JSON Lines or CSV file of events, or - for standard input.")
@click.option("--until", help="Fire timers due up to this time (default: the last event's).")
@click.option("--trace", "trace_file", help="Write the trace (JSON Lines) here; - for stdout.")
@click.option("--state", "state_file", default="-", show_default=True,
              help="Write the final state (JSON) here; - for stdout.")
@click.option("--store", default="memory://", show_default=True,
              help="State store: memory:// or sqlite:///state.db (resumes a previous run).")
@click.option("--format", "fmt", type=click.Choice(["auto", "jsonl", "csv"]), default="auto",
              show_default=True, help="Input format; auto looks at the file's extension.")
@click.option("--smtp", metavar="HOST:PORT",
              help="Deliver email sends to this SMTP server (to each customer's email).")
@click.option("--mail-from", default="journeys@localhost", show_default=True,
              help="Sender address for --smtp.")
def run(journey_file: Path, events_file: str, until: str | None, trace_file: str | None,
        state_file: str, store: str, fmt: str, smtp: str | None, mail_from: str) -> None:
    """Step customers through JOURNEY with the events of a file."""
    from journeyflow.cliutil import load_or_exit

    journey = load_or_exit(journey_file)
    until_at = _parse_until(until)
    if fmt == "auto":
        fmt = "csv" if events_file.lower().endswith(".csv") else "jsonl"
    mailer = _mailer(smtp, mail_from)
    try:
        engine = Engine(journey, store=store, channels={"email": mailer} if mailer else None)
    except JourneyError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
    start = len(engine.interpreter.records)
    with ExitStack() as stack:
        if events_file == "-":
            stream: TextIO = sys.stdin
        else:
            try:
                stream = stack.enter_context(  # noqa: SIM115
                    open(events_file, encoding="utf-8-sig", newline=""))
            except OSError as exc:
                raise click.UsageError(f"cannot read {events_file}: {exc.strerror}") from exc
        valid = _read_valid(engine, stream, fmt)
    horizon = until_at if until_at is not None else (valid[-1][0] if valid else None)
    pending = 0
    with batch_gc():
        for at, number, event, raw in valid:
            if horizon is not None and at > horizon:
                pending += 1
                continue
            engine.handle_valid(event, raw, number)
        if horizon is not None:
            engine.advance(horizon)
    _write_outputs(engine, trace_file, state_file, pending, start)
    engine.close()
    if mailer is not None:
        mailer.close()
    click.echo(f"{engine.processed} processed, {len(engine.rejected)} rejected, {pending} "
               f"pending, {len(engine.interpreter.customers)} customers"
               + (f", until {format_instant(horizon)}" if horizon is not None else "")
               + (f", {mailer.sent} mails sent" if mailer is not None else ""),
               err=True)


def _mailer(smtp: str | None, sender: str) -> SmtpChannel | None:
    if smtp is None:
        return None
    host, _, port = smtp.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter("use HOST:PORT, e.g. localhost:1025", param_hint="--smtp")
    return SmtpChannel(host=host, port=int(port), sender=sender)


def _parse_until(until: str | None) -> float | None:
    if until is None:
        return None
    try:
        return parse_instant(until)
    except ValueError:
        raise click.BadParameter(f"'{until}' is not an ISO 8601 time",
                                 param_hint="--until") from None


def _write_outputs(engine: Engine, trace_file: str | None, state_file: str, pending: int,
                   start: int) -> None:
    with ExitStack() as stack:
        if trace_file is not None:
            engine.interpreter.trace.write_jsonl(_open_out(stack, trace_file), start)
        out = _open_out(stack, state_file)
        json.dump(engine.state(pending), out, indent=2, ensure_ascii=False, default=str)
        out.write("\n")


@click.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-v", "--verbose", is_flag=True, help="List passing scenarios too.")
def test(files: tuple[Path, ...], verbose: bool) -> None:
    """Run the scenarios of journey files; exit 1 if an expectation fails."""
    from journeyflow.cliutil import load_or_exit

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
