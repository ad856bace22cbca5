"""A message's subject and body, compiled once and rendered per delivery.

A template file is read through :func:`~journeyflow.templating.files.read_template`
(the same confined read the compile check made). Anything that goes wrong, from
a file that changed since the check to a division by zero in one customer's
render, becomes a :class:`RenderFailure` naming the message's declaration and
the reason, never an exception escaping into the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Template

from journeyflow.model import journey as m
from journeyflow.templating.files import TemplateFileError, read_template
from journeyflow.templating.rendering import BadTemplate, RenderError, compile_template, render

__all__ = ["MessageTexts", "RenderFailure"]

Text = Template | str  # a plain string when the text has no template syntax at all


class RenderFailure(Exception):
    """A message that cannot be rendered: ``source`` is its declaration's FILE:LINE."""

    def __init__(self, reason: str, source: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.reason = reason
        self.source = source


class MessageTexts:
    """The compiled ``subject`` and ``body`` (or ``template``) of one message."""

    def __init__(self, model: m.JourneyModel, message: m.Message) -> None:
        self.source = f"{message.location.file}:{message.location.line}"
        self._problem: str | None = None
        self._subject = self._compile("subject", message.subject)
        self._body = self._compile("body", message.body)
        self._template: Text | None = None
        self._template_part = f"template {message.template}"
        if message.template is not None:
            self._template = self._compile(self._template_part,
                                           self._read(model.file, message.template))

    def _read(self, journey_file: str, template: str) -> str | None:
        try:
            return read_template(journey_file, template)
        except TemplateFileError as err:
            self._problem = self._problem or err.detail
            return None

    def _compile(self, part: str, text: str | None) -> Text | None:
        if text is None or "{" not in text:
            return text
        try:
            return compile_template(text)
        except BadTemplate as err:
            line = f" (line {err.line})" if err.line else ""
            self._problem = self._problem or f"{part}: {err.message}{line}"
            return None

    def render(self, context: Mapping[str, Any]) -> tuple[str, str]:
        """The subject and body for one customer, or :class:`RenderFailure`."""
        if self._problem is not None:
            raise RenderFailure(self._problem, self.source)
        # A subject is one header line: a line break from the data must not start another.
        subject = " ".join(self._render("subject", self._subject, context).splitlines())
        body = self._render(self._template_part, self._template, context)
        return subject, body or self._render("body", self._body, context)

    def _render(self, part: str, text: Text | None, context: Mapping[str, Any]) -> str:
        if text is None:
            return ""
        if isinstance(text, str):
            return text
        try:
            return render(text, context)
        except RenderError as err:
            raise RenderFailure(f"{part}: {err}", self.source) from err
