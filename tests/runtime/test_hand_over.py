"""A mail is committed ``sending`` before the server can take it, so a process killed at
any moment never makes the same mail arrive twice (real SMTP server, real SIGKILL)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

import journeyflow
from journeyflow.runtime.channels import SmtpChannel
from journeyflow.runtime.delivery_loop import ChannelPolicy
from tests.peers import Inbox, free_port

JOURNEY = """journey "mail"
customer { email: text? }
event signed_up {}
message welcome via email { subject "Welcome" }
stage new start { on signed_up -> done { send welcome } }
stage done final
"""
EVENT = {"at": "2026-01-01T10:00:00Z", "customer": "c1", "event": "signed_up",
         "attributes": {"email": "ana@example.org"}}


def _outbox_statuses(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT status FROM jf_outbox ORDER BY id")]


class Watching(Inbox):
    """Takes each mail, and notes what the store said when the server got its last line."""

    def __init__(self, db: Path) -> None:
        super().__init__()
        self.db = db
        self.seen: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.seen.append(_outbox_statuses(self.db))
        return await super().handle_DATA(server, session, envelope)


class Killing(Inbox):
    """Takes the mail, then kills the sending process before answering it."""

    def __init__(self) -> None:
        super().__init__()
        self.pid: int | None = None
        self.killed = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        reply = await super().handle_DATA(server, session, envelope)
        if self.pid is not None and not self.killed.is_set():
            os.kill(self.pid, signal.SIGKILL)
            self.killed.set()
        return reply


def _sink(handler: Inbox) -> tuple[Controller, int]:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, port


def test_the_row_is_committed_sending_before_the_server_takes_the_mail(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    inbox = Watching(db)
    controller, port = _sink(inbox)
    try:
        engine = journeyflow.Engine(journeyflow.loads(JOURNEY), store=f"sqlite:///{db}",
                                    channels={"email": SmtpChannel("127.0.0.1", port)})
        engine.handle(EVENT)
        engine.close()
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    assert inbox.seen == [["sending"]]  # when the server had the whole mail
    assert _outbox_statuses(db) == ["sent"]  # once it answered


EXE = str(Path(sys.executable).with_name("journeyflow"))


def _killed_and_resumed(tmp_path: Path, journey_text: str
                        ) -> tuple[Killing, subprocess.CompletedProcess[str], Path, Path]:
    """`journeyflow run --store --smtp` killed by the mail server the moment it has the
    whole mail, before its answer; then the same run again. (inbox, resumed run, journey,
    store)"""
    journey = tmp_path / "mail.journey"
    journey.write_text(journey_text, "utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps(EVENT) + "\n", "utf-8")
    db = tmp_path / "s.db"
    inbox = Killing()
    controller, port = _sink(inbox)
    run = [EXE, "run", str(journey), "--events", str(events), "--store", f"sqlite:///{db}",
           "--smtp", f"127.0.0.1:{port}", "--state", str(tmp_path / "state.json"),
           "--trace", str(tmp_path / "trace.jsonl")]
    try:
        process = subprocess.Popen(run, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        inbox.pid = process.pid
        process.communicate(timeout=60)
        assert process.returncode == -signal.SIGKILL
        assert inbox.killed.is_set()
        assert _outbox_statuses(db) == ["sending"]  # the server's answer never arrived
        resumed = subprocess.run(run, capture_output=True, text=True, timeout=60)
    finally:
        controller.stop()
    assert resumed.returncode == 0, resumed.stderr
    return inbox, resumed, journey, db


def _deliveries(tmp_path: Path) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in (tmp_path / "trace.jsonl").read_text().splitlines()]
    return [r for r in records if r["kind"] == "delivery"]


def test_a_mail_handed_over_by_a_killed_process_is_not_sent_again(tmp_path: Path) -> None:
    inbox, resumed, journey, db = _killed_and_resumed(tmp_path, JOURNEY)
    assert "deliveries: 1 sent" in resumed.stderr
    assert len(inbox.messages) == 1  # the mail arrived once
    assert _outbox_statuses(db) == ["sent"]
    delivery = _deliveries(tmp_path)
    assert [(r["status"], r["attempt"]) for r in delivery] == [("sent", 1)]
    assert "not sent again" in delivery[0]["unconfirmed"]
    report = subprocess.run([EXE, "report", str(journey), "--store", f"sqlite:///{db}", "-o",
                             str(tmp_path / "report.json")], capture_output=True, text=True,
                            timeout=60)
    assert report.returncode == 0, report.stderr
    deliveries = json.loads((tmp_path / "report.json").read_text())["deliveries"]
    assert (deliveries["sent"], deliveries["unconfirmed"]) == (1, 1)


def test_a_refusal_after_the_hand_over_is_retried(tmp_path: Path) -> None:
    class Refusing(Inbox):
        def __init__(self) -> None:
            super().__init__()
            self.refuse = 1

        async def handle_DATA(self, server: Any, session: Any,  # noqa: N802
                              envelope: Any) -> str:
            if self.refuse:
                self.refuse -= 1
                return "451 try again later"
            return await super().handle_DATA(server, session, envelope)

    inbox = Refusing()
    controller, port = _sink(inbox)
    try:
        engine = journeyflow.Engine(journeyflow.loads(JOURNEY),
                                    store=f"sqlite:///{tmp_path / 's.db'}",
                                    channels={"email": SmtpChannel("127.0.0.1", port)},
                                    retry={"*": ChannelPolicy(3, 0.01)})
        engine.handle(EVENT)
        assert engine.deliveries is not None
        assert engine.deliveries.drain(timeout=10)
        engine.close()
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    statuses = [(r["status"], r["attempt"]) for r in engine.trace if r["kind"] == "delivery"]
    assert statuses == [("failed", 1), ("sent", 2)]
    assert _outbox_statuses(tmp_path / "s.db") == ["sent"]


def test_a_failed_commit_leaves_the_server_without_the_mail() -> None:
    inbox = Inbox()
    controller, port = _sink(inbox)
    channel = SmtpChannel("127.0.0.1", port)

    class Payload:
        customer, message, subject, body, key = "c1", "welcome", "Welcome", "", "k1"
        context = {"customer": {"email": "ana@example.org"}}

    def failing_commit() -> None:
        raise sqlite3.OperationalError("disk I/O error")

    try:
        try:
            channel.hand_over(Payload(), failing_commit)
        except sqlite3.OperationalError:
            pass
        else:
            raise AssertionError("the commit's failure must reach the caller")
        channel.hand_over(Payload(), None)  # the channel still works afterwards
        deadline = time.monotonic() + 5
        while len(inbox.messages) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        channel.close()
    finally:
        controller.stop()
    assert len(inbox.messages) == 1  # the mail whose commit failed never arrived


def test_a_transactional_mail_handed_over_by_a_killed_process_is_sent_again(
        tmp_path: Path) -> None:
    receipt = JOURNEY.replace("via email {", "via email transactional {")
    inbox, _, _, db = _killed_and_resumed(tmp_path, receipt)
    # a receipt is better twice than never: the same Message-ID, for the receiver to drop
    assert len(inbox.messages) == 2
    assert len({m["Message-ID"] for m in inbox.messages}) == 1
    assert _outbox_statuses(db) == ["sent"]
    assert [(r["status"], r["attempt"]) for r in _deliveries(tmp_path)] == [("sent", 2)]


def test_rows_left_sending_are_settled_a_limit_at_a_time(tmp_path: Path) -> None:
    from journeyflow.live.sqlite import SQLiteOutbox

    db = tmp_path / "s.db"
    engine = journeyflow.Engine(journeyflow.loads(JOURNEY), store=f"sqlite:///{db}",
                                channels={"email": lambda delivery: None})
    engine.deliver_inline = False
    for n in range(5):
        engine.handle({**EVENT, "customer": f"c{n}"})
    engine.close()
    with sqlite3.connect(db) as conn:  # as a process killed while handing them over leaves them
        conn.execute("UPDATE jf_outbox SET status = 'sending' WHERE id <= 3")
    outbox = SQLiteOutbox(sqlite3.connect(db), "mail")
    outbox._handing_over.add(99)  # noqa: SLF001 - one of its own in flight: read one row more
    assert [row.status for row in outbox.due(time.time(), 2)] == ["sending", "sending"]
    assert [row.status for row in outbox.due(time.time(), 5)] == ["sending"] * 3 + ["pending"] * 2
