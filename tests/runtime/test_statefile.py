"""The state file written one customer at a time: the bytes of the whole document."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import journeyflow
from journeyflow.runtime import statefile
from journeyflow.runtime.batch import run_batch
from journeyflow.runtime.io import read_events
from journeyflow.runtime.jsonio import dump_document
from journeyflow.runtime.statefile import write_state
from tests.conftest import EXAMPLES


def _written(entries: Any, totals: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    write_state(out, entries, totals)
    return out.getvalue()


def _engine(path: Path) -> journeyflow.Engine:
    engine = journeyflow.Engine(journeyflow.load(path))
    with (EXAMPLES / "lifecycle.events.jsonl").open("rb") as events:
        run_batch(engine, read_events(events, "jsonl"), None, None)
    return engine


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.journey")), ids=lambda p: p.stem)
def test_the_bytes_of_the_whole_document(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(statefile, "BATCH", 2)  # several writes
    engine = _engine(path)
    assert engine.interpreter.customers
    assert _written(engine.state_entries(), engine.state_totals(3)) == dump_document(
        engine.state(3))


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.journey")), ids=lambda p: p.stem)
def test_entries_are_the_snapshots(path: Path) -> None:
    engine = _engine(path)
    for cid, entry in engine.state_entries():
        snapshot = engine.snapshot(engine.interpreter.customers[cid]).model_dump()
        assert snapshot.pop("id") == cid
        if engine.program.value is None:
            assert snapshot.pop("value") is None
        else:
            assert isinstance(entry["value"], float)
        assert entry == snapshot


def test_an_entry_shares_no_list_with_its_customer() -> None:
    journey = journeyflow.loads('journey "j"\ncustomer { likes: list }\nevent hi {}\n'
                                'stage a start { on hi -> b }\nstage b { }\n')
    engine = journeyflow.Engine(journey)
    engine.handle({"at": "2026-01-05T10:00:00Z", "customer": "c1", "event": "hi",
                   "attributes": {"likes": ["tea"]}})
    engine.state()["customers"]["c1"]["attributes"]["likes"].append("coffee")
    assert engine.customer("c1").attributes["likes"] == ["tea"]  # type: ignore[union-attr]


def test_no_customers() -> None:
    assert _written([], {"processed": 0, "rejected": []}) == dump_document(
        {"customers": {}, "processed": 0, "rejected": []})
    assert _written([], {}) == dump_document({"customers": {}})
    assert _written([("c", {})], {}) == dump_document({"customers": {"c": {}}})


def test_what_json_cannot_hold_is_written_safely_in_its_entry_only() -> None:
    entries = [("c1", {"attributes": {"n": 10**30}}), ("c\ud800", {"attributes": {"x": 1.5}}),
               ("c3", {"attributes": {"t": "fine"}})]
    data = _written(entries, {"processed": 3})
    document = json.loads(data)
    assert document["customers"]["c1"]["attributes"]["n"] == "a 100-bit integer"
    assert document["customers"]["c\\ud800"]["attributes"]["x"] == 1.5
    assert document["customers"]["c3"]["attributes"]["t"] == "fine"


values = st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1)
                      | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
                      lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=12)


@given(st.dictionaries(st.text(max_size=8), st.dictionaries(st.text(max_size=5), values,
                                                            max_size=4), max_size=6),
       st.dictionaries(st.text(max_size=5), values, max_size=3))
def test_any_entries_give_the_document(customers: dict[str, dict[str, Any]],
                                       totals: dict[str, Any]) -> None:
    totals.pop("customers", None)
    assert _written(customers.items(), totals) == dump_document({"customers": customers,
                                                                 **totals})


def test_batches_of_customers_give_the_document_s_bytes() -> None:
    import io

    from journeyflow.runtime import statefile
    from journeyflow.runtime.jsonio import dump_document

    entries = [(f"c{i}", {"stage": "new", "tags": [], "attributes": {"n": i, "when": None},
                          "bonuses": {} if i % 2 else {"b": {"value": 5}}})
               for i in range(2 * statefile.BATCH + 3)]
    entries.append(("odd", {"stage": "new", "set": {1, 2}}))  # the encoder refuses a set
    out = io.BytesIO()
    statefile.write_state(out, entries, {"processed": 1})
    expected = dump_document({"customers": {cid: {**e, "set": [1, 2]} if "set" in e else e
                                            for cid, e in entries}, "processed": 1})
    assert out.getvalue() == expected
