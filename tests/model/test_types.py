"""Every field of every compiled journey holds what its annotation says.

The model's parts are plain structs, so nothing checks their values when the
compiler makes them; these tests do, on every journey the project ships or tests
with: a number field never holds an ``int`` where a ``float`` is declared, a tuple
is never a list, and so on.
"""

from __future__ import annotations

import types
import typing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import journeyflow
from journeyflow.model import journey as m
from tests.runtime.test_cases import Case, load_cases
from tests.runtime.test_properties import journeys

ROOT = Path(__file__).resolve().parents[2]


def _compiles(case: Case) -> bool:
    """Whether a case's journey compiles: its expectations list no compile error."""
    return not any(" error " in check for check in case.expect.get("check", []))


JOURNEYS = sorted([*ROOT.glob("examples/*.journey"),
                   *(case.path / "journey.journey" for case in load_cases() if _compiles(case)),
                   ROOT / "bench" / "baselines" / "lifecycle.journey"])


def problems(value: Any, hint: Any, where: str) -> list[str]:
    """Where ``value`` is not what ``hint`` says, searched through parts and containers."""
    if hint is Any:
        return []
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Literal:
        return [] if value in args else [f"{where}: {value!r} is not one of {args}"]
    if origin in (typing.Union, types.UnionType):
        if any(not problems(value, arm, where) for arm in args):
            return []
        return [f"{where}: {value!r} is none of {hint}"]
    if origin is not None:
        return container_problems(value, origin, args, where)
    # bool is an int, and an int is not a float: both would pass isinstance alone
    if type(value) is not hint and not (issubclass(hint, m.Part) and isinstance(value, hint)):
        return [f"{where}: {type(value).__name__} {value!r}, not {hint.__name__}"]
    return part_problems(value, where) if isinstance(value, m.Part) else []


def container_problems(value: Any, origin: type, args: tuple[Any, ...],
                       where: str) -> list[str]:
    if type(value) is not origin:
        return [f"{where}: {type(value).__name__}, not a {origin.__name__}"]
    if origin is tuple:
        items = args[:1] * len(value) if args[1:] == (...,) else args
        return [p for i, (item, arm) in enumerate(zip(value, items, strict=True))
                for p in problems(item, arm, f"{where}[{i}]")]
    if origin is dict:
        return [p for k, v in value.items()
                for p in [*problems(k, args[0], f"{where} key"),
                          *problems(v, args[1], f"{where}[{k!r}]")]]
    if origin is frozenset:
        return [p for item in value for p in problems(item, args[0], f"{where} item")]
    raise AssertionError(f"{where}: no check for {origin.__name__}")


def part_problems(part: Any, where: str) -> list[str]:
    hints = typing.get_type_hints(type(part))
    return [p for name in part.__struct_fields__
            for p in problems(getattr(part, name), hints[name], f"{where}.{name}")]


@pytest.mark.parametrize("path", JOURNEYS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_field_holds_its_declared_type(path: Path) -> None:
    journey = journeyflow.load(path)
    found = part_problems(journey.model, "model")
    for i, scenario in enumerate(journey.scenarios):
        found += part_problems(scenario, f"scenario[{i}]")
    if journey.behaviour is not None:
        found += part_problems(journey.behaviour, "behaviour")
    assert found == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journeys())
def test_generated_journeys_hold_their_declared_types(text: str) -> None:
    try:
        journey = journeyflow.loads(text)
    except journeyflow.JourneyError:
        return  # a generated journey the compiler refuses has no model to check
    assert part_problems(journey.model, "model") == []


def test_the_check_finds_a_wrong_value() -> None:
    grant = m.GrantBonus(bonus="b", value=10, percent=False,  # type: ignore[arg-type]
                         expires=timedelta(days=1), remind=None)
    assert part_problems(grant, "grant") == ["grant.value: int 10, not float"]
    arm = m.SplitArm(share=50.0, body=[m.Send(message="x")])  # type: ignore[arg-type]
    assert part_problems(arm, "arm") == ["arm.body: list, not a tuple"]
    assert part_problems(m.Send(kind="sent", message="x"),  # type: ignore[arg-type]
                         "send") == ["send.kind: 'sent' is not one of ('send',)"]


def test_examples_are_checked() -> None:
    assert len(JOURNEYS) > 20
