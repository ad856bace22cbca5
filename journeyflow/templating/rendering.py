"""Parse, compile and render message templates in the bounded sandbox.

The compile checks and the channel executor share these functions, so a template
is read exactly the same way when the journey is checked and when a message is
sent.

>>> render(compile_template("Hi {{ customer.name }}!"), {"customer": {"name": "Ana"}})
'Hi Ana!'
>>> render(compile_template("{{ 1 / 0 }}"), {})
Traceback (most recent call last):
    ...
journeyflow.templating.rendering.RenderError: division by zero (line 1)
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import Any

from jinja2 import Template, TemplateSyntaxError, nodes

from journeyflow.templating.limits import BOUNDS, RenderBounds, RenderLimitExceeded, budget
from journeyflow.templating.sandbox import TemplateSandbox

__all__ = ["BadTemplate", "RenderError", "compile_template", "parse_template", "render",
           "sandbox"]

_TEMPLATE_FILE = "<template>"  # the file name Jinja2 gives a template made from a string


class BadTemplate(Exception):
    """A template that does not parse or compile, with the template line when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class RenderError(Exception):
    """A render that failed; ``reason`` says why, ``line`` where in the template."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason + (f" (line {line})" if line else ""))
        self.reason = reason
        self.line = line


@cache
def sandbox() -> TemplateSandbox:
    """The one environment every template compiles and renders in."""
    return TemplateSandbox()


def parse_template(text: str) -> nodes.Template:
    """The syntax tree of ``text``, or :class:`BadTemplate`."""
    with _compiling():
        return sandbox().parse(text)


def compile_template(text: str) -> Template:
    """``text`` compiled in the sandbox, or :class:`BadTemplate`."""
    with _compiling():
        return sandbox().from_string(text)


@contextmanager
def _compiling() -> Iterator[None]:
    """Turns what Jinja2 raises about a template's text into :class:`BadTemplate`."""
    try:
        yield
    except TemplateSyntaxError as err:
        raise BadTemplate(err.message or "syntax error", err.lineno) from None
    except RecursionError:
        raise BadTemplate("the template is nested too deeply") from None
    except (SyntaxError, MemoryError):
        # The sandbox turns each operator into a checked call, so a chain of a few hundred
        # (1 + 1 + ...) becomes code nested deeper than Python compiles.
        raise BadTemplate("an expression chains too many operators or filters; split it over "
                          "several {% set %} tags") from None
    except ValueError as err:  # e.g. a number with thousands of digits
        raise BadTemplate(str(err)) from None


def render(template: Template, context: Mapping[str, Any],
           bounds: RenderBounds = BOUNDS) -> str:
    """Render ``template`` within ``bounds``; any failure becomes a :class:`RenderError`."""
    pieces: list[str] = []
    size = 0
    with budget(bounds):
        chunks = iter(template.generate(context))
        try:
            for chunk in chunks:
                size += len(chunk)
                if size > bounds.output:
                    raise RenderLimitExceeded(
                        f"the rendered text is longer than {bounds.output:,} characters")
                pieces.append(chunk)
        except Exception as err:  # a template is untrusted: any failure is the template's
            raise RenderError(_reason(err), _template_line(err)) from err
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
    return "".join(pieces)


def _reason(err: BaseException) -> str:
    if isinstance(err, MemoryError):
        return "out of memory"
    if isinstance(err, OverflowError):
        return "a number is too large"
    text = str(err).strip()
    return text if text else type(err).__name__


def _template_line(err: BaseException) -> int | None:
    """The template line of the innermost template frame of the failure, if any."""
    line = None
    for frame, number in traceback.walk_tb(err.__traceback__):
        if frame.f_code.co_filename == _TEMPLATE_FILE:
            line = number
    return line
