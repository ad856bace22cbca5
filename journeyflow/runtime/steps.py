"""One generated function per (event, stage): the whole event step, inlined.

An event step (step 3) updates the history the journey reads, runs
the matching ``anywhere`` rules and then the first matching rule of the
customer's stage, settles ``when`` rules and pass-throughs, and checks goals.
For a given event and stage almost all of that is known when the journey
loads: which aggregates to update, which guards to test in which order, which
goals the event can reach. So each (event, stage) pair gets a function with
exactly those statements, guards inlined as generated Python; the interpreter
looks it up in a table and calls it. Functions are generated on first use, so
a journey with many stages and events pays only for the pairs that occur.

Like the block functions of ``codegen``, the source comes from the checked
model (guards are the expression compiler's output), never from user text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from journeyflow.runtime.codegen import NO_BODY
from journeyflow.runtime.layout import history_key
from journeyflow.runtime.state import ACTIVE, FINAL
from journeyflow.runtime.timerkinds import ANYWHERE, MAX_TRANSITIONS, RULE

if TYPE_CHECKING:
    from journeyflow.runtime.interpreter import Interpreter
    from journeyflow.runtime.program import CompiledRule, Program
    from journeyflow.runtime.state import Customer

__all__ = ["Hook", "Settle", "Step", "StepCompiler", "Timer"]

# (interpreter, customer, event data, time) -> None
Step = Callable[["Interpreter", "Customer", dict[str, Any], float], None]

# (interpreter, customer, time, event data) -> None, as blocks are called
Hook = Callable[["Interpreter", "Customer", float, dict[str, Any]], None]

# (interpreter, customer, due time, timer kind, epoch or life) -> None
Timer = Callable[["Interpreter", "Customer", float, int, int], None]

# (interpreter, customer, time) -> None
Settle = Callable[["Interpreter", "Customer", float], None]

SETTLE = "(_settles[c.stage] or _settle(c.stage))(ip, c, t)"  # settling the stage c is in

# `fired` keys at and above this mark `after ... without` rules waiting for their event;
# below it, `when` rules that fired this stay (negative: this life, for `anywhere`).
WITHOUT_KEY = 1 << 30

REDEEMED = "bonus_redeemed"

F = TypeVar("F")


def _made(table: list[F | None], index: int, build: Callable[[int], F]) -> F:
    """``table[index]``, built on first use."""
    fn = table[index]
    if fn is None:
        fn = table[index] = build(index)
    return fn


class StepCompiler:
    """Builds and caches the step function of each (event, stage) pair."""

    def __init__(self, program: Program) -> None:
        from bisect import bisect_right
        from heapq import heappush

        self.program = program
        # Shares the block functions' namespace: steps call blocks by their constant name.
        self.namespace = program.bodies.namespace
        self.namespace.update({"ACTIVE": ACTIVE, "FINAL": FINAL, "_bisect": bisect_right,
                               "_heappush": heappush, "NO_BODY": NO_BODY, "len": len,
                               "str": str, "tuple": tuple, "max": max, "EMPTY": {},
                               "_enter": self.enter, "_exit": self.exit})
        self._consts: dict[int, str] = {}
        self.sources: dict[str, str] = {}  # label -> generated source, for debugging
        # event -> per stage index, the step function (None until first used)
        self.table: dict[str, list[Step | None]] = {}
        self._remember: dict[str, Step] = {}
        # per stage index: entering it, and leaving it (None until first used)
        self.enters: list[Hook | None] = [None] * len(program.stages)
        self.exits: list[Hook | None] = [None] * len(program.stages)
        # per stage index: settling it (None until first used)
        self.settles: list[Settle | None] = [None] * len(program.stages)
        self.namespace.update({"_enters": self.enters, "_exits": self.exits,
                               "_settles": self.settles, "_settle": self.settle})
        # per rule id: firing its timer (None until first used; only timer rules get one)
        self.timers: list[Timer | None] = [None] * len(program.rules)

    def step(self, event: str, stage: int) -> Step:
        row = self.table.get(event)
        if row is None:
            row = self.table[event] = [None] * len(self.program.stages)
        fn = row[stage]
        if fn is None:
            fn = row[stage] = self._build(event, stage)
        return fn

    def enter(self, stage: int) -> Hook:
        return _made(self.enters, stage, self._build_enter)

    def exit(self, stage: int) -> Hook:
        return _made(self.exits, stage, self._build_exit)

    def settle(self, stage: int) -> Settle:
        return _made(self.settles, stage, self._build_settle)

    def timer(self, rule: int) -> Timer:
        """Firing the timer of rule ``rule`` (an `after`, `every` or `at` rule)."""
        return _made(self.timers, rule, self._build_timer)

    def remember(self, event: str) -> Step:
        """History only: what a parked customer's events still update."""
        fn = self._remember.get(event)
        if fn is None:
            lines = ["def remember(ip, c, e, t):", *self._history(event), "    return None"]
            fn = self._remember[event] = self._exec(lines, f"remember {event}")
        return fn

    # ---- generation ------------------------------------------------------------------

    def _const(self, value: Any) -> str:
        name = self._consts.get(id(value))
        if name is None:
            name = self._consts[id(value)] = f"S{len(self._consts)}"
            self.namespace[name] = value
        return name

    def _exec(self, lines: list[str], label: str) -> Step:
        source = self.sources[label] = "\n".join(lines)
        code = compile(source, f"<journey step {label}>", "exec")
        exec(code, self.namespace)  # noqa: S102 - generated from the checked model
        fn: Step = self.namespace.pop(lines[0][4:lines[0].index("(")])
        return fn

    def _history(self, event: str) -> list[str]:
        """Update the aggregates of ``event`` the journey reads (before its rules run,
        so ``count()`` includes this event)."""
        layout = self.program.layout
        needs = self.program.needs
        out = ["    ip.steps += 1"]
        for key, (kind, owner, field) in layout.history_parts.items():
            if owner != event:
                continue
            slot = layout.history[key]
            if kind == "count":
                out.append(f"    c.{slot} += 1")
            elif kind == "last_at":
                out.append(f"    c.{slot} = t")
            elif kind == "order":
                out.append(f"    c.{slot} = ip.steps")
            elif kind == "waits":  # `unless EVENT where ...`: which waits it cancels
                out.append(f"    if c.{slot}: c.{slot} = ip.cancel_waits(c, c.{slot}, e, t)")
            elif kind == "sum":
                out += [f"    v = e.get({field!r})",
                        f"    if v is not None: c.{slot} += v"]
            elif kind == "last":
                out.append(f"    c.{slot} = e.get({field!r})")
            elif kind == "window":
                span = needs.windows.get(event, 0.0)
                out += [f"    times = c.{slot}",
                        f"    old = _bisect(times, t - {span!r})",
                        f"    c.{slot} = (*times[old:], t)"]
                payloads = layout.history.get(history_key("payloads", event))
                if payloads is not None:
                    out.append(f"    c.{payloads} = (*c.{payloads}[old:], e)")
        return out

    def _build(self, event: str, stage_index: int) -> Step:  # noqa: C901 - one statement kind each
        p = self.program
        stage = p.stages[stage_index]
        lines = ["def step(ip, c, e, t):", "    now = t", *self._history(event)]
        if event == REDEEMED:
            lines.append("    ip.redeem(c, t, str(e.get('bonus')), False)")
        if stage.final:
            # A final customer's events only count toward history (and re-entry); the first
            # step of a life that ends in a final stage still checks the goals.
            goals = self._goal_checks(event)
            if goals:
                lines += ["    if ip.reentered:", *("    " + line for line in goals)]
            lines.append("    return None")
            return self._exec(lines, f"{event} in {stage.name}")
        lines.append("    if c.status is not ACTIVE: return None")
        anywhere = p.anywhere_on.get(event, ())
        rules = stage.on.get(event, ())
        can_move = bool(anywhere or rules)
        if can_move:
            lines.append("    moved = False")
        for rule in anywhere:
            # Every matching rule without a target runs; the first that moves ends them.
            if rule.target is None and rule.body is NO_BODY:
                continue
            lines.append(f"    if not moved and {rule.guard_source or 'True'}:")
            lines += self._fire(rule, "        ")
        if rules:
            lines.append("    if not moved:")
            first = True
            for rule in rules:
                if rule.guard_source is None:
                    lines.append("        if True:" if first else "        else:")
                    lines += self._fire(rule, "            ")
                    break
                lines.append(f"        {'if' if first else 'elif'} {rule.guard_source}:")
                lines += self._fire(rule, "            ")
                first = False
        lines += self._rearm_without(event, stage_index)
        settle = SETTLE
        if can_move:
            lines.append(f"    if moved:\n        if ip._instant[c.stage]: {settle}")
            if p.instant_rules(stage_index):
                lines.append(f"    else: {settle}")
        elif p.instant_rules(stage_index):
            lines.append(f"    {settle}")
        lines += self._goal_checks(event)
        lines.append("    return None")
        return self._exec(lines, f"{event} in {stage.name}")

    def _goal_checks(self, event: str) -> list[str]:
        """The goals an ``event`` step can reach, in declaration order (LANGUAGE.md 11.19).

        A `when` goal decided by the history of other events alone cannot change in this
        step, except in the first step of a life (creation or re-entry), which checks all.
        """
        p = self.program
        lines = []
        for goal, kind, owner, cond, events in p.goal_order:
            if kind == "on" and owner != event:
                continue
            test = f"not c.goal_bits & {p.layout.goals[goal]}"
            if kind == "on":
                test += f" and {cond}" if cond else ""
            else:
                assert cond is not None
                test += f" and {self._no_event(cond)}"
                if events is not None and event not in events:
                    test = f"ip.reentered and {test}"
            lines.append(f"    if {test}: ip._reach(c, t, {goal!r})")
        return lines

    def _without_key(self, rule: CompiledRule) -> int:
        """The `fired` key marking an `after D without E` rule that fired and now waits for
        the next E to start counting again (a stage's keys die with the stay)."""
        return WITHOUT_KEY + rule.id if rule.stage is not None else -(WITHOUT_KEY + rule.id) - 1

    def _rearm_without(self, event: str, stage_index: int) -> list[str]:
        """An E re-arms every `after D without E` that already fired (LANGUAGE.md 11.17)."""

        p = self.program
        out = []
        for rule in (*p.anywhere_timers, *p.stages[stage_index].timers):
            if rule.without != event:
                continue
            key = self._without_key(rule)
            kind, life = (RULE, "c.epoch") if rule.stage is not None else (ANYWHERE, "c.life")
            out += [f"    if {key} in c.fired:",
                    f"        c.fired = tuple([k for k in c.fired if k != {key}])",
                    f"        ip._push(t + {rule.duration!r}, c.id, {kind}, {life}, {rule.id})"]
        return out

    def _build_enter(self, index: int) -> Hook:
        """Entering a stage (precise rule 1): its timers start, then its `on enter`."""

        stage = self.program.stages[index]
        fields = self._const({"stage": stage.name})
        lines = ["def enter(ip, c, t, e):", "    now = t", f"    c.stage = {index}",
                 "    c.entered = t", f"    ip.records.append((t, c.id, 'enter', {fields}))"]
        if stage.final:
            lines += ["    c.status = FINAL", "    c.final_at = t", "    return None"]
            return self._exec(lines, f"enter {stage.name}")  # type: ignore[return-value]
        if stage.timers:
            lines += ["    timers = ip.timers", "    epoch = c.epoch"]
            for rule in stage.timers:
                if rule.kind == "at":
                    lines.append(f"    ip._schedule_rule(c, t, e, {self._const(rule)}, "
                                 f"{RULE}, epoch)")
                else:
                    lines += ["    ip.seq += 1",
                              f"    _heappush(timers, (t + {rule.duration!r}, ip.seq, c.id, "
                              f"{RULE}, epoch, {rule.id}, None))"]
            lines.append("    if len(timers) > ip._compact_at: ip._compact()")
        for rule in stage.enter:
            if rule.target is not None:
                # `on enter -> STAGE` moves like any rule target; the stage's remaining
                # hooks do not run.
                body = "NO_BODY" if rule.body is NO_BODY else self._const(rule.body)
                move = (f"ip._transition(c, t, e, {rule.target}, {rule.location!r}, {body}); "
                        "return None")
                if rule.guard_source is None:
                    lines.append(f"    {move}")
                    break
                lines.append(f"    if {rule.guard_source}: {move}")
                continue
            if rule.body is NO_BODY:
                continue
            call = f"{self._const(rule.body)}(ip, c, t, e)"
            # A move inside `on enter` ends the stage's remaining hooks.
            test = call if rule.guard_source is None else f"{rule.guard_source} and {call}"
            lines.append(f"    if {test}: return None")
        lines.append("    return None")
        return self._exec(lines, f"enter {stage.name}")  # type: ignore[return-value]

    def _build_exit(self, index: int) -> Hook:
        """Leaving a stage: its `on exit` hooks, then its timers go stale."""
        stage = self.program.stages[index]
        fields = self._const({"stage": stage.name})
        lines = ["def exit(ip, c, t, e):", "    now = t"]
        if "exit" not in self.program.untraced:
            lines.append(f"    ip.records.append((t, c.id, 'exit', {fields}))")
        for rule in stage.exit:
            if rule.body is NO_BODY:
                continue
            call = f"{self._const(rule.body)}(ip, c, t, e)"
            lines.append(f"    {call}" if rule.guard_source is None
                         else f"    if {rule.guard_source}: {call}")
        # The old stage's timers and delayed statements are now stale.
        lines += ["    c.epoch += 1", "    return None"]
        return self._exec(lines, f"exit {stage.name}")  # type: ignore[return-value]

    def _build_settle(self, index: int) -> Settle:
        """Run-to-completion in a stage (step 4): its `when` rules (the `anywhere`
        ones first) and pass-through, in order; the first that fires starts the check
        again, in whatever stage the customer is then in."""
        lines = ["def settle(ip, c, t):", "    if c.status is not ACTIVE: return None",
                 "    now = t", "    e = EMPTY"]
        for rule in self.program.instant_rules(index):
            if rule.kind == "pass":
                lines += ["    if True:", *self._fire(rule, "        "),
                          f"        return {SETTLE}"]
                break  # the rules after a pass-through are never reached
            test = " and ".join(f"({source})" for source in (rule.expr_source, rule.guard_source)
                                if source is not None) or "True"
            if rule.target is None:
                # Without a target, once per stay (per life in `anywhere`).
                key = rule.id if rule.stage is not None else -rule.id - 1
                lines += [f"    if {key} not in c.fired and {test}:",
                          f"        c.fired = (*c.fired, {key})"]
            else:
                lines.append(f"    if {test}:")
            lines += [*self._fire(rule, "        "), f"        return {SETTLE}"]
        lines.append("    return None")
        return self._exec(lines, f"settle {self.program.stage_names[index]}")  # type: ignore[return-value]

    def _build_timer(self, rule_id: int) -> Timer:
        """A rule's timer comes due (step 1): `without` may push it back,
        `every` re-arms it, then its guard, its block or transition, settling, and the
        `when` goals a timer step can change."""
        p = self.program
        rule = p.rules[rule_id]
        lines = ["def timer(ip, c, t, kind, life):", "    now = t", "    e = EMPTY"]
        if rule.without is not None:
            start = "c.entered" if rule.stage is not None else "c.created"
            lines += [f"    last = c.{rule.without_slot}",
                      f"    due = max({start}, {start} if last is None else last) + "
                      f"{rule.duration!r}",
                      "    if due > t:",
                      f"        ip._push(due, c.id, kind, life, {rule.id})",
                      "        return None",
                      # Asleep until the next E starts the count again.
                      f"    c.fired = (*c.fired, {self._without_key(rule)})"]
        if rule.kind == "every":
            lines.append(f"    ip._push(t + {rule.duration!r}, c.id, kind, life, {rule.id})")
        elif rule.yearly:
            lines.append(f"    ip.rearm_yearly(c, t, kind, life, {self._const(rule)})")
        lines.append(f"    if {rule.guard_source or 'True'}:")
        lines += self._fire(rule, "        ")
        # A timer whose guard is false is still a step: settle and check goals either way.
        lines.append(f"    if ip._instant[c.stage]: {SETTLE}")
        for goal, _, events, truth in p.when_goals:
            if events is None:  # one decided by history alone cannot change here
                lines.append(f"    if not c.goal_bits & {p.layout.goals[goal]} and {truth}: "
                             f"ip._reach(c, t, {goal!r})")
        lines.append("    return None")
        return self._exec(lines, f"timer {rule.location}")  # type: ignore[return-value]

    def _fire(self, rule: CompiledRule, pad: str) -> list[str]:
        """A matching rule: its block, or its transition."""
        body = "NO_BODY" if rule.body is NO_BODY else self._const(rule.body)
        if rule.target is None:
            if rule.body is NO_BODY:
                return [f"{pad}pass"]
            return [f"{pad}moved = {body}(ip, c, t, e)"]
        if rule.fields is None:
            # An `anywhere` rule leaves whatever stage the customer is in.
            return [f"{pad}ip._transition(c, t, e, {rule.target}, {rule.location!r}, {body})",
                    f"{pad}moved = True"]
        return [*self._transition(rule, pad), f"{pad}moved = True"]

    def _transition(self, rule: CompiledRule, pad: str) -> list[str]:
        """``Interpreter._transition`` inlined for a stage rule, whose stage is known."""

        assert rule.stage is not None
        assert rule.target is not None
        assert rule.fields is not None
        old, new = self.program.stage_index[rule.stage], rule.target
        out = [f"{pad}if ip.used >= {MAX_TRANSITIONS}: ip._park(c, t)",
               f"{pad}ip.used += 1",
               f"{pad}(_exits[{old}] or _exit({old}))(ip, c, t, e)"]
        if rule.body is not NO_BODY:
            out.append(f"{pad}{self._const(rule.body)}(ip, c, t, e)")
        return out + [
            f"{pad}ip.records.append((t, c.id, 'transition', {self._const(rule.fields)}))",
            f"{pad}ip.path.append({self.program.stage_names[new]!r})",
            f"{pad}if c.fired: c.fired = tuple([key for key in c.fired if key < 0])",
            f"{pad}(_enters[{new}] or _enter({new}))(ip, c, t, e)"]

    @staticmethod
    def _no_event(cond: str) -> str:
        """A `when` condition sees no event data, whatever step checks it."""
        return cond if "e.get(" not in cond else f"(lambda e: {cond})({{}})"
