"""``journeyflow serve JOURNEY... --store URL [--listen HOST:PORT]``."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

import click

from journeyflow.errors import JourneyError

__all__ = ["serve"]


@click.command()
@click.argument("journey_files", metavar="JOURNEY...", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--store", required=True,
              help="The state store: sqlite:///state.db, or postgresql://USER@HOST/DB to "
                   "share it with workers.")
@click.option("--workers", type=click.IntRange(0, 256), default=None,
              help="On a PostgreSQL store: worker processes to start beside the service "
                   "(default 1; 0 when `journeyflow work` runs elsewhere).")
@click.option("--listen", default="127.0.0.1:8080", show_default=True, metavar="HOST:PORT",
              help="Where to accept HTTP requests.")
@click.option("--channel", "channels", multiple=True, metavar="NAME=TARGET",
              help="Deliver a channel: smtp://HOST:PORT, http(s)://URL or trace; "
                   "?attempts=N&backoff=SECONDS set its retries. Repeatable.")
@click.option("--smtp", metavar="HOST:PORT", help="Shorthand for --channel email=smtp://...")
@click.option("--mail-from", default="journeys@localhost", show_default=True,
              help="Sender address for --smtp.")
@click.option("--admin-token", envvar="JOURNEYFLOW_ADMIN_TOKEN", metavar="TOKEN",
              help="Allow POST /journeys (a new version of a running journey) to requests "
                   "with `Authorization: Bearer TOKEN` [env JOURNEYFLOW_ADMIN_TOKEN].")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))
def serve(journey_files: tuple[Path, ...], store: str, workers: int | None, listen: str,
          channels: tuple[str, ...], smtp: str | None, mail_from: str,
          admin_token: str | None, log_level: str) -> None:
    """Run journeys as a service: events over HTTP, timers on the wall clock, deliveries
    from the outbox. Stops cleanly on SIGTERM or Ctrl-C; on SIGHUP, reads the journey files
    again and swaps in those that changed (their customers migrate), without stopping.

    On a PostgreSQL store, events are accepted into the store's inbox and stepped by
    worker processes (--workers here, and `journeyflow work` on any machine)."""
    import uvicorn

    from journeyflow.cliutil import load_or_exit
    from journeyflow.live.config import channel_specs
    from journeyflow.live.http import make_app
    from journeyflow.live.logs import setup_logging
    from journeyflow.live.pgschema import redact
    from journeyflow.live.run import channel_handlers
    from journeyflow.live.service import LiveService

    setup_logging(log_level)
    # a SIGHUP before the service runs has nothing to reload; its default would end us
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter("use HOST:PORT, e.g. 127.0.0.1:8080", param_hint="--listen")
    shared = store.startswith(("postgresql://", "postgres://"))
    if workers is not None and workers != 1 and not shared:
        raise click.BadParameter("a SQLite store has one writer: use a PostgreSQL store "
                                 "(postgresql://...) for several workers",
                                 param_hint="--workers")
    journeys = [load_or_exit(path) for path in journey_files]
    handlers, policies = channel_handlers(channel_specs(channels, smtp, mail_from))
    try:
        service = LiveService(journeys, store, handlers, policies)
    except JourneyError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)

    pool = None
    if shared and (workers is None or workers > 0):
        from journeyflow.live.pool import WorkerPool, work_argv

        options = [*(f"--channel={c}" for c in channels), *([f"--smtp={smtp}"] if smtp else []),
                   f"--mail-from={mail_from}", f"--log-level={log_level}"]
        pool = WorkerPool(work_argv([str(p) for p in journey_files], store, options),
                          1 if workers is None else workers)
    app = make_app(service, pool, admin_token=admin_token, reload_on_sighup=True)
    logging.getLogger("journeyflow.serve").info(
        "listening", extra={"listen": listen, "store": redact(store)})
    uvicorn.run(app, host=host, port=int(port), log_config=None, access_log=False,
                timeout_graceful_shutdown=30)
