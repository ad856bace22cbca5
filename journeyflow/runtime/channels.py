"""Ready-made channel handlers: mail over SMTP, JSON to a webhook.

Register them by channel name: ``Engine(journey, channels={"email": SmtpChannel(...)})``
or, from the command line, ``journeyflow run ... --smtp localhost:1025``.

A handler returns when the delivery went out and raises when it did not: an ordinary
exception is a failure worth retrying (server down, slow, answering 5xx), while
:class:`DeliveryRefused` means retrying cannot help (no valid address, a 4xx answer).
Every delivery carries an idempotency key, the same on every attempt: the mail's
``Message-ID`` and the webhook's ``Idempotency-Key`` header are made from it, so a
receiver can drop a delivery it has already seen.

Mail is also handed over in two steps: :meth:`SmtpChannel.hand_over` sends the whole
message but its last line (the lone ``.`` that makes the server take it), lets the
caller commit, and only then sends that line. A process killed before the commit
has given the server a message it throws away (a transaction without its end);
killed after it, the store already says the mail was handed over, and it is not sent
again. So a crash does not make the same mail arrive twice (docs/live.md says what
that trades, and why a transactional mail is sent again all the same).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import smtplib
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import getaddresses
from typing import Any

__all__ = ["DeliveryFailed", "DeliveryRefused", "SmtpChannel", "WebhookChannel", "clean_header",
           "one_address"]


class DeliveryRefused(Exception):
    """A delivery that cannot succeed however often it is tried."""


class DeliveryFailed(Exception):
    """A delivery that did not go out this time; trying again later may help."""


_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_SIMPLE_ADDRESS = re.compile(r"[^@\s,;<>()\[\]\\\"]+@[^@\s,;<>()\[\]\\\"]+\.[^@\s,;<>()\[\]\\\"]+")
MAX_HEADER = 900  # below the 998 characters a mail line may have
# Long headers (List-Unsubscribe) stay on one line rather than folded into encoded words.
MAIL_POLICY = default_policy.clone(max_line_length=998)


def clean_header(value: object) -> str:
    """A header value with no line breaks or control characters (they would start new
    headers), runs of white space made one, and at most ``MAX_HEADER`` characters.

    >>> clean_header("Hi\\r\\nBcc: x@evil.example")
    'Hi Bcc: x@evil.example'
    """
    text = " ".join(_CONTROL.sub(" ", str(value)).split())
    return text[:MAX_HEADER]


def one_address(value: object) -> str:
    """``value`` as exactly one plain mail address, or :class:`DeliveryRefused`.

    A list (``a@x.org, b@y.org``), a display name, a line break or anything that is not
    ``local@domain.tld`` is refused: an attribute must never add recipients.

    >>> one_address(" ana@example.org ")
    'ana@example.org'
    >>> one_address("victim@example.org, attacker@evil.example")
    Traceback (most recent call last):
    ...
    journeyflow.runtime.channels.DeliveryRefused: not exactly one mail address: ...
    """
    if not isinstance(value, str) or not value.strip():
        raise DeliveryRefused("the customer has no mail address")
    text = value.strip()
    shown = clean_header(text)[:80]
    if _CONTROL.search(value) or not _SIMPLE_ADDRESS.fullmatch(text):
        raise DeliveryRefused(f"not exactly one mail address: {shown!r}")
    pairs = getaddresses([text])
    if len(pairs) != 1 or pairs[0][0] or pairs[0][1] != text:
        raise DeliveryRefused(f"not exactly one mail address: {shown!r}")
    try:
        Address(addr_spec=text)
    except (ValueError, IndexError) as exc:
        raise DeliveryRefused(f"not a valid mail address: {shown!r} ({exc})") from None
    return text


_LEADING_DOT = re.compile(rb"(?m)^\.")


class _HandOverSMTP(smtplib.SMTP):
    """An SMTP client whose ``DATA`` holds back the final ``.`` line until
    :attr:`before_end` has run (RFC 5321 section 4.1.1.4: the server takes the mail
    only when that line arrives)."""

    before_end: Callable[[], object] | None = None
    handed_over = False

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        if isinstance(msg, str):
            msg = msg.encode("ascii")
        # Dot-stuffing, as smtplib does; the message is flattened with CRLF line ends.
        body = _LEADING_DOT.sub(b"..", msg)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        self.send(body)
        if self.before_end is not None:
            self.before_end()
        self.handed_over = True
        self.send(b".\r\n")
        return self.getreply()


def _key(delivery: Any) -> str:
    """The delivery's idempotency key; one derived from its content when it has none."""
    key = getattr(delivery, "key", "")
    if key:
        return str(key)
    text = f"{delivery.customer}\x1f{getattr(delivery, 'message', '')}\x1f{delivery.at}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass
