"""`journeyflow run --store`: resuming by event key, and a summary that adds up."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from journeyflow.cli import main
from journeyflow.live.config import parse_channel
from journeyflow.live.run import line_keys

JOURNEY = """journey "resume"
event signed_up {}
event purchased { amount: number }
stage new start { on signed_up -> active }
stage active { on purchased -> bought  after 2d -> lapsed }
stage bought final
stage lapsed final
"""


def write(path: Path, events: list[Any]) -> Path:
    path.write_text("".join((e if isinstance(e, str) else json.dumps(e)) + "\n"
                            for e in events), "utf-8")
    return path


def summary(output: str) -> str:
    return next(line for line in output.splitlines() if " events: " in line)


def test_a_second_run_on_the_same_file_continues(tmp_path: Path, runner: CliRunner) -> None:
    journey = tmp_path / "resume.journey"
    journey.write_text(JOURNEY, "utf-8")
    events = [{"at": "2026-01-01T10:00:00Z", "customer": "c1", "event": "signed_up"},
              {"at": "2026-01-01T10:00:00Z", "customer": "c2", "event": "signed_up"},
              {"at": "2026-01-01T11:00:00Z", "customer": "c1", "event": "purchased",
               "data": {"amount": 5}, "id": "p1"},
              {"at": "2026-01-01T12:00:00Z", "customer": "c3", "event": "nothing"},
              "not json"]
    first = write(tmp_path / "events.jsonl", events[:3])
    store = f"sqlite:///{tmp_path / 'state.db'}"
    args = ["run", str(journey), "--store", store, "--until", "2026-01-02T00:00:00Z",
            "--state", str(tmp_path / "state.json")]
    result = runner.invoke(main, [*args, "--events", str(first)])
    assert result.exit_code == 0, result.output
    assert summary(result.output).startswith(
        "3 events: 3 processed, 0 rejected, 0 already committed, 0 pending; 2 customers")
    # the same file with more lines: only the new ones are processed
    more = [*events, {"at": "2026-01-05T10:00:00Z", "customer": "c4", "event": "signed_up"}]
    write(tmp_path / "events.jsonl", more)
    result = runner.invoke(main, [*args, "--events", str(first)])
    assert result.exit_code == 0, result.output
    assert summary(result.output).startswith(
        "6 events: 0 processed, 2 rejected, 3 already committed, 1 pending; 2 customers")
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["processed"] == 3
    assert [r["reason"] for r in state["rejected"]] == [
        "unknown event 'nothing'", "not valid JSON: Expecting value at column 1"]
    assert state["customers"]["c2"]["stage"] == "active"
    # once more, with a later --until: the pending line now runs, and the timers fire
    args[args.index("--until") + 1] = "2026-02-01T00:00:00Z"
    result = runner.invoke(main, [*args, "--events", str(first)])
    assert summary(result.output).startswith(
        "6 events: 1 processed, 0 rejected, 5 already committed, 0 pending; 3 customers")
    state = json.loads((tmp_path / "state.json").read_text())
    assert {cid: c["stage"] for cid, c in state["customers"].items()} == {
        "c1": "bought", "c2": "lapsed", "c4": "lapsed"}


def test_line_keys_are_stable_and_tell_repeats_apart() -> None:
    import io

    text = '{"a": 1}\n{"id": "x", "a": 2}\n{"a": 1}\n'
    keys = [key for key, _ in line_keys(io.BytesIO(text.encode()), "jsonl")]
    assert keys[1] == "id:x"
    assert keys[0].endswith("#1")
    assert keys[2] == keys[0][:-1] + "2"
    assert keys == [key for key, _ in line_keys(io.BytesIO(text.encode()), "jsonl")]


def test_bad_channel_specs_are_usage_errors(tmp_path: Path, runner: CliRunner) -> None:
    journey = tmp_path / "resume.journey"
    journey.write_text(JOURNEY, "utf-8")
    events = write(tmp_path / "e.jsonl", [])
    for spec in ["email", "email=ftp://x", "email=smtp://nohost", "email=trace?attempts=0",
                 "email=smtp://h:25?attempts=0"]:
        result = runner.invoke(main, ["run", str(journey), "--events", str(events),
                                      "--channel", spec])
        assert result.exit_code == 2, (spec, result.output)
        assert "Traceback" not in result.output
    assert parse_channel("hook=https://x.example/h?secret=s&attempts=4").handler.url == (
        "https://x.example/h")


def test_a_store_in_use_is_a_clear_error(tmp_path: Path, runner: CliRunner) -> None:
    import journeyflow

    journey = tmp_path / "resume.journey"
    journey.write_text(JOURNEY, "utf-8")
    events = write(tmp_path / "e.jsonl", [])
    url = f"sqlite:///{tmp_path / 'state.db'}"
    holder = journeyflow.Engine(journeyflow.load(journey), store=url)
    try:
        result = runner.invoke(main, ["run", str(journey), "--events", str(events),
                                      "--store", url + "?wait=0.1"])
    finally:
        holder.close()
    assert result.exit_code == 1
    assert "is in use by another process" in result.output
