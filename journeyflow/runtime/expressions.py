"""Checked expressions compiled to Python closures, once per journey.

Python source is generated from the *checked syntax tree*, never from user
text: names become dictionary look-ups, user strings become ``repr`` literals.
Null semantics (precise rules 10 and 18): comparisons with null are false
except ``== null`` and ``!= null`` (so ``x != 5`` is false while x is null),
arithmetic with null gives null, and ``not null`` is null (false in a guard, and
``set b = not b`` keeps a null ``b`` null). ``and``/``or`` read null as false.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from bisect import bisect_right
from collections.abc import Callable, Mapping
from typing import Any

from journeyflow.errors import JourneyError
from journeyflow.model import journey as m
from journeyflow.runtime.layout import CustomerLayout, history_key
from journeyflow.runtime.timeutil import parse_instant
from journeyflow.runtime.zones import ALL_DAYS
from journeyflow.syntax import expr as a

__all__ = ["HELPERS", "CompiledExpr", "ExpressionCompiler", "HistoryNeeds", "WaitGuard",
           "history_key"]

CompiledExpr = Callable[[Any, Any, float], Any]  # (customer, event data, now) -> value
# (customer, arriving event data, scheduling event data, now) -> whether it cancels the wait
WaitGuard = Callable[[Any, Any, Any, float], bool]
LITERALS = (a.Number, a.Percent, a.Duration, a.StringLit, a.DateTimeLit)
INF = math.inf


class HistoryNeeds:
    """Which event aggregates the journey's expressions read (and so must be kept)."""

    def __init__(self) -> None:
        self.counts: set[str] = set()
        self.last_at: set[str] = set()
        self.sums: set[tuple[str, str]] = set()
        self.lasts: set[tuple[str, str]] = set()
        self.windows: dict[str, float] = {}  # event -> longest `within`, seconds
        self.window_fields: dict[str, set[str]] = {}

    def window(self, event: str, seconds: float, field: str | None = None) -> None:
        self.windows[event] = max(self.windows.get(event, 0.0), seconds)
        if field is not None:
            self.window_fields.setdefault(event, set()).add(field)


def _count_within(times: tuple[float, ...], span: float, now: float) -> int:
    return bisect_right(times, now) - bisect_right(times, now - span)


def _sum_within(times: tuple[float, ...], payloads: tuple[dict[str, Any], ...], field: str,
                span: float, now: float) -> float:
    total = 0.0
    for data in payloads[bisect_right(times, now - span):bisect_right(times, now)]:
        value = data.get(field)
        if value is not None:
            total += value
    return total


def _div(x: Any, y: Any) -> Any:
    if x is None or y is None or y == 0:
        return None
    return x / y


HELPERS: dict[str, Any] = {"_count_within": _count_within, "_sum_within": _sum_within,
                            "_div": _div, "INF": INF, "__builtins__": {}}


INLINE_SEGMENT_DEPTH = 16  # parentheses a segment may add where it is used, inlined


def _paren_depth(source: str) -> int:
    depth = deepest = 0
    for char in source:
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    return deepest


def _names_in(expr: a.Expr) -> list[str]:
    """Every name an expression reads, walked with a stack of its own."""
    found: list[str] = []
    stack: list[Any] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, a.Name):
            found.append(node.name)
        elif isinstance(node, tuple | list):
            stack.extend(node)
        elif dataclasses.is_dataclass(node):
            stack.extend(getattr(node, f.name) for f in dataclasses.fields(node))
    return found


