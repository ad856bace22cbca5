"""What every comparison needs: both versions, the stages that look renamed, and who
a journey-wide declaration concerns."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from journeyflow.model import journey as m
from journeyflow.versions.changes import Side
from journeyflow.versions.view import ActionView, RuleView, Version

__all__ = ["Pair", "walk_actions"]


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

    def users(self, predicate: Predicate) -> tuple[tuple[str, ...], bool]:
        """The old version's stages with a rule for which ``predicate`` holds, and whether
        an ``anywhere`` rule does (then every customer is concerned)."""
        everyone = any(predicate(rule) for rule in self.old.anywhere) or any(
            predicate(rule) for rule in self.new.anywhere)
        stages = tuple(name for name, view in self.old.stages.items()
                       if any(predicate(rule) for rule in view.rules))
        return (() if everyone else stages), everyone


class Predicate:
    """A test on a rule, named so that users() reads as a sentence."""

    def __init__(self, sends: str | None = None, triggered_by: str | None = None) -> None:
        self.sends, self.triggered_by = sends, triggered_by

    def __call__(self, rule: RuleView) -> bool:
        if self.triggered_by is not None:
            trigger = rule.rule.trigger
            return self.triggered_by in (trigger.event, trigger.without)
        return any(_names_message(view.action, self.sends) for view in walk_actions(rule.actions))


def _names_message(action: m.Action, message: str | None) -> bool:
    return isinstance(action, m.Send | m.Offer) and action.message == message


def walk_actions(actions: tuple[ActionView, ...]) -> Iterator[ActionView]:
    for view in actions:
        yield view
        for block in view.blocks:
            yield from walk_actions(block)
