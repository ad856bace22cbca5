"""Message templates: checked when the journey compiles.

Templates are written by marketers and rendered in a sandbox, so they are treated
as untrusted input. A template file must lie inside the journey's folder; a
template that does not parse, that needs a loader, uses an unknown filter, binds
a reserved name, reaches for internals or names a variable the journey does not
have is a compile error rather than a broken mail at three in the morning.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from journeyflow.compile.template_checks import (
    BONUS_FIELDS,
    TEMPLATE_NAMES,
    Finding,
    template_findings,
)
from journeyflow.errors import Span
from journeyflow.model import journey as m
from journeyflow.syntax import ast as a
from journeyflow.templating.files import TemplateFileError, read_template
from journeyflow.templating.rendering import BadTemplate, compile_template, parse_template

if TYPE_CHECKING:
    from journeyflow.compile.context import CompileContext

__all__ = ["BONUS_FIELDS", "TEMPLATE_NAMES", "check_message_templates"]

_FILE_CODES = {"missing": "JF412", "outside": "JF420", "unusable": "JF421"}


def check_message_templates(ctx: CompileContext, decl: a.MessageDecl, msg: m.Message) -> None:
    """Report every problem of the subject, body and template file of ``msg``."""
    for part in decl.parts:
        key = part.name.name
        if key == "template":
            try:
                text = read_template(ctx.file, part.value)
            except TemplateFileError as err:
                ctx.sink.error(_FILE_CODES[err.kind], err.detail, _string_span(ctx, part),
                               err.hint)
                continue
            _check_text(ctx, text, part, part.value)
        elif key in ("subject", "body"):
            _check_text(ctx, part.value, part, None)


def _check_text(ctx: CompileContext, text: str, part: a.MessagePart, file: str | None) -> None:
    """Check one template; ``file`` names a template file (errors then say where in it)."""
    if "{" not in text:
        return
    try:
        tree = parse_template(text)
    except BadTemplate as err:
        _syntax_error(ctx, part, file, err)
        return
    known = {"customer": frozenset(ctx.names.attributes) | {"id"},
             "event": frozenset(f for fs in ctx.names.events.values() for f in fs),
             "bonus": frozenset(BONUS_FIELDS)}
    findings = template_findings(tree, known)
    for finding in findings:
        span = _string_span(ctx, part) if file else _spot(ctx, part, finding.pattern)
        ctx.sink.error(finding.code, finding.message + _in_file(file, finding), span,
                       finding.hint)
    if not findings:
        try:  # what only the compiler sees, e.g. a block defined twice
            compile_template(text)
        except BadTemplate as err:
            _syntax_error(ctx, part, file, err)


def _syntax_error(ctx: CompileContext, part: a.MessagePart, file: str | None,
                  err: BadTemplate) -> None:
    where = f" ({file}, line {err.line})" if file and err.line else ""
    ctx.sink.error("JF408", f"template error{where}: {err.message}", _string_span(ctx, part),
                   "templates use {{ customer.first_name }} and {% if ... %}")


def _in_file(file: str | None, finding: Finding) -> str:
    return f" ({file}, line {finding.line})" if file else ""


def _string_span(ctx: CompileContext, part: a.MessagePart) -> Span:
    """The string literal of a message part (the part's span also covers its name)."""
    span = part.span
    line = ctx.source.split("\n")[span.line - 1]
    quote = line.find('"', part.name.span.end_col - 1)
    if quote < 0:
        return span
    return Span(span.line, quote + 1, span.end_line, span.end_col)


def _spot(ctx: CompileContext, part: a.MessagePart, pattern: str) -> Span:
    """Where ``pattern`` (a regex; its first group if it has one) occurs in the part's
    string, else the whole string."""
    literal = _string_span(ctx, part)
    if literal.line != literal.end_line:
        return literal
    line = ctx.source.split("\n")[literal.line - 1]
    found = re.compile(pattern).search(line, literal.col - 1, literal.end_col - 1)
    if found is None:
        return literal
    start, end = found.span(1 if found.re.groups else 0)
    return Span(literal.line, start + 1, literal.line, end + 1)
