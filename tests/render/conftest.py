"""Parametrizes ``journey_case`` (every journey) and ``example_case`` (examples and fixtures,
the ones with golden files and drawn in every image format) from :mod:`tests.render.cases`."""

from __future__ import annotations

import pytest

from journeyflow import Journey
from tests.render.cases import LANGUAGE_EXAMPLE, example_cases, journey_cases, load


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for fixture, cases in (("journey_case", journey_cases), ("example_case", example_cases)):
        if fixture in metafunc.fixturenames:
            found = cases()
            metafunc.parametrize(fixture, found, ids=[c.name for c in found])


@pytest.fixture
def language_example() -> Journey:
    """The Kundenlebenszyklus fixture: every kind of stage, rule and action on one page."""
    return load(LANGUAGE_EXAMPLE)
