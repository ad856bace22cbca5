"""The journeys the render tests draw: every example, the conformance cases, local fixtures.

Globbed at collection time, so a new example is picked up without editing a test.
"""

from __future__ import annotations

import json
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
CONFORMANCE = ROOT.parent / "shared" / "conformance" / "cases"
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


def _conformance() -> Iterator[JourneyCase]:
    if not CONFORMANCE.is_dir():
        return
    for case in sorted(CONFORMANCE.iterdir()):
        expect = case / "expect.json"
        # Compile-only cases hold journeys with errors on purpose: nothing to draw.
        if expect.is_file() and "check_exit" in json.loads(expect.read_text("utf-8")):
            continue
        if (case / "journey.journey").is_file():
            yield JourneyCase(f"conformance-{case.name}", case / "journey.journey")


def example_cases() -> list[JourneyCase]:
    """Every ``examples/*.journey`` and every fixture journey."""
    cases = [JourneyCase(p.stem, p) for p in sorted(EXAMPLES.glob("*.journey"))]
    fixtures = sorted(FIXTURES.glob("*.journey"))
    return cases + [JourneyCase(f"fixture-{p.stem}", p) for p in fixtures]


def journey_cases() -> list[JourneyCase]:
    return example_cases() + list(_conformance())


@cache
def load(path: Path) -> Journey:
    """Compile once per test session; journeys are immutable."""
    return journeyflow.load(path)


@cache
def diagram_of(path: Path, with_report: bool = False) -> JourneyDiagram:
    report = read_report(LANGUAGE_REPORT) if with_report else None
    return build_diagram(load(path), report, str(LANGUAGE_REPORT))
