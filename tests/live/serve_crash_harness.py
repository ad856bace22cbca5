"""Kill ``journeyflow serve --store sqlite --smtp`` at random moments while a client posts
events, restart it on the same store, let the client resend what got no answer, and
compare the store with an uninterrupted serve of the same events. Used by
tests/live/test_crash.py (a few kills) and bench/crash.py --serve (many).

Events carry an ``id`` and an ``at`` in the last two hours, so the journey's timers (3 and
20 days after sign-up) never come due during a trial: the final state is decided by the
events alone, whenever the wall-clock scheduler runs. Each connection carries its own
customers, in time order, one batch in flight at a time, so a resend never overtakes a
later event of the same customer.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.live.crash_harness import JOURNEY
from tests.peers import free_port, service_up

BAD_EVERY = 97  # every 97th customer also sends a purchase the journey must reject
DUPLICATE = "duplicate event id"


@dataclass(frozen=True)
class Workload:
    journey: Path
    streams: list[list[list[dict[str, Any]]]]  # per connection: its batches, in order
    bad: frozenset[str]  # ids of the events that must be rejected

    @property
    def events(self) -> int:
        return sum(len(batch) for stream in self.streams for batch in stream)


def write_workload(directory: Path, customers: int, connections: int, batch: int,
                   seed: int = 7) -> Workload:
    """The crash journey and its events, split among ``connections`` by customer."""
    rng = random.Random(seed)
    journey = directory / "crash.journey"
    journey.write_text(JOURNEY, "utf-8")
    base = time.time() - 7200
    per_connection: list[list[dict[str, Any]]] = [[] for _ in range(connections)]
    bad: set[str] = set()
    serial = 0

    def event(at: float, cid: str, kind: str, **fields: Any) -> dict[str, Any]:
        nonlocal serial
        serial += 1
        return {"id": f"e{serial}", "at": round(at, 3), "customer": cid, "event": kind,
                **fields}

    for i in range(customers):
        cid = f"c{i}"
        start = base + rng.uniform(0, 3600)
        own = [event(start, cid, "signed_up", attributes={"email": f"{cid}@example.org"})]
        for k in range(rng.choice([0, 0, 1, 2])):
            own.append(event(start + rng.uniform(60, 1800) + k, cid, "purchased",
                             data={"amount": 10 + k}))
        if i % BAD_EVERY == 0:
            own.append(event(start, cid, "purchased", data={"amount": "a lot"}))
            bad.add(own[-1]["id"])
        per_connection[i % connections] += own
    streams = []
    for events in per_connection:
        events.sort(key=lambda e: e["at"])
        streams.append([events[j:j + batch] for j in range(0, len(events), batch)])
    return Workload(journey, streams, frozenset(bad))


@dataclass
class Outcome:
    """What the client heard and what the server did, for one serve."""

    acknowledged: set[str] = field(default_factory=set)  # 202, or refused as a duplicate
    rejected: dict[str, str] = field(default_factory=dict)  # id -> reason (not duplicates)
    resent: int = 0  # batches sent again after getting no answer
    duplicates: int = 0  # events of resent batches refused as committed before the kill
    kills: int = 0
    kills_posting: int = 0  # kills while batches were still being posted
    starts: int = 0
    posting: float = 0.0  # seconds from the first /health answer to the last batch's answer
    seconds: float = 0.0  # until the outbox was empty and the server stopped


class Server:
    """One `journeyflow serve` process at a time on a store, started again after a kill."""

    def __init__(self, journey: Path, store: Path, smtp_port: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.store = store
        exe = str(Path(sys.executable).with_name("journeyflow"))
        self.args = [exe, "serve", str(journey), "--store", f"sqlite:///{store}",
                     "--listen", f"127.0.0.1:{self.port}", "--smtp",
                     f"127.0.0.1:{smtp_port}", "--log-level", "error"]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.args, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        service_up(self.url)

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """SIGTERM: the service commits what is queued and closes the store."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)


def pending_deliveries(store: Path) -> int:
    with closing(_read(store)) as db:
        return int(db.execute("SELECT count(*) FROM jf_outbox WHERE status = 'pending'")
                   .fetchone()[0])


def serve_with_kills(server: Server, workload: Workload, kills: int, rng: random.Random,
                     window: tuple[float, float], rate: float = 0.0) -> Outcome:
    """Post every batch (at ``rate`` events/s in all; 0: each connection as fast as it is
    answered), killing the server up to ``kills`` times at random moments while
    events or deliveries are still under way, until every batch is answered and the
    outbox is empty; then stop the server cleanly."""
    outcome = Outcome()
    started = time.monotonic()
    server.start()
    outcome.starts = 1
    try:
        asyncio.run(_trial(server, workload, kills, rng, window, rate, outcome))
        _drain(server.store)
    finally:
        server.stop()
    outcome.seconds = time.monotonic() - started
    return outcome


