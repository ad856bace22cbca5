"""Channel handlers from command-line specs: ``NAME=smtp://HOST:PORT``, ``NAME=https://URL``
or ``NAME=trace``, with ``attempts`` and ``backoff`` as query options.

>>> spec = parse_channel("email=smtp://localhost:1025?from=shop@example.org&attempts=5")
>>> spec.name, spec.handler.port, spec.handler.sender, spec.policy.attempts
('email', 1025, 'shop@example.org', 5)
>>> parse_channel("push=trace").handler is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from journeyflow.runtime.channels import SmtpChannel, WebhookChannel
from journeyflow.runtime.delivery_loop import ChannelPolicy

__all__ = ["ChannelSpec", "ChannelSpecError", "channel_specs", "parse_channel", "smtp_spec"]


class ChannelSpecError(ValueError):
    """A channel spec that cannot be used, with what to write instead."""


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    handler: Any  # None: recorded in the trace only
    policy: ChannelPolicy


def smtp_spec(address: str, sender: str) -> str:
    """``--smtp HOST:PORT`` as a channel spec for ``email``."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ChannelSpecError("use HOST:PORT, e.g. localhost:1025")
    return f"email=smtp://{host}:{port}?from={sender}"


def parse_channel(text: str) -> ChannelSpec:
    name, sep, target = text.partition("=")
    if not sep or not name.strip() or not target.strip():
        raise ChannelSpecError(f"'{text}': use NAME=smtp://HOST:PORT, NAME=https://URL or "
                               "NAME=trace")
    name, target = name.strip(), target.strip()
    if target == "trace":
        return ChannelSpec(name, None, ChannelPolicy())
    parts = urlsplit(target)
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    policy = _policy(options, text)
    if parts.scheme == "smtp":
        if not parts.hostname or parts.port is None:
            raise ChannelSpecError(f"'{text}': an SMTP channel needs smtp://HOST:PORT")
        handler: Any = SmtpChannel(
            host=parts.hostname, port=parts.port,
            sender=options.get("from", "journeys@localhost"),
            starttls=options.get("starttls") == "1",
            username=parts.username, password=parts.password,
            timeout=float(options.get("timeout", 10)),
            unsubscribe_url=options.get("unsubscribe"))
    elif parts.scheme in ("http", "https"):
        kept = {k: v for k, v in options.items()
                if k not in ("attempts", "backoff", "timeout", "secret")}
        query = "&".join(f"{k}={v}" for k, v in kept.items())
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
        handler = WebhookChannel(url, timeout=float(options.get("timeout", 10)),
                                 secret=options.get("secret"))
    else:
        raise ChannelSpecError(f"'{text}': unknown channel kind '{parts.scheme or target}'; "
                               "use smtp://, http(s):// or trace")
    return ChannelSpec(name, handler, policy)


def _policy(options: dict[str, str], text: str) -> ChannelPolicy:
    try:
        return ChannelPolicy(attempts=int(options.get("attempts", 3)),
                             backoff=float(options.get("backoff", 1.0)))
    except ValueError as exc:
        raise ChannelSpecError(f"'{text}': {exc}") from None


def channel_specs(texts: tuple[str, ...], smtp: str | None, sender: str) -> list[ChannelSpec]:
    """The ``--channel`` texts of a command, with ``--smtp`` as the email channel first;
    a bad one is a usage error naming the options."""
    import click

    given = list(texts)
    try:
        if smtp is not None:
            given.insert(0, smtp_spec(smtp, sender))
        return [parse_channel(text) for text in given]
    except ChannelSpecError as exc:
        raise click.BadParameter(str(exc), param_hint="--channel/--smtp") from None
