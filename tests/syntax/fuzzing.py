"""Fuzz inputs made from the project's own journeys, and the check that none crashes.

Shared by the fuzz test of the suite (``tests/syntax/test_fuzz.py``, a few
hundred inputs driven by hypothesis) and the release run (``bench/fuzz.py``,
100,000 inputs or more). Every mutation takes a :class:`random.Random`, so an
input is reproduced from its seed journey and the random state.

An input may compile, fail with diagnostics, or (for bytes that are not UTF-8)
be refused as unreadable; anything else, a traceback, is a crash.
"""

from __future__ import annotations

import json
import random
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

import journeyflow
from journeyflow.cli import main
from journeyflow.errors import JourneyError, format_diagnostics
from journeyflow.syntax.limits import MAX_BLOCK_DEPTH, MAX_EXPRESSION_DEPTH, MAX_TEMPLATE_DEPTH

__all__ = ["Outcome", "check_input", "make_input", "mutate", "seed_journeys", "token_soup",
           "tokens"]

ROOT = Path(__file__).resolve().parent.parent.parent
SEED_GLOBS = ("examples/*.journey", "tests/golden/errors/*.journey",
              "tests/golden/fmt/*.journey")
UNTIL = "2026-01-20T00:00:00Z"


def seed_journeys() -> dict[str, str]:
    """Name -> text of every journey of the repository: examples and golden inputs."""
    paths = sorted(p for pattern in SEED_GLOBS for p in ROOT.glob(pattern))
    return {str(p.relative_to(ROOT)): p.read_text("utf-8") for p in paths}


KEYWORDS = (
    "journey version timezone customer event message via channel limit to per quiet hours "
    "send window segment where goal on when value reentry never always after anywhere stage "
    "start final enter exit without every at offer cross_sell grant bonus expires remind "
    "before redeem set tag untag emit notify unless if else split not and or in true false "
    "null simulate arrivals for reacts within scenario wait expect sent tagged as with "
    "count sum last since has_tag has_bonus normal choice min now stage_time"
).split()
NAMES = ["a", "b", "welcome", "purchased", "points", "email", "amount", "rückgewinnung", "x1"]
LITERALS = ["0", "1", "12.5", "100", "9" * 400, "0m", "30m", "14d", "1d12h", "99999999999d",
            "10%", "0%", "150%", "08:00", "25:99", "2026-01-31", "2026-02-30T10:00Z",
            "0001-01-01T00:00+05:00", "9999-12-31T23:59-05:00", '"Name"', '"Europe/Berlin"',
            '"{{ customer.first_name }}"', '"{% if %}"', '""', '"unterminated', '"\\"',
            '"{{ customer.x | nope }}"', '"{% for x in y %}"']
PUNCTUATION = ["{", "}", "(", ")", "[", "]", ":", ",", ";", ".", "->", "=", "+=", "-=", "+",
               "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "?", "#", "@", "\n", "\t", "'",
               "&", "|", "!", "€", "\u2013", "\u201c", "\r", "\x0c", "\u2028", "\x00"]
VOCABULARY = KEYWORDS + NAMES + LITERALS + PUNCTUATION

TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|->|[+\-=!<>]=|[\w.:%]+|\S')


def tokens(text: str) -> list[tuple[int, int]]:
    """(start, end) of every token of ``text``, roughly as the lexer splits it."""
    return [m.span() for m in TOKEN.finditer(text)]


def token_soup(rng: random.Random, size: int = 60) -> str:
    """Words of the language in random order, with or without a header."""
    body = " ".join(rng.choice(VOCABULARY) for _ in range(rng.randrange(size)))
    return body if rng.random() < 0.3 else 'journey "fuzz"\n' + body


# ---- token and line mutations ------------------------------------------------------------


def _token_op(rng: random.Random, text: str) -> str:
    spans = tokens(text)
    if not spans:
        return text
    a0, a1 = rng.choice(spans)
    op = rng.choice(("drop", "duplicate", "swap", "replace", "insert"))
    if op == "drop":
        return text[:a0] + text[a1:]
    if op == "duplicate":
        return text[:a1] + " " + text[a0:a1] + text[a1:]
    if op == "replace":
        return text[:a0] + rng.choice(VOCABULARY) + text[a1:]
    if op == "insert":
        return text[:a0] + rng.choice(KEYWORDS) + " " + text[a0:]
    b0, b1 = rng.choice(spans)
    if a0 > b0:
        (a0, a1), (b0, b1) = (b0, b1), (a0, a1)
    if a1 > b0:
        return text
    return text[:a0] + text[b0:b1] + text[a1:b0] + text[a0:a1] + text[b1:]


