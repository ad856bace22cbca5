"""Random and mutated source either compiles or raises only ``JourneyError``.

Two properties (STYLE.md section 6): a soup of the language's own tokens, and
valid journeys with a token or a line deleted, duplicated or swapped. Any
other exception is a crash in the front end.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeyflow
from journeyflow.errors import format_diagnostics

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SHARED = ROOT.parent / "shared"

FUZZ_SETTINGS = settings(max_examples=300, deadline=None, derandomize=True,
                         suppress_health_check=[HealthCheck.too_slow])


def _language_example() -> list[str]:
    """The complete example of LANGUAGE.md section 1, if the file is there."""
    path = SHARED / "LANGUAGE.md"
    if not path.is_file():
        return []
    text = path.read_text("utf-8")
    section = text.split("## 1.", 1)[-1]
    match = re.search(r"```\n(.*?)```", section, re.DOTALL)
    return [match.group(1)] if match else []


def seed_journeys() -> list[str]:
    paths = [*sorted((SHARED / "conformance" / "cases").glob("*/journey.journey")),
             *sorted((ROOT / "examples").glob("*.journey"))]
    return [p.read_text("utf-8") for p in paths] + _language_example()


SEEDS = seed_journeys()

KEYWORDS = (
    "journey version timezone customer event message via channel limit to per quiet hours "
    "send window segment where goal on when value reentry never always after anywhere stage "
    "start final enter exit without every at offer cross_sell grant bonus expires remind "
    "before redeem set tag untag emit notify unless if else split not and or in true false "
    "null simulate arrivals for reacts within scenario wait expect sent tagged as with "
    "count sum last since has_tag has_bonus normal choice min"
).split()
NAMES = ["a", "b", "welcome", "purchased", "points", "email", "amount", "rückgewinnung", "x1"]
NUMBERS = ["0", "1", "12", "12.5", "100", "2026", "9" * 400]  # the last reads as infinity
DURATIONS = ["0m", "30m", "4h", "14d", "2w", "1d12h", "99999999999d"]
OTHER_LITERALS = ["10%", "50%", "0%", "08:00", "25:99", "2026-01-31", "2026-02-30T10:00Z",
                  "0001-01-01T00:00+05:00", "9999-12-31T23:59-05:00",
                  "2026-13-01", '"Name"', '"Europe/Berlin"', '"{{ customer.first_name }}"',
                  '"{% if %}"', '""', '"unterminated', '"\\"', '"\\n"']
PUNCTUATION = ["{", "}", "(", ")", "[", "]", ":", ",", ";", ".", "->", "=", "+=", "-=", "+",
               "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "?", "#", "@", "\n", "\t"]
VOCABULARY = KEYWORDS + NAMES + NUMBERS + DURATIONS + OTHER_LITERALS + PUNCTUATION

token_soup = st.lists(st.sampled_from(VOCABULARY), max_size=60).map(" ".join)
headed_soup = token_soup.map(lambda body: 'journey "fuzz"\n' + body)


def _compiles_or_journey_error(text: str) -> None:
    """Anything but a ``JourneyError`` propagates and fails the property."""
    error: journeyflow.JourneyError | None = None
    try:
        journeyflow.loads(text)
    except journeyflow.JourneyError as err:
        error = err
    if error is None:
        return
    assert str(error), "a JourneyError must carry a message"
    lines = text.count("\n") + 1
    for diag in error.diagnostics:
        assert diag.code.startswith("JF"), diag
        assert 1 <= diag.span.line <= lines, diag
        assert diag.span.col >= 1, diag
    format_diagnostics(error.diagnostics, text)  # the printer copes with every position


@FUZZ_SETTINGS
@given(st.one_of(token_soup, headed_soup))
def test_token_soup_raises_only_journey_errors(text: str) -> None:
    _compiles_or_journey_error(text)


# ---- mutated valid journeys ----------------------------------------------------------

TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|->|[+\-=!<>]=|[\w.:%]+|\S')


def tokens(text: str) -> list[tuple[int, int]]:
    """(start, end) of every token of ``text``, roughly as the lexer splits it."""
    return [m.span() for m in TOKEN.finditer(text)]


def mutate(text: str, op: str, unit: str, i: int, j: int) -> str:
    """Delete, duplicate or swap the ``i``-th token or line (swap: with the ``j``-th)."""
    if unit == "line":
        parts = text.split("\n")
        i, j = i % len(parts), j % len(parts)
        if op == "delete":
            del parts[i]
        elif op == "duplicate":
            parts.insert(i, parts[i])
        else:
            parts[i], parts[j] = parts[j], parts[i]
        return "\n".join(parts)
    spans = tokens(text)
    if not spans:
        return text
    (a0, a1), (b0, b1) = spans[i % len(spans)], spans[j % len(spans)]
    if op == "delete":
        return text[:a0] + text[a1:]
    if op == "duplicate":
        return text[:a1] + " " + text[a0:a1] + text[a1:]
    if a0 > b0:
        (a0, a1), (b0, b1) = (b0, b1), (a0, a1)
    if a0 == b0:
        return text
    return text[:a0] + text[b0:b1] + text[a1:b0] + text[a0:a1] + text[b1:]


mutation = st.tuples(st.sampled_from(("delete", "duplicate", "swap")),
                     st.sampled_from(("token", "token", "line")),
                     st.integers(min_value=0, max_value=10_000),
                     st.integers(min_value=0, max_value=10_000))


def test_there_are_seed_journeys() -> None:
    assert SEEDS, "no conformance cases, LANGUAGE.md example or examples/*.journey found"


@pytest.mark.parametrize(("op", "expected"), [
    (("delete", "token", 3, 0), 'journey "j"\nstage  start final'),
    (("duplicate", "token", 3, 0), 'journey "j"\nstage a a start final'),
    (("swap", "token", 3, 4), 'journey "j"\nstage start a final'),
    (("swap", "line", 0, 1), 'stage a start final\njourney "j"'),
    (("delete", "line", 1, 0), 'journey "j"'),
])
def test_mutate(op: tuple[str, str, int, int], expected: str) -> None:
    assert mutate('journey "j"\nstage a start final', *op) == expected


@FUZZ_SETTINGS
@given(st.sampled_from(SEEDS or ['journey "empty"']), st.lists(mutation, min_size=1, max_size=3))
def test_mutated_journeys_raise_only_journey_errors(
        seed: str, mutations: list[tuple[str, str, int, int]]) -> None:
    text = seed
    for op in mutations:
        text = mutate(text, *op)
    _compiles_or_journey_error(text)
