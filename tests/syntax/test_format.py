"""``journeyflow fmt``: the canonical layout, its golden files and its properties.

* golden files: ``tests/golden/fmt/NAME.journey`` (messy input) formats to
  ``NAME.fmt.journey`` (likewise ``.scenario``);
* every journey we have (examples, the rule cases, docs/language.md) formats to
  text that parses to the same syntax tree, and formatting it again changes nothing;
* random syntax trees survive format then parse, also with comments sprinkled in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeyflow.errors import JourneyError
from journeyflow.syntax import ast as a
from journeyflow.syntax import expr
from journeyflow.syntax.format import format_source, format_tree
from journeyflow.syntax.parser import grammar_text, parse_journey, parse_scenarios

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LANGUAGE_DOC = ROOT / "docs" / "language.md"
GOLDEN_FMT = HERE.parent / "golden" / "fmt"

Tree = a.JourneyFile | a.ScenarioFile


def parse(text: str, file: str = "<journey>") -> Tree:
    return parse_scenarios(text, file) if file.endswith(".scenario") else parse_journey(text, file)


def check_format(text: str, file: str = "<journey>") -> str:
    """Format ``text`` and check the properties every input must have; return the result."""
    before = parse(text, file)
    out = format_source(text, file)
    assert parse(out, file) == before, "formatting changed the syntax tree"
    assert format_source(out, file) == out, "formatting is not idempotent"
    for _line, _col, comment in before.comments:
        assert comment.rstrip() in out, f"lost comment {comment!r}"
    assert len(parse(out, file).comments) <= len(before.comments)
    assert out == "" or out.endswith("\n") and not out.endswith("\n\n")
    assert all(line == line.rstrip() for line in out.split("\n")), "trailing whitespace"
    return out


# ---- golden files ---------------------------------------------------------------------


def golden_inputs() -> list[Path]:
    return sorted(p for p in GOLDEN_FMT.glob("*.*") if ".fmt." not in p.name)


@pytest.mark.parametrize("path", golden_inputs(), ids=lambda p: p.name)
def test_golden(path: Path, golden: Callable[[Path, str], None]) -> None:
    out = check_format(path.read_text("utf-8"), path.name)
    golden(path.with_name(f"{path.stem}.fmt{path.suffix}"), out)


def test_golden_files_cover_every_construct() -> None:
    """Every node class of the syntax tree appears in some golden input."""
    seen: set[type] = set()

    def walk(node: object) -> None:
        if isinstance(node, tuple):
            for item in node:
                walk(item)
        elif type(node).__module__ in (a.__name__, expr.__name__):
            seen.add(type(node))
            for name in getattr(node, "__dataclass_fields__", {}):
                walk(getattr(node, name))

    for path in golden_inputs():
        walk(parse(path.read_text("utf-8"), path.name))
    every = {getattr(a, name) for name in a.__all__ if isinstance(getattr(a, name), type)}
    assert every - seen == set()


# ---- every journey we have ------------------------------------------------------------------


def _markdown_blocks(text: str) -> list[str]:
    return re.findall(r"```\n(.*?)```", text, re.DOTALL)


def doc_journeys() -> list[tuple[str, str]]:
    """The journeys of docs/language.md, and its scenario and simulate blocks in a journey."""
    blocks = _markdown_blocks(LANGUAGE_DOC.read_text("utf-8"))
    found = [(f"journey-{i}", b) for i, b in enumerate(blocks) if b.startswith("journey ")]
    found += [(f"block-{i}", 'journey "x"\n' + b) for i, b in enumerate(blocks)
              if b.startswith(("simulate {", "scenario ", "migrate {"))]
    return found


def journey_files() -> list[Path]:
    cases = sorted((ROOT / "tests" / "cases").glob("*/journey.journey"))
    return cases + sorted((ROOT / "examples").glob("*.journey"))


def test_the_reference_shows_a_journey_and_a_scenario() -> None:
    names = [name for name, _ in doc_journeys()]
    assert any(name.startswith("journey-") for name in names)
    assert any(name.startswith("block-") for name in names)


@pytest.mark.parametrize(("name", "text"), doc_journeys(), ids=lambda x: x[:12])
def test_doc_round_trip(name: str, text: str) -> None:
    check_format(text)


@pytest.mark.parametrize("path", journey_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_journey_round_trip(path: Path) -> None:
    check_format(path.read_text("utf-8"), str(path))


# ---- layout details ------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "expected"), [
    ("stage a final", "stage a final"),
    ("stage a final {}", "stage a final {}"),
    ('event e {a:number;b:text="x"}', 'event e { a: number, b: text = "x" }'),
    ("segment s where (a or b) and c", "segment s where (a or b) and c"),
    ("segment s where a - (b - c) - (d) * -(-e)", "segment s where a - (b - c) - d * - -e"),
    ("segment s where (a == b) == (c in [1])", "segment s where (a == b) == (c in [1])"),
    ("segment s where not (a == b) and (not c) in [true]",
     "segment s where not a == b and (not c) in [true]"),
    ('message m via sms { body "a\\"b\\\\c\\q" }', 'message m via sms { body "a\\"b\\\\c\\\\q" }'),
    ("simulate{in a{b 1% per day{x:normal( 5% , - 2 ,min 0.50)}}}",
     "simulate {\n  in a { b 1% per day { x: normal(5%, -2, min 0.50) } }\n}"),
    ('scenario "s" { expect (goal) expect not (bonus > 1) }',
     'scenario "s" {\n  expect (goal)\n  expect (not bonus > 1)\n}'),
    ("customer { a: number = 1, on: text }", "customer {\n  a: number = 1,\n  on: text\n}"),
    ("event a {}\nevent b {}\n\nevent c {} message m via sms { body \"b\" subject \"s\" }",
     "event a {}\nevent b {}\n\nevent c {}\n\nmessage m via sms {\n  body \"b\"\n"
     "  subject \"s\"\n}"),
    ("# about a\n\n\n# still about a\nstage a final\n# end", "# about a\n\n# still about a\n"
     "stage a final\n# end"),
])
def test_layout(source: str, expected: str) -> None:
    assert check_format(f'journey "x"\n{source}') == f'journey "x"\n\n{expected}\n'


@pytest.mark.parametrize(("source", "expected"), [
    ("", ""),
    ("# only a comment", "# only a comment\n"),
    ('scenario "s" {} # c', 'scenario "s" {}  # c\n'),
])
def test_scenario_layout(source: str, expected: str) -> None:
    assert check_format(source, "x.scenario") == expected


def test_dist_numbers_without_source_are_decimals() -> None:
    source = "simulate { anywhere { e 1 per day { a: normal(60%, 0.00001) } } }"
    tree = parse_journey(f'journey "x"\n{source}')
    out = format_tree(tree)
    assert "normal(0.6, 0.00001)" in out
    assert parse_journey(out) == tree


def test_comments_without_source() -> None:
    """Without the source the closing brace of a `split` is unknown; comments stay anyway."""
    tree = parse_journey((GOLDEN_FMT / "comments.journey").read_text("utf-8"))
    out = format_tree(tree, tree.comments)
    assert parse_journey(out) == tree
    assert format_source(out) == out
    assert all(text in out for _, _, text in tree.comments)


def test_syntax_errors_propagate() -> None:
    with pytest.raises(JourneyError):
        format_source('journey "x"\nstage {')


def test_comment_after_a_one_line_node_goes_to_its_first_line() -> None:
    out = check_format('journey "x"\nstage a { on e { send m; tag "t" }  # both\n}\n')
    assert '  on e {  # both\n    send m\n    tag "t"\n  }\n' in out


# ---- random syntax trees ---------------------------------------------------------------------

KEYWORDS = frozenset(re.findall(r'"([^\W\d]\w*)"', grammar_text()))
PROPERTY = settings(max_examples=120, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

words = st.from_regex(r"[a-z_][a-z0-9_]{0,5}|rückgewinnung|größe|_x1", fullmatch=True)
names = words.filter(lambda w: w not in KEYWORDS)
any_words = st.one_of(words, st.sampled_from(sorted(KEYWORDS)))  # where keywords are names
idents = st.builds(a.Ident, names)
texts = st.text(st.characters(blacklist_categories=["Cs"]), max_size=8)
number_texts = st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,2})?", fullmatch=True)
numbers = st.builds(a.Number, number_texts)
percents = st.builds(a.Percent, st.from_regex(r"[0-9]{1,3}(\.[0-9])?%", fullmatch=True))
durations = st.builds(a.Duration, st.from_regex(r"([0-9]{1,3}[mhdw]){1,2}", fullmatch=True))
clocks = st.builds(a.Clock, st.from_regex(r"[0-9]{1,2}:[0-9]{2}", fullmatch=True))
DATETIME = (r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
            r"(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?")
datetimes = st.builds(a.DateTimeLit, st.from_regex(DATETIME, fullmatch=True))


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


atoms: st.SearchStrategy[a.Expr] = st.one_of(
    numbers, percents, durations, datetimes, st.builds(a.StringLit, texts),
    st.builds(a.BoolLit, st.booleans()), st.just(a.NullLit()), st.builds(a.Name, names),
    st.builds(a.Path, names, any_words), st.builds(a.EventField, any_words),
)
BINARY_OPS = ["or", "and", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/"]


def _compound(inner: st.SearchStrategy[a.Expr]) -> st.SearchStrategy[a.Expr]:
    lists = st.builds(a.ListLit, st.lists(inner, max_size=3).map(tuple))
    args = st.builds(a.Arg, inner, maybe(durations))
    return st.one_of(
        st.builds(a.Unary, st.sampled_from(["not", "-"]), inner),
        st.builds(a.Binary, st.sampled_from(BINARY_OPS), inner, inner),
        st.builds(a.InList, inner, lists, st.booleans()),
        st.builds(a.Call, names, st.lists(args, max_size=3).map(tuple)),
        lists,
    )


exprs = st.recursive(atoms, _compound, max_leaves=8)
kvs = st.lists(st.builds(a.KV, idents, exprs), max_size=3).map(tuple)


def _blocks(inner: st.SearchStrategy[a.Block]) -> st.SearchStrategy[a.Stmt]:
    ifs = st.deferred(lambda: st.builds(a.If, exprs, inner, st.one_of(st.none(), inner, ifs)))
    arms = st.builds(a.Arm, percents, inner)
    return st.one_of(
        st.builds(a.Delayed, durations, maybe(idents), inner),
        ifs,
        st.builds(a.Split, st.lists(arms, min_size=1, max_size=3).map(tuple)),
    )


simple_stmts: st.SearchStrategy[a.Stmt] = st.one_of(
    st.builds(a.Send, idents),
    st.builds(a.Offer, idents, texts, idents),
    st.builds(a.Grant, idents, st.one_of(numbers, percents), durations, maybe(durations)),
    st.builds(a.Redeem, idents),
    st.builds(a.Set, idents, st.sampled_from(["=", "+=", "-="]), exprs),
    st.builds(a.Tag, texts, st.booleans()),
    st.builds(a.Emit, idents, kvs),
    st.builds(a.Notify, idents, kvs),
    st.builds(a.Goto, idents),
)
blocks: st.SearchStrategy[a.Block] = st.recursive(
    st.builds(a.Block, st.lists(simple_stmts, max_size=3).map(tuple)),
    lambda inner: st.builds(a.Block, st.lists(st.one_of(simple_stmts, _blocks(inner)),
                                              max_size=3).map(tuple)),
    max_leaves=6,
)
triggers = st.one_of(
    st.builds(a.Trigger, st.just("on"), event=idents),
    st.builds(a.Trigger, st.sampled_from(["enter", "exit"])),
    st.builds(a.Trigger, st.just("after"), duration=durations, without=maybe(idents)),
    st.builds(a.Trigger, st.just("every"), duration=durations),
    st.builds(a.Trigger, st.sampled_from(["at", "when"]), expr=exprs),
)
rules = st.one_of(
    st.builds(a.Rule, triggers, maybe(exprs), maybe(idents), maybe(blocks)),
    st.builds(a.Rule, st.just(a.Trigger("pass")), st.none(), idents, st.none()),
)


def _readable(rs: list[a.Rule]) -> bool:
    """``on e`` then ``-> b`` reads as ``on e -> b``: no tree has them in that order."""
    return not any(r.target is None and r.block is None and nxt.trigger.kind == "pass"
                   for r, nxt in zip(rs, rs[1:], strict=False))


rule_lists = st.lists(rules, max_size=4).filter(_readable).map(tuple)
fields = st.lists(st.builds(a.Field, st.builds(a.Ident, any_words), idents, st.booleans(),
                            maybe(exprs)), max_size=4).map(tuple)


@st.composite
def stages(draw: st.DrawFn) -> a.StageDecl:
    flags = draw(st.lists(st.sampled_from(["start", "final"]), max_size=2))
    has_body = draw(st.booleans())
    body = draw(rule_lists) if has_body else ()
    return a.StageDecl(draw(idents), tuple(a.Ident(f) for f in flags), body, has_body)


@st.composite
def signed(draw: st.DrawFn) -> float:
    """A number as the simulate block reads it: ``-5%`` is -0.05."""
    text = draw(st.from_regex(r"-?[0-9]{1,3}(\.[0-9]{1,3})?%?", fullmatch=True))
    value = float(text.strip("-%")) / (100 if text.endswith("%") else 1)
    return -value if text.startswith("-") else value


dist_args = st.one_of(
    st.builds(a.DistArg, st.just("number"), signed()),
    st.builds(a.DistArg, st.just("choice"), signed(), texts),
    st.builds(a.DistArg, st.just("bound"), signed(), names),
)
dists = st.one_of(
    st.builds(a.Dist, names, st.lists(dist_args, min_size=1, max_size=3).map(tuple)),
    st.builds(a.Dist, st.none(), constant=st.one_of(signed(), texts, st.booleans())),
)
payloads = st.lists(st.builds(a.DistField, st.builds(a.Ident, any_words), dists),
                    max_size=2).map(tuple)
rates = st.builds(a.SimRate, idents, st.one_of(numbers, percents), idents, payloads)
sim_items = st.one_of(
    st.builds(a.SimArrivals, idents, numbers, idents, maybe(durations), payloads),
    st.builds(a.SimIn, st.lists(idents, max_size=2).map(tuple), st.lists(rates, max_size=2)
              .map(tuple)),
    st.builds(a.SimReacts, idents, st.lists(st.builds(a.SimReaction, idents, percents,
                                                      durations), max_size=2).map(tuple)),
)
expects = st.one_of(
    st.builds(a.Expect, st.sampled_from(["stage", "sent", "goal", "bonus"]), st.booleans(),
              names),
    st.builds(a.Expect, st.just("tagged"), st.booleans(), texts),
    st.builds(a.Expect, st.just("expr"), st.just(False), st.none(), exprs),
)
steps = st.one_of(
    st.builds(a.StepEvent, st.one_of(datetimes, durations), idents, kvs, maybe(texts), kvs),
    st.builds(a.StepWait, durations),
    expects,
)
scenarios = st.builds(a.ScenarioDecl, texts, st.lists(steps, max_size=4).map(tuple))
day_spans = st.builds(a.DaySpan, idents, maybe(idents))
migrate_items = st.one_of(st.builds(a.MigrateStage, idents, idents),
                          st.builds(a.MigrateSet, idents, exprs))
decls: st.SearchStrategy[a.Decl] = st.one_of(
    st.builds(a.CustomerDecl, fields),
    st.builds(a.EventDecl, idents, fields),
    st.builds(a.MessageDecl, idents, idents, st.lists(st.builds(
        a.MessagePart, st.builds(a.Ident, any_words), texts), max_size=3).map(tuple)),
    st.builds(a.ChannelDecl, idents),
    st.builds(a.LimitDecl, idents, numbers, durations),
    st.builds(a.QuietHours, clocks, clocks),
    st.builds(a.SendWindow, st.lists(day_spans, min_size=1, max_size=2).map(tuple), clocks,
              clocks),
    st.builds(a.SegmentDecl, idents, exprs),
    st.builds(a.GoalDecl, idents, idents, maybe(exprs)),
    st.builds(a.GoalDecl, idents, when=exprs),
    st.builds(a.ValueDecl, exprs),
    st.builds(a.ReentryDecl, st.sampled_from(["never", "always"])),
    st.builds(a.ReentryDecl, st.just("after"), durations),
    st.builds(a.AnywhereDecl, rule_lists),
    stages(),
    st.builds(a.SimulateDecl, st.lists(sim_items, max_size=3).map(tuple)),
    st.builds(a.MigrateDecl, st.lists(migrate_items, max_size=3).map(tuple)),
    scenarios,
)
headers = st.builds(a.Header, texts, maybe(numbers), maybe(st.builds(a.StringLit, texts)))
journeys = st.builds(a.JourneyFile, headers, st.lists(decls, max_size=5).map(tuple))
scenario_files = st.builds(a.ScenarioFile, st.lists(scenarios, max_size=3).map(tuple))


def _round_trip(tree: Tree, file: str) -> str:
    out = format_tree(tree)
    assert parse(out, file) == tree
    assert format_source(out, file) == out
    return out


@PROPERTY
@given(exprs)
def test_random_expressions(expr: a.Expr) -> None:
    tree = a.JourneyFile(a.Header("x"), (a.SegmentDecl(a.Ident("s"), expr),))
    _round_trip(tree, "x.journey")


@PROPERTY
@given(stages())
def test_random_stages(stage: a.StageDecl) -> None:
    _round_trip(a.JourneyFile(a.Header("x"), (stage,)), "x.journey")


@PROPERTY
@given(journeys)
def test_random_journeys(tree: a.JourneyFile) -> None:
    _round_trip(tree, "x.journey")


@PROPERTY
@given(st.lists(migrate_items, max_size=4).map(tuple))
def test_random_migrate_blocks(items: tuple[a.MigrateItem, ...]) -> None:
    _round_trip(a.JourneyFile(a.Header("x"), (a.MigrateDecl(items),)), "x.journey")


@settings(PROPERTY, max_examples=40)
@given(scenario_files)
def test_random_scenario_files(tree: a.ScenarioFile) -> None:
    _round_trip(tree, "x.scenario")


def _gaps(text: str) -> list[int]:
    """Offsets of the spaces between tokens (outside string literals)."""
    gaps, in_string, escaped = [], False, False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif in_string:
            escaped, in_string = ch == "\\", ch != '"'
        elif ch == '"':
            in_string = True
        elif ch == " " and i and text[i - 1] != " ":
            gaps.append(i)
    return gaps


@st.composite
def commented(draw: st.DrawFn) -> tuple[a.JourneyFile, str]:
    """A random journey, formatted, some lines joined, with comments at line ends, on
    lines of their own (with or without blank lines around) and between tokens."""
    tree = draw(journeys)
    text = format_tree(tree)
    newlines = [i for i, ch in enumerate(text) if ch == "\n"]
    for at in sorted(set(draw(st.lists(st.sampled_from(newlines), max_size=6))), reverse=True):
        text = text[:at] + " " + text[at + 1:].lstrip(" ")
    newlines = [i for i, ch in enumerate(text) if ch == "\n"]
    points = sorted(set(draw(st.lists(st.sampled_from([*_gaps(text), *newlines]),
                                      max_size=8))), reverse=True)
    for n, at in enumerate(points):
        comment = f"# [c{n}] " + re.sub(r"[\n\r\[\]]", " ", draw(texts))
        layout = draw(st.sampled_from(["\n{}\n", "\n{}\n\n", "  {}\n", "\n\n{}\n"]))
        text = text[:at] + layout.format(comment) + text[at + 1:]
    return tree, text


@settings(PROPERTY, max_examples=150)
@given(commented())
def test_random_comments_are_kept(case: tuple[a.JourneyFile, str]) -> None:
    tree, text = case
    assert parse_journey(text) == tree
    out = check_format(text)
    def markers(source: str) -> list[str]:
        comments = " ".join(c for _, _, c in parse_journey(source).comments)
        return sorted(re.findall(r"\[c\d+\]", comments))

    assert markers(out) == markers(text)
