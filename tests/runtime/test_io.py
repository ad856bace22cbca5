"""Reading JSON Lines a block at a time gives the lines, numbers and reasons of reading
them one by one, wherever the blocks end."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journeyflow.runtime import io as jio


def _by_block(data: bytes, block: int, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    monkeypatch.setattr(jio, "_BLOCK", block)
    return [(n, _shown(line), reason) for n, line, reason in jio.read_jsonl(io.BytesIO(data))]


def _by_line(data: bytes) -> list[Any]:
    return [(n, _shown(line), reason)
            for n, line, reason in jio._split_lines(io.BytesIO(data).readlines())]


def _shown(line: Any) -> Any:
    """A line as validation reads it: orjson skips the line end after an object."""
    return line.removesuffix(b"\n") if isinstance(line, bytes) else line


@pytest.mark.parametrize(("data", "expected"), [
    (b'{"a": 1}\n{"b": 2}', [(1, b'{"a": 1}'), (2, b'{"b": 2}')]),
    (b'\n  {"a": 1}  \n\xef\xbb\xbf\n\xef\xbb\xbf{"b": 2}\n',
     [(2, b'{"a": 1}'), (3, b""), (4, b'{"b": 2}')]),
    (b'{"a": 1}\r{"b": 2}\r\n{"c": 3}\n{"d": 4}\n',
     [(1, b'{"a": 1}'), (2, b'{"b": 2}'), (3, b'{"c": 3}'), (4, b'{"d": 4}')]),
    (b"x" * 50 + b"\n" + b'{"a": 1}\n', [(1, b"x" * 50), (2, b'{"a": 1}')]),
])
@pytest.mark.parametrize("block", [1, 3, 16, 1 << 20])
def test_lines_and_their_numbers(data: bytes, expected: list[Any], block: int,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    assert _by_block(data, block, monkeypatch) == [(n, line, None) for n, line in expected]


def test_a_lone_carriage_return_numbers_the_lines_after_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    data = b'{"a": 1}\r{"b": 2}\n' + b'{"c": 3}\n' * 3
    lines = _by_block(data, 20, monkeypatch)  # the carriage return is in the first block
    assert [n for n, _, _ in lines] == [1, 2, 3, 4, 5]


pieces = st.sampled_from([b'{"a": 1}', b"\n", b"\r\n", b"\r", b" ", b"\xef\xbb\xbf", b"x",
                          b"{", b"\t", b"\n\n", b'{"b": "\xc3"}'])


@given(st.lists(pieces, max_size=40).map(b"".join), st.sampled_from([1, 2, 5, 64, 1 << 20]))
def test_any_bytes_read_by_block_as_line_by_line(data: bytes, block: int) -> None:
    with pytest.MonkeyPatch.context() as patch:
        assert _by_block(data, block, patch) == _by_line(data)
