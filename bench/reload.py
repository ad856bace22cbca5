"""How long a reload holds events back, measured.

    .venv/bin/python bench/reload.py [--customers 20000]

A SQLite store gets ``--customers`` customers waiting in one stage; a service runs on it.
Then, in the same run:

- baseline: one request of a single event, answered while nothing else happens;
- a new version that renames the stage (``migrate { stage waiting -> pending }``),
  offered as POST /journeys does: how long the swap holds the worker thread, and how
  long a request sent just after the offer waits for its answer (it queues behind the
  swap, as every request that arrives meanwhile does).

Compiling the new version is not in the pause: it happens beside the worker thread.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import journeyflow  # noqa: E402
from journeyflow.live.reload import Reloader  # noqa: E402
from journeyflow.live.service import LiveService  # noqa: E402
from tests.live.test_serve_reload import RENAMED, V1  # noqa: E402


def fill(url: str, customers: int) -> None:
    engine = journeyflow.Engine(journeyflow.loads(V1), store=url)
    for i in range(customers):
        engine.step({"at": "2026-01-01T10:00:00Z", "customer": f"c{i}", "event": "signed_up"})
    engine.close()


def one_event(live: LiveService, cid: str) -> float:
    started = time.perf_counter()
    live.submit([{"customer": cid, "event": "signed_up"}]).result()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'state.db'}"
        fill(url, args.customers)
        live = LiveService([journeyflow.loads(V1)], url, None)
        live.start()
        try:
            baseline = min(one_event(live, f"b{i}") for i in range(5))
            reloader = Reloader(live)
            held: list[float] = []
            began = threading.Event()
            swap = live.swap

            def timed_swap(*given: object) -> None:
                began.set()
                started = time.perf_counter()
                swap(*given)  # type: ignore[arg-type]
                held.append(time.perf_counter() - started)

            live.swap = timed_swap  # type: ignore[method-assign]
            offer = threading.Thread(target=reloader.from_source, args=("welcome", RENAMED))
            offer.start()
            began.wait()
            waited = one_event(live, "during")
            offer.join()
        finally:
            live.stop()
    print(f"customers migrated:             {args.customers:,}")
    print(f"one event, nothing else (base): {baseline * 1000:8.1f} ms")
    print(f"swap held the worker thread:    {held[0] * 1000:8.1f} ms "
          f"({held[0] / args.customers * 1e6:.1f} us per customer)")
    print(f"a request sent during the swap: {waited * 1000:8.1f} ms "
          f"({waited / baseline:.0f}x the baseline)")


if __name__ == "__main__":
    main()
