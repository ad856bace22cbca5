"""Message templates: Jinja2 in a sandbox, checked when the journey compiles.

A template that does not parse, or names a variable the journey does not
have, is a compile error rather than a broken mail at three in the morning.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import TemplateSyntaxError, nodes
from jinja2.runtime import ChainableUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from journeyflow.errors import Span, did_you_mean
from journeyflow.model import journey as m
from journeyflow.syntax import ast as a

if TYPE_CHECKING:
    from journeyflow.compile.context import CompileContext

__all__ = ["BONUS_FIELDS", "TEMPLATE_NAMES", "check_message_templates", "environment",
           "template_path"]

TEMPLATE_NAMES = ("customer", "event", "bonus")
BONUS_FIELDS = ("name", "value", "expires")


@cache
def environment() -> ImmutableSandboxedEnvironment:
    """The one template environment: sandboxed, and a missing value renders empty."""
    return ImmutableSandboxedEnvironment(undefined=ChainableUndefined, autoescape=False)


def template_path(journey_file: str, template: str) -> Path:
    base = Path(journey_file).parent if not journey_file.startswith("<") else Path.cwd()
    return base / template


def check_message_templates(ctx: CompileContext, decl: a.MessageDecl, msg: m.Message) -> None:
    for part in decl.parts:
        key = part.name.name
        if key == "template":
            path = template_path(ctx.file, part.value)
            if not path.is_file():
                ctx.sink.error("JF412", f"template file '{part.value}' not found",
                               _string_span(ctx, part),
                               "a template path is relative to the folder of the .journey file")
                continue
            _check_text(ctx, path.read_text("utf-8"), part, part.value)
        elif key in ("subject", "body"):
            _check_text(ctx, part.value, part, None)


def _string_span(ctx: CompileContext, part: a.MessagePart) -> Span:
    """The string literal of a message part (the part's span also covers its name)."""
    span = part.span
    line = ctx.source.split("\n")[span.line - 1]
    quote = line.find('"', part.name.span.end_col - 1)
    if quote < 0:
        return span
    return Span(span.line, quote + 1, span.end_line, span.end_col)


def _spot(ctx: CompileContext, part: a.MessagePart, pattern: str) -> Span:
    """Where ``pattern`` (a regex) occurs in the part's string, else the whole string."""
    literal = _string_span(ctx, part)
    if literal.line != literal.end_line:
        return literal
    line = ctx.source.split("\n")[literal.line - 1]
    found = re.compile(pattern).search(line, literal.col - 1, literal.end_col - 1)
    if found is None:
        return literal
    return Span(literal.line, found.start() + 1, literal.line, found.end() + 1)


def _check_text(ctx: CompileContext, text: str, part: a.MessagePart, file: str | None) -> None:
    """Check one template; ``file`` names a template file (errors then say where in it)."""
    if "{" not in text:
        return
    try:
        tree = environment().parse(text)
    except TemplateSyntaxError as err:
        where = f" ({file}, line {err.lineno})" if file else ""
        ctx.sink.error("JF408", f"template error{where}: {err.message}",
                       _string_span(ctx, part),
                       "templates use {{ customer.first_name }} and {% if ... %}")
        return
    attributes = ctx.names.attributes
    fields = {f for fs in ctx.names.events.values() for f in fs}
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and node.name not in TEMPLATE_NAMES and not _is_local(tree, node):
            pattern = rf"\b{re.escape(node.name)}\b"
            span = _string_span(ctx, part) if file else _spot(ctx, part, pattern)
            ctx.sink.error("JF409", f"template variable '{node.name}' does not exist"
                           + _in_file(file, node), span,
                           did_you_mean(node.name, TEMPLATE_NAMES,
                                        "templates can use customer, event and bonus"))
    for getattr_node in tree.find_all(nodes.Getattr):
        owner = getattr_node.node
        if not isinstance(owner, nodes.Name):
            continue
        known = {"customer": attributes, "event": fields, "bonus": BONUS_FIELDS}.get(owner.name)
        if known is not None and getattr_node.attr not in known:
            name = f"{owner.name}.{getattr_node.attr}"
            span = _string_span(ctx, part) if file else _spot(
                ctx, part, rf"\b{owner.name}\s*\.\s*{re.escape(getattr_node.attr)}\b")
            ctx.sink.error("JF409", f"template variable '{name}' does not exist"
                           + _in_file(file, getattr_node), span,
                           did_you_mean(getattr_node.attr, known,
                                        _known_hint(owner.name, sorted(known))))


def _in_file(file: str | None, node: nodes.Node) -> str:
    return f" ({file}, line {node.lineno})" if file else ""


def _known_hint(owner: str, known: list[str]) -> str:
    if not known:
        return f"no {owner} value is declared"
    shown = ", ".join(f"{owner}.{k}" for k in known[:6])
    return f"known: {shown}" + (", ..." if len(known) > 6 else "")


def _is_local(tree: nodes.Template, name: nodes.Name) -> bool:
    """Names bound inside the template itself (loops, set) are not journey variables."""
    for binder in tree.find_all((nodes.For, nodes.Assign)):
        assert isinstance(binder, nodes.For | nodes.Assign)
        bound = binder.target
        names = [bound] if isinstance(bound, nodes.Name) else list(bound.find_all(nodes.Name))
        if any(n.name == name.name for n in names):
            return True
    return False
