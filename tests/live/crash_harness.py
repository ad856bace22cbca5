"""Kill ``journeyflow run --store ... --smtp ...`` at random moments, resume it, and compare
with a run that was never interrupted. Used by tests/live/test_crash.py (a few kills) and
bench/crash.py (many)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JOURNEY = """journey "crash"
customer { email: text?  spent: number = 0 }
event signed_up {}
event purchased { amount: number }
message welcome via email { subject "Welcome" }
message thanks via email { subject "Thank you for {{ event.amount }}" }
message nudge via email { subject "Still thinking?" }
stage new start { on signed_up -> active }
stage active {
  on enter { send welcome }
  on purchased { set spent += event.amount  send thanks }
  after 3d without purchased { send nudge }
  after 20d -> done
}
stage done final
"""
T0 = 1767261600.0  # 2026-01-01T10:00:00Z


def write_inputs(directory: Path, customers: int, seed: int = 7) -> tuple[Path, Path]:
    rng = random.Random(seed)
    journey = directory / "crash.journey"
    journey.write_text(JOURNEY, "utf-8")
    events: list[dict[str, Any]] = []
    for i in range(customers):
        start = T0 + rng.uniform(0, 20 * 86400)
        events.append({"at": start, "customer": f"c{i}", "event": "signed_up",
                       "attributes": {"email": f"c{i}@example.org"}})
        for k in range(rng.choice([0, 0, 1, 2])):
            events.append({"at": start + rng.uniform(3600, 6 * 86400), "customer": f"c{i}",
                           "event": "purchased", "data": {"amount": 10 + k}})
        if i % 97 == 0:
            events.append({"at": start, "customer": f"c{i}", "event": "purchased",
                           "data": {"amount": "a lot"}})  # rejected, and kept
    rng.shuffle(events)
    lines = [json.dumps({**e, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(e["at"]))})
             for e in events]
    path = directory / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return journey, path


def command(journey: Path, events: Path, store: Path, smtp_port: int, state: Path) -> list[str]:
    exe = str(Path(sys.executable).with_name("journeyflow"))
    return [exe, "run", str(journey), "--events", str(events), "--until",
            "2026-03-01T00:00:00Z", "--store", f"sqlite:///{store}", "--smtp",
            f"127.0.0.1:{smtp_port}", "--state", str(state)]


@dataclass
class CrashResult:
    kills: int
    resumes: int
    mails: int  # mails the sink received
    distinct: int  # distinct Message-IDs among them
    state: dict[str, Any]
    seconds: float


def run_with_kills(args: list[str], kills: int, rng: random.Random,
                   window: tuple[float, float]) -> tuple[int, int]:
    """Start the run, kill it with SIGKILL at a random moment (up to ``kills`` times),
    and start it again until it ends on its own; (kills done, starts)."""
    done = starts = 0
    while True:
        starts += 1
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if done < kills:
            try:
                process.wait(timeout=rng.uniform(*window))
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                done += 1
                continue
        _, err = process.communicate(timeout=600)
        if process.returncode != 0:
            raise RuntimeError(f"run failed ({process.returncode}): {err.decode()[-2000:]}")
        return done, starts


def count_mails(messages: list[Any]) -> tuple[int, int]:
    ids = Counter(m["Message-ID"] for m in messages)
    return sum(ids.values()), len(ids)
