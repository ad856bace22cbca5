"""Static types of expressions (docs/language.md).

Every expression is checked once at compile time; a mistake is reported at
the offending sub-expression and typed ``any`` so it causes no second report.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta

from journeyflow.errors import DiagnosticSink, Span, did_you_mean
from journeyflow.model import journey as m
from journeyflow.syntax import expr as a

__all__ = ["BAD_DATE_HINT", "BUILTIN_NAMES", "FUNCTIONS", "MAX_DURATION", "ZERO_DURATION_HINT",
           "Scope", "TypeChecker", "article", "clock_value", "duration_value",
           "number_value", "parse_datetime_text"]

# The value types. `date` values are midnights, so they share `datetime`.
NUMBER, TEXT, BOOL, DATETIME, LIST, DURATION, NULL, ANY = (
    "number", "text", "bool", "datetime", "list", "duration", "null", "any")

ATTRIBUTE_TYPES = {"text": TEXT, "number": NUMBER, "bool": BOOL, "date": DATETIME,
                   "datetime": DATETIME, "list": LIST}
BUILTIN_NAMES = {"now": DATETIME, "stage_time": DURATION}
ORIGIN = "origin"  # `origin.FIELD`: the event that scheduled a wait, in its `unless` guard
FUNCTIONS = ("count", "sum", "last", "since", "has_tag", "has_bonus", "next")
_ORDERED = {NUMBER, TEXT, DATETIME, DURATION}
ZERO_DURATION_HINT = "the shortest duration is 1m; to act at once, leave the timer out"
# Far beyond any customer's lifetime, and far inside what dates can hold.
MAX_DURATION = timedelta(days=36500)
BAD_DATE_HINT = "write a date that exists, as 2026-01-31 or 2026-01-31T09:00"


@dataclass(frozen=True)
class Scope:
    """What names mean at one place in the file."""

    attributes: Mapping[str, str]
    segments: frozenset[str]
    events: Mapping[str, Mapping[str, str]]  # event -> field -> type
    bonuses: frozenset[str]
    event: str | None = None  # the event in scope, if any
    why_no_event: str = "no event is in scope here"
    extra_names: Mapping[str, str] = field(default_factory=dict)
    in_unless: bool = False  # in the guard of `unless EVENT where ...`, where `origin` is known
    origin: str | None = None  # there, the event that scheduled the delayed statements

    def with_event(self, event: str | None, why: str = "no event is in scope here") -> Scope:
        return Scope(self.attributes, self.segments, self.events, self.bonuses, event, why,
                     self.extra_names)

    def for_unless(self, event: str) -> Scope:
        """The scope of an ``unless`` guard: ``event`` arrives, ``origin`` scheduled the wait."""
        return Scope(self.attributes, self.segments, self.events, self.bonuses, event,
                     self.why_no_event, self.extra_names, True, self.event)


def duration_value(sink: DiagnosticSink, duration: a.Duration, *,
                   allow_zero: bool = False) -> timedelta:
    """The value of a duration literal; zero (unless allowed) or over 100 years is JF405.

    Examples
    --------
    >>> from journeyflow.errors import DiagnosticSink
    >>> sink = DiagnosticSink("a.journey")
    >>> duration_value(sink, a.Duration("1d12h"))
    datetime.timedelta(days=1, seconds=43200)
    >>> duration_value(sink, a.Duration("99999999999d")) == MAX_DURATION
    True
    >>> [d.code for d in sink.items]
    ['JF405']
    """
    seconds = duration.seconds
    if seconds <= 0 and not allow_zero:
        sink.error("JF405", f"duration '{duration.text}' must be longer than zero", duration.span,
                   ZERO_DURATION_HINT)
    if seconds > MAX_DURATION.total_seconds():
        sink.error("JF405", f"duration '{_shorten(duration.text)}' is longer than 100 years",
                   duration.span, f"the longest duration is {MAX_DURATION.days}d")
        return MAX_DURATION
    return timedelta(seconds=seconds)


def number_value(sink: DiagnosticSink, number: a.Number | a.Percent) -> float:
    """The value of a number literal; one too large to compute with is JF414 (and 0)."""
    value = number.value
    if not math.isfinite(value):
        sink.error("JF414", f"the number {_shorten(number.text)} is too large", number.span)
        return 0.0
    return value


def _shorten(text: str) -> str:
    return text if len(text) <= 20 else text[:10] + "..." + text[-5:]


def parse_datetime_text(text: str) -> bool:
    from datetime import datetime

    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


class TypeChecker:
    """Infers types and reports every mismatch into a :class:`DiagnosticSink`."""

    def __init__(self, sink: DiagnosticSink) -> None:
        self.sink = sink

    def check_condition(self, expr: a.Expr, scope: Scope, what: str = "a condition") -> None:
        kind = self.infer(expr, scope)
        if kind not in (BOOL, ANY, NULL):
            self.sink.error("JF404", f"{what} must be true or false, but this is {_article(kind)}",
                            expr.span, _condition_hint(expr, kind))

    def expect(self, expr: a.Expr, scope: Scope, wanted: str, what: str) -> None:
        kind = self.infer(expr, scope)
        if not compatible(kind, wanted):
            self.sink.error("JF401", f"{what} must be {_article(wanted)}, not {_article(kind)}",
                            expr.span, _expect_hint(expr, kind, wanted))

    def infer(self, expr: a.Expr, scope: Scope) -> str:  # noqa: C901 - one case per node
        if isinstance(expr, a.Number | a.Percent):
            number_value(self.sink, expr)
            return NUMBER
        if isinstance(expr, a.Duration):
            return self._duration(expr)
        if isinstance(expr, a.StringLit):
            return TEXT
        if isinstance(expr, a.BoolLit):
            return BOOL
        if isinstance(expr, a.NullLit):
            return NULL
        if isinstance(expr, a.DateTimeLit):
            if not parse_datetime_text(expr.text):
                self.sink.error("JF413", f"'{expr.text}' is not a valid date", expr.span,
                                BAD_DATE_HINT)
            return DATETIME
        if isinstance(expr, a.Name):
            return self._name(expr, scope)
        if isinstance(expr, a.Clock):
            self.sink.error("JF417", f"a time of day ('{expr.text}') is only meaningful in "
                            "next(...)", expr.span,
                            f"for the next {expr.text}, write next({expr.text}); for a date at "
                            "that time, add hours to it: birthday + 9h")
            return ANY
        if isinstance(expr, a.EventField):
            return self._event_field(expr, scope)
        if isinstance(expr, a.Path) and expr.owner == ORIGIN and (
                scope.in_unless or ORIGIN not in scope.events):
            return self._origin_field(expr, scope)
        if isinstance(expr, a.Path):
            self.sink.error("JF403", f"'{expr.owner}.{expr.field}' names an event's field: use it "
                            f"inside sum(...) or last(...)", expr.span,
                            f"e.g. last({expr.owner}.{expr.field})")
            return ANY
        if isinstance(expr, a.Call):
            return self._call(expr, scope)
        if isinstance(expr, a.ListLit):
            for item in expr.items:
                self.infer(item, scope)
            return LIST
        if isinstance(expr, a.Unary):
            return self._unary(expr, scope)
        if isinstance(expr, a.InList):
            left = self.infer(expr.operand, scope)
            for item in expr.items.items:
                kind = self.infer(item, scope)
                if not comparable(left, kind):
                    self.sink.error("JF401", f"cannot look for {_article(left)} in a list of "
                                    f"{kind} values", item.span)
            return BOOL
        return self._binary(expr, scope)

    def _origin_field(self, expr: a.Path, scope: Scope) -> str:
        """``origin.FIELD``: the event that scheduled the statements an ``unless`` guards."""
        if not scope.in_unless:
            self.sink.error("JF416", f"'origin.{expr.field}' is only known in the guard of "
                            "'unless EVENT where ...'", expr.span,
                            "it reads the event that scheduled delayed statements, e.g. after 4h "
                            "unless purchased where event.cart_id == origin.cart_id { ... }")
            return ANY
        if scope.origin is None:
            self.sink.error("JF402", f"'origin.{expr.field}' is used where no event scheduled "
                            "the delayed statements", expr.span,
                            "delayed statements inside 'on EVENT' know the event that "
                            "scheduled them")
            return ANY
        fields = scope.events.get(scope.origin)
        if fields is None:
            return ANY
        if expr.field not in fields:
            self.sink.error("JF205", f"event '{scope.origin}' has no field '{expr.field}'",
                            expr.span, did_you_mean(expr.field, fields,
                                                    _fields_hint(scope.origin, fields)))
            return ANY
        return fields[expr.field]

    def _duration(self, expr: a.Duration) -> str:
        duration_value(self.sink, expr)
        return DURATION

    def _name(self, expr: a.Name, scope: Scope) -> str:
        name = expr.name
        if name in scope.attributes:
            return scope.attributes[name]
        if name in scope.segments:
            return BOOL
        if name in scope.extra_names:
            return scope.extra_names[name]
        if name in BUILTIN_NAMES:
            return BUILTIN_NAMES[name]
        hint: str | None
        if name in scope.events:
            hint = f"to use the event, write count({name}) or since({name})"
        else:
            hint = did_you_mean(name, [*scope.attributes, *scope.segments, *BUILTIN_NAMES,
                                       *scope.extra_names],
                                f"declare it in customer {{ {name}: ... }} or as a segment")
        self.sink.error("JF204", f"unknown attribute or segment '{name}'", expr.span, hint)
        return ANY

    def _event_field(self, expr: a.EventField, scope: Scope) -> str:
        if scope.event is None:
            self.sink.error("JF402", f"'event.{expr.field}' is used where {scope.why_no_event}",
                            expr.span, "event fields can be read in rules triggered by 'on EVENT'")
            return ANY
        fields = scope.events.get(scope.event)
        if fields is None:
            return ANY
        if expr.field not in fields:
            hint = did_you_mean(expr.field, fields, _fields_hint(scope.event, fields))
            self.sink.error("JF205", f"event '{scope.event}' has no field '{expr.field}'",
                            expr.span, hint)
            return ANY
        return fields[expr.field]

    def _call(self, expr: a.Call, scope: Scope) -> str:
        func = expr.func
        if func not in FUNCTIONS:
            self.sink.error("JF206", f"unknown function '{func}'",
                            Span.point(expr.span.line, expr.span.col, len(func)),
                            did_you_mean(func, FUNCTIONS, "functions: " + ", ".join(FUNCTIONS)))
            for arg in expr.args:
                # An event name or an event's field is what most functions take:
                # reporting them as unknown attributes would only repeat the mistake.
                if not isinstance(arg.expr, a.Name | a.Path):
                    self.infer(arg.expr, scope)
            return ANY
        if func == "next":
            return self._next(expr)
        if len(expr.args) != 1:
            names = [arg.expr.name for arg in expr.args if isinstance(arg.expr, a.Name)]
            hint = (" + ".join(f"{func}({n})" for n in names)
                    if func == "count" and len(names) > 1 else None)
            self.sink.error("JF403", f"{func}(...) takes exactly one argument", expr.span,
                            f"one call per event: {hint}" if hint else None)
            return ANY
        arg = expr.args[0]
        if arg.within is not None:
            self._duration(arg.within)
            if func not in ("count", "sum"):
                self.sink.error("JF403", "'within' only applies to count(...) and sum(...)",
                                arg.within.span)
        return self._call_arg(func, arg, scope)

    def _next(self, expr: a.Call) -> str:
        """``next(HH:MM [, DAYS])``: a time of day, then days and day ranges (mon-fri)."""
        example = "e.g. next(09:00) or next(09:00, mon-fri)"
        if not expr.args or not isinstance(expr.args[0].expr, a.Clock):
            self.sink.error("JF403", "next(...) takes a time of day first", expr.span, example)
            return DATETIME
        clock_value(self.sink, expr.args[0].expr)
        for arg in expr.args:
            if arg.within is not None:
                self.sink.error("JF403", "'within' only applies to count(...) and sum(...)",
                                arg.within.span)
        for arg in expr.args[1:]:
            for ident in a.day_names(arg.expr):
                if ident is None:
                    self.sink.error("JF403", "next(...) takes days after the time of day",
                                    arg.expr.span, example)
                elif m.day_index(ident.name) is None:
                    self.sink.error("JF211", f"unknown day '{ident.name}'", ident.span,
                                    did_you_mean(ident.name.lower(), m.WEEKDAYS)
                                    or "days: mon tue wed thu fri sat sun")
        return DATETIME

    def _call_arg(self, func: str, arg: a.Arg, scope: Scope) -> str:
        """Check the one argument of a known function; the call's type."""
        if func == "count":
            self._event_arg(arg.expr, scope, func)
            return NUMBER
        if func == "since":
            if not (isinstance(arg.expr, a.Name) and arg.expr.name == "contacted"):
                self._event_arg(arg.expr, scope, func)
            return DURATION
        if func in ("sum", "last"):
            kind = self._field_arg(arg.expr, scope, func)
            if func == "sum" and kind not in (NUMBER, ANY):
                self.sink.error("JF401", f"sum(...) adds numbers, but this field is {kind}",
                                arg.expr.span)
            return NUMBER if func == "sum" else kind
        if func == "has_tag":
            self.expect(arg.expr, scope, TEXT, "the tag")
            return BOOL
        self._bonus_arg(arg.expr, scope)
        return BOOL

    def _event_arg(self, expr: a.Expr, scope: Scope, func: str) -> None:
        if not isinstance(expr, a.Name):
            self.sink.error("JF403", f"{func}(...) takes an event name", expr.span,
                            f"e.g. {func}(purchased)")
            return
        if expr.name not in scope.events:
            self.sink.error("JF202", f"unknown event '{expr.name}'", expr.span,
                            did_you_mean(expr.name, scope.events,
                                         f"declare it: event {expr.name} {{ ... }}"))

    def _field_arg(self, expr: a.Expr, scope: Scope, func: str) -> str:
        if not isinstance(expr, a.Path):
            self.sink.error("JF403", f"{func}(...) takes an event's field", expr.span,
                            f"e.g. {func}(purchased.amount)")
            return ANY
        fields = scope.events.get(expr.owner)
        if fields is None:
            self.sink.error("JF202", f"unknown event '{expr.owner}'",
                            Span.point(expr.span.line, expr.span.col, len(expr.owner)),
                            did_you_mean(expr.owner, scope.events,
                                         f"declare it: event {expr.owner} {{ ... }}"))
            return ANY
        if expr.field not in fields:
            self.sink.error("JF205", f"event '{expr.owner}' has no field '{expr.field}'",
                            expr.span, did_you_mean(expr.field, fields, _fields_hint(
                                expr.owner, fields)))
            return ANY
        return fields[expr.field]

    def _bonus_arg(self, expr: a.Expr, scope: Scope) -> None:
        name = expr.name if isinstance(expr, a.Name) else (
            expr.value if isinstance(expr, a.StringLit) else None)
        if name is None:
            self.sink.error("JF403", "has_bonus(...) takes a bonus name", expr.span,
                            "e.g. has_bonus(rendezvous)")
        elif name not in scope.bonuses:
            grant = f"grant it in a rule: grant bonus {name} 10% expires 30d"
            self.sink.error("JF209", f"no rule grants a bonus '{name}'", expr.span,
                            did_you_mean(name, scope.bonuses, grant))

    def _unary(self, expr: a.Unary, scope: Scope) -> str:
        kind = self.infer(expr.operand, scope)
        if expr.op == "not":
            if kind not in (BOOL, ANY, NULL):
                self.sink.error("JF401", f"'not' needs true or false, not {_article(kind)}",
                                expr.operand.span)
            return BOOL
        if kind not in (NUMBER, DURATION, ANY, NULL):
            self.sink.error("JF401", f"cannot negate {_article(kind)}", expr.operand.span)
            return ANY
        return kind

    def _binary(self, expr: a.Binary, scope: Scope) -> str:
        left, right = self.infer(expr.left, scope), self.infer(expr.right, scope)
        op = expr.op
        if op in ("and", "or"):
            for side, kind in ((expr.left, left), (expr.right, right)):
                if kind not in (BOOL, ANY, NULL):
                    self.sink.error("JF401", f"'{op}' needs true or false on both sides, "
                                    f"not {_article(kind)}", side.span)
            return BOOL
        if op in ("==", "!="):
            if not comparable(left, right):
                self._mismatch(expr, left, right)
            return BOOL
        if op in ("<", "<=", ">", ">="):
            if ANY not in (left, right) and NULL not in (left, right) and (
                    left != right or left not in _ORDERED):
                self._mismatch(expr, left, right)
            return BOOL
        result = arithmetic(op, left, right)
        if result is None:
            self.sink.error("JF401", f"cannot use '{op}' with {_article(left)} and "
                            f"{_article(right)}", expr.span)
            return ANY
        return result

    def _mismatch(self, expr: a.Binary, left: str, right: str) -> None:
        quoted = next((side.value for side in (expr.right, expr.left)
                       if isinstance(side, a.StringLit) and _is_number(side.value)), None)
        hint = (f"write the number without quotes: {quoted}" if quoted is not None
                and NUMBER in (left, right) else _compare_hint(left, right))
        self.sink.error("JF401", f"cannot compare {_article(left)} with {_article(right)}",
                        expr.right.span, hint)


