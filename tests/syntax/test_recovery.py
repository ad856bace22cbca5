"""Syntax-error recovery: repairs tried on the parse table, and where it gives up."""

from __future__ import annotations

from typing import Any

import pytest
from lark.exceptions import UnexpectedToken

from journeyflow.errors import JourneySyntaxError
from journeyflow.syntax.limits import MAX_SYNTAX_ERRORS
from journeyflow.syntax.parser import parse_journey, parser
from journeyflow.syntax.recovery import MAX_REPAIRS, accepts_sequence

H = 'journey "x"\n'


def error_state(text: str) -> Any:
    """Lark's interactive parser where ``text`` first fails."""
    with pytest.raises(UnexpectedToken) as info:
        parser().parse(text, start="journey_file")
    return info.value.interactive_parser


BROKEN = [
    H + "stage a { after 14 -> b }",
    H + "stage a { on e where x > -> b }",
    H + "stage a { on e { set x = (1 + } }",
    H + "stage a { on e { if x { split { 50 { } } } } }",
    H + "customer { email }",
    H + "message m { }",
    H + "stage a { on e -> 5 }",
    H + "segment s where not not (a and [1, 2",
    "stage a start {}",
]


@pytest.mark.parametrize("text", BROKEN)
def test_the_table_walk_accepts_what_lark_accepts(text: str) -> None:
    ip = error_state(text)
    state = ip.parser_state
    states, stack = state.parse_conf.states, state.state_stack
    ours = {kind for kind in states[stack[-1]]
            if kind.isupper() and accepts_sequence(states, stack, [kind])}
    assert ours == ip.accepts() - {"$END"}
    before = list(stack)
    for kind in sorted(ours):
        for follow in ("NAME", "RBRACE", "NUMBER", "ARROW"):
            trial = ip.copy()
            try:
                trial.feed_token(trial.lexer_thread._Token(kind, "_"))
                expected = follow in trial.accepts()
            except UnexpectedToken:
                expected = False
            assert accepts_sequence(states, stack, [kind, follow]) == expected, (kind, follow)
    assert stack == before, "the walk must not change the parser's stack"


def syntax_codes(text: str) -> list[str]:
    with pytest.raises(JourneySyntaxError) as info:
        parse_journey(text, "t.journey")
    return [d.code for d in info.value.diagnostics]


def test_errors_past_the_cap_end_in_one_diagnostic_that_says_so() -> None:
    lines = [f"stage s{i} {{ after {i + 1} -> s{i + 1} }}" for i in range(MAX_SYNTAX_ERRORS + 10)]
    text = H + "\n".join(lines) + "\n"
    with pytest.raises(JourneySyntaxError) as info:
        parse_journey(text, "t.journey")
    diags = info.value.diagnostics
    assert [d.code for d in diags] == ["JF113"] * MAX_SYNTAX_ERRORS + ["JF154"]
    # It marks the first error that was not reported.
    assert diags[-1].span.line == MAX_SYNTAX_ERRORS + 2
    assert f"after {MAX_SYNTAX_ERRORS}" in diags[-1].message


def test_exactly_the_cap_is_not_called_too_many() -> None:
    lines = [f"stage s{i} {{ after {i + 1} -> s{i + 1} }}" for i in range(MAX_SYNTAX_ERRORS)]
    assert syntax_codes(H + "\n".join(lines) + "\n") == ["JF113"] * MAX_SYNTAX_ERRORS


def test_a_flood_of_cascading_errors_stops_after_the_repair_budget() -> None:
    junk = " ".join(["7"] * (MAX_REPAIRS + 50))
    codes = syntax_codes(H + f"stage a start {{ on e {{ {junk} }} }}\n")
    assert codes[-1] == "JF154"
    assert len(codes) < MAX_SYNTAX_ERRORS


@pytest.mark.parametrize(("text", "codes"), [
    (H + "stage a start {\n  on e -> b\n\nstage b final\n", ["JF123"]),
    (H + "stage a start { on e { send m\n  on f -> b\n}\nstage b final\n", ["JF123"]),
    (H + "stage a start { after 14 -> b }\nstage b final { after 3 -> a }\n",
     ["JF113", "JF113"]),
    (H + "stage a start { on e where -> b }\nstage b { on e -> }\n", ["JF115", "JF114"]),
])
def test_recovery_goes_on_after_each_error(text: str, codes: list[str]) -> None:
    assert syntax_codes(text) == codes
