"""Rule order, where it has a meaning.

Rules compete only with rules that fire on the same occasion: ``on`` rules of one event
(the first that matches wins in a stage; in ``anywhere`` they run in file order until one
moves the customer), hooks of one kind (``on enter``, ``on exit``: file order), ``when``
rules and pass-throughs (first that holds), and timers due at the same moment (file
order). Rules of different occasions may be written in any order.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence

from journeyflow.versions.canon import canon
from journeyflow.versions.changes import Change, Group
from journeyflow.versions.context import Pair
from journeyflow.versions.view import RuleView, rule_ref

__all__ = ["occasion", "order_changes"]

_NOTES = {
    "first": "the first rule that matches wins: a customer who matches more than one "
             "now takes another rule",
    "anywhere": "these rules run in file order until one moves the customer",
    "hook": "these rules run in file order",
    "timer": "timers due at the same moment fire in file order",
}


def occasion(rule: RuleView) -> Hashable:
    """What a rule competes for: rules of one occasion run in file order."""
    trigger = rule.rule.trigger
    if trigger.kind == "on":
        return ("on", trigger.event)
    if trigger.kind in ("after", "every", "at"):
        return (trigger.kind, canon(trigger.duration), trigger.without, canon(trigger.expr))
    return (trigger.kind,)


def order_changes(pair: Pair, matches: Sequence[tuple[RuleView, RuleView]], group: Group,
                  stage: str | None) -> Iterator[Change]:
    by_occasion: dict[Hashable, list[tuple[RuleView, RuleView]]] = {}
    for old, new in matches:
        if occasion(old) == occasion(new):
            by_occasion.setdefault(occasion(new), []).append((old, new))
    for rivals in by_occasion.values():
        in_old = sorted(rivals, key=lambda m: m[0].index)
        in_new = sorted(rivals, key=lambda m: m[1].index)
        if in_old == in_new:
            continue
        first_old, first_new = in_old[0][0], in_new[0][1]
        yield Change(
            "rule.order", "reordered", group, f"order of the '{first_new.trigger}' rules",
            *pair.sides(min(o.line for o, _ in rivals), _listing(o for o, _ in in_old),
                        min(n.line for _, n in rivals), _listing(n for _, n in in_new)),
            stages=(stage,) if stage else (), everyone=stage is None,
            rules=tuple(rule_ref(stage, o, n) for o, n in in_new),
            note=_NOTES[_reading(first_old, stage)])


def _listing(rules: Iterator[RuleView]) -> str:
    return "\n".join(f"{i}. {rule.head}" for i, rule in enumerate(rules, 1))


def _reading(rule: RuleView, stage: str | None) -> str:
    kind = rule.rule.trigger.kind
    if kind in ("enter", "exit"):
        return "hook"
    if kind in ("after", "every", "at"):
        return "timer"
    return "anywhere" if stage is None else "first"
