"""Moving stored customers of an earlier version of a journey to the current one.

Works on what a store keeps per customer (the JSON of ``live.codec``, and its timers as
``(due, seq, kind, [a, b, extra])``), one customer at a time, so a store streams its rows
through :class:`CustomerMigrator` in batches of any size. Nothing here touches a store.

What carries over: stage (by name, or by the ``migrate`` mapping), time of entry,
attributes (new ones get their default, removed ones are dropped), tags, bonuses, goals,
history, split arms, deferred sends. A rule that did not change keeps its timer; a changed
or new one is set again from the new version, counted from the original entry. Delayed
statements keep their due time. What blocks the move is counted in the report's problems.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from journeyflow.live.codec import customer_from_json, customer_to_json, dumps, loads
from journeyflow.runtime.program import CompiledRule, Program
from journeyflow.runtime.state import ACTIVE, Customer
from journeyflow.runtime.steps import WITHOUT_KEY
from journeyflow.runtime.timerkinds import ANYWHERE, DELAYED, DELIVER, EXPIRE, REMIND, RULE
from journeyflow.versions.blocking import Problem, version_name
from journeyflow.versions.matching import Correspondence, ProgramIndex
from journeyflow.versions.migrate_report import MigrationReport

__all__ = ["CustomerMigrator", "Migrated", "StoredTimer", "fits", "type_of"]

# (due, seq, kind, [a, b, extra]) as a store keeps it; a timer the migration sets anew has no
# seq yet. A kept timer keeps its seq, so timers due at one instant keep their order.
StoredTimer = tuple[float, int | None, int, list[Any]]
Migrated = tuple[str, list[StoredTimer], dict[str, Any]]  # state, timers, `migrated` fields
EMPTY: dict[str, Any] = {}


class CustomerMigrator:
    """Migrates customers to ``program`` (the new version), counting into ``report``.

    ``sources`` holds the compiled programs of the earlier versions the store knows (by
    version); ``now`` is the store's latest time: a recomputed timer already due then
    fires at the next step.
    """

    def __init__(self, program: Program, version: str, sources: Mapping[str, Program],
                 now: float, report: MigrationReport) -> None:
        self.program = program
        self.version = version
        self.now = now
        self.report = report
        migration = program.model.migration
        self.moves = migration.stages if migration is not None else {}
        self.index = ProgramIndex.of(program)
        self._sources = sources
        self._pairs: dict[str, Correspondence | None] = {}
        self.waits_keys = {slot: key for key, slot in program.layout.history.items()
                           if key.startswith("waits:")}

    def correspondence(self, version: str) -> Correspondence | None:
        if version not in self._pairs:
            old = self._sources.get(version)
            self._pairs[version] = None if old is None else Correspondence(
                ProgramIndex.of(old, self.moves), self.index)
        return self._pairs[version]

    def migrate(self, version: str, state: str, timers: list[StoredTimer]) -> Migrated | None:
        """The customer's new state, timers and `migrated` record; None when something
        blocks it (counted in the report's problems)."""
        return _Customer(self, version, state, timers).run()


class _Customer:
    """One customer's migration, step by step."""

    def __init__(self, m: CustomerMigrator, version: str, state: str,
                 timers: list[StoredTimer]) -> None:
        self.m = m
        self.report = m.report
        self.version = version
        self.data: dict[str, Any] = loads(state)
        self.timers = timers
        self.pair = m.correspondence(version)
        self.to = version_name(m.version)
        self.blocked = False
        self.dropped: list[str] = []
        self.record: dict[str, Any] = {"from": version, "to": m.version}
        self.live_rules: set[int] = set()  # old rules whose timer still waits
        self.kept_rules: set[int] = set()  # new rules whose timer is kept as it was

    def block(self, problem: Problem) -> None:
        self.report.problems.add(problem)
        self.blocked = True

    def run(self) -> Migrated | None:
        self.report.customers[self.version] += 1
        if self.pair is None:
            self.block(Problem("source", self.version))
        self._stage()
        self._goals()
        self._bonuses()
        self._arms()
        self._fired()
        kept = self._pending()
        timers = self._kept_timers(kept)
        c = customer_from_json(self.m.program, dumps(self.data))
        self._rewrite(c)
        self._check_types(c)
        if self.blocked:
            return None
        timers += self._stage_timers(c)
        if self.dropped:
            self.record["dropped"] = self.dropped
        return customer_to_json(self.m.program, c), timers, self.record

    # ---- stage, goals, bonuses, splits --------------------------------------------------

    def _stage(self) -> None:
        old = self.data["stage"]
        new = self.m.moves.get(old, old)
        if new not in self.m.program.stage_index:
            self.block(Problem("stage", old))
            self.data["stage"] = self.m.program.stage_names[self.m.program.start]
            return
        self.data["stage"] = new
        if new != old:
            self.report.moved[old, new] += 1
            self.record.update({"from_stage": old, "stage": new})

    def _goals(self) -> None:
        known = self.m.program.layout.goals
        for goal in self.data["goals"]:
            if goal not in known:
                self.report.dropped_goals[goal] += 1
                self.dropped.append(f"goal '{goal}'")
        self.data["goals"] = [g for g in self.data["goals"] if g in known]

    def _bonuses(self) -> None:
        for bonus in self.data["bonuses"]:
            if bonus not in self.m.index.bonuses:
                self.block(Problem("bonus", bonus))

    def _arms(self) -> None:
        arms: dict[str, int] = {}
        for key, arm in self.data["arms"].items():
            new_key = self.pair.split_key(key) if self.pair is not None else key
            count = self.m.index.split_arms.get(new_key)
            if count is None:
                self.block(Problem("split", key))
            elif arm >= count:
                self.block(Problem("arm", new_key, str(arm + 1)))
            arms[new_key] = arm
        self.data["arms"] = arms

    # ---- ids of rules, delayed statements and deliverers -----------------------------------

    def _fired(self) -> None:
        """`when` rules fired this stay and `after ... without` rules asleep, renumbered;
        one the new version does not have is forgotten (it may fire again)."""
        fired = []
        for key in self.data["fired"]:
            new = self._fired_key(key)
            if new is None:
                self.report.fired_forgotten += 1
            else:
                fired.append(new)
        self.data["fired"] = fired

    def _fired_key(self, key: int) -> int | None:
        anywhere = key < 0
        plain = -key - 1 if anywhere else key
        base = WITHOUT_KEY if plain >= WITHOUT_KEY else 0
        new = self.pair.rule(plain - base) if self.pair is not None else None
        if new is None:
            return None
        return -(new + base) - 1 if anywhere else new + base

    def _pending(self) -> set[int]:
        """Deferred sends keep their due time and are delivered by the new version's
        delivery of the same message; the seqs of those kept."""
        kept, pending = set(), []
        for item in self.data["pending"]:
            deliverer = self.m.index.deliverers.get(item["message"])
            if deliverer is None:
                self.report.sends_dropped[item["message"]] += 1
                self.dropped.append(f"deferred send of '{item['message']}': {self.to} does not "
                                    "defer that message")
                continue
            pending.append({**item, "deliverer": deliverer})
            kept.add(item["seq"])
        self.report.sends_kept += len(pending)
        self.data["pending"] = pending
        return kept

    def _kept_timers(self, pending: set[int]) -> list[StoredTimer]:
        """Deferred sends, bonus timers, unchanged rules' timers and delayed statements that
        still apply, renumbered; other stage timers are set again (see _stage_timers)."""
        kept: list[StoredTimer] = []
        waits = self._old_waits()
        epoch, life = self.data["epoch"], self.data["life"]
        for due, seq, kind, (a, b, extra) in self.timers:
            if kind == DELIVER and a in pending:
                kept.append((due, seq, kind, [a, b, extra]))
            elif kind in (EXPIRE, REMIND) and self._bonus_grant(a) == b:
                kept.append((due, seq, kind, [a, b, extra]))
            elif kind == RULE and a == epoch or kind == ANYWHERE and a == life:
                kept += self._rule_timer((due, seq, kind, [a, b, extra]))
            elif kind == DELAYED and a == epoch:
                timer = self._delayed((due, seq, kind, [a, b, extra]), waits)
                if timer is not None:
                    kept.append(timer)
        return kept

    def _rule_timer(self, timer: StoredTimer) -> list[StoredTimer]:
        """A rule that did not change keeps its timer as it was; a changed one has its
        timer set again (see :meth:`_stage_timers`)."""
        due, seq, kind, (stay, old_id, extra) = timer
        self.live_rules.add(old_id)
        if self.pair is None or old_id not in self.pair.unchanged_rules:
            return []
        new_id = self.pair.rules[old_id]
        self.kept_rules.add(new_id)
        self.report.timers_kept += 1
        return [(due, seq, kind, [stay, new_id, extra])]

    def _bonus_grant(self, name: str) -> int | None:
        held = self.data["bonuses"].get(name)
        return None if held is None else int(held[2])

    def _old_waits(self) -> dict[int, list[Any]]:
        """The live `unless EVENT where ...` waits by id, taken out of the history (they are
        put back under the new version's statements as their timers are kept)."""
        history = self.data["history"]
        waits = {}
        for key in [k for k in history if k.startswith("waits:")]:
            for wait in history.pop(key):
                waits[wait[0]] = wait
        for key in self.m.waits_keys.values():
            history[key] = []
        return waits

    def _delayed(self, timer: StoredTimer, waits: dict[int, list[Any]]) -> StoredTimer | None:
        due, seq, kind, (epoch, old_id, extra) = timer
        if self.pair is None:
            return None
        info = self.pair.old.delayed[old_id]
        new_id = self.pair.delayed.get(old_id)
        reason = self._delayed_gone(info.messages, info.stages, new_id, extra)
        if reason is not None:
            self.report.delayed_dropped[info.text] += 1
            self.dropped.append(f"delayed statement {info.text}: {reason}")
            return None
        assert new_id is not None
        self.report.delayed_kept += 1
        slot = self.m.program.delayed[new_id][2]
        if slot is not None:
            wait = waits[extra[2]]
            key = self.m.waits_keys[slot]
            self.data["history"][key].append([wait[0], new_id, *wait[2:]])
        return due, seq, kind, [epoch, new_id, extra]

    def _delayed_gone(self, messages: frozenset[str], stages: frozenset[str],
                      new_id: int | None, extra: list[Any]) -> str | None:
        """Why a scheduled delayed statement cannot run under the new version, or None."""
        model = self.m.program.model
        missing = sorted(messages - set(model.messages))
        if missing:
            return f"it sends '{missing[0]}', which {self.to} does not have"
        gone = sorted(stages - set(model.stages))
        if gone:
            return f"it moves to stage '{gone[0]}', which {self.to} does not have"
        if new_id is None:
            return f"{self.to} has no delayed statement in its place"
        if self.m.program.delayed[new_id][2] is not None and len(extra) < 3:
            return f"its `unless ... where` is new in {self.to}"
        return None

    # ---- attributes --------------------------------------------------------------------------

    def _rewrite(self, c: Customer) -> None:
        """`migrate { set ... }`: every value computed from the old ones, then assigned."""
        values = {}
        for name, compute in self.m.program.rewrites:
            try:
                values[name] = compute(c, EMPTY, self.m.now)
            except Exception as exc:  # noqa: BLE001 - any failure is reported, never raised
                self.block(Problem("rewrite", name, f"{type(exc).__name__}: {exc}"))
        self.m.program.layout.set_attributes(c, values)
        for name in values:
            self.report.rewritten[name] += 1
        if values:
            self.record["rewritten"] = sorted(values)
        for name in self.data["attrs"]:
            if name not in self.m.program.layout.attributes:
                self.report.dropped_attributes[name] += 1
        for name in self.m.program.layout.attributes:
            if name not in self.data["attrs"]:
                self.report.added_attributes[name] += 1

    def _check_types(self, c: Customer) -> None:
        rewritten = {name for name, _ in self.m.program.rewrites}
        values = self.m.program.layout.get_attributes(c)
        for name, attribute in self.m.program.model.attributes.items():
            value = values[name]
            if fits(value, attribute.type):
                continue
            found = type_of(value)
            if name in rewritten:
                self.block(Problem("rewrite", name, f"it gives {found}, not {attribute.type}"))
            else:
                self.block(Problem("type", name, found))

    # ---- stage timers ------------------------------------------------------------------------

    def _stage_timers(self, c: Customer) -> list[StoredTimer]:
        """The new version's stage and `anywhere` timers, counted from the original entry
        (and creation). A rule whose old timer had fired already is not set again."""
        if c.status is not ACTIVE:
            return []
        out: list[StoredTimer] = []
        stage = self.m.program.stages[c.stage]
        for rule in stage.timers:
            out += self._timer(c, rule, RULE, c.epoch, c.entered)
        for rule in self.m.program.anywhere_timers:
            out += self._timer(c, rule, ANYWHERE, c.life, c.created)
        return out

    def _timer(self, c: Customer, rule: CompiledRule, kind: int, stay: int,
               start: float) -> list[StoredTimer]:
        if rule.id in self.kept_rules or not self._still_waiting(rule):
            return []
        due = self._due(c, rule, start)
        if due is None:
            return []
        self.report.timers_recomputed += 1
        if due <= self.m.now:
            self.report.timers_due_now += 1
            due = self.m.now
        return [(due, None, kind, [stay, rule.id, None])]

    def _still_waiting(self, rule: CompiledRule) -> bool:
        """A rule the old version had is set again only if its timer was still waiting."""
        assert self.pair is not None
        old = self.pair.rule_origin.get(rule.id)
        return old is None or old in self.live_rules

    def _due(self, c: Customer, rule: CompiledRule, start: float) -> float | None:
        now = self.m.now
        if rule.kind == "at":
            assert rule.expr is not None
            value = rule.expr(c, EMPTY, start)
            if value is None:
                return None
            if rule.yearly:
                zones = self.m.program.zones
                first = zones.anniversary(c, value, start)
                return first if first > now else zones.anniversary(c, value, now)
            return float(value) if value > start else None
        if rule.kind == "every":  # the next repetition after now; missed ones are not made up
            periods = max(1, math.floor((now - start) / rule.duration) + 1)
            return start + periods * rule.duration
        if rule.without_slot is not None:
            last = getattr(c, rule.without_slot)
            start = max(start, start if last is None else last)
        return start + rule.duration


def fits(value: Any, kind: str) -> bool:
    """Whether a stored value can be an attribute of type ``kind`` (null always can)."""
    if value is None:
        return True
    if kind == "text":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list | tuple)
    return isinstance(value, int | float) and not isinstance(value, bool)  # number, dates


def type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "a list"
    return "a number"

