"""Crash safety, measured: ``journeyflow run --store sqlite --smtp`` killed with SIGKILL at
random moments, resumed on the same file, and compared with an uninterrupted run.

    .venv/bin/python bench/crash.py [--trials 50] [--kills 3] [--customers 200] [--seed 1]

Each trial starts from an empty store and kills the run up to ``--kills`` times, each
at a random moment between 0.8 s (start-up) and 70% of an uninterrupted run's time,
then lets it finish. A real SMTP server (aiosmtpd, in this process) receives the mail.
Per trial it checks: the final state equals the uninterrupted run's (no accepted event
lost or processed twice); every delivery the uninterrupted run made arrived, each with
one Message-ID (none decided twice); and counts mails that reached the server twice
with the same Message-ID (a delivery in flight when the process died: a receiver drops
it by its Message-ID; at most one per kill).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402

from tests.live.crash_harness import (  # noqa: E402
    command,
    count_mails,
    run_with_kills,
    write_inputs,
)
from tests.peers import Inbox, free_port  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        work = Path(tempfile.mkdtemp(prefix="journeyflow-crash-"))
        journey, events = write_inputs(work, options.customers)
        calm = work / "calm"
        calm.mkdir()
        started = time.monotonic()
        run_with_kills(command(journey, events, calm / "s.db", port, calm / "state.json"), 0,
                       random.Random(0), (0, 0))
        calm_seconds = time.monotonic() - started
        expected = len(inbox.messages)
        reference = json.loads((calm / "state.json").read_text())
        print(f"uninterrupted run: {calm_seconds:.1f} s, {expected} mails, "
              f"{len(events.read_text().splitlines())} events")
        rng = random.Random(options.seed)
        totals = {"kills": 0, "state differs": 0, "mails missing": 0, "decided twice": 0,
                  "resent in flight": 0}
        for trial in range(options.trials):
            inbox.messages.clear()
            run_dir = work / f"trial-{trial}"
            run_dir.mkdir()
            kills, _ = run_with_kills(
                command(journey, events, run_dir / "s.db", port, run_dir / "state.json"),
                options.kills, rng, (0.8, max(1.0, 0.7 * calm_seconds)))
            mails, distinct = count_mails(inbox.messages)
            same = json.loads((run_dir / "state.json").read_text()) == reference
            totals["kills"] += kills
            totals["state differs"] += not same
            totals["mails missing"] += max(0, expected - distinct)
            totals["decided twice"] += max(0, distinct - expected)
            totals["resent in flight"] += mails - distinct
            print(f"trial {trial + 1:3}: {kills} kills, state {'same' if same else 'DIFFERS'}, "
                  f"{distinct}/{expected} deliveries, {mails - distinct} resent in flight",
                  flush=True)
        print(f"{options.trials} trials, {totals['kills']} kills: final state differs in "
              f"{totals['state differs']}, deliveries missing {totals['mails missing']}, "
              f"decided twice {totals['decided twice']}, resent in flight (same Message-ID) "
              f"{totals['resent in flight']}")
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
