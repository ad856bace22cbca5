"""The syntax tree's leaves and expressions: names, durations, clock times, literals,
paths, calls and operators, every node with its span.

They are a module of their own because a compiled journey holds them (its guards,
values and conditions), so running a journey loads these classes and not the rest
of the syntax tree (:mod:`journeyflow.syntax.ast`, which re-exports them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from journeyflow.errors import NOWHERE, Span

__all__ = [
    "Arg", "Binary", "BoolLit", "Call", "Clock", "DateTimeLit", "Duration", "EventField",
    "Expr", "Ident", "InList", "ListLit", "Name", "NullLit", "Number", "Path", "Percent",
    "StringLit", "Unary", "day_names", "span_field",
]


def span_field() -> Span:
    # Equality ignores where a node was written, so layout never changes meaning.
    span: Span = field(default=NOWHERE, compare=False, repr=False)
    return span


@dataclass(frozen=True, slots=True)
class Ident:
    name: str
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Duration:
    """A duration literal kept as written (``1d12h``); ``seconds`` is its value."""

    text: str
    span: Span = span_field()

    @property
    def seconds(self) -> int:
        total, digits = 0, ""
        for ch in self.text:
            if ch.isdigit():
                digits += ch
            else:
                total += int(digits) * _UNIT_SECONDS[ch]
                digits = ""
        return total


_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True, slots=True)
class Clock:
    """A time of day, ``HH:MM``."""

    text: str
    span: Span = span_field()


# ---- expressions -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Number:
    text: str
    span: Span = span_field()

    @property
    def value(self) -> float:
        return float(self.text)


@dataclass(frozen=True, slots=True)
class Percent:
    """``10%``: a share in a split or a bonus, a fraction (0.1) in an expression."""

    text: str
    span: Span = span_field()

    @property
    def value(self) -> float:
        return float(self.text.rstrip("%"))


@dataclass(frozen=True, slots=True)
class StringLit:
    value: str
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class DateTimeLit:
    text: str
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class BoolLit:
    value: bool
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class NullLit:
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Path:
    """``purchased.amount``: an event's field, inside an aggregate function."""

    owner: str
    field: str
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class EventField:
    field: str
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Arg:
    expr: Expr
    within: Duration | None = None
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple[Arg, ...]
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class ListLit:
    items: tuple[Expr, ...]
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "not" or "-"
    operand: Expr
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # or and == != < <= > >= + - * /
    left: Expr
    right: Expr
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class InList:
    operand: Expr
    items: ListLit
    negated: bool
    span: Span = span_field()


Expr = (Number | Percent | Duration | StringLit | DateTimeLit | BoolLit | NullLit | Name |
    Path | EventField | Call | ListLit | Unary | Binary | InList | Clock)


def day_names(expr: Expr) -> list[Ident | None]:
    """The day names of one ``next`` argument, ``mon`` or ``mon-fri`` (None: not a day)."""
    if isinstance(expr, Name):
        return [Ident(expr.name, expr.span)]
    if isinstance(expr, Binary) and expr.op == "-" and isinstance(
            expr.left, Name) and isinstance(expr.right, Name):
        return [Ident(expr.left.name, expr.left.span),
                Ident(expr.right.name, expr.right.span)]
    return [None]
