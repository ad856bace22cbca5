"""The page ``simulate --out report.html`` writes, opened in real headless Chromium: the
browser's DOM holds the figures a marketer forwards, and the page draws."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

import journeyflow
from journeyflow.simulate import simulate
from journeyflow.simulate.report import report_page
from tests.render.browser import BROWSER_MARKS, chromium

ROOT = Path(__file__).resolve().parents[2]
pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    journey = journeyflow.load(ROOT / "examples" / "lifecycle.journey")
    report = simulate(journey, customers=500, days=120, seed=7).report
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(report_page(journey, report), "utf-8")
    return path


def test_the_browser_shows_the_figures(page: Path, tmp_path: Path) -> None:
    result = chromium(page, tmp_path / "profile", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    for table_id in ("summary", "goals", "value", "bonuses", "messages", "rules"):
        assert f'<table id="{table_id}">' in dom
    assert "Messages per customer per week" in dom
    assert "Median time to reach" in dom
    assert "Redeemed of granted" in dom
    assert "transitions (" in dom
    assert " customers (" not in dom


def test_screenshot_of_the_whole_report(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    result = chromium(page, tmp_path / "profile", f"--screenshot={shot}",
                       "--window-size=1400,4000")
    assert result.returncode == 0, result.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1400, 4000)
    # A blank or unstyled page compresses to little; the map, funnel and tables do not.
    assert len(data) > 200_000
