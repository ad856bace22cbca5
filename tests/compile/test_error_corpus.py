"""The golden corpus of broken journeys in ``tests/golden/errors``.

Each ``<CODE>-<slug>.journey`` is a small journey with one clear mistake (a
few have several); the ``.err`` beside it is what ``journeyflow check`` prints
for it, file shown by its base name. Regenerate with ``pytest --update-golden``
and review the diff: the caret must sit under the offending token and the
hint must help.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from journeyflow.errors import Diagnostic, JourneyError, format_diagnostics
from journeyflow.journey import check_text

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent / "golden" / "errors"
PACKAGE = HERE.parent.parent / "journeyflow"
CATALOGUE = HERE.parent.parent / "docs" / "errors.md"
CODE = re.compile(r"JF\d{3}")


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.journey"))


def diagnostics_of(path: Path) -> tuple[Diagnostic, ...]:
    """Every diagnostic of the file, syntax errors included, named by the base name."""
    text = path.read_text("utf-8")
    try:
        diags = check_text(text, str(path)).diagnostics
    except JourneyError as err:
        diags = err.diagnostics
    return tuple(replace(d, file=path.name) for d in diags)


def render(path: Path) -> str:
    return format_diagnostics(diagnostics_of(path), path.read_text("utf-8")) + "\n"


def emitted_codes() -> set[str]:
    """Every code the package can emit: the ``"JFnnn"`` string literals in its source.

    The source is parsed, so a code quoted in a docstring or a comment does not count.
    """
    found: set[str] = set()
    for module in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(module.read_text("utf-8"), str(module))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and CODE.fullmatch(node.value):
                found.add(node.value)
    return found


CASES = corpus_files()
IDS = [p.stem for p in CASES]


@pytest.mark.parametrize("path", CASES, ids=IDS)
def test_diagnostics_match_golden(path: Path, golden: Callable[[Path, str], None]) -> None:
    golden(path.with_suffix(".err"), render(path))


@pytest.mark.parametrize("path", CASES, ids=IDS)
def test_code_in_file_name_is_reported(path: Path) -> None:
    code = path.name.split("-", 1)[0]
    assert CODE.fullmatch(code), f"{path.name} does not start with a code such as JF201-"
    assert code in {d.code for d in diagnostics_of(path)}


@pytest.mark.parametrize("path", CASES, ids=IDS)
def test_diagnostics_point_into_the_file(path: Path) -> None:
    lines = path.read_text("utf-8").split("\n")
    for diag in diagnostics_of(path):
        assert 1 <= diag.span.line <= len(lines), diag
        assert 1 <= diag.span.col <= len(lines[diag.span.line - 1]) + 1, diag


def test_every_emitted_code_has_a_corpus_file() -> None:
    covered = {p.name.split("-", 1)[0] for p in CASES}
    missing = sorted(emitted_codes() - covered)
    assert not missing, f"no tests/golden/errors/<CODE>-*.journey for {', '.join(missing)}"


def test_every_emitted_code_is_in_the_catalogue() -> None:
    rows = set(re.findall(r"^\| (JF\d{3}) \|", CATALOGUE.read_text("utf-8"), re.MULTILINE))
    missing = sorted(emitted_codes() - rows)
    assert not missing, f"docs/errors.md has no row for {', '.join(missing)}"


def test_code_scan_finds_the_codes() -> None:
    codes = emitted_codes()
    assert {"JF100", "JF201", "JF301", "JF401", "JF501", "JF601"} <= codes
    assert all(CODE.fullmatch(c) for c in codes)


def test_every_golden_has_its_journey() -> None:
    orphans = [p.name for p in sorted(CORPUS.glob("*.err"))
               if not p.with_suffix(".journey").exists()]
    assert not orphans
