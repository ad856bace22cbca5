"""What every command module shares: loading a journey or exiting with its diagnostics.

Command modules live beside their own package (``runtime.command``, ``render.command``...)
and import these from here, never from ``cli``, so the command line stays a thin group
with no import cycle back into it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from journeyflow.errors import Diagnostic, JourneyError, format_diagnostic
from journeyflow.journey import load
from journeyflow.journey import read_source as journey_source

__all__ = ["load_or_exit", "print_diagnostics", "read_source"]


def print_diagnostics(diags: tuple[Diagnostic, ...] | list[Diagnostic], source_for: dict[str, str],
                      stream: Any = None) -> None:
    out = stream or sys.stderr
    for diag in diags:
        click.echo(format_diagnostic(diag, source_for.get(diag.file)), file=out)
        click.echo("", file=out)


def read_source(path: Path) -> str:
    """A journey or scenario file's text (bounded, as the compiler reads it), or a usage
    error saying why not."""
    try:
        return journey_source(path)
    except JourneyError as err:
        raise click.UsageError(str(err)) from err


def load_or_exit(path: Path, *, cache: bool = False) -> Any:
    """Compile ``path`` or print its diagnostics and exit 1; with ``cache``, through the
    compiled-journey cache (:mod:`journeyflow.journey_cache`), unless it is turned off."""
    try:
        if cache:
            from journeyflow.cachedir import cache_folder
            from journeyflow.journey_cache import load_cached

            return load_cached(path, cache_folder())
        return load(path)
    except JourneyError as err:
        sources = {str(path): read_source(path)}
        sidecar = path.with_suffix(".scenario")
        if sidecar.is_file():
            sources[str(sidecar)] = read_source(sidecar)
        if err.diagnostics:
            print_diagnostics(err.diagnostics, sources)
        else:
            click.echo(f"error: {err}", err=True)
        sys.exit(1)