class SmtpChannel:
    """Sends each delivery as a mail to the customer's ``email`` attribute.

    The mail has a ``Message-ID`` made from the delivery's idempotency key, a
    ``List-Unsubscribe`` header (``unsubscribe_url`` and/or a mailto address;
    ``List-Unsubscribe-Post`` for one-click when the URL is https), and an HTML
    alternative when the delivery has one (a message whose template is an ``.html``
    file). ``{customer}``, ``{message}`` and ``{key}`` in ``unsubscribe_url`` are filled
    in, URL-quoted.
    One connection is opened lazily and kept; :meth:`close` ends it.
    """

    host: str = "localhost"
    port: int = 25
    sender: str = "journeys@localhost"
    address_attribute: str = "email"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0
    unsubscribe_url: str | None = None
    unsubscribe_mailto: str | None = None
    sent: int = 0
    refused: int = 0
    _smtp: _HandOverSMTP | None = field(default=None, repr=False)

    def __call__(self, delivery: Any) -> None:
        self.hand_over(delivery, None)

    def hand_over(self, delivery: Any, commit: Callable[[], object] | None) -> None:
        """Send ``delivery``, calling ``commit`` when only the mail's final line is left
        to send: after ``commit`` returns, the mail is the server's."""
        customer = delivery.context.get("customer", {})
        raw = customer.get(self.address_attribute) if isinstance(customer, dict) else None
        try:
            to = one_address(raw)
        except DeliveryRefused:
            self.refused += 1
            raise
        mail = self.compose(delivery, to)
        self._send(mail, commit)
        self.sent += 1

    def compose(self, delivery: Any, to: str) -> EmailMessage:
        key = _key(delivery)
        domain = self.sender.rpartition("@")[2] or "localhost"
        mail = EmailMessage(policy=MAIL_POLICY)
        mail["From"] = clean_header(self.sender)
        mail["To"] = to
        mail["Subject"] = clean_header(delivery.subject or delivery.message)
        mail["Message-ID"] = f"<{key}@{clean_header(domain)}>"
        mail["X-Journey-Message"] = clean_header(delivery.message)
        self._unsubscribe(mail, delivery, key, domain)
        html = getattr(delivery, "html", None)
        text = getattr(delivery, "text", None) if html else None
        mail.set_content(text or delivery.body or delivery.subject or delivery.message)
        if html:
            mail.add_alternative(html, subtype="html")
        return mail

    def _unsubscribe(self, mail: EmailMessage, delivery: Any, key: str, domain: str) -> None:
        targets = []
        if self.unsubscribe_url:
            quote = urllib.parse.quote
            url = self.unsubscribe_url.format(customer=quote(str(delivery.customer), safe=""),
                                              message=quote(str(delivery.message), safe=""),
                                              key=key)
            targets.append(f"<{clean_header(url)}>")
        mailto = self.unsubscribe_mailto or f"unsubscribe@{domain}"
        targets.append(f"<mailto:{clean_header(mailto)}?subject=unsubscribe%20{key}>")
        mail["List-Unsubscribe"] = ", ".join(targets)
        if self.unsubscribe_url and self.unsubscribe_url.lower().startswith("https://"):
            mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"

    def _send(self, mail: EmailMessage, commit: Callable[[], object] | None) -> None:
        try:
            self._transmit(mail, commit)
        except smtplib.SMTPServerDisconnected:
            if self._smtp is not None and self._smtp.handed_over:
                self.close()
                raise  # after the hand-over: the server may have the mail, never resent here
            self._smtp = None  # the server dropped a kept connection: one fresh try
            self._transmit(mail, commit)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryRefused(f"the server refused the recipient: {exc.recipients}") from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            if 500 <= exc.smtp_code < 600:
                raise DeliveryRefused(f"the server refused the mail: {exc.smtp_code} "
                                      f"{exc.smtp_error!r}") from None
            raise
        except OSError:
            self.close()
            raise

    def _transmit(self, mail: EmailMessage, commit: Callable[[], object] | None) -> None:
        smtp = self._connection()
        smtp.before_end, smtp.handed_over = commit, False
        try:
            smtp.send_message(mail)
        except (smtplib.SMTPException, OSError):
            raise
        except BaseException:
            # The commit failed in the middle of DATA: dropping the connection (no QUIT,
            # which the server would read as part of the mail) makes it discard the mail.
            self._smtp = None
            smtp.close()
            raise
        finally:
            smtp.before_end = None

    def _connection(self) -> _HandOverSMTP:
        if self._smtp is None:
            smtp = _HandOverSMTP(self.host, self.port, timeout=self.timeout)
            if smtp.sock is not None:
                # The last line of a mail is a small write right behind a large one:
                # Nagle's algorithm would hold it until the server's delayed ACK (40 ms).
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            self._smtp = smtp
        return self._smtp

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


