"""Every labelled syntax error (``error_examples.py``) is recognised in its own examples."""

from __future__ import annotations

import pytest

from journeyflow.errors import Diagnostic, JourneySyntaxError
from journeyflow.syntax.error_examples import (
    MISSING_BRACE_LABELS,
    SYNTAX_LABELS,
    describe_expected,
)
from journeyflow.syntax.parser import parse_journey

ROWS = [(code, message, text)
        for labels in (SYNTAX_LABELS, MISSING_BRACE_LABELS)
        for (code, message), examples in labels.items()
        for text in examples]


def first_syntax_error(text: str) -> Diagnostic:
    with pytest.raises(JourneySyntaxError) as info:
        parse_journey(text, "t.journey")
    assert info.value.diagnostics
    return min(info.value.diagnostics, key=Diagnostic.sort_key)


@pytest.mark.parametrize(("code", "message", "text"), ROWS,
                         ids=[f"{code}-{i}" for i, (code, _, _) in enumerate(ROWS)])
def test_each_example_gets_its_label(code: str, message: str, text: str) -> None:
    diag = first_syntax_error(text)
    assert (diag.code, diag.message) == (code, message)


@pytest.mark.parametrize(("text", "code", "line", "col", "words"), [
    ('journey "x"\nstage a start {\n  on enter {\n    tag "x"\n', "JF120", 4, None,
     "the '{' on line 3 is never closed"),
    ('journey "x"\ncustomer { p: number }\nstage a start { when p > 1 & p < 3 -> b }', "JF101",
     3, 28, "combine conditions with 'and'"),
    ('journey "x"\nevent e {}\nstage a start { on e { tag \'x\' } }', "JF101", 3, 28,
     "double quotes"),
    ('journey "x"\nevent e {}\nstage a start {\n  on e { send m\n  on e -> b\n}', "JF123", 5, 3,
     "a '}' is missing"),
    ('journey "x"\nevent e {}\nstage a start {\n  on e -> b\n\nstage b final', "JF123", 6, 1,
     "a '}' is missing"),
    ('journey "x"\nevent e {}\nstep a start {}', "JF111", 3, 1, "expected a declaration"),
])
def test_labelled_mistakes(text: str, code: str, line: int, col: int | None,
                           words: str) -> None:
    diag = first_syntax_error(text)
    assert (diag.code, diag.span.line) == (code, line)
    if col is not None:
        assert diag.span.col == col
    assert words in diag.message


@pytest.mark.parametrize(("names", "expected"), [
    (["NUMBER"], "expected a number"),
    (["ARROW", "RBRACE"], "expected one of: '->', '}'"),
    (["LPAR", "MINUS", "LBRACKET", "EVENT", "FALSE", "NOT", "NULL", "TRUE", "DATETIME",
      "DURATION", "NAME", "NUMBER", "PERCENT", "STRING"], "expected an expression"),
    (["ON", "AFTER", "EVERY", "AT", "WHEN", "RBRACE", "ARROW"],
     "expected one of: '->', '}', another rule (on, after, every, at, when)"),
    ([], None),
])
def test_describe_expected(names: list[str], expected: str | None) -> None:
    assert describe_expected(names) == expected
