"""State shared by the compile passes: the file, its diagnostics, its names."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from journeyflow.compile.typecheck import Scope, TypeChecker
from journeyflow.errors import DiagnosticSink, Span, did_you_mean
from journeyflow.model.journey import Location, SourceExpr
from journeyflow.syntax import ast as a

__all__ = ["CompileContext", "Names"]


@dataclass
class Names:
    """Every name the file declares, filled by the declaration pass."""

    attributes: dict[str, str] = field(default_factory=dict)  # name -> value type
    events: dict[str, dict[str, str]] = field(default_factory=dict)  # event -> field -> type
    required_fields: dict[str, set[str]] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)  # message -> channel
    channels: set[str] = field(default_factory=set)
    segments: set[str] = field(default_factory=set)
    stages: dict[str, a.StageDecl] = field(default_factory=dict)
    bonuses: set[str] = field(default_factory=set)
    goals: set[str] = field(default_factory=set)
    # split key (name, or "LINE:COL" when unnamed) -> each arm's label or 1-based position
    splits: dict[str, tuple[str, ...]] = field(default_factory=dict)


class CompileContext:
    """One compile of one file: source text, diagnostics and declared names."""

    def __init__(self, source: str, file: str) -> None:
        self.source = source
        self.file = file
        self.timezone = "UTC"
        self.sink = DiagnosticSink(file)
        self.names = Names()
        self.split_names: dict[str, a.StringLit] = {}  # split name -> where it was first used
        self.types = TypeChecker(self.sink)
        self._line_starts = [0]
        for i, ch in enumerate(source):
            if ch == "\n":
                self._line_starts.append(i + 1)

    def known_event(self, ident: a.Ident) -> bool:
        """Whether ``ident`` names an event; reports JF202 when it does not."""
        return self._known(ident, self.names.events, "JF202", "event")

    def known_stage(self, ident: a.Ident) -> bool:
        """Whether ``ident`` names a stage; reports JF201 when it does not."""
        return self._known(ident, self.names.stages, "JF201", "stage")

    def _known(self, ident: a.Ident, names: Iterable[str], code: str, what: str) -> bool:
        if ident.name in names:
            return True
        self.sink.error(code, f"unknown {what} '{ident.name}'", ident.span,
                        did_you_mean(ident.name, names,
                                     f"declare it: {what} {ident.name} {{ ... }}"))
        return False

    def location(self, span: Span) -> Location:
        base = self.file.replace("\\", "/").rsplit("/", 1)[-1]
        return Location(file=base, line=span.line, col=span.col)

    def text(self, span: Span) -> str:
        start = self._offset(span.line, span.col)
        end = self._offset(span.end_line, span.end_col)
        return " ".join(self.source[start:end].split())

    def _offset(self, line: int, col: int) -> int:
        if line - 1 >= len(self._line_starts):
            return len(self.source)
        return self._line_starts[line - 1] + col - 1

    def scope(self, event: str | None = None,
              why: str = "no event is in scope here") -> Scope:
        n = self.names
        return Scope(n.attributes, frozenset(n.segments), n.events, frozenset(n.bonuses),
                     event, why)

    def source_expr(self, expr: a.Expr, scope: Scope, *, condition: bool = False,
                    wanted: str | None = None, what: str = "a condition") -> SourceExpr:
        """Type-check ``expr`` and keep it with its source text."""
        if condition:
            self.types.check_condition(expr, scope, what)
            kind = "bool"
        elif wanted is not None:
            self.types.expect(expr, scope, wanted, what)
            kind = wanted
        else:
            kind = self.types.infer(expr, scope)
        return SourceExpr(expr=expr, source=self.text(expr.span), type=kind)
