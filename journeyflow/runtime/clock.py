"""Injected clocks: the runtime never reads the wall clock or sleeps by itself."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from datetime import datetime

__all__ = ["Clock", "SimulatedClock", "SystemClock"]


class Clock(ABC):
    """Tells the engine what time it is when an event arrives without one."""

    @abstractmethod
    def now(self) -> float:
        """Seconds since the epoch, UTC."""


class SimulatedClock(Clock):
    """A clock that moves only when told to: for tests, scenarios and simulation.

    Examples
    --------
    >>> from datetime import UTC
    >>> clock = SimulatedClock(datetime(2026, 1, 1, tzinfo=UTC))
    >>> clock.advance(3600); clock.now() - 1767225600.0
    3600.0
    """

    def __init__(self, start: datetime | float = 0.0) -> None:
        self._now = start.timestamp() if isinstance(start, datetime) else float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def set(self, when: datetime | float) -> None:
        self._now = when.timestamp() if isinstance(when, datetime) else float(when)


class SystemClock(Clock):
    """The real time, for services that embed the engine."""

    def now(self) -> float:
        return time.time()
