"""The language's rules as executable cases: every folder of ``tests/cases`` through the CLI.

A case is a folder with ``journey.journey``, ``events.jsonl`` (absent when the case is about
``check`` only) and ``expect.toml``; tests/cases/README.md describes the format. Each case
runs through ``journeyflow run`` (in this process, with click's runner) and its state and
whole trace are compared with the expectations. A case whose behaviour the interpreter does
not follow yet carries ``xfail = "..."`` and is a strict expected failure, so it turns red the
day the interpreter is fixed and the mark is left behind.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import re
import signal
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from click.testing import CliRunner

from journeyflow.cli import main

CASES = Path(__file__).resolve().parents[1] / "cases"
TIME_LIMIT = 3  # seconds; a case runs in well under one, and a loop must not hang the suite
# The rules the cases must cover: section 6 (a step) and section 11 (precise rules) of the
# language reference's "What happens in a step" and "Precise rules".
RULES = [f"6.{n}" for n in range(1, 9)] + [f"11.{n}" for n in range(1, 28)]
STATE_KEYS = {"stage", "status", "attributes", "tags", "bonuses", "goals", "segments",
              "pending", "value"}
RUN_KEYS = {"processed", "rejected", "pending", "warnings"}
CASE_KEYS = {"rules", "shows", "until", "xfail", "check", "run", "customers", "trace"}


@dataclass(frozen=True)
class Case:
    """One folder of tests/cases and its parsed ``expect.toml``."""

    path: Path
    expect: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def runs(self) -> bool:
        return (self.path / "events.jsonl").is_file()


def load_cases() -> list[Case]:
    folders = sorted(p for p in CASES.iterdir() if (p / "journey.journey").is_file())
    return [Case(p, _expectations(p / "expect.toml")) for p in folders]


def _expectations(path: Path) -> dict[str, Any]:
    # A missing file loads as no expectations, so test_every_case_is_well_formed names it.
    return tomllib.loads(path.read_text("utf-8")) if path.is_file() else {}


def case_params() -> list[Any]:
    params = []
    for case in load_cases():
        marks = []
        if "xfail" in case.expect:
            marks.append(pytest.mark.xfail(reason=case.expect["xfail"], strict=True))
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


# ---- the trace, one readable line per record ---------------------------------------------------


def _value(value: Any) -> str:
    # Bare only when it cannot be read as anything but text: "5" and 5 must not look alike.
    if (isinstance(value, str) and re.fullmatch(r"[\w.:%+-]+", value)
            and not re.fullmatch(r"-?\d+(\.\d+)?|true|false|null", value)):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _instant(at: Any) -> str:
    if not isinstance(at, str):
        return "-"
    return re.sub(r"(T\d\d:\d\d)(:00)?Z$", r"\1", at).removesuffix("Z")


def trace_line(record: dict[str, Any]) -> str:
    """``AT CUSTOMER KIND [VALUE] key=value ...``: the field named like the kind comes first,
    bare (``action send``, ``goal converted``); a rejected record leaves out its copy of the
    input line, which ``line`` points at."""
    kind = record.get("kind")
    customer = record.get("customer")
    words = [_instant(record.get("at")), "-" if customer is None else _value(customer), str(kind)]
    if kind in record:
        words.append(_value(record[kind]))
    for key, value in record.items():
        if key in ("at", "customer", "kind", kind) or (kind == "rejected" and key == "event"):
            continue
        words.append(f"{key}={_value(value)}")
    return " ".join(words)


def trace_matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line. An expected line ending in ``...`` only fixes how the line starts; a line
    that is just ``...`` stands for any number of lines (a long loop, say); ``*`` in place of
    the instant matches any instant."""
    # reach[j]: the first i expected lines can match the first j actual lines.
    reach = [True] + [False] * len(actual)
    for want in expected:
        if want == "...":
            for j in range(1, len(reach)):
                reach[j] = reach[j] or reach[j - 1]
            continue
        reach = [False] + [reach[j] and _line_matches(want, actual[j])
                           for j in range(len(actual))]
    return reach[-1]


def _line_matches(want: str, got: str) -> bool:
    if want.startswith("* "):  # any instant, or none
        want, got = want[2:], got.partition(" ")[2]
    if want.endswith("..."):
        return got.startswith(want.removesuffix("..."))
    return want == got


# ---- running a case through the command line -------------------------------------------------


class CaseTimeout(BaseException):
    """A case ran past TIME_LIMIT. A BaseException, so no ``except Exception`` swallows it."""


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise CaseTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def invoke(args: list[str]) -> tuple[int, str]:
    try:
        with time_limit(TIME_LIMIT):
            result = CliRunner().invoke(main, args, catch_exceptions=True)
    except CaseTimeout:
        pytest.fail(f"journeyflow {args[0]} did not finish within {TIME_LIMIT} s")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        pytest.fail(f"journeyflow {args[0]} raised {result.exception!r}\n{result.output}")
    return result.exit_code, result.output


def diagnostics(case: Case) -> list[str]:
    code, output = invoke(["check", "--format", "json", str(case.path / "journey.journey")])
    assert code in (0, 1), output
    return [f"{d['line']}:{d['col']} {d['severity']} {d['code']}" for d in json.loads(output)]


