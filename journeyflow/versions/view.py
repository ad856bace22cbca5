"""One version of a journey as the diff reads it: the checked model, plus where each part
of it is written.

The model keeps a location only for stages, rules, messages and goals; the syntax tree
of the same source has a span for everything else. Model and tree are walked side by
side (the compiler lowers declarations, rules and statements one for one, in file
order), so each model part gets its line and the text it was written as.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from journeyflow.journey import Journey
from journeyflow.model import journey as m
from journeyflow.syntax import ast as a
from journeyflow.syntax.format_expr import rule_head_text
from journeyflow.syntax.parser import parse_journey
from journeyflow.templating.files import TemplateFileError, read_template
from journeyflow.versions.changes import RuleRef

__all__ = ["ActionView", "RuleView", "StageView", "Version", "read_version", "rule_ref"]


@dataclass(frozen=True, slots=True)
class ActionView:
    """A statement of a rule: the checked action and the statement it was written as.

    ``blocks`` holds the nested statements: a delayed block's body, an ``if``'s then and
    else, or one block per split arm.
    """

    action: m.Action
    stmt: a.Stmt
    blocks: tuple[tuple[ActionView, ...], ...] = ()

    @property
    def line(self) -> int:
        return self.stmt.span.line


@dataclass(frozen=True, slots=True)
class RuleView:
    rule: m.Rule
    syntax: a.Rule
    stage: str | None  # None for `anywhere`
    index: int  # position among the rules of its stage (or of `anywhere`)
    actions: tuple[ActionView, ...]

    @property
    def line(self) -> int:
        return self.rule.location.line

    @property
    def head(self) -> str:
        """The rule without its block, as the journey's own layout writes it."""
        return rule_head_text(self.syntax)

    @property
    def trigger(self) -> str:
        """The trigger alone, without guard and target."""
        if self.rule.trigger.kind == "pass":
            return "->"
        return rule_head_text(replace(self.syntax, guard=None, target=None, block=None))


@dataclass(frozen=True, slots=True)
class StageView:
    stage: m.Stage
    rules: tuple[RuleView, ...]

    @property
    def line(self) -> int:
        return self.stage.location.line


@dataclass(frozen=True)
class Version:
    """A compiled journey, its syntax tree and the line of each declaration."""

    path: str
    journey: Journey
    tree: a.JourneyFile
    stages: dict[str, StageView]
    anywhere: tuple[RuleView, ...]
    lines: dict[tuple[str, ...], int] = field(default_factory=dict)

    @property
    def model(self) -> m.JourneyModel:
        return self.journey.model

    def line(self, *keys: tuple[str, ...]) -> int:
        """The line of the first of ``keys`` this version declares, else of the header."""
        for key in keys:
            if key in self.lines:
                return self.lines[key]
        return self.lines[("header",)]

    def template_text(self, message: m.Message) -> str | None:
        """The content of a message's template file, as it is now on disk."""
        if message.template is None:
            return None
        try:
            return read_template(self.journey.file, message.template)
        except TemplateFileError as exc:
            return f"(cannot read {message.template}: {exc})"


def rule_ref(stage: str | None, old: RuleView | None, new: RuleView | None) -> RuleRef:
    """A rule by its stage's old name, its trigger and its index in each version."""
    view = new or old
    assert view is not None
    return RuleRef(stage, view.trigger, old.index if old else None, new.index if new else None)


def read_version(path: str, journey: Journey) -> Version:
    tree = parse_journey(journey.source, journey.file)
    model = journey.model
    stage_decls: dict[str, a.StageDecl] = {}
    for decl in tree.decls:
        if isinstance(decl, a.StageDecl):
            stage_decls.setdefault(decl.name.name, decl)
    stages = {name: StageView(stage, _rules(stage.rules, stage_decls[name].rules, name))
              for name, stage in model.stages.items()}
    anywhere_syntax = tuple(r for d in tree.decls if isinstance(d, a.AnywhereDecl)
                            for r in d.rules)
    anywhere = _rules(model.anywhere, anywhere_syntax, None)
    return Version(path, journey, tree, stages, anywhere, dict(_declaration_lines(tree)))


