"""docs/diff.md and the docstrings of journeyflow.versions stay true."""

from __future__ import annotations

import doctest
import importlib
import json
import pkgutil
import re
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import journeyflow.versions
from journeyflow.versions.schema import DIFF_SCHEMA
from tests.versions.cases import EDITS, Edit
from tests.versions.test_golden import run_diff

DOC = (Path(__file__).resolve().parents[2] / "docs" / "diff.md").read_text("utf-8")
MODULES = sorted(m.name for m in pkgutil.iter_modules(journeyflow.versions.__path__))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(f"journeyflow.versions.{name}"))
    assert result.failed == 0


def test_the_text_example_is_what_the_command_prints(runner: CliRunner, tmp_path: Path) -> None:
    by_name = {e.name: e for e in EDITS}
    parts = ("mail-body-copy-edit", "changed-delay", "reordered-first-match-rule")
    edit = Edit("doc", "lifecycle.journey",
                tuple(r for name in parts for r in by_name[name].replacements))
    status, output = run_diff(runner, edit, tmp_path)
    block = re.search(r"```\n\$ journeyflow diff (\S+) (\S+)\n(.*?)```", DOC, re.S)
    assert block is not None
    assert (block.group(1), block.group(2)) == ("old/lifecycle.journey", "new/lifecycle.journey")
    assert output == block.group(3)
    assert status == 1


def test_the_json_example_follows_the_schema() -> None:
    block = re.search(r"```json\n(.*?)```", DOC, re.S)
    assert block is not None
    jsonschema.validate(json.loads(block.group(1)), DIFF_SCHEMA)
