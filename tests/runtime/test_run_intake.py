"""``journeyflow run`` on malformed files: each bad line is rejected with its line number
and reason, every good line is processed, and the trace and state are valid JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from journeyflow.cli import main
from tests.runtime.intake_journey import JOURNEY

GOOD = b'{"at": "2026-03-02T10:00:00Z", "customer": "c1", "event": "signed_up"}'
LAST = b'{"at": "2026-03-03T10:00:00Z", "customer": "c1", "event": "purchased", ' \
       b'"data": {"amount": 80}}'

# (line, the words its rejection reason must hold)
BAD_LINES: list[tuple[bytes, str]] = [
    (b'{"at": "2026-03-02T10:01:00Z", "customer": "c\xff\xfe", "event": "signed_up"}',
     "not valid UTF-8: byte 0xff at column 46"),
    (b'{"at": "2026-03-02T10:01:00Z", "customer": "c\xed\xa0\x80", "event": "signed_up"}',
     "not valid UTF-8"),
    ('{"at": "2026-03-02T10:01:00Z", "customer": "u", "event": "signed_up"}'.encode(
        "utf-16-le"), "zero bytes"),
    (b"[" * 5000 + b"]" * 5000, "nested more than 1,024 deep"),
    (b'{"at": "2026-03-02T10:02:00Z", "customer": "c2", "event": "signed_up", '
     b'"data": {"source": "\\ud800"}}', "lone surrogate"),
    (b'{"at": -1e12, "customer": "c3", "event": "signed_up"}', "out of range"),
    (b'{"at": 1e20, "customer": "c3", "event": "signed_up"}', "out of range"),
    (b'{"at": NaN, "customer": "c3", "event": "signed_up"}', "NaN is not a number"),
    (b'{"at": Infinity, "customer": "c3", "event": "signed_up"}', "Infinity is not a number"),
    (b'{"at": -Infinity, "customer": "c3", "event": "signed_up"}', "Infinity is not a number"),
    (b'{"at": "2026-03-02T10:03:00Z", "customer": "c4", "event": "purchased", '
     b'"data": {"amount": 1' + b"0" * 4000 + b"}}", "too large"),
    (b'{"at": "2026-03-02T10:03:00Z", "customer": "c4", "event": "purchased", '
     b'"data": {"amount": 1e400}}', "too large"),
    (b'{"at": "2026-03-02T10:03:00Z", "customer": "c4", "event": "purchased", '
     b'"data": {"amount": 1e20}}', "must be a finite number"),
    (b'"just text"', "must be a JSON object"),
    (b"[1, 2]", "must be a JSON object"),
    (b"null", "must be a JSON object"),
    (b"not json", "not valid JSON"),
    (b'{"at": "2026-03-02T10:05:00Z", "customer": "c5", "event": "signed_upp"}',
     "did you mean 'signed_up'"),
]


@pytest.fixture
def journey_file(tmp_path: Path) -> Path:
    path = tmp_path / "intake.journey"
    path.write_text(JOURNEY, "utf-8")
    return path


def strict(text: str) -> Any:
    def refuse(word: str) -> Any:
        raise AssertionError(f"{word} is not JSON")

    return json.loads(text, parse_constant=refuse)


def run(journey_file: Path, events: Path, *extra: str) -> tuple[Any, list[dict[str, Any]], str]:
    trace = events.with_suffix(".trace")
    state = events.with_suffix(".state")
    result = CliRunner().invoke(main, ["run", str(journey_file), "--events", str(events),
                                       "--trace", str(trace), "--state", str(state), *extra])
    assert result.exit_code == 0, result.output
    assert result.exception is None
    records = [strict(line) for line in trace.read_text("utf-8").splitlines()]
    return strict(state.read_text("utf-8")), records, result.output


def test_every_bad_line_is_rejected_and_every_good_one_processed(
        journey_file: Path, tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"\n".join([GOOD, *(line for line, _ in BAD_LINES), LAST]) + b"\n")
    state, records, output = run(journey_file, events)
    assert state["processed"] == 2
    assert state["customers"]["c1"]["attributes"]["points"] == 80
    rejected = {r["line"]: r["reason"] for r in state["rejected"]}
    for number, (_, words) in enumerate(BAD_LINES, start=2):
        assert words in rejected[number], (number, rejected.get(number))
    assert len(rejected) == len(BAD_LINES)
    in_trace = [r for r in records if r["kind"] == "rejected"]
    assert [r["line"] for r in in_trace] == sorted(rejected)
    assert "2 processed, 18 rejected" in output


def test_a_rejected_line_keeps_its_parsed_time(journey_file: Path, tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(b'{"at": "2026-03-02T10:05:00Z", "customer": "c5", "event": "nope"}\n'
                       b'{"at": "gestern", "customer": "c5", "event": "signed_up"}\n')
    _, records, _ = run(journey_file, events)
    assert [(r["at"], r["customer"]) for r in records] == [
        ("2026-03-02T10:05:00Z", "c5"), (None, "c5")]


def test_offset_less_event_times_are_in_the_journeys_zone(journey_file: Path,
                                                          tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(b'{"at": "2026-03-02T11:00:00", "customer": "c1", "event": "signed_up"}\n')
    _, records, output = run(journey_file, events, "--until", "2026-03-02T12:00:00")
    assert records[0]["at"] == "2026-03-02T10:00:00Z"
    assert "until 2026-03-02T11:00:00Z" in output


def test_a_utf16_file_is_read(journey_file: Path, tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    text = GOOD.decode() + "\r\n" + LAST.decode() + "\r\n"
    events.write_bytes(text.encode("utf-16"))  # as Windows PowerShell writes it
    state, _, _ = run(journey_file, events)
    assert state["processed"] == 2


def test_invalid_utf16_costs_only_its_line(journey_file: Path, tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    bad = '{"at": "2026-03-02T10:01:00Z", "customer": "x", "event": "signed_up"}'
    body = (GOOD.decode() + "\n").encode("utf-16-le") + bad[:45].encode("utf-16-le") \
        + b"\x00\xd8" + (bad[45:] + "\n" + LAST.decode() + "\n").encode("utf-16-le") + b"A"
    events.write_bytes(body)
    state, _, _ = run(journey_file, events)
    assert state["processed"] == 2
    reasons = {r["line"]: r["reason"] for r in state["rejected"]}
    assert "not valid UTF-16: a lone surrogate at column 46" in reasons[2]
    assert "ends in the middle of a character" in reasons[4]


def test_lines_ended_by_a_lone_carriage_return(journey_file: Path, tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(GOOD + b"\rnot json\r" + LAST + b"\n")
    state, _, _ = run(journey_file, events)
    assert state["processed"] == 2
    assert state["rejected"][0]["line"] == 2


def test_csv_rows_with_bad_bytes_or_huge_cells(journey_file: Path, tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    rows = [b"at,customer,event,data.amount,attributes",
            b"2026-03-02T10:00:00Z,c1,signed_up,,",
            b"2026-03-02T10:01:00Z,c\xff,signed_up,,",
            b"2026-03-02T10:02:00Z,c2,signed_up,," + b"x" * 200_000,
            b"2026-03-02T10:03:00Z,c3,signed_up,,[1]",
            b"2026-03-02T10:04:00Z,c4,purchased,NaN,",
            b"2026-03-03T10:00:00Z,c1,purchased,80,"]
    events.write_bytes(b"\n".join(rows) + b"\n")
    state, _, _ = run(journey_file, events)
    assert state["processed"] == 2
    reasons = {r["line"]: r["reason"] for r in state["rejected"]}
    assert reasons[3] == "not valid UTF-8 in column 'customer'"
    assert "more than 131,072 characters" in reasons[4]
    assert "not a JSON object" in reasons[5]
    assert "must be a number, got 'NaN'" in reasons[6]


def test_a_run_that_reads_standard_input_never_shows_a_traceback(journey_file: Path) -> None:
    lines = b"\n".join([GOOD, *(line for line, _ in BAD_LINES), LAST, b"\xff" * 10]) + b"\n"
    command = Path(sys.executable).with_name("journeyflow")
    done = subprocess.run([str(command), "run", str(journey_file),
                           "--events", "-", "--trace", "-", "--state", "-"],
                          input=lines, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    assert b"Traceback" not in done.stderr
    assert b"2 processed, 19 rejected" in done.stderr
    out = done.stdout.decode("utf-8").splitlines()
    records = [strict(line) for line in out if line.startswith('{"at"')]
    assert sum(r["kind"] == "rejected" for r in records) == 19


def test_an_unsorted_file_is_processed_in_time_order(journey_file: Path,
                                                     tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(LAST + b"\n" + GOOD + b"\n")
    state, records, _ = run(journey_file, events)
    assert state["customers"]["c1"]["attributes"]["points"] == 80
    assert [r["at"] for r in records] == sorted(r["at"] for r in records)


def shop_events() -> list[bytes]:
    events = []
    for i in range(40):
        at = f"2026-03-{2 + i // 10:02d}T{10 + i % 10:02d}:00:00Z"
        name = "signed_up" if i % 3 == 0 else "purchased"
        data = {} if name == "signed_up" else {"amount": i}
        events.append(json.dumps({"at": at, "customer": f"c{i % 4}", "event": name,
                                  "data": data}).encode())
    return events


def test_an_unsorted_file_gives_the_trace_of_the_sorted_one(journey_file: Path,
                                                            tmp_path: Path) -> None:
    events = shop_events()
    ordered = tmp_path / "ordered.jsonl"
    ordered.write_bytes(b"\n".join(events) + b"\n")
    shuffled = tmp_path / "shuffled.jsonl"
    shuffled.write_bytes(b"\n".join(events[20:] + events[:20]) + b"\n")
    state, records, _ = run(journey_file, ordered)
    again, reordered, _ = run(journey_file, shuffled)
    assert reordered == records
    assert again == state
    command = Path(sys.executable).with_name("journeyflow")  # standard input: sorted on disk
    done = subprocess.run([str(command), "run", str(journey_file), "--events", "-",
                           "--trace", "-", "--state", str(tmp_path / "s.json")],
                          input=shuffled.read_bytes(), capture_output=True, check=True)
    assert [strict(line) for line in done.stdout.splitlines()] == records


def test_an_unsorted_csv_file_is_read_again_sorted(journey_file: Path, tmp_path: Path) -> None:
    rows = [b"at,customer,event,data.amount",
            b"2026-03-03T10:00:00Z,c1,purchased,80",
            b"2026-03-02T10:00:00Z,c1,signed_up,",
            b"2026-03-02T10:00:00Z,c2,signed_upp,"]
    events = tmp_path / "events.csv"
    events.write_bytes(b"\n".join(rows) + b"\n")
    state, records, _ = run(journey_file, events)
    assert state["customers"]["c1"]["attributes"]["points"] == 80
    assert state["rejected"] == [{"line": 4, "reason": "unknown event 'signed_upp'; did you "
                                                       "mean 'signed_up'?"}]
    assert sum(r["kind"] == "rejected" for r in records) == 1
