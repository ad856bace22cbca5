"""The nesting limits, checked on the syntax tree right after parsing.

The walk keeps its own stack instead of recursing, so a file nested far deeper
than any limit is measured as safely as a flat one. It stops descending where a
limit is crossed: one diagnostic per offending expression or block, and never
more work than the tree has nodes.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, get_args

from journeyflow.errors import Diagnostic, Span
from journeyflow.syntax import ast as a
from journeyflow.syntax.limits import (
    MAX_BLOCK_DEPTH,
    MAX_EXPRESSION_DEPTH,
    MAX_TEMPLATE_DEPTH,
    MAX_TEMPLATE_TAG_CHARS,
)

__all__ = ["nesting_diagnostics", "template_problem"]

# Expressions with no sub-expression: they end a path, they do not nest.
_LEAVES = frozenset({a.Number, a.Percent, a.Duration, a.StringLit, a.DateTimeLit, a.BoolLit,
                     a.NullLit, a.Name, a.Path, a.EventField})
_NESTING = frozenset(get_args(a.Expr)) - _LEAVES
_NOT_CHILDREN = frozenset({"span", "end", "comments"})
_SCALARS = (str, int, float, bool, Span)
# Nodes that hold no other node and no limit: never put on the stack at all.
_SKIPPED = _LEAVES | {a.Ident, a.Clock}

_EXPRESSION_HINT = (f"at most {MAX_EXPRESSION_DEPTH} levels, and each operator of a chain such "
                    "as a + b + c adds one: compute a part first, e.g. with set")
_BLOCK_HINT = (f"at most {MAX_BLOCK_DEPTH} levels (each 'else if' counts as one): move the "
               "inner part into a rule of its own, or combine the conditions with 'and'")


_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls: type) -> tuple[str, ...]:
    """The fields of a node class that may hold other nodes (spans never do)."""
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in fields(cls) if f.name not in _NOT_CHILDREN)
    return names


def nesting_diagnostics(tree: Any, source: str, file: str) -> list[Diagnostic]:
    """One diagnostic per expression, block or message template nested too deeply."""
    diags: list[Diagnostic] = []
    # ids of the outermost expressions and blocks already reported: one diagnostic each
    reported: set[int] = set()
    stack: list[_Entry] = [(tree, 0, 0, None, None)]
    while stack:
        node, expr_depth, block_depth, parent, root = stack.pop()
        cls = type(node)
        if cls in _NESTING:
            expr_depth += 1
            root = root if expr_depth > 1 else node
            if expr_depth > MAX_EXPRESSION_DEPTH:
                _report_once(diags, reported, root, _too_deep_expression(node, file))
                continue
        elif cls is a.Block or (cls is a.If and type(parent) is a.If):
            block_depth += 1
            root = root if block_depth > 1 else node
            if block_depth > MAX_BLOCK_DEPTH:
                statement = parent if cls is a.Block else node
                _report_once(diags, reported, root, _too_deep_block(statement, file))
                continue
        elif cls is a.MessagePart:
            diag = _template_diagnostic(node, source, file)
            if diag is not None:
                diags.append(diag)
            continue
        for name in reversed(_child_fields(cls)):
            _push(stack, getattr(node, name), (expr_depth, block_depth, node, root))
    return diags


# (node, expression depth, block depth, parent, outermost expression or block around it)
_Entry = tuple[Any, int, int, Any, Any]


def _report_once(diags: list[Diagnostic], reported: set[int], root: Any,
                 diagnostic: Diagnostic) -> None:
    if id(root) not in reported:
        reported.add(id(root))
        diags.append(diagnostic)


def _push(stack: list[_Entry], value: Any, context: tuple[int, int, Any, Any]) -> None:
    """Put a child, or each item of a tuple of children, on the stack, first on top."""
    if value is None or type(value) in _SKIPPED or isinstance(value, _SCALARS):
        return
    if isinstance(value, tuple):
        stack.extend((item, *context) for item in reversed(value)
                     if item is not None and type(item) not in _SKIPPED
                     and not isinstance(item, _SCALARS))
    else:
        stack.append((value, *context))


def _too_deep_expression(node: Any, file: str) -> Diagnostic:
    # In a chain the operand on the right is where the limit is crossed; the
    # chain's own span starts at its first operand, far to the left.
    where = node.right.span if isinstance(node, a.Binary) else node.span
    return Diagnostic("JF151", f"expression nested more than {MAX_EXPRESSION_DEPTH} levels deep",
                      Span.point(where.line, where.col), "error", _EXPRESSION_HINT, file)


def _too_deep_block(statement: Any, file: str) -> Diagnostic:
    span = getattr(statement, "span", None) or Span.point(1, 1)
    return Diagnostic("JF152", f"blocks nested more than {MAX_BLOCK_DEPTH} levels deep",
                      Span.point(span.line, span.col), "error", _BLOCK_HINT, file)


def _template_diagnostic(part: a.MessagePart, source: str, file: str) -> Diagnostic | None:
    problem = template_problem(part.value)
    if problem is None:
        return None
    index, message, hint = problem
    line, col = _string_start(part, source)
    return Diagnostic("JF153", message, Span.point(line, col + 1 + index), "error", hint, file)


def _string_start(part: a.MessagePart, source: str) -> tuple[int, int]:
    """Line and column of the opening quote of a message part's text.

    The text follows the part's name, on the name's line unless it was moved
    to the next; the caret inside it is then exact as long as no escape comes
    before the spot.
    """
    lines = source.split("\n", part.span.end_line)
    line = part.name.span.end_line
    col = lines[line - 1].find('"', part.name.span.end_col - 1) + 1 if line <= len(lines) else 0
    if col <= 0:
        line = part.span.end_line
        col = lines[line - 1].find('"') + 1 if line <= len(lines) else 1
    return line, max(col, 1)


_OPENERS = frozenset({"if", "for", "macro", "call", "filter", "block", "with", "autoescape",
                      "trans"})
_TAG_CLOSE = {"{{": "}}", "{%": "%}", "{#": "#}"}


def template_problem(template: str) -> tuple[int, str, str] | None:
    """(index, message, hint) of the first spot of a Jinja2 template past the limits.

    A scan in one pass, not a parse: it counts brackets inside ``{{ }}`` and
    ``{% %}`` tags, and open ``{% if %}``-like tags, which is what decides how
    deep Jinja2's own parser recurses.
    """
    open_tags = 0
    i = template.find("{")
    while 0 <= i < len(template) - 1:
        opener = template[i:i + 2]
        close = _TAG_CLOSE.get(opener)
        if close is None:
            i = template.find("{", i + 1)
            continue
        end = template.find(close, i + 2)
        end = len(template) if end < 0 else end
        tag = template[i + 2:end]
        if opener != "{#":
            problem = _tag_problem(tag, i + 2)
            if problem is not None:
                return problem
        if opener == "{%":
            open_tags += _block_change(tag)
            if open_tags > MAX_TEMPLATE_DEPTH:
                return (i, f"template blocks nested more than {MAX_TEMPLATE_DEPTH} levels deep",
                        "move the inner part into a template file of its own or simplify it")
        i = template.find("{", end + 2)
    return None


def _tag_problem(tag: str, offset: int) -> tuple[int, str, str] | None:
    if len(tag) > MAX_TEMPLATE_TAG_CHARS:
        return (offset, f"a template tag longer than {MAX_TEMPLATE_TAG_CHARS:,} characters",
                "compute the value in the journey (set) and show the attribute")
    depth, quote = 0, ""
    for k, ch in enumerate(tag):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
            if depth > MAX_TEMPLATE_DEPTH:
                return (offset + k, f"template expression nested more than {MAX_TEMPLATE_DEPTH} "
                        "levels deep", "remove brackets that group nothing, or simplify it")
        elif ch in ")]}":
            depth -= 1
    return None


def _block_change(tag: str) -> int:
    words = tag.strip(" -+\t\n").split(None, 1)
    if not words:
        return 0
    word = words[0]
    if word in _OPENERS or (word == "set" and "=" not in tag):
        return 1
    return -1 if word.startswith("end") else 0
