"""The ``migrate`` block: how customers of an earlier version move to this one.

The compiler sees only this version, so it checks what it can: a target stage exists
here, nothing is mapped or rewritten twice, a rewritten attribute exists and its new
value has the attribute's type. An old stage this version lacks is what the block is
for and is not reported; whether it held anyone is known only when a store migrates.
"""

from __future__ import annotations

from journeyflow.compile.context import CompileContext
from journeyflow.compile.typecheck import Scope
from journeyflow.errors import did_you_mean
from journeyflow.model import journey as m
from journeyflow.syntax import ast as a

__all__ = ["lower_migration"]


def lower_migration(ctx: CompileContext, file: a.JourneyFile) -> m.Migration | None:
    decl = next((d for d in file.decls if isinstance(d, a.MigrateDecl)), None)
    if decl is None:
        return None
    moves: dict[str, m.StageMove] = {}
    rewrites: dict[str, m.Rewrite] = {}
    scope = _old_values(ctx)
    for item in decl.items:
        if isinstance(item, a.MigrateStage):
            move = _move(ctx, item, moves)
            if move is not None:
                moves[move.old] = move
        else:
            rewrite = _rewrite(ctx, item, rewrites, scope)
            if rewrite is not None:
                rewrites[rewrite.attribute] = rewrite
    return m.Migration(moves=tuple(moves.values()), rewrites=tuple(rewrites.values()),
                       location=ctx.location(decl.span))


def _old_values(ctx: CompileContext) -> Scope:
    """Names read in a rewrite hold the earlier version's values, whose types this file
    cannot know: every attribute reads as ``any`` and only the result is checked."""
    n = ctx.names
    return Scope(dict.fromkeys(n.attributes, "any"), frozenset(n.segments), n.events,
                 frozenset(n.bonuses), None, "no event is in scope in a migrate block")


def _move(ctx: CompileContext, item: a.MigrateStage,
          seen: dict[str, m.StageMove]) -> m.StageMove | None:
    old, new = item.old.name, item.new.name
    stages = ctx.names.stages
    if old in seen:
        ctx.sink.error("JF231", f"stage '{old}' is already mapped on line "
                       f"{seen[old].location.line}", item.old.span,
                       "a customer goes to one stage: keep one of the two lines")
        return None
    if new not in stages:
        ctx.sink.error("JF230", f"stage '{new}' is not a stage of this version", item.new.span,
                       did_you_mean(new, stages) or "map to a stage declared in this file")
        return None
    if old in stages and old != new:
        ctx.sink.warning("JF622", f"stage '{old}' still exists: its customers are moved to "
                         f"'{new}' all the same", item.old.span,
                         f"remove the line if customers in '{old}' should stay there")
    return m.StageMove(old=old, new=new, location=ctx.location(item.span))


def _rewrite(ctx: CompileContext, item: a.MigrateSet, seen: dict[str, m.Rewrite],
             scope: Scope) -> m.Rewrite | None:
    name = item.attribute.name
    kind = ctx.names.attributes.get(name)
    if kind is None:
        ctx.sink.error("JF204", f"unknown customer attribute '{name}'", item.attribute.span,
                       did_you_mean(name, ctx.names.attributes)
                       or "a migrate block sets attributes of this version: declare it in "
                       "customer { ... }")
        return None
    if name in seen:
        ctx.sink.error("JF231", f"'{name}' is already rewritten on line "
                       f"{seen[name].location.line}", item.attribute.span,
                       "each attribute gets one value: keep one of the two lines")
        return None
    value = ctx.source_expr(item.expr, scope, wanted=kind, what=f"the value of '{name}'")
    return m.Rewrite(attribute=name, value=value, location=ctx.location(item.span))
