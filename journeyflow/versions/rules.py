"""Rules of one stage (or of ``anywhere``) across two versions.

A rule keeps its identity across versions through its stage and its trigger: the
event for ``on``, the kind for hooks, ``when`` and pass-throughs, the kind and the
awaited event for timers (so a changed delay reads as a changed delay). Several rules
with one identity are paired best match first, ties by their order, so a changed guard
reads as a changed guard rather than a rule removed and another added.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence

from journeyflow.versions.actions import action_changes
from journeyflow.versions.canon import canon, expr_or_none
from journeyflow.versions.changes import Change, Group, Verb, verb_of
from journeyflow.versions.context import Pair
from journeyflow.versions.order import order_changes
from journeyflow.versions.view import RuleView, rule_ref
from journeyflow.versions.words import rule_text

__all__ = ["identity", "match_rules", "rule_changes"]

Match = tuple[RuleView | None, RuleView | None]


def identity(rule: RuleView) -> Hashable:
    trigger = rule.rule.trigger
    if trigger.kind == "on":
        return ("on", trigger.event)
    if trigger.kind == "after":
        return ("after", trigger.without)
    return (trigger.kind,)


def rule_changes(pair: Pair, old: Sequence[RuleView], new: Sequence[RuleView], group: Group,
                 stage: str | None) -> Iterator[Change]:
    """``stage`` is the stage's old name (None for ``anywhere``): changes name it so."""
    matches = match_rules(pair, old, new)
    for was, now in matches:
        if was is None and now is not None:
            yield _added(pair, now, group, stage, old)
        elif now is None and was is not None:
            yield _removed(pair, was, group, stage, new)
        elif was is not None and now is not None:
            yield from _changed(pair, was, now, group, stage)
    yield from order_changes(pair, [(o, n) for o, n in matches if o and n], group, stage)


def match_rules(pair: Pair, old: Sequence[RuleView], new: Sequence[RuleView]) -> list[Match]:
    """Every old and new rule, paired where they are one rule, in the new file order."""
    pairs: list[Match] = []
    for key in dict.fromkeys([identity(r) for r in [*old, *new]]):
        pairs += _pair_up(pair, [r for r in old if identity(r) == key],
                          [r for r in new if identity(r) == key])
    return sorted(pairs, key=_position)


def _position(match: Match) -> float:
    """Where a pair goes in the new file order; a removed rule goes where it was."""
    old, new = match
    if new is not None:
        return new.index
    assert old is not None
    return old.index - 0.5


def _pair_up(pair: Pair, old: list[RuleView], new: list[RuleView]) -> list[Match]:
    if len(old) == 1 and len(new) == 1:
        return [(old[0], new[0])]
    old_parts = [_parts(rule, pair.renamed) for rule in old]
    new_parts = [_parts(rule, {}) for rule in new]
    scored = sorted((-_likeness(a, b), abs(i - j), i, j)
                    for i, a in enumerate(old_parts) for j, b in enumerate(new_parts))
    taken_old: set[int] = set()
    taken_new: set[int] = set()
    found: list[Match] = []
    for _, _, i, j in scored:
        if i not in taken_old and j not in taken_new:
            taken_old.add(i)
            taken_new.add(j)
            found.append((old[i], new[j]))
    found += [(o, None) for i, o in enumerate(old) if i not in taken_old]
    found += [(None, n) for j, n in enumerate(new) if j not in taken_new]
    return found


_WEIGHTS = (2, 2, 2, 1)  # trigger, guard, target, statements; all of them together: 10 more


def _parts(rule: RuleView, renamed: dict[str, str]) -> tuple[Hashable, ...]:
    r = rule.rule
    return (canon(r.trigger), canon(r.guard), renamed.get(r.target or "", r.target),
            canon(r.body, renamed))


def _likeness(a: tuple[Hashable, ...], b: tuple[Hashable, ...]) -> int:
    """How many parts two rules of one identity share; the whole rule counts most."""
    shared = [x == y for x, y in zip(a, b, strict=True)]
    return sum(w for w, same in zip(_WEIGHTS, shared, strict=True) if same) + 10 * all(shared)


def _nearby_line(rules: Sequence[RuleView], index: int, fallback: int) -> int:
    """The line of the rule at ``index`` of the other version, or its stage's line."""
    if not rules:
        return fallback
    return rules[min(index, len(rules) - 1)].line


def _added(pair: Pair, now: RuleView, group: Group, stage: str | None,
           old: Sequence[RuleView]) -> Change:
    old_line = _nearby_line(old, now.index, _stage_line(pair, stage))
    return Change("rule", "added", group, f"rule '{now.head}'",
                  *pair.sides(old_line, None, now.line, rule_text(now)),
                  stages=_concerned(stage), everyone=stage is None,
                  rules=(rule_ref(stage, None, now),), note=_moves_note(pair, now))


def _removed(pair: Pair, was: RuleView, group: Group, stage: str | None,
             new: Sequence[RuleView]) -> Change:
    new_line = _nearby_line(new, was.index, _stage_line(pair, stage, new_side=True))
    return Change("rule", "removed", group, f"rule '{was.head}'",
                  *pair.sides(was.line, rule_text(was), new_line, None),
                  stages=_concerned(stage), everyone=stage is None,
                  rules=(rule_ref(stage, was, None),))


def _stage_line(pair: Pair, stage: str | None, new_side: bool = False) -> int:
    version = pair.new if new_side else pair.old
    name = pair.new_name(stage) if new_side and stage else stage
    view = version.stages.get(name or "")
    return view.line if view else version.line(("header",))


def _concerned(stage: str | None) -> tuple[str, ...]:
    return (stage,) if stage else ()


def _moves_note(pair: Pair, rule: RuleView) -> str | None:
    target = rule.rule.target
    if target and target not in pair.old.stages and target not in pair.renamed.values():
        return f"moves customers into the new stage '{target}'"
    return None


def _changed(pair: Pair, was: RuleView, now: RuleView, group: Group,
             stage: str | None) -> Iterator[Change]:
    def change(kind: str, verb: Verb, old_text: str | None, new_text: str | None,
               note: str | None = None) -> Change:
        return Change(kind, verb, group, f"rule '{now.head}'",
                      *pair.sides(was.line, old_text, now.line, new_text),
                      stages=_concerned(stage), everyone=stage is None,
                      rules=(rule_ref(stage, was, now),), note=note)

    if canon(was.rule.trigger) != canon(now.rule.trigger):
        yield change("rule.trigger", "changed", was.trigger, now.trigger)
    old_guard, new_guard = was.rule.guard, now.rule.guard
    if canon(old_guard) != canon(new_guard):
        yield change("rule.guard", verb_of(old_guard, new_guard), expr_or_none(old_guard),
                     expr_or_none(new_guard))
    old_target, new_target = was.rule.target, now.rule.target
    if pair.new_name(old_target or "") != (new_target or ""):
        yield change("rule.target", verb_of(old_target, new_target), _arrow(old_target),
                     _arrow(new_target), _moves_note(pair, now))
    yield from action_changes(pair, was, now, group, stage)


def _arrow(target: str | None) -> str | None:
    return None if target is None else f"-> {target}"
