"""A journey file over the size limit is refused before it is read whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import journeyflow
from journeyflow.cli import main
from journeyflow.errors import JourneyError
from journeyflow.syntax.limits import MAX_FILE_BYTES


@pytest.fixture
def huge(tmp_path: Path) -> Path:
    path = tmp_path / "huge.journey"
    path.write_text('journey "x"\n' + "#" * MAX_FILE_BYTES + "\n", "utf-8")
    return path


def test_load_refuses_a_file_over_the_limit(huge: Path) -> None:
    with pytest.raises(JourneyError, match="JF150"):
        journeyflow.load(huge)


@pytest.mark.parametrize("command", ["check", "fmt"])
def test_commands_say_why_without_a_traceback(huge: Path, command: str) -> None:
    result = CliRunner().invoke(main, [command, str(huge)])
    assert result.exit_code in (1, 2)
    assert "JF150" in result.output
    assert "Traceback" not in result.output
