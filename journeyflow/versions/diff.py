"""The semantic diff of two versions of a journey: what changed that matters to customers.

Both versions are compiled journeys; the diff compares their models, so comments,
layout, the written form of durations and the order of declarations never show up,
while the order of rules shows up where it decides which rule runs.

Examples
--------
>>> import journeyflow
>>> old = journeyflow.loads('journey "j"\\nstage a start { after 2d -> b }\\nstage b final')
>>> new = journeyflow.loads('journey "j"\\nstage a start { after 3d -> b }\\nstage b final')
>>> [(c.kind, c.old.text, c.new.text) for c in diff_journeys(old, new).changes]
[('rule.trigger', 'after 2d', 'after 3d')]
>>> diff_journeys(old, old).changes
()
"""

from __future__ import annotations

from journeyflow.journey import Journey
from journeyflow.versions.changes import Change, Group, JourneyDiff
from journeyflow.versions.context import Pair
from journeyflow.versions.declarations import declaration_changes
from journeyflow.versions.stages import looks_renamed, stage_changes
from journeyflow.versions.view import Version, read_version

__all__ = ["diff_journeys", "diff_versions"]


def diff_journeys(old: Journey, new: Journey, old_path: str | None = None,
                  new_path: str | None = None) -> JourneyDiff:
    """Compare two compiled journeys; ``*_path`` name the files in the output."""
    return diff_versions(read_version(old_path or old.file, old),
                         read_version(new_path or new.file, new))


def diff_versions(old: Version, new: Version) -> JourneyDiff:
    pair = Pair(old, new, looks_renamed(old, new))
    changes = [*declaration_changes(pair), *stage_changes(pair)]
    return JourneyDiff(old.path, new.path, old.model.name, new.model.name,
                       tuple(sorted(changes, key=lambda c: _order(pair, c))),
                       old.model.version, new.model.version)


def _order(pair: Pair, change: Change) -> tuple[int, int, int, int, str]:
    """Journey-wide first, then ``anywhere``, then the stages in the new file's order (a
    removed stage after them, in the old order); by line inside a group."""
    group = _group_rank(pair, change.group)
    return (*group, *change.sort_key())


def _group_rank(pair: Pair, group: Group) -> tuple[int, int]:
    if group.kind == "journey":
        return (0, 0)
    if group.kind == "anywhere":
        return (1, 0)
    names = list(pair.new.stages)
    if group.name in names:
        return (2, names.index(group.name))
    return (3, list(pair.old.stages).index(group.name or ""))
