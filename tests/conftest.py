"""Shared fixtures: paths relative to this file, golden files, a CLI runner, and the real
SMTP and HTTP peers of the delivery tests."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.peers import Hook, Inbox, http_hook_running, smtp_sink_running
from tests.pgserver import pg_url, postgres_server  # noqa: F401 - fixtures of the PostgreSQL tests

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.fixture(autouse=True, scope="session")
def _journey_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Compiled journeys go to a folder of the session's, not the user's cache."""
    os.environ["JOURNEYFLOW_CACHE_DIR"] = str(tmp_path_factory.mktemp("journey-cache"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden files from the current output; review the diff")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def golden(update_golden: bool) -> Callable[[Path, str], None]:
    """Compare ``text`` with the golden file at ``path`` (or rewrite it with --update-golden)."""

    def check(path: Path, text: str) -> None:
        if update_golden or not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
            if not update_golden:
                pytest.fail(f"golden file {path} was missing and has been written; review it")
        assert text == path.read_text("utf-8"), f"output differs from {path}"

    return check


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def example_paths() -> list[Path]:
    return sorted(EXAMPLES.glob("*.journey"))


@pytest.fixture
def smtp_sink() -> Iterator[tuple[Inbox, int]]:
    with smtp_sink_running() as sink:
        yield sink


@pytest.fixture
def http_hook() -> Iterator[tuple[Hook, str]]:
    with http_hook_running() as hook:
        yield hook