def _rules(rules: tuple[m.Rule, ...], syntax: tuple[a.Rule, ...],
           stage: str | None) -> tuple[RuleView, ...]:
    return tuple(RuleView(rule, node, stage, i, _actions(rule.body, _stmts(node.block)))
                 for i, (rule, node) in enumerate(zip(rules, syntax, strict=True)))


def _stmts(block: a.Block | a.If | None) -> tuple[a.Stmt, ...]:
    if block is None:
        return ()
    return (block,) if isinstance(block, a.If) else block.stmts


def _actions(actions: tuple[m.Action, ...],
             stmts: tuple[a.Stmt, ...]) -> tuple[ActionView, ...]:
    return tuple(_action(action, stmt) for action, stmt in zip(actions, stmts, strict=True))


def _action(action: m.Action, stmt: a.Stmt) -> ActionView:
    if isinstance(action, m.Delayed) and isinstance(stmt, a.Delayed):
        return ActionView(action, stmt, (_actions(action.body, stmt.block.stmts),))
    if isinstance(action, m.IfAction) and isinstance(stmt, a.If):
        return ActionView(action, stmt, (_actions(action.then, stmt.then.stmts),
                                         _actions(action.orelse, _stmts(stmt.orelse))))
    if isinstance(action, m.Split) and isinstance(stmt, a.Split):
        return ActionView(action, stmt, tuple(_actions(arm.body, node.block.stmts)
                                              for arm, node in zip(action.arms, stmt.arms,
                                                                   strict=True)))
    return ActionView(action, stmt)


def _declaration_lines(tree: a.JourneyFile) -> Iterator[tuple[tuple[str, ...], int]]:
    """(key, line) of every declaration; of two equal keys the first one is in force, as
    in the compiler."""
    found: list[tuple[tuple[str, ...], int]] = [(("header",), tree.header.span.line)]
    header = tree.header
    if header.version is not None:
        found.append((("version",), header.version.span.line))
    if header.timezone is not None:
        found.append((("timezone",), header.timezone.span.line))
    limits = 0
    for decl in tree.decls:
        if isinstance(decl, a.LimitDecl):
            found.append((("limit", str(limits)), decl.span.line))
            limits += 1
        else:
            found += _decl_lines(decl)
    seen: set[tuple[str, ...]] = set()
    for key, line in found:
        if key not in seen:
            seen.add(key)
            yield key, line


_SINGLE_LINE: dict[type, str] = {a.QuietHours: "quiet_hours", a.SendWindow: "send_window",
                                  a.ValueDecl: "value", a.ReentryDecl: "reentry",
                                  a.MigrateDecl: "migrate"}


def _decl_lines(decl: a.Decl) -> list[tuple[tuple[str, ...], int]]:
    if isinstance(decl, a.CustomerDecl):
        return [(("customer",), decl.span.line)] + [
            (("attribute", f.name.name), f.span.line) for f in decl.fields]
    if isinstance(decl, a.EventDecl):
        return [(("event", decl.name.name), decl.span.line)] + [
            (("field", decl.name.name, f.name.name), f.span.line) for f in decl.fields]
    if isinstance(decl, a.MessageDecl):
        return [(("message", decl.name.name), decl.span.line)] + [
            (("part", decl.name.name, p.name.name), p.span.line) for p in decl.parts]
    if isinstance(decl, a.ChannelDecl | a.SegmentDecl | a.GoalDecl):
        kind = type(decl).__name__.removesuffix("Decl").lower()
        return [((kind, decl.name.name), decl.span.line)]
    if type(decl) in _SINGLE_LINE:
        return [((_SINGLE_LINE[type(decl)],), decl.span.line)]
    return []
