"""Where actions leave the journey: the executor protocol and pluggable channels.

The interpreter always records actions in the trace; an executor additionally
hands each delivery and ``notify`` to the embedding (a mail server, a CRM...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from journeyflow.runtime.timeutil import to_datetime
from journeyflow.runtime.trace import TraceRecord

if TYPE_CHECKING:
    from journeyflow.runtime.message_texts import MessageTexts
    from journeyflow.runtime.program import Program
    from journeyflow.runtime.state import Customer

__all__ = ["ActionExecutor", "ChannelExecutor", "Delivery", "Notification", "template_context"]


@dataclass(frozen=True)
class Delivery:
    """One message delivered to one customer, its subject and body already rendered."""

    customer: str
    message: str
    channel: str
    at: datetime
    action: str  # send or offer
    offer: str | None
    item: str | None
    subject: str
    body: str
    context: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Notification:
    customer: str
    handler: str
    at: datetime
    data: Mapping[str, Any]


class ActionExecutor(Protocol):
    def deliver(self, program: Program, c: Customer, t: float, fields: Mapping[str, Any],
                event: Mapping[str, Any]) -> None: ...

    def notify(self, program: Program, c: Customer, t: float, handler: str,
               data: Mapping[str, Any]) -> None: ...


def template_context(program: Program, c: Customer, event: Mapping[str, Any]) -> dict[str, Any]:
    """``customer``, ``event`` and ``bonus`` as templates see them (dates as datetimes)."""
    dates = program.date_attributes
    customer = {k: (to_datetime(v) if k in dates and isinstance(v, float) else v)
                for k, v in c.attrs.items()}
    customer["id"] = c.id
    name = event.get("bonus") if isinstance(event.get("bonus"), str) else None
    if name is None and c.bonuses:
        name = next(reversed(c.bonuses))
    held = c.bonuses.get(name) if name else None
    bonus = {"name": name, "value": held.value if held else None,
             "expires": to_datetime(held.expires) if held else None}
    return {"customer": customer, "event": dict(event), "bonus": bonus}


class ChannelExecutor:
    """Calls the handler registered for a delivery's channel (or ``notify`` handler).

    Handlers take a :class:`Delivery` (or :class:`Notification`). Channels without a
    handler are recorded in the trace only, and their messages are not rendered.
    A message that fails to render is not handed over: an ``error`` record in
    ``records`` (the engine's trace) says which message, where it is declared and
    why, and the customer goes on.
    """

    def __init__(self, channels: Mapping[str, Callable[[Any], object]],
                 records: list[TraceRecord] | None = None) -> None:
        self.channels = dict(channels)
        self.records: list[TraceRecord] = [] if records is None else records
        self._texts: dict[str, MessageTexts] = {}

    def texts(self, program: Program, message: str) -> MessageTexts:
        """The compiled subject and body of ``message`` (read and compiled once)."""
        texts = self._texts.get(message)
        if texts is None:
            from journeyflow.runtime.message_texts import MessageTexts  # Jinja2: when used

            texts = self._texts[message] = MessageTexts(program.model,
                                                        program.model.messages[message])
        return texts

    def deliver(self, program: Program, c: Customer, t: float, fields: Mapping[str, Any],
                event: Mapping[str, Any]) -> None:
        handler = self.channels.get(fields["channel"])
        if handler is None:
            return
        from journeyflow.runtime.message_texts import RenderFailure

        context = template_context(program, c, event)
        try:
            subject, body = self.texts(program, fields["message"]).render(context)
        except RenderFailure as failure:
            self.records.append((t, c.id, "error", {
                "reason": failure.reason, "message": fields["message"],
                "source": failure.source, "stage": program.stage_names[c.stage]}))
            return
        handler(Delivery(
            customer=c.id, message=fields["message"], channel=fields["channel"],
            at=to_datetime(t), action=fields["action"], offer=fields.get("offer"),
            item=fields.get("item"), subject=subject, body=body, context=context))

    def notify(self, program: Program, c: Customer, t: float, handler: str,
               data: Mapping[str, Any]) -> None:
        func = self.channels.get(handler)
        if func is not None:
            func(Notification(customer=c.id, handler=handler, at=to_datetime(t), data=data))
