"""When a held send goes out: journeyflow's exact search against a minute-by-minute one.

    .venv/bin/python bench/delivery.py [--sends 20000] [--baseline-sends 400] [--seed 1]

For a few combinations of quiet hours and send windows (the lifecycle example's
quiet nights, business hours, one hour a week, a window across midnight, in zones
with DST and with a 45-minute offset), ``--sends`` random send times over a year
are asked for their delivery time three ways, in the same run:

- ``cached``: ``DeliveryRules.next_allowed`` as generated send code calls it, with the
  per-bucket cache (a journey asks about the same hours again and again);
- ``exact``: the same answer without the cache (``SendSchedule.first_open``), a fresh
  schedule per combination so the zone's transitions are found inside the timing;
- ``minutes``: the baseline, trying each minute until one is open, as a plain search
  without a give-up limit would (on the first ``--baseline-sends`` only: it is slow).

Prints CPU microseconds per send for each (CPU time, so neighbours on a shared machine
do not count) and checks that all three agree on every send they share.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from datetime import time as clock
from zoneinfo import ZoneInfo

from journeyflow.model.journey import QuietHours, SendWindow
from journeyflow.runtime.delivery import DeliveryRules

WEEKDAYS = frozenset(range(5))
CASES: dict[str, tuple[str, QuietHours | None, SendWindow | None]] = {
    "quiet 22:00-08:00, Berlin": ("Europe/Berlin", QuietHours(start=clock(22), end=clock(8)),
                                  None),
    "mon-fri 09:00-18:00, Los Angeles": (
        "America/Los_Angeles", None, SendWindow(days=WEEKDAYS, start=clock(9), end=clock(18))),
    "sun 10:00-11:00, Lord Howe": (
        "Australia/Lord_Howe", None,
        SendWindow(days=frozenset({6}), start=clock(10), end=clock(11))),
    "fri 22:00-02:00 minus quiet 23:00-01:30, Kathmandu": (
        "Asia/Kathmandu", QuietHours(start=clock(23), end=clock(1, 30)),
        SendWindow(days=frozenset({4}), start=clock(22), end=clock(2))),
}


def minute_search(zone: ZoneInfo, quiet: QuietHours | None,
                  window: SendWindow | None) -> Callable[[float], float]:
    """The baseline: read the wall clock minute after minute until a send may go out."""

    def daily(now: clock, start: clock, end: clock) -> bool:
        return start <= now < end if start < end else now >= start or now < end

    def is_open(at: float) -> bool:
        local = datetime.fromtimestamp(at, zone)
        now = local.time()
        if quiet is not None and daily(now, quiet.start, quiet.end):
            return False
        if window is None:
            return True
        day = local.weekday()
        if window.start < window.end:
            return day in window.days and window.start <= now < window.end
        return (day in window.days and now >= window.start) or \
            ((day - 1) % 7 in window.days and now < window.end)

    def search(at: float) -> float:
        if is_open(at):
            return at
        minute = (at // 60 + 1) * 60
        while not is_open(minute):
            minute += 60
        return minute

    return search


def timed(ask: Callable[[float], float], sends: list[float]) -> tuple[float, list[float]]:
    began = time.process_time()
    answers = [ask(at) for at in sends]
    return (time.process_time() - began) / len(sends) * 1e6, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sends", type=int, default=20_000)
    parser.add_argument("--baseline-sends", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    first = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    sends = sorted(first + rng.randrange(365 * 86_400) for _ in range(args.sends))
    few = sorted(rng.sample(sends, min(args.baseline_sends, len(sends))))
    print(f"{args.sends:,} sends at random seconds of 2026 ({len(few):,} for the baseline), "
          "CPU microseconds per send")
    print(f"{'rules':<52} {'cached':>8} {'exact':>8} {'minutes':>9}  minutes / exact")
    for name, (zone, quiet, window) in CASES.items():
        cached, by_cache = timed(DeliveryRules(zone, quiet, window, ()).next_allowed, sends)
        exact, by_exact = timed(DeliveryRules(zone, quiet, window, ()).schedule(zone)
                                .first_open, sends)
        baseline, by_minute = timed(minute_search(ZoneInfo(zone), quiet, window), few)
        answers = dict(zip(sends, by_exact, strict=True))
        agree = by_cache == by_exact and [answers[at] for at in few] == by_minute
        print(f"{name:<52} {cached:8.2f} {exact:8.2f} {baseline:9.1f}  {baseline / exact:6.0f}x"
              f"{'' if agree else '  ANSWERS DIFFER'}")


if __name__ == "__main__":
    main()