def run_case(case: Case, tmp_path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    trace, state = tmp_path / "trace.jsonl", tmp_path / "state.json"
    args = ["run", str(case.path / "journey.journey"), "--events",
            str(case.path / "events.jsonl"), "--trace", str(trace), "--state", str(state)]
    if "until" in case.expect:
        args += ["--until", case.expect["until"]]
    code, output = invoke(args)
    assert code == 0, output
    records = [json.loads(line) for line in trace.read_text("utf-8").splitlines()]
    return json.loads(state.read_text("utf-8")), records


# ---- comparing -------------------------------------------------------------------------------


def state_problems(want: dict[str, Any], state: dict[str, Any]) -> list[str]:
    problems = []
    summary = {"processed": state.get("processed"), "rejected": len(state.get("rejected", [])),
               "pending": state.get("pending"), "warnings": state.get("warnings")}
    for key, value in want.get("run", {}).items():
        if summary[key] != value:
            problems.append(f"run.{key} = {summary[key]!r}, expected {value!r}")
    customers = state.get("customers", {})
    for cid, fields in want.get("customers", {}).items():
        got = customers.get(cid)
        if got is None:
            problems.append(f"customer {cid} is not in the state")
            continue
        for key, value in fields.items():
            actual = got.get(key)
            if key == "attributes":  # TOML has no null: "<null>" and "<absent>" stand in
                actual = {name: _attribute(got["attributes"], name) for name in value}
            if actual != value:
                problems.append(f"{cid}.{key} = {actual!r}, expected {value!r}")
    return problems


def _attribute(attributes: dict[str, Any], name: str) -> Any:
    if name not in attributes:
        return "<absent>"
    return "<null>" if attributes[name] is None else attributes[name]


def expected_trace(case: Case) -> list[str]:
    return [line.strip() for line in case.expect["trace"].strip().splitlines() if line.strip()]


@pytest.mark.parametrize("case", case_params())
def test_case(case: Case, tmp_path: Path) -> None:
    if "check" in case.expect:
        found, wanted = diagnostics(case), case.expect["check"]
        same = len(found) == len(wanted) and all(
            fnmatch.fnmatchcase(got, want) for got, want in zip(found, wanted, strict=True))
        assert same, f"{case.name}: check found {found}, expected {wanted}"
    if not case.runs:
        return
    state, records = run_case(case, tmp_path)
    problems = state_problems(case.expect, state)
    actual = [trace_line(r) for r in records]
    expected = expected_trace(case)
    if not trace_matches(expected, actual):
        shown = [got if _line_matches(want, got) else want
                 for want, got in zip(expected, actual, strict=False)] + expected[len(actual):]
        diff = difflib.unified_diff(shown, actual, "expected trace", "actual trace", lineterm="")
        problems.append("trace differs:\n" + "\n".join(diff))
    assert not problems, f"{case.name} ({case.expect.get('shows')}):\n" + "\n".join(problems)


# ---- the folder itself -----------------------------------------------------------------------


def test_every_case_is_well_formed() -> None:
    for case in load_cases():
        assert set(case.expect) <= CASE_KEYS, (case.name, set(case.expect) - CASE_KEYS)
        assert case.expect.get("shows"), f"{case.name}: say what the case shows"
        assert case.expect.get("rules"), f"{case.name}: name the rules it covers"
        assert set(case.expect["rules"]) <= set(RULES), case.name
        if case.runs:
            assert "trace" in case.expect, f"{case.name}: a run case states its whole trace"
            assert set(case.expect.get("run", {})) <= RUN_KEYS, case.name
            for cid, fields in case.expect.get("customers", {}).items():
                assert set(fields) <= STATE_KEYS, (case.name, cid, set(fields) - STATE_KEYS)
        else:
            assert "check" in case.expect, f"{case.name}: no events, so it needs `check`"
        reason = case.expect.get("xfail", "")
        assert not reason or re.match(r"\d+\.\d+\b", reason), f"{case.name}: name the rule"


def test_every_rule_has_a_case() -> None:
    covered = {rule for case in load_cases() for rule in case.expect["rules"]}
    assert [rule for rule in RULES if rule not in covered] == []


def test_the_trace_line_format() -> None:
    assert trace_line({"at": "2026-01-01T10:00:00Z", "customer": "c1", "kind": "action",
                       "action": "send", "message": "welcome", "channel": "email"}) == (
        "2026-01-01T10:00 c1 action send message=welcome channel=email")
    assert trace_line({"at": None, "customer": None, "kind": "rejected", "reason": "not JSON",
                       "event": {"raw": "x"}, "line": 3}) == (
        '- - rejected reason="not JSON" line=3')
    assert trace_line({"at": "2026-01-01T10:00:30Z", "customer": "c1", "kind": "goal",
                       "goal": "converted"}) == "2026-01-01T10:00:30 c1 goal converted"
    assert trace_matches(["- - rejected reason=\"not ..."], ['- - rejected reason="not JSON"'])
    assert not trace_matches(["a b"], ["a b", "a c"])
    assert trace_matches(["a", "...", "z"], ["a", "b", "c", "z"])
    assert trace_matches(["a", "...", "z"], ["a", "z"])
    assert trace_matches(["* c1 goal g"], ["2026-01-01T10:00 c1 goal g"])
    assert not trace_matches(["a", "...", "z"], ["a", "b"])
    assert trace_line({"at": "2026-01-01T10:00:00Z", "customer": "c1", "kind": "action",
                       "action": "grant_bonus", "bonus": "b", "value": "5"}).endswith(
        'value="5"')
