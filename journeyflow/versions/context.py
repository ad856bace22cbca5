"""What every comparison needs: both versions, the stages that look renamed, and who
a journey-wide declaration concerns."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

from journeyflow.model import journey as m
from journeyflow.versions.changes import Side
from journeyflow.versions.view import ActionView, RuleView, Version

__all__ = ["Pair", "Use", "sends", "triggered_by", "walk_actions"]

Use = tuple[str, str]  # what a rule does with a name: ("sends", message) or ("on", event)


@dataclass(frozen=True)
class Pair:
    """The old and the new version, and ``renamed``: old stage name -> new name for the
    stages that look renamed (their references are then compared through it)."""

    old: Version
    new: Version
    renamed: dict[str, str] = field(default_factory=dict)

    def sides(self, old_line: int, old_text: str | None, new_line: int,
              new_text: str | None) -> tuple[Side, Side]:
        return (Side(self.old.path, old_line, old_text), Side(self.new.path, new_line, new_text))

    def new_name(self, old_stage: str) -> str:
        return self.renamed.get(old_stage, old_stage)

    def users(self, use: Use) -> tuple[tuple[str, ...], bool]:
        """The old version's stages with a rule that has ``use`` (sends a message, or is
        triggered by an event), and whether an ``anywhere`` rule of either version has it
        (then every customer is concerned)."""
        stages, anywhere = self._uses.get(use, ([], False))
        return (() if anywhere else tuple(stages)), anywhere

    @cached_property
    def _uses(self) -> dict[Use, tuple[list[str], bool]]:
        index: dict[Use, tuple[list[str], bool]] = {}
        for version in (self.old, self.new):
            for rule in version.anywhere:
                for use in _uses_of(rule):
                    index[use] = (index.get(use, ([], False))[0], True)
        for name, view in self.old.stages.items():
            for use in {u for rule in view.rules for u in _uses_of(rule)}:
                index.setdefault(use, ([], False))[0].append(name)
        return index


def sends(message: str) -> Use:
    return ("sends", message)


def triggered_by(event: str) -> Use:
    return ("on", event)


def _uses_of(rule: RuleView) -> Iterator[Use]:
    trigger = rule.rule.trigger
    for event in (trigger.event, trigger.without):
        if event is not None:
            yield triggered_by(event)
    for view in walk_actions(rule.actions):
        if isinstance(view.action, m.Send | m.Offer):
            yield sends(view.action.message)


def walk_actions(actions: tuple[ActionView, ...]) -> Iterator[ActionView]:
    for view in actions:
        yield view
        for block in view.blocks:
            yield from walk_actions(block)
