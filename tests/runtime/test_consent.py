"""Consent at delivery and transactional messages (consent, quiet hours, caps)."""

from __future__ import annotations

from typing import Any

import journeyflow

JOURNEY = """
journey "Consent"
customer { email_opt_in: bool = true  sms_ok: bool = true }
event signed_up {}
event opted_out {}
event poked {}
event purchased { amount: number }
message welcome via email { subject "Welcome" }
message promo via email { subject "Promo" }
message text_promo via sms { body "Promo" }
message receipt via email transactional { subject "Receipt {{ event.amount }}" }
consent email where email_opt_in
consent any where not has_tag("blocked")
limit email to 1 per 1d
quiet hours 22:00 to 08:00
anywhere {
  on opted_out { set email_opt_in = false }
  on purchased { send receipt }
  on poked { send promo  send text_promo }
}
stage new start { on signed_up -> member }
stage member { on enter { send welcome } on purchased where event.amount > 100 { tag "blocked" } }
"""


def run(events: list[tuple[str, str, str, dict[str, Any] | None]],
        until: str = "2026-01-08T00:00:00Z") -> journeyflow.Engine:
    engine = journeyflow.Engine(journeyflow.loads(JOURNEY, "c.journey"))
    for at, cid, name, attributes in events:
        engine.handle({"at": at, "customer": cid, "event": name,
                       "data": {"amount": 150} if name == "purchased" else {},
                       "attributes": attributes or {}})
    engine.advance(until)
    return engine


def deliveries(engine: journeyflow.Engine, cid: str) -> list[tuple[str, str, str]]:
    """(kind, message, at or reason) of each send or suppression of ``cid``."""
    out = []
    for r in engine.trace:
        if r["customer"] != cid:
            continue
        if r["kind"] == "action" and r["action"] == "send":
            out.append(("sent", r["message"], r["at"]))
        elif r["kind"] == "suppressed":
            out.append(("suppressed", r["message"], r["reason"]))
    return out


def test_consent_withdrawn_while_deferred_suppresses_at_delivery() -> None:
    engine = run([("2026-01-05T23:00:00Z", "c1", "signed_up", None),
                  ("2026-01-06T03:00:00Z", "c1", "opted_out", None)])
    assert deliveries(engine, "c1") == [("suppressed", "welcome", "no_consent")]
    assert engine.trace[-1]["at"] == "2026-01-06T08:00:00Z"


def test_consent_missing_at_request_suppresses_at_once_without_deferring() -> None:
    engine = run([("2026-01-05T23:00:00Z", "c1", "signed_up", {"email_opt_in": False})])
    assert deliveries(engine, "c1") == [("suppressed", "welcome", "no_consent")]
    assert engine.customer("c1").pending == []


def test_a_rule_naming_any_applies_to_every_channel() -> None:
    engine = run([("2026-01-05T10:00:00Z", "c1", "signed_up", None),
                  ("2026-01-05T11:00:00Z", "c1", "purchased", None),  # tags "blocked"
                  ("2026-01-05T12:00:00Z", "c1", "poked", None)])
    assert deliveries(engine, "c1") == [
        ("sent", "welcome", "2026-01-05T10:00:00Z"),
        ("sent", "receipt", "2026-01-05T11:00:00Z"),
        ("suppressed", "promo", "no_consent"),
        ("suppressed", "text_promo", "no_consent")]


def test_suppressed_sends_do_not_count_toward_the_cap() -> None:
    engine = run([("2026-01-05T10:00:00Z", "c1", "signed_up", {"email_opt_in": False}),
                  ("2026-01-05T11:00:00Z", "c1", "poked", {"email_opt_in": True})])
    assert deliveries(engine, "c1") == [("suppressed", "welcome", "no_consent"),
                                        ("sent", "promo", "2026-01-05T11:00:00Z"),
                                        ("sent", "text_promo", "2026-01-05T11:00:00Z")]


def test_transactional_ignores_consent_quiet_hours_and_a_full_cap_and_does_not_count() -> None:
    engine = run([("2026-01-05T10:00:00Z", "c1", "signed_up", None),  # fills the cap
                  ("2026-01-05T23:00:00Z", "c1", "purchased", {"email_opt_in": False}),
                  ("2026-01-06T23:30:00Z", "c2", "purchased", None),
                  ("2026-01-07T10:00:00Z", "c2", "signed_up", None)])
    assert deliveries(engine, "c1") == [("sent", "welcome", "2026-01-05T10:00:00Z"),
                                        ("sent", "receipt", "2026-01-05T23:00:00Z")]
    # The receipt at night did not fill c2's cap: the welcome still goes out.
    assert deliveries(engine, "c2") == [("sent", "receipt", "2026-01-06T23:30:00Z"),
                                        ("sent", "welcome", "2026-01-07T10:00:00Z")]


def test_journeys_without_consent_generate_no_consent_code() -> None:
    plain = journeyflow.loads('journey "p"\nevent e {}\nmessage m via email { subject "s" }\n'
                              'stage a start { on e { send m } }', "p.journey")
    engine = journeyflow.Engine(plain)
    engine.handle({"at": "2026-01-05T10:00:00Z", "customer": "c1", "event": "e"})
    sources = "\n".join(engine.interpreter.p.bodies.sources.values())
    assert "no_consent" not in str(engine.interpreter.p.bodies.namespace.values())
    assert "suppressed" not in sources