@dataclass
class WebhookChannel:
    """POSTs each delivery (or notification) as JSON to ``url``.

    Headers: ``Idempotency-Key`` (the delivery's key), and with a ``secret``,
    ``X-Journeyflow-Timestamp`` and ``X-Journeyflow-Signature: sha256=HEX``, the
    HMAC-SHA256 of ``TIMESTAMP.BODY``. A 2xx answer is success; 408, 429, 5xx, a
    timeout or a refused connection raise (retried); any other answer is refused
    for good. ``opener`` is injectable for tests.
    """

    url: str
    timeout: float = 10.0
    secret: str | None = None
    opener: Callable[..., Any] = urllib.request.urlopen
    now: Callable[[], float] = time.time

    def __call__(self, delivery: Any) -> None:
        body = json.dumps(self.payload(delivery), ensure_ascii=False, default=str).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": _key(delivery),
                   "User-Agent": "journeyflow"}
        if self.secret is not None:
            stamp = str(int(self.now()))
            digest = hmac.new(self.secret.encode(), stamp.encode() + b"." + body,
                              hashlib.sha256).hexdigest()
            headers["X-Journeyflow-Timestamp"] = stamp
            headers["X-Journeyflow-Signature"] = f"sha256={digest}"
        request = urllib.request.Request(self.url, data=body, method="POST", headers=headers)
        try:
            with self.opener(request, timeout=self.timeout):
                pass
        except urllib.error.HTTPError as exc:
            if exc.code in (408, 429) or exc.code >= 500:
                raise DeliveryFailed(f"the webhook answered {exc.code} {exc.reason}") from None
            raise DeliveryRefused(f"the webhook answered {exc.code} {exc.reason}") from None

    @staticmethod
    def payload(delivery: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"customer": delivery.customer, "at": delivery.at.isoformat(),
                               "key": _key(delivery)}
        if hasattr(delivery, "message"):
            out.update(message=delivery.message, channel=delivery.channel,
                       subject=delivery.subject, body=delivery.body)
        else:
            out.update(notify=delivery.handler, data=dict(delivery.data))
        return out
