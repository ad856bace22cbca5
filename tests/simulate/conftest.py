"""Fixtures for the simulate tests: small journeys written for one property each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import journeyflow
from journeyflow.journey import Journey

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
ROOT = HERE.parent.parent
LIFECYCLE = ROOT / "examples" / "lifecycle.journey"
KUNDEN = FIXTURES / "kunden.journey"


@pytest.fixture
def compile_journey() -> Callable[[str], Journey]:
    """Compile journey text given inline (named sim.journey in messages)."""

    def make(text: str) -> Journey:
        return journeyflow.loads(text, "sim.journey")

    return make


@pytest.fixture
def write_journey(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write journey text to a file in a temporary folder and return its path."""

    def write(text: str, name: str = "sim.journey") -> Path:
        path = tmp_path / name
        path.write_text(text, "utf-8")
        return path

    return write
