"""Where actions leave the journey: the executor protocol and pluggable channels.

The interpreter always records actions in the trace; an executor additionally
hands each delivery and ``notify`` to the embedding (a mail server, a CRM...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from journeyflow.compile.templates import environment, template_path
from journeyflow.runtime.timeutil import to_datetime

if TYPE_CHECKING:
    from journeyflow.runtime.program import Program
    from journeyflow.runtime.state import Customer

__all__ = ["ActionExecutor", "ChannelExecutor", "Delivery", "Notification"]


@dataclass(frozen=True)
class Delivery:
    """One message delivered to one customer, with its texts rendered on demand."""

    customer: str
    message: str
    channel: str
    at: datetime
    action: str  # send or offer
    offer: str | None
    item: str | None
    context: Mapping[str, Any] = field(repr=False)
    templates: Mapping[str, str] = field(repr=False)

    def render(self, part: str) -> str:
        """Render ``subject``, ``body`` or ``template`` in the sandbox ('' if absent)."""
        text = self.templates.get(part)
        if text is None:
            return ""
        return environment().from_string(text).render(self.context)

    @property
    def subject(self) -> str:
        return self.render("subject")

    @property
    def body(self) -> str:
        return self.render("template") or self.render("body")


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
    handler are recorded in the trace only.
    """

    def __init__(self, channels: Mapping[str, Callable[[Any], object]]) -> None:
        self.channels = dict(channels)
        self._templates: dict[str, dict[str, str]] = {}

    def _message_templates(self, program: Program, message: str) -> dict[str, str]:
        cached = self._templates.get(message)
        if cached is None:
            msg = program.model.messages[message]
            cached = {k: v for k, v in (("subject", msg.subject), ("body", msg.body)) if v}
            if msg.template:
                cached["template"] = template_path(program.model.file, msg.template).read_text(
                    "utf-8")
            self._templates[message] = cached
        return cached

    def deliver(self, program: Program, c: Customer, t: float, fields: Mapping[str, Any],
                event: Mapping[str, Any]) -> None:
        handler = self.channels.get(fields["channel"])
        if handler is None:
            return
        handler(Delivery(
            customer=c.id, message=fields["message"], channel=fields["channel"],
            at=to_datetime(t), action=fields["action"], offer=fields.get("offer"),
            item=fields.get("item"), context=template_context(program, c, event),
            templates=self._message_templates(program, fields["message"])))

    def notify(self, program: Program, c: Customer, t: float, handler: str,
               data: Mapping[str, Any]) -> None:
        func = self.channels.get(handler)
        if func is not None:
            func(Notification(customer=c.id, handler=handler, at=to_datetime(t), data=data))
