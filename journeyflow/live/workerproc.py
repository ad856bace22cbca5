"""One worker process: an engine per journey on the shared store, the :class:`Worker` that
steps them, and a delivery thread that sends their outboxes."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from journeyflow.journey import Journey
from journeyflow.live.pgschema import parse_url
from journeyflow.live.pgsendlog import PostgresSendLog
from journeyflow.live.postgres import PostgresStore
from journeyflow.live.worker import Worker
from journeyflow.runtime.delivery_loop import ChannelPolicy
from journeyflow.runtime.engine import Engine

__all__ = ["WorkerProcess"]

log = logging.getLogger("journeyflow.work")


class WorkerProcess:
    def __init__(self, journeys: Sequence[Journey], store_url: str,
                 channels: Mapping[str, Callable[[Any], object] | None] | None,
                 retry: Mapping[str, ChannelPolicy] | None = None,
                 until: float | None = None) -> None:
        options = parse_url(store_url)
        self.engines: list[Engine] = []
        # Journeys run together count each other's deliveries toward their `limit`s.
        self.sends = PostgresSendLog(options) if len(journeys) > 1 else None
        try:
            for journey in journeys:
                store = PostgresStore(options, exclusive=False)
                self.engines.append(Engine(journey, store=store, channels=channels,
                                           retry=retry, trace=True, sends=self.sends))
        except BaseException:
            self.close()
            raise
        self.worker = Worker(self.engines, until=until)
        self.name = options.worker
        self._sender: threading.Thread | None = None

    def run(self, stop: threading.Event, drain: bool = False) -> None:
        log.info("worker started", extra={"worker": self.name,
                                          "journeys": [e.journey.name for e in self.engines]})
        sending = threading.Event()
        self._sender = threading.Thread(target=self._deliver, args=(sending,),
                                        name="journeyflow-delivery", daemon=True)
        self._sender.start()
        try:
            if drain:
                self.worker.drain(stop)
            else:
                self.worker.run(stop)
        finally:
            sending.set()
            self._sender.join(30)
        if drain:
            for engine in self.engines:
                if engine.deliveries is not None:
                    engine.deliveries.drain(timeout=60)
        stats = self.worker.stats
        log.info("worker stopped", extra={"worker": self.name, "events": stats.events,
                                          "rejected": stats.rejected,
                                          "commits": stats.commits, "dropped_turns": stats.lost})

    def _deliver(self, stop: threading.Event) -> None:
        loops = [e.deliveries for e in self.engines if e.deliveries is not None]
        while not stop.is_set():
            sent = 0
            for loop in loops:
                try:
                    sent += loop.run_due(limit=100)
                except Exception:  # noqa: BLE001 - logged; the row stays pending
                    log.exception("the delivery loop failed")
            if not sent:
                stop.wait(0.2)

    def close(self) -> None:
        for engine in self.engines:
            try:
                engine.close()
            except Exception:  # noqa: BLE001 - the others still give their share back
                log.exception("closing %s failed", engine.journey.name)
        if self.sends is not None:
            self.sends.close()