async def _trial(server: Server, workload: Workload, kills: int, rng: random.Random,
                 window: tuple[float, float], rate: float, outcome: Outcome) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        up = time.monotonic()
        pace = len(workload.streams) / rate if rate else 0.0  # seconds per event, per stream
        clients = asyncio.gather(*(_post_stream(client, stream, up, pace, outcome)
                                   for stream in workload.streams))
        clients.add_done_callback(
            lambda _: setattr(outcome, "posting", time.monotonic() - up))
        while outcome.kills < kills:
            await asyncio.sleep(rng.uniform(*window))
            if clients.done() and not await asyncio.to_thread(pending_deliveries,
                                                               server.store):
                break  # nothing under way any more: no kill can hurt
            server.kill()
            outcome.kills += 1
            outcome.kills_posting += not clients.done()
            await asyncio.to_thread(server.start)
            outcome.starts += 1
        await clients


async def _post_stream(client: httpx.AsyncClient, batches: list[list[dict[str, Any]]],
                       up: float, pace: float, outcome: Outcome) -> None:
    due = up
    for batch in batches:
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        # from when it went: a batch held up by a kill does not make the rest hurry
        due = max(due, time.monotonic()) + pace * len(batch)
        body = "\n".join(json.dumps(e) for e in batch).encode()
        resent, give_up = False, time.monotonic() + 120
        while True:
            try:
                answer = await client.post("/events", content=body, headers={
                    "Content-Type": "application/x-ndjson"})
            except httpx.TransportError:
                answer = None
            if answer is not None and answer.status_code in (202, 400):
                _settle(batch, answer, outcome)
                break
            if time.monotonic() > give_up:
                raise RuntimeError(f"no answer to a batch for 120 s (last: {answer})")
            outcome.resent += not resent  # no answer (the server died): the batch again
            resent = True
            await asyncio.sleep(0.05)


def _settle(batch: list[dict[str, Any]], answer: httpx.Response, outcome: Outcome) -> None:
    """A 202 commits the batch; a 400 commits all but the lines it lists."""
    refused = {}
    if answer.status_code == 400:
        refused = {r["line"]: r["reason"] for r in answer.json()["rejected"]}
    for line, event in enumerate(batch, start=1):
        reason = refused.get(line)
        if reason is None or reason.startswith(DUPLICATE):
            outcome.acknowledged.add(event["id"])
            outcome.duplicates += reason is not None
        else:
            outcome.rejected[event["id"]] = reason


def _drain(store: Path, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while pending_deliveries(store):
        if time.monotonic() > deadline:
            raise RuntimeError("the outbox did not drain")
        time.sleep(0.1)


@dataclass(frozen=True)
class StoreContents:
    customers: dict[str, Any]  # id -> stored state
    # (customer, step time, kind, what, status), sorted: a row's key also numbers it among
    # the store's rows, so two serves of the same events give the same row other keys
    deliveries: list[tuple[str, float, str, str, str]]
    keys: frozenset[str]  # committed event ids
    rejected_ids: frozenset[str]  # ids of the events kept among the rejected
    unconfirmed: int = 0  # mails a killed process had handed over, settled as sent


def read_store(store: Path) -> StoreContents:
    with closing(_read(store)) as db:
        customers = {cid: json.loads(state) for cid, state in
                     db.execute("SELECT id, state FROM jf_customers")}
        deliveries = sorted(
            (customer, at, kind, json.loads(fields).get("message", channel), status)
            for customer, at, kind, channel, fields, status in db.execute(
                "SELECT customer, at, kind, channel, fields, status FROM jf_outbox"))
        keys = frozenset(k[3:] for (k,) in db.execute("SELECT key FROM jf_events")
                         if k.startswith("id:"))
        rejected = frozenset(
            event["id"] for (text,) in db.execute("SELECT event FROM jf_rejected")
            if isinstance(event := json.loads(text or "null"), dict) and "id" in event)
        unconfirmed = db.execute("SELECT count(*) FROM jf_history WHERE records LIKE "
                                 "'%\"unconfirmed\"%'").fetchone()[0]
    return StoreContents(customers, deliveries, keys, rejected, unconfirmed)


def _read(store: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30)
