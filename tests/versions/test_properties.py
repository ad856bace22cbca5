"""Properties of the diff on generated journeys.

* a journey diffed against itself is empty;
* against the same journey in another layout (comments, blank lines, one line or many,
  spacing, ``;``) or against its ``fmt`` output, the only change is a moved split (a
  split's position seeds its arms), and none when no split moved;
* one changed delay is always found, so the properties above cannot pass by finding
  nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeyflow
from journeyflow.syntax.format import format_source
from journeyflow.versions import JourneyDiff, diff_journeys

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.journey"))
PROPERTY = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
EVENTS = ("signed_up", "purchased", "clicked")
MESSAGES = ("welcome", "offer", "reminder")


@dataclass(frozen=True)
class Layout:
    """How a generated journey is written: the same journey in every layout."""

    compact: bool  # blocks on one line, statements separated by ';'
    comments: bool
    indent: str
    blank: str

    def block(self, stmts: list[str]) -> str:
        if not stmts:
            return "{}"
        if self.compact:
            return "{ " + "; ".join(stmts) + " }"
        inner = "".join(f"\n{self.indent * 2}{s}" for s in stmts)
        return "{" + inner + f"\n{self.indent}}}"


Statement = tuple[str, object]
Rules = list[tuple[str, list[Statement]]]
Journey = list[tuple[str, Rules]]


layouts = st.builds(Layout, st.booleans(), st.booleans(), st.sampled_from(["  ", "    ", "\t"]),
                    st.sampled_from(["\n", "\n\n", "\n\n\n"]))
numbers = st.integers(min_value=1, max_value=90)


@st.composite
def statements(draw: st.DrawFn, depth: int = 0) -> list[Statement]:
    """(kind, data) statements: rendered per layout by render_statement."""
    simple = st.one_of(
        st.tuples(st.just("send"), st.sampled_from(MESSAGES)),
        st.tuples(st.just("tag"), st.sampled_from(["a", "b"])),
        st.tuples(st.just("set"), numbers),
    )
    options = [simple]
    if depth < 2:
        nested = st.deferred(lambda: statements(depth + 1))
        options += [st.tuples(st.just("after"), st.tuples(numbers, nested)),
                    st.tuples(st.just("if"), st.tuples(numbers, nested, nested)),
                    st.tuples(st.just("split"), st.tuples(nested, nested))]
    return draw(st.lists(st.one_of(*options), max_size=3))


def render_statement(layout: Layout, stmt: Statement) -> str:
    kind, data = stmt
    if kind == "send":
        return f"send {data}"
    if kind == "tag":
        return f'tag "{data}"'
    if kind == "set":
        return f"set points += {data}" if layout.compact else f"set points+={data}"
    body = lambda part: layout.block([render_statement(layout, s) for s in part])  # noqa: E731
    if kind == "after":
        hours, inner = data  # type: ignore[misc]
        return f"after {hours}h {body(inner)}"
    if kind == "if":
        bound, then, orelse = data  # type: ignore[misc]
        return f"if points > {bound} {body(then)} else {body(orelse)}"
    first, second = data  # type: ignore[misc]
    return f"split {{ 50% {body(first)} 50% {body(second)} }}"


@st.composite
def rules(draw: st.DrawFn, stages: int) -> Rules:
    """(head, statements) rules; heads name stages s0..s{stages-1}."""
    targets = st.one_of(st.just(""), st.integers(0, stages - 1).map(lambda i: f" -> s{i}"))
    heads = st.one_of(
        st.tuples(st.sampled_from(EVENTS), st.one_of(st.just(""), numbers.map(
            lambda n: f" where points >= {n}")), targets).map(lambda t: f"on {t[0]}{t[1]}{t[2]}"),
        st.just("on enter"),
        st.tuples(numbers, targets).map(lambda t: f"after {t[0]}d{t[1]}"),
        st.tuples(numbers, targets).map(lambda t: f"when points > {t[0]}{t[1]}"),
    )
    return draw(st.lists(st.tuples(heads, statements()), max_size=4))


@st.composite
def journeys(draw: st.DrawFn) -> Journey:
    count = draw(st.integers(1, 4))
    return [(f"s{i}", draw(rules(count))) for i in range(count)]


def render(journey: Journey, layout: Layout) -> str:
    note = "# generated\n" if layout.comments else ""
    out = [f'{note}journey "generated"', "customer { points: number = 0 }"]
    out += [f"event {e} {{}}" for e in EVENTS]
    out += [f'message {m} via email {{ subject "{m}" }}' for m in MESSAGES]
    for i, (name, stage_rules) in enumerate(journey):
        lines = [f"stage {name}{' start' if i == 0 else ''} {{"]
        for head, body in stage_rules:
            comment = "  # why" if layout.comments else ""
            stmts = [render_statement(layout, s) for s in body]
            lines.append(f"{layout.indent}{head}" + (f" {layout.block(stmts)}" if stmts else "")
                         + comment)
        out.append("\n".join(lines) + "\n}")
    return layout.blank.join(out) + "\n"


def diff(old: str, new: str) -> JourneyDiff:
    return diff_journeys(journeyflow.loads(old, "old.journey"),
                         journeyflow.loads(new, "new.journey"))


def only_moved_splits(result: JourneyDiff, old: str, new: str) -> None:
    kinds = {c.kind for c in result.changes}
    assert kinds <= {"action.split_position"}, result.changes
    if _columns(old) == _columns(new):
        assert result.changes == ()


def _columns(text: str) -> list[tuple[int, int]]:
    found = []
    for match in re.finditer(r"\bsplit\b", text):
        line = text[:match.start()].count("\n") + 1
        found.append((line, match.start() - text.rfind("\n", 0, match.start())))
    return found


@PROPERTY
@given(journeys(), layouts)
def test_a_journey_against_itself_is_empty(journey: Journey, layout: Layout) -> None:
    text = render(journey, layout)
    assert diff(text, text).changes == ()


@PROPERTY
@given(journeys(), layouts, layouts)
def test_layout_changes_only_move_splits(journey: Journey, first: Layout,
                                         second: Layout) -> None:
    old, new = render(journey, first), render(journey, second)
    only_moved_splits(diff(old, new), old, new)


@PROPERTY
@given(journeys(), layouts)
def test_fmt_output_only_moves_splits(journey: Journey, layout: Layout) -> None:
    text = render(journey, layout)
    formatted = format_source(text, "old.journey")
    only_moved_splits(diff(text, formatted), text, formatted)


@PROPERTY
@given(journeys(), layouts, st.data())
def test_a_changed_delay_is_found(journey: Journey, layout: Layout,
                                  data: st.DataObject) -> None:
    text = render(journey, layout)
    delays = list(re.finditer(r"after (\d+)([dh])", text))
    if not delays:
        return
    spot = data.draw(st.sampled_from(delays))
    changed = f"{text[:spot.start(1)]}{int(spot.group(1)) + 1}{text[spot.end(1):]}"
    kinds = {c.kind for c in diff(text, changed).changes}
    assert kinds & {"rule.trigger", "action.timer"}


def test_examples_against_themselves_and_their_fmt_output() -> None:
    for path in EXAMPLES:
        text = path.read_text("utf-8")
        assert diff(text, text).changes == (), path.name
        formatted = format_source(text, str(path))
        only_moved_splits(diff(text, formatted), text, formatted)


def test_the_generator_makes_journeys_with_moving_splits() -> None:
    """Guards the properties above: generated journeys do have splits that layouts move."""
    journey: Journey = [("s0", [("on enter", [("split", ([("send", "welcome")], []))])])]
    old = render(journey, Layout(True, False, "  ", "\n"))
    new = render(journey, Layout(False, True, "    ", "\n\n"))
    kinds = [c.kind for c in diff(old, new).changes]
    assert kinds == ["action.split_position"]
