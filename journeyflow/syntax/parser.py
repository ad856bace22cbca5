"""The one loader of ``grammar/journey.lark`` and the parse entry points.

Syntax errors are turned into labelled, human-worded diagnostics, and the
parser recovers after each one so a file reports every syntax error at once.
"""

from __future__ import annotations

import threading
from functools import cache
from importlib import resources
from typing import Any

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from journeyflow.errors import Diagnostic, DiagnosticSink, JourneySyntaxError, Span
from journeyflow.syntax import ast
from journeyflow.syntax.error_examples import describe_expected, label_for
from journeyflow.syntax.transform import JourneyTransformer

__all__ = ["grammar_text", "parse_journey", "parse_scenarios", "parser"]

MAX_SYNTAX_ERRORS = 50


def grammar_text() -> str:
    """The grammar, read from the package data."""
    return (resources.files("journeyflow") / "grammar" / "journey.lark").read_text("utf-8")


@cache
def parser() -> Lark:
    """The cached LALR parser, with the syntax-tree builder applied inline."""
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        start=["journey_file", "scenario_file"],
        maybe_placeholders=True,
        transformer=JourneyTransformer(),
        lexer_callbacks={"COMMENT": _keep_comment},
    )


_comments = threading.local()


def _keep_comment(tok: Token) -> Token:
    sink: list[tuple[int, int, str]] | None = getattr(_comments, "sink", None)
    if sink is not None:
        sink.append((tok.line or 0, tok.column or 0, str(tok)))
    return tok


_FAKE_VALUES = {
    "NAME": "_", "STRING": '""', "NUMBER": "0", "DURATION": "1d", "PERCENT": "0%",
    "CLOCK": "00:00", "DATETIME": "2000-01-01",
}
# Tokens that begin a declaration or a rule: after an error at one of them,
# the parser unwinds to where it fits instead of dropping it.
_SYNC = frozenset({
    "CUSTOMER", "EVENT", "MESSAGE", "CHANNEL", "LIMIT", "QUIET", "SEGMENT", "GOAL", "VALUE",
    "REENTRY", "ANYWHERE", "STAGE", "SIMULATE", "SCENARIO", "ON", "EVERY", "WHEN",
})
# When a token cannot be kept, the parser pretends it read one of these instead.
_SUBSTITUTES = ("DURATION", "NAME", "NUMBER", "STRING", "PERCENT", "CLOCK")


def _fake(tok: Token, kind: str) -> Token:
    value = _FAKE_VALUES.get(kind)
    if value is None:
        pattern = parser().get_terminal(kind).pattern
        value = pattern.value if pattern.type == "str" else "_"
    return Token.new_borrow_pos(kind, value, tok)


class _Recovery:
    """Collects syntax errors and repairs the token stream after each one.

    A missing token is inserted when that lets the parser go on (``stage a {
    on e -> b`` gets its ``}``); a wrong one is replaced by a token of the kind
    expected, or dropped. Errors raised before the parser accepted another real
    token are cascades of the first and are not reported.
    """

    def __init__(self, sink: DiagnosticSink, text: str) -> None:
        self.sink = sink
        self.text = text
        self.settled: tuple[int, ...] | None = None
        self.last_line = -1

    def __call__(self, err: UnexpectedInput) -> bool:
        if isinstance(err, UnexpectedCharacters):
            return self._bad_character(err)
        if not isinstance(err, UnexpectedToken):
            self._record(err)
            return False
        ip = err.interactive_parser
        if tuple(ip.parser_state.state_stack) != self.settled:
            self._record(err)
        if err.token.type == "$END" or len(self.sink.items) >= MAX_SYNTAX_ERRORS:
            return False
        self._repair(err)
        self.settled = tuple(ip.parser_state.state_stack)
        return True

    def _repair(self, err: UnexpectedToken) -> None:
        ip: Any = err.interactive_parser  # lark's interactive parser is untyped
        tok = err.token
        if tok.type in _SYNC and self._starts_line(tok) and self._unwind_to(ip, tok):
            ip.feed_token(tok)
            return
        accepts = sorted(ip.accepts())
        for kind in accepts:
            trial = ip.copy()
            try:
                trial.feed_token(_fake(tok, kind))
                if tok.type in trial.accepts():
                    ip.feed_token(_fake(tok, kind))
                    ip.feed_token(tok)
                    return
            except UnexpectedInput:
                continue
        for kind in _SUBSTITUTES:
            if kind in accepts and tok.type in ("NAME", "NUMBER", "STRING", "DURATION",
                                                "PERCENT", "CLOCK", "DATETIME"):
                ip.feed_token(_fake(tok, kind))
                return

    def _starts_line(self, tok: Token) -> bool:
        start = tok.start_pos or 0
        line_start = self.text.rfind("\n", 0, start) + 1
        return not self.text[line_start:start].strip()

    @staticmethod
    def _unwind_to(ip: Any, tok: Token) -> bool:
        """Pop parser states until one can take ``tok`` (panic-mode recovery).

        Every state on the stack is a valid prefix of the grammar, so the
        state found can continue from there with what was already built.
        """
        state = ip.parser_state
        table = state.parse_conf.parse_table.states
        depth = len(state.state_stack)
        while depth > 1 and tok.type not in table[state.state_stack[depth - 1]]:
            depth -= 1
        if depth <= 1 and tok.type not in table[state.state_stack[0]]:
            return False
        removed = len(state.state_stack) - depth
        if removed:
            del state.state_stack[depth:]
            del state.value_stack[len(state.value_stack) - removed:]
        return True

    def _bad_character(self, err: UnexpectedCharacters) -> bool:
        if err.line != self.last_line:
            self._record(err)
        self.last_line = err.line
        ip: Any = err.interactive_parser
        if ip is not None:
            # What the parser says next, in the state it was left in, is about this mistake.
            self.settled = tuple(ip.parser_state.state_stack)
        if err.char == '"':
            state: Any = err.interactive_parser.lexer_thread.state
            text = state.text.text
            pos = state.line_ctr.char_pos
            eol = text.find("\n", pos)
            state.line_ctr.feed(text[pos:eol if eol >= 0 else len(text)])
        return len(self.sink.items) < MAX_SYNTAX_ERRORS

    def _record(self, err: UnexpectedInput) -> None:
        code, message, hint, span = syntax_diagnostic(err)
        self.sink.error(code, message, span, hint)


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
    sink = DiagnosticSink(file)
    comments: list[tuple[int, int, str]] = []
    _comments.sink = comments
    try:
        tree = parser().parse(text, start=start, on_error=_Recovery(sink, text))
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
        raise JourneySyntaxError(_summary(sink.items), sink.sorted())
    return tree, tuple(comments)


def _summary(items: list[Diagnostic]) -> str:
    n = len(items)
    return f"{n} syntax error{'s' if n != 1 else ''}"


def parse_journey(text: str, file: str = "<journey>") -> ast.JourneyFile:
    """Parse a ``.journey`` text into its syntax tree.

    Raises
    ------
    JourneySyntaxError
        With one diagnostic per syntax error found.
    """
    tree, comments = _parse(text, "journey_file", file)
    assert isinstance(tree, ast.JourneyFile)
    return ast.JourneyFile(tree.header, tree.decls, comments)


def parse_scenarios(text: str, file: str = "<scenario>") -> ast.ScenarioFile:
    """Parse a ``.scenario`` file: scenarios only, no journey header."""
    tree, comments = _parse(text, "scenario_file", file)
    assert isinstance(tree, ast.ScenarioFile)
    return ast.ScenarioFile(tree.scenarios, comments)