def clock_value(sink: DiagnosticSink, clock: a.Clock) -> time:
    """The time of day of ``HH:MM``; one that does not exist is JF407 (and midnight)."""
    hours, minutes = (int(p) for p in clock.text.split(":"))
    if hours > 23 or minutes > 59:
        sink.error("JF407", f"'{clock.text}' is not a time of day", clock.span,
                   "use 00:00 to 23:59")
        return time(0, 0)
    return time(hours, minutes)


def _fields_hint(event: str, fields: Mapping[str, str]) -> str:
    return (f"'{event}' has the fields: {', '.join(fields)}" if fields
            else f"'{event}' has no fields; declare them: event {event} {{ name: type }}")


_CONDITION_EXAMPLES = {  # kind -> (a name of that kind, a comparison of it)
    NUMBER: ("points", "{} >= 100"), TEXT: ("country", '{} == "DE"'),
    DURATION: ("since(purchased)", "{} > 30d"), DATETIME: ("renewal_date", "{} < now"),
    LIST: ("interests", "{} != null"),
}


def _condition_hint(expr: a.Expr, kind: str) -> str:
    """A comparison made from the expression itself when it is a plain name."""
    default, pattern = _CONDITION_EXAMPLES.get(kind, _CONDITION_EXAMPLES[NUMBER])
    subject = expr.name if isinstance(expr, a.Name) else default
    return "compare it, e.g. " + pattern.format(subject)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _expect_hint(expr: a.Expr, kind: str, wanted: str) -> str | None:
    if (kind, wanted) == (TEXT, NUMBER):
        if isinstance(expr, a.StringLit) and _is_number(expr.value):
            return f"write the number without quotes: {expr.value}"
        return "write the number without quotes, e.g. 100"
    if (kind, wanted) == (TEXT, DATETIME):
        return "write the date without quotes, e.g. 2026-01-31"
    if (kind, wanted) == (TEXT, BOOL):
        return "write true or false without quotes"
    if {kind, wanted} == {NUMBER, DURATION}:
        return "write a duration with its unit, e.g. 30d"
    return None


