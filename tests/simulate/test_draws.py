"""Payload samplers: declared types, bounds, and errors before the run."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from journeyflow.errors import JourneyError
from journeyflow.journey import Journey
from journeyflow.model.behaviour import Distribution
from journeyflow.simulate import simulate
from journeyflow.simulate.draws import payload_sampler, sampler


@pytest.mark.parametrize(("dist", "kind", "expected"), [
    (Distribution(kind="constant", constant=5.0), "text", "5"),
    (Distribution(kind="constant", constant="7"), "number", 7.0),
    (Distribution(kind="choice", choices=(("true", 1.0),)), "bool", True),
    (Distribution(kind="choice", choices=(("2", 1.0),)), "number", 2.0),
    (Distribution(kind="constant", constant="2026-01-02"), "date", 1767312000.0),
])
def test_values_take_the_declared_type(dist: Distribution, kind: str, expected: object) -> None:
    assert sampler(dist, kind, "e.f", "UTC")(random.Random(1)) == expected


def test_bounds_truncate() -> None:
    draw = sampler(Distribution(kind="normal", params=(0.0, 1.0), low=0.5, high=0.6),
                   "number", "e.f")
    rng = random.Random(3)
    values = [draw(rng) for _ in range(2000)]
    assert all(0.5 <= v <= 0.6 for v in values)
    assert len(set(values)) > 1900  # drawn again, not clamped onto the bounds


def test_impossible_bounds_are_clamped() -> None:
    draw = sampler(Distribution(kind="uniform", params=(0.0, 1.0), low=5.0), "number", "e.f")
    assert draw(random.Random(1)) == 5.0


@pytest.mark.parametrize(("dist", "kind"), [
    (Distribution(kind="choice", choices=(("big", 1.0),)), "number"),
    (Distribution(kind="constant", constant="maybe"), "bool"),
    (Distribution(kind="normal", params=(1.0, 1.0)), "date"),
])
def test_wrong_types_fail_before_the_run(dist: Distribution, kind: str) -> None:
    with pytest.raises(JourneyError, match="e.f"):
        sampler(dist, kind, "e.f")


def test_payload_keeps_defaults_and_draws_in_order() -> None:
    payload = payload_sampler("bought", {"amount": Distribution(kind="constant", constant=3.0)},
                              {"amount": "number", "size": "text"}, {"size": "m"})
    assert payload(random.Random(1)) == {"size": "m", "amount": 3.0}


def test_reaction_without_a_payload_source(compile_journey: Callable[[str], Journey]) -> None:
    j = compile_journey('''journey "r"
event joined {}
event bought { amount: number }
message hi via email { subject "Hi" }
stage a start { on enter { send hi } }
simulate {
  arrivals joined 10 per day
  reacts to hi { bought 50% within 1d }
}''')
    with pytest.raises(JourneyError, match="no rate or arrival of 'bought' says how to draw "
                                           "amount"):
        simulate(j, days=2)
