"""The documented size and nesting limits of a journey file, checked around parsing.

Every later phase (type checking, code generation, Python's own compiler,
Jinja2) walks expressions and blocks recursively, so a file nested deeper than
they can follow would crash them. The limits below sit well inside what every
phase handles, and a file over one of them gets a diagnostic instead:

- before parsing, :func:`size_diagnostics` refuses a file or a string literal
  too large to lex in reasonable memory (Python's regular expressions need about
  130 bytes per character of one string literal);
- right after parsing, :func:`nesting_diagnostics` walks the syntax tree with an
  explicit stack (never recursively, so it copes with any depth) and reports the
  first place where an expression, a block or a message template goes too deep.
"""

from __future__ import annotations

from journeyflow.errors import Diagnostic, Span

__all__ = [
    "MAX_BLOCK_DEPTH",
    "MAX_EXPRESSION_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_STRING_CHARS",
    "MAX_SYNTAX_ERRORS",
    "MAX_TEMPLATE_DEPTH",
    "MAX_TEMPLATE_TAG_CHARS",
    "size_diagnostics",
]

# Generated step code spends two levels of Python parentheses on an arithmetic
# operator and Python allows 200, so 64 keeps clear of it with room for the
# code around an expression.
MAX_EXPRESSION_DEPTH = 64
# Each block is one indentation level of generated code (Python allows 100).
MAX_BLOCK_DEPTH = 32
# Jinja2 parses a bracket with about a dozen nested calls.
MAX_TEMPLATE_DEPTH = 32
MAX_TEMPLATE_TAG_CHARS = 1_000
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_STRING_CHARS = 10_000
MAX_SYNTAX_ERRORS = 50


def size_diagnostics(text: str, file: str) -> list[Diagnostic]:
    """A diagnostic for a file or a string literal over the size limits, else nothing.

    Runs before the lexer, in time linear in the size of the text.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        return [Diagnostic(
            "JF150", f"the file is too large: {size:,} bytes, the limit is "
            f"{MAX_FILE_BYTES:,}", Span.point(1, 1), "error",
            "split the journey into several files", file)]
    diags: list[Diagnostic] = []
    for number, line in enumerate(text.split("\n"), 1):
        if len(line) > MAX_STRING_CHARS:
            col = _long_string_column(line)
            if col is not None:
                diags.append(Diagnostic(
                    "JF150", f"a string longer than {MAX_STRING_CHARS:,} characters",
                    Span.point(number, col), "error",
                    "keep a long message text in a file: template \"path/to/file.html\"", file))
    return diags


def _long_string_column(line: str) -> int | None:
    """The 1-based column of the first string literal of ``line`` over the limit.

    Scans as the lexer does (double quotes, backslash escapes, ``#`` comments
    outside strings) but in one pass, without a regular expression.
    """
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if ch == "#":
            return None
        if ch != '"':
            i += 1
            continue
        begin = i
        i += 1
        while i < n and line[i] != '"':
            i += 2 if line[i] == "\\" else 1
        if i - begin - 1 > MAX_STRING_CHARS:
            return begin + 1
        i += 1
    return None
