"""Channels against real peers: an SMTP server (aiosmtpd) and an HTTP server on localhost."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import journeyflow
from journeyflow.cli import main
from journeyflow.runtime.channels import (
    DeliveryRefused,
    SmtpChannel,
    WebhookChannel,
    clean_header,
    one_address,
)
from journeyflow.runtime.delivery_loop import ChannelPolicy
from tests.peers import Hook, Inbox, free_port

JOURNEY = """journey "mail"
customer { email: text?  first_name: text = "du" }
event signed_up {}
message welcome via email {
  subject "Willkommen, {{ customer.first_name }}!"
  body "Schön, dass du da bist."
}
stage new start { on signed_up { send welcome } }
"""
FAST = {"*": ChannelPolicy(attempts=3, backoff=0.01)}


def deliveries(engine: journeyflow.Engine) -> list[tuple[str, str, int]]:
    return [(r["customer"], r["status"], r["attempt"]) for r in engine.trace
            if r["kind"] == "delivery"]


def test_engine_sends_real_mail(smtp_sink: tuple[Inbox, int]) -> None:
    inbox, port = smtp_sink
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
    key = next(r["key"] for r in engine.trace if r["kind"] == "delivery")
    assert mail["Message-ID"] == f"<{key}@example.org>"
    assert mail["List-Unsubscribe"] == (
        f"<mailto:unsubscribe@example.org?subject=unsubscribe%20{key}>")
    assert mail["List-Unsubscribe-Post"] is None  # one-click needs an https URL
    # c2 has no address: refused for good (not retried), recorded, and the step stands
    assert deliveries(engine) == [("c1", "sent", 1), ("c2", "dead", 1)]
    dead = [r for r in engine.trace if r["kind"] == "delivery"][1]
    assert dead["error"] == "the customer has no mail address"
    assert [r["customer"] for r in engine.trace if r["kind"] == "action"] == ["c1", "c2"]


def test_an_attribute_never_adds_recipients(smtp_sink: tuple[Inbox, int]) -> None:
    inbox, port = smtp_sink
    mailer = SmtpChannel(host="127.0.0.1", port=port, sender="shop@example.org")
    engine = journeyflow.Engine(journeyflow.loads(JOURNEY), channels={"email": mailer})
    bad = ["victim@example.org, attacker@evil.example", "Ana <ana@example.org>",
           "ana@example.org\r\nBcc: attacker@evil.example", "not-an-address"]
    for i, address in enumerate(bad):
        result = engine.handle({"at": "2026-01-01T10:00:00Z", "customer": f"c{i}",
                                "event": "signed_up", "attributes": {"email": address}})
        assert result.accepted  # the run goes on
    engine.handle({"at": "2026-01-01T10:00:00Z", "customer": "ok", "event": "signed_up",
                   "attributes": {"email": "ok@example.org",
                                  "first_name": "Ana\r\nBcc: attacker@evil.example"}})
    mailer.close()
    assert inbox.recipients == [["ok@example.org"]]
    assert inbox.messages[0]["Subject"] == "Willkommen, Ana Bcc: attacker@evil.example!"
    assert inbox.messages[0]["Bcc"] is None
    assert [status for _, status, _ in deliveries(engine)] == ["dead"] * 4 + ["sent"]


def test_address_and_header_rules() -> None:
    assert one_address("a.b+c@ex-ample.co.uk") == "a.b+c@ex-ample.co.uk"
    for bad in ["", None, 42, "a@b", "a@@b.org", "a@b.org;c@d.org", "<a@b.org>",
                "a b@c.org", "a@b.org\n"]:
        with pytest.raises(DeliveryRefused):
            one_address(bad)
    assert clean_header("a\tb\x00c\r\n d") == "a b c d"
    assert len(clean_header("x" * 5000)) == 900


def test_html_template_makes_a_multipart_mail(smtp_sink: tuple[Inbox, int],
                                              tmp_path: Path) -> None:
    inbox, port = smtp_sink
    (tmp_path / "welcome.html").write_text(
        "<p>Hallo {{ customer.first_name }}</p>", "utf-8")
    source = JOURNEY.replace('body "Schön, dass du da bist."',
                             'body "Hallo"\n  template "welcome.html"')
    journey_file = tmp_path / "mail.journey"
    journey_file.write_text(source, "utf-8")
    mailer = SmtpChannel(host="127.0.0.1", port=port, sender="shop@example.org",
                         unsubscribe_url="https://shop.example/u?c={customer}&k={key}")
    engine = journeyflow.Engine(journeyflow.load(journey_file), channels={"email": mailer})
    engine.handle({"at": "2026-01-01T10:00:00Z", "customer": "c 1", "event": "signed_up",
                   "attributes": {"email": "a@example.org", "first_name": "<b>Ana</b>"}})
    mailer.close()
    mail = inbox.messages[0]
    assert mail.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part.get_payload(decode=True).decode()
             for part in mail.walk() if not part.is_multipart()}
    assert parts["text/plain"].strip() == "Hallo"
    assert parts["text/html"].strip() == "<p>Hallo &lt;b&gt;Ana&lt;/b&gt;</p>"
    assert mail["List-Unsubscribe"].startswith("<https://shop.example/u?c=c%201&k=")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_mail_server_down_is_retried_then_dead() -> None:
    mailer = SmtpChannel(host="127.0.0.1", port=free_port(), timeout=2)
    engine = journeyflow.Engine(journeyflow.loads(JOURNEY), channels={"email": mailer},
                                retry=FAST)
    result = engine.handle({"at": "2026-01-01T10:00:00Z", "customer": "c1",
                            "event": "signed_up", "attributes": {"email": "a@example.org"}})
    assert result.accepted
    assert engine.deliveries is not None
    assert engine.deliveries.drain(timeout=10)
    assert deliveries(engine) == [("c1", "failed", 1), ("c1", "failed", 2), ("c1", "dead", 3)]
    assert "ConnectionRefusedError" in engine.trace[-1]["error"]


def test_run_delivers_over_smtp(smtp_sink: tuple[Inbox, int], tmp_path: Path,
                                runner: CliRunner) -> None:
    inbox, port = smtp_sink
    journey = tmp_path / "mail.journey"
    journey.write_text(JOURNEY, "utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"at": "2026-01-01T10:00:00Z", "customer": "c1",
                                  "event": "signed_up",
                                  "attributes": {"email": "ben@example.org"}}) + "\n")
    result = runner.invoke(main, ["run", str(journey), "--events", str(events),
                                  "--smtp", f"127.0.0.1:{port}", "--state", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert "deliveries: 1 sent" in result.output
    assert [m["To"] for m in inbox.messages] == ["ben@example.org"]


def test_run_with_the_mail_server_down_records_and_goes_on(tmp_path: Path,
                                                           runner: CliRunner) -> None:
    journey = tmp_path / "mail.journey"
    journey.write_text(JOURNEY, "utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps({"at": "2026-01-01T10:00:00Z", "customer": f"c{i}",
                                          "event": "signed_up",
                                          "attributes": {"email": "a@example.org"}}) + "\n"
                              for i in range(2)))
    trace = tmp_path / "trace.jsonl"
    result = runner.invoke(main, [
        "run", str(journey), "--events", str(events), "--store",
        f"sqlite:///{tmp_path / 'state.db'}", "--trace", str(trace), "--state", "/dev/null",
        "--channel", f"email=smtp://127.0.0.1:{free_port()}?attempts=2&backoff=0.01"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "2 processed" in result.output
    assert "deliveries: 2 failed, 2 dead" in result.output
    records = [json.loads(line) for line in trace.read_text().splitlines()]
    assert [(r["status"], r["attempt"]) for r in records if r["kind"] == "delivery"] == [
        ("failed", 1), ("failed", 1), ("dead", 2), ("dead", 2)]


def test_webhook_signs_and_keys_its_posts(http_hook: tuple[Hook, str]) -> None:
    hook, url = http_hook
    channel = WebhookChannel(url, secret="s3cret", now=lambda: 1767261600.0)
    engine = journeyflow.Engine(
        journeyflow.loads(JOURNEY.replace("via email", "via webhook")),
        channels={"webhook": channel})
    engine.handle({"at": "2026-01-01T10:00:00Z", "customer": "c1", "event": "signed_up"})
    path, headers, body = hook.requests[0]
    assert path == "/hook"
    payload = json.loads(body)
    assert payload["subject"] == "Willkommen, du!"
    assert payload["customer"] == "c1"
    key = next(r["key"] for r in engine.trace if r["kind"] == "delivery")
    assert headers["Idempotency-Key"] == key == payload["key"]
    expected = hmac.new(b"s3cret", b"1767261600." + body, hashlib.sha256).hexdigest()
    assert headers["X-Journeyflow-Signature"] == f"sha256={expected}"
    assert headers["X-Journeyflow-Timestamp"] == "1767261600"


def test_webhook_500_is_retried_with_the_same_key_and_never_undoes_the_step(
        http_hook: tuple[Hook, str]) -> None:
    hook, url = http_hook
    hook.status = 500
    engine = journeyflow.Engine(
        journeyflow.loads(JOURNEY.replace("via email", "via webhook")),
        channels={"webhook": WebhookChannel(url)}, retry=FAST)
    result = engine.handle({"at": "2026-01-01T10:00:00Z", "customer": "c1",
                            "event": "signed_up"})
    assert result.accepted
    assert engine.deliveries is not None
    engine.deliveries.drain(timeout=10)
    assert deliveries(engine) == [("c1", "failed", 1), ("c1", "failed", 2), ("c1", "dead", 3)]
    assert engine.trace[-1]["error"] == "the webhook answered 500 Internal Server Error"
    assert len({headers["Idempotency-Key"] for _, headers, _ in hook.requests}) == 1
    assert len(hook.requests) == 3


def test_webhook_slow_or_refusing(http_hook: tuple[Hook, str]) -> None:
    hook, url = http_hook
    hook.delay = 1.0
    engine = journeyflow.Engine(
        journeyflow.loads(JOURNEY.replace("via email", "via webhook")),
        channels={"webhook": WebhookChannel(url, timeout=0.2)},
        retry={"webhook": ChannelPolicy(attempts=1)})
    engine.handle({"at": "2026-01-01T10:00:00Z", "customer": "c1", "event": "signed_up"})
    assert "timed out" in engine.trace[-1]["error"]
    hook.delay, hook.status = 0.0, 404
    engine.handle({"at": "2026-01-01T10:00:00Z", "customer": "c2", "event": "signed_up"})
    assert deliveries(engine)[-1] == ("c2", "dead", 1)  # a 4xx is not retried
    assert engine.trace[-1]["error"] == "the webhook answered 404 Not Found"
