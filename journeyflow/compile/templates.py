"""Message templates: Jinja2 in a sandbox, checked when the journey compiles.

A template that does not parse, or names a variable the journey does not
have, is a compile error rather than a broken mail at three in the morning.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.runtime import ChainableUndefined

from journeyflow.errors import Span, did_you_mean
from journeyflow.model import journey as m
from journeyflow.syntax import ast as a

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


def check_message_templates(ctx: object, decl: a.MessageDecl, msg: m.Message) -> None:
    from journeyflow.compile.context import CompileContext

    assert isinstance(ctx, CompileContext)
    for part in decl.parts:
        key = part.name.name
        if key == "template":
            path = template_path(ctx.file, part.value)
            if not path.is_file():
                ctx.sink.error("JF412", f"template file '{part.value}' not found", part.span,
                               f"looked for {path}")
                continue
            _check_text(ctx, path.read_text("utf-8"), part.span)
        elif key in ("subject", "body"):
            _check_text(ctx, part.value, part.span)


def _check_text(ctx: object, text: str, span: Span) -> None:
    from journeyflow.compile.context import CompileContext

    assert isinstance(ctx, CompileContext)
    if "{" not in text:
        return
    try:
        tree = environment().parse(text)
    except TemplateSyntaxError as err:
        ctx.sink.error("JF408", f"template error: {err.message}", span,
                       "templates use {{ customer.first_name }} and {% if ... %}")
        return
    attributes = ctx.names.attributes
    fields = {f for fs in ctx.names.events.values() for f in fs}
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and node.name not in TEMPLATE_NAMES and not _is_local(tree, node):
            ctx.sink.error("JF409", f"template variable '{node.name}' does not exist", span,
                           did_you_mean(node.name, TEMPLATE_NAMES)
                           or "templates can use customer, event and bonus")
    for getattr_node in tree.find_all(nodes.Getattr):
        owner = getattr_node.node
        if not isinstance(owner, nodes.Name):
            continue
        known = {"customer": attributes, "event": fields, "bonus": BONUS_FIELDS}.get(owner.name)
        if known is not None and getattr_node.attr not in known:
            ctx.sink.error("JF409", f"template variable '{owner.name}.{getattr_node.attr}' "
                           "does not exist", span, did_you_mean(getattr_node.attr, known))


def _is_local(tree: nodes.Template, name: nodes.Name) -> bool:
    """Names bound inside the template itself (loops, set) are not journey variables."""
    for target in tree.find_all((nodes.For, nodes.Assign)):
        bound = target.target
        names = [bound] if isinstance(bound, nodes.Name) else list(bound.find_all(nodes.Name))
        if any(n.name == name.name for n in names):
            return True
    return False
