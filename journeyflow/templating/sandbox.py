"""The template sandbox: Jinja2's immutable sandbox with every render bounded.

On top of what :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` refuses
(attributes starting with ``_``, internals of functions and frames, methods that
change lists and mappings, unsafe ``str.format``), this one:

- has no global functions (``range``, ``dict``, ``lipsum``, ``cycler``, ``joiner``,
  ``namespace``): templates see ``customer``, ``event`` and ``bonus`` only;
- checks every operator, call, filter, ``~`` join, block and printed value against
  :mod:`~journeyflow.templating.limits` before it builds anything large;
- counts every loop iteration, and stops a render that runs too long;
- raises at an unsafe attribute rather than printing nothing in its place, and
  refuses to print a function (its text would show a memory address).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.nodes import EvalContext
from jinja2.runtime import (
    ChainableUndefined,
    Context,
    LoopContext,
    Undefined,
    markup_join,
    str_join,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment

from journeyflow.templating.filters import bounded_filters
from journeyflow.templating.limits import check_size, measure, settle, spend, step
from journeyflow.templating.rules import check_binop, check_format, check_method

__all__ = ["TemplateSandbox"]


class _BoundedCodeGenerator(CodeGenerator):
    """Python code for a template that reports its loops and ``~`` joins to the sandbox."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        counted = nodes.Call(nodes.EnvironmentAttribute("loop_items", lineno=node.lineno),
                             [node.iter], [], None, None, lineno=node.lineno)
        super().visit_For(nodes.For(node.target, counted, node.body, node.else_, node.test,
                                    node.recursive, lineno=node.lineno), frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.join_values(context.eval_ctx, (")
        for piece in node.nodes:
            self.visit(piece, frame)
            self.write(", ")
        self.write("))")


def _finalize(value: Any) -> Any:
    """Every printed value (``{{ ... }}``) is measured before it becomes text."""
    step()
    settle(value)  # first: it bounds the walk below
    if isinstance(value, str):
        return value
    if _holds_function(value):
        # it would print as "<built-in method ... at 0x7f...>": never meant, and it leaks
        raise SecurityError("a function cannot be printed; call it, e.g. {{ text.upper() }}")
    return value


def _holds_function(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str | int | float | Undefined):
            continue
        if callable(item):
            return True
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            pending.extend(item)
    return False


def _join_pieces(pieces: Iterable[str]) -> str:
    """Joins the text of a block, a macro or a whole render, once its size is known."""
    pieces = list(pieces)
    size = sum(map(len, pieces))
    check_size(size, "the rendered block")
    spend(size)
    return "".join(pieces)


class TemplateSandbox(ImmutableSandboxedEnvironment):
    """The environment message templates compile and render in."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"//", "%", "+", "*", "-", "/", "**"})
    concat = staticmethod(_join_pieces)

    def __init__(self) -> None:
        super().__init__(undefined=ChainableUndefined, autoescape=False, finalize=_finalize)
        self.globals.clear()
        self.filters = bounded_filters(self.filters)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        step()
        check_binop(operator, left, right)
        return settle(super().call_binop(context, operator, left, right))

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        step()
        if isinstance(obj, LoopContext) and args:
            # loop(children) in a recursive loop: its items count as iterations too
            args = (self.loop_items(args[0]), *args[1:])
        args = check_method(obj, args, kwargs)
        return settle(super().call(context, obj, *args, **kwargs))

    def loop_items(self, items: Iterable[Any]) -> Iterator[Any]:
        """The items of a ``{% for %}``, each one counted as an iteration."""
        for item in items:
            step(iteration=True)
            yield item

    def join_values(self, eval_ctx: EvalContext, values: tuple[Any, ...]) -> str:
        """``a ~ b``: refused before joining when the result would be too large."""
        step()
        check_size(sum(measure(value) for value in values), "the joined text")
        joined = markup_join(values) if eval_ctx.autoescape else str_join(values)
        return settle(joined)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SecurityError(f"the attribute '{attribute}' of a {type(obj).__name__} value "
                            "is not available in templates")

    def wrap_str_format(self, value: Any) -> Any:
        """``text.format(...)`` and ``format_map``: sandboxed by Jinja2, and bounded here."""
        formatter = super().wrap_str_format(value)
        if formatter is None:
            return None
        text: str = value.__self__
        by_name = value.__name__ == "format_map"

        def bounded_format(*args: Any, **kwargs: Any) -> str:
            step()
            if by_name:
                mapping = args[0] if len(args) == 1 and isinstance(args[0], Mapping) else {}
                check_format(text, (), mapping)
            else:
                check_format(text, args, kwargs)
            return settle(formatter(*args, **kwargs))

        return bounded_format
