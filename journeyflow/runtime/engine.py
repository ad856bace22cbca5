"""The embedding API: ``Engine(journey, store=..., channels=...)``.

>>> import journeyflow
>>> journey = journeyflow.loads('''journey "hello"
... event signed_up {}
... message welcome via email { subject "Hi" }
... stage new start { on signed_up -> welcomed }
... stage welcomed { on enter { send welcome } }''')
>>> engine = journeyflow.Engine(journey)
>>> engine.handle({"at": "2026-01-05T10:00:00Z", "customer": "c1", "event": "signed_up"}).accepted
True
>>> engine.customer("c1").stage
'welcomed'
>>> [r["message"] for r in engine.trace if r["kind"] == "action"]
['welcome']
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from journeyflow.journey import Journey
from journeyflow.runtime.clock import Clock, SystemClock
from journeyflow.runtime.events import EventValidator, Rejection, ValidEvent
from journeyflow.runtime.executor import ActionExecutor
from journeyflow.runtime.fieldvalues import customer_id
from journeyflow.runtime.interpreter import Interpreter
from journeyflow.runtime.jsonio import decode_line, json_safe, line_text, pydantic_model
from journeyflow.runtime.localdates import local_dates
from journeyflow.runtime.program import Program
from journeyflow.runtime.sendlog import SendLog
from journeyflow.runtime.state import Customer
from journeyflow.runtime.stateentry import Entry, entry_function
from journeyflow.runtime.store import Store, open_store
from journeyflow.runtime.timeutil import format_instant, instant_of, parse_instant
from journeyflow.runtime.trace import Trace

if TYPE_CHECKING:
    from journeyflow.runtime.delivery_loop import ChannelPolicy
    from journeyflow.runtime.models import CustomerState, Event

__all__ = ["Engine", "HandleResult", "Rejected"]


@dataclass(frozen=True)
class Rejected:
    reason: str
    event: Any
    line: int | None = None


@dataclass(frozen=True)
class HandleResult:
    accepted: bool
    reason: str | None = None


ACCEPTED = HandleResult(True)


def _event_id(raw: Any) -> str | None:
    """The ``id`` of an event as it came (validated: text or a whole number)."""
    if type(raw) is dict or isinstance(raw, Mapping):
        value = raw.get("id")
    else:
        value = getattr(raw, "id", None)
    return None if value is None else str(value)


def _as_recorded(event: Any) -> Any:
    """A rejected event as the trace and the store keep it: JSON, whatever it was."""
    if pydantic_model(event):  # an Event
        try:
            event = event.model_dump(mode="json")
        except Exception:  # a model holding what JSON cannot: keep what can be kept
            event = event.model_dump()
    elif isinstance(event, bytes):  # a line of a batch file, refused after it was read
        try:
            event = decode_line(event)
        except Rejection:
            event = line_text(event)
    return json_safe(event)


def _instant(when: datetime | float | str, zone: str) -> float:
    """A time given to :meth:`Engine.advance`; without offset, in the journey's zone."""
    if isinstance(when, datetime):
        return instant_of(when, zone)
    if isinstance(when, str):
        return parse_instant(when, zone)
    return float(when)