class ExpressionCompiler:
    """Turns checked expressions into closures ``(customer, event, now) -> value``."""

    def __init__(self, segments: Mapping[str, a.Expr], attribute_types: Mapping[str, str],
                 timezone: str, layout: CustomerLayout) -> None:
        self.segments = segments
        self.layout = layout
        self.attribute_types = attribute_types
        self.timezone = timezone
        self.needs = HistoryNeeds()
        self.zones: Any = None  # the program's CustomerZones, for next(...)
        self._temps = itertools.count()
        # Each segment's source, made once (its segments first); a deep one is called as a
        # function of its own so that expressions using it stay shallow enough to compile.
        self._segment_source: dict[str, str] = {}
        self._segment_calls: dict[str, CompiledExpr] = {}

    def compile(self, expr: a.Expr) -> CompiledExpr:
        source = f"lambda c, e, now: {self.source(expr)}"
        return eval(compile(source, "<journey expression>", "eval"), self.namespace())  # type: ignore[no-any-return]  # noqa: S307 - source is generated, never user text

    def compile_condition(self, expr: a.Expr) -> CompiledExpr:
        return self.condition(self.truth(expr))

    def compile_wait_guard(self, expr: a.Expr) -> WaitGuard:
        """An ``unless ... where`` guard: ``o`` is the event that scheduled the wait."""
        source = f"lambda c, e, o, now: {self.truth(expr)}"
        return eval(compile(source, "<journey unless guard>", "eval"), self.namespace())  # type: ignore[no-any-return]  # noqa: S307

    def condition(self, truth: str) -> CompiledExpr:
        """The closure of a condition already generated by :meth:`truth`."""
        source = f"lambda c, e, now: {truth}"
        return eval(compile(source, "<journey condition>", "eval"), self.namespace())  # type: ignore[no-any-return]  # noqa: S307

    def namespace(self) -> dict[str, Any]:
        """Globals of generated code: helpers, and tag bits by name for `has_tag(x)`."""
        return {**HELPERS, "_TAGS": self.layout.tags, "_zones": self.zones,
                "_SEG": self._segment_calls}

    def _temp(self) -> str:
        return f"_t{next(self._temps)}"

    def is_strict(self, expr: a.Expr) -> bool:
        """Whether ``expr``'s source is always True or False, never null."""
        if isinstance(expr, a.Binary):
            return expr.op in ("and", "or", "==", "!=", "<", "<=", ">", ">=")
        if isinstance(expr, a.Unary):
            return expr.op == "not" and self.is_strict(expr.operand)
        if isinstance(expr, a.InList | a.BoolLit):
            return True
        if isinstance(expr, a.Name):
            return expr.name in self.segments
        return isinstance(expr, a.Call) and expr.func in ("has_tag", "has_bonus")

    def truth(self, expr: a.Expr) -> str:
        """Source for ``expr`` as a strict bool (null is false)."""
        if self.is_strict(expr):
            return self.source(expr)
        return f"({self.source(expr)} is True)"

    def source(self, expr: a.Expr) -> str:  # noqa: C901 - one case per node kind
        if isinstance(expr, a.Number):
            value = expr.value
            return repr(int(value)) if value.is_integer() else repr(value)
        if isinstance(expr, a.Percent):
            return repr(expr.value / 100)
        if isinstance(expr, a.Duration):
            return repr(float(expr.seconds))
        if isinstance(expr, a.StringLit):
            return repr(expr.value)
        if isinstance(expr, a.BoolLit):
            return "True" if expr.value else "False"
        if isinstance(expr, a.NullLit):
            return "None"
        if isinstance(expr, a.DateTimeLit):
            return repr(parse_instant(expr.text, self.timezone))
        if isinstance(expr, a.Name):
            return self._name(expr.name)
        if isinstance(expr, a.EventField):
            return f"e.get({expr.field!r})"
        if isinstance(expr, a.Call):
            return self._call(expr)
        if isinstance(expr, a.ListLit):
            return "(" + "".join(self.source(i) + ", " for i in expr.items) + ")"
        if isinstance(expr, a.InList):
            if not expr.negated:
                return f"({self.source(expr.operand)} in {self.source(expr.items)})"
            x = self._temp()  # null is in no list, and not in none either
            return (f"(({x} := {self.source(expr.operand)}) is not None and "
                    f"{x} not in {self.source(expr.items)})")
        if isinstance(expr, a.Unary):
            if expr.op == "not":
                if self.is_strict(expr.operand):
                    return f"(not {self.source(expr.operand)})"
                x = self._temp()
                return f"(None if ({x} := {self.source(expr.operand)}) is None else not {x})"
            t = self._temp()
            return f"(None if ({t} := {self.source(expr.operand)}) is None else -{t})"
        if isinstance(expr, a.Path) and expr.owner == "origin":
            return f"o.get({expr.field!r})"  # only checked `unless` guards reach here
        if isinstance(expr, a.Path):
            raise JourneyError(f"'{expr.owner}.{expr.field}' outside sum() or last()")
        return self._binary(expr)

    def _name(self, name: str) -> str:
        if name == "now":
            return "now"
        if name == "stage_time":
            return "(now - c.entered)"
        if name in self.segments:
            source = self._segment_source.get(name)
            if source is None:
                for segment in self._segment_order(name):
                    self._segment_source[segment] = self._segment(segment)
                source = self._segment_source[name]
            return source
        return f"c.{self.layout.attribute(name)}"

    def _segment(self, name: str) -> str:
        """A segment's condition as source, once the segments it uses have theirs."""
        truth = self.truth(self.segments[name])
        if _paren_depth(truth) <= INLINE_SEGMENT_DEPTH:
            return f"({truth})"
        self._segment_calls[name] = self.condition(truth)
        return f"_SEG[{name!r}](c, e, now)"

    def _segment_order(self, name: str) -> list[str]:
        """``name`` and the segments it uses, each after those it uses (without recursion:
        a chain of segments may be long)."""
        order: list[str] = []
        done = set(self._segment_source)
        visiting: set[str] = set()
        stack: list[tuple[str, bool]] = [(name, False)]
        while stack:
            segment, expanded = stack.pop()
            if segment in done:
                continue
            if expanded:
                visiting.discard(segment)
                done.add(segment)
                order.append(segment)
                continue
            if segment in visiting:
                raise JourneyError(f"segment '{segment}' is defined in terms of itself")
            visiting.add(segment)
            stack.append((segment, True))
            stack += [(used, False) for used in _names_in(self.segments[segment])
                      if used in self.segments and used not in done]
        return order

    def history(self, kind: str, event: str, field: str | None = None) -> str:
        """The slot of one history aggregate, as ``c.SLOT`` source."""
        return f"c.{self.layout.history_slot(kind, event, field)}"

    def _call(self, call: a.Call) -> str:  # noqa: C901 - one case per function
        arg = call.args[0]
        inner = arg.expr
        within = float(arg.within.seconds) if arg.within is not None else None
        if call.func == "count":
            assert isinstance(inner, a.Name)
            if within is not None:
                self.needs.window(inner.name, within)
                return f"_count_within({self.history('window', inner.name)}, {within!r}, now)"
            self.needs.counts.add(inner.name)
            return self.history("count", inner.name)
        if call.func == "sum":
            assert isinstance(inner, a.Path)
            if within is not None:
                self.needs.window(inner.owner, within, inner.field)
                return (f"_sum_within({self.history('window', inner.owner)}, "
                        f"{self.history('payloads', inner.owner)}, {inner.field!r}, "
                        f"{within!r}, now)")
            self.needs.sums.add((inner.owner, inner.field))
            return self.history("sum", inner.owner, inner.field)
        if call.func == "last":
            assert isinstance(inner, a.Path)
            self.needs.lasts.add((inner.owner, inner.field))
            return self.history("last", inner.owner, inner.field)
        if call.func == "since":
            assert isinstance(inner, a.Name)
            t = self._temp()
            if inner.name != "contacted":
                self.needs.last_at.add(inner.name)
            key = "c.last_contact" if inner.name == "contacted" else (
                self.history("last_at", inner.name))
            return f"(INF if ({t} := {key}) is None else now - {t})"
        if call.func == "next":
            return self._next(call)
        if call.func == "has_tag":
            if isinstance(inner, a.StringLit):
                return f"((c.tag_bits & {self.layout.tag_bit(inner.value)}) != 0)"
            return f"((c.tag_bits & _TAGS.get({self.source(inner)}, 0)) != 0)"
        name = inner.name if isinstance(inner, a.Name) else (
            inner.value if isinstance(inner, a.StringLit) else "")
        return f"({name!r} in c.bonuses)"

    @staticmethod
    def _next(call: a.Call) -> str:
        """``next(HH:MM [, DAYS])`` in the customer's zone (arguments checked already)."""
        clock = call.args[0].expr
        assert isinstance(clock, a.Clock)
        hour, minute = (int(p) for p in clock.text.split(":"))
        days: set[int] = set()
        for arg in call.args[1:]:
            found = [m.day_index(ident.name) for ident in a.day_names(arg.expr) if ident]
            index = [d for d in found if d is not None]
            days.update(m.day_range(*index) if len(index) == 2 else index)
        week = tuple(sorted(days or ALL_DAYS))
        return f"_zones.next_time(c, now, {hour}, {minute}, {week!r})"

    def _binary(self, expr: a.Expr) -> str:
        assert isinstance(expr, a.Binary)
        op = expr.op
        if op in ("and", "or"):
            return f"({self.truth(expr.left)} {op} {self.truth(expr.right)})"
        left, right = self.source(expr.left), self.source(expr.right)
        if op in ("==", "!="):
            if isinstance(expr.right, a.NullLit) or isinstance(expr.left, a.NullLit):
                return f"({left} {'is' if op == '==' else 'is not'} {right})"
        if op in ("==", "!=", "<", "<=", ">", ">="):
            # A literal is never null: compare with it directly.
            if isinstance(expr.right, LITERALS):
                x = self._temp()
                return f"(({x} := {left}) is not None and {x} {op} {right})"
            if isinstance(expr.left, LITERALS):
                y = self._temp()
                return f"(({y} := {right}) is not None and {left} {op} {y})"
            x, y = self._temp(), self._temp()
            return (f"(({x} := {left}) is not None and ({y} := {right}) is not None "
                    f"and {x} {op} {y})")
        if op == "/":
            return f"_div({left}, {right})"
        x, y = self._temp(), self._temp()
        return f"(None if ({x} := {left}) is None or ({y} := {right}) is None else {x} {op} {y})"