def _line_op(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    op = rng.choice(("drop", "duplicate", "swap"))
    if op == "drop":
        del lines[i]
    elif op == "duplicate":
        lines.insert(i, lines[i])
    else:
        lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


# ---- deep nesting, around the limits ---------------------------------------------------


def _depth(rng: random.Random, limit: int) -> int:
    return rng.choice((limit - 2, limit - 1, limit, limit + 1, 2 * limit, 600))


def _nest_expression(rng: random.Random, text: str) -> str:
    """A chain of ``not``, minus signs or sums in front of an expression."""
    spots = [m.end() for m in re.finditer(r"\b(where|when|if|value|=|>=|<=|>|<)[ \t]", text)]
    if not spots:
        return text
    at = rng.choice(spots)
    k = _depth(rng, MAX_EXPRESSION_DEPTH)
    rest = text[at:]
    kind = rng.choice(("not", "minus", "sum", "product", "and"))
    if kind == "not":
        return text[:at] + "not " * k + rest
    if kind == "minus":
        return text[:at] + "-" * k + rest
    if kind == "and":
        return text[:at] + "true and " * k + rest
    op = "+" if kind == "sum" else "*"
    end = next((m.start() for m in re.finditer(r"[ \t\n{]", rest)), len(rest))
    return text[:at] + f"(1 {op} " * k + rest[:end] + ")" * k + rest[end:]


def _nest_blocks(rng: random.Random, text: str) -> str:
    """Blocks inside blocks right after an opening brace."""
    spots = [m.end() for m in re.finditer(r"\{", text)]
    if not spots:
        return text
    at = rng.choice(spots)
    k = _depth(rng, MAX_BLOCK_DEPTH)
    opener = rng.choice(("if true { ", "after 1h { ", "split { 100% { ", "if false { } else "))
    closer = {"split { 100% { ": "} } ", "if false { } else ": ""}.get(opener, "} ")
    inner = 'tag "fuzz" '
    if opener == "if false { } else ":
        return text[:at] + " " + opener * k + "{ " + inner + "} " + text[at:]
    return text[:at] + " " + opener * k + inner + closer * k + text[at:]


def _nest_template(rng: random.Random, text: str) -> str:
    spots = [m.end() for m in re.finditer(r"\{\{ ?", text)]
    if not spots:
        return text
    at = rng.choice(spots)
    k = _depth(rng, MAX_TEMPLATE_DEPTH)
    close = text.find("}}", at)
    close = close if close >= 0 else at
    return text[:at] + "(" * k + text[at:close] + ")" * k + text[close:]


# ---- bytes ------------------------------------------------------------------------------

_ODD_BYTES = [b"\x00", b"\xff", b"\xc3", b"\xe2\x80\xa8", b"\r", b"\x0c", b"\t", b"\xef\xbb\xbf",
              b"\xed\xa0\x80", b'"', b"{", b"}", b"\n"]


def _byte_op(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    if not buf:
        return rng.choice(_ODD_BYTES)
    i = rng.randrange(len(buf))
    op = rng.choice(("flip", "insert", "delete", "truncate"))
    if op == "flip":
        buf[i] ^= 1 << rng.randrange(8)
    elif op == "insert":
        buf[i:i] = rng.choice(_ODD_BYTES)
    elif op == "delete":
        del buf[i:i + rng.randrange(1, 40)]
    else:
        del buf[i:]
    return bytes(buf)


TEXT_OPS: tuple[Callable[[random.Random, str], str], ...] = (
    _token_op, _token_op, _token_op, _line_op, _nest_expression, _nest_blocks, _nest_template)


def mutate(rng: random.Random, text: str) -> bytes:
    """One to three mutations of ``text``: mostly tokens and lines, sometimes raw bytes."""
    for _ in range(rng.randint(1, 3)):
        text = rng.choice(TEXT_OPS)(rng, text)
    data = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.2:
        for _ in range(rng.randint(1, 4)):
            data = _byte_op(rng, data)
    return data


NESTING_OPS = (_nest_expression, _nest_blocks, _nest_template)


def excerpt(rng: random.Random, text: str) -> str:
    """The header of ``text`` and a few consecutive declarations of it.

    Paragraphs (text between blank lines) stand for declarations: a slice of
    them is a smaller journey with the same constructs, and mostly names
    declared elsewhere, so it is checked far past the parser at a fraction of
    the cost of the whole file.
    """
    paragraphs = text.split("\n\n")
    if len(paragraphs) < 3:
        return text
    start = rng.randrange(1, len(paragraphs))
    return "\n\n".join([paragraphs[0], *paragraphs[start:start + rng.randint(1, 4)]])


def make_input(rng: random.Random, seeds: dict[str, str]) -> tuple[str, bytes]:
    """(what it was made from, the input's bytes).

    One in eight is a whole example, mutated or only nested around the limits
    (which keeps most of them valid, so they get as far as running); a quarter
    are excerpts of the examples; the rest are the small golden journeys
    mutated, and soups of words.
    """
    examples = sorted(n for n in seeds if n.startswith("examples/"))
    others = sorted(n for n in seeds if not n.startswith("examples/"))
    draw = rng.random()
    if draw < 0.1 or not examples:
        return "token soup", token_soup(rng).encode("utf-8", "surrogatepass")
    if draw < 0.225:
        name = rng.choice(examples)
        if rng.random() < 0.4:
            text = rng.choice(NESTING_OPS)(rng, seeds[name])
            return name, text.encode("utf-8", "surrogatepass")
        return name, mutate(rng, seeds[name])
    if draw < 0.475 or not others:
        name = rng.choice(examples)
        return f"{name} (excerpt)", mutate(rng, excerpt(rng, seeds[name]))
    name = rng.choice(others)
    return name, mutate(rng, seeds[name])


# ---- the check -------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What became of one input; ``crash`` holds the traceback of a crash."""

    status: str  # compiled, diagnostics, unreadable, crash
    crash: str | None = None


def check_input(data: bytes, workdir: Path, *, cli: bool = True) -> Outcome:
    """Check ``data`` as a journey through the library and the command line.

    When it compiles, ``journeyflow run`` goes on with a few events of the
    journey's own kinds, a bad line and an unknown event among them.
    """
    path = workdir / "fuzz.journey"
    path.write_bytes(data)
    try:
        status, journey = _library(path, data)
        if cli:
            _cli(["check", str(path)], (0, 1, 2))
        if journey is not None:
            events = workdir / "fuzz.events.jsonl"
            events.write_text(_events(journey), "utf-8")
            _cli(["run", str(path), "--events", str(events), "--until", UNTIL], (0, 1))
    except Exception:  # noqa: BLE001 - every other exception is what the fuzzer looks for
        return Outcome("crash", traceback.format_exc())
    return Outcome(status)


def _library(path: Path, data: bytes) -> tuple[str, journeyflow.Journey | None]:
    try:
        return "compiled", journeyflow.load(path)
    except JourneyError as err:
        # As the loader reads it: universal newlines make a lone "\r" a line break.
        text = path.read_text("utf-8", errors="replace")
        _assert_diagnostics(err, text)
        return ("diagnostics" if err.diagnostics else "unreadable"), None


def _assert_diagnostics(err: JourneyError, text: str) -> None:
    if not str(err):
        raise AssertionError("a JourneyError without a message")
    lines = text.count("\n") + 1
    for diag in err.diagnostics:
        if not (re.fullmatch(r"JF\d{3}", diag.code) and 1 <= diag.span.line <= lines
                and diag.span.col >= 1):
            raise AssertionError(f"diagnostic out of the file: {diag}")
    format_diagnostics(err.diagnostics, text)  # the printer copes with every position


def _cli(args: list[str], exits: tuple[int, ...]) -> None:
    result = CliRunner().invoke(main, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    if result.exit_code not in exits:
        raise AssertionError(f"journeyflow {args[0]} exited {result.exit_code}: "
                             f"{result.output[-2000:]}")


_VALUES = {"number": 3, "text": "x", "bool": True, "date": "2026-01-02",
           "datetime": "2026-01-02T10:00:00Z", "list": ["a"]}


def _events(journey: journeyflow.Journey) -> str:
    lines: list[str] = []
    for name, event in list(journey.model.events.items())[:6]:
        data = {field: _VALUES.get(attr.type) for field, attr in event.fields.items()}
        for customer in ("c1", "c2"):
            lines.append(json.dumps({"at": f"2026-01-01T10:{len(lines):02d}:00Z",
                                     "customer": customer, "event": name, "data": data}))
    lines.append('{"at": "2026-01-02T00:00:00Z", "customer": "c1", "event": "no_such_event"}')
    lines.append("{not json")
    return "\n".join(lines) + "\n"
