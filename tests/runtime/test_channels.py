"""Channels against real peers: an SMTP server (aiosmtpd) on localhost."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

import journeyflow
from journeyflow.cli import main
from journeyflow.runtime.channels import SmtpChannel, WebhookChannel

JOURNEY = """journey "mail"
customer { email: text?  first_name: text = "du" }
event signed_up {}
message welcome via email {
  subject "Willkommen, {{ customer.first_name }}!"
  body "Schön, dass du da bist."
}
stage new start { on signed_up { send welcome } }
"""


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_engine_sends_real_mail(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    mailer = SmtpChannel(host="127.0.0.1", port=port, sender="shop@example.org")
    engine = journeyflow.Engine(journeyflow.loads(JOURNEY), channels={"email": mailer})
    engine.handle({"at": "2026-01-01T10:00:00Z", "customer": "c1", "event": "signed_up",
                   "attributes": {"email": "ana@example.org", "first_name": "Ana"}})
    engine.handle({"at": "2026-01-01T10:00:00Z", "customer": "c2", "event": "signed_up"})
    mailer.close()
    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    assert mail["To"] == "ana@example.org"
    assert mail["Subject"] == "Willkommen, Ana!"
    assert "Schön, dass du da bist." in mail.get_payload(decode=True).decode()
    assert mailer.skipped == 1  # c2 has no address: skipped, and still in the trace
    assert [r["customer"] for r in engine.trace if r["kind"] == "action"] == ["c1", "c2"]


def test_run_delivers_over_smtp(smtp_server: tuple[Inbox, int], tmp_path: Path,
                                runner: CliRunner) -> None:
    inbox, port = smtp_server
    journey = tmp_path / "mail.journey"
    journey.write_text(JOURNEY, "utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"at": "2026-01-01T10:00:00Z", "customer": "c1",
                                  "event": "signed_up",
                                  "attributes": {"email": "ben@example.org"}}) + "\n")
    result = runner.invoke(main, ["run", str(journey), "--events", str(events),
                                  "--smtp", f"127.0.0.1:{port}", "--state", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert "1 mails sent" in result.output
    assert [m["To"] for m in inbox.messages] == ["ben@example.org"]


def test_webhook_posts_json_to_a_real_server() -> None:
    received: list[Any] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server protocol
            length = int(self.headers["Content-Length"])
            received.append((self.path, json.loads(self.rfile.read(length))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        hook = WebhookChannel(f"http://127.0.0.1:{server.server_port}/hook")
        engine = journeyflow.Engine(
            journeyflow.loads(JOURNEY.replace("via email", "via webhook")),
            channels={"webhook": hook})
        engine.handle({"at": "2026-01-01T10:00:00Z", "customer": "c1", "event": "signed_up"})
    finally:
        server.shutdown()
        server.server_close()
    assert received[0][0] == "/hook"
    assert received[0][1]["subject"] == "Willkommen, du!"
    assert received[0][1]["customer"] == "c1"
