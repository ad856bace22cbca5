"""``journeyflow work`` (workers on a PostgreSQL store) and ``journeyflow enqueue`` (a file of
events into its inbox)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from journeyflow.errors import JourneyError

if TYPE_CHECKING:
    from journeyflow.journey import Journey
    from journeyflow.live.workerproc import WorkerProcess

__all__ = ["enqueue", "work"]

log = logging.getLogger("journeyflow.work")

_channel_options = [
    click.option("--channel", "channels", multiple=True, metavar="NAME=TARGET",
                 help="Deliver a channel: smtp://HOST:PORT, http(s)://URL or trace; "
                      "?attempts=N&backoff=SECONDS set its retries. Repeatable."),
    click.option("--smtp", metavar="HOST:PORT", help="Shorthand for --channel email=smtp://..."),
    click.option("--mail-from", default="journeys@localhost", show_default=True,
                 help="Sender address for --smtp."),
]


def _with_channels(command: Any) -> Any:
    for option in reversed(_channel_options):
        command = option(command)
    return command


def _postgres_url(store: str) -> str:
    if not store.startswith(("postgresql://", "postgres://")):
        raise click.BadParameter("workers share a PostgreSQL store: postgresql://USER@HOST/DB",
                                 param_hint="--store")
    return store


@click.command()
@click.argument("journey_files", metavar="JOURNEY...", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--store", required=True, metavar="URL",
              help="The shared store: postgresql://USER@HOST/DB (options: docs/live.md).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Worker processes to start on this machine.")
@click.option("--until", "until", metavar="TIME",
              help="Fire timers up to TIME instead of by the wall clock (to replay history).")
@click.option("--drain", is_flag=True,
              help="Stop once the inbox is empty and every timer due (by --until or now) "
                   "has fired, in every partition.")
@_with_channels
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))
def work(journey_files: tuple[Path, ...], store: str, workers: int, until: str | None,
         drain: bool, channels: tuple[str, ...], smtp: str | None, mail_from: str,
         log_level: str) -> None:
    """Step the events in a PostgreSQL store's inbox, and its timers, for these journeys.

    Any number of workers, on any machines, may share the store: they split each journey's
    customers between them, and take over the share of one that stops. Stops cleanly
    (finishes its turn, commits, gives its share back) on SIGTERM or Ctrl-C.
    """
    from journeyflow.live.logs import setup_logging

    setup_logging(log_level)
    _postgres_url(store)
    if workers > 1:
        from journeyflow.live.pool import work_argv

        options = [*(["--until", until] if until else []), *(["--drain"] if drain else []),
                   *(f"--channel={c}" for c in channels),
                   *([f"--smtp={smtp}"] if smtp else []), f"--mail-from={mail_from}",
                   f"--log-level={log_level}"]
        sys.exit(_supervise(work_argv([str(p) for p in journey_files], store, options),
                            workers, drain))
    sys.exit(_work_here(journey_files, store, until, drain, channels, smtp, mail_from))


def _supervise(argv: list[str], count: int, drain: bool) -> int:
    """Run ``count`` worker processes (``argv``: this command with --workers 1) until
    SIGTERM or Ctrl-C, starting again any that dies; with --drain, until they have all
    finished. Non-zero when one failed."""
    from journeyflow.live.pool import WorkerPool

    pool = WorkerPool(argv, count, restart=not drain)
    stop = threading.Event()

    def stopping(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, stopping)
    signal.signal(signal.SIGINT, stopping)
    signal.signal(signal.SIGHUP, lambda signum, _frame: pool.signal(signum))
    pool.start()
    while not stop.is_set():
        if drain and all(child.poll() is not None for child in pool.children):
            break
        stop.wait(0.2)
    pool.stop()
    return next((c.returncode for c in pool.children if c.returncode not in (0, None)), 0)


def _work_here(journey_files: tuple[Path, ...], store: str, until: str | None, drain: bool,
               channels: tuple[str, ...], smtp: str | None, mail_from: str) -> int:
    from journeyflow.cliutil import load_or_exit
    from journeyflow.live.config import channel_specs
    from journeyflow.live.run import channel_handlers, close_handlers
    from journeyflow.live.workerproc import WorkerProcess
    from journeyflow.runtime.command import _parse_until

    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # until the worker runs; see below
    journeys = [load_or_exit(path) for path in journey_files]
    horizon = _parse_until(until, journeys[0].model.timezone)
    handlers, policies = channel_handlers(channel_specs(channels, smtp, mail_from))
    try:
        process = WorkerProcess(journeys, store, handlers or None, policies, horizon)
    except JourneyError as err:
        click.echo(f"error: {err}", err=True)
        return 1
    stop, ending, reloading = threading.Event(), threading.Event(), threading.Event()

    def stopping(signum: int, _frame: Any) -> None:
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        ending.set()
        stop.set()

    def reload(signum: int, _frame: Any) -> None:
        reloading.set()
        stop.set()  # the turn ends, commits; then the files are read again

    signal.signal(signal.SIGTERM, stopping)
    signal.signal(signal.SIGINT, stopping)
    signal.signal(signal.SIGHUP, reload)
    try:
        while True:
            process.run(stop, drain)
            if ending.is_set() or not reloading.is_set():
                break
            reloading.clear()
            stop.clear()
            if ending.is_set():
                stop.set()
            process, journeys = _reloaded(process, journeys, journey_files, store,
                                          lambda js: WorkerProcess(js, store, handlers or None,
                                                                   policies, horizon))
    except (OSError, JourneyError) as exc:
        log.error("the worker stopped: %s", exc)
        return 1
    except Exception:  # a bug: logged as a JSON line like everything else, not a traceback
        log.exception("the worker stopped")
        return 1
    finally:
        process.close()
        close_handlers(handlers)
    return 0


def _reloaded(process: WorkerProcess, journeys: list[Journey],
              journey_files: tuple[Path, ...], store: str,
              reopen: Callable[[list[Journey]], WorkerProcess]
              ) -> tuple[WorkerProcess, list[Journey]]:
    """SIGHUP: the worker process again on its files when one of them changed; on the
    journeys it ran when one does not compile or the store refuses them (a migration that
    is blocked), the reason logged."""
    from journeyflow.journey import load

    try:
        fresh = [load(path) for path in journey_files]
    except JourneyError as err:
        log.error("journey files not reloaded: %s", err, extra={
            "diagnostics": [d.as_dict() for d in err.diagnostics if d.is_error]})
        return process, journeys
    if [j.source for j in fresh] == [j.source for j in journeys]:
        log.info("SIGHUP: the journey files did not change")
        return process, journeys
    process.close()  # commits and gives the worker's share back before the store migrates
    try:
        reopened = reopen(fresh)
    except JourneyError as err:
        log.error("journey files not reloaded: %s", err)
        return reopen(journeys), journeys
    log.info("journeys reloaded", extra={"journeys": [j.name for j in fresh]})
    return reopened, fresh


@click.command()
@click.argument("journey_file", metavar="JOURNEY",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--events", "events_file", required=True, metavar="FILE",
              help="JSON lines or CSV ('-' for stdin).")
@click.option("--store", required=True, metavar="URL", help="postgresql://USER@HOST/DB")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default=None,
              help="Default: from the file name (.csv), else jsonl.")
def enqueue(journey_file: Path, events_file: str, store: str, fmt: str | None) -> None:
    """Put a file of events into a PostgreSQL store's inbox, for its workers.

    Lines are checked first (a bad one is rejected with its line and reason, and kept),
    queued in time order, and keyed like `run --store` keys them: a line committed or
    queued before is not queued again, so enqueueing a file twice is harmless.
    """
    from journeyflow.cliutil import load_or_exit
    from journeyflow.live.enqueue import enqueue_file
    from journeyflow.live.pgschema import parse_url

    _postgres_url(store)
    journey = load_or_exit(journey_file)
    chosen = fmt or ("csv" if events_file.endswith(".csv") else "jsonl")
    try:
        with ExitStack() as stack:
            from journeyflow.runtime.command import _open_events

            summary = enqueue_file(journey, parse_url(store), _open_events(stack, events_file),
                                   chosen)
    except JourneyError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
    click.echo(f"{summary.lines} events: {summary.queued} queued, {summary.rejected} "
               f"rejected, {summary.already} already committed or queued", err=True)
