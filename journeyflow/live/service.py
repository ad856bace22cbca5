"""The long-running service behind ``journeyflow serve``: engines, one worker thread,
a wall-clock scheduler and the delivery loop.

On a PostgreSQL store the service steps nothing itself: requests' events go to the
store's inbox (:mod:`journeyflow.live.inbox`), in one transaction per group, and are
acknowledged once it commits; worker processes (``serve --workers N``, or ``journeyflow
work`` anywhere) step them, fire the timers and send the deliveries. Reads, export and
forget go to the store directly.

Every engine call happens on one worker thread, so the interpreter needs no locks.
Requests queue their events; the worker takes everything queued, steps it, commits
once and only then answers every request of the group (group commit: a busy service
pays one transaction for many requests). Timers fire on the wall clock: after each
group, and at least every ``tick`` seconds. Deliveries leave on a thread of their own,
so a slow mail server never delays an event; it shares the store's connection under
a lock held only for the outbox's short reads and writes.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from journeyflow.errors import JourneyError
from journeyflow.journey import Journey
from journeyflow.live.cache import CustomerCache
from journeyflow.live.inbox import Intake
from journeyflow.live.pgschema import PgOptions, parse_url
from journeyflow.live.postgres import PostgresStore
from journeyflow.live.sendlog import StoredSendLog
from journeyflow.live.sqlite import SQLiteDatabase, SQLiteStore
from journeyflow.runtime.delivery_loop import ChannelPolicy, DeliveryLoop
from journeyflow.runtime.engine import Engine
from journeyflow.runtime.events import EventValidator

__all__ = ["EventOutcome", "LiveService", "Unreadable"]

log = logging.getLogger("journeyflow.serve")

SENDS_HELD = 100_000  # customers whose deliveries the shared send log keeps in memory


@dataclass(frozen=True)
class Unreadable:
    """A line of a request that is not JSON: rejected with why, and kept."""

    text: str
    reason: str


@dataclass(frozen=True)
class EventOutcome:
    accepted: bool
    reasons: dict[str, str]  # journey -> why it rejected the event


class LockedOutbox:
    """An outbox whose every call holds the service's store lock."""

    def __init__(self, inner: Any, lock: threading.Lock) -> None:
        self.inner = inner
        self.lock = lock

    def due(self, now: float, limit: int) -> Any:
        with self.lock:
            return self.inner.due(now, limit)

    def record_attempt(self, row: Any, record: dict[str, Any] | None) -> None:
        with self.lock:
            self.inner.record_attempt(row, record)

    def next_due(self) -> float | None:
        with self.lock:
            found: float | None = self.inner.next_due()
            return found

    def pending_count(self) -> int:
        with self.lock:
            return int(self.inner.pending_count())


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter("journeyflow_events_total", "Events received, by outcome",
                              ["journey", "outcome"], registry=self.registry)
        self.deliveries = Counter("journeyflow_deliveries_total",
                                  "Delivery attempts, by channel and status",
                                  ["journey", "channel", "status"], registry=self.registry)
        self.commit_seconds = Histogram("journeyflow_commit_seconds",
                                        "Time to step and commit one group of events",
                                        registry=self.registry)
        self.group_size = Histogram("journeyflow_group_events", "Events per committed group",
                                    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
                                    registry=self.registry)
        self.outbox = Gauge("journeyflow_outbox_pending", "Deliveries waiting in the outbox",
                            ["journey"], registry=self.registry)
        self.customers = Gauge("journeyflow_customers", "Customers in the store",
                               ["journey"], registry=self.registry)
        self.request_seconds = Histogram("journeyflow_request_seconds", "HTTP request time",
                                         ["route"], registry=self.registry)
        self.reloads = Counter("journeyflow_reloads_total",
                               "New versions of a journey offered to the service, by outcome",
                               ["journey", "outcome"], registry=self.registry)


