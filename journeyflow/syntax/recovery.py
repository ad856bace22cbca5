"""Syntax-error recovery: report every mistake of a file and go on after each.

A missing token is inserted when that lets the parser go on (``stage a {
on e -> b`` gets its ``}``); a wrong one is replaced by a token of the kind
expected, or dropped. Errors raised before the parser accepted another real
token are cascades of the first and are not reported.

Which repair works is tried on the LALR parse table with the parser's state
numbers only, never on a copy of the parser: a copy would deep-copy every
syntax-tree node built so far, which made recovery cost the size of the file
for each candidate token. The trial costs the few states it touches, so
recovery stays linear in the size of the file times the errors reported.
"""

from __future__ import annotations

from typing import Any

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.parsers.lalr_analysis import Shift

from journeyflow.errors import DiagnosticSink, Span
from journeyflow.syntax.limits import MAX_SYNTAX_ERRORS

__all__ = ["MAX_REPAIRS", "Recovery", "accepts_sequence"]

# Repairs that are not reported (cascades of a reported error) still cost time:
# a file of garbage stops after this many, reported or not.
MAX_REPAIRS = 20 * MAX_SYNTAX_ERRORS

_FAKE_VALUES = {
    "NAME": "_", "STRING": '""', "NUMBER": "0", "DURATION": "1d", "PERCENT": "0%",
    "CLOCK": "00:00", "DATETIME": "2000-01-01",
}
# Tokens that begin a declaration or a rule: after an error at one of them,
# the parser unwinds to where it fits instead of dropping it.
_SYNC = frozenset({
    "CUSTOMER", "EVENT", "MESSAGE", "CHANNEL", "LIMIT", "QUIET", "SEGMENT", "GOAL", "VALUE",
    "REENTRY", "ANYWHERE", "STAGE", "SIMULATE", "SCENARIO", "ON", "EVERY", "WHEN",
    "CONSENT", "HOLDOUT", "MIGRATE",
})
# When a token cannot be kept, the parser pretends it read one of these instead.
_SUBSTITUTES = ("DURATION", "NAME", "NUMBER", "STRING", "PERCENT", "CLOCK")
_LITERALS = frozenset({"NAME", "NUMBER", "STRING", "DURATION", "PERCENT", "CLOCK", "DATETIME"})

States = dict[Any, dict[str, tuple[Any, Any]]]


def accepts_sequence(states: States, stack: list[Any], kinds: list[str]) -> bool:
    """Whether the parser, in ``stack``'s state, would shift tokens of ``kinds`` in turn.

    Runs the LALR automaton on state numbers alone: the states popped from
    ``stack`` are only counted (``stack`` is not changed) and the states pushed
    go on a small list of their own. The end of the file is never a candidate.
    """
    base = len(stack)  # stack[:base] is what is left of the real stack
    pushed: list[Any] = []
    for kind in kinds:
        while True:
            top = pushed[-1] if pushed else stack[base - 1]
            entry = states[top].get(kind)
            if entry is None:
                return False
            action, arg = entry
            if action is Shift:
                pushed.append(arg)
                break
            size = len(arg.expansion)
            from_pushed = min(size, len(pushed))
            del pushed[len(pushed) - from_pushed:]
            base -= size - from_pushed
            if base < 1:
                return False
            top = pushed[-1] if pushed else stack[base - 1]
            goto = states[top].get(arg.origin.name)
            if goto is None:
                return False
            pushed.append(goto[1])
    return True


class Recovery:
    """The ``on_error`` handler of one parse: records, then repairs or gives up."""

    def __init__(self, sink: DiagnosticSink, text: str, parser: Any,
                 describe: Any) -> None:
        self.sink = sink
        self.text = text
        self.parser = parser
        self.describe = describe  # UnexpectedInput -> (code, message, hint, span)
        self.settled: tuple[Any, ...] | None = None
        self.last_line = -1
        self.repairs = 0
        self.stopped_at: Span | None = None

    def __call__(self, err: UnexpectedInput) -> bool:
        self.repairs += 1
        if self.repairs > MAX_REPAIRS:
            return self._stop(err)
        if isinstance(err, UnexpectedCharacters):
            return self._bad_character(err)
        if not isinstance(err, UnexpectedToken):
            self._record(err)
            return False
        ip = err.interactive_parser
        if tuple(ip.parser_state.state_stack) != self.settled and not self._record(err):
            return False
        if err.token.type == "$END":
            return False
        self._repair(err)
        self.settled = tuple(ip.parser_state.state_stack)
        return True

    def _stop(self, err: UnexpectedInput) -> bool:
        self.stopped_at = Span.point(max(err.line, 1), max(err.column, 1))
        return False

    def _repair(self, err: UnexpectedToken) -> None:
        ip: Any = err.interactive_parser  # lark's interactive parser is untyped
        tok = err.token
        if tok.type in _SYNC and self._starts_line(tok) and self._unwind_to(ip, tok):
            ip.feed_token(tok)
            return
        state = ip.parser_state
        states: States = state.parse_conf.states
        stack = state.state_stack
        accepts = sorted(kind for kind in states[stack[-1]]
                         if kind.isupper() and kind != "$END"
                         and accepts_sequence(states, stack, [kind]))
        for kind in accepts:
            if accepts_sequence(states, stack, [kind, tok.type]):
                ip.feed_token(self._fake(tok, kind))
                ip.feed_token(tok)
                return
        if tok.type in _LITERALS:
            for kind in _SUBSTITUTES:
                if kind in accepts:
                    ip.feed_token(self._fake(tok, kind))
                    return

    def _fake(self, tok: Token, kind: str) -> Token:
        value = _FAKE_VALUES.get(kind)
        if value is None:
            pattern = self.parser.get_terminal(kind).pattern
            value = pattern.value if pattern.type == "str" else "_"
        return Token.new_borrow_pos(kind, value, tok)

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
        if err.line != self.last_line and not self._record(err):
            return False
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
        return True

    def _record(self, err: UnexpectedInput) -> bool:
        """Report ``err``; once enough are reported, stop at it instead (False)."""
        if len(self.sink.items) >= MAX_SYNTAX_ERRORS:
            return self._stop(err)
        code, message, hint, span = self.describe(err)
        self.sink.error(code, message, span, hint)
        return True
