"""The bounds of one template render, and the budget that enforces them.

A message template is written by people who do not run the service, so a render
must end quickly and stay small whatever the template says. The sandbox calls
:func:`step` and :func:`spend` at every loop iteration, call, filter and
operator; they raise :class:`RenderLimitExceeded` once a bound is crossed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["BOUNDS", "RenderBounds", "RenderLimitExceeded", "bounds", "budget", "check_size",
           "measure", "settle", "spend", "step"]

_T = TypeVar("_T")


@dataclass(frozen=True)
class RenderBounds:
    """What one render of one subject or body may use.

    Sizes count characters of text and items of lists and mappings (nested ones
    included), so a list of long texts is as large as the text it would print.

    Examples
    --------
    >>> RenderBounds().output
    1000000
    """

    output: int = 1_000_000       # characters of the rendered text
    value: int = 1_000_000        # size of any one value built while rendering
    built: int = 20_000_000       # size of all values built by one render together
    integer_bits: int = 4096      # integers from arithmetic (about 1233 digits)
    iterations: int = 100_000     # loop iterations of one render, all loops together
    seconds: float = 1.0          # wall time of one render


BOUNDS = RenderBounds()


class RenderLimitExceeded(Exception):
    """A render crossed one of its :class:`RenderBounds`."""


class _Budget:
    __slots__ = ("bounds", "built", "deadline", "iterations")

    def __init__(self, bounds: RenderBounds) -> None:
        self.bounds = bounds
        self.deadline = time.monotonic() + bounds.seconds
        self.iterations = 0
        self.built = 0


_ACTIVE: ContextVar[_Budget | None] = ContextVar("journeyflow_render_budget", default=None)


@contextmanager
def budget(bounds: RenderBounds = BOUNDS) -> Iterator[None]:
    """Count what the renders inside the block use against ``bounds``."""
    token = _ACTIVE.set(_Budget(bounds))
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def bounds() -> RenderBounds:
    """The bounds of the render under way (the defaults while a template compiles)."""
    active = _ACTIVE.get()
    return BOUNDS if active is None else active.bounds


def step(iteration: bool = False) -> None:
    """One unit of work: checks the wall time, and counts a loop iteration if it is one."""
    active = _ACTIVE.get()
    if active is None:
        return
    if iteration:
        active.iterations += 1
        if active.iterations > active.bounds.iterations:
            raise RenderLimitExceeded(
                f"loops ran more than {active.bounds.iterations:,} iterations")
    if time.monotonic() > active.deadline:
        raise RenderLimitExceeded(f"rendering took longer than {active.bounds.seconds:g} s")


def spend(size: int) -> None:
    """Count a value of ``size`` built by the render toward its total."""
    active = _ACTIVE.get()
    if active is None:
        return
    active.built += size
    if active.built > active.bounds.built:
        raise _over_built(active.bounds)


def check_size(size: int, what: str) -> None:
    """Refuse to build ``what`` when it would have ``size`` characters or items."""
    limit = bounds().value
    if size > limit:
        raise RenderLimitExceeded(f"{what} would be larger than {limit:,} characters or items")


def measure(value: object, limit: int | None = None) -> int:
    """The size of ``value`` as text or items, nested ones included.

    Counting stops soon after ``limit`` (the value bound by default), so measuring
    a huge value costs no more than measuring one just over the bound.

    Examples
    --------
    >>> measure("hello")
    5
    >>> measure(["ab", ["cd", 1]])
    7
    """
    if isinstance(value, str):
        return len(value)
    cap = bounds().value if limit is None else limit
    total = 0
    pending: list[object] = [value]
    while pending and total <= cap:
        item = pending.pop()
        if isinstance(item, str | bytes | bytearray):
            total += len(item)
        elif isinstance(item, dict):
            total += 1
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += 1
            pending.extend(item)
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 1  # about its number of digits
        else:
            total += 1
    return total


def settle(value: _T) -> _T:
    """A value the render built: refused above the value bound, counted toward the total."""
    if isinstance(value, str):
        size = len(value)
    elif isinstance(value, bytes | bytearray | list | tuple | dict | set | frozenset):
        size = measure(value)
    else:
        return value
    active = _ACTIVE.get()
    limit = BOUNDS.value if active is None else active.bounds.value
    if size > limit:
        raise RenderLimitExceeded(f"a value would be larger than {limit:,} characters or items")
    if active is not None:
        active.built += size
        if active.built > active.bounds.built:
            raise _over_built(active.bounds)
    return value


def _over_built(bounds: RenderBounds) -> RenderLimitExceeded:
    return RenderLimitExceeded(f"the template built more than {bounds.built:,} characters "
                               "and items in all")
