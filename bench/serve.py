"""``journeyflow serve`` under load: sustained events/s and ``POST /events`` latency.

    .venv/bin/python bench/serve.py [--rate 2000] [--seconds 20] [--connections 64]

Starts ``journeyflow serve examples/lifecycle.journey --store sqlite:///...`` (every
channel recorded in the trace only) in a process of its own, then sends single-event
``POST /events`` requests from ``--connections`` concurrent clients at a fixed rate
(an open loop: a request's send time is set by the schedule, not by the previous
answer, so a slow server shows up as latency, not as a lower offered load). Events
are the workload of bench/baselines/workload.py, in order, without their times: the
service stamps each with its arrival. Reported: the rate
offered and achieved (202 answers per second), and the latency percentiles, measured
from each request's scheduled time; the target is 2,000 events/s with p99 under 50 ms.
The same client first runs against a server answering 202 without doing anything
(the baseline: what the client and HTTP stack alone cost on this machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.baselines.workload import cached_workload, load, raw_events  # noqa: E402
from tests.live.conftest import free_port  # noqa: E402

EXE = str(Path(sys.executable).with_name("journeyflow"))
NULL_SERVER = """
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
async def events(request):
    await request.body()
    return JSONResponse({"accepted": 1}, status_code=202)
async def health(request):
    return JSONResponse({"status": "ok"})
app = Starlette(routes=[Route("/events", events, methods=["POST"]), Route("/health", health)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def start(args: list[str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start")


async def load_test(port: int, bodies: list[bytes], rate: float,
                    connections: int) -> tuple[list[float], int, float]:
    """Latencies (s) from each request's scheduled time, 202 answers, seconds taken."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    latencies: list[float] = []
    ok = 0
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits,
                                 timeout=30) as client:
        async def worker() -> None:
            nonlocal ok
            while (item := await queue.get()) is not None:
                due, body = item
                response = await client.post("/events", content=body,
                                             headers={"content-type": "application/json"})
                latencies.append(time.perf_counter() - due)
                ok += response.status_code == 202

        workers = [asyncio.create_task(worker()) for _ in range(connections)]
        started = time.perf_counter()
        for i, body in enumerate(bodies):
            due = started + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait((due, body))
        for _ in workers:
            queue.put_nowait(None)
        await asyncio.gather(*workers)
        took = time.perf_counter() - started
    return latencies, ok, took


def report(name: str, latencies: list[float], ok: int, took: float, offered: float) -> None:
    ordered = sorted(latencies)
    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000
    print(f"  {name:8} offered {offered:,.0f}/s, achieved {ok / took:,.0f} accepted/s "
          f"({ok:,} of {len(latencies):,}); latency p50 {pct(0.5):.1f} ms, p90 {pct(0.9):.1f} "
          f"ms, p99 {pct(0.99):.1f} ms, max {ordered[-1] * 1000:.1f} ms, mean "
          f"{statistics.fmean(latencies) * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=2000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=64)
    options = parser.parse_args()
    count = int(options.rate * options.seconds)
    workload = load(cached_workload(max(1000, count // 20), 1))
    events = raw_events(workload, 0, min(count, len(workload)))
    # No `at`: the service stamps each event with its arrival, as a live feed would.
    bodies = [json.dumps({k: v for k, v in event.items() if k != "at"}).encode()
              for event in events]
    print(f"{len(bodies):,} single-event requests at {options.rate:,.0f}/s from "
          f"{options.connections} connections")
    work = Path(tempfile.mkdtemp(prefix="journeyflow-serve-"))
    port = free_port()
    null = start([sys.executable, "-c", NULL_SERVER, str(port)], port)
    try:
        report("baseline", *asyncio.run(load_test(port, bodies, options.rate,
                                                  options.connections)), options.rate)
    finally:
        null.terminate()
        null.wait()
    port = free_port()
    server = start([EXE, "serve", str(ROOT / "examples" / "lifecycle.journey"), "--store",
                    f"sqlite:///{work / 'state.db'}", "--listen", f"127.0.0.1:{port}",
                    "--channel", "email=trace", "--channel", "push=trace", "--channel",
                    "crm=trace", "--log-level", "warning"], port)
    try:
        report("serve", *asyncio.run(load_test(port, bodies, options.rate,
                                               options.connections)), options.rate)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
