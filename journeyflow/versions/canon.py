"""What a part of the model means, with how and where it was written left out.

Two parts are the same to customers when their canonical forms are equal: locations,
the source text of expressions and the written form of durations are dropped, and the
syntax trees of expressions compare without their spans. A split's position is left out
too: the diff reports a moved split on its own (it reseeds the arm customers take).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from datetime import time, timedelta
from typing import Any

from journeyflow.model import journey as m
from journeyflow.syntax.format_expr import expr_text

__all__ = ["canon", "duration_text", "expr_or_none", "same"]

_LEFT_OUT = frozenset({"location", "position"})
# A rule's own stage: rules are only ever compared within one stage (or its renamed self).
_RULE_LEFT_OUT = _LEFT_OUT | {"stage"}
_STAGE_FIELDS = frozenset({"target", "stage"})  # fields of rules and gotos naming a stage


def canon(value: Any, renamed: Mapping[str, str] | None = None) -> Hashable:
    """A hashable form of ``value`` that ignores layout; stage names go through
    ``renamed`` (old name -> new name) so a renamed stage's references still match."""
    stages = renamed or {}
    if isinstance(value, m.SourceExpr):
        return ("expr", value.expr)
    if isinstance(value, m.Part):  # (an expression's syntax tree is not one)
        left_out = _RULE_LEFT_OUT if isinstance(value, m.Rule) else _LEFT_OUT
        items = tuple((name, _field(name, getattr(value, name), stages))
                      for name in value.__struct_fields__ if name not in left_out)
        return (type(value).__name__, items)
    if isinstance(value, dict):
        return tuple(sorted((k, canon(v, stages)) for k, v in value.items()))
    if isinstance(value, frozenset):
        return tuple(sorted(value))
    if isinstance(value, tuple | list):
        return tuple(canon(item, stages) for item in value)
    if isinstance(value, timedelta):
        return ("duration", value.total_seconds())
    if isinstance(value, time):
        return ("time", value.isoformat())
    return value  # type: ignore[no-any-return]


def _field(name: str, value: Any, stages: Mapping[str, str]) -> Hashable:
    if name in _STAGE_FIELDS and isinstance(value, str):
        return stages.get(value, value)
    return canon(value, stages)


def same(old: Any, new: Any, renamed: Mapping[str, str] | None = None) -> bool:
    return canon(old, renamed) == canon(new)


def expr_or_none(expr: m.SourceExpr | None) -> str | None:
    """An expression in the canonical layout, so both sides read alike."""
    return None if expr is None else expr_text(expr.node)


def duration_text(value: timedelta) -> str:
    """A duration in the units the language writes: ``21d``, ``1d12h``, ``90m``.

    Examples
    --------
    >>> duration_text(timedelta(days=1, hours=12))
    '1d12h'
    >>> duration_text(timedelta(0))
    '0m'
    """
    seconds = int(value.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0m"
