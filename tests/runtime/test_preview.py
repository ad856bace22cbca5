"""``journeyflow preview``: the rendered subject and body of one message."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from journeyflow.cli import main

JOURNEY = """journey "Preview"
customer { first_name: text = "du"  birthday: date? }
event purchased { amount: number, n: number = 1 }
message thank_you via email transactional {
  subject "Danke, {{ customer.first_name }}"
  body "{{ event.amount }} EUR for {{ event.n }} items, {{ customer.birthday.year }}"
}
message per_item via email { subject "{{ event.amount / event.n }} each" }
consent email where true
stage a start { on purchased { send thank_you  send per_item } }
"""


def preview(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    path = tmp_path / "p.journey"
    path.write_text(JOURNEY, "utf-8")
    result = CliRunner().invoke(main, ["preview", str(path), *args])
    return result.exit_code, result.stdout, result.stderr


def test_renders_with_the_defaults_and_the_given_customer_and_event(tmp_path: Path) -> None:
    code, out, _ = preview(tmp_path, "thank_you", "--customer",
                           '{"first_name": "Ana", "birthday": "1990-05-17"}',
                           "--event", '{"amount": 80, "n": 2}')
    assert code == 0
    assert out.splitlines() == ["message: thank_you (via email, transactional)",
                                "subject: Danke, Ana", "", "80 EUR for 2 items, 1990"]
    code, out, _ = preview(tmp_path, "thank_you")
    assert "subject: Danke, du" in out


def test_a_template_error_is_reported_at_the_message_line(tmp_path: Path) -> None:
    code, out, err = preview(tmp_path, "per_item", "--event", '{"amount": 80, "n": 0}')
    assert code == 1
    assert "p.journey:8: error: message 'per_item' does not render" in err
    assert "Traceback" not in out + err


def test_bad_arguments_are_usage_errors(tmp_path: Path) -> None:
    code, _, err = preview(tmp_path, "thank_yu")
    assert code == 2
    assert "did you mean 'thank_you'?" in err
    code, _, err = preview(tmp_path, "thank_you", "--event", "{amount: 1}")
    assert code == 2
    assert "--event is not JSON" in err
