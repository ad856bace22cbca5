"""The channel executor: messages render before delivery, and a failed render is traced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import journeyflow
from journeyflow.runtime.executor import Delivery

JOURNEY = """journey "Points"
customer { first_name: text = "there", points: number = 0 }
event signed_up {}
event bought {}

message welcome via email {
  subject "Hi {{ customer.first_name }}"
  body "Each point is worth {{ 100 // customer.points }} cents."
}
message plain via sms { body "Thanks" }
message letter via email { subject "News" template "letter.html" }

stage new start {
  on signed_up { send welcome }
  on bought -> buyer
}
stage buyer { on enter { send plain  send letter } }
"""


@pytest.fixture
def journey(tmp_path: Path) -> journeyflow.Journey:
    (tmp_path / "letter.html").write_text("Dear {{ customer.first_name }},\nnews.", "utf-8")
    path = tmp_path / "points.journey"
    path.write_text(JOURNEY, "utf-8")
    return journeyflow.load(path)


def feed(engine: journeyflow.Engine, customer: str, event: str, at: str,
         attributes: dict[str, Any] | None = None) -> None:
    result = engine.handle({"at": at, "customer": customer, "event": event,
                            "attributes": attributes or {}})
    assert result.accepted, result.reason


def test_deliveries_carry_their_rendered_texts(journey: journeyflow.Journey) -> None:
    sent: list[Delivery] = []
    engine = journeyflow.Engine(journey, channels={"email": sent.append, "sms": sent.append})
    feed(engine, "c1", "signed_up", "2026-01-05T10:00:00Z", {"first_name": "Ana", "points": 5})
    feed(engine, "c1", "bought", "2026-01-06T10:00:00Z")
    assert [(d.message, d.subject, d.body) for d in sent] == [
        ("welcome", "Hi Ana", "Each point is worth 20 cents."),
        ("plain", "", "Thanks"),
        ("letter", "News", "Dear Ana,\nnews."),
    ]
    assert sent[0].context["customer"]["points"] == 5


def test_a_subject_stays_on_one_line(journey: journeyflow.Journey) -> None:
    sent: list[Delivery] = []
    engine = journeyflow.Engine(journey, channels={"email": sent.append})
    feed(engine, "c1", "signed_up", "2026-01-05T10:00:00Z",
         {"first_name": "Ana\r\nBcc: all@example.org", "points": 1})
    assert sent[0].subject == "Hi Ana Bcc: all@example.org"


def test_a_failed_render_is_traced_and_the_customer_goes_on(
        journey: journeyflow.Journey) -> None:
    sent: list[Delivery] = []
    engine = journeyflow.Engine(journey, channels={"email": sent.append})
    feed(engine, "c1", "signed_up", "2026-01-05T10:00:00Z", {"points": 0})  # 100 // 0
    feed(engine, "c2", "signed_up", "2026-01-05T10:00:00Z", {"points": 4})
    feed(engine, "c1", "bought", "2026-01-06T10:00:00Z")
    errors = [r for r in engine.trace if r["kind"] == "error"]
    assert errors == [{
        "at": "2026-01-05T10:00:00Z", "customer": "c1", "kind": "error",
        "reason": "body: integer division or modulo by zero (line 1)",
        "message": "welcome", "source": "points.journey:6", "stage": "new"}]
    # the send stands in the trace, the other customer got theirs, c1 moved on
    sends = [(r["customer"], r["message"]) for r in engine.trace if r["kind"] == "action"]
    assert sends[:2] == [("c1", "welcome"), ("c2", "welcome")]
    assert [(d.customer, d.message) for d in sent] == [("c2", "welcome"), ("c1", "letter")]
    state = engine.customer("c1")
    assert state is not None
    assert state.stage == "buyer"


def test_a_render_over_a_bound_is_traced(tmp_path: Path) -> None:
    path = tmp_path / "big.journey"
    path.write_text('journey "Big"\nevent signed_up {}\n'
                    'message m via email { subject "{{ \'x\' * 10**9 }}" }\n'
                    "stage new start { on signed_up { send m } }\n", "utf-8")
    sent: list[Delivery] = []
    engine = journeyflow.Engine(journeyflow.load(path), channels={"email": sent.append})
    feed(engine, "c1", "signed_up", "2026-01-05T10:00:00Z")
    [error] = [r for r in engine.trace if r["kind"] == "error"]
    assert error["source"] == "big.journey:3"
    assert "would be larger than 1,000,000" in error["reason"]
    assert not sent


def test_a_template_file_that_became_a_link_is_not_read(journey: journeyflow.Journey,
                                                        tmp_path: Path) -> None:
    secret = tmp_path.parent / "secret.txt"
    secret.write_text("password", "utf-8")
    (tmp_path / "letter.html").unlink()
    (tmp_path / "letter.html").symlink_to(secret)  # after the check, before the send
    sent: list[Delivery] = []
    engine = journeyflow.Engine(journey, channels={"email": sent.append})
    feed(engine, "c1", "signed_up", "2026-01-05T10:00:00Z", {"points": 1})
    feed(engine, "c1", "bought", "2026-01-06T10:00:00Z")
    assert [d.message for d in sent] == ["welcome"]
    [error] = [r for r in engine.trace if r["kind"] == "error"]
    assert (error["message"], error["source"], error["reason"]) == (
        "letter", "points.journey:11",
        "template path 'letter.html' goes through a symbolic link")
    assert not any("password" in str(record) for record in engine.trace)


def test_a_template_file_with_a_new_syntax_error_fails_its_sends(
        journey: journeyflow.Journey, tmp_path: Path) -> None:
    (tmp_path / "letter.html").write_text("line 1\n{% if %}", "utf-8")
    sent: list[Delivery] = []
    engine = journeyflow.Engine(journey, channels={"email": sent.append})
    for customer in ("c1", "c2"):
        feed(engine, customer, "signed_up", "2026-01-05T10:00:00Z", {"points": 1})
        feed(engine, customer, "bought", "2026-01-06T10:00:00Z")
    reasons = [r["reason"] for r in engine.trace if r["kind"] == "error"]
    assert reasons == ["template letter.html: Expected an expression, got 'end of statement "
                       "block' (line 2)"] * 2
    assert [d.message for d in sent] == ["welcome", "welcome"]


def test_without_a_handler_nothing_is_rendered(journey: journeyflow.Journey) -> None:
    engine = journeyflow.Engine(journey, channels={"push": print})
    feed(engine, "c1", "signed_up", "2026-01-05T10:00:00Z", {"points": 0})
    assert [r["kind"] for r in engine.trace].count("error") == 0
