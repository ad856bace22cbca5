"""A zone's stretches of constant UTC offset, and the transitions between them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeyflow.runtime.zone_offsets import ZoneOffsets
from tests.runtime.sendtimes import ZONES, utc


def offset_of(at: float, zone: ZoneInfo) -> int:
    offset = datetime.fromtimestamp(at, zone).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([*ZONES, "America/St_Johns", "Pacific/Apia"]),
       st.integers(int(utc("2005-01-01T00:00:00")), int(utc("2030-01-01T00:00:00"))))
def test_the_offset_holds_until_the_stretch_ends_and_then_may_change(zone: str,
                                                                     at: int) -> None:
    tz = ZoneInfo(zone)
    offsets = ZoneOffsets(tz)
    offset, until = offsets.stretch(at)
    assert offset == offset_of(at, tz)
    assert at < until <= at + 366 * 86400
    assert offset_of(until - 1, tz) == offset
    for probe in range(at, int(until), 3 * 3600):
        assert offset_of(probe, tz) == offset


@pytest.mark.parametrize(("zone", "moment", "before", "after"), [
    ("Australia/Lord_Howe", "2026-10-03T15:30:00", 37800, 39600),  # 02:00 +10:30 -> +11
    ("America/St_Johns", "2011-03-13T03:31:00", -12600, -9000),  # at 00:01 local time
    ("America/Los_Angeles", "2026-11-01T09:00:00", -25200, -28800),
])
def test_transitions_are_found_to_the_second(zone: str, moment: str, before: int,
                                             after: int) -> None:
    offsets = ZoneOffsets(ZoneInfo(zone))
    assert offsets.stretch(utc(moment) - 1) == (before, utc(moment))
    assert offsets.offset(utc(moment)) == after


def test_a_zone_without_transitions_is_one_stretch_a_year() -> None:
    offsets = ZoneOffsets(ZoneInfo("Asia/Kolkata"))
    assert offsets.stretch(utc("2026-06-01T00:00:00")) == (19800, utc("2027-01-01T00:00:00"))


def test_instants_beyond_the_calendar_keep_the_last_offset() -> None:
    offsets = ZoneOffsets(ZoneInfo("Europe/Berlin"))
    assert offsets.stretch(1e12) == (3600, float("inf"))
    assert offsets.stretch(-1e12)[0] == offsets.offset(utc("0002-01-01T00:00:00"))
