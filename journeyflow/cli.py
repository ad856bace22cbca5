"""The ``journeyflow`` command line: a thin click group over the library.

A :class:`~journeyflow.errors.JourneyError` is printed as diagnostics on
stderr with exit status 1 and no traceback; usage errors exit with 2.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from journeyflow.cliutil import load_or_exit, print_diagnostics, read_source
from journeyflow.errors import Diagnostic, JourneyError, diagnostics_to_json

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])


# Commands that live beside their own package, loaded when used: `run` need not pay
# for the simulator's numpy and dask, nor the service's web stack. The commands
# defined here import the compiler and networkx inside their bodies, for the same
# reason: `run` on a cached journey needs neither.
LAZY_COMMANDS = {
    "run": "journeyflow.runtime.command:run",
    "test": "journeyflow.runtime.command:test",
    "simulate": "journeyflow.simulate.command:simulate",
    "render": "journeyflow.render.command:render",
    "diff": "journeyflow.versions.command:diff",
    "migrate": "journeyflow.versions.migrate_command:migrate",
    "preview": "journeyflow.runtime.preview:preview",
    "serve": "journeyflow.live.serve:serve",
    "report": "journeyflow.live.reportcli:report",
    "work": "journeyflow.live.workcli:work",
    "enqueue": "journeyflow.live.workcli:enqueue",
}


class LazyGroup(click.Group):
    """A click group whose package commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = LAZY_COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, name = target.partition(":")
        command = getattr(importlib.import_module(module), name)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="journeyflow")
def main() -> None:
    """Customer-lifecycle journeys as code: check, format, run, test, simulate and render."""


@main.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json prints one list of diagnostics for editors and CI.")
def check(files: tuple[Path, ...], fmt: str) -> None:
    """Check journey files and report every error and warning in them."""
    from journeyflow.journey import loads

    all_diags: list[Diagnostic] = []
    failed = False
    for path in files:
        source = read_source(path)
        try:  # loads() also checks the .scenario beside the file: it is part of the journey
            diags = list(loads(source, str(path)).warnings)
        except JourneyError as err:
            diags = list(err.diagnostics)
        all_diags += diags
        errors = sum(d.is_error for d in diags)
        failed |= errors > 0
        if fmt == "text":
            sources = {str(path): source}
            sidecar = path.with_suffix(".scenario")
            if sidecar.is_file():
                sources[str(sidecar)] = read_source(sidecar)
            print_diagnostics(diags, sources, sys.stdout)
            warnings = len(diags) - errors
            status = "error" if errors else "ok"
            click.echo(f"{status}: {path}: {errors} error{'s' * (errors != 1)}, "
                       f"{warnings} warning{'s' * (warnings != 1)}")
    if fmt == "json":
        click.echo(diagnostics_to_json(all_diags))
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--check", "check_only", is_flag=True,
              help="Change nothing; exit 1 if a file is not in canonical layout.")
def fmt(files: tuple[Path, ...], check_only: bool) -> None:
    """Rewrite journey files in the canonical layout, keeping comments."""
    from journeyflow.syntax.format import format_source

    unformatted = []
    for path in files:
        source = read_source(path)
        try:
            formatted = format_source(source, str(path))
        except JourneyError as err:
            print_diagnostics(err.diagnostics, {str(path): source})
            sys.exit(1)
        if formatted != source:
            _warn_moved_splits(path, source, formatted)
            unformatted.append(path)
            if not check_only:
                path.write_text(formatted, "utf-8")
                click.echo(f"formatted {path}")
    if check_only and unformatted:
        for path in unformatted:
            click.echo(f"would reformat {path}", err=True)
        sys.exit(1)


def _split_positions(text: str, file: str) -> list[str]:
    """Where each unnamed ``split`` keyword is: its position seeds every customer's arm."""
    from dataclasses import fields, is_dataclass

    from journeyflow.syntax import ast
    from journeyflow.syntax.parser import parse_journey, parse_scenarios

    tree: Any = parse_scenarios(text, file) if file.endswith(".scenario") else parse_journey(
        text, file)
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, ast.Split) and node.name is None:  # a name keys a named one
            found.append(node.position)
        if isinstance(node, tuple | list):
            for item in node:
                walk(item)
        elif is_dataclass(node):
            for f in fields(node):
                if f.name != "span":
                    walk(getattr(node, f.name))

    walk(tree)
    return found


def _warn_moved_splits(path: Path, before: str, after: str) -> None:
    old, new = _split_positions(before, str(path)), _split_positions(after, str(path))
    for was, now in zip(old, new, strict=False):
        if was != now:
            click.echo(f"warning: {path}: formatting moves a split from {was} to {now}; "
                       "customers already in the journey may take another arm", err=True)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, default=True,
              help="Node-link JSON of the compiled graph (the default and only format).")
def graph(file: Path, as_json: bool) -> None:
    """Print the compiled journey graph as node-link JSON."""
    import networkx as nx

    journey = load_or_exit(file)
    data = nx.node_link_data(journey.graph, edges="edges")
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
