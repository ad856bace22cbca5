"""The text output: both sides, absent sides, long texts as a unified diff."""

from __future__ import annotations

from pathlib import Path

import journeyflow
from journeyflow.versions import diff_journeys
from journeyflow.versions.text import render_text

JOURNEY = """journey "mail"
event go {}
message letter via email { subject "News" template "letter.txt" }
stage a start { on go { send letter } }
"""
LETTER = "\n".join(f"Paragraph {i}." for i in range(1, 12))


def plain(tmp_path: Path, old_letter: str, new_letter: str) -> str:
    for side, letter in (("old", old_letter), ("new", new_letter)):
        (tmp_path / side).mkdir()
        (tmp_path / side / "letter.txt").write_text(letter, "utf-8")
        (tmp_path / side / "mail.journey").write_text(JOURNEY, "utf-8")
    result = diff_journeys(journeyflow.load(tmp_path / "old" / "mail.journey"),
                           journeyflow.load(tmp_path / "new" / "mail.journey"), "old.journey",
                           "new.journey")
    return "\n".join(line.plain for line in render_text(result))


def test_a_long_template_shows_as_a_unified_diff(tmp_path: Path) -> None:
    out = plain(tmp_path, LETTER, LETTER.replace("Paragraph 6.", "Paragraph six."))
    assert out.splitlines()[3:] == [
        "  ~ message letter: template changed",
        "      old.journey:3  ->  new.journey:3",
        "        @@ -5,3 +5,3 @@",
        "         Paragraph 5.",
        "        -Paragraph 6.",
        "        +Paragraph six.",
        "         Paragraph 7.",
        "      note: the template file letter.txt",
    ]


def test_a_short_text_shows_both_sides_in_full(tmp_path: Path) -> None:
    out = plain(tmp_path, "Hello\nthere", "Hello\nyou")
    assert "      old.journey:3  Hello\n                     there" in out
    assert "      new.journey:3  Hello\n                     you" in out


def test_an_absent_side_says_so() -> None:
    old = journeyflow.loads(JOURNEY.replace(' template "letter.txt"', ""), "old.journey")
    new = journeyflow.loads(JOURNEY.replace(' template "letter.txt"', ' body "Hi"'),
                            "new.journey")
    lines = [line.plain for line in render_text(diff_journeys(old, new))]
    assert lines[3:] == ["  + message letter: body added",
                         "      old.journey:3  (not in this version)",
                         "      new.journey:3  Hi"]
