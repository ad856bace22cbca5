"""Jinja2's filters, each measured before and after it runs.

Every filter counts as a unit of render work, refuses inputs above the value bound
and has its result measured. The few that can build much more than they are
given (``center``, ``indent``, ``join``, ``replace``, ``wordwrap``, ``format``,
``batch``, ``slice``, ``sum``) check their arguments first.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import Environment
from jinja2.filters import make_attrgetter

from journeyflow.templating.limits import (
    RenderLimitExceeded,
    bounds,
    check_size,
    measure,
    settle,
    step,
)
from journeyflow.templating.rules import check_printf, check_replace

__all__ = ["UNAVAILABLE_FILTERS", "bounded_filters"]

# A template renders the same text for the same customer every time.
UNAVAILABLE_FILTERS = frozenset({"random"})

Filter = Callable[..., Any]
Arguments = dict[str, Any]
# A rule raises when the filter would build too much; True when it replaced an argument.
Rule = Callable[[Arguments, "Environment | None"], bool]


def bounded_filters(filters: Mapping[str, Filter]) -> dict[str, Filter]:
    """``filters`` with each one bounded; the unavailable ones left out."""
    return {name: _bounded(name, func) for name, func in filters.items()
            if name not in UNAVAILABLE_FILTERS}


def _bounded(name: str, func: Filter) -> Filter:
    rule = _RULES.get(name)
    # A filter marked to receive the environment or context gets it first: not an input.
    skip = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0
    parameters = _Parameters(func, skip)

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        step()
        for value in args[skip:]:
            check_size(measure(value), f"the input of the filter '{name}'")
        for value in kwargs.values():
            check_size(measure(value), f"the input of the filter '{name}'")
        arguments = parameters.named(args[skip:], kwargs) if rule is not None else None
        if rule is None or arguments is None:
            return settle(func(*args, **kwargs))
        if rule(arguments, _environment(args[0]) if skip else None):
            return settle(func(*args[:skip], **arguments))  # the rule replaced an argument
        return settle(func(*args, **kwargs))

    return run


class _Parameters:
    """A filter's own parameters (not what it is passed), to name its arguments."""

    def __init__(self, func: Filter, skip: int) -> None:
        params = list(inspect.signature(func).parameters.values())
        if skip and params and params[0].name in _PASSED:
            params = params[1:]
        self.names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY,
                                                           p.POSITIONAL_OR_KEYWORD)]
        self.required = [p.name for p in params if p.default is p.empty and p.name in self.names]
        self.defaults = {p.name: p.default for p in params if p.default is not p.empty}
        self.rest = next((p.name for p in params if p.kind is p.VAR_POSITIONAL), None)
        self.extra = next((p.name for p in params if p.kind is p.VAR_KEYWORD), None)

    def named(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Arguments | None:
        """The arguments by name, or None when they do not fit (the call will say why)."""
        arguments = dict(self.defaults)
        arguments.update(zip(self.names, args, strict=False))
        if self.rest is not None:
            arguments[self.rest] = args[len(self.names):]
        if self.extra is not None:
            arguments[self.extra] = {k: v for k, v in kwargs.items() if k not in self.names}
            arguments.update((k, v) for k, v in kwargs.items() if k in self.names)
        else:
            arguments.update(kwargs)
        return arguments if all(name in arguments for name in self.required) else None


_PASSED = frozenset({"eval_ctx", "environment", "env", "context"})


def _environment(passed: Any) -> Environment:
    return passed if isinstance(passed, Environment) else passed.environment


def _width(value: Any, what: str) -> None:
    if isinstance(value, int):
        check_size(value, what)


def _center(arguments: Arguments, env: Environment | None) -> bool:
    _width(arguments["width"], "the centred text")
    return False


def _indent(arguments: Arguments, env: Environment | None) -> bool:
    width = arguments["width"]
    _width(width, "the indentation")
    pad = len(width) if isinstance(width, str) else max(int(width), 0)
    text = str(arguments["s"])
    check_size(len(text) + (text.count("\n") + 1) * pad, "the indented text")
    return False


def _items(arguments: Arguments, source: str, environment: Environment | None) -> list[Any]:
    """The items a filter will read, read once, with ``attribute`` already applied."""
    items = list(arguments[source])
    if arguments.get("attribute") is not None and environment is not None:
        getter = make_attrgetter(environment, arguments["attribute"])
        items = [getter(item) for item in items]
        arguments["attribute"] = None
    arguments[source] = items
    return items


def _join(arguments: Arguments, env: Environment | None) -> bool:
    items = _items(arguments, "value", env)
    total = sum(measure(item) for item in items) + len(str(arguments["d"])) * len(items)
    check_size(total, "the joined text")
    return True


def _sum(arguments: Arguments, env: Environment | None) -> bool:
    items = _items(arguments, "iterable", env)
    start = arguments["start"]
    if isinstance(start, str | list | tuple):
        total = measure(start) + sum(measure(item) for item in items)
        check_size(total, "the sum")
        # Adding sequences one by one copies the growing result each time.
        if total * len(items) > bounds().built:
            raise RenderLimitExceeded("adding up these lists or texts takes too much work")
    return True


def _replace(arguments: Arguments, env: Environment | None) -> bool:
    check_replace(str(arguments["s"]), arguments["old"], arguments["new"],
                  arguments["count"] if arguments["count"] is not None else -1)
    return False


def _wordwrap(arguments: Arguments, env: Environment | None) -> bool:
    text = str(arguments["s"])
    wrap = arguments["wrapstring"] or (env.newline_sequence if env else "\n")
    width = arguments["width"]
    lines = len(text) // max(width, 1) + text.count("\n") + 1 if isinstance(width, int) else 1
    check_size(len(text) + lines * len(str(wrap)), "the wrapped text")
    return False


def _format(arguments: Arguments, env: Environment | None) -> bool:
    check_printf(str(arguments["value"]), arguments["kwargs"] or tuple(arguments["args"]))
    return False


def _batch(arguments: Arguments, env: Environment | None) -> bool:
    _width(arguments["linecount"], "a batch")
    return False


def _slice(arguments: Arguments, env: Environment | None) -> bool:
    _width(arguments["slices"], "the slices")
    return False


_RULES: dict[str, Rule] = {
    "center": _center, "indent": _indent, "join": _join, "sum": _sum, "replace": _replace,
    "wordwrap": _wordwrap, "format": _format, "batch": _batch, "slice": _slice,
}