class Engine:
    """Steps customers through one journey.

    Parameters
    ----------
    journey : a compiled :class:`~journeyflow.journey.Journey` (``journeyflow.load``).
    store : ``None`` (memory), ``"sqlite:///state.db"``, or a :class:`Store`.
    channels : handlers by channel name (``email``, ``sms``, ``crm``...): each is called
        with a :class:`~journeyflow.runtime.executor.Delivery` (or, for ``notify``, a
        ``Notification``) carrying an idempotency ``key``. With a durable store, every
        channel the journey sends on and every ``notify`` handler needs one (else
        :class:`JourneyError` at start); in memory, a delivery without one is recorded
        ``dead``. Deliveries go through an outbox: committed with their step, then sent;
        a failure is retried (see ``retry``), recorded in :attr:`trace` as ``delivery``
        records, and never undoes the step. Without ``channels``, sends are recorded in
        the trace only.
    retry : :class:`~journeyflow.runtime.delivery_loop.ChannelPolicy` by channel name (``"*"`` for
        all): attempts and backoff; 3 attempts, 1 s then 2 s, by default.
    sends : a :class:`~journeyflow.runtime.sendlog.SendLog` shared with the engines of
        other journeys, so that a ``limit`` counts the deliveries of all of them to a
        customer (a service running several journeys passes one to each).
    clock : what time it is for events without ``at`` and for :meth:`advance` without
        a time; defaults to the system clock. The engine never sleeps.
    trace : keep trace records (on by default).
    """

    def __init__(self, journey: Journey, *, store: Store | str | None = None,
                 channels: Mapping[str, Callable[[Any], object] | None] | None = None,
                 clock: Clock | None = None, trace: bool = True,
                 executor: ActionExecutor | None = None,
                 retry: Mapping[str, ChannelPolicy] | None = None,
                 sends: SendLog | None = None) -> None:
        self.journey = journey
        self.program = Program(journey.model, journey.scenarios)
        self.clock = clock or SystemClock()
        self.store = open_store(store)
        if channels is not None:  # deliveries: the outbox and its loop (and SMTP, Jinja2)
            from journeyflow.runtime.delivery_loop import DeliveryLoop, check_channels
            from journeyflow.runtime.outbox import OutboxExecutor
        if executor is None and channels is not None:
            if self.store.durable:
                check_channels(self.program, channels)
            executor = OutboxExecutor(journey.name, [name for name, handler in channels.items()
                                                     if handler is None])
        self.interpreter = Interpreter(self.program, Trace(trace), executor)
        if sends is not None:
            sends.widen(max(self.program.delivery.keep.values(), default=0.0))
            self.interpreter.shared = sends
        self.validator = EventValidator(journey.model)
        self.key = f"{journey.name}@{hashlib.sha256(journey.source.encode()).hexdigest()[:16]}"
        try:
            counters = self.store.attach(self)
        except BaseException:
            self.store.close()
            raise
        self.deliveries = None if channels is None else DeliveryLoop(
            self.program, self.store.outbox,
            {name: handler for name, handler in channels.items() if handler is not None}, retry,
            record=self.interpreter.records.append)
        self.processed: int = counters.get("processed", 0)
        self.rejected: list[Rejected] = [Rejected(r["reason"], r.get("event"), r.get("line"))
                                         for r in counters.get("rejected", [])]
        self.validator.warnings = counters.get("warnings", 0)
        self._keys: list[str] = []  # ids of the events handled since the last commit
        self._state_entry: Entry | None = None  # made on first use
        # Send due deliveries right after each commit; a service runs its own loop instead.
        self.deliver_inline = True
        # Offset-less dates of an event, read again in its customer's own zone.
        self._local_dates = local_dates(journey.model, self.program.zones)
        # Whether commits do anything: a durable store, or deliveries leaving through the
        # outbox. Without either, an event skips the store's hooks.
        self._commits = self.store.durable or self.deliveries is not None

    # ---- feeding events ----------------------------------------------------------

    def handle(self, event: Event | Mapping[str, Any], line: int | None = None) -> HandleResult:
        """Process one event (timers due before it fire first); bad events are rejected.

        Anything may be passed: what is not a valid event is rejected with the reason,
        kept in :attr:`rejected` and recorded in the trace. Nothing is silently lost.
        """
        result = self.step(event, line)
        if self._commits:
            self.commit()
        return result

    def step(self, event: Event | Mapping[str, Any], line: int | None = None) -> HandleResult:
        """:meth:`handle` without the commit: for a service that commits a group of
        events at once (call :meth:`commit` before acknowledging any of them)."""
        try:
            valid, event_id = self.validator.check(event, self.clock.now())
        except Rejection as rej:
            return self.reject(rej.reason, rej.event, line, rej.at, rej.customer)
        return self._handle_once(valid, event_id, event, line)

    def _handle_once(self, valid: ValidEvent, event_id: str | None, raw: Any,
                     line: int | None) -> HandleResult:
        """An event the store has not committed before (by id), after the timers due."""
        key = None if event_id is None or not self._commits else f"id:{event_id}"
        if key is not None and self.store.committed(key):
            return self.reject(f"duplicate event id '{event_id}': already committed", raw,
                               line, valid[3], valid[0])
        if self._commits:
            self.store.before(valid[3])
        result = self.process(valid, event_id, raw, line)
        if key is not None and result.accepted:
            self._keys.append(key)
        return result

    def handle_valid(self, valid: ValidEvent, raw: Any = None,
                     line: int | None = None) -> HandleResult:
        """Process an event :attr:`validator` has already checked.

        ``raw`` is the event as it came (its ``id`` detects redeliveries) and ``line``
        its line in a batch file, for the rejection record.
        """
        return self.process(valid, None if raw is None else _event_id(raw), raw, line)

    def process(self, valid: ValidEvent, event_id: str | None, raw: Any = None,
                line: int | None = None) -> HandleResult:
        """:meth:`handle_valid` with the event's ``id`` (None: it has none) already read."""
        cid, name, data, at, attributes = valid
        ip = self.interpreter
        customer = ip.customers.get(cid)
        # Only an event that may be late or carry an id seen before needs the checks.
        if customer is not None and (event_id is not None or at < customer.clock):
            refusal = self._refusal(at, customer, event_id)
            if refusal is not None:
                return self.reject(refusal, raw, line, at, cid)
        timers = ip.timers
        if timers and timers[0][0] <= at:
            ip.advance(at)
        local = self._local_dates
        if local is not None and local.wanted(name, attributes):
            local.relocate(customer, name, data, attributes, raw)
        c = ip.handle(cid, name, data, at, attributes, customer)
        if event_id is not None:
            ids = c.seen[1] if c.seen is not None and c.seen[0] == at else ()
            c.seen = (at, (*ids, event_id))
        self.processed += 1
        return ACCEPTED

    @staticmethod
    def _refusal(at: float, customer: Customer | None, event_id: str | None) -> str | None:
        """Why an event for ``customer`` cannot be processed: late, or a redelivery."""
        if customer is None:
            return None
        if at < customer.clock:
            return (f"late event: {format_instant(at)} is before the customer's clock "
                    f"{format_instant(customer.clock)}")
        seen = customer.seen
        if event_id is not None and seen is not None and seen[0] == at and event_id in seen[1]:
            return f"duplicate event id '{event_id}'"
        return None

    def reject(self, reason: str, event: Any, line: int | None = None, at: float | None = None,
               customer: str | None = None) -> HandleResult:
        """Keep a bad event, as it came, with the reason (and its time and customer when
        they were valid), in :attr:`rejected` and the trace."""
        raw = _as_recorded(event)
        self.rejected.append(Rejected(reason, raw, line))
        if customer is None and isinstance(raw, dict):
            try:
                customer = customer_id(raw.get("customer"))
            except Rejection:
                customer = None
        fields: dict[str, Any] = {"reason": reason, "event": raw}
        if line is not None:
            fields["line"] = line
        self.interpreter.records.append((at, customer, "rejected", fields))
        return HandleResult(False, reason)

    def advance(self, until: datetime | float | str | None = None) -> None:
        """Fire every timer due at or before ``until`` (default: the clock's now)."""
        at = (self.clock.now() if until is None
              else _instant(until, self.journey.model.timezone))
        self.store.before(at)
        self.interpreter.advance(at)
        self.commit()

    # ---- reading state ---------------------------------------------------------------

    @property
    def trace(self) -> list[dict[str, Any]]:
        """Every trace record so far, as dicts in processing order (docs/language.md)."""
        return self.interpreter.trace.dicts()

    @property
    def warnings(self) -> int:
        """Extra data fields and unknown attributes ignored so far, and customers whose
        time zone attribute is not a zone (they get the journey's fallback zone)."""
        return self.validator.warnings + self.program.zones.warnings

    def customer(self, cid: str) -> CustomerState | None:
        c = self.interpreter.customers.get(cid)
        return None if c is None else self.snapshot(c)

    def snapshot(self, c: Customer) -> CustomerState:
        from journeyflow.runtime.models import CustomerState

        return CustomerState(id=c.id, **self._entry(c))

    def _entry(self, c: Customer) -> dict[str, Any]:
        """``c`` as the state file shows it, without its id, as plain values: the state
        file of a large run is written from these without a model per customer."""
        if self._state_entry is None:
            self._state_entry = entry_function(self.program)
        return self._state_entry(c)

    def state_entries(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(id, entry)`` of every customer, as the state file's ``customers`` holds
        them, one at a time (``journeyflow run`` streams them to the file)."""
        for c in self.store.customers():
            yield c.id, self._entry(c)

    def state_totals(self, pending_events: int = 0) -> dict[str, Any]:
        """The state file's fields after ``customers``."""
        return {
            "processed": self.processed,
            "rejected": [{"line": r.line, "reason": r.reason} if r.line is not None
                         else {"reason": r.reason} for r in self.rejected],
            "pending": pending_events,
            "warnings": self.warnings,
        }

    def state(self, pending_events: int = 0) -> dict[str, Any]:
        """The state file of ``journeyflow run`` (docs/language.md)."""
        return {"customers": dict(self.state_entries()), **self.state_totals(pending_events)}

    # ---- persistence -------------------------------------------------------------------

    def commit(self, keys: Iterable[str] = ()) -> None:
        """Make every step since the last commit durable (the event keys, the customers'
        new state and the deliveries they decided, in one transaction), then send the
        deliveries that are due. ``handle`` and ``advance`` commit before they return;
        a batch of ``handle_valid`` calls commits once, with the keys of its events."""
        if self._keys:
            keys = [*self._keys, *keys]
            self._keys.clear()
        self.store.commit(keys)
        if self.deliveries is not None and self.deliver_inline:
            self.deliveries.run_due()

    def flush(self) -> None:
        """Commit what changed (kept for callers of earlier versions)."""
        self.commit()

    def close(self) -> None:
        self.commit()
        self.store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
