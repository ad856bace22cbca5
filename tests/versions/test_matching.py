"""Which rule, delayed statement, split and deferred send of one version is which in another."""

from __future__ import annotations

import journeyflow
from journeyflow.runtime.program import Program
from journeyflow.versions.matching import Correspondence, ProgramIndex
from tests.versions.migrating import RENAMED, V1, edit, version


def index(text: str, renamed: dict[str, str] | None = None) -> ProgramIndex:
    return ProgramIndex.of(Program(journeyflow.loads(text).model), renamed)


def test_the_same_journey_pairs_everything_unchanged() -> None:
    pair = Correspondence(index(V1), index(version(V1, 2)))
    assert pair.rules == {i: i for i in range(len(pair.old.rules))}
    assert pair.unchanged_rules == set(pair.rules)
    assert pair.delayed == {0: 0}


def test_a_renamed_stage_pairs_through_the_mapping() -> None:
    pair = Correspondence(index(V1, {"trial": "onboarding"}), index(RENAMED))
    assert pair.unchanged_rules == set(pair.rules)


def test_a_changed_timing_pairs_the_rule_as_changed() -> None:
    old, new = index(V1), index(edit(V1, ("after 3d {", "after 1d {")))
    pair = Correspondence(old, new)
    nudge = next(r.id for r in old.rules if r.kind == "after")
    assert pair.rule(nudge) == nudge
    assert nudge not in pair.unchanged_rules


def test_an_inserted_rule_does_not_shift_the_others() -> None:
    new = index(edit(V1, ("  on used { set seats += 1 }", "  on paid { tag \"paid\" }\n"
                                                           "  on used { set seats += 1 }")))
    pair = Correspondence(index(V1), new)
    assert len(new.rules) == len(pair.old.rules) + 1
    assert pair.unchanged_rules == set(pair.rules)
    assert sorted(pair.rules.values()) != list(range(len(pair.old.rules)))


def test_what_an_index_knows() -> None:
    promo = index('journey "p"\nevent go {}\nmessage a via email\nquiet hours 22:00 to 08:00\n'
                  'stage s start { on go { grant bonus b 5 expires 1d  split { 50% { send a }'
                  ' 50% {} } after 1h { send a -> t } } }\nstage t final\n')
    assert promo.bonuses == {"b"}
    assert promo.unnamed_splits == ["5:53"]
    assert promo.split_arms == {"5:53": 2}
    assert list(promo.deliverers) == ["a"]
    (delayed,) = promo.delayed
    assert (delayed.messages, delayed.stages, delayed.text) == (
        frozenset({"a"}), frozenset({"t"}), "after 1h at line 5")
