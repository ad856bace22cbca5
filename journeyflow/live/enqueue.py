"""A file of events into a PostgreSQL store's inbox (``journeyflow enqueue``).

Lines are keyed as ``run --store`` keys them (``live.run.line_keys``): a line whose key
is committed, or queued already, is not queued again, so a file enqueued twice, or
again after an interrupted enqueue, is stepped once. Valid lines are queued in time
order (file order among equal times), as ``run`` steps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from journeyflow.journey import Journey
from journeyflow.live.inbox import Intake, Queued, Refused
from journeyflow.live.pgschema import PgOptions
from journeyflow.live.run import line_keys

__all__ = ["EnqueueSummary", "enqueue_file"]


@dataclass
class EnqueueSummary:
    lines: int = 0
    queued: int = 0
    rejected: int = 0
    already: int = 0


def enqueue_file(journey: Journey, options: PgOptions, stream: IO[bytes],
                 fmt: str) -> EnqueueSummary:
    intake = Intake(options, [journey])
    try:
        keyed = line_keys(stream, fmt)
        summary = EnqueueSummary(lines=len(keyed))
        committed = intake.committed_keys(journey.name, [key for key, _ in keyed])
        queued: list[Queued] = []
        refused: list[Refused] = []
        for key, (number, raw, error) in keyed:
            if key in committed:
                summary.already += 1
                continue
            found = (Refused(journey.name, None, number, error, raw, key) if error is not None
                     else intake.check(journey.name, raw, number, key))
            if isinstance(found, Refused):
                refused.append(found)
                continue
            queued.append(found)
        queued.sort(key=lambda q: (q.at, q.line or 0))
        repeats = intake.write(queued, refused)
        summary.queued = len(queued) - len(repeats)
        summary.already += len(repeats)
        summary.rejected = len(refused)
        return summary
    finally:
        intake.close()
