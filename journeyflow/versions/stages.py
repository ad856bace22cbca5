"""Stages: added, removed, renamed-looking pairs, start and final; then each kept
stage's rules."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterator
from difflib import SequenceMatcher

from journeyflow.versions.canon import canon
from journeyflow.versions.changes import ANYWHERE, Change, Group
from journeyflow.versions.context import Pair, walk_actions
from journeyflow.versions.rules import rule_changes
from journeyflow.versions.view import RuleView, StageView, Version
from journeyflow.versions.words import rule_text

__all__ = ["looks_renamed", "stage_changes"]

# A rule moving customers into a stage: its own stage ("" for anywhere), its trigger.
WayIn = tuple[str, Hashable]
RENAME_SCORE = 0.6  # below this, a removed and an added stage are two stages


def stage_changes(pair: Pair) -> Iterator[Change]:
    old, new = pair.old.stages, pair.new.stages
    kept = {pair.new_name(name): name for name in old if pair.new_name(name) in new}
    for name, view in new.items():
        group = Group("stage", name)
        was = kept.get(name)
        if was is None:
            yield _added(pair, view)
            continue
        if was != name:
            yield _renamed(pair, old[was], view)
        yield from _flags(pair, old[was], view)
        yield from rule_changes(pair, old[was].rules, view.rules, group, was)
    for name, view in old.items():
        if pair.new_name(name) not in new:
            yield _removed(pair, view)
    yield from _start(pair)
    yield from rule_changes(pair, pair.old.anywhere, pair.new.anywhere, ANYWHERE, None)


def looks_renamed(old: Version, new: Version) -> dict[str, str]:
    """Old name -> new name for removed and added stages that look like one stage renamed:
    the same rules and the same ways in, under another name."""
    removed = [name for name in old.stages if name not in new.stages]
    added = [name for name in new.stages if name not in old.stages]
    if not removed or not added:
        return {}
    likeness = _Likeness(old, new)
    scored = sorted(((likeness(was, now), i, j, was, now)
                     for i, was in enumerate(removed) for j, now in enumerate(added)),
                    key=lambda t: (-t[0], t[1], t[2]))
    renamed: dict[str, str] = {}
    for score, _, _, was, now in scored:
        if score >= RENAME_SCORE and was not in renamed and now not in renamed.values():
            renamed[was] = now
    return renamed


class _Likeness:
    """From 0 to 1: how much a stage of the old version and one of the new look alike.

    Each rule's canonical form is computed once and numbered, so comparing every removed
    stage with every added one compares lists of numbers; only the rules of the old
    stage that name the stage itself are read again under the candidate name.
    """

    def __init__(self, old: Version, new: Version) -> None:
        self.old, self.new = old, new
        self.numbers: dict[Hashable, int] = {}
        self.ways_old, self.ways_new = _ways_in(old), _ways_in(new)
        self.rules_old = {name: [self.number(canon(r.rule)) for r in view.rules]
                          for name, view in old.stages.items()}
        self.rules_new = {name: [self.number(canon(r.rule)) for r in view.rules]
                          for name, view in new.stages.items()}

    def number(self, form: Hashable) -> int:
        return self.numbers.setdefault(form, len(self.numbers))

    def __call__(self, was: str, now: str) -> float:
        mapping = {was: now}
        before = [self.number(canon(rule.rule, mapping)) if was in _targets(rule) else plain
                  for rule, plain in zip(self.old.stages[was].rules, self.rules_old[was],
                                         strict=True)]
        after = self.rules_new[now]
        # A rule of the stage moving customers back into it is a way in under either name.
        ways_in = _overlap(Counter({(mapping.get(owner, owner), trigger): n
                                    for (owner, trigger), n in self.ways_old[was].items()}),
                           self.ways_new[now])
        a, b = self.old.stages[was].stage, self.new.stages[now].stage
        flags = float((a.final, a.start) == (b.final, b.start))
        if not before and not after:
            return 0.9 * ways_in + 0.1 * flags
        rules = SequenceMatcher(a=before, b=after, autojunk=False).ratio()
        return 0.5 * rules + 0.4 * ways_in + 0.1 * flags


def _ways_in(version: Version) -> defaultdict[str, Counter[WayIn]]:
    """For each stage, the rules that move customers into it, by their stage and trigger."""
    found: defaultdict[str, Counter[WayIn]] = defaultdict(Counter)
    for view in [*version.anywhere, *(r for s in version.stages.values() for r in s.rules)]:
        for stage in _targets(view):
            found[stage][(view.stage or "", canon(view.rule.trigger))] += 1
    return found


def _targets(rule: RuleView) -> set[str]:
    found = {rule.rule.target} if rule.rule.target else set()
    found |= {getattr(v.action, "stage", "") for v in walk_actions(rule.actions)
              if v.action.kind == "goto"}
    return found


def _overlap(a: Counter[WayIn], b: Counter[WayIn]) -> float:
    if not a and not b:
        return 1.0
    return sum((a & b).values()) / max(sum(a.values()), sum(b.values()))


def _stage_text(view: StageView) -> str:
    flags = "".join(f" {flag}" for flag in ("start", "final") if getattr(view.stage, flag))
    rules = (f"  {rule_text(rule)}" for rule in view.rules)
    return "\n".join([f"stage {view.stage.name}{flags}", *rules])


def _added(pair: Pair, view: StageView) -> Change:
    rules = [*pair.new.anywhere, *(r for s in pair.new.stages.values() for r in s.rules)]
    ways_in = [f"{r.stage or 'anywhere'}: {r.head}" for r in rules
               if view.stage.name in _targets(r)]
    note = ("customers reach it from " + "; ".join(ways_in)) if ways_in else (
        "no rule moves customers into it")
    return Change("stage", "added", Group("stage", view.stage.name), f"stage {view.stage.name}",
                  *pair.sides(pair.old.line(("header",)), None, view.line, _stage_text(view)),
                  note=note)


def _removed(pair: Pair, view: StageView) -> Change:
    name = view.stage.name
    return Change("stage", "removed", Group("stage", name), f"stage {name}",
                  *pair.sides(view.line, _stage_text(view), pair.new.line(("header",)), None),
                  stages=(name,), note=_gone_note(pair, name, "customers still in "
                                                  f"'{name}' have no stage of that name in "
                                                  "the new version"))


def _renamed(pair: Pair, old: StageView, new: StageView) -> Change:
    return Change("stage", "renamed", Group("stage", new.stage.name),
                  f"stage {old.stage.name} -> {new.stage.name}",
                  *pair.sides(old.line, f"stage {old.stage.name}", new.line,
                              f"stage {new.stage.name}"),
                  stages=(old.stage.name,),
                  note="this looks like a rename (same rules, same ways in); " + _gone_note(
                      pair, old.stage.name, f"customers in '{old.stage.name}' have no stage "
                      "of that name in the new version"))


def _gone_note(pair: Pair, name: str, unmapped: str) -> str:
    """What becomes of a stage's customers: the new version's `migrate` block may say."""
    migration = pair.new.model.migration
    target = migration.stages.get(name) if migration is not None else None
    if target is None:
        return unmapped
    return f"the new version's migrate block moves the customers in '{name}' to '{target}'"


def _flags(pair: Pair, old: StageView, new: StageView) -> Iterator[Change]:
    if old.stage.final != new.stage.final:
        words = {True: "final", False: "not final"}
        yield Change("stage.final", "changed", Group("stage", new.stage.name),
                     f"stage {new.stage.name}",
                     *pair.sides(old.line, words[old.stage.final], new.line,
                                 words[new.stage.final]),
                     stages=(old.stage.name,),
                     note="a customer in a final stage runs no rules and may re-enter")


def _start(pair: Pair) -> Iterator[Change]:
    old, new = pair.old.model.start_stage, pair.new.model.start_stage
    if pair.new_name(old) == new:
        return
    yield Change("stage.start", "changed", Group("stage", new), "start stage",
                 *pair.sides(pair.old.stages[old].line, old, pair.new.stages[new].line, new),
                 note=f"customers who start from now on begin in '{new}'")
