"""The HTTP face of the service (Starlette): events in, customers out, health, metrics.

``POST /events`` takes one JSON event, or NDJSON (one event a line, any number); it
answers 202 only once every event is committed (on a PostgreSQL store: committed to the
inbox, for the workers), and 400 with each rejected event's line and reason (a
rejected event is kept among the rejected; the others of the same batch are committed
and counted in ``accepted``).
"""

from __future__ import annotations

import asyncio
import json
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
from journeyflow.live.service import EventOutcome, LiveService, Unreadable

__all__ = ["make_app"]

MAX_BODY = 16 * 1024 * 1024


class _Routes:
    def __init__(self, service: LiveService) -> None:
        self.service = service

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


def make_app(service: LiveService, workers: WorkerPool | None = None) -> Starlette:
    """The app; its lifespan starts the service (and its worker processes, on a PostgreSQL
    store) and, on shutdown (SIGTERM), lets it finish the queued events, commit and close
    the store, and stops the workers the same way."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        service.start()
        if workers is not None:
            workers.start()
        try:
            yield
        finally:
            service.stop()
            if workers is not None:
                workers.stop()

    routes = _Routes(service)
    return Starlette(lifespan=lifespan, routes=[
        Route("/events", routes.timed("/events", routes.events), methods=["POST"]),
        Route("/customers/{cid}", routes.timed("/customers", routes.customer), methods=["GET"]),
        Route("/customers/{cid}", routes.timed("/customers", routes.forget),
              methods=["DELETE"]),
        Route("/customers/{cid}/export", routes.timed("/export", routes.export),
              methods=["GET"]),
        Route("/health", routes.health, methods=["GET"]),
        Route("/metrics", routes.metrics, methods=["GET"]),
    ])


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
