"""examples/lifecycle.journey on the ``transitions`` library (0.9.x).

One static :class:`transitions.Machine` for the whole journey, with one lightweight
model, a :class:`Cursor` that is pointed at the customer being stepped (customers
are not registered as models: ``add_model`` per customer is O(n^2) to set up and
costs hundreds of MB). Stages are ``State`` objects whose ``on_enter``/``on_exit``
callbacks write the trace and start the stage's timers; rules are transitions with
Python callables as conditions and ``after`` callbacks as actions, in file order
(transitions runs the first whose conditions pass). ``anywhere`` rules are triggers of
their own, fired before the stage's; timers and run-to-completion are triggers too
(``timer_service_60d``, ``settle``). transitions has no simulated time, so the timer
heap, caps, quiet hours, bonuses and goals are the hand-written version's.

Only triggers valid in the current stage are fired (``machine.get_triggers`` per
stage, computed once): an invalid trigger costs a formatted log message each time.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from transitions import Machine, State, Transition

from baselines.handwritten import (
    ANYWHERE,
    EMPTY,
    GOALS,
    INSTANT,
    ON_ENTER,
    STAGE_TIMERS,
    TABLE,
    Body,
    Customer,
    Data,
    Guard,
    Handwritten,
    Target,
    TimerSpec,
)
from baselines.lifecycle import CHURNED, STAGES

__all__ = ["WithTransitions"]

STAGE_INDEX = {name: i for i, name in enumerate(STAGES)}


class RuleTransition(Transition):
    """A transition that knows its rule's location, for the trace record."""

    def __init__(self, *args: Any, location: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.location = location


class JourneyMachine(Machine):
    transition_cls = RuleTransition


class Cursor:
    """The machine's only model: the customer being stepped and the time."""

    def __init__(self) -> None:
        self.state = STAGES[0]
        self.c: Customer | None = None
        self.t = 0.0


def _data(ev: Any) -> Data:
    return ev.args[0] if ev.args else EMPTY


class WithTransitions(Handwritten):
    """The lifecycle journey dispatched by one static ``transitions`` machine."""

    def __init__(self) -> None:
        super().__init__()
        self.cursor = Cursor()
        states = []
        for index, name in enumerate(STAGES):
            on_enter: list[Any] = [self._entered]
            hook = ON_ENTER[index]
            if hook is not None:
                on_enter.append(partial(self._run, hook))
            states.append(State(name, on_enter=on_enter, on_exit=[self._exited],
                                final=index == CHURNED))
        self.machine = JourneyMachine(model=self.cursor, states=states, initial=STAGES[0],
                                      auto_transitions=False, send_event=True,
                                      ignore_invalid_triggers=True)
        self.anywhere: dict[str, list[str]] = {}
        self._build()
        self.fire: dict[str, Any] = {name: getattr(self.cursor, name)
                                     for name in self.machine.events}
        self.valid = {name: frozenset(self.machine.get_triggers(name)) for name in STAGES}
        self.settling = frozenset(STAGES[i] for i, rules in enumerate(INSTANT) if rules)

    # ---- the machine -----------------------------------------------------------------

    def _build(self) -> None:
        active = [name for i, name in enumerate(STAGES) if i != CHURNED]
        for event, rules in ANYWHERE.items():
            for i, (guard, target, body) in enumerate(rules):
                trigger = f"anywhere_{event}_{i}"
                self.anywhere.setdefault(event, []).append(trigger)
                self._add(trigger, active, guard, target, body)
        for (stage, event), rules in TABLE.items():
            for guard, target, body in rules:
                self._add(event, STAGES[stage], guard, target, body)
        for stage, specs in enumerate(STAGE_TIMERS):
            for spec in specs:
                self._add(spec[4], STAGES[stage], None, spec[2], spec[3])
        for stage, instant in enumerate(INSTANT):
            for cond, target in instant:
                guard = None if cond is None else partial(_instant_guard, cond)
                self._add("settle", STAGES[stage], guard, target, None)

    def _add(self, trigger: str, source: str | list[str], guard: Guard | None,
             target: Target | None, body: Body | None) -> None:
        assert body is None or target is None, "a rule's block with a target: not needed here"
        conditions: list[str | Callable[..., bool | None]] | None = (
            None if guard is None else [partial(_condition, guard)])
        after: list[str | Callable[..., bool | None]] | None = (
            None if body is None else [partial(self._run, body)])
        sources: Any = source
        self.machine.add_transition(
            trigger, sources, None if target is None else STAGES[target[0]],
            conditions=conditions, after=after,
            location="" if target is None else target[1][1])

    def _exited(self, ev: Any) -> None:
        cursor = ev.model
        c = cursor.c
        self.records.append((cursor.t, c.id, "exit", STAGES[c.stage]))
        c.epoch += 1

    def _entered(self, ev: Any) -> None:
        cursor = ev.model
        transition = ev.transition
        c = cursor.c
        self.records.append((cursor.t, c.id, "transition", transition.source,
                             (transition.dest, transition.location)))
        self.begin_stay(c, cursor.t, STAGE_INDEX[transition.dest])

    def _run(self, body: Body, ev: Any) -> None:
        """An ``on enter`` block or a rule's block, as a transitions callback."""
        cursor = ev.model
        body(self, cursor.c, cursor.t, _data(ev))

    # ---- stepping --------------------------------------------------------------------

    def handle_valid(self, ev: tuple[str, str, Data, float, Data]) -> None:
        cid, name, data, t, _ = ev
        c = self.arrive(cid, name, data, t)
        if not c.active:
            return
        self.rules(c, t, name, data)
        if INSTANT[c.stage]:
            self.settle(c, t)
        goals = GOALS.get(name)
        if goals is not None:
            self.reach(c, t, goals)
        self.when_goals(c, t)

    def rules(self, c: Customer, t: float, name: str, data: Data) -> None:
        """Every matching ``anywhere`` rule, then (unless one moved) the stage's rules."""
        cursor = self.cursor
        cursor.c = c
        cursor.t = t
        fire = self.fire
        for trigger in self.anywhere.get(name, ()):
            cursor.state = STAGES[c.stage]
            epoch = c.epoch
            if fire[trigger](data) and c.epoch != epoch:
                return
        stage = STAGES[c.stage]
        if name in self.valid[stage]:
            cursor.state = stage
            fire[name](data)

    def event_step(self, c: Customer, t: float, name: str, data: Data) -> None:
        if not c.active:
            return
        self.rules(c, t, name, data)
        self.after_step(c, t)

    def settle(self, c: Customer, t: float) -> None:
        cursor = self.cursor
        settle = self.fire["settle"]
        while c.active and STAGES[c.stage] in self.settling:
            cursor.c = c
            cursor.t = t
            cursor.state = STAGES[c.stage]
            if not settle(EMPTY):
                return

    def timer_rule(self, c: Customer, t: float, spec: TimerSpec) -> None:
        cursor = self.cursor
        cursor.c = c
        cursor.t = t
        cursor.state = STAGES[c.stage]
        self.fire[spec[4]](EMPTY)


def _condition(guard: Guard, ev: Any) -> bool:
    return bool(guard(ev.model.c, _data(ev)))


def _instant_guard(cond: Any, c: Customer, data: Data) -> Any:
    return cond(c)
