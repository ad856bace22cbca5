"""The journeys the render tests draw: every example, the local fixtures, the rule cases.

Globbed at collection time, so a new example or case is picked up without editing a test.
Examples and fixtures have golden DOT files; the rule cases of tests/cases (small journeys
with odd shapes: self loops, pass-through cycles, lone stages) are drawn and checked for
structure, so adding a case never needs a golden file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import journeyflow
from journeyflow import Journey
from journeyflow.render.diagram import JourneyDiagram, build_diagram
from journeyflow.render.stats import read_report

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FIXTURES = HERE / "fixtures"
EXAMPLES = ROOT / "examples"
RULE_CASES = ROOT / "tests" / "cases"
GOLDEN = HERE.parent / "golden" / "render"
LANGUAGE_EXAMPLE = FIXTURES / "language_example.journey"
LANGUAGE_REPORT = FIXTURES / "language_example.report.json"


@dataclass(frozen=True)
class JourneyCase:
    """One journey file and the name of its golden DOT file."""

    name: str
    path: Path

    @property
    def golden(self) -> Path:
        return GOLDEN / f"{self.name}.dot"


def _rule_cases() -> Iterator[JourneyCase]:
    for case in sorted(RULE_CASES.glob("*/journey.journey")):
        # Cases about `check` hold journeys with errors on purpose: nothing to draw.
        if (case.parent / "events.jsonl").is_file():
            yield JourneyCase(f"case-{case.parent.name}", case)


def example_cases() -> list[JourneyCase]:
    """Every ``examples/*.journey`` and every fixture journey."""
    cases = [JourneyCase(p.stem, p) for p in sorted(EXAMPLES.glob("*.journey"))]
    fixtures = sorted(FIXTURES.glob("*.journey"))
    return cases + [JourneyCase(f"fixture-{p.stem}", p) for p in fixtures]


def journey_cases() -> list[JourneyCase]:
    """The examples and fixtures, then every rule case that runs."""
    return example_cases() + list(_rule_cases())


@cache
def load(path: Path) -> Journey:
    """Compile once per test session; journeys are immutable."""
    return journeyflow.load(path)


@cache
def diagram_of(path: Path, with_report: bool = False) -> JourneyDiagram:
    report = read_report(LANGUAGE_REPORT) if with_report else None
    return build_diagram(load(path), report, str(LANGUAGE_REPORT))
