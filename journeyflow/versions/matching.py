"""What in one compiled version is the same thing in another: rules, delayed statements,
splits and deferred sends, by the integers a stored customer and its timers hold.

A stored customer keeps rule ids (in ``fired``), delayed statement ids (in its timers and
waits), deliverer ids (in ``pending``) and split keys (in ``arms``). Those ids are
positions in one version's compiled program, so a migration translates them. A rule or
delayed statement keeps its identity when its stage (after the ``migrate`` mapping) and
what it does are unchanged; failing that, the n-th of its kind in the same stage is the
same one, edited.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass, field

from msgspec.structs import replace

from journeyflow.model import journey as m
from journeyflow.runtime.codegen import NO_BODY
from journeyflow.runtime.program import Program
from journeyflow.versions.canon import canon, duration_text

__all__ = ["ANYWHERE_OWNER", "DelayedInfo", "ProgramIndex", "RuleInfo", "Correspondence"]

ANYWHERE_OWNER = ""  # the owner of `anywhere` rules and their delayed statements


@dataclass(frozen=True)
class RuleInfo:
    id: int
    owner: str  # its stage, or ANYWHERE_OWNER
    kind: str
    # From the strictest to the loosest: what it does; the same without its timing
    # (durations, times); its place (the n-th rule of its kind in its stage).
    keys: tuple[Hashable, Hashable, Hashable]


@dataclass(frozen=True)
class DelayedInfo:
    id: int
    owner: str
    keys: tuple[Hashable, Hashable, Hashable]  # what it does (twice); its place
    messages: frozenset[str]  # the messages it sends or offers
    stages: frozenset[str]  # the stages it moves to
    line: int
    text: str  # how a report names it: "after 4h at line 12"


@dataclass
class ProgramIndex:
    """One compiled version, described by the ids its stored customers carry."""

    program: Program
    rules: list[RuleInfo] = field(default_factory=list)
    delayed: list[DelayedInfo] = field(default_factory=list)
    unnamed_splits: list[str] = field(default_factory=list)  # positions, in file order
    split_arms: dict[str, int] = field(default_factory=dict)  # split key -> number of arms
    bonuses: set[str] = field(default_factory=set)  # bonuses some statement grants
    deliverers: dict[str, int] = field(default_factory=dict)  # message -> its first deliverer

    @classmethod
    def of(cls, program: Program, renamed: Mapping[str, str] | None = None) -> ProgramIndex:
        """``renamed`` (old stage -> new) makes an older version's stage names read as the
        newer one's, so a renamed stage's rules still match."""
        index = cls(program)
        names = renamed or {}
        model = program.model
        owned = [(stage.name, rule) for stage in model.stages.values() for rule in stage.rules]
        owned += [(ANYWHERE_OWNER, rule) for rule in model.anywhere]
        if len(owned) != len(program.rules):
            raise RuntimeError("the compiled rules do not follow the journey's rules")
        seen: dict[tuple[str, str], int] = {}
        delayed_seen: dict[str, int] = {}
        for rid, (stage, rule) in enumerate(owned):
            owner = names.get(stage, stage)
            kind = rule.trigger.kind
            ordinal = seen[owner, kind] = seen.get((owner, kind), -1) + 1
            keys = ((owner, kind, canon(rule, names)), (owner, kind, _loose(rule, names)),
                    (owner, kind, ordinal))
            index.rules.append(RuleInfo(rid, owner, kind, keys))
            for action in _walk(rule.body):
                index._note(action, owner, names, delayed_seen)
        index._check_delayed_order()
        index._note_deliverers()
        return index

    def _note(self, action: m.Action, owner: str, names: Mapping[str, str],
              delayed_seen: dict[str, int]) -> None:
        if isinstance(action, m.Delayed):
            ordinal = delayed_seen[owner] = delayed_seen.get(owner, -1) + 1
            inner = list(_walk(action.body))
            exact = (owner, canon(action, names))
            line = action.location.line
            self.delayed.append(DelayedInfo(
                len(self.delayed), owner, (exact, exact, (owner, ordinal)),
                frozenset(a.message for a in inner if isinstance(a, m.Send | m.Offer)),
                frozenset(a.stage for a in inner if isinstance(a, m.Goto)),
                line, f"{_delay_text(action)} at line {line}"))
        elif isinstance(action, m.Split):
            self.split_arms[action.key] = len(action.arms)
            if action.name is None:
                self.unnamed_splits.append(action.position)
        elif isinstance(action, m.GrantBonus):
            self.bonuses.add(action.bonus)

    def _check_delayed_order(self) -> None:
        """The walk must meet delayed statements in the order the compiler numbered them;
        each compiled block names its source line, which is checked here."""
        if len(self.delayed) != len(self.program.delayed):
            raise RuntimeError("the compiled delayed statements do not follow the journey")
        for info, (body, _, _) in zip(self.delayed, self.program.delayed, strict=True):
            label = body.__code__.co_filename  # "<journey block delayed FILE:LINE>"
            if body is not NO_BODY and not label.endswith(f":{info.line}>"):
                raise RuntimeError("the compiled delayed statements do not follow the journey")

    def _note_deliverers(self) -> None:
        """A deferred send keeps the number of the function that delivers it; each such
        function is labelled with its message when compiled."""
        for i, body in enumerate(self.program.deliverers):
            label = body.__code__.co_filename  # "<journey block deliver MESSAGE K...>"
            parts = label.strip("<>").split(" ")
            if len(parts) >= 4 and parts[2] == "deliver":
                self.deliverers.setdefault(parts[3], i)

    def timer_rules(self, owner: str) -> Iterator[RuleInfo]:
        return (r for r in self.rules if r.owner == owner and r.kind in ("after", "every", "at"))


class Correspondence:
    """Old ids -> new ids between an earlier version and this one."""

    def __init__(self, old: ProgramIndex, new: ProgramIndex) -> None:
        self.old = old
        self.new = new
        self.rules, self.unchanged_rules = _pair(old.rules, new.rules)
        self.rule_origin = {new_id: old_id for old_id, new_id in self.rules.items()}
        self.delayed, _ = _pair(old.delayed, new.delayed)
        self.splits = dict(zip(old.unnamed_splits, new.unnamed_splits, strict=False))

    def rule(self, old_id: int) -> int | None:
        return self.rules.get(old_id)

    def split_key(self, key: str) -> str:
        """Named splits keep their name; unnamed ones are matched by their order."""
        return self.splits.get(key, key) if key in self.old.unnamed_splits else key


def _pair(old: list[RuleInfo] | list[DelayedInfo],
          new: list[RuleInfo] | list[DelayedInfo]) -> tuple[dict[int, int], set[int]]:
    """Old id -> new id, the strictest key first (each new one is taken once); and the old
    ids whose statement is unchanged."""
    out: dict[int, int] = {}
    taken: set[int] = set()
    unchanged: set[int] = set()
    for level in range(3):
        free: dict[Hashable, list[int]] = {}
        for info in new:
            if info.id not in taken:
                free.setdefault(info.keys[level], []).append(info.id)
        for info in old:
            ids = free.get(info.keys[level]) if info.id not in out else None
            if ids:
                out[info.id] = ids.pop(0)
                taken.add(out[info.id])
                if level == 0:
                    unchanged.add(info.id)
    return out, unchanged


def _loose(rule: m.Rule, names: Mapping[str, str]) -> Hashable:
    trigger = replace(rule.trigger, duration=None, expr=None)
    return canon(replace(rule, trigger=trigger), names)


def _walk(actions: tuple[m.Action, ...]) -> Iterator[m.Action]:
    """Every statement, nested ones included, in the order the compiler numbers them: a
    delayed statement's inner statements before the statement itself."""
    for action in actions:
        if isinstance(action, m.Delayed):
            yield from _walk(action.body)
        elif isinstance(action, m.IfAction):
            yield from _walk(action.then)
            yield from _walk(action.orelse)
        elif isinstance(action, m.Split):
            for arm in action.arms:
                yield from _walk(arm.body)
        yield action


def _delay_text(action: m.Delayed) -> str:
    if action.after is not None:
        return f"after {duration_text(action.after)}"
    return "at " + (action.at.source if action.at is not None else "")
