"""The examples in the render modules' docstrings and in docs/render.md run as printed."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import journeyflow.render

DOCS = Path(__file__).resolve().parents[2] / "docs" / "render.md"
MODULES = sorted(m.name for m in pkgutil.iter_modules(journeyflow.render.__path__))


@pytest.mark.parametrize("name", ["__init__", *MODULES])
def test_docstring_examples(name: str) -> None:
    module = journeyflow.render if name == "__init__" else importlib.import_module(
        f"journeyflow.render.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_render_md_examples() -> None:
    result = doctest.testfile(str(DOCS), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_render_md_shows_the_lifecycle_map() -> None:
    assert "(lifecycle-map.png)" in DOCS.read_text("utf-8")
    assert (DOCS.parent / "lifecycle-map.png").read_bytes()[:4] == b"\x89PNG"
