"""The delivery loop: sends committed outbox rows, retries failures, records every attempt.

A failed delivery never touches the step that decided it: the step is committed
before the loop sees the row. A failure is retried after ``backoff`` seconds, then
twice as long, up to ``attempts`` attempts per channel, and then recorded ``dead``.
A channel that refuses a delivery for good (no valid address) is not retried.
Every attempt becomes a ``delivery`` trace record: ``message``, ``channel``, ``status``
(sent, failed or dead), ``attempt``, and ``error`` when it did not go out.

A channel with a ``hand_over(delivery, commit)`` method (:class:`SmtpChannel`) calls
``commit`` at its point of no return, and the row is committed ``sending`` there: a
process killed between the server taking the mail and the record of it leaves the
row ``sending``, and the next loop settles it as sent (``unconfirmed`` in its
record) instead of sending the mail a second time. A ``transactional`` message (a
receipt, a password reset) is the exception: one arriving twice does less harm
than one never arriving, so it is sent again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from markupsafe import escape
from msgspec.structs import replace

from journeyflow.errors import JourneyError
from journeyflow.runtime.channels import DeliveryFailed, DeliveryRefused
from journeyflow.runtime.message_texts import MessageTexts, RenderFailure
from journeyflow.runtime.outbox import (
    DEAD,
    HAND_OVER_CLAIM,
    PENDING,
    SENDING,
    SENT,
    KeyedDelivery,
    KeyedNotification,
    Outbox,
    OutboxRow,
    notify_handlers,
)
from journeyflow.runtime.timeutil import to_datetime

if TYPE_CHECKING:
    from journeyflow.runtime.program import Program

__all__ = ["ChannelPolicy", "DeliveryLoop", "check_channels"]

log = logging.getLogger("journeyflow.delivery")
Handler = Callable[[Any], object]


@dataclass(frozen=True)
class ChannelPolicy:
    """How hard to try one channel: ``attempts`` in all, the first retry after ``backoff``
    seconds and each later one after twice the previous wait."""

    attempts: int = 3
    backoff: float = 1.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a channel needs at least one attempt")
        if self.backoff < 0:
            raise ValueError("backoff cannot be negative")


def check_channels(program: Program, handlers: Mapping[str, Handler | None]) -> None:
    """Every channel the journey sends on, and every notify handler, needs a handler.

    A missing one is a configuration error at start, not deliveries dropped later.
    """
    needed = set(program.channels.values()) | notify_handlers(program.model)
    missing = sorted(needed - set(handlers))
    if missing:
        names = ", ".join(f"'{name}'" for name in missing)
        raise JourneyError(
            f"journey '{program.name}' delivers on {names} but no handler is configured for "
            f"{'it' if len(missing) == 1 else 'them'}; give every channel a handler "
            "(on the command line: --channel NAME=smtp://HOST:PORT, =http://URL or =trace)")


class DeliveryLoop:
    """Sends due outbox rows through their channel's handler."""

    def __init__(self, program: Program, outbox: Outbox, handlers: Mapping[str, Handler],
                 policies: Mapping[str, ChannelPolicy] | None = None,
                 record: Callable[[tuple[float | None, str | None, str, dict[str, Any]]],
                                  object] | None = None,
                 now: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.program = program
        self.outbox = outbox
        self.handlers = dict(handlers)
        self.policies = dict(policies or {})
        self.record = record
        self.now = now
        self.sleep = sleep
        self.counts: dict[str, int] = {SENT: 0, "failed": 0, DEAD: 0}
        self._message_texts: dict[str, tuple[MessageTexts, MessageTexts | None]] = {}

    def policy(self, channel: str) -> ChannelPolicy:
        return self.policies.get(channel) or self.policies.get("*") or ChannelPolicy()

    def run_due(self, limit: int = 1000) -> int:
        """Attempt every row due now (up to ``limit``); the number attempted."""
        rows = self.outbox.due(self.now(), limit)
        for row in rows:
            self.attempt(row)
        return len(rows)

    def drain(self, timeout: float | None = None) -> bool:
        """Deliver until nothing is pending (waiting out backoffs); False on timeout."""
        deadline = None if timeout is None else self.now() + timeout
        while True:
            while self.run_due():
                pass
            upcoming = self.outbox.next_due()
            if upcoming is None:
                return True
            now = self.now()
            if deadline is not None and upcoming > deadline:
                return False
            self.sleep(max(0.0, min(upcoming - now, 1.0)))

    def attempt(self, row: OutboxRow) -> None:
        if row.status == SENDING:
            if not self._transactional(row):
                self._settle_unconfirmed(row)
                return
            row.status = PENDING  # sent again: better twice than never
        row.attempts += 1
        handler = self.handlers.get(row.channel)
        error: str | None = None
        final = False
        try:
            if handler is None:
                raise DeliveryRefused(f"no handler for channel '{row.channel}'")
            payload = self._payload(row)
            hand_over = getattr(handler, "hand_over", None)
            if hand_over is not None:
                hand_over(payload, lambda: self._hand_over(row))
            else:
                handler(payload)
        except DeliveryRefused as exc:
            error, final = str(exc) or type(exc).__name__, True
        except DeliveryFailed as exc:
            error = str(exc) or type(exc).__name__
        except Exception as exc:  # noqa: BLE001 - any failure of a channel is retried
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        self._settle(row, error, final)

    def _hand_over(self, row: OutboxRow) -> None:
        """Commit the row ``sending``: the channel is about to let the delivery go."""
        row.status, row.next_at = SENDING, self.now() + HAND_OVER_CLAIM
        self.outbox.record_attempt(row, None)

    def _settle(self, row: OutboxRow, error: str | None, final: bool) -> None:
        policy = self.policy(row.channel)
        if error is None:
            row.status, row.error = SENT, None
            status = SENT
        elif final or row.attempts >= policy.attempts:
            row.status, row.error = DEAD, error
            status = DEAD
        else:
            # The server answered with a refusal after the hand-over, so it has not
            # taken the mail: trying again cannot deliver it twice.
            row.status, row.error = PENDING, error
            row.next_at = self.now() + policy.backoff * 2 ** (row.attempts - 1)
            status = "failed"
        if status != SENT:
            log.warning("delivery %s to %s on %s: %s (attempt %d)", status, row.customer,
                        row.channel, error, row.attempts)
        self._record(row, status, {} if error is None else {"error": error})

    def _transactional(self, row: OutboxRow) -> bool:
        if row.kind != "send":
            return False
        message = self.program.model.messages.get(row.fields["message"])
        return message is not None and message.transactional

    def _settle_unconfirmed(self, row: OutboxRow) -> None:
        """A row a process handed over and died before recording the server's answer.

        The server was given the whole mail, so it most likely took it; sending it
        again could deliver it twice, so it counts as sent, and its record says so.
        """
        row.status, row.error = SENT, None
        log.warning("delivery to %s on %s handed over by a process that stopped before the "
                    "server answered: counted as sent, not sent again", row.customer,
                    row.channel)
        self._record(row, SENT, {"unconfirmed": "the process stopped before the server "
                                                "answered; not sent again"})

    def _record(self, row: OutboxRow, status: str, extra: dict[str, Any]) -> None:
        """Save the attempt and its ``delivery`` trace record."""
        self.counts[status] += 1
        fields: dict[str, Any] = {"channel": row.channel, "status": status,
                                  "attempt": row.attempts, "key": row.key}
        if row.kind == "send":
            fields["message"] = row.fields["message"]
        else:
            fields["notify"] = row.channel
        fields.update(extra)
        record = (row.at, row.customer, "delivery", fields)
        self.outbox.record_attempt(row, _record_dict(record))
        self._trace(record)
        assert row.status in (PENDING, SENT, DEAD)

    def _trace(self, record: tuple[float | None, str | None, str, dict[str, Any]]) -> None:
        if self.record is not None:
            self.record(record)

    def _payload(self, row: OutboxRow) -> KeyedDelivery | KeyedNotification:
        at = to_datetime(row.at)
        if row.kind == "notify":
            return KeyedNotification(customer=row.customer, handler=row.channel, at=at,
                                     data=row.fields, key=row.key)
        fields = row.fields
        context = row.context or {}
        texts, plain = self._texts(fields["message"])
        try:
            subject, body = texts.render(context)
            html = text = None
            if plain is not None:  # an HTML template: the HTML part, values escaped
                html = texts.render(_escaped(context))[1]
                text = plain.render(context)[1] or subject
        except RenderFailure as failure:
            self._trace((row.at, row.customer, "error", {
                "reason": failure.reason, "message": fields["message"],
                "source": failure.source, "stage": fields.get("stage")}))
            raise DeliveryRefused(f"{failure.source}: {failure.reason}") from None
        return KeyedDelivery(
            customer=row.customer, message=fields["message"], channel=row.channel, at=at,
            action=fields.get("action", "send"), offer=fields.get("offer"),
            item=fields.get("item"), subject=subject, body=body, context=context,
            key=row.key, html=html, text=text)

    def _texts(self, message: str) -> tuple[MessageTexts, MessageTexts | None]:
        """The message's texts in the journey as it runs now (not as it was at the step),
        and for an HTML template, the plain ``body`` beside it."""
        cached = self._message_texts.get(message)
        if cached is None:
            msg = self.program.model.messages.get(message)
            if msg is None:
                raise DeliveryRefused(f"message '{message}' is not in the journey any more")
            plain = None
            if msg.template and msg.template.lower().endswith((".html", ".htm")):
                plain = MessageTexts(self.program.model, replace(msg, template=None))
            cached = self._message_texts[message] = (MessageTexts(self.program.model, msg), plain)
        return cached


def _escaped(value: Any) -> Any:
    """Every text in a template context made safe to place in HTML."""
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, Mapping):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_escaped(v) for v in value]
    return value


def _record_dict(record: tuple[float | None, str | None, str, dict[str, Any]]) -> dict[str, Any]:
    from journeyflow.runtime.trace import record_to_dict

    return record_to_dict(record)
