"""Fuzzed journeys compile or fail with diagnostics, through the library and the CLI.

The inputs are the repository's own journeys (examples and golden files)
mutated token by token, line by line, nested around the limits and byte by
byte, plus soups of the language's words; see ``fuzzing.py``. The ones that
compile are run on a few events. A bounded number runs here; the release run
is ``bench/fuzz.py --inputs 100000`` (docs/errors.md, "Release checks").
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .fuzzing import check_input, make_input, mutate, seed_journeys, token_soup, tokens

SEEDS = seed_journeys()

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])


def assert_no_crash(data: bytes, workdir: Path, cli: bool = True) -> str:
    outcome = check_input(data, workdir, cli=cli)
    assert outcome.crash is None, f"{outcome.crash}\ninput: {data!r}"
    return outcome.status


def test_the_seeds_are_the_repositorys_own_journeys() -> None:
    assert any(name.startswith("examples/") for name in SEEDS)
    assert any(name.startswith("tests/golden/errors/") for name in SEEDS)
    assert all(text for text in SEEDS.values())


@pytest.mark.parametrize("name", sorted(n for n in SEEDS if n.startswith("examples/")))
def test_every_example_compiles_and_runs_unmutated(name: str, tmp_path: Path) -> None:
    assert assert_no_crash(SEEDS[name].encode(), tmp_path) == "compiled"


@FUZZ
@given(st.randoms(use_true_random=False))
def test_mutated_journeys_never_crash(tmp_path: Path, rng: random.Random) -> None:
    _, data = make_input(rng, SEEDS)
    assert_no_crash(data, tmp_path)


@settings(FUZZ, max_examples=150)
@given(st.randoms(use_true_random=False))
def test_token_soup_never_crashes(tmp_path: Path, rng: random.Random) -> None:
    assert_no_crash(token_soup(rng).encode("utf-8", "surrogatepass"), tmp_path, cli=False)


def test_bytes_that_are_not_utf8_are_unreadable_not_a_crash(tmp_path: Path) -> None:
    assert assert_no_crash(b'journey "x"\n\xff\xfe', tmp_path) == "unreadable"


def test_the_mutations_reach_every_kind_of_outcome(tmp_path: Path) -> None:
    rng = random.Random(7)
    seen = {check_input(mutate(rng, SEEDS["examples/abandoned_cart.journey"]), tmp_path,
                        cli=False).status for _ in range(40)}
    assert {"compiled", "diagnostics"} <= seen


def test_tokens_split_as_the_lexer_roughly_does() -> None:
    text = 'stage a start { when x >= 10% -> b } # note'
    assert [text[i:j] for i, j in tokens(text)] == [
        "stage", "a", "start", "{", "when", "x", ">=", "10%", "->", "b", "}", "# note"]
