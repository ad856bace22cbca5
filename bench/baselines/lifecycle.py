"""Facts of bench/baselines/lifecycle.journey, written down by hand for the baselines.

The stage list, rule locations (``lifecycle.journey:LINE``, looked up in the file so
that the trace records name the same lines as journeyflow's), the split arm of
precise rule 12 and the quiet hours (22:00-08:00 Europe/Berlin).
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

__all__ = ["JOURNEY_FILE", "JOURNEY_NAME", "STAGES", "QuietHours", "rule_location",
           "split_arm"]

# The lifecycle journey as the baselines implement it by hand, kept beside them: the
# example in examples/ grows with the language, this copy stays what they mirror.
JOURNEY_FILE = Path(__file__).resolve().parent / "lifecycle.journey"
JOURNEY_NAME = "Customer lifecycle"
ZONE = "Europe/Berlin"

STAGES = ("awareness", "consideration", "first_purchase", "service", "retention", "loyalty",
          "advocacy", "winback", "churned")
(AWARENESS, CONSIDERATION, FIRST_PURCHASE, SERVICE, RETENTION, LOYALTY, ADVOCACY, WINBACK,
 CHURNED) = range(len(STAGES))

MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0


def _lines() -> list[str]:
    return JOURNEY_FILE.read_text("utf-8").splitlines()


def _block_start(lines: list[str], block: str) -> int:
    for number, line in enumerate(lines):
        if line.startswith(block + " ") or line.startswith(block + "{"):
            return number
    raise LookupError(f"no '{block}' in {JOURNEY_FILE.name}")


def rule_location(block: str, snippet: str) -> str:
    """``lifecycle.journey:LINE`` of the first line containing ``snippet`` after the line
    starting with ``block`` (``"stage service"``, ``"anywhere"``)."""
    lines = _lines()
    for number in range(_block_start(lines, block), len(lines)):
        if snippet in lines[number]:
            return f"{JOURNEY_FILE.name}:{number + 1}"
    raise LookupError(f"no '{snippet}' in {block} of {JOURNEY_FILE.name}")


def split_position(block: str) -> str:
    """``LINE:COL`` of the ``split`` keyword in ``block``."""
    lines = _lines()
    for number in range(_block_start(lines, block), len(lines)):
        column = lines[number].find("split {")
        if column >= 0:
            return f"{number + 1}:{column + 1}"
    raise LookupError(f"no split in {block}")


def split_arm(customer: str, position: str, shares: tuple[float, ...]) -> int:
    """precise rule 12: SHA-256 of name, id and position; first 8 bytes big-endian,
    modulo 10,000, divided by 100; the first arm whose cumulative share exceeds it."""
    digest = hashlib.sha256(f"{JOURNEY_NAME}\x1f{customer}\x1f{position}".encode()).digest()
    point = (int.from_bytes(digest[:8], "big") % 10000) / 100
    total = 0.0
    for arm, share in enumerate(shares):
        total += share
        if total > point:
            return arm
    return len(shares) - 1


def _local_instant(day: date, clock: time, zone: ZoneInfo) -> float:
    """Wall time ``clock`` on ``day``; in a DST gap, the first valid instant after it."""
    wall = datetime.combine(day, clock)
    early = wall.replace(tzinfo=zone).timestamp()
    late = wall.replace(tzinfo=zone, fold=1).timestamp()
    if early == late or datetime.fromtimestamp(min(early, late), zone).replace(
            tzinfo=None) == wall:
        return min(early, late)
    low, high = min(early, late), max(early, late)
    while high - low > 1:  # the transition lies between the two readings
        mid = (low + high) / 2
        if datetime.fromtimestamp(mid, zone).replace(tzinfo=None) >= wall:
            high = mid
        else:
            low = mid
    return float(int(high))


class QuietHours:
    """[start, end) in the zone, wrapping midnight. Both ends are whole hours and the
    zone's offsets are whole hours, so an hour of UTC is either all quiet or not:
    the end of the quiet period is cached per UTC hour (0.0 = not quiet)."""

    def __init__(self, start: int = 22, end: int = 8, zone: str = ZONE) -> None:
        self.zone = ZoneInfo(zone)
        self.start, self.end = start, end
        self.cache: dict[int, float] = {}

    def quiet_end(self, hour: int) -> float:
        """For the UTC hour ``hour`` (epoch hours): when its quiet period ends, or 0.0."""
        local = datetime.fromtimestamp(hour * HOUR, self.zone)
        h = local.hour
        inside = h >= self.start or h < self.end if self.start > self.end else (
            self.start <= h < self.end)
        if not inside:
            end = 0.0
        else:
            day = local.date() + timedelta(days=1 if self.start > self.end and h >= self.start
                                           else 0)
            end = _local_instant(day, time(self.end), self.zone)
        self.cache[hour] = end
        return end

    def next_allowed(self, t: float) -> float:
        """The first instant at or after ``t`` outside quiet hours."""
        hour = int(t // HOUR)
        end = self.cache.get(hour)
        if end is None:
            end = self.quiet_end(hour)
        return end if end > t else t
