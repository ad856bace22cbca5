"""Crash safety: SIGKILL at random moments (of `run`, or of `serve` under HTTP load) loses
no event, repeats no delivery, and sends no mail twice."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest

from tests.live.crash_harness import command, count_mails, run_with_kills, write_inputs
from tests.live.serve_crash_harness import Server, read_store, serve_with_kills, write_workload
from tests.peers import Inbox


@pytest.mark.slow
def test_killed_and_resumed_run_equals_an_uninterrupted_one(
        tmp_path: Path, smtp_sink: tuple[Inbox, int]) -> None:
    inbox, port = smtp_sink
    journey, events = write_inputs(tmp_path, customers=200)
    calm = tmp_path / "calm"
    calm.mkdir()
    started = time.monotonic()
    run_with_kills(command(journey, events, calm / "s.db", port, calm / "state.json"), 0,
                   random.Random(0), (0, 0))
    calm_seconds = time.monotonic() - started
    expected_mails = len(inbox.messages)
    assert expected_mails > 200
    inbox.messages.clear()

    crashed = tmp_path / "crashed"
    crashed.mkdir()
    kills, starts = run_with_kills(
        command(journey, events, crashed / "s.db", port, crashed / "state.json"), 3,
        random.Random(1), (0.8, max(1.0, 0.7 * calm_seconds)))
    mails, distinct = count_mails(inbox.messages)
    assert kills >= 1  # the run may end before a later kill moment comes
    assert starts == kills + 1
    # every delivery decided exactly once (one Message-ID each), none lost
    assert distinct == expected_mails
    # not one mail reached the server twice, whenever the process died
    assert mails == distinct
    assert json.loads((crashed / "state.json").read_text()) == json.loads(
        (calm / "state.json").read_text())


@pytest.mark.slow
def test_a_killed_and_restarted_serve_loses_no_accepted_event(
        tmp_path: Path, smtp_sink: tuple[Inbox, int]) -> None:
    inbox, port = smtp_sink
    workload = write_workload(tmp_path, customers=600, connections=4, batch=10)
    calm = serve_with_kills(Server(workload.journey, tmp_path / "calm.db", port), workload,
                            0, random.Random(0), (0, 0), rate=1000)
    reference = read_store(tmp_path / "calm.db")
    expected_mails = len(inbox.messages)
    assert expected_mails == len(reference.deliveries) > 600
    inbox.messages.clear()

    crashed = Server(workload.journey, tmp_path / "crashed.db", port)
    outcome = serve_with_kills(crashed, workload, 2, random.Random(3),
                               (0.05, calm.posting / 2), rate=1000)
    found = read_store(tmp_path / "crashed.db")
    assert outcome.kills_posting >= 1  # at least one kill with batches still in flight
    assert outcome.starts == outcome.kills + 1
    # every event the service acknowledged (or refused as committed before) is stored
    assert outcome.acknowledged - found.keys == set()
    assert len(outcome.acknowledged) == workload.events - len(workload.bad)
    # only the invalid events were refused, and each is kept among the rejected
    assert outcome.rejected.keys() == workload.bad <= found.rejected_ids
    assert found.customers == reference.customers
    assert found.deliveries == reference.deliveries  # each decided once, and sent
    mails, distinct = count_mails(inbox.messages)
    assert mails == distinct == expected_mails  # each mail arrived once
