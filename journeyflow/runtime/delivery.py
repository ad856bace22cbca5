"""When a send may go out: quiet hours, send windows and frequency caps.

Quiet hours and windows are [start, end) on the wall clock of the journey's time
zone (:mod:`~journeyflow.compile.send_week` says how they combine, and
:mod:`~journeyflow.runtime.send_schedule` how a zone's clock reads them). A send
due while they hold it back goes out at the exact first instant they allow.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from journeyflow.compile.send_week import SendWeek
from journeyflow.model.journey import Limit, QuietHours, SendWindow
from journeyflow.runtime.send_schedule import SendSchedule

__all__ = ["DeliveryRules"]


def _at_once(at: float) -> float:
    return at


class DeliveryRules:
    """The journey's quiet hours, send window and caps, compiled for fast checks.

    The open times of the week do not depend on the zone; the schedule that reads
    them on a zone's clock does, and is made on demand per zone (:meth:`schedule`)
    and kept. ``next_allowed``, ``openings`` and ``bucket`` are those of the
    journey's own zone, which generated send code binds once.
    """

    def __init__(self, zone: str, quiet: QuietHours | None, window: SendWindow | None,
                 limits: tuple[Limit, ...]) -> None:
        self.zone = ZoneInfo(zone)
        self.quiet = quiet
        self.window = window
        self.week = SendWeek(quiet, window)
        # Whether a send can be deferred at all (an empty week raises in the schedule).
        self.timed = not self.week.always
        self.limits: dict[str, list[tuple[int, float]]] = {}
        for limit in limits:
            self.limits.setdefault(limit.channel, []).append(
                (limit.count, limit.per.total_seconds()))
        self.keep = {ch: max(per for _, per in rules) for ch, rules in self.limits.items()}
        # channel -> the customer slot holding its recent delivery times (set by Program);
        # sends check and log them in generated code (codegen.BodyCompiler._deliver)
        self.slots: dict[str, str] = {}
        self._schedules: dict[str, SendSchedule] = {}
        home = self.schedule(zone)
        self.next_allowed: Callable[[float], float] = (
            home.next_allowed if self.timed else _at_once)
        # bucket -> None when open as a whole, else the instant it opens
        self.openings: dict[int, float | None] = home.openings
        # The bucket length ``openings`` is keyed by: ``int(at // bucket)``.
        self.bucket: int = home.bucket

    def schedule(self, zone: str) -> SendSchedule:
        """The schedule of sends on the clock of ``zone`` (an IANA name), made once."""
        found = self._schedules.get(zone)
        if found is None:
            found = self._schedules[zone] = SendSchedule(self.week, ZoneInfo(zone))
        return found
