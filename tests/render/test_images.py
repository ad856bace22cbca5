"""SVG, PNG, PDF and HTML through the real Graphviz ``dot``, and the layout's legibility."""

from __future__ import annotations

import re
import shutil
import struct
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from journeyflow.render.diagram import JourneyDiagram
from journeyflow.render.legibility import fit_page, layout_problems, page_scale
from journeyflow.render.output import render_diagram
from tests.render.cases import FIXTURES, JourneyCase, diagram_of

pytestmark = pytest.mark.skipif(shutil.which("dot") is None,
                                reason="Graphviz 'dot' not installed (apt-get install graphviz)")

SVG = "{http://www.w3.org/2000/svg}"


def _svg_text(svg: bytes) -> str:
    root = ET.fromstring(svg)
    return " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))


def test_svg_names_every_stage(example_case: JourneyCase) -> None:
    diagram = diagram_of(example_case.path)
    svg = render_diagram(diagram, "svg")
    texts = _svg_text(svg)
    for stage in diagram.stages:
        assert stage.name in texts
    ids = {g.get("id") for g in ET.fromstring(svg).iter(f"{SVG}g")}
    assert {f"stage-{s.name}" for s in diagram.stages} <= ids


def test_png_is_a4_landscape(example_case: JourneyCase) -> None:
    png = render_diagram(diagram_of(example_case.path), "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width / height == pytest.approx(11.7 / 8.3, rel=0.01)
    assert width == pytest.approx(11.7 * 150, abs=3)


def test_pdf_is_one_a4_landscape_page(example_case: JourneyCase) -> None:
    pdf = render_diagram(diagram_of(example_case.path), "pdf")
    assert pdf[:5] == b"%PDF-"
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert len(boxes) == 1
    width, height = (float(v) for v in boxes[0])
    assert width == pytest.approx(842, abs=2)
    assert height == pytest.approx(598, abs=2)


class _Collector(HTMLParser):
    """Tags, attributes and text of a page, to check it needs no network."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _page(diagram: JourneyDiagram) -> _Collector:
    html = render_diagram(diagram, "html").decode("utf-8")
    page = _Collector()
    page.feed(html)
    return page


def test_html_is_self_contained(example_case: JourneyCase) -> None:
    diagram = diagram_of(example_case.path)
    page = _page(diagram)
    tags = [t for t, _ in page.tags]
    assert tags.count("svg") == 1
    assert "script" not in tags
    assert "link" not in tags
    for _, attrs in page.tags:
        for name, value in attrs.items():
            # Namespaces are names, not downloads; nothing else may point elsewhere.
            if name in ("src", "href", "xlink:href") and value:
                assert value.startswith("#"), (name, value)
    tables = {a.get("id") for t, a in page.tags if t == "table"}
    assert {"stages", "rules"} <= tables
    text = " ".join(page.text)
    for stage in diagram.stages:
        assert stage.location in text
    for edge in diagram.edges:
        assert edge.rule in text


def test_html_with_stats_has_a_funnel_and_marks_suppressed_sends() -> None:
    diagram = diagram_of(FIXTURES / "language_example.journey", with_report=True)
    html = render_diagram(diagram, "html").decode("utf-8")
    assert html.count("<svg") == 2
    funnel = re.search(r'<figure id="funnel">(.*?)</figure>', html, re.S)
    assert funnel is not None
    ET.fromstring(funnel.group(1))  # well-formed inline SVG
    assert "1,000 reached · 40 at end" in funnel.group(1)
    assert '<span class="suppressed">45 suppressed</span>' in html
    assert '<table id="messages">' in html


def test_stats_overlay_in_svg() -> None:
    diagram = diagram_of(FIXTURES / "language_example.journey", with_report=True)
    texts = _svg_text(render_diagram(diagram, "svg"))
    assert "960 reached (96%)" in texts
    assert "50 at end" in texts
    assert "960 transitions (96%)" in texts
    assert "45 suppressed" in texts


def test_chosen_layout_has_no_overlaps_or_crossings(example_case: JourneyCase) -> None:
    _, layout = fit_page(diagram_of(example_case.path))
    assert layout_problems(layout) == []
    # A long lifecycle is wrapped rather than shrunk to unreadable print.
    assert page_scale(layout) >= 0.5


def test_layout_with_stats_has_no_overlaps_or_crossings() -> None:
    _, layout = fit_page(diagram_of(FIXTURES / "language_example.journey", with_report=True))
    assert layout_problems(layout) == []
