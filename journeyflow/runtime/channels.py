"""Ready-made channel handlers: mail over SMTP, JSON to a webhook.

Register them by channel name: ``Engine(journey, channels={"email": SmtpChannel(...)})``
or, from the command line, ``journeyflow run ... --smtp localhost:1025``.
"""

from __future__ import annotations

import json
import smtplib
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from journeyflow.runtime.executor import Delivery

__all__ = ["SmtpChannel", "WebhookChannel"]


@dataclass
class SmtpChannel:
    """Sends each delivery as a plain-text mail to the customer's ``email`` attribute.

    One connection is opened lazily and kept for the batch; :meth:`close` ends it.
    A customer without an address is skipped and counted in :attr:`skipped`.
    """

    host: str = "localhost"
    port: int = 25
    sender: str = "journeys@localhost"
    address_attribute: str = "email"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    sent: int = 0
    skipped: int = 0
    _smtp: smtplib.SMTP | None = field(default=None, repr=False)

    def __call__(self, delivery: Delivery) -> None:
        customer = delivery.context.get("customer", {})
        to = customer.get(self.address_attribute) if isinstance(customer, dict) else None
        if not to:
            self.skipped += 1
            return
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = str(to)
        mail["Subject"] = delivery.subject or delivery.message
        mail["X-Journey-Message"] = delivery.message
        mail.set_content(delivery.body or delivery.subject or delivery.message)
        self._connection().send_message(mail)
        self.sent += 1

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = smtplib.SMTP(self.host, self.port, timeout=30)
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            self._smtp = smtp
        return self._smtp

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except smtplib.SMTPException:
                self._smtp.close()
            self._smtp = None


@dataclass
class WebhookChannel:
    """POSTs each delivery as JSON to ``url`` (``opener`` is injectable for tests)."""

    url: str
    timeout: float = 10.0
    opener: Callable[..., Any] = urllib.request.urlopen

    def __call__(self, delivery: Delivery) -> None:
        body = json.dumps({
            "customer": delivery.customer, "message": delivery.message,
            "channel": delivery.channel, "at": delivery.at.isoformat(),
            "subject": delivery.subject, "body": delivery.body,
        }).encode()
        request = urllib.request.Request(self.url, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with self.opener(request, timeout=self.timeout):
            pass