def _compare_hint(left: str, right: str) -> str | None:
    if TEXT in (left, right) and NUMBER in (left, right):
        return 'write the number without quotes, e.g. points > 100'
    if DURATION in (left, right) and NUMBER in (left, right):
        return "write a duration with its unit, e.g. 30d"
    return None


def compatible(kind: str, wanted: str) -> bool:
    return kind == wanted or ANY in (kind, wanted) or kind == NULL


def comparable(left: str, right: str) -> bool:
    return left == right or ANY in (left, right) or NULL in (left, right)


def arithmetic(op: str, left: str, right: str) -> str | None:
    """The type of ``left op right``, or ``None`` when it has no meaning."""
    if ANY in (left, right):
        return ANY
    if NULL in (left, right):
        return left if right == NULL else right
    pair = (left, right)
    table: dict[str, dict[tuple[str, str], str]] = {
        "+": {(NUMBER, NUMBER): NUMBER, (DURATION, DURATION): DURATION,
              (DATETIME, DURATION): DATETIME, (DURATION, DATETIME): DATETIME,
              (TEXT, TEXT): TEXT},
        "-": {(NUMBER, NUMBER): NUMBER, (DURATION, DURATION): DURATION,
              (DATETIME, DURATION): DATETIME, (DATETIME, DATETIME): DURATION},
        "*": {(NUMBER, NUMBER): NUMBER, (DURATION, NUMBER): DURATION,
              (NUMBER, DURATION): DURATION},
        "/": {(NUMBER, NUMBER): NUMBER, (DURATION, NUMBER): DURATION,
              (DURATION, DURATION): NUMBER},
    }
    return table[op].get(pair)


def article(kind: str) -> str:
    """``a number``, ``text``: a type as a sentence names it."""
    return _article(kind)


def _article(kind: str) -> str:
    words = {NUMBER: "a number", TEXT: "text", BOOL: "true or false", DATETIME: "a date",
             LIST: "a list", DURATION: "a duration", NULL: "null", ANY: "a value"}
    return words.get(kind, kind)
