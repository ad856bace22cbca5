"""A running service takes a new version of one of its journeys: from its file again
(SIGHUP) or from an admin request (``POST /journeys``).

A new version is compiled here, off the worker thread, so a slow compile never holds
events back; only the swap itself (the old engine commits, the new one opens the store,
which migrates its customers) runs on the worker thread, between two groups. A version
that does not compile, or whose migration is blocked, is refused: the old version keeps
running and the refusal is logged and kept for ``GET /journeys``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from journeyflow.errors import JourneyError, format_diagnostic
from journeyflow.journey import Journey, loads, read_source, version_of
from journeyflow.live.service import LiveService
from journeyflow.runtime.timeutil import format_instant
from journeyflow.versions.migrate_report import MigrationReport

__all__ = ["Refused", "Reloader", "Running", "Swapped"]

log = logging.getLogger("journeyflow.reload")

# MigrationReport.as_json fields that describe the request, not what moved
_NOT_COUNTS = ("journey", "version", "dry_run", "applied", "blocked", "problems")


@dataclass
class Running:
    """The version of a journey a service runs, and the last version it refused."""

    journey: str
    version: str
    file: str
    source: str
    loaded_at: float
    loaded_from: str = "file"  # or "request": POST /journeys, until the file is read again
    last_error: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {"journey": self.journey, "version": self.version, "file": self.file,
                "sha256": hashlib.sha256(self.source.encode()).hexdigest(),
                "loaded_at": format_instant(self.loaded_at), "loaded_from": self.loaded_from,
                "last_error": self.last_error}


@dataclass(frozen=True)
class Swapped:
    journey: str
    from_version: str
    to_version: str
    migrated: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"journey": self.journey, "from": self.from_version, "to": self.to_version,
                "migrated": self.migrated}


class Refused(Exception):
    """A new version that was not swapped in; ``outcome`` is ``invalid`` (it does not
    compile, or is another journey), ``blocked`` (its migration is) or ``failed`` (the
    file cannot be read, the store cannot be opened)."""

    def __init__(self, journey: str, outcome: str, message: str,
                 detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.journey = journey
        self.outcome = outcome
        self.message = message
        self.detail = detail or {}

    def as_json(self) -> dict[str, Any]:
        return {"journey": self.journey, "error": self.outcome, "message": self.message,
                **self.detail}


class Reloader:
    """Offers new versions to a :class:`LiveService`, one at a time."""

    def __init__(self, service: LiveService, now: Callable[[], float] = time.time) -> None:
        self.service = service
        self.now = now
        started = now()
        self.running = {name: Running(name, version_of(engine.journey), engine.journey.file,
                                      engine.journey.source, started)
                        for name, engine in service.engines.items()}
        self._turn = threading.Lock()  # a SIGHUP and a request never swap the same journey

    def from_source(self, name: str, source: str, file: str | None = None) -> Swapped:
        """Swap in ``source`` as journey ``name`` (which must run here: KeyError), or
        raise :class:`Refused`."""
        running = self.running[name]
        with self._turn:
            swapped = self._offer(running, source, file or running.file)
            running.loaded_from = "request"
            return swapped

    def from_files(self) -> list[Swapped | Refused]:
        """Read every journey's file again and swap in those whose text changed."""
        outcomes: list[Swapped | Refused] = []
        with self._turn:
            for running in list(self.running.values()):
                if running.file.startswith("<"):
                    continue  # compiled from text, not from a file
                try:
                    source = read_source(Path(running.file))
                except JourneyError as err:
                    outcomes.append(self._refused(running, Refused(
                        running.journey, "failed", str(err))))
                    continue
                if source == running.source:
                    continue
                try:
                    outcomes.append(self._offer(running, source, running.file))
                    running.loaded_from = "file"
                except Refused as refused:
                    outcomes.append(refused)
        return outcomes

    def status(self) -> list[dict[str, Any]]:
        return [running.as_json() for running in self.running.values()]

    # ---- one offer -----------------------------------------------------------------------

    def _offer(self, running: Running, source: str, file: str) -> Swapped:
        try:
            journey = self._compile(running.journey, source, file)
            return self._swap(running, journey)
        except Refused as refused:
            raise self._refused(running, refused) from None

    @staticmethod
    def _compile(name: str, source: str, file: str) -> Journey:
        try:
            journey = loads(source, file)
        except JourneyError as err:
            errors = [d for d in err.diagnostics if d.is_error]
            raise Refused(name, "invalid", str(err), {"diagnostics": [
                {**d.as_dict(), "text": format_diagnostic(d, source)}
                for d in errors]}) from None
        if journey.name != name:
            raise Refused(name, "invalid", f"{file} is journey '{journey.name}', not '{name}'; "
                          "a new journey needs a restart with its file")
        return journey

    def _swap(self, running: Running, journey: Journey) -> Swapped:
        service = self.service
        try:
            store = service.new_store()
        except JourneyError as err:
            raise Refused(running.journey, "failed", str(err)) from None
        try:
            service.call(lambda: service.swap(journey, store)).result()
        except RuntimeError as err:  # shutting down: the old version ran to the end
            raise Refused(running.journey, "failed", str(err)) from None
        except JourneyError as err:
            report: MigrationReport | None = getattr(store, "migration", None)
            if report is not None and report.blocked:
                raise Refused(running.journey, "blocked", report.text().rstrip(),
                              {"report": report.as_json()}) from None
            raise Refused(running.journey, "failed", str(err)) from None
        version = version_of(journey)
        report = getattr(store, "migration", None) or MigrationReport(journey.name, version)
        swapped = Swapped(running.journey, running.version, version, _counts(report))
        # the file stays the one given at start: SIGHUP reads that one
        running.version, running.source = version, journey.source
        running.loaded_at = self.now()
        running.last_error = None
        service.metrics.reloads.labels(running.journey, "swapped").inc()
        log.info("journey reloaded", extra=swapped.as_json())
        return swapped

    def _refused(self, running: Running, refused: Refused) -> Refused:
        running.last_error = {**refused.as_json(), "at": format_instant(self.now())}
        self.service.metrics.reloads.labels(running.journey, refused.outcome).inc()
        log.error("journey not reloaded: %s", refused.message,
                  extra={"reload": refused.as_json()})
        return refused


def _counts(report: MigrationReport) -> dict[str, Any]:
    found = report.as_json()
    counts = {key: value for key, value in found.items() if key not in _NOT_COUNTS}
    counts["customers"] = {"total": sum(report.customers.values()),
                           "by_version": found["customers"]}
    return counts
