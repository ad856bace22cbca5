"""Instants and their ISO 8601 text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from journeyflow.runtime.timeutil import format_instant, parse_instant

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@given(st.integers(-(10**9), 4 * 10**9))
def test_whole_seconds_format_as_datetime_does(seconds: int) -> None:
    expected = (EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert format_instant(float(seconds)) == expected


@given(st.integers(0, 4 * 10**9), st.integers(1, 999_999))
def test_fractions_keep_their_microseconds(seconds: int, micros: int) -> None:
    instant = seconds + micros / 1e6
    expected = EPOCH + timedelta(seconds=instant)
    text = format_instant(instant)
    assert text == expected.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert abs(parse_instant(text) - instant) < 1e-6


@given(st.floats(-(10.0**9), 4 * 10.0**9, allow_nan=False))
def test_any_instant_formats_as_datetime_rounds_it(instant: float) -> None:
    moment = EPOCH + timedelta(seconds=instant)
    pattern = "%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    assert format_instant(instant) == moment.strftime(pattern)
