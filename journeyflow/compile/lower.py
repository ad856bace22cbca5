"""Compile a syntax tree into the checked model and its graph, in one pass over every check."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from journeyflow.compile.behaviour import lower_behaviour
from journeyflow.compile.campaign import run_campaign_checks
from journeyflow.compile.checks import run_graph_checks
from journeyflow.compile.context import CompileContext
from journeyflow.compile.declarations import collect_names, lower_declarations
from journeyflow.compile.delivery_check import check_send_times
from journeyflow.compile.graph import build_graph
from journeyflow.compile.migration import lower_migration
from journeyflow.compile.rules import lower_anywhere, lower_stages
from journeyflow.compile.scenarios import lower_scenarios
from journeyflow.errors import Diagnostic
from journeyflow.model.behaviour import Behaviour
from journeyflow.model.journey import JourneyModel
from journeyflow.model.scenario import Scenario
from journeyflow.syntax import ast as a

__all__ = ["CompileResult", "compile_tree", "compile_scenarios"]


@dataclass(frozen=True)
class CompileResult:
    model: JourneyModel | None
    graph: nx.MultiDiGraph[str] | None
    scenarios: tuple[Scenario, ...]
    behaviour: Behaviour | None
    diagnostics: tuple[Diagnostic, ...]
    context: CompileContext

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def compile_tree(tree: a.JourneyFile, source: str, file: str) -> CompileResult:
    """Check ``tree`` and lower it; every diagnostic of the file is returned, sorted."""
    ctx = CompileContext(source, file)
    collect_names(ctx, tree)
    decls = lower_declarations(ctx, tree)
    check_send_times(ctx, tree, decls)
    ctx.timezone = decls.timezone
    stages = lower_stages(ctx, tree)
    anywhere = lower_anywhere(ctx, tree)
    migration = lower_migration(ctx, tree)
    scenario_decls = tuple(d for d in tree.decls if isinstance(d, a.ScenarioDecl))
    scenarios = lower_scenarios(ctx, scenario_decls)
    simulate = next((d for d in tree.decls if isinstance(d, a.SimulateDecl)), None)
    behaviour = lower_behaviour(ctx, simulate) if simulate is not None else None
    model = graph = None
    if not ctx.sink.has_errors:
        model = JourneyModel(
            name=tree.header.name, version=decls.version,
            timezone=decls.timezone, timezone_attribute=decls.timezone_attribute, file=file,
            attributes=decls.attributes,
            events=decls.events, messages=decls.messages, channels=frozenset(ctx.names.channels),
            limits=tuple(decls.limits), quiet_hours=decls.quiet_hours,
            send_window=decls.send_window, segments=decls.segments,
            consents=tuple(decls.consents), holdout=decls.holdout, goals=decls.goals,
            value=decls.value, reentry=decls.reentry, anywhere=anywhere, stages=stages,
            migration=migration)
        graph = build_graph(model)
        run_graph_checks(ctx, tree, model, graph)
        run_campaign_checks(ctx, tree, model)
    return CompileResult(model, graph, scenarios, behaviour, tuple(ctx.sink.sorted()), ctx)


def compile_scenarios(tree: a.ScenarioFile, context: CompileContext, source: str,
                      file: str) -> tuple[tuple[Scenario, ...], tuple[Diagnostic, ...]]:
    """Check a ``.scenario`` file against the journey already compiled in ``context``."""
    ctx = CompileContext(source, file)
    ctx.names = context.names
    ctx.timezone = context.timezone
    scenarios = lower_scenarios(ctx, tree.scenarios)
    return scenarios, tuple(ctx.sink.sorted())
