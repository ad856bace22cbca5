"""SVG, PNG and PDF: DOT text laid out by the Graphviz ``dot`` program.

The ``graphviz`` Python package only runs the program; the program itself comes
from the operating system, so its absence is reported as an installation step
rather than as a traceback.
"""

from __future__ import annotations

import shutil
from typing import Literal

import graphviz

from journeyflow.errors import JourneyError

__all__ = ["INSTALL_HINT", "DotOutput", "has_dot", "require_dot", "run_dot"]

DotOutput = Literal["svg", "png", "pdf", "json"]

INSTALL_HINT = ("this format needs the Graphviz 'dot' program, which was not found on PATH; "
                "install Graphviz (Debian/Ubuntu: apt-get install graphviz, macOS: "
                "brew install graphviz, Windows: winget install graphviz) or choose "
                "--format dot or --format mermaid, which need nothing else")


def has_dot() -> bool:
    """Whether the ``dot`` program is on ``PATH``."""
    return shutil.which("dot") is not None


def require_dot() -> None:
    """Raise a :class:`JourneyError` with install instructions when ``dot`` is missing."""
    if not has_dot():
        raise JourneyError(INSTALL_HINT)


def run_dot(dot_text: str, fmt: DotOutput) -> bytes:
    """Run ``dot`` on ``dot_text`` and return the picture's bytes (``json``: the layout).

    Raises
    ------
    JourneyError
        When ``dot`` is missing or rejects the input.
    """
    require_dot()
    # Cairo output keeps UTF-8 stage names and anti-aliases the PNG text.
    renderer = "cairo" if fmt in ("png", "pdf") else None
    try:
        data: bytes = graphviz.Source(dot_text).pipe(format=fmt, engine="dot", renderer=renderer,
                                                     quiet=True)
    except graphviz.ExecutableNotFound as exc:
        raise JourneyError(INSTALL_HINT) from exc
    except graphviz.CalledProcessError as exc:
        detail = exc.stderr.decode("utf-8", "replace").strip() if exc.stderr else str(exc)
        raise JourneyError(f"Graphviz 'dot' failed: {detail}") from exc
    return data
