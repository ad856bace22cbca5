"""The one-line text of expressions and other single-line constructs, for ``fmt``.

Every function here is pure: it turns a piece of the syntax tree into the text
that parses back to the same piece. Layout across lines and comments are the
business of :mod:`journeyflow.syntax.format`.

Examples
--------
>>> from journeyflow.syntax import ast as a
>>> expr_text(a.Binary("*", a.Binary("+", a.Name("a"), a.Number("1")), a.Name("b")))
'(a + 1) * b'
>>> quote('say "hi"')
'"say \\\\"hi\\\\""'
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from journeyflow.errors import Span
from journeyflow.syntax import ast as a

__all__ = [
    "SourceText", "decl_text", "dist_text", "expr_text", "field_text", "float_text",
    "is_simple", "kv_block_text", "quote", "rule_head_text", "sim_text", "simple_stmt_text",
    "step_text",
    "migrate_item_text",
]

_COMPARE = ("==", "!=", "<", "<=", ">", ">=")
_PRECEDENCE = {"or": 1, "and": 2, "+": 5, "-": 5, "*": 6, "/": 6} | dict.fromkeys(_COMPARE, 4)
_NOT, _COMPARISON, _SUM, _NEGATION, _ATOM = 3, 4, 5, 7, 8
# After `expect` these words are keywords, so an expression may not begin with them.
_EXPECT_WORDS = frozenset({"stage", "sent", "tagged", "goal", "bonus", "suppressed", "arm"})
_SIGNED = re.compile(r"-?\d+(\.\d+)?%?")


def quote(value: str) -> str:
    """The string literal for ``value``, with ``\\``, ``"``, newline and tab escaped."""
    body = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + body.replace("\n", "\\n").replace("\t", "\\t") + '"'


def _precedence(expr: a.Expr) -> int:
    if isinstance(expr, a.Binary):
        return _PRECEDENCE[expr.op]
    if isinstance(expr, a.Unary):
        return _NOT if expr.op == "not" else _NEGATION
    if isinstance(expr, a.InList):
        return _COMPARISON
    return _ATOM


def _operand(expr: a.Expr, lowest: int) -> str:
    """``expr``, in parentheses when it binds less tightly than ``lowest``."""
    text = expr_text(expr)
    return f"({text})" if _precedence(expr) < lowest else text


def _binary(e: a.Binary) -> str:
    prec = _PRECEDENCE[e.op]
    if prec == _COMPARISON:  # comparisons do not chain
        return f"{_operand(e.left, _SUM)} {e.op} {_operand(e.right, _SUM)}"
    return f"{_operand(e.left, prec)} {e.op} {_operand(e.right, prec + 1)}"


def _unary(e: a.Unary) -> str:
    if e.op == "not":
        return "not " + _operand(e.operand, _NOT)
    text = _operand(e.operand, _NEGATION)
    return ("- " if text.startswith("-") else "-") + text


def _in_list(e: a.InList) -> str:
    keyword = "not in" if e.negated else "in"
    return f"{_operand(e.operand, _SUM)} {keyword} {expr_text(e.items)}"


def _call(e: a.Call) -> str:
    args = ", ".join(_arg_text(e.func, arg) + (f" within {arg.within.text}" if arg.within else "")
                     for arg in e.args)
    return f"{e.func}({args})"


def _arg_text(func: str, arg: a.Arg) -> str:
    """A day range in ``next(09:00, mon-fri)`` is written as in a send window."""
    x = arg.expr
    if func == "next" and isinstance(x, a.Binary) and x.op == "-" and isinstance(
            x.left, a.Name) and isinstance(x.right, a.Name):
        return f"{x.left.name}-{x.right.name}"
    return expr_text(x)


_TEXT: dict[type, Callable[[Any], str]] = {
    a.Number: lambda e: e.text,
    a.Percent: lambda e: e.text,
    a.Duration: lambda e: e.text,
    a.DateTimeLit: lambda e: e.text,
    a.Clock: lambda e: e.text,
    a.StringLit: lambda e: quote(e.value),
    a.BoolLit: lambda e: "true" if e.value else "false",
    a.NullLit: lambda e: "null",
    a.Name: lambda e: e.name,
    a.Path: lambda e: f"{e.owner}.{e.field}",
    a.EventField: lambda e: f"event.{e.field}",
    a.Call: _call,
    a.ListLit: lambda e: "[" + ", ".join(expr_text(item) for item in e.items) + "]",
    a.Unary: _unary,
    a.Binary: _binary,
    a.InList: _in_list,
}


def expr_text(expr: a.Expr) -> str:
    """An expression with only the parentheses its precedence needs."""
    return _TEXT[type(expr)](expr)


def _expect_expr_text(expr: a.Expr) -> str:
    text = expr_text(expr)
    rest = text
    while rest.startswith("not "):
        rest = rest[4:]
    word = re.match(r"\w+", rest)
    return f"({text})" if word and word.group() in _EXPECT_WORDS else text


