"""Mermaid text: a strict structural check in Python, and Mermaid's own parser under node.

The real parser is the ``mermaid`` npm package run by node with jsdom standing
in for a browser (tests/render/mermaid/). Install it once with
``npm ci --prefix tests/render/mermaid --ignore-scripts``; without node or that
install the parser test is skipped, and the structural test still runs.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from journeyflow.render.mermaid import export_mermaid, mermaid_text
from tests.render.cases import FIXTURES, JourneyCase, diagram_of, journey_cases

CHECKER = Path(__file__).resolve().parent / "mermaid"
_LABEL = r'"(?:[^"<>]|<b>|</b>|<br/>)*"'  # quoted, no raw quote or markup but ours
_LINE = re.compile("|".join([
    r"flowchart LR",
    r"  start_point\(\( \)\) --> s\d+",
    rf"  s\d+\[{_LABEL}\]",
    rf"  s\d+\(\[{_LABEL}\]\)",
    rf"  s\d+ (?:-->|-\.->)\|{_LABEL}\| s\d+",
    rf"  anywhere_rules\[{_LABEL}\]",
    r"  classDef (?:acquisition|retention|winback) [a-z:#0-9A-F,.\- ]+",
    r"  class s\d+(?:,s\d+)* (?:acquisition|retention|winback)",
]))


def _check_structure(text: str, stages: list[str]) -> None:
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    for line in lines:
        assert _LINE.fullmatch(line), f"unexpected Mermaid line: {line!r}"
    defined = set(re.findall(r"^  (s\d+)[\[(]", text, re.M))
    assert len(defined) == len(stages)
    used = {i for pair in re.findall(r"^  (s\d+) \S+\|.*\| (s\d+)$", text, re.M) for i in pair}
    used |= {i for line in re.findall(r"^  class (\S+) ", text, re.M) for i in line.split(",")}
    used |= set(re.findall(r"^  start_point\(\( \)\) --> (s\d+)$", text, re.M))
    assert used == defined, used ^ defined
    for name in stages:
        assert f"<b>{mermaid_text(name)}</b>" in text


def test_structure(journey_case: JourneyCase) -> None:
    diagram = diagram_of(journey_case.path)
    _check_structure(export_mermaid(diagram), [s.name for s in diagram.stages])


def test_structure_with_stats() -> None:
    diagram = diagram_of(FIXTURES / "language_example.journey", with_report=True)
    text = export_mermaid(diagram)
    _check_structure(text, [s.name for s in diagram.stages])
    assert "940 sent, <b>20 suppressed</b>" in text
    assert "960 transitions, 96%" in text


def test_labels_are_escaped() -> None:
    text = export_mermaid(diagram_of(FIXTURES / "tricky.journey"))
    assert 'source == #quot;#lt;ads#gt;#quot;' in text
    assert "tag a#amp;b" in text
    assert mermaid_text("#1 | `x`") == "#35;1 #124; #96;x#96;"


def test_anywhere_rules_are_one_box_without_edges() -> None:
    text = export_mermaid(diagram_of(FIXTURES / "language_example.journey"))
    assert "anywhere_rules[" in text
    assert "anywhere_rules -" not in text
    assert "--> anywhere_rules" not in text


def _parser_ready() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not (CHECKER / "node_modules" / "mermaid").is_dir():
        return ("Mermaid's parser is not installed: run "
                "'npm ci --prefix tests/render/mermaid --ignore-scripts'")
    return None


@pytest.mark.skipif(_parser_ready() is not None, reason=str(_parser_ready()))
def test_mermaid_parses_every_journey(tmp_path: Path) -> None:
    files = []
    cases = [(c.name, c.path, False) for c in journey_cases()]
    cases.append(("stats", FIXTURES / "language_example.journey", True))
    for name, path, stats in cases:
        out = tmp_path / f"{name}.mmd"
        out.write_text(export_mermaid(diagram_of(path, stats)), "utf-8")
        files.append(str(out))
    result = subprocess.run(["node", str(CHECKER / "check.mjs"), *files], capture_output=True,
                            text=True, timeout=300, check=False)
    reports = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(reports) == len(files), result.stderr
    failures = [r for r in reports if not r["ok"]]
    assert not failures, failures
    assert {r["type"] for r in reports} == {"flowchart-v2"}


@pytest.mark.skipif(_parser_ready() is not None, reason=str(_parser_ready()))
def test_the_parser_does_reject_broken_text(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mmd"
    bad.write_text('flowchart LR\n  s0["a "quoted" b"] --> s1\n', "utf-8")
    result = subprocess.run(["node", str(CHECKER / "check.mjs"), str(bad)], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert json.loads(result.stdout.splitlines()[-1])["ok"] is False


def test_named_splits_and_labelled_arms_are_named_in_mermaid() -> None:
    from journeyflow.journey import loads
    from journeyflow.render import build_diagram, export_mermaid

    journey = loads('''journey "m"
event go {}
message a via email { subject "A" }
message b via email { subject "B" }
stage s start {
  on go {
    split "subject_line" { 50% plain { send a } 50% { send b } }
  }
}
''', "m.journey")
    text = export_mermaid(build_diagram(journey))
    assert 'split "subject_line", plain 50%' in text.replace("&quot;", '"').replace("#quot;", '"')
    assert 'split "subject_line", 50%' in text.replace("&quot;", '"').replace("#quot;", '"')
