"""Statements compiled to closures ``(interpreter, customer, now, event) -> moved``.

Each closure captures what it can at load time (message, channel, the trace
fields it writes), so running it costs a call and a few look-ups.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from journeyflow.model import journey as m
from journeyflow.runtime.program import Action, split_arm

if TYPE_CHECKING:
    from journeyflow.runtime.interpreter import Interpreter
    from journeyflow.runtime.program import Program
    from journeyflow.runtime.state import Customer

__all__ = ["ActionCompiler", "run_body"]

Data = dict[str, Any]


def run_body(ip: Interpreter, c: Customer, t: float, e: Data, body: tuple[Action, ...]) -> bool:
    """Run statements in order; stop at the first that moved the customer."""
    for action in body:
        if action(ip, c, t, e):
            return True
    return False


class ActionCompiler:
    def __init__(self, program: Program) -> None:
        self.program = program

    def block(self, body: tuple[m.Action, ...]) -> tuple[Action, ...]:
        return tuple(self.action(a) for a in body)

    def action(self, action: m.Action) -> Action:  # noqa: C901 - one case per statement
        if isinstance(action, m.Send):
            return self._send({"action": "send", "message": action.message,
                               "channel": self.program.channels[action.message]})
        if isinstance(action, m.Offer):
            return self._send({"action": "offer", "offer": action.offer, "item": action.item,
                               "message": action.message,
                               "channel": self.program.channels[action.message]})
        if isinstance(action, m.GrantBonus):
            return self._grant(action)
        if isinstance(action, m.RedeemBonus):
            return self._redeem(action.bonus)
        if isinstance(action, m.SetAttribute):
            return self._set(action)
        if isinstance(action, m.TagAction):
            return self._tag(action)
        if isinstance(action, m.Emit | m.Notify):
            return self._emit(action)
        if isinstance(action, m.Delayed):
            return self._delayed(action)
        if isinstance(action, m.IfAction):
            return self._if(action)
        if isinstance(action, m.Split):
            return self._split(action)
        return self._goto(action)

    def _send(self, fields: dict[str, Any]) -> Action:
        def send(ip: Interpreter, c: Customer, t: float, e: Data) -> bool:
            ip.send(c, t, e, fields)
            return False

        return send

    def _grant(self, action: m.GrantBonus) -> Action:
        name, text = action.bonus, action.value_text
        expires = action.expires.total_seconds()
        remind = action.remind.total_seconds() if action.remind else None

        def grant(ip: Interpreter, c: Customer, t: float, e: Data) -> bool:
            ip.grant(c, t, name, text, expires, remind)
            return False

        return grant

    def _redeem(self, name: str) -> Action:
        def redeem(ip: Interpreter, c: Customer, t: float, e: Data) -> bool:
            ip.redeem(c, t, name, record=True)
            return False

        return redeem

    def _set(self, action: m.SetAttribute) -> Action:
        value = self.program.exprs.compile(action.value.node)
        name, op = action.attribute, action.op
        if name in self.program.date_attributes:
            def set_date(ip: Interpreter, c: Customer, t: float, e: Data) -> bool:
                new = value(c, e, t)
                c.attrs[name] = new
                ip.record_set(c, t, name, new)
                return False

            return set_date
        sign = -1 if op == "-=" else 1

        def set_attribute(ip: Interpreter, c: Customer, t: float, e: Data) -> bool:
            new = value(c, e, t)
            if op != "=" and new is not None:
                new = (c.attrs[name] or 0) + sign * new
            c.attrs[name] = new
            ip.records.append((t, c.id, "action", {"action": "set", "attribute": name,
                                                   "value": new}))
            return False

        return set_attribute

    def _tag(self, action: m.TagAction) -> Action:
        tag, remove = action.tag, action.kind == "untag"
        fields = {"action": action.kind, "tag": tag}

        def tag_customer(ip: Interpreter, c: Customer, t: float, e: Data) -> bool:
            if remove:
                c.tags.discard(tag)
            else:
                c.tags.add(tag)
            ip.record(c, t, "action", fields)
            return False

        return tag_customer

    def _emit(self, action: m.Emit | m.Notify) -> Action:
        exprs = {k: self.program.exprs.compile(v.node) for k, v in action.fields.items()}
        is_emit = isinstance(action, m.Emit)
        name = action.event if isinstance(action, m.Emit) else action.handler

        def emit(ip: Interpreter, c: Customer, t: float, e: Data) -> bool:
            data = {k: f(c, e, t) for k, f in exprs.items()}
            if is_emit:
                ip.emit(c, t, name, data)
            else:
                ip.notify(c, t, name, data)
            return False

        return emit

    def _delayed(self, action: m.Delayed) -> Action:
        delayed_id = self.program.register_delayed(self.block(action.body), action.unless)
        after = action.after.total_seconds()

        def schedule(ip: Interpreter, c: Customer, t: float, e: Data) -> bool:
            ip.schedule_delayed(c, t + after, delayed_id, e)
            return False

        return schedule

    def _if(self, action: m.IfAction) -> Action:
        cond = self.program.exprs.compile_condition(action.condition.node)
        then, orelse = self.block(action.then), self.block(action.orelse)

        def branch(ip: Interpreter, c: Customer, t: float, e: Data) -> bool:
            return run_body(ip, c, t, e, then if cond(c, e, t) else orelse)

        return branch

    def _split(self, action: m.Split) -> Action:
        journey, position = self.program.name, action.position
        shares = tuple(arm.share for arm in action.arms)
        bodies = tuple(self.block(arm.body) for arm in action.arms)

        def split(ip: Interpreter, c: Customer, t: float, e: Data) -> bool:
            arm = split_arm(journey, c.id, position, shares)
            c.arms[position] = arm
            return run_body(ip, c, t, e, bodies[arm])

        return split

    def _goto(self, action: m.Goto) -> Action:
        target = self.program.stage_index[action.stage]
        location = str(action.location)

        def goto(ip: Interpreter, c: Customer, t: float, e: Data) -> bool:
            ip.move(c, t, e, target, location)
            return True

        return goto
