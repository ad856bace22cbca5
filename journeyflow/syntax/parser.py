"""The one loader of ``grammar/journey.lark`` and the parse entry points.

Syntax errors are turned into labelled, human-worded diagnostics, and the
parser recovers after each one (:mod:`journeyflow.syntax.recovery`) so a file
reports every syntax error at once. The size limits are checked before the
lexer runs and the nesting limits on the finished tree
(:mod:`journeyflow.syntax.limits`), so no input gets further than a diagnostic.
"""

from __future__ import annotations

import hashlib
import threading
from functools import cache
from importlib import resources
from typing import Any

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from journeyflow.cachedir import cache_folder, private
from journeyflow.errors import Diagnostic, DiagnosticSink, JourneySyntaxError, Span
from journeyflow.syntax import ast
from journeyflow.syntax.error_examples import describe_expected, label_for
from journeyflow.syntax.limits import MAX_SYNTAX_ERRORS, size_diagnostics
from journeyflow.syntax.nesting import nesting_diagnostics
from journeyflow.syntax.recovery import Recovery
from journeyflow.syntax.transform import JourneyTransformer

__all__ = ["MAX_SYNTAX_ERRORS", "grammar_text", "parse_journey", "parse_scenarios", "parser"]


def grammar_text() -> str:
    """The grammar, read from the package data."""
    return (resources.files("journeyflow") / "grammar" / "journey.lark").read_text("utf-8")


@cache
def parser() -> Lark:
    """The cached LALR parser, with the syntax-tree builder applied inline."""
    grammar = grammar_text()
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        start=["journey_file", "scenario_file"],
        maybe_placeholders=True,
        transformer=JourneyTransformer(),
        lexer_callbacks={"COMMENT": _keep_comment},
        cache=_table_file(grammar),
    )


def _table_file(grammar: str) -> str | bool:
    """Where Lark keeps the parse tables it builds from the grammar (0.17 s of every
    process's first parse otherwise); False (build them) without a private cache folder.
    Lark checks the file against the grammar, its options and its version, and builds
    the tables again when it cannot read it."""
    folder = cache_folder()
    if folder is None or not private(folder):
        return False
    digest = hashlib.sha256(grammar.encode("utf-8")).hexdigest()[:16]
    return str(folder / f"parser-{digest}.lark")


_comments = threading.local()


def _keep_comment(tok: Token) -> Token:
    sink: list[tuple[int, int, str]] | None = getattr(_comments, "sink", None)
    if sink is not None:
        sink.append((tok.line or 0, tok.column or 0, str(tok)))
    return tok


def syntax_diagnostic(err: UnexpectedInput) -> tuple[str, str, str | None, Span]:
    """Code, message, hint and span for a raw Lark error."""
    labelled = label_for(err)
    if isinstance(err, UnexpectedCharacters):
        span = Span.point(err.line, err.column)
        char = err.char
        if char == '"':
            hint = "close the string with '\"' on the same line"
            return "JF102", "unterminated string", hint, span
        code, message = labelled or ("JF101", f"unexpected character '{char}'")
        return code, message, describe_expected(err.allowed), span
    if isinstance(err, UnexpectedToken):
        tok: Token = err.token
        if tok.type == "$END":
            span = Span.point(max(err.line, 1), max(err.column, 1))
            code, message = labelled or ("JF103", "unexpected end of file")
        else:
            span = Span(tok.line or 1, tok.column or 1, tok.end_line or 1, tok.end_column or 2)
            code, message = labelled or ("JF100", f"unexpected {_describe_token(tok)}")
        return code, message, describe_expected(err.accepts or err.expected), span
    return "JF103", "unexpected end of file", None, Span.point(1, 1)


def _describe_token(tok: Token) -> str:
    if tok.type == "NAME":
        return f"name '{tok}'"
    if tok.type == "STRING":
        return f"string {tok}"
    return f"'{tok}'"


def _parse(text: str, start: str, file: str) -> Any:
    too_large = size_diagnostics(text, file)
    if too_large:
        raise JourneySyntaxError(_summary(too_large), too_large)
    sink = DiagnosticSink(file)
    comments: list[tuple[int, int, str]] = []
    _comments.sink = comments
    recovery = Recovery(sink, text, parser(), syntax_diagnostic)
    try:
        tree = parser().parse(text, start=start, on_error=recovery)
    except UnexpectedInput as err:
        if not sink.items:
            code, message, hint, span = syntax_diagnostic(err)
            sink.error(code, message, span, hint)
        tree = None
    except Exception:
        # After recovery skipped tokens the tree builder may see shapes the
        # grammar never produces; the syntax errors already explain why.
        if not sink.items:
            raise
        tree = None
    finally:
        _comments.sink = None
    if sink.items:
        diags = sink.sorted()
        if recovery.stopped_at is not None:
            diags.append(_stopped(recovery.stopped_at, len(diags), file))
        raise JourneySyntaxError(_summary(diags), diags)
    too_deep = nesting_diagnostics(tree, text, file)
    if too_deep:
        raise JourneySyntaxError(_summary(too_deep), too_deep)
    return tree, tuple(comments)


def _stopped(where: Span, reported: int, file: str) -> Diagnostic:
    """Says where the parser gave up, so a capped report is never taken for a full one."""
    return Diagnostic("JF154", f"too many syntax errors: checking stopped here, after {reported}",
                      where, "error", "fix the errors above and check again", file)


def _summary(items: list[Diagnostic]) -> str:
    n = len(items)
    return f"{n} syntax error{'s' if n != 1 else ''}"


def parse_journey(text: str, file: str = "<journey>") -> ast.JourneyFile:
    """Parse a ``.journey`` text into its syntax tree.

    Raises
    ------
    JourneySyntaxError
        With one diagnostic per syntax error found, or per size or nesting
        limit crossed (:mod:`journeyflow.syntax.limits`).
    """
    tree, comments = _parse(text, "journey_file", file)
    assert isinstance(tree, ast.JourneyFile)
    return ast.JourneyFile(tree.header, tree.decls, comments)


def parse_scenarios(text: str, file: str = "<scenario>") -> ast.ScenarioFile:
    """Parse a ``.scenario`` file: scenarios only, no journey header."""
    tree, comments = _parse(text, "scenario_file", file)
    assert isinstance(tree, ast.ScenarioFile)
    return ast.ScenarioFile(tree.scenarios, comments)
