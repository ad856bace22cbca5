"""The read-only SQLite reader behind `journeyflow report`: one customer at a time with its
history in order, counts from the outbox and the rejected events, and no writing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest

import journeyflow
from journeyflow.errors import JourneyError
from journeyflow.live.reportread import SQLiteReader, StoreReader, open_reader
from journeyflow.live.sqlite import SQLiteStore
from tests.peers import free_port

JOURNEY = """journey "reading"
event signed_up {}
event purchased { amount: number }
message welcome via email { subject "Hi" }
stage new start { on signed_up -> active }
stage active {
  on enter { send welcome }
  on purchased -> bought
}
stage bought final
"""


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store written by a store-backed engine: three customers over several commits,
    one rejected event, welcome mails in the outbox."""
    path = tmp_path / "journey.journey"
    path.write_text(JOURNEY, "utf-8")
    db = tmp_path / "state.db"
    engine = journeyflow.Engine(journeyflow.load(path), store=f"sqlite:///{db}",
                                channels={"email": lambda delivery: None})
    for cid in ("b", "a", "c"):
        engine.handle({"at": "2026-01-01T10:00:00Z", "customer": cid, "event": "signed_up"})
    engine.handle({"at": "2026-01-02T10:00:00Z", "customer": "a", "event": "purchased",
                   "data": {"amount": 5}})
    engine.handle({"at": "2026-01-02T11:00:00Z", "customer": "c", "event": "nothing"})
    engine.close()
    return db


def test_customers_stream_in_id_order_with_their_history(store: Path) -> None:
    reader = SQLiteReader(store)
    customers = list(reader.customers("reading"))
    assert [c.id for c in customers] == ["a", "b", "c"]
    kinds = [kind for text in customers[0].history for _, kind, _ in orjson.loads(text)]
    # the commits of a, oldest first: the sign-up's records, then the purchase's
    assert kinds.index("enter") < kinds.index("transition")
    assert kinds[-1] == "enter"
    assert all(orjson.loads(c.state)["id"] == c.id for c in customers)
    reader.close()


def test_counts_of_the_store(store: Path) -> None:
    reader: StoreReader = SQLiteReader(store)
    assert reader.journeys() == {"reading": 3}
    assert sum(reader.versions("reading").values()) == 3
    span = reader.span("reading")
    assert span is not None
    assert span[0] == 1767261600.0  # the first sign-up
    assert span[1] == 1767348000.0  # a's purchase, the latest step
    assert reader.rejected("reading") == {"unknown event 'nothing'": 1}
    assert reader.counters("reading")["processed"] == 4
    (welcome,) = reader.deliveries("reading")
    assert (welcome.kind, welcome.channel, welcome.message, welcome.rows) == (
        "send", "email", "welcome", 3)
    assert welcome.status in ("sent", "pending")
    assert reader.span("other") is None
    assert list(reader.customers("other")) == []
    reader.close()


def test_the_reader_never_writes(store: Path) -> None:
    reader = SQLiteReader(store)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.db.execute("DELETE FROM jf_customers")
    reader.close()


def test_a_report_reads_while_a_writer_holds_the_store(store: Path) -> None:
    """A service keeps the store open and is in the middle of a commit: the reader sees
    the last committed state and does not wait for the writer."""
    writer = SQLiteStore.open(f"sqlite:///{store}")
    writer.db.execute("BEGIN IMMEDIATE")
    writer.db.execute("DELETE FROM jf_customers")
    try:
        reader = open_reader(f"sqlite:///{store}")
        assert [c.id for c in reader.customers("reading")] == ["a", "b", "c"]
        reader.close()
    finally:
        writer.db.execute("ROLLBACK")
        writer.close()


def test_a_report_reads_one_snapshot(store: Path) -> None:
    """What a service commits while a report reads is not half in the report."""
    reader = open_reader(f"sqlite:///{store}")
    assert reader.journeys() == {"reading": 3}
    writer = SQLiteStore.open(f"sqlite:///{store}")
    writer.db.execute("DELETE FROM jf_customers WHERE id = 'a'")
    writer.db.execute("DELETE FROM jf_rejected")
    writer.close()
    assert [c.id for c in reader.customers("reading")] == ["a", "b", "c"]
    assert reader.rejected("reading") == {"unknown event 'nothing'": 1}
    reader.close()
    again = open_reader(f"sqlite:///{store}")
    assert [c.id for c in again.customers("reading")] == ["b", "c"]
    again.close()


def test_a_store_that_fails_while_read_is_a_message(store: Path) -> None:
    reader = SQLiteReader(store)
    customers = reader.customers("reading")
    next(customers)
    reader.db.close()  # as a file gone bad under the reader
    with pytest.raises(JourneyError, match="cannot read the state store"):
        next(customers)
    with pytest.raises(JourneyError, match="cannot read the state store"):
        reader.journeys()


def test_urls_and_files_that_are_not_stores(tmp_path: Path) -> None:
    with pytest.raises(JourneyError, match="does not exist"):
        open_reader(f"sqlite:///{tmp_path / 'missing.db'}")
    with pytest.raises(JourneyError, match="names no file"):
        open_reader("sqlite:///")
    with pytest.raises(JourneyError, match="reports read .*sqlite:// stores, not .redis."):
        open_reader("redis://localhost/journeys")
    with pytest.raises(JourneyError, match="cannot open the state store"):
        open_reader(f"postgresql://nobody@127.0.0.1:{free_port()}/journeys")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(JourneyError, match="is not a journeyflow state store"):
        open_reader(f"sqlite:///{other}")
    text = tmp_path / "text.db"
    text.write_text("hello", "utf-8")
    with pytest.raises(JourneyError, match="cannot read the state store"):
        open_reader(f"sqlite:///{text}")
