"""What a migration did (or would do), counted per change, as text or JSON."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from journeyflow.versions.blocking import Problems, version_name

__all__ = ["MigrationReport"]


@dataclass
class MigrationReport:
    journey: str
    version: str  # the version migrated to
    dry_run: bool = False
    applied: bool = False
    moves: dict[str, str] = field(default_factory=dict)  # the migrate block's mapping
    old_stages: set[str] = field(default_factory=set)  # of the earlier versions it knows
    customers: Counter[str] = field(default_factory=Counter)  # by the version they ran on
    moved: Counter[tuple[str, str]] = field(default_factory=Counter)
    rewritten: Counter[str] = field(default_factory=Counter)
    added_attributes: Counter[str] = field(default_factory=Counter)
    dropped_attributes: Counter[str] = field(default_factory=Counter)
    dropped_goals: Counter[str] = field(default_factory=Counter)
    timers_kept: int = 0
    timers_recomputed: int = 0
    timers_due_now: int = 0
    delayed_kept: int = 0
    delayed_dropped: Counter[str] = field(default_factory=Counter)
    sends_kept: int = 0
    sends_dropped: Counter[str] = field(default_factory=Counter)
    fired_forgotten: int = 0
    problems: Problems = field(default_factory=Problems)

    @property
    def blocked(self) -> bool:
        return bool(self.problems)

    @property
    def unused_moves(self) -> list[str]:
        """Mappings no customer took: the old stage was empty, or its name is misspelt."""
        used = {old for old, _ in self.moved}
        return [old for old in self.moves if old not in used]

    # ---- text ----------------------------------------------------------------------------

    def text(self) -> str:
        total = sum(self.customers.values())
        head = f"journey '{self.journey}': {_n(total)} on other versions " + (
            "(" + ", ".join(f"{_n(n)} on {self._version_text(v)}"
                            for v, n in sorted(self.customers.items())) + ")" if total else "")
        if self.blocked:
            lines = [head, f"migration to {version_name(self.version)} is blocked; nothing "
                     "was changed:"]
            for message, hint in self.problems.lines(self.version):
                lines += [f"  error: {message}", f"    hint: {hint}"]
            return "\n".join(lines) + "\n"
        verb = "would move" if self.dry_run or not self.applied else "moved"
        lines = [head, f"{verb} them to {version_name(self.version)}:"]
        lines += [f"  {line}" for line in self._changes()]
        lines += [f"  warning: {self.unused_move_text(old)}" for old in self.unused_moves]
        return "\n".join(lines) + "\n"

    def _version_text(self, version: str) -> str:
        if version == self.version:  # migrated in place: the file changed, its version not
            return f"{version_name(version)} as it was before this edit"
        return version_name(version)

    def unused_move_text(self, old: str) -> str:
        """Why a mapping moved nobody, as far as the earlier versions' files tell."""
        head = f"stage {old} -> {self.moves[old]} moved nobody"
        if old in self.old_stages:
            return f"{head}: '{old}' was empty"
        if self.old_stages:
            return f"{head}: no earlier version in the store has a stage '{old}' (misspelt?)"
        return f"{head} ('{old}' was empty, or the name is misspelt)"

    def _changes(self) -> list[str]:
        out = [f"stage {old} -> {new}: {_n(n)}" for (old, new), n in sorted(self.moved.items())]
        out += [f"attribute {name} rewritten: {_n(n)}" for name, n in
                sorted(self.rewritten.items())]
        out += [f"attribute {name} added (its default): {_n(n)}" for name, n in
                sorted(self.added_attributes.items())]
        out += [f"attribute {name} dropped: {_n(n)}" for name, n in
                sorted(self.dropped_attributes.items())]
        out += [f"goal {name} dropped: {_n(n)}" for name, n in sorted(self.dropped_goals.items())]
        out.append(f"stage timers kept (rule unchanged): {self.timers_kept:,}")
        out.append(f"stage timers recomputed: {self.timers_recomputed:,} "
                   f"({self.timers_due_now:,} already due: they fire at the next step)")
        out.append(f"delayed statements kept: {self.delayed_kept:,}")
        out += [f"delayed statement {text} dropped: {n:,}" for text, n in
                sorted(self.delayed_dropped.items())]
        out.append(f"deferred sends kept: {self.sends_kept:,}")
        out += [f"deferred send of {name} dropped: {n:,}" for name, n in
                sorted(self.sends_dropped.items())]
        if self.fired_forgotten:
            out.append(f"`when` rules that may fire again (gone or changed): "
                       f"{self.fired_forgotten:,}")
        return out

    # ---- JSON ------------------------------------------------------------------------------

    def as_json(self) -> dict[str, Any]:
        return {
            "journey": self.journey, "version": self.version, "dry_run": self.dry_run,
            "applied": self.applied, "blocked": self.blocked,
            "customers": dict(sorted(self.customers.items())),
            "problems": self.problems.as_json(self.version),
            "moved": [{"from": old, "to": new, "customers": n}
                      for (old, new), n in sorted(self.moved.items())],
            "unused_moves": self.unused_moves,
            "attributes": {"rewritten": dict(sorted(self.rewritten.items())),
                           "added": dict(sorted(self.added_attributes.items())),
                           "dropped": dict(sorted(self.dropped_attributes.items()))},
            "goals_dropped": dict(sorted(self.dropped_goals.items())),
            "timers": {"kept": self.timers_kept, "recomputed": self.timers_recomputed,
                       "due_now": self.timers_due_now},
            "delayed": {"kept": self.delayed_kept,
                        "dropped": dict(sorted(self.delayed_dropped.items()))},
            "deferred_sends": {"kept": self.sends_kept,
                               "dropped": dict(sorted(self.sends_dropped.items()))},
            "when_rules_forgotten": self.fired_forgotten,
        }


def _n(count: int) -> str:
    return "1 customer" if count == 1 else f"{count:,} customers"
