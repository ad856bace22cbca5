"""Quiet hours and a send window that would never let a send out are compile errors.

Without this check such a journey would run and every marketing send would wait
forever. The test is made on the wall clock, the same in every time zone, with
the week the runtime uses (:class:`~journeyflow.compile.send_week.SendWeek`):
whatever is open there opens in any zone, some week or other.
"""

from __future__ import annotations

from typing import TypeVar

from journeyflow.compile.context import CompileContext
from journeyflow.compile.declarations import Declarations
from journeyflow.compile.send_week import SendWeek
from journeyflow.errors import Span
from journeyflow.syntax import ast as a

__all__ = ["check_send_times"]

CODE = "JF310"

D = TypeVar("D", a.QuietHours, a.SendWindow)


def check_send_times(ctx: CompileContext, tree: a.JourneyFile, decls: Declarations) -> None:
    """Report quiet hours that are empty and a send window that never opens."""
    quiet = _checkable(ctx, tree, a.QuietHours)
    window = _checkable(ctx, tree, a.SendWindow)
    if quiet is not None and decls.quiet_hours is not None \
            and decls.quiet_hours.start == decls.quiet_hours.end:
        ctx.sink.error(CODE, f"quiet hours from {quiet.start.text} to {quiet.end.text} are "
                       "empty: they never hold a send back", _times(quiet),
                       "give the time they end, e.g. quiet hours 22:00 to 08:00, or remove "
                       "the line")
        quiet = None
    if window is None or decls.send_window is None:
        return
    if decls.send_window.start == decls.send_window.end:
        ctx.sink.error(CODE, f"the send window never opens: from {window.start.text} to "
                       f"{window.end.text} is empty", _times(window),
                       f"give the time it closes, e.g. send window {_days(ctx, window)} "
                       "09:00 to 18:00 (a window past midnight: 22:00 to 02:00)")
    elif quiet is not None and SendWeek(decls.quiet_hours, decls.send_window).empty:
        ctx.sink.error(CODE, f"the send window never opens: it lies wholly inside the quiet "
                       f"hours on line {quiet.span.line}", _times(window),
                       f"quiet hours {quiet.start.text} to {quiet.end.text} (line "
                       f"{quiet.span.line}) hold back every send this window lets through: "
                       "move the window out of them, or shorten them")


def _checkable(ctx: CompileContext, tree: a.JourneyFile, kind: type[D]) -> D | None:
    """The declaration of ``kind`` in force (the last one), unless it is already wrong."""
    found = [d for d in tree.decls if isinstance(d, kind)]
    if not found:
        return None
    decl = found[-1]
    values = decl.start.span.to(decl.end.span)
    if isinstance(decl, a.SendWindow):
        values = decl.days[0].span.to(decl.end.span)
    if any(d.is_error and _within(d.span, values) for d in ctx.sink.items):
        return None  # a bad time or day is reported where it is; its value means nothing
    return decl


def _within(inner: Span, outer: Span) -> bool:
    return (outer.line, outer.col) <= (inner.line, inner.col) \
        and (inner.end_line, inner.end_col) <= (outer.end_line, outer.end_col)


def _times(decl: a.QuietHours | a.SendWindow) -> Span:
    return decl.start.span.to(decl.end.span)


def _days(ctx: CompileContext, window: a.SendWindow) -> str:
    return ctx.text(window.days[0].span.to(window.days[-1].span)).replace(" ", "")
