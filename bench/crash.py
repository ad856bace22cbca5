"""Crash safety, measured: ``journeyflow run --store sqlite --smtp`` (or, with ``--serve``,
``journeyflow serve``) killed with SIGKILL at random moments, resumed on the same file, and
compared with an uninterrupted run.

    .venv/bin/python bench/crash.py [--trials 50] [--kills 3] [--customers 200] [--seed 1]
    .venv/bin/python bench/crash.py --serve [--trials 20] [--kills 3] [--customers 2000]
        [--connections 8] [--batch 20] [--rate 2000] [--seed 1]

Each trial starts from an empty store and kills the run up to ``--kills`` times, each
at a random moment between 0.8 s (start-up) and 70% of an uninterrupted run's time,
then lets it finish. A real SMTP server (aiosmtpd, in this process) receives the mail.
Per trial it checks: the final state equals the uninterrupted run's (no accepted event
lost or processed twice); every delivery the uninterrupted run made arrived, each with
one Message-ID (none decided twice); and counts mails that reached the server twice
with the same Message-ID (which the hand-over of each mail, committed before the line
that makes the server take it, is there to prevent) and mails that never arrived.

With ``--serve``, a client posts every event (each with an ``id`` and an ``at`` in the
last two hours, so no timer comes due) as NDJSON batches from ``--connections``
connections, each carrying its own customers in time order, at ``--rate`` events/s (the
service's target in bench/serve.py), while the server is killed up
to ``--kills`` times, each at a random moment between its (re)start and the time an
uninterrupted serve took to answer every batch (while deliveries are still pending, a
kill after the last answer lands among them); it is restarted on the same store and the
client resends every batch that got no answer. A 202 commits its batch; a 400 commits all
but the lines it lists (an event refused as a duplicate id was committed before the
kill). Per trial it checks that every event the client heard committed is in the store,
that no valid event was refused and every invalid one was kept among the rejected, that
the customers and the outbox equal an uninterrupted serve's (each delivery decided once
and sent), and counts the mails the SMTP server got twice with the same Message-ID.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
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
from tests.live.serve_crash_harness import (  # noqa: E402
    Outcome,
    Server,
    StoreContents,
    Workload,
    read_store,
    serve_with_kills,
    write_workload,
)
from tests.peers import Inbox, free_port, smtp_sink_running  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", action="store_true",
                        help="kill `journeyflow serve` under HTTP load instead of `run`")
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--customers", type=int,
                        help="default 200, or 2000 with --serve")
    parser.add_argument("--connections", type=int, default=8, help="--serve: client "
                        "connections, each posting its own customers' events in order")
    parser.add_argument("--batch", type=int, default=20, help="--serve: events per request")
    parser.add_argument("--rate", type=float, default=2000, help="--serve: events/s offered "
                        "in all (0: each connection as fast as it is answered)")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    if options.serve:
        crash_serve(options)
    else:
        crash_run(options)


def crash_run(options: argparse.Namespace) -> None:
    customers = options.customers or 200
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        work = Path(tempfile.mkdtemp(prefix="journeyflow-crash-"))
        journey, events = write_inputs(work, customers)
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
                  "arrived twice": 0}
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
            totals["arrived twice"] += mails - distinct
            print(f"trial {trial + 1:3}: {kills} kills, state {'same' if same else 'DIFFERS'}, "
                  f"{distinct}/{expected} deliveries, {mails - distinct} arrived twice",
                  flush=True)
        print(f"{options.trials} trials, {totals['kills']} kills: final state differs in "
              f"{totals['state differs']}, deliveries missing {totals['mails missing']}, "
              f"decided twice {totals['decided twice']}, mails that arrived twice "
              f"{totals['arrived twice']}")
    finally:
        controller.stop()


def crash_serve(options: argparse.Namespace) -> None:
    with smtp_sink_running() as (inbox, port):
        work = Path(tempfile.mkdtemp(prefix="journeyflow-crash-serve-"))
        workload = write_workload(work, options.customers or 2000, options.connections,
                                  options.batch)
        calm = serve_with_kills(Server(workload.journey, work / "calm.db", port), workload, 0,
                                random.Random(0), (0, 0), options.rate)
        reference = read_store(work / "calm.db")
        expected = len(inbox.messages)
        print(f"uninterrupted serve: {workload.events} events answered in "
              f"{calm.posting:.1f} s, {expected} mails sent by {calm.seconds:.1f} s, "
              f"{len(calm.rejected)} events rejected")
        if calm.rejected.keys() != workload.bad or len(reference.deliveries) != expected:
            raise SystemExit("the uninterrupted serve is not the reference it should be")
        rng = random.Random(options.seed)
        totals: Counter[str] = Counter()
        for trial in range(options.trials):
            inbox.messages.clear()
            store = work / f"trial-{trial}.db"
            outcome = serve_with_kills(Server(workload.journey, store, port), workload,
                                       options.kills, rng, (0.05, max(0.2, calm.posting)),
                                       options.rate)
            figures = _serve_figures(outcome, workload, read_store(store), reference,
                                     count_mails(inbox.messages), expected)
            totals.update(figures)
            print(f"trial {trial + 1:3}: {_serve_line(figures)}", flush=True)
        print(f"{options.trials} trials: {_serve_line(totals)}")


def _serve_figures(outcome: Outcome, workload: Workload, found: StoreContents,
                   reference: StoreContents, mails: tuple[int, int],
                   expected: int) -> dict[str, int]:
    sent, distinct = mails
    return {
        "kills": outcome.kills, "kills posting": outcome.kills_posting,
        "batches resent": outcome.resent, "duplicates": outcome.duplicates,
        "acknowledged lost": len(outcome.acknowledged - found.keys),
        "refused wrongly": len(outcome.rejected.keys() ^ workload.bad)
        + len(workload.bad - found.rejected_ids),
        "state differs": int(found.customers != reference.customers),
        "outbox differs": int(found.deliveries != reference.deliveries),
        "deliveries": distinct, "expected": expected,
        "mails missing": max(0, expected - distinct),
        "decided twice": max(0, distinct - expected),
        "arrived twice": sent - distinct, "unconfirmed": found.unconfirmed}


def _serve_line(f: Mapping[str, int]) -> str:
    return (f"{f['kills']} kills ({f['kills posting']} while posting), {f['batches resent']} "
            f"batches resent ({f['duplicates']} events in them refused as committed before the "
            f"kill); acknowledged events lost {f['acknowledged lost']}, events refused wrongly "
            f"{f['refused wrongly']}, final state differs {f['state differs']}, outbox differs "
            f"{f['outbox differs']}, deliveries {f['deliveries']}/{f['expected']} (missing "
            f"{f['mails missing']}, decided twice {f['decided twice']}), mails that arrived "
            f"twice {f['arrived twice']}, handed over by a killed process and settled "
            f"unconfirmed {f['unconfirmed']}")

if __name__ == "__main__":
    main()