def kv_block_text(kvs: tuple[a.KV, ...]) -> str:
    """`` { key: expr, ... }`` with its leading space, or nothing for no pairs."""
    if not kvs:
        return ""
    return " { " + ", ".join(f"{kv.key.name}: {expr_text(kv.expr)}" for kv in kvs) + " }"


# ---- statements and rules ------------------------------------------------------------


def _grant(s: a.Grant) -> str:
    remind = f" remind {s.remind.text} before" if s.remind else ""
    return f"grant bonus {s.bonus.name} {s.value.text} expires {s.expires.text}{remind}"


_STMT_TEXT: dict[type, Callable[[Any], str]] = {
    a.Send: lambda s: f"send {s.message.name}",
    a.Offer: lambda s: f"offer {s.kind.name} {quote(s.item)} via {s.message.name}",
    a.Grant: _grant,
    a.Redeem: lambda s: f"redeem bonus {s.bonus.name}",
    a.Set: lambda s: f"set {s.attribute.name} {s.op} {expr_text(s.expr)}",
    a.Tag: lambda s: ("untag " if s.remove else "tag ") + quote(s.tag),
    a.Emit: lambda s: f"emit {s.event.name}{kv_block_text(s.fields)}",
    a.Notify: lambda s: f"notify {s.handler.name}{kv_block_text(s.fields)}",
    a.Goto: lambda s: f"-> {s.stage.name}",
}


def delayed_head_text(s: a.Delayed) -> str:
    """``after 4h unless purchased where ...`` or ``at EXPR ...``, without the block."""
    if s.at is not None:
        head = f"at {expr_text(s.at)}"
    else:
        assert s.after is not None
        head = f"after {s.after.text}"
    if s.unless is not None:
        head += f" unless {s.unless.name}"
        if s.where is not None:
            head += f" where {expr_text(s.where)}"
    return head


def is_simple(stmt: a.Stmt) -> bool:
    """True for a statement without a block of its own."""
    return type(stmt) in _STMT_TEXT


def simple_stmt_text(stmt: a.Stmt) -> str:
    return _STMT_TEXT[type(stmt)](stmt)


def _trigger_text(t: a.Trigger) -> str:
    if t.kind == "on":
        assert t.event is not None
        return f"on {t.event.name}"
    if t.kind in ("enter", "exit"):
        return f"on {t.kind}"
    if t.kind in ("after", "every"):
        assert t.duration is not None
        without = f" without {t.without.name}" if t.without else ""
        return f"{t.kind} {t.duration.text}{without}"
    assert t.expr is not None
    return f"{t.kind} {expr_text(t.expr)}" + (" every year" if t.every_year else "")


def rule_head_text(rule: a.Rule) -> str:
    """A rule without its block: trigger, guard and target."""
    if rule.trigger.kind == "pass":
        assert rule.target is not None
        return f"-> {rule.target.name}"
    text = _trigger_text(rule.trigger)
    if rule.guard is not None:
        text += f" where {expr_text(rule.guard)}"
    return text + (f" -> {rule.target.name}" if rule.target else "")


# ---- declarations ------------------------------------------------------------------------


def field_text(f: a.Field) -> str:
    default = f" = {expr_text(f.default)}" if f.default is not None else ""
    return f"{f.name.name}: {f.type.name}{'?' if f.optional else ''}{default}"


def _day_span(d: a.DaySpan) -> str:
    return d.first.name + (f"-{d.last.name}" if d.last else "")


def _goal(d: a.GoalDecl) -> str:
    if d.when is not None:
        return f"goal {d.name.name} when {expr_text(d.when)}"
    assert d.event is not None
    where = f" where {expr_text(d.where)}" if d.where is not None else ""
    return f"goal {d.name.name} on {d.event.name}{where}"


_DECL_TEXT: dict[type, Callable[[Any], str]] = {
    a.ChannelDecl: lambda d: f"channel {d.name.name}",
    a.LimitDecl: lambda d: f"limit {d.channel.name} to {d.count.text} per {d.per.text}",
    a.QuietHours: lambda d: f"quiet hours {d.start.text} to {d.end.text}",
    a.SendWindow: lambda d: "send window " + ", ".join(_day_span(s) for s in d.days)
    + f" {d.start.text} to {d.end.text}",
    a.SegmentDecl: lambda d: f"segment {d.name.name} where {expr_text(d.expr)}",
    a.ConsentDecl: lambda d: f"consent {d.channel.name} where {expr_text(d.expr)}",
    a.HoldoutDecl: lambda d: f"holdout {d.share.text}",
    a.GoalDecl: _goal,
    a.ValueDecl: lambda d: f"value {expr_text(d.expr)}",
    a.ReentryDecl: lambda d: f"reentry after {d.after.text}" if d.after else f"reentry {d.mode}",
}


def migrate_item_text(item: a.MigrateItem) -> str:
    """One line of a ``migrate`` block."""
    if isinstance(item, a.MigrateStage):
        return f"stage {item.old.name} -> {item.new.name}"
    return f"set {item.attribute.name} = {expr_text(item.expr)}"


