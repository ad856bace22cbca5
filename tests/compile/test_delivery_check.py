"""The compile check of quiet hours and send windows (JF310)."""

from __future__ import annotations

import pytest

from journeyflow.journey import check_text

HEAD = """journey "j"
event go {}
message hi via email { subject "Hi" }
"""
TAIL = """
stage a start {
  on go -> b { send hi }
}
stage b final
"""


def codes(*declarations: str) -> list[tuple[str, int]]:
    text = HEAD + "\n".join(declarations) + TAIL
    # Consent (JF607) is not what these journeys are about.
    return [(d.code, d.span.line) for d in check_text(text, "j.journey").diagnostics
            if d.code != "JF607"]


@pytest.mark.parametrize("declarations", [
    ("quiet hours 22:00 to 08:00", "send window mon-fri 09:00 to 18:00"),
    ("quiet hours 22:00 to 08:00", "send window sat 21:00 to 23:00"),  # 21:00 to 22:00 open
    ("quiet hours 22:00 to 08:00", "send window sun 08:00 to 08:01"),  # one minute
    ("quiet hours 01:00 to 23:00", "send window fri 22:00 to 02:00"),  # wraps both ways
    ("send window fri 22:00 to 02:00",),
    ("quiet hours 00:01 to 00:00",),  # one minute a day is left
])
def test_rules_that_let_a_send_out_pass(declarations: tuple[str, ...]) -> None:
    assert codes(*declarations) == []


@pytest.mark.parametrize(("declarations", "line"), [
    (("send window wed,fri 00:00 to 00:00",), 4),
    (("quiet hours 22:00 to 08:00", "send window mon-fri 23:00 to 06:00"), 5),
    (("send window sat 22:00 to 08:00", "quiet hours 21:00 to 09:00"), 4),
    (("quiet hours 18:00 to 18:00",), 4),
    (("quiet hours 08:00 to 20:00", "send window mon-sun 08:30 to 19:59"), 5),
])
def test_rules_that_never_let_a_send_out_are_errors(declarations: tuple[str, ...],
                                                     line: int) -> None:
    assert codes(*declarations) == [("JF310", line)]


def test_the_error_names_the_line_of_the_quiet_hours() -> None:
    text = HEAD + "send window sat 22:00 to 08:00\nquiet hours 21:00 to 09:00" + TAIL
    [diag] = check_text(text, "j.journey").diagnostics
    assert "line 5" in diag.message
    assert diag.hint is not None
    assert "line 5" in diag.hint
    assert (diag.span.line, diag.span.col, diag.span.end_col) == (4, 17, 31)


def test_a_bad_time_or_day_is_reported_alone() -> None:
    assert codes("send window wed,fri 24:00 to 00:00") == [("JF407", 4)]
    assert codes("send window wed,fir 00:00 to 00:00") == [("JF211", 4)]


def test_only_the_declaration_in_force_is_checked() -> None:
    # The second quiet hours is a JF225 error; the window is checked against it.
    found = codes("quiet hours 01:00 to 02:00", "quiet hours 22:00 to 08:00",
                  "send window mon 23:00 to 06:00")
    assert found == [("JF225", 5), ("JF310", 6)]
