"""The outbox: deliveries a step decided, kept until the delivery loop has sent them.

A step never calls a channel itself. Its sends and ``notify`` actions become outbox
rows, committed with the step; the delivery loop sends them afterwards. Each row has
an idempotency key made from (customer, step, action), which the channel receives, so
a provider that may see a delivery twice (after a crash between its acceptance and our
record of it) can drop the second one.

A mail is never sent twice because of a crash: just before the last line of a mail
(the one that makes the server take it), its row is committed ``sending``. A row
left ``sending`` by a process that died is settled as sent, not sent again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from journeyflow.model.journey import JourneyModel, Notify, parts_of
from journeyflow.runtime.executor import Delivery, template_context

if TYPE_CHECKING:
    from journeyflow.runtime.program import Program
    from journeyflow.runtime.state import Customer

__all__ = ["KeyedDelivery", "KeyedNotification", "MemoryOutbox", "Outbox", "OutboxExecutor",
           "OutboxRow", "PENDING", "SENDING", "SENT", "DEAD", "HAND_OVER_CLAIM", "delivery_key",
           "notify_handlers"]

PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"
# Seconds a row being handed over is left to its process before a store shared by
# several processes takes that process for dead (far above any channel's timeout).
HAND_OVER_CLAIM = 300.0


@dataclass(frozen=True)
class KeyedDelivery(Delivery):
    """A :class:`Delivery` with its idempotency key (the same on every attempt) and, for a
    message whose template is an HTML file, that HTML with the customer's values escaped
    (``html``) and a plain-text alternative (``text``: its ``body``, else its subject)."""

    key: str = ""
    html: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class KeyedNotification:
    """A ``notify`` action as its handler receives it, with its idempotency key."""

    customer: str
    handler: str
    at: Any
    data: Mapping[str, Any]
    key: str = ""


@dataclass
class OutboxRow:
    """One delivery (``kind`` send) or notification (``kind`` notify) to make."""

    journey: str
    customer: str
    kind: str
    channel: str
    at: float  # the step's time
    fields: dict[str, Any]  # the action's fields (message, action, offer, item) or notify data
    context: dict[str, Any] | None  # the template context at the step, for a send
    step: int = 0  # which step of the customer decided it: part of the key
    position: int = 0  # which delivery of that step: part of the key
    key: str = ""
    id: int = 0
    attempts: int = 0
    status: str = PENDING
    next_at: float = 0.0
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str | None:
        return self.fields.get("message") if self.kind == "send" else None

    def number(self, position: int) -> None:
        """Give the row its place among the store's deliveries, and so its key."""
        what = self.fields.get("message", "") if self.kind == "send" else self.channel
        self.step = round(self.at * 1000)
        self.position = position
        self.key = delivery_key(self.journey, self.customer, self.step, position, self.kind,
                                str(what))


def delivery_key(journey: str, customer: str, step: int, position: int, kind: str,
                 what: str) -> str:
    """A stable key for one delivery: (journey, customer, step, action), hashed."""
    text = f"{journey}\x1f{customer}\x1f{step}\x1f{position}\x1f{kind}\x1f{what}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class OutboxExecutor:
    """Collects a step's deliveries as outbox rows instead of calling channels."""

    def __init__(self, journey: str, record_only: Iterable[str] = ()) -> None:
        self.journey = journey
        self.record_only = frozenset(record_only)  # channels whose sends the trace records
        self.rows: list[OutboxRow] = []

    def deliver(self, program: Program, c: Customer, t: float, fields: Mapping[str, Any],
                event: Mapping[str, Any]) -> None:
        if fields["channel"] in self.record_only:
            return
        # The stage is kept for the error record of a message that fails to render.
        self.rows.append(OutboxRow(self.journey, c.id, "send", fields["channel"], t,
                                   {**fields, "stage": program.stage_names[c.stage]},
                                   template_context(program, c, event)))

    def notify(self, program: Program, c: Customer, t: float, handler: str,
               data: Mapping[str, Any]) -> None:
        if handler in self.record_only:
            return
        self.rows.append(OutboxRow(self.journey, c.id, "notify", handler, t, dict(data), None))

    def take(self) -> list[OutboxRow]:
        rows, self.rows = self.rows, []
        return rows


class Outbox(Protocol):
    """Where committed deliveries wait for the delivery loop."""

    def due(self, now: float, limit: int) -> list[OutboxRow]: ...

    def record_attempt(self, row: OutboxRow, record: dict[str, Any] | None) -> None:
        """Save the row's new status, attempts, next time and error, with its trace record
        (None: a row committed ``sending``, whose record comes when it is settled)."""

    def next_due(self) -> float | None: ...

    def pending_count(self) -> int: ...


class MemoryOutbox:
    """The outbox of an engine without a store: as long-lived as the engine."""

    def __init__(self) -> None:
        self.rows: dict[int, OutboxRow] = {}
        self._next_id = 0

    def add(self, rows: Iterable[OutboxRow]) -> None:
        for row in rows:
            self._next_id += 1
            row.id = self._next_id
            row.number(row.id)
            self.rows[row.id] = row

    def due(self, now: float, limit: int) -> list[OutboxRow]:
        due = [row for row in self.rows.values() if row.next_at <= now]
        return due[:limit]

    def record_attempt(self, row: OutboxRow, record: dict[str, Any] | None) -> None:
        if row.status in (SENT, DEAD):
            self.rows.pop(row.id, None)

    def next_due(self) -> float | None:
        return min((row.next_at for row in self.rows.values()), default=None)

    def pending_count(self) -> int:
        return len(self.rows)

    def forget(self, customer: str) -> int:
        gone = [key for key, row in self.rows.items() if row.customer == customer]
        for key in gone:
            del self.rows[key]
        return len(gone)


def notify_handlers(model: JourneyModel) -> set[str]:
    """The handler names of every ``notify`` action in the journey."""
    return {notify.handler for notify in parts_of(model, Notify)}
