"""What one change between two versions of a journey is, for people and for tools.

A change names the stages and rules it concerns (by their names and positions in the
old version, where in-flight customers are), so counts of customers can be attached to
it later without reading the journeys again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Change", "Group", "GroupKind", "JourneyDiff", "RuleRef", "Side", "Verb", "verb_of"]

Verb = Literal["added", "removed", "changed", "renamed", "reordered", "moved"]
GroupKind = Literal["journey", "anywhere", "stage"]


def verb_of(old: object, new: object) -> Verb:
    """added, removed or changed, from what each version has (None: nothing)."""
    return "added" if old is None else "removed" if new is None else "changed"


@dataclass(frozen=True, slots=True, order=True)
class Group:
    """Where a change is listed: journey-wide declarations, ``anywhere`` rules, or a stage."""

    kind: GroupKind
    name: str | None = None  # the stage's name in the new version (old one if removed)

    @property
    def title(self) -> str:
        if self.kind == "stage":
            return f"stage {self.name}"
        return "journey-wide" if self.kind == "journey" else "anywhere (every stage)"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name}


JOURNEY = Group("journey")
ANYWHERE = Group("anywhere")


@dataclass(frozen=True, slots=True)
class Side:
    """One version's side of a change: where it is and what it says there.

    ``text`` is None when that version lacks the thing; ``line`` then points at the
    nearest place that holds it (its stage, its rule, the customer block...).
    """

    file: str
    line: int
    text: str | None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "text": self.text}


@dataclass(frozen=True, slots=True)
class RuleRef:
    """A rule a change concerns: its stage (None for ``anywhere``), its trigger as
    written, and its position among that stage's rules in each version (None where the
    version lacks it)."""

    stage: str | None
    trigger: str
    old_index: int | None
    new_index: int | None

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "trigger": self.trigger, "old_index": self.old_index,
                "new_index": self.new_index}


@dataclass(frozen=True, slots=True)
class Change:
    """One difference that matters to customers.

    Attributes
    ----------
    kind : what changed, e.g. ``message.body``, ``rule.guard``, ``stage``; stable for tools.
    verb : added, removed, changed, renamed, reordered or moved.
    group : where the change is listed.
    subject : what it is about, as a reader names it ("message welcome", "rule 'on x'").
    old, new : both sides, with file:line.
    stages : stages of the old version whose customers it concerns; empty when
        ``everyone`` is true or when no customer can be there yet (a new stage).
    everyone : the change concerns every customer in the journey, whatever their stage.
    rules : the rules it concerns.
    note : why it matters, when that is not plain from the two sides.
    """

    kind: str
    verb: Verb
    group: Group
    subject: str
    old: Side
    new: Side
    stages: tuple[str, ...] = ()
    everyone: bool = False
    rules: tuple[RuleRef, ...] = ()
    note: str | None = None

    def sort_key(self) -> tuple[int, int, str]:
        return (self.new.line, self.old.line, self.kind)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "verb": self.verb, "group": self.group.as_dict(),
            "subject": self.subject, "old": self.old.as_dict(), "new": self.new.as_dict(),
            "stages": list(self.stages), "everyone": self.everyone,
            "rules": [r.as_dict() for r in self.rules], "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class JourneyDiff:
    """Every change from ``old`` to ``new``, grouped: journey-wide, anywhere, then stages."""

    old_file: str
    new_file: str
    old_name: str
    new_name: str
    changes: tuple[Change, ...]
    old_version: int | None = None
    new_version: int | None = None

    def __bool__(self) -> bool:
        return bool(self.changes)

    def groups(self) -> list[tuple[Group, list[Change]]]:
        order: dict[Group, list[Change]] = {}
        for change in self.changes:
            order.setdefault(change.group, []).append(change)
        return list(order.items())

    def as_dict(self) -> dict[str, Any]:
        return {
            "old": {"file": self.old_file, "journey": self.old_name,
                    "version": self.old_version},
            "new": {"file": self.new_file, "journey": self.new_name,
                    "version": self.new_version},
            "changed": bool(self.changes),
            "count": len(self.changes),
            "changes": [c.as_dict() for c in self.changes],
        }
