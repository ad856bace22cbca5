"""Expired and reminded bonuses of real customers, from grants, redemptions and the state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import journeyflow
from journeyflow.live.reportbonus import BonusWatch
from journeyflow.runtime.trace import TraceRecord
from journeyflow.simulate.tally import Tally

JOURNEY = """journey "bonuses"
event signed_up {}
event purchased {}
stage new start {
  on signed_up {
    grant bonus gift 10 expires 10d remind 3d before
    grant bonus promo 5 expires 10d
  }
  on purchased {
    redeem bonus gift
    grant bonus promo 5 expires 20d remind 2d before
  }
}
"""
DAY = 86400.0


@pytest.fixture
def watch(tmp_path: Path) -> BonusWatch:
    path = tmp_path / "bonuses.journey"
    path.write_text(JOURNEY, "utf-8")
    return BonusWatch(journeyflow.load(path).model)


def grant(at: float, bonus: str, days: float) -> TraceRecord:
    return (at, "c", "action", {"action": "grant_bonus", "bonus": bonus, "value": 10,
                                "expires": at + days * DAY})


def redeem(at: float, bonus: str, held: bool = True) -> TraceRecord:
    return (at, "c", "action", {"action": "redeem_bonus", "bonus": bonus, "held": held})


def counts(watch: BonusWatch, records: list[TraceRecord], held: dict[str, Any],
           clock: float) -> dict[str, dict[str, int]]:
    tally = Tally(["new"], 0.0, 1)
    watch.count(records, held, clock, tally)
    return {what: dict(by_bonus) for what, by_bonus in tally.bonuses.items()}


def test_reminder_times_come_from_the_journey(watch: BonusWatch) -> None:
    # gift is always reminded 3 days before; promo's grants disagree, so it has none
    assert watch.remind == {"gift": 3 * DAY}


def test_a_redeemed_bonus_is_reminded_only_if_the_reminder_came_first(
        watch: BonusWatch) -> None:
    assert counts(watch, [grant(0, "gift", 10), redeem(2 * DAY, "gift")], {}, 30 * DAY) == {}
    assert counts(watch, [grant(0, "gift", 10), redeem(8 * DAY, "gift")], {}, 30 * DAY) == {
        "reminded": {"gift": 1}}


def test_a_bonus_no_longer_held_expired(watch: BonusWatch) -> None:
    assert counts(watch, [grant(0, "gift", 10)], {}, 30 * DAY) == {
        "expired": {"gift": 1}, "reminded": {"gift": 1}}


def test_a_bonus_still_held_has_not_expired(watch: BonusWatch) -> None:
    held = {"gift": object()}
    assert counts(watch, [grant(0, "gift", 10)], held, 5 * DAY) == {}
    assert counts(watch, [grant(0, "gift", 10)], held, 8 * DAY) == {"reminded": {"gift": 1}}


def test_a_renewal_ends_the_earlier_grant_without_expiry(watch: BonusWatch) -> None:
    records = [grant(0, "gift", 10), grant(5 * DAY, "gift", 10)]
    assert counts(watch, records, {"gift": object()}, 6 * DAY) == {}
    # granted again after the first one ran out: that one expired, and was reminded
    records = [grant(0, "gift", 10), grant(12 * DAY, "gift", 10)]
    assert counts(watch, records, {"gift": object()}, 13 * DAY) == {
        "expired": {"gift": 1}, "reminded": {"gift": 1}}


def test_redeeming_a_bonus_not_held_changes_nothing(watch: BonusWatch) -> None:
    records = [grant(0, "promo", 10), redeem(1 * DAY, "gift", held=False)]
    assert counts(watch, records, {}, 30 * DAY) == {"expired": {"promo": 1}}
