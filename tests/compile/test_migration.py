"""The ``migrate`` block as the compiler checks and lowers it."""

from __future__ import annotations

import pytest

import journeyflow
from journeyflow.errors import JourneyError

BASE = """journey "J"
version 2
customer { plan: text = "basic", seats: number = 1, vip: bool = false }
event go {}
stage onboarding start { on go -> done }
stage done final
"""


def codes(text: str) -> list[str]:
    try:
        journey = journeyflow.loads(BASE + text)
    except JourneyError as err:
        return [d.code for d in err.diagnostics]
    return [d.code for d in journey.warnings]


def test_the_block_is_lowered_into_the_model() -> None:
    journey = journeyflow.loads(BASE + 'migrate {\n  stage trial -> onboarding\n'
                                '  set vip = plan == "gold"\n  set seats = seats * 2\n}\n')
    migration = journey.model.migration
    assert migration is not None
    assert migration.stages == {"trial": "onboarding"}
    assert [(r.attribute, r.value.source) for r in migration.rewrites] == [
        ("vip", 'plan == "gold"'), ("seats", "seats * 2")]
    assert migration.moves[0].location.line == 8


def test_without_a_block_there_is_no_migration() -> None:
    assert journeyflow.loads(BASE).model.migration is None


@pytest.mark.parametrize(("text", "expected"), [
    ("migrate { stage trial -> onbording }", ["JF230"]),
    ("migrate { stage trial -> done stage trial -> onboarding }", ["JF231"]),
    ("migrate { stage done -> onboarding }", ["JF622"]),
    ("migrate { stage done -> done }", []),  # a stage kept as it is
    ("migrate { set plna = 1 }", ["JF204"]),
    ("migrate { set seats = 1 set seats = 2 }", ["JF231"]),
    ('migrate { set vip = "yes" }', ["JF401"]),
    ('migrate { set vip = plan }', []),  # old values read as any type: checked when migrating
    ("migrate { set seats = event.amount }", ["JF402"]),
    ("migrate { set seats = count(go) }", []),
    ("migrate {}\nmigrate {}", ["JF225"]),
])
def test_checks(text: str, expected: list[str]) -> None:
    assert codes(text + "\n") == expected
