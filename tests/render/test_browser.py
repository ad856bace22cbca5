"""The HTML map opened in real headless Chromium: the DOM holds the map and the tables,
and a screenshot can be taken with the network switched off."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from journeyflow.render.output import render_diagram
from tests.render.browser import BROWSER_MARKS, chromium
from tests.render.cases import FIXTURES, diagram_of

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("html")
    diagram = diagram_of(FIXTURES / "language_example.journey", with_report=True)
    path = folder / "map.html"
    path.write_bytes(render_diagram(diagram, "html"))
    return path


def test_rendered_dom_holds_the_map_and_the_tables(page: Path, tmp_path: Path) -> None:
    result = chromium(page, tmp_path / "profile", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert '<figure id="map"' in dom
    assert "<svg" in dom
    assert 'id="stage-awareness"' in dom
    assert 'id="stage-churned"' in dom
    assert '<table id="stages">' in dom
    assert '<table id="rules">' in dom
    assert "language_example.journey:42" in dom
    assert '<figure id="funnel">' in dom


def test_screenshot(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "map.png"
    result = chromium(page, tmp_path / "profile", f"--screenshot={shot}",
                       "--window-size=1600,1000")
    assert result.returncode == 0, result.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1600, 1000)
    # A blank page compresses to almost nothing; a drawn map does not.
    assert len(data) > 50_000
