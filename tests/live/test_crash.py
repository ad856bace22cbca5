"""Crash safety: SIGKILL at random moments loses no event and repeats no delivery."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest

from tests.live.crash_harness import command, count_mails, run_with_kills, write_inputs
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
    # a delivery in flight when the process died may reach the sink again, with the
    # same Message-ID for the receiver to drop: at most one per kill
    assert mails - distinct <= kills
    assert json.loads((crashed / "state.json").read_text()) == json.loads(
        (calm / "state.json").read_text())
