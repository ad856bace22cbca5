"""The parser: every construct of the language, Unicode names, spans, comments."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeyflow.errors import JourneySyntaxError
from journeyflow.syntax import ast as a
from journeyflow.syntax.parser import parse_journey, parse_scenarios

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.journey"))


def test_the_examples_use_every_declaration_and_parse() -> None:
    kinds: set[str] = set()
    for path in EXAMPLES:
        tree = parse_journey(path.read_text("utf-8"), path.name)
        kinds |= {type(d).__name__ for d in tree.decls}
    assert {"CustomerDecl", "EventDecl", "MessageDecl", "ChannelDecl", "LimitDecl",
            "QuietHours", "SendWindow", "SegmentDecl", "GoalDecl", "ValueDecl", "ReentryDecl",
            "AnywhereDecl", "StageDecl", "SimulateDecl", "ScenarioDecl"} <= kinds


def test_unicode_identifiers_and_keywords_as_names() -> None:
    tree = parse_journey('journey "Rückgewinnung"\n'
                         "customer { value: number = 0  window: text? }\n"
                         "event kauf { betrag: number }\n"
                         "stage rückgewinnung start { on kauf where event.betrag > 0 -> ende }\n"
                         "stage ende final\n")
    stage = tree.decls[2]
    assert isinstance(stage, a.StageDecl)
    assert stage.name.name == "rückgewinnung"
    fields = tree.decls[0]
    assert isinstance(fields, a.CustomerDecl)
    assert [f.name.name for f in fields.fields] == ["value", "window"]


def test_spans_point_at_tokens_and_comments_are_kept() -> None:
    source = 'journey "j"\n# a comment\nstage a start {\n  on go -> welcom  # typo\n}\n'
    tree = parse_journey(source)
    rule = tree.decls[0].rules[0]  # type: ignore[union-attr]
    assert rule.target is not None
    assert (rule.target.span.line, rule.target.span.col) == (4, 12)
    assert [c[2] for c in tree.comments] == ["# a comment", "# typo"]


def test_split_position_and_durations() -> None:
    tree = parse_journey('journey "j"\nstage a start {\n  on go {\n    split {\n'
                         "      30% { send x }\n      70% { after 1d12h { send y } }\n"
                         "    }\n  }\n}\n")
    block = tree.decls[0].rules[0].block  # type: ignore[union-attr]
    assert block is not None
    split = block.stmts[0]
    assert isinstance(split, a.Split)
    assert split.position == "4:5"
    delayed = split.arms[1].block.stmts[0]
    assert isinstance(delayed, a.Delayed)
    assert delayed.after.seconds == 36 * 3600


def test_scenario_file() -> None:
    tree = parse_scenarios('scenario "s" {\n  at 2026-01-01T10:00 go { n: 1 } as "c9" '
                           'with { email: "x" }\n  wait 2d\n  expect not tagged "x"\n}\n')
    step = tree.scenarios[0].steps[0]
    assert isinstance(step, a.StepEvent)
    assert step.customer == "c9"
    assert [kv.key.name for kv in step.attributes] == ["email"]


@pytest.mark.parametrize(("source", "code", "line"), [
    ('journey "j"\nstage a start { after 14 -> b }\n', "JF113", 2),
    ('journey "j"\nstage a start { when x = 1 -> b }\n', "JF117", 2),
    ('journey "j"\nmessage m { subject "s" }\n', "JF118", 2),
    ('journey "j"\nstage a start {\n', "JF120", 2),
    ('journey "j"\nmessage m via email { subject "open }\n', "JF102", 2),
    ("stage a start {}\n", "JF110", 1),
])
def test_syntax_errors_are_labelled(source: str, code: str, line: int) -> None:
    with pytest.raises(JourneySyntaxError) as info:
        parse_journey(source)
    first = info.value.diagnostics[0]
    assert (first.code, first.span.line) == (code, line)
    assert "$END" not in first.message
    assert "Token(" not in first.message


def test_every_syntax_error_of_a_file_is_reported() -> None:
    source = ('journey "j"\nstage a start {\n  after 14 -> b\n}\nstage b {\n'
              "  when x = 1 -> a\n}\nstage c {\n  on e { foo }\n}\n")
    with pytest.raises(JourneySyntaxError) as info:
        parse_journey(source)
    assert [d.span.line for d in info.value.diagnostics] == [3, 6, 9]