class LiveService:
    """Engines for one or more journeys over one store: SQLite (stepped here) or
    PostgreSQL (accepted into its inbox here, stepped by workers)."""

    def __init__(self, journeys: Sequence[Journey], store_url: str,
                 channels: Mapping[str, Callable[[Any], object] | None] | None,
                 retry: Mapping[str, ChannelPolicy] | None = None, tick: float = 1.0,
                 now: Callable[[], float] = time.time) -> None:
        names = [j.name for j in journeys]
        if len(set(names)) != len(names):
            raise JourneyError("two journey files have the same journey name")
        self.lock = threading.Lock()
        self.metrics = Metrics()
        self.channels = channels
        self.retry = retry
        self._pg_options: PgOptions | None = None
        self.now = now
        self.tick = tick
        self.engines: dict[str, Engine] = {}
        self.database: SQLiteDatabase | None = None
        self.intake: Intake | None = None
        # Several journeys count every journey's deliveries toward each `limit` (SQLite:
        # this log, as one process steps every journey; PostgreSQL: each worker process
        # keeps one, over partitions it leases in every journey at once).
        self.sends: StoredSendLog | None = None
        self._prune_at = float("-inf")
        if store_url.startswith(("postgresql://", "postgres://")):
            self._open_postgres(journeys, store_url)
            channels = None  # the workers deliver
        elif store_url.startswith("sqlite:///"):
            self._open_sqlite(journeys, store_url, channels, retry)
        else:
            raise JourneyError("serve needs a durable store: --store sqlite:///state.db or "
                               "postgresql://USER@HOST/DB")
        delivered = list(self.engines) if channels is not None else []
        self.loops = [self._delivery_loop(self.engines[name], channels, retry)
                      for name in delivered]
        self._loop_of = {name: i for i, name in enumerate(delivered)}
        self._queue: queue.Queue[tuple[list[Any], Future[list[EventOutcome]]] | None] = (
            queue.Queue())
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _open_sqlite(self, journeys: Sequence[Journey], store_url: str,
                     channels: Mapping[str, Callable[[Any], object] | None] | None,
                     retry: Mapping[str, ChannelPolicy] | None) -> None:
        template = SQLiteStore.open(store_url)
        self.database = template.database
        if len(journeys) > 1:
            self.sends = StoredSendLog(self.database.db)
        self._template = template
        try:
            for journey in journeys:
                self.engines[journey.name] = self._sqlite_engine(journey, SQLiteStore(
                    self.database, owns_database=False))
        except BaseException:
            self.database.close()
            raise

    def new_store(self) -> SQLiteStore | PostgresStore:
        """A store for one more engine of this service (a journey's next version)."""
        if self._pg_options is not None:
            return PostgresStore(self._pg_options, exclusive=False)
        assert self.database is not None
        return SQLiteStore(self.database, owns_database=False)

    def _sqlite_engine(self, journey: Journey, store: SQLiteStore) -> Engine:
        template = self._template
        store.cache_limit = template.cache_limit
        store.keep_keys = template.keep_keys
        store.keep_trace = False
        store.keep_rejected = False  # memory stays flat; GET /customers shows them
        if self.sends is not None:
            store.mark_shared()
        engine = Engine(journey, store=store, channels=self.channels, retry=self.retry,
                        trace=True, sends=self.sends)
        engine.deliver_inline = False
        return engine

    def _open_postgres(self, journeys: Sequence[Journey], store_url: str) -> None:
        """The inbox, and an engine per journey that only reads (it holds no partition)."""
        options = self._pg_options = parse_url(store_url)
        self.intake = Intake(options, journeys, now=self.now)
        try:
            for journey in journeys:
                self.engines[journey.name] = self._postgres_engine(
                    journey, PostgresStore(options, exclusive=False))
        except BaseException:
            self._close_stores()
            raise

    @staticmethod
    def _postgres_engine(journey: Journey, store: PostgresStore) -> Engine:
        store.keep_trace = False
        return Engine(journey, store=store, trace=True)

    # ---- a journey's next version ------------------------------------------------------

    def swap(self, journey: Journey, store: SQLiteStore | PostgresStore) -> None:
        """Replace the engine of ``journey.name`` by one on ``journey`` over ``store``
        (opening it migrates the customers). Call on the worker thread, between two groups
        (:meth:`call`): the old engine commits first, so no event is half stepped. When the
        new engine cannot open (a blocked migration), the old one keeps running."""
        name = journey.name
        old = self.engines[name]
        old.commit()  # calls run under the store lock: the delivery thread waits
        if isinstance(store, SQLiteStore):
            engine = self._sqlite_engine(journey, store)
        else:
            engine = self._postgres_engine(journey, store)
        self.engines[name] = engine
        if self.intake is not None:
            self.intake.journeys[name] = journey
            self.intake.validators[name] = EventValidator(journey.model)
        if name in self._loop_of:  # pending deliveries render from the new version
            self.loops[self._loop_of[name]] = self._delivery_loop(engine, self.channels,
                                                                  self.retry)
        old.store.close()  # on SQLite, the database stays open: the service owns it

    def _delivery_loop(self, engine: Engine, channels: Any, retry: Any) -> DeliveryLoop:
        journey = engine.journey.name
        metric = self.metrics.deliveries

        def count(record: tuple[Any, ...]) -> None:
            fields = record[3]
            if record[2] == "delivery":  # an `error` record (a failed render) is in the log
                metric.labels(journey, fields["channel"], fields["status"]).inc()

        handlers = {name: h for name, h in channels.items() if h is not None}
        return DeliveryLoop(engine.program, LockedOutbox(engine.store.outbox, self.lock),
                            handlers, retry, record=count)

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        worker = threading.Thread(target=self._work, name="journeyflow-engine", daemon=True)
        sender = threading.Thread(target=self._deliver, name="journeyflow-delivery",
                                  daemon=True)
        self._threads = [worker, sender]
        for thread in self._threads:
            thread.start()
        log.info("service started", extra={"journeys": list(self.engines)})

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the queued events, commit, stop the loops, close the store."""
        self._queue.put(None)
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._close_stores()
        log.info("service stopped")

    def _close_stores(self) -> None:
        for engine in self.engines.values():
            engine.store.close()
        if self.database is not None:
            self.database.close()
        if self.intake is not None:
            self.intake.close()

    # ---- events ----------------------------------------------------------------------

    def submit(self, events: list[Any]) -> Future[list[EventOutcome]]:
        """Queue events; the future resolves once they are committed."""
        future: Future[list[EventOutcome]] = Future()
        if self._stop.is_set():
            future.set_exception(RuntimeError("the service is shutting down"))
        else:
            self._queue.put((events, future))
        return future

    def call(self, action: Callable[[], Any]) -> Future[Any]:
        """Run ``action`` on the worker thread (reads and deletes go through here too)."""
        future: Future[Any] = Future()
        if self._stop.is_set():  # the worker thread may be gone: nobody would answer
            future.set_exception(RuntimeError("the service is shutting down"))
        else:
            self._queue.put(([_Call(action)], future))
        return future

    def _work(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self.tick)
            except queue.Empty:
                self._advance()
                continue
            group = [first]
            while True:  # everything already waiting joins this group
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stopping = any(item is None for item in group)
            self._run_group([item for item in group if item is not None])
            self._advance()
            if stopping:
                return

    def _run_group(self, group: list[tuple[list[Any], Future[Any]]]) -> None:
        started = time.perf_counter()
        answers: list[tuple[Future[Any], Any, BaseException | None]] = []
        count = 0
        with self.lock:
            try:
                if self.intake is not None:
                    count = self._admit_group(group, answers)
                else:
                    count = self._step_group(group, answers)
            except BaseException as exc:  # noqa: BLE001 - every waiting request must hear
                log.exception("a group of events could not be committed")
                answers = [(future, None, exc) for _, future in group]
        for future, value, error in answers:
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)
        if count:
            self.metrics.commit_seconds.observe(time.perf_counter() - started)
            self.metrics.group_size.observe(count)

    def _step_group(self, group: list[tuple[list[Any], Future[Any]]],
                    answers: list[tuple[Future[Any], Any, BaseException | None]]) -> int:
        count = 0
        for events, future in group:
            if len(events) == 1 and isinstance(events[0], _Call):
                answers.append(self._run_call(events[0], future))
                continue
            count += len(events)
            answers.append((future, [self._step(raw) for raw in events], None))
        for engine in self.engines.values():
            engine.commit()
        if self.sends is not None:
            self.sends.evict(SENDS_HELD)
        return count

    def _admit_group(self, group: list[tuple[list[Any], Future[Any]]],
                     answers: list[tuple[Future[Any], Any, BaseException | None]]) -> int:
        """Every request's events into the inbox, in one transaction; each request
        answered with what became of its events at the door."""
        intake = self.intake
        assert intake is not None
        count = 0
        queued: list[Any] = []
        refused: list[Any] = []
        pending: list[tuple[Future[Any], list[tuple[Any, list[Any]]]]] = []
        for events, future in group:
            if len(events) == 1 and isinstance(events[0], _Call):
                answers.append(self._run_call(events[0], future))
                continue
            count += len(events)
            admitted = []
            for raw in events:
                reason = raw.reason if isinstance(raw, Unreadable) else None
                admission, q, r = intake.admit(raw.text if reason else raw, unreadable=reason)
                queued += q
                refused += r
                admitted.append((admission, q))
            pending.append((future, admitted))
        repeats = {id(q) for q in intake.write(queued, refused, refuse_repeats=True)}
        for future, admitted in pending:
            answers.append((future, [self._outcome(a, q, repeats) for a, q in admitted], None))
        return count

    def _outcome(self, admission: Any, queued: list[Any], repeats: set[int]) -> EventOutcome:
        reasons = dict(admission.reasons)
        for q in queued:
            if id(q) in repeats:
                reasons[q.journey] = f"duplicate event id '{(q.key or '')[3:]}': already accepted"
        for name in admission.queued:
            self.metrics.events.labels(name, "rejected" if name in reasons else "accepted").inc()
        for name in admission.reasons:
            self.metrics.events.labels(name, "rejected").inc()
        return EventOutcome(not reasons, reasons)

    @staticmethod
    def _run_call(call: _Call, future: Future[Any]) -> tuple[Future[Any], Any,
                                                               BaseException | None]:
        try:
            return future, call.action(), None
        except Exception as exc:  # noqa: BLE001 - handed to the request that asked
            return future, None, exc

    def _step(self, raw: Any) -> EventOutcome:
        """One event, to the journeys it is for: the one it names, else every journey
        that declares its type (an event no journey knows is rejected, and kept, by the
        first journey)."""
        if isinstance(raw, Unreadable):
            name = next(iter(self.engines))
            self.engines[name].reject(raw.reason, raw.text)
            self.metrics.events.labels(name, "rejected").inc()
            return EventOutcome(False, {name: raw.reason})
        targets = self._targets(raw)
        reasons = {}
        for name in targets:
            result = self.engines[name].step(raw)
            self.metrics.events.labels(name, "accepted" if result.accepted
                                       else "rejected").inc()
            if not result.accepted:
                reasons[name] = result.reason or "rejected"
        return EventOutcome(not reasons, reasons)

    def _targets(self, raw: Any) -> list[str]:
        if isinstance(raw, dict):
            named = raw.get("journey")
            if isinstance(named, str) and named in self.engines:
                return [named]
            kind = raw.get("event")
            knowing = [name for name, engine in self.engines.items()
                       if kind in engine.journey.model.events]
            if knowing:
                return knowing
        return [next(iter(self.engines))]

    def _advance(self) -> None:
        """Fire the timers due by the wall clock (on PostgreSQL, the workers do), and
        hourly prune the send log."""
        if self.intake is not None:
            return
        now = self.now()
        with self.lock:
            if self.sends is not None and now >= self._prune_at:
                self.sends.prune(now)
                self._prune_at = now + 3600
            for engine in self.engines.values():
                store = engine.store
                if isinstance(store, SQLiteStore) and not store.timers_due(now):
                    continue  # nothing due: no transaction
                try:
                    engine.advance(now)
                except Exception:  # noqa: BLE001 - logged; the next tick tries again
                    log.exception("timers of %s could not fire", engine.journey.name)

    # ---- deliveries ------------------------------------------------------------------

    def _deliver(self) -> None:
        while not self._stop.is_set():
            sent = 0
            for loop in list(self.loops):
                try:
                    sent += loop.run_due(limit=100)
                except Exception:  # noqa: BLE001 - logged; the row stays pending
                    log.exception("the delivery loop failed")
            if not sent:
                self._stop.wait(0.2)

    # ---- reading ---------------------------------------------------------------------

    def customer(self, cid: str) -> dict[str, Any]:
        """Each journey's view of one customer: state, and the trace of how they got there."""
        out: dict[str, Any] = {}
        for name, engine in self.engines.items():
            store = engine.store
            assert isinstance(store, SQLiteStore | PostgresStore)
            _fresh(engine)
            state = engine.customer(cid)
            if state is None:
                continue
            history = store.history(cid)
            moves = [r for r in history if r["kind"] == "transition"]
            out[name] = {"state": state.model_dump(mode="json"), "trace": history,
                         "why": moves[-1] if moves else None}
        return out

    def export(self, cid: str) -> dict[str, Any]:
        found = {}
        for name, engine in self.engines.items():
            assert isinstance(engine.store, SQLiteStore | PostgresStore)
            _fresh(engine)
            exported = engine.store.export(cid)
            if exported is not None:
                found[name] = exported
        return found

    def forget(self, cid: str) -> bool:
        deleted = False
        for engine in self.engines.values():
            assert isinstance(engine.store, SQLiteStore | PostgresStore)
            deleted |= engine.store.forget(cid)
        return deleted

    def health(self) -> dict[str, Any]:
        found = {"status": "ok", "journeys": list(self.engines),
                 "queued": self._queue.qsize()}
        if self.intake is not None:
            found["inbox"] = self.intake.waiting()
        return found

    def refresh_gauges(self) -> None:
        for name, engine in self.engines.items():
            store = engine.store
            assert isinstance(store, SQLiteStore | PostgresStore)
            self.metrics.customers.labels(name).set(store.count())
            self.metrics.outbox.labels(name).set(store.outbox.pending_count())


def _fresh(engine: Engine) -> None:
    """On PostgreSQL, workers change customers under this process: read them again."""
    cache = engine.interpreter.customers
    if isinstance(engine.store, PostgresStore) and isinstance(cache, CustomerCache):
        dict.clear(cache)
        cache.absent.clear()


@dataclass(frozen=True)
class _Call:
    action: Callable[[], Any]
