"""``journeyflow run`` with the compiled-journey cache: the same trace, state and
diagnostics with and without it, and a start that loads only what a run uses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeyflow.cli import main
from tests.conftest import EXAMPLES

EVENTS = EXAMPLES / "lifecycle.events.jsonl"
JOURNEY = EXAMPLES / "lifecycle.journey"


def _run(tmp_path: Path, name: str, *extra: str, journey: Path = JOURNEY) -> tuple[int, str]:
    result = CliRunner().invoke(main, [
        "run", str(journey), "--events", str(EVENTS), "--until", "2026-06-01T00:00:00Z",
        "--trace", str(tmp_path / f"{name}.trace"), "--state", str(tmp_path / f"{name}.state"),
        *extra])
    return result.exit_code, result.output


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("JOURNEYFLOW_CACHE_DIR", str(folder))
    monkeypatch.delenv("JOURNEYFLOW_NO_CACHE", raising=False)
    return folder


def test_a_run_from_the_cache_writes_what_a_fresh_one_does(tmp_path: Path, cache: Path) -> None:
    fresh = _run(tmp_path, "fresh", "--no-cache")
    assert fresh[0] == 0
    assert not list(cache.glob("*.journey.pickle"))  # (the parser's tables may be kept)
    first = _run(tmp_path, "first")
    assert len(list(cache.glob("*.journey.pickle"))) == 1
    second = _run(tmp_path, "second")
    assert fresh == first == second
    for kind in ("trace", "state"):
        expected = (tmp_path / f"fresh.{kind}").read_bytes()
        assert (tmp_path / f"first.{kind}").read_bytes() == expected
        assert (tmp_path / f"second.{kind}").read_bytes() == expected


def test_the_environment_turns_the_cache_off(tmp_path: Path, cache: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEYFLOW_NO_CACHE", "1")
    assert _run(tmp_path, "off")[0] == 0
    assert not cache.exists()


def test_errors_are_reported_as_without_the_cache(tmp_path: Path, cache: Path) -> None:
    bad = tmp_path / "bad.journey"
    bad.write_text('journey "j"\nstage a start { on nothing -> b }\n', "utf-8")
    with_cache = _run(tmp_path, "bad", journey=bad)
    without = _run(tmp_path, "bad", "--no-cache", journey=bad)
    assert with_cache == without
    assert with_cache[0] == 1
    assert "error[JF" in with_cache[1]
    assert "Traceback" not in with_cache[1]
    assert not list(cache.glob("*.journey.pickle"))


# What `run` on a cached journey must not import: the parser, the compiler (but for the
# send week the runtime shares), its graph library, the template engine, pydantic (the
# embedding API's models), the outbox and the delivery stack are loaded only when used, and
# tempfile only when a batch spills or the cache is written.
NOT_ON_THE_RUN_PATH = ("lark", "networkx", "jinja2", "smtplib", "rich", "pydantic", "tempfile",
                       "journeyflow.compile.lower", "journeyflow.compile.checks",
                       "journeyflow.compile.graph", "journeyflow.compile.typecheck",
                       "journeyflow.syntax.parser", "journeyflow.runtime.delivery_loop",
                       "journeyflow.runtime.outbox", "journeyflow.runtime.models",
                       "journeyflow.runtime.scenarios")

PROBE = """
import sys
from journeyflow.cli import main
try:
    main(sys.argv[1:])
except SystemExit as done:
    assert not done.code, done.code
print(" ".join(sorted(name for name in sys.modules if name.split(".")[0] in
      ("lark", "networkx", "jinja2", "smtplib", "rich", "pydantic", "tempfile")
      or name.startswith(("journeyflow.compile", "journeyflow.syntax.parser",
                          "journeyflow.runtime.delivery_loop", "journeyflow.runtime.outbox",
                          "journeyflow.runtime.models", "journeyflow.runtime.scenarios")))))
"""


def test_a_cached_run_imports_only_what_it_uses(tmp_path: Path, cache: Path) -> None:
    args = ["run", str(JOURNEY), "--events", str(EVENTS), "--state", str(tmp_path / "s")]
    env = {**os.environ, "JOURNEYFLOW_CACHE_DIR": str(cache)}
    fill = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, capture_output=True,
                          text=True, check=True)
    assert "networkx" in fill.stdout  # compiling needs them: the probe sees imports
    cached = subprocess.run([sys.executable, "-c", PROBE, *args], env=env,
                            capture_output=True, text=True, check=True)
    loaded = cached.stdout.split()
    assert not [name for name in loaded if name.startswith(NOT_ON_THE_RUN_PATH)], loaded
