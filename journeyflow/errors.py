"""Diagnostics and the error tree shared by every phase.

A diagnostic stores only a position; :func:`format_diagnostic` cuts the source
snippet when it is printed, so errors stay cheap to create and to compare.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "CompileError",
    "Diagnostic",
    "JourneyError",
    "JourneySyntaxError",
    "RuntimeJourneyError",
    "Severity",
    "Span",
    "did_you_mean",
    "diagnostics_to_json",
    "format_diagnostic",
    "format_diagnostics",
]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Span:
    """A region of source text; lines and columns are 1-based, ``end_col`` exclusive."""

    line: int
    col: int
    end_line: int
    end_col: int

    @staticmethod
    def point(line: int, col: int, width: int = 1) -> Span:
        return Span(line, col, line, col + max(width, 1))

    def to(self, other: Span) -> Span:
        """The span from the start of ``self`` to the end of ``other``."""
        return Span(self.line, self.col, other.end_line, other.end_col)


NOWHERE = Span(1, 1, 1, 2)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding about a journey file."""

    code: str
    message: str
    span: Span
    severity: Severity = "error"
    hint: str | None = None
    file: str = "<journey>"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.span.line, self.span.col, self.code)

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.span.line,
            "col": self.span.col,
            "end_line": self.span.end_line,
            "end_col": self.span.end_col,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }


class JourneyError(Exception):
    """Root of every error journeyflow raises on purpose."""

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)


class JourneySyntaxError(JourneyError):
    """The file does not follow the grammar."""


class CompileError(JourneyError):
    """The file parses but does not describe a valid journey."""


class RuntimeJourneyError(JourneyError):
    """A journey failed for one customer while running."""


def did_you_mean(name: str, candidates: Iterable[str],
                 otherwise: str | None = None) -> str | None:
    """A hint naming the closest candidate, else ``otherwise`` (``None`` by default).

    Examples
    --------
    >>> did_you_mean("welcom", ["welcome", "thank_you"])
    "did you mean 'welcome'?"
    >>> print(did_you_mean("zzz", ["welcome"]))
    None
    >>> did_you_mean("zzz", ["welcome"], "declare it: message zzz via email")
    'declare it: message zzz via email'
    """
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else otherwise


def format_diagnostic(diag: Diagnostic, source: str | None) -> str:
    """Render one diagnostic with the source line and a caret under the spot.

    Examples
    --------
    >>> d = Diagnostic("JF201", "unknown stage 'welcom'", Span(2, 6, 2, 12),
    ...                hint="did you mean 'welcome'?", file="a.journey")
    >>> print(format_diagnostic(d, "stage a start {\\n  -> welcom\\n}"))
    a.journey:2:6: error[JF201]: unknown stage 'welcom'
        2 |   -> welcom
          |      ^^^^^^
    hint: did you mean 'welcome'?
    """
    where = f"{diag.file}:{diag.span.line}:{diag.span.col}"
    lines = [f"{where}: {diag.severity}[{diag.code}]: {diag.message}"]
    if source is not None:
        # Only "\n" ends a line, as for the lexer: str.splitlines() also splits at
        # form feeds and U+2028, and would then show the wrong line.
        src_lines = source.split("\n")
        if 1 <= diag.span.line <= len(src_lines):
            text = src_lines[diag.span.line - 1].rstrip("\r").expandtabs(1)
            number = str(diag.span.line)
            gutter = " " * (5 - len(number)) if len(number) < 5 else ""
            lines.append(f"{gutter}{number} | {text}")
            end = diag.span.end_col if diag.span.end_line == diag.span.line else len(text) + 1
            width = max(1, min(end, len(text) + 1) - diag.span.col)
            pad = " " * (len(gutter) + len(number))
            lines.append(f"{pad} | {' ' * (diag.span.col - 1)}{'^' * width}")
    if diag.hint:
        lines.append(f"hint: {diag.hint}")
    return "\n".join(lines)


def format_diagnostics(diags: Iterable[Diagnostic], source: str | None) -> str:
    """Every diagnostic as ``journeyflow check`` prints it, a blank line between two.

    Examples
    --------
    >>> src = "stage a start {\\n  -> welcom\\n}"
    >>> first = Diagnostic("JF201", "unknown stage 'welcom'", Span(2, 6, 2, 12), file="a.journey")
    >>> second = Diagnostic("JF605", "message 'm' is never sent", Span(1, 7, 1, 8),
    ...                     severity="warning", file="a.journey")
    >>> print(format_diagnostics([first, second], src))
    a.journey:2:6: error[JF201]: unknown stage 'welcom'
        2 |   -> welcom
          |      ^^^^^^
    <BLANKLINE>
    a.journey:1:7: warning[JF605]: message 'm' is never sent
        1 | stage a start {
          |       ^
    """
    return "\n\n".join(format_diagnostic(d, source) for d in diags)


def diagnostics_to_json(diags: Iterable[Diagnostic]) -> str:
    return json.dumps([d.as_dict() for d in diags], ensure_ascii=False, indent=2)


@dataclass(slots=True)
class DiagnosticSink:
    """Collects diagnostics during a pass, so one pass reports every mistake."""

    file: str
    items: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.items.append(Diagnostic(code, message, span, "error", hint, self.file))

    def warning(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.items.append(Diagnostic(code, message, span, "warning", hint, self.file))

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=Diagnostic.sort_key)
