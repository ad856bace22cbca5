"""The command line as a user drives it: exit codes, outputs, errors without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeyflow.cli import main

# A journey with five mistakes of five kinds, from the error corpus.
BROKEN = (Path(__file__).resolve().parents[1] / "golden" / "errors"
          / "JF201-several-mistakes.journey")

JOURNEY = """journey "cli"
customer { email: text }
event signed_up {}
event purchased { amount: number }
message welcome via email { subject "Hallo" }
stage awareness start { on signed_up -> consideration }
stage consideration {
  on enter { send welcome }
  on purchased -> bought
  after 7d -> lost
}
stage bought final
stage lost final

scenario "buyers buy" {
  at 2026-01-01T10:00 signed_up
  at +1h purchased { amount: 30 }
  expect stage bought
  expect sent welcome
}
"""

EVENTS = [
    {"at": "2026-01-01T10:00:00Z", "customer": "c1", "event": "signed_up"},
    {"at": "2026-01-01T11:00:00Z", "customer": "c2", "event": "signed_up"},
    {"at": "2026-01-02T10:00:00Z", "customer": "c1", "event": "purchased",
     "data": {"amount": 30}},
    {"at": "2026-01-20T10:00:00Z", "customer": "c3", "event": "signed_up"},
]


@pytest.fixture
def journey_file(tmp_path: Path) -> Path:
    path = tmp_path / "cli.journey"
    path.write_text(JOURNEY, "utf-8")
    return path


def write_events(path: Path, events: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), "utf-8")
    return path


def test_check_reports_every_error_with_position(runner: CliRunner) -> None:
    result = runner.invoke(main, ["check", str(BROKEN)])
    assert result.exit_code == 1
    for line in (8, 11, 12, 16, 19):
        assert f"{BROKEN.name}:{line}:" in result.output
    assert "did you mean 'second'?" in result.output
    assert "Traceback" not in result.output


def test_check_json_for_editors(runner: CliRunner) -> None:
    result = runner.invoke(main, ["check", "--format", "json", str(BROKEN)])
    diags = json.loads(result.output)
    assert {d["code"] for d in diags} >= {"JF201", "JF202", "JF220", "JF302", "JF401"}
    assert all({"file", "line", "col", "severity", "message"} <= d.keys() for d in diags)


def test_check_clean_file(runner: CliRunner, journey_file: Path) -> None:
    result = runner.invoke(main, ["check", str(journey_file)])
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output


def test_graph_json(runner: CliRunner, journey_file: Path) -> None:
    result = runner.invoke(main, ["graph", str(journey_file), "--json"])
    data = json.loads(result.output)
    assert {n["id"] for n in data["nodes"]} == {"awareness", "consideration", "bought", "lost"}
    assert {(e["source"], e["target"], e["trigger"]) for e in data["edges"]} >= {
        ("consideration", "lost", "after 7d")}


def test_run_writes_trace_and_state(runner: CliRunner, journey_file: Path,
                                    tmp_path: Path) -> None:
    events = write_events(tmp_path / "events.jsonl", EVENTS)
    trace, state = tmp_path / "trace.jsonl", tmp_path / "state.json"
    result = runner.invoke(main, ["run", str(journey_file), "--events", str(events),
                                  "--until", "2026-01-10T00:00:00Z", "--trace", str(trace),
                                  "--state", str(state)])
    assert result.exit_code == 0, result.output
    data = json.loads(state.read_text())
    assert data["customers"]["c1"]["stage"] == "bought"
    assert data["customers"]["c2"]["stage"] == "lost"  # the 7-day timer fired before --until
    assert data["pending"] == 1
    assert data["processed"] == 3
    records = [json.loads(line) for line in trace.read_text().splitlines()]
    assert records[0] == {"at": "2026-01-01T10:00:00Z", "customer": "c1", "kind": "enter",
                          "stage": "awareness"}


def test_run_reads_csv_from_stdin(runner: CliRunner, journey_file: Path) -> None:
    csv_text = ("at,customer,event,data.amount\n"
                "2026-01-01T10:00:00Z,c1,signed_up,\n"
                "2026-01-01T12:00:00Z,c1,purchased,40\n")
    result = runner.invoke(main, ["run", str(journey_file), "--events", "-", "--format", "csv"],
                           input=csv_text)
    assert result.exit_code == 0, result.output
    state = json.loads(result.stdout)
    assert state["customers"]["c1"]["stage"] == "bought"


def test_run_exit_codes(runner: CliRunner, journey_file: Path, tmp_path: Path) -> None:
    events = write_events(tmp_path / "events.jsonl", EVENTS)
    bad_until = runner.invoke(main, ["run", str(journey_file), "--events", str(events),
                                     "--until", "soon"])
    assert bad_until.exit_code == 2
    broken = tmp_path / "broken.journey"
    broken.write_text('journey "x"\nstage a start { on nothing -> b }\n', "utf-8")
    compile_error = runner.invoke(main, ["run", str(broken), "--events", str(events)])
    assert compile_error.exit_code == 1
    assert "unknown event 'nothing'" in compile_error.output
    missing = runner.invoke(main, ["run", str(journey_file), "--events", "nope.jsonl"])
    assert missing.exit_code == 2


def test_run_resumes_from_sqlite(runner: CliRunner, journey_file: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'state.db'}"
    first = write_events(tmp_path / "first.jsonl", EVENTS[:2])
    second = write_events(tmp_path / "second.jsonl", EVENTS[2:])
    whole = write_events(tmp_path / "whole.jsonl", EVENTS)
    outputs = []
    for events in (first, second):
        trace = tmp_path / f"{events.stem}.trace"
        result = runner.invoke(main, ["run", str(journey_file), "--events", str(events),
                                      "--store", db, "--trace", str(trace),
                                      "--state", str(tmp_path / f"{events.stem}.state")])
        assert result.exit_code == 0, result.output
        outputs.append(trace.read_text())
    result = runner.invoke(main, ["run", str(journey_file), "--events", str(whole),
                                  "--trace", str(tmp_path / "whole.trace"),
                                  "--state", str(tmp_path / "whole.state")])
    assert "".join(outputs) == (tmp_path / "whole.trace").read_text()
    assert json.loads((tmp_path / "second.state").read_text()) == json.loads(
        (tmp_path / "whole.state").read_text())


def test_test_command_passes_and_fails(runner: CliRunner, journey_file: Path,
                                       tmp_path: Path) -> None:
    ok = runner.invoke(main, ["test", str(journey_file)])
    assert ok.exit_code == 0, ok.output
    assert "1 passed, 0 failed" in ok.output
    failing = tmp_path / "failing.journey"
    failing.write_text(JOURNEY.replace("expect stage bought", "expect stage lost"), "utf-8")
    result = runner.invoke(main, ["test", str(failing)])
    assert result.exit_code == 1
    assert "failing.journey:18" in result.output
    assert "expect stage lost" in result.output
    assert "the customer is in stage 'bought'" in result.output
    assert "transition" in result.output  # the trace that led there


def test_scenario_file_beside_the_journey(runner: CliRunner, journey_file: Path) -> None:
    journey_file.with_suffix(".scenario").write_text(
        'scenario "lost after a week" {\n  at 2026-02-01T10:00 signed_up\n  wait 8d\n'
        "  expect stage lost\n  expect not sent nudge\n}\n", "utf-8")
    result = runner.invoke(main, ["test", str(journey_file)])
    assert result.exit_code == 1  # `nudge` is not a message: reported, not crashed
    assert "cli.scenario:5" in result.output
    assert "unknown message 'nudge'" in result.output


def test_run_accepts_a_byte_order_mark(runner: CliRunner, journey_file: Path,
                                       tmp_path: Path) -> None:
    jsonl = tmp_path / "bom.jsonl"
    jsonl.write_bytes(b"\xef\xbb\xbf" + json.dumps(EVENTS[0]).encode() + b"\n")
    csv_file = tmp_path / "bom.csv"
    csv_file.write_bytes(b"\xef\xbb\xbfat,customer,event\n2026-01-01T10:00:00Z,c1,signed_up\n")
    for events in (jsonl, csv_file):
        result = runner.invoke(main, ["run", str(journey_file), "--events", str(events)])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["processed"] == 1
