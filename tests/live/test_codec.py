"""The stored form of a customer: read back as the journey declares it."""

from __future__ import annotations

import journeyflow
from journeyflow.live.codec import customer_from_json, customer_to_json
from journeyflow.runtime.program import Program

JOURNEY = """journey "goals"
event signed_up {}
goal joined on signed_up
stage lead start { on signed_up -> member }
stage member {}
"""


def test_a_stored_goal_the_journey_no_longer_declares_is_not_read_back() -> None:
    engine = journeyflow.Engine(journeyflow.loads(JOURNEY))
    engine.handle({"at": 1767261600.0, "customer": "c1", "event": "signed_up"})
    program: Program = engine.program
    stored = customer_to_json(program, engine.interpreter.customers["c1"])
    assert '"joined"' in stored
    edited = stored.replace('"goals":["joined"]', '"goals":["joined","retired"]')
    assert edited != stored
    c = customer_from_json(program, edited)
    assert c.goals == ("joined",)
    assert "retired" not in program.layout.goals
