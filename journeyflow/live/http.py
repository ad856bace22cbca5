"""The HTTP face of the service (Starlette): events in, customers out, health, metrics.

``POST /events`` takes one JSON event, or NDJSON (one event a line, any number); it
answers 202 only once every event is committed (on a PostgreSQL store: committed to the
inbox, for the workers), and 400 with each rejected event's line and reason (a
rejected event is kept among the rejected; the others of the same batch are committed
and counted in ``accepted``).

``GET /journeys`` lists the version of each journey the service runs; ``POST /journeys``
(an admin request: it needs the service's admin token) swaps in a new version of one.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import signal
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from journeyflow.live.pool import WorkerPool
from journeyflow.live.reload import Refused, Reloader
from journeyflow.live.service import EventOutcome, LiveService, Unreadable
from journeyflow.syntax.limits import MAX_FILE_BYTES

__all__ = ["make_app"]

log = logging.getLogger("journeyflow.serve")

MAX_BODY = 16 * 1024 * 1024
_JOURNEY_LINE = re.compile(r'^\s*journey\s+"([^"\n]*)"', re.MULTILINE)
_NO_TOKEN = ("reloading over HTTP is off: start the service with --admin-token TOKEN (or "
             "JOURNEYFLOW_ADMIN_TOKEN=TOKEN), or edit the journey's file and send the "
             "service SIGHUP")


class _Routes:
    def __init__(self, service: LiveService, reloader: Reloader,
                 admin_token: str | None) -> None:
        self.service = service
        self.reloader = reloader
        self.admin_token = admin_token.encode() if admin_token else None

    async def events(self, request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "the body is over 16 MB; send smaller batches"},
                                status_code=413)
        parsed = _parse(body, request.headers.get("content-type", ""))
        outcomes = await asyncio.wrap_future(self.service.submit(
            [raw if error is None else Unreadable(raw, error) for _, raw, error in parsed]))
        rejected = _rejections(parsed, outcomes)
        accepted = len(parsed) - len(rejected)
        if rejected:
            return JSONResponse({"accepted": accepted, "rejected": rejected},
                                status_code=400)
        return JSONResponse({"accepted": accepted}, status_code=202)

    async def _on_worker(self, action: Callable[[], Any]) -> Any:
        return await asyncio.wrap_future(self.service.call(action))

    async def customer(self, request: Request) -> Response:
        cid = request.path_params["cid"]
        found = await self._on_worker(lambda: self.service.customer(cid))
        if not found:
            return _missing(cid)
        return JSONResponse({"customer": cid, "journeys": found})

    async def export(self, request: Request) -> Response:
        cid = request.path_params["cid"]
        found = await self._on_worker(lambda: self.service.export(cid))
        if not found:
            return _missing(cid)
        return JSONResponse({"customer": cid, "journeys": found}, headers={
            "Content-Disposition": f'attachment; filename="{_safe(cid)}.json"'})

    async def forget(self, request: Request) -> Response:
        cid = request.path_params["cid"]
        if not await self._on_worker(lambda: self.service.forget(cid)):
            return _missing(cid)
        return JSONResponse({"customer": cid, "deleted": True})

    async def journeys(self, request: Request) -> Response:
        return JSONResponse({"journeys": self.reloader.status()})

    async def new_version(self, request: Request) -> Response:
        refusal = self._admin(request)
        if refusal is not None:
            return refusal
        if self.service.intake is not None:
            return _error(409, "on a PostgreSQL store the workers read the journey files: "
                               "edit the file, then send SIGHUP to the service and to every "
                               "`journeyflow work`")
        body = await request.body()
        if len(body) > MAX_FILE_BYTES:
            return _error(413, "the journey is over the size limit of a journey file")
        try:
            source = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return _error(400, f"the journey is not UTF-8 text (byte {exc.start})")
        name = request.query_params.get("journey") or _named(source, self.reloader)
        if name is None or name not in self.reloader.running:
            return _error(404, f"this service runs no journey '{name}' (it runs "
                               f"{', '.join(self.reloader.running)}); a new journey needs a "
                               "restart with its file" if name else
                          "the body names no journey: it must be a journey's source")
        file = request.query_params.get("file")
        try:
            swapped = await asyncio.to_thread(self.reloader.from_source, name, source, file)
        except Refused as refused:
            return JSONResponse(refused.as_json(), status_code=422)
        return JSONResponse(swapped.as_json())

    def _admin(self, request: Request) -> Response | None:
        """None when the request carries the admin token (compared in constant time)."""
        if self.admin_token is None:
            return _error(403, _NO_TOKEN)
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return JSONResponse({"error": "send the admin token: Authorization: Bearer TOKEN"},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        if not hmac.compare_digest(given.strip().encode(), self.admin_token):
            return _error(403, "the admin token is wrong")
        return None

    async def health(self, request: Request) -> Response:
        return JSONResponse(self.service.health())

    async def metrics(self, request: Request) -> Response:
        await self._on_worker(self.service.refresh_gauges)
        return Response(generate_latest(self.service.metrics.registry),
                        media_type=CONTENT_TYPE_LATEST)

    def timed(self, route: str, handler: Callable[[Request], Awaitable[Response]]) -> Any:
        histogram = self.service.metrics.request_seconds.labels(route)

        async def run(request: Request) -> Response:
            started = time.perf_counter()
            try:
                return await handler(request)
            finally:
                histogram.observe(time.perf_counter() - started)
        return run


def make_app(service: LiveService, workers: WorkerPool | None = None, *,
             admin_token: str | None = None, reload_on_sighup: bool = False) -> Starlette:
    """The app; its lifespan starts the service (and its worker processes, on a PostgreSQL
    store) and, on shutdown (SIGTERM), lets it finish the queued events, commit and close
    the store, and stops the workers the same way. ``reload_on_sighup``: SIGHUP reads the
    journey files again (only where the app runs on the main thread, as under uvicorn)."""
    reloader = Reloader(service)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        service.start()
        if workers is not None:
            workers.start()
        loop = asyncio.get_running_loop()
        if reload_on_sighup:
            loop.add_signal_handler(signal.SIGHUP, _reload_files, reloader, workers)
        try:
            yield
        finally:
            if reload_on_sighup:
                loop.remove_signal_handler(signal.SIGHUP)
                # not the default action (which ends the process) while the queue drains
                signal.signal(signal.SIGHUP, signal.SIG_IGN)
            service.stop()
            if workers is not None:
                workers.stop()

    routes = _Routes(service, reloader, admin_token)
    return Starlette(lifespan=lifespan, routes=[
        Route("/journeys", routes.journeys, methods=["GET"]),
        Route("/journeys", routes.timed("/journeys", routes.new_version), methods=["POST"]),
        Route("/events", routes.timed("/events", routes.events), methods=["POST"]),
        Route("/customers/{cid}", routes.timed("/customers", routes.customer), methods=["GET"]),
        Route("/customers/{cid}", routes.timed("/customers", routes.forget),
              methods=["DELETE"]),
        Route("/customers/{cid}/export", routes.timed("/export", routes.export),
              methods=["GET"]),
        Route("/health", routes.health, methods=["GET"]),
        Route("/metrics", routes.metrics, methods=["GET"]),
    ])


def _reload_files(reloader: Reloader, workers: WorkerPool | None) -> None:
    """SIGHUP (run by the event loop, not in the signal handler): the files are read and
    compiled on a thread of their own; the worker processes reload theirs."""
    def run() -> None:
        try:
            reloader.from_files()
        except Exception:  # a bug: logged as a JSON line, the service keeps running
            log.exception("reloading the journey files failed")

    log.info("SIGHUP: reading the journey files again")
    threading.Thread(target=run, name="journeyflow-reload", daemon=True).start()
    if workers is not None:
        workers.signal(signal.SIGHUP)


def _named(source: str, reloader: Reloader) -> str | None:
    """The journey a source names on its `journey` line; the only journey of the service
    when it names none (the compiler then says what is wrong with it)."""
    found = _JOURNEY_LINE.search(source)
    if found is not None:
        return found.group(1)
    return next(iter(reloader.running)) if len(reloader.running) == 1 else None


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def _missing(cid: str) -> Response:
    return JSONResponse({"error": f"no customer '{cid}'"}, status_code=404)


def _rejections(parsed: list[tuple[int, Any, str | None]],
                outcomes: list[EventOutcome]) -> list[dict[str, Any]]:
    rejected = []
    for (line, raw, _), outcome in zip(parsed, outcomes, strict=True):
        if outcome.accepted:
            continue
        reasons = outcome.reasons
        reason = "; ".join(f"{journey}: {why}" if len(reasons) > 1 else why
                                    for journey, why in reasons.items())
        rejected.append({"line": line, "reason": reason,
                         "customer": raw.get("customer") if isinstance(raw, dict) else None})
    return rejected


def _parse(body: bytes, content_type: str) -> list[tuple[int, Any, str | None]]:
    """(line, raw event, why it could not be read) for each event of the body."""
    text = body.decode("utf-8", errors="replace")
    if "ndjson" not in content_type and "jsonlines" not in content_type:
        try:
            return [(1, json.loads(text), None)]
        except json.JSONDecodeError:
            pass  # not one JSON document: read it as NDJSON
    out: list[tuple[int, Any, str | None]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            out.append((number, json.loads(line), None))
        except json.JSONDecodeError as exc:
            out.append((number, line, f"not valid JSON: {exc.msg} at column {exc.colno}"))
    return out


def _safe(cid: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in cid)[:100] or "customer"
