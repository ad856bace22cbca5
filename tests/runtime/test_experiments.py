"""Named splits with labelled arms, and the journey-wide holdout."""

from __future__ import annotations

import hashlib
from typing import Any

import journeyflow
from journeyflow.runtime.splits import holdout_test

SPLIT = """
journey "Subject test"
event signed_up {}
message offer_a via email { subject "A" }
message offer_b via email { subject "B" }
stage new start { on signed_up -> member }
stage member {
  on enter {
    split "subject_line" {
      50% plain { send offer_a }
      50% { send offer_b }
    }
  }
}
"""


def point(journey: str, customer: str, key: str) -> float:
    digest = hashlib.sha256(f"{journey}\x1f{customer}\x1f{key}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") % 10000) / 100


def run(source: str, customers: list[str], **attributes: Any) -> journeyflow.Engine:
    engine = journeyflow.Engine(journeyflow.loads(source, "t.journey"))
    for cid in customers:
        engine.handle({"at": "2026-01-05T10:00:00Z", "customer": cid, "event": "signed_up",
                       "attributes": attributes})
    return engine


def records(engine: journeyflow.Engine, cid: str) -> list[dict[str, Any]]:
    return [r for r in engine.trace if r["customer"] == cid and r["kind"] in ("action",
                                                                               "suppressed")]


def test_a_named_split_keys_arms_by_its_name_and_records_the_arm() -> None:
    ids = [f"c{i}" for i in range(40)]
    engine = run(SPLIT, ids)
    for cid in ids:
        first, send = records(engine, cid)
        plain = point("Subject test", cid, "subject_line") < 50
        assert first == {**first, "action": "split", "split": "subject_line",
                         "arm": "plain" if plain else 2}
        assert send["message"] == ("offer_a" if plain else "offer_b")
        assert engine.interpreter.customers[cid].arms == {"subject_line": 0 if plain else 1}


def test_lines_added_above_a_named_split_move_no_customer() -> None:
    ids = [f"c{i}" for i in range(200)]
    moved = SPLIT.replace("stage member {", "# the subject line test\n\n\nstage member {\n"
                          "  on enter { tag \"seen\" }")
    before, after = run(SPLIT, ids), run(moved, ids)
    assert [before.interpreter.customers[c].arms for c in ids] == [
        after.interpreter.customers[c].arms for c in ids]


def test_an_unnamed_split_is_keyed_by_its_position_and_named_by_it_in_the_trace() -> None:
    source = SPLIT.replace('split "subject_line"', "split")
    engine = run(source, ["c1"])
    record = records(engine, "c1")[0]
    assert record["split"] == "9:5"
    plain = point("Subject test", "c1", "9:5") < 50
    assert record["arm"] == ("plain" if plain else 2)


HOLDOUT = """
journey "Held"
customer { opt_in: bool = true }
event signed_up {}
message welcome via email { subject "Welcome" }
message receipt via email transactional { subject "Receipt" }
consent email where opt_in
holdout 20%
goal joined on signed_up
stage new start {
  on signed_up { send welcome  send receipt  tag "seen" }
}
"""


def test_held_out_customers_get_no_marketing_but_run_the_journey() -> None:
    ids = [f"c{i}" for i in range(300)]
    engine = run(HOLDOUT, ids, opt_in=False)
    held = [cid for cid in ids if point("Held", cid, "holdout") < 20]
    assert 30 < len(held) < 90
    for cid in ids:
        reasons = [r.get("reason") for r in records(engine, cid) if r["kind"] == "suppressed"]
        sent = [r["message"] for r in records(engine, cid) if r.get("action") == "send"]
        # Holdout is checked before consent, and the receipt is transactional.
        assert reasons == ["holdout" if cid in held else "no_consent"]
        assert sent == ["receipt"]
        assert engine.customer(cid).goals == ["joined"]
        assert "seen" in engine.customer(cid).tags


def test_the_holdout_test_matches_the_published_hash() -> None:
    held = holdout_test("Held", 20.0)
    assert [held(f"x{i}") for i in range(50)] == [
        point("Held", f"x{i}", "holdout") < 20 for i in range(50)]


def test_journeys_without_splits_or_holdout_have_no_holdout_slot() -> None:
    engine = run(SPLIT, ["c1"])
    assert engine.interpreter.p.layout.holdout is None
