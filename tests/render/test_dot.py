"""DOT text: golden files for the examples and fixtures, determinism for every journey,
escaping, grey-print styles."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from itertools import combinations
from pathlib import Path

import pytest

from journeyflow.render.diagram import build_diagram
from journeyflow.render.dot import PHASE_STYLE, dot_quote, export_dot, html_text
from journeyflow.render.engine import run_dot
from tests.render.cases import FIXTURES, JourneyCase, diagram_of, load

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")


def test_golden_dot(example_case: JourneyCase, golden: Callable[[Path, str], None]) -> None:
    golden(example_case.golden, export_dot(diagram_of(example_case.path)))


def test_dot_is_deterministic(journey_case: JourneyCase) -> None:
    first = export_dot(build_diagram(load(journey_case.path)))
    assert export_dot(build_diagram(load(journey_case.path))) == first


def test_stages_are_written_in_lifecycle_order_and_edges_sorted() -> None:
    text = export_dot(diagram_of(FIXTURES / "language_example.journey"))
    stages = re.findall(r'^  "([^"]+)" \[id="stage-', text, re.M)
    assert stages == ["awareness", "consideration", "first_purchase", "service", "retention",
                      "loyalty", "advocacy", "winback", "churned"]
    edge_ids = [int(i) for i in re.findall(r'\[id="edge-(\d+)"', text)]
    assert edge_ids == sorted(edge_ids)
    assert "rankdir=LR;" in text


def test_start_and_final_shapes() -> None:
    text = export_dot(diagram_of(FIXTURES / "language_example.journey"))
    assert '"journey start" [shape=circle, style=filled, fillcolor=black' in text
    assert '"journey start" -> "awareness"' in text
    churned = next(line for line in text.splitlines() if line.startswith('  "churned" ['))
    assert "peripheries=2" in churned
    assert "peripheries" not in next(line for line in text.splitlines()
                                     if line.startswith('  "awareness" ['))


def test_back_edges_keep_the_lifecycle_ranks() -> None:
    text = export_dot(diagram_of(FIXTURES / "language_example.journey"))
    line = next(x for x in text.splitlines() if "language_example.journey:93" in x)
    assert line.startswith('  "retention" -> "winback"')
    assert "dir=back" in line


def test_escaping_in_every_label() -> None:
    text = export_dot(diagram_of(FIXTURES / "tricky.journey"))
    assert text.startswith('digraph "Tricky \\"quotes\\" & <angles>" {')
    assert "Tricky &quot;quotes&quot; &amp; &lt;angles&gt;" in text  # the legend title
    assert 'label="signed_up,\\nsource ==\\n\\"<ads>\\""' in text  # a plain edge label
    assert "tag a&amp;b" in text
    assert "&lt;Gold&gt; &amp; &quot;Plus&quot;" in text
    assert '"prüfung"' in text
    # No raw markup character survives inside an HTML-like label.
    for label in re.findall(r"label=<(.*?)>[,;]", text):
        inner = re.sub(r"</?[A-Z]+[^<>]*>", "", label)
        assert not set("<>") & set(inner), inner


@needs_dot
@pytest.mark.parametrize("name", ["tricky.journey", "language_example.journey"])
def test_graphviz_accepts_the_text(name: str) -> None:
    for columns in (None, 2, 3):
        assert run_dot(export_dot(diagram_of(FIXTURES / name), columns=columns), "json")


def test_quote_helpers() -> None:
    assert dot_quote('a "b" \\N\nc') == '"a \\"b\\" \\\\N\\nc"'
    assert html_text("x < y & z", None) == "x &lt; y &amp; z"
    assert html_text("one two three", 7) == 'one two<BR ALIGN="LEFT"/>three'


def _grey(colour: str) -> float:
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.299 * red + 0.587 * green + 0.114 * blue


def test_phase_styles_survive_grey_print() -> None:
    greys = sorted(_grey(fill) for fill, _, _ in PHASE_STYLE.values())
    assert all(b - a >= 30 for a, b in zip(greys, greys[1:], strict=False)), greys
    # Border style and width differ too, so even equal greys would tell phases apart.
    borders = [(style, width) for _, style, width in PHASE_STYLE.values()]
    assert all(a != b for a, b in combinations(borders, 2))


def test_columns_wrap_the_lifecycle_into_rows() -> None:
    text = export_dot(diagram_of(FIXTURES / "language_example.journey"), columns=5)
    assert text.count("{rank=same;") == 5
    assert '{rank=same; "column 4"; "retention"; "label of edge 6"; "loyalty";}' in text
    # The edge within the column goes through its label, drawn as a node of its own.
    assert '"retention" -> "label of edge 6" [id="edge-6-a", dir=none' in text
    assert '"label of edge 6" -> "loyalty" [id="edge-6", dir=forward' in text
