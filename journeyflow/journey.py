"""The compiled journey, and :func:`load` / :func:`loads` to get one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from journeyflow.errors import CompileError, Diagnostic, JourneyError

if TYPE_CHECKING:  # a journey loaded from the cache needs neither networkx nor the compiler
    import networkx as nx

    from journeyflow.compile.lower import CompileResult
    from journeyflow.model.behaviour import Behaviour
    from journeyflow.model.journey import JourneyModel
    from journeyflow.model.scenario import Scenario

__all__ = ["Journey", "check_text", "load", "loads", "read_source", "source_version",
           "version_of"]


@dataclass(frozen=True, eq=False)
class Journey:
    """A journey that compiled without errors.

    Attributes
    ----------
    model : the validated :class:`~journeyflow.model.journey.JourneyModel`.
    graph : a ``networkx.MultiDiGraph``, one node per stage, one edge per transition.
    warnings : diagnostics of severity ``warning`` (the journey still runs).
    scenarios : the journey's own scenarios, from the file and a ``.scenario`` beside it.
    behaviour : the ``simulate`` block, if the file has one.
    """

    model: JourneyModel
    graph: nx.MultiDiGraph[str]
    source: str
    file: str
    warnings: tuple[Diagnostic, ...]
    scenarios: tuple[Scenario, ...]
    behaviour: Behaviour | None

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def stages(self) -> list[str]:
        return list(self.model.stages)


def check_text(text: str, file: str = "<journey>") -> CompileResult:
    """Parse and check ``text``; syntax errors are raised, everything else returned."""
    from journeyflow.compile.lower import compile_tree
    from journeyflow.syntax.parser import parse_journey

    tree = parse_journey(text, file)
    return compile_tree(tree, text, file)


def loads(text: str, file: str = "<journey>") -> Journey:
    """Compile journey source text.

    Raises
    ------
    JourneyError
        :class:`~journeyflow.errors.JourneySyntaxError` or
        :class:`~journeyflow.errors.CompileError`, carrying every diagnostic.
    """
    result = check_text(text, file)
    errors = [d for d in result.diagnostics if d.is_error]
    if errors or result.model is None or result.graph is None:
        n = len(errors)
        raise CompileError(f"{n} error{'s' if n != 1 else ''} in {file}", result.diagnostics)
    scenarios = result.scenarios
    warnings = tuple(d for d in result.diagnostics if not d.is_error)
    sidecar = Path(file).with_suffix(".scenario") if not file.startswith("<") else None
    if sidecar is not None and sidecar.is_file():
        from journeyflow.compile.lower import compile_scenarios
        from journeyflow.syntax.parser import parse_scenarios

        side_text = sidecar.read_text("utf-8")
        extra, diags = compile_scenarios(parse_scenarios(side_text, str(sidecar)),
                                         result.context, side_text, str(sidecar))
        if any(d.is_error for d in diags):
            raise CompileError(f"errors in {sidecar}", warnings + diags)
        scenarios += extra
    return Journey(result.model, result.graph, text, file, warnings, scenarios,
                   result.behaviour)


def load(path: str | Path) -> Journey:
    """Compile the ``.journey`` file at ``path``.

    Examples
    --------
    >>> import journeyflow
    >>> journey = journeyflow.load("examples/lifecycle.journey")  # doctest: +SKIP
    >>> journey.graph.nodes["awareness"]["start"]  # doctest: +SKIP
    True
    """
    path = Path(path)
    return loads(read_source(path), str(path))


def read_source(path: Path) -> str:
    """A journey-language file's text, or a :class:`JourneyError` saying why not."""
    from journeyflow.syntax.limits import MAX_FILE_BYTES

    try:
        with path.open("rb") as handle:
            # Never more than the limit plus one byte: a huge file is refused unread.
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise JourneyError(f"cannot read {path}: {exc.strerror}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise JourneyError(f"{path} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, the "
                           "most a journey file may be (JF150): split it into several journeys")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JourneyError(f"{path} is not UTF-8 text") from exc


def version_of(journey: Journey) -> str:
    """The version a store records for the journey's customers (:func:`source_version`)."""
    return source_version(journey.source, journey.model.version)


def source_version(source: str, declared: int | str | None) -> str:
    """``version N`` when the file declares one, else a hash of its text.

    >>> source_version('journey "j"', 3)
    '3'
    >>> source_version('journey "j"', None)[:7]
    'sha256:'
    """
    if declared is not None:
        return str(declared)
    import hashlib

    return "sha256:" + hashlib.sha256(source.encode()).hexdigest()[:16]
