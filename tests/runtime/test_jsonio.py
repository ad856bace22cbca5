"""JSON in and out: every failure to read becomes a reason, writing never fails."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journeyflow.runtime.events import Rejection
from journeyflow.runtime.io import detect_encoding, read_csv, read_jsonl
from journeyflow.runtime.jsonio import decode_line, dump_document, dump_line, json_safe


def strict(data: bytes) -> Any:
    def refuse(word: str) -> Any:
        raise AssertionError(word)

    return json.loads(data, parse_constant=refuse)


@pytest.mark.parametrize(("line", "reason"), [
    (b'{"a": "\xc3"}', "not valid UTF-8: byte 0xc3 at column 8"),
    (b'{"a": -Infinity}', "Infinity is not a number JSON can hold (column 7)"),
    (b"[" * 2000, "nested more than 1,024 deep"),
    (b'{"a": 1,}', "not valid JSON"),
])
def test_decode_errors_become_reasons(line: bytes, reason: str) -> None:
    with pytest.raises(Rejection) as caught:
        decode_line(line)
    assert reason in caught.value.reason
    assert isinstance(caught.value.event, str)


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text()
    | st.sampled_from(["\ud800", "a\udfffb"]) | st.binary(max_size=4),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner)
    | st.dictionaries(st.text(max_size=3) | st.integers(), inner, max_size=4)
    | st.frozensets(st.integers(), max_size=3),
    max_leaves=20)


@given(values)
def test_any_value_is_written_as_strict_json(value: Any) -> None:
    strict(dump_line({"event": value}))
    strict(dump_document({"event": value}))


def test_too_deep_values_are_cut() -> None:
    value: Any = []
    for _ in range(3000):
        value = [value]
    written = strict(dump_line(value))
    depth = 0
    while isinstance(written, list) and written:
        written, depth = written[0], depth + 1
    assert written == "…"
    assert depth == 64
    assert json_safe({"n": 2**100}) == {"n": "a 101-bit integer"}


def test_encodings_are_detected_like_json_readers_do() -> None:
    assert detect_encoding(b"\xef\xbb\xbf{") == "utf-8"
    assert detect_encoding("{}".encode("utf-16-le")) == "utf-16-le"
    assert detect_encoding(b"") == "utf-8"


def test_a_utf8_byte_order_mark_is_skipped_on_any_line() -> None:
    import io

    data = b'\xef\xbb\xbf{"a": 1}\n\n\xef\xbb\xbf{"b": 2}\n'
    assert [(n, line) for n, line, _ in read_jsonl(io.BytesIO(data))] == [
        (1, b'{"a": 1}'), (3, b'{"b": 2}')]


def test_csv_cells_and_columns() -> None:
    import io

    data = (b"at,customer,event,data,data.amount,attributes.vip,extra\n"
            b'2026-01-01,c1,purchased,"{""note"": ""x""}",12.5,true,1\n'
            b"2026-01-01,c2,purchased\n")
    rows = list(read_csv(io.BytesIO(data)))
    assert rows[0] == (2, {"at": "2026-01-01", "customer": "c1", "event": "purchased",
                           "data": {"note": "x", "amount": 12.5},
                           "attributes": {"vip": True}}, None)
    assert rows[1] == (3, {"at": "2026-01-01", "customer": "c2", "event": "purchased"}, None)