def decl_text(decl: a.Decl) -> str | None:
    """The text of a declaration that is always one line, or None for the others."""
    render = _DECL_TEXT.get(type(decl))
    return render(decl) if render else None


# ---- simulate --------------------------------------------------------------------------


class SourceText:
    """The source a tree was parsed from: the written form of ``simulate`` numbers (the
    tree keeps floats) and the closing brace of a ``split`` (the tree has no span for it)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def _offset(self, line: int, col: int) -> int:
        return self.starts[line - 1] + col - 1 if 0 < line <= len(self.starts) else len(self.text)

    def cut(self, span: Span) -> str:
        return self.text[self._offset(span.line, span.col):self._offset(span.end_line,
                                                                        span.end_col)]

    def brace_after(self, line: int, col: int) -> tuple[int, int] | None:
        """The end (line, col) of the ``}`` that comes next after only blanks and comments."""
        i = self._offset(line, col)
        while i < len(self.text) and (self.text[i].isspace() or self.text[i] == "#"):
            i = self.text.find("\n", i) if self.text[i] == "#" else i + 1
            i = len(self.text) if i < 0 else i
        if i >= len(self.text) or self.text[i] != "}":
            return None
        line = bisect_right(self.starts, i)
        return (line, i - self.starts[line - 1] + 2)


def float_text(value: float) -> str:
    """Decimal text (no exponent) that reads back as ``value``."""
    if value < 0:
        return "-" + float_text(-value)
    if value.is_integer():
        return str(int(value))
    return format(Decimal(repr(value)), "f")


def _signed_text(value: float, written: str) -> str:
    """``written`` (``60%``, ``- 3``) compacted if it still means ``value``, else a decimal."""
    compact = re.sub(r"\s+", "", written)
    if _SIGNED.fullmatch(compact):
        number = float(compact.lstrip("-").rstrip("%")) / (100 if compact.endswith("%") else 1)
        if (-number if compact.startswith("-") else number) == value:
            return compact
    return float_text(value)


def _dist_arg(arg: a.DistArg, src: SourceText | None) -> str:
    written = src.cut(arg.span) if src else ""
    if arg.kind == "choice":
        assert arg.label is not None
        return f"{quote(arg.label)}: {_signed_text(arg.value, written.rpartition(':')[2])}"
    if arg.kind == "bound":
        assert arg.label is not None
        return f"{arg.label} {_signed_text(arg.value, written[len(arg.label):])}"
    return _signed_text(arg.value, written)


def dist_text(dist: a.Dist, src: SourceText | None = None) -> str:
    """A payload distribution; with ``src``, numbers keep their written form (``60%``)."""
    if dist.func is not None:
        return f"{dist.func}(" + ", ".join(_dist_arg(x, src) for x in dist.args) + ")"
    value = dist.constant
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return quote(value)
    assert value is not None
    return _signed_text(float(value), src.cut(dist.span) if src else "")


def _payload(fields: tuple[a.DistField, ...], src: SourceText | None) -> str:
    if not fields:
        return ""
    return " { " + ", ".join(f"{f.name.name}: {dist_text(f.dist, src)}" for f in fields) + " }"


def sim_text(item: a.SimArrivals | a.SimRate | a.SimReaction, src: SourceText | None) -> str:
    """One line of a ``simulate`` block: arrivals, a rate or a reaction."""
    if isinstance(item, a.SimReaction):
        return f"{item.event.name} {item.share.text} within {item.within.text}"
    if isinstance(item, a.SimRate):
        head = f"{item.event.name} {item.rate.text} per {item.period.name}"
        return head + _payload(item.payload, src)
    lasting = f" for {item.lasting.text}" if item.lasting else ""
    head = f"arrivals {item.event.name} {item.count.text} per {item.period.name}{lasting}"
    return head + _payload(item.payload, src)


# ---- scenarios ----------------------------------------------------------------------------


def step_text(step: a.StepEvent | a.StepWait | a.Expect) -> str:
    """One scenario step."""
    if isinstance(step, a.StepWait):
        return f"wait {step.duration.text}"
    if isinstance(step, a.Expect):
        if step.kind == "expr":
            assert step.expr is not None
            return f"expect {_expect_expr_text(step.expr)}"
        name = quote(step.name or "") if step.kind == "tagged" else step.name
        if step.kind == "arm" and step.split is not None:
            name = f"{quote(step.split.value)} {step.name}"
        text = f"expect {'not ' if step.negated else ''}{step.kind} {name}"
        if step.times is not None:
            text += f" {step.times.text} times"
        if step.containing is not None:
            text += f" containing {quote(step.containing.value)}"
        if step.reason is not None:
            text += f" because {step.reason.name}"
        return text
    when = f"+{step.when.text}" if isinstance(step.when, a.Duration) else step.when.text
    text = f"at {when} {step.event.name}{kv_block_text(step.data)}"
    if step.customer is not None:
        text += f" as {quote(step.customer)}"
    return text + (f" with{kv_block_text(step.attributes)}" if step.attributes else "")
