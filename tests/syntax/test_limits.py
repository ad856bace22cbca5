"""The size and nesting limits: a diagnostic past them, a working journey up to them.

Every shape is tried at its limit, where the journey must compile and run on a
few events (type checks, generated step code and Jinja2 all follow the nesting
recursively), and one level past it, where exactly one diagnostic names it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import journeyflow
from journeyflow.errors import Diagnostic, JourneyError, JourneySyntaxError
from journeyflow.syntax.format import format_source
from journeyflow.syntax.limits import (
    MAX_BLOCK_DEPTH,
    MAX_EXPRESSION_DEPTH,
    MAX_FILE_BYTES,
    MAX_STRING_CHARS,
    MAX_TEMPLATE_DEPTH,
    MAX_TEMPLATE_TAG_CHARS,
)
from journeyflow.syntax.nesting import template_problem
from journeyflow.syntax.parser import parse_journey

HEAD = '''journey "limits"
customer { p: number = 1  ok: bool = true  word: text = "a" }
event e { a: number = 1 }
'''
# Line 4 of every journey below holds the construct under test.


def in_when(expr: str) -> str:
    return HEAD + f"stage a start {{ when {expr} -> b }}\nstage b final\n"


def in_block(stmts: str) -> str:
    return HEAD + f"stage a start {{ on e {{ {stmts} }} -> b }}\nstage b final\n"


def in_template(template: str) -> str:
    return (HEAD + f'message m via email {{ subject "{template}" }}\n'
            "stage a start { on e { send m } -> b }\nstage b final\n")


E, B, T = MAX_EXPRESSION_DEPTH, MAX_BLOCK_DEPTH, MAX_TEMPLATE_DEPTH

# name -> (journey with the construct nested ``depth`` levels, depth at the limit, code)
SHAPES: dict[str, tuple[Callable[[int], str], int, str]] = {
    "not": (lambda d: in_when("not " * d + "ok"), E, "JF151"),
    "minus": (lambda d: in_block("set p = " + "-" * d + "1"), E, "JF151"),
    "flat sum": (lambda d: in_when(" + ".join(["p"] * d) + " > 1"), E, "JF151"),
    "flat and": (lambda d: in_when(" and ".join(["ok"] * (d + 1))), E, "JF151"),
    "nested sum": (lambda d: in_when("(p + " * (d - 1) + "p" + ")" * (d - 1) + " > 1"), E,
                   "JF151"),
    "nested product": (lambda d: in_block("set p = " + "(p * " * d + "2" + ")" * d), E,
                       "JF151"),
    "text chain": (lambda d: in_when("has_tag(" + " + ".join(['"x"'] * (d - 1)) + ") == false"),
                   E, "JF151"),
    "if": (lambda d: in_block("if ok { " * (d - 1) + 'tag "x" ' + "} " * (d - 1)), B, "JF152"),
    "else if": (lambda d: in_block('if ok { tag "x" }' + ' else if ok { tag "y" }' * (d - 2)),
                B, "JF152"),
    "after": (lambda d: in_block("after 1h { " * (d - 1) + 'tag "x" ' + "} " * (d - 1)), B,
              "JF152"),
    "split": (lambda d: in_block("split { 100% { " * (d - 1) + 'tag "x" ' + "} } " * (d - 1)),
              B, "JF152"),
    "template brackets": (lambda d: in_template("{{ " + "(" * d + "customer.p" + ")" * d + " }}"),
                          T, "JF153"),
    "template tags": (lambda d: in_template("{% if customer.ok %}" * d + "x"
                                            + "{% endif %}" * d), T, "JF153"),
}
IDS = list(SHAPES)


def run_a_few_events(text: str) -> Any:
    journey = journeyflow.loads(text)
    sent: list[object] = []
    engine = journeyflow.Engine(journey, channels={"email": sent.append})
    for n, at in enumerate(("2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z")):
        engine.handle({"at": at, "customer": f"c{n}", "event": "e", "data": {"a": 2}})
    engine.advance("2026-01-04T00:00:00Z")
    return engine


def with_frames_used(frames: int, fn: Callable[[], Any]) -> Any:
    """Call ``fn`` from ``frames`` calls deeper, as a service embedding journeyflow might."""
    return fn() if frames == 0 else with_frames_used(frames - 1, fn)


def syntax_errors(text: str) -> list[Diagnostic]:
    with pytest.raises(JourneySyntaxError) as info:
        parse_journey(text, "t.journey")
    return list(info.value.diagnostics)


@pytest.mark.parametrize("shape", IDS)
def test_at_the_limit_the_journey_compiles_and_runs(shape: str) -> None:
    make, limit, _code = SHAPES[shape]
    engine = with_frames_used(200, lambda: run_a_few_events(make(limit)))
    assert not engine.rejected
    assert {engine.customer(c).stage for c in ("c0", "c1")} == {"b"}


@pytest.mark.parametrize("shape", IDS)
def test_one_level_past_the_limit_is_one_diagnostic(shape: str) -> None:
    make, limit, code = SHAPES[shape]
    diags = syntax_errors(make(limit + 1))
    assert [(d.code, d.span.line) for d in diags] == [(code, 4)]
    assert diags[0].hint


@pytest.mark.parametrize(("shape", "depth"), [("not", 20_000), ("nested sum", 5_000),
                                              ("if", 2_000), ("else if", 2_000),
                                              ("template brackets", 4_000)])
def test_far_past_the_limit_nothing_recurses(shape: str, depth: int) -> None:
    make, _limit, code = SHAPES[shape]
    assert [d.code for d in syntax_errors(make(depth))] == [code]


def test_each_expression_is_reported_once_where_it_crosses_the_limit() -> None:
    chain = " + ".join(f"count(e) * {i}" for i in range(70))
    text = HEAD + f"segment busy where {chain} > 1\nsegment calm where not ok\n" \
        f"goal g when {chain} > 2\nstage a start final\n"
    diags = syntax_errors(text)
    assert [(d.code, d.span.line) for d in diags] == [("JF151", 4), ("JF151", 6)]
    # The caret is on the operand where the 65th level begins, not on the first one.
    assert diags[0].span.col == text.split("\n")[3].index("count(e) * 6 ") + 1


def test_fmt_reports_the_limit_too() -> None:
    with pytest.raises(JourneyError) as info:
        format_source(SHAPES["not"][0](E + 1))
    assert [d.code for d in info.value.diagnostics] == ["JF151"]


# ---- sizes --------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_before_parsing() -> None:
    text = 'journey "big"\n#' + "x" * MAX_FILE_BYTES
    diags = syntax_errors(text)
    assert [(d.code, d.span.line, d.span.col) for d in diags] == [("JF150", 1, 1)]
    assert f"{MAX_FILE_BYTES:,}" in diags[0].message


def test_the_size_limit_counts_bytes_not_characters() -> None:
    filler = "ü" * ((MAX_FILE_BYTES - 100) // 2)  # two bytes each
    assert len(filler) < MAX_FILE_BYTES < len(filler.encode()) + 200
    small = 'journey "big"\n#' + filler[: len(filler) // 2] + "\nstage a start final\n"
    assert parse_journey(small).decls
    assert [d.code for d in syntax_errors('journey "big"\n#' + filler + "ü" * 60)] == ["JF150"]


def test_a_string_at_the_limit_is_fine_and_one_past_it_is_refused() -> None:
    def message(body: str) -> str:
        return (HEAD + f'message m via email {{ body "{body}" }}\n'
                "stage a start { on e { send m } }\n")

    assert parse_journey(message("b" * MAX_STRING_CHARS)).decls
    diags = syntax_errors(message("b" * (MAX_STRING_CHARS + 1)))
    assert [(d.code, d.span.line, d.span.col) for d in diags] == [("JF150", 4, 28)]


@pytest.mark.parametrize(("line", "col"), [
    ('x "' + '\\"' * MAX_STRING_CHARS + '"', 3),      # escaped quotes do not end it
    ('x "' + "y" * (MAX_STRING_CHARS + 5), 3),         # never closed
    ('"a" "' + "y" * (MAX_STRING_CHARS + 1) + '"', 5),  # the second string of the line
])
def test_long_strings_are_found_wherever_they_are(line: str, col: int) -> None:
    diags = syntax_errors(HEAD + line + "\n")
    assert [(d.code, d.span.line, d.span.col) for d in diags] == [("JF150", 4, col)]


def test_long_lines_without_a_long_string_are_parsed() -> None:
    items = ", ".join(str(i) for i in range(MAX_STRING_CHARS // 2))
    comment = "# " + '"' + "c" * MAX_STRING_CHARS + '"'
    text = HEAD + f"stage a start {{ when p in [{items}] -> b }} {comment}\nstage b final\n"
    assert parse_journey(text).decls


# ---- templates ----------------------------------------------------------------------------


@pytest.mark.parametrize(("template", "found"), [
    ("Hello {{ customer.first_name }}", None),
    ("{{ " + "(" * T + "x" + ")" * T + " }}", None),
    ("{{ " + "(" * (T + 1) + "x" + ")" * (T + 1) + " }}", 3 + T),
    ("{{ '" + "(" * 50 + "' }}", None),                       # brackets in a quoted string
    ("{# " + "(" * 50 + " #}", None),                         # and in a comment
    ("{% for x in y %}" * (T + 1), 16 * T),
    ("{% set x %}" * (T + 1), 11 * T),
    ("{% set x = 1 %}" * (T + 1), None),
    ("{{ " + "x" * (MAX_TEMPLATE_TAG_CHARS + 1) + " }}", 2),
    ("{{ unclosed (((", None),
    ("{" * 100, 2 + T),                                       # dict braces nest too
])
def test_template_problem(template: str, found: int | None) -> None:
    problem = template_problem(template)
    assert (problem[0] if problem else None) == found


@pytest.mark.parametrize(("head", "link"), [("1", "+1"), ("customer.p", "|abs")])
def test_a_long_operator_chain_in_a_template_is_a_diagnostic(head: str, link: str) -> None:
    # Each operator and filter is a checked call in the sandbox: hundreds in a row compile to code
    # nested deeper than Python allows, which check reports instead of crashing.
    tag = " " + head + link * ((MAX_TEMPLATE_TAG_CHARS - len(head) - 2) // len(link)) + " "
    with pytest.raises(JourneyError) as err:
        journeyflow.loads(in_template("{{" + tag + "}}"), "t.journey")
    assert [d.code for d in err.value.diagnostics] == ["JF408"]


@pytest.mark.parametrize(("head", "link"), [("1", "~1"), ("true", " and true")])
def test_a_template_tag_of_the_longest_length_compiles_and_runs(head: str, link: str) -> None:
    tag = " " + head + link * ((MAX_TEMPLATE_TAG_CHARS - len(head) - 2) // len(link)) + " "
    assert len(tag) > MAX_TEMPLATE_TAG_CHARS - len(link)
    engine = with_frames_used(200, lambda: run_a_few_events(in_template("{{" + tag + "}}")))
    assert {engine.customer(c).stage for c in ("c0", "c1")} == {"b"}
    too_long = in_template("{{" + tag + link + "}}")
    assert [d.code for d in syntax_errors(too_long)] == ["JF153"]
