"""The statements of one rule across two versions.

Statements are aligned by what they do and to what (``send welcome``, ``set points``,
``after ... unless purchased``, ``if``, ``split``), keeping their order, so a statement
added in the middle of a block is one added statement; a statement replaced by one of
the same kind at the same place reads as changed. Blocks inside delayed statements,
``if``s and split arms are compared the same way.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from journeyflow.model import journey as m
from journeyflow.versions.canon import canon
from journeyflow.versions.changes import Change, Group, Verb
from journeyflow.versions.context import Pair
from journeyflow.versions.view import ActionView, RuleView, rule_ref
from journeyflow.versions.words import compound_head, statement_text

__all__ = ["action_changes"]

_SPLIT_NOTE = ("a customer's arm is drawn from where the split is written: customers who "
               "pass it again may take another arm than before")
_SHARES_NOTE = ("every customer who passes the split from now on is shared out by the new "
                "shares, so some take another arm than before")


def action_changes(pair: Pair, was: RuleView, now: RuleView, group: Group,
                   stage: str | None) -> Iterator[Change]:
    yield from _Rule(pair, was, now, group, stage).block(was.actions, now.actions,
                                                         was.line, now.line)


def _key(action: m.Action) -> Hashable:
    """What a statement does and to what: the part that keeps its identity."""
    named = {"send": "message", "offer": "message", "grant_bonus": "bonus",
             "redeem_bonus": "bonus", "set": "attribute", "tag": "tag", "untag": "tag",
             "emit": "event", "notify": "handler", "delayed": "unless"}
    attribute = named.get(action.kind)
    return (action.kind, getattr(action, attribute) if attribute else None)


@dataclass(frozen=True)
class _Rule:
    """One matched rule: where its statement changes are listed and whom they concern."""

    pair: Pair
    was: RuleView
    now: RuleView
    group: Group
    stage: str | None

    def change(self, kind: str, verb: Verb, old: tuple[int, str | None],
               new: tuple[int, str | None], note: str | None = None) -> Change:
        return Change(kind, verb, self.group, f"rule '{self.now.head}'",
                      *self.pair.sides(*old, *new),
                      stages=(self.stage,) if self.stage else (), everyone=self.stage is None,
                      rules=(rule_ref(self.stage, self.was, self.now),), note=note)

    def block(self, old: Sequence[ActionView], new: Sequence[ActionView], old_line: int,
              new_line: int) -> Iterator[Change]:
        """``old_line``/``new_line``: where the block is, for a statement one side lacks."""
        matcher = SequenceMatcher(a=[_key(v.action) for v in old],
                                  b=[_key(v.action) for v in new], autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            olds, news = list(old[i1:i2]), list(new[j1:j2])
            if tag == "replace":
                while olds and news and olds[0].action.kind == news[0].action.kind:
                    yield from self.statement(olds.pop(0), news.pop(0))
            elif tag == "equal":
                for was, now in zip(olds, news, strict=True):
                    yield from self.statement(was, now)
                continue
            near_old = old[i1].line if i1 < len(old) else old_line
            near_new = new[j1].line if j1 < len(new) else new_line
            for view in olds:
                yield self.change("action", "removed", (view.line, statement_text(view)),
                                  (near_new, None))
            for view in news:
                yield self.change("action", "added", (near_old, None),
                                  (view.line, statement_text(view)))

    def statement(self, was: ActionView, now: ActionView) -> Iterator[Change]:
        old, new = was.action, now.action
        renamed = self.pair.renamed
        if not was.blocks and not now.blocks:
            if canon(old, renamed) != canon(new):
                kind = "action.target" if new.kind == "goto" else "action"
                yield self.change(kind, "changed", (was.line, statement_text(was)),
                                  (now.line, statement_text(now)))
            return
        if isinstance(old, m.Split) and isinstance(new, m.Split):
            yield from self.split(was, now, old, new)
            return
        if canon(_own_part(old)) != canon(_own_part(new)):
            kind = "action.timer" if new.kind == "delayed" else "action.condition"
            yield self.change(kind, "changed", (was.line, compound_head(was)),
                              (now.line, compound_head(now)))
        for old_block, new_block in zip(was.blocks, now.blocks, strict=True):
            yield from self.block(old_block, new_block, was.line, now.line)

    def split(self, was: ActionView, now: ActionView, old: m.Split,
              new: m.Split) -> Iterator[Change]:
        if old.key != new.key:  # a named split keeps its customers' arms wherever it moves
            yield self.change("action.split_position", "moved", (was.line, _at(old)),
                              (now.line, _at(new)), _SPLIT_NOTE)
        if [arm.share for arm in old.arms] != [arm.share for arm in new.arms]:
            yield self.change("action.split", "changed", (was.line, compound_head(was)),
                              (now.line, compound_head(now)), _SHARES_NOTE)
        for i in range(max(len(was.blocks), len(now.blocks))):
            old_arm = was.blocks[i] if i < len(was.blocks) else ()
            new_arm = now.blocks[i] if i < len(now.blocks) else ()
            yield from self.block(old_arm, new_arm, was.line, now.line)


def _at(split: m.Split) -> str:
    line, col = split.position.split(":")
    return f"split at line {line}, column {col}"


def _own_part(action: m.Action) -> Hashable:
    """A compound statement without its blocks: its delay or its condition."""
    if isinstance(action, m.Delayed):
        return (action.after, action.unless)
    if isinstance(action, m.IfAction):
        return canon(action.condition)
    return None
