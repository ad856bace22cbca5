"""``journeyflow serve`` under load: sustained events/s and ``POST /events`` latency.

    .venv/bin/python bench/serve.py [--rate 2000] [--seconds 10] [--connections 32]
        [--per-request 10]

Starts ``journeyflow serve examples/lifecycle.journey --store sqlite:///...`` (every
channel recorded in the trace only) in a process of its own, then sends ``POST /events``
requests of ``--per-request`` NDJSON events from ``--connections`` keep-alive
connections at a fixed rate
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
sys.path.insert(0, str(ROOT / "bench"))  # as bench/interpreter.py: its cached workloads load

from baselines.workload import cached_workload, load, raw_events  # noqa: E402

from tests.peers import free_port  # noqa: E402

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


async def _post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                body: bytes) -> int:
    """One keep-alive HTTP/1.1 POST, written by hand: a full client library costs more
    CPU per request than the server under test, on a machine of two cores."""
    writer.write(b"POST /events HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-ndjson"
                 b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def load_test(port: int, bodies: list[bytes], rate: float, connections: int,
                    per_request: int) -> tuple[list[float], int, float]:
    """Latencies (s) from each request's scheduled time, events answered 202, seconds."""
    latencies: list[float] = []
    ok = 0
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()

    async def worker() -> None:
        nonlocal ok
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while (item := await queue.get()) is not None:
            due, body = item
            status = await _post(reader, writer, body)
            latencies.append(time.perf_counter() - due)
            ok += per_request if status == 202 else 0
        writer.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    await asyncio.sleep(0.5)  # connections open before the clock starts
    started = time.perf_counter()
    request_rate = rate / per_request
    for i, body in enumerate(bodies):
        due = started + i / request_rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((due, body))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    return latencies, ok, time.perf_counter() - started


def report(name: str, latencies: list[float], ok: int, took: float, offered: float) -> None:
    """Print the achieved rate (events) and request latency percentiles."""
    ordered = sorted(latencies)
    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000
    print(f"  {name:8} offered {offered:,.0f} events/s, achieved {ok / took:,.0f} accepted/s "
          f"({len(latencies):,} requests); latency p50 {pct(0.5):.1f} ms, p90 {pct(0.9):.1f} "
          f"ms, p99 {pct(0.99):.1f} ms, max {ordered[-1] * 1000:.1f} ms, mean "
          f"{statistics.fmean(latencies) * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=2000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--per-request", type=int, default=10,
                        help="events per request (NDJSON); 1 sends single JSON events")
    options = parser.parse_args()
    count = int(options.rate * options.seconds)
    workload = load(cached_workload(max(1000, count // 20), 1))
    events = raw_events(workload, 0, min(count, len(workload)))
    # No `at`: the service stamps each event with its arrival, as a live feed would.
    lines = [json.dumps({k: v for k, v in event.items() if k != "at"}) for event in events]
    n = options.per_request
    bodies = ["\n".join(lines[i:i + n]).encode() for i in range(0, len(lines), n)]
    print(f"{len(lines):,} events in {len(bodies):,} requests of {n} at {options.rate:,.0f} "
          f"events/s from {options.connections} connections")
    work = Path(tempfile.mkdtemp(prefix="journeyflow-serve-"))
    port = free_port()
    null = start([sys.executable, "-c", NULL_SERVER, str(port)], port)
    try:
        report("baseline", *asyncio.run(load_test(port, bodies, options.rate,
                                                  options.connections, n)), options.rate)
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
                                               options.connections, n)), options.rate)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
