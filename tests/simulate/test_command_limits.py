"""``journeyflow simulate`` refuses sizes it could not finish, as usage errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from journeyflow.cli import main
from journeyflow.simulate.command import MAX_CUSTOMERS, MAX_DAYS

from .conftest import LIFECYCLE

FLOOD = '''journey "flood"
event come {}
stage a start { on come -> b }
stage b final
simulate { arrivals come 100000000 per day }
'''


@pytest.mark.parametrize(("args", "words"), [
    (["--days", str(MAX_DAYS + 1)], "--days"),
    (["--days", "100000000"], "--days"),
    (["--customers", str(MAX_CUSTOMERS + 1)], "--customers"),
    (["--start", "9998-06-01", "--days", "365"], "ends after 9998-12-31"),
])
def test_absurd_sizes_are_usage_errors(runner: CliRunner, args: list[str], words: str) -> None:
    result = runner.invoke(main, ["simulate", str(LIFECYCLE), *args])
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_arrival_rates_that_bring_too_many_customers(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "flood.journey"
    path.write_text(FLOOD, "utf-8")
    result = runner.invoke(main, ["simulate", str(path), "--days", "30"])
    assert result.exit_code == 2, result.output
    assert "3,000,000,000 customers" in result.output
    assert "--customers" in result.output


def test_the_largest_horizon_is_accepted(runner: CliRunner) -> None:
    result = runner.invoke(main, ["simulate", str(LIFECYCLE), "--customers", "3",
                                  "--days", str(MAX_DAYS)])
    assert result.exit_code == 0, result.output
