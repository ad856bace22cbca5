"""Where the behaviour model comes from: the journey's ``simulate`` block or a file.

A behaviour file holds a bare ``simulate { ... }`` block. It is parsed by putting a
journey header in front of it *on the same line*, so line numbers stay those of the
file; only the columns of line 1 move, and :func:`_unshift` moves them back. It is
then checked against the journey's declared names exactly like a block inside the
journey, so its diagnostics read like ``journeyflow check``'s.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from journeyflow.compile.behaviour import lower_behaviour
from journeyflow.compile.context import CompileContext
from journeyflow.errors import CompileError, Diagnostic, JourneyError, JourneySyntaxError, Span
from journeyflow.journey import Journey, check_text, read_source
from journeyflow.model.behaviour import Behaviour
from journeyflow.syntax import ast as a
from journeyflow.syntax.parser import parse_journey

__all__ = ["BehaviourSource", "LoweredBehaviour", "behaviour_source", "lower_for"]

PREFIX = 'journey "behaviour" '


@dataclass(frozen=True)
class BehaviourSource:
    """The text a behaviour model is written in.

    ``bare`` is true for a behaviour file (only a ``simulate`` block) and false
    for a journey file whose own block is used.
    """

    text: str
    file: str
    bare: bool


@dataclass(frozen=True)
class LoweredBehaviour:
    """A behaviour model checked against one journey, with its warnings."""

    behaviour: Behaviour
    warnings: tuple[Diagnostic, ...]
    source: BehaviourSource


def behaviour_source(journey: Journey, path: Path | None) -> BehaviourSource:
    """The behaviour to simulate ``journey`` with: ``path`` if given, else its own block.

    Raises
    ------
    JourneyError
        When there is neither, or the file cannot be read.
    """
    if path is None:
        if journey.behaviour is None:
            raise JourneyError(
                f"{journey.file} has no simulate {{ ... }} block: add one (see "
                "docs/simulate.md) or pass --behaviour FILE")
        return BehaviourSource(journey.source, journey.file, bare=False)
    return BehaviourSource(read_source(path), str(path), bare=True)


def _unshift(diag: Diagnostic, by: int) -> Diagnostic:
    """Move a diagnostic on line 1 back by the width of the header put in front."""
    span = diag.span
    if span.line != 1:
        return diag
    end_col = span.end_col - by if span.end_line == 1 else span.end_col
    moved = Span(1, max(1, span.col - by), span.end_line, max(2, end_col))
    return dataclasses.replace(diag, span=moved)


def _simulate_decl(source: BehaviourSource) -> a.SimulateDecl:
    text = PREFIX + source.text if source.bare else source.text
    shift = len(PREFIX) if source.bare else 0
    try:
        tree = parse_journey(text, source.file)
    except JourneySyntaxError as err:
        diags = tuple(_unshift(d, shift) for d in err.diagnostics)
        raise JourneySyntaxError(str(err), diags) from None
    blocks = [d for d in tree.decls if isinstance(d, a.SimulateDecl)]
    others = [d for d in tree.decls if not isinstance(d, a.SimulateDecl)]
    if source.bare and others:
        raise JourneyError(f"{source.file}: a behaviour file holds one simulate {{ ... }} "
                           "block and nothing else")
    if not blocks:
        raise JourneyError(f"{source.file} has no simulate {{ ... }} block")
    return blocks[0]


def lower_for(journey: Journey, source: BehaviourSource) -> LoweredBehaviour:
    """Check the behaviour in ``source`` against ``journey``'s names and lower it.

    Raises
    ------
    JourneyError
        A syntax or compile error, with diagnostics positioned in ``source.file``.
    """
    if not source.bare and source.file == journey.file and journey.behaviour is not None:
        return LoweredBehaviour(journey.behaviour, (), source)
    decl = _simulate_decl(source)
    names = check_text(journey.source, journey.file).context
    ctx = CompileContext(PREFIX + source.text if source.bare else source.text, source.file)
    ctx.names = names.names
    ctx.timezone = names.timezone
    behaviour = lower_behaviour(ctx, decl)
    shift = len(PREFIX) if source.bare else 0
    diags = tuple(_unshift(d, shift) for d in ctx.sink.sorted())
    errors = [d for d in diags if d.is_error]
    if errors:
        n = len(errors)
        raise CompileError(f"{n} error{'s' * (n != 1)} in the behaviour model {source.file} "
                           f"for {journey.file}", diags)
    return LoweredBehaviour(behaviour, tuple(d for d in diags if not d.is_error), source)
