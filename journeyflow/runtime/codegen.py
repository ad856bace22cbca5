"""Rule blocks compiled to one Python function each, once per journey.

A block of statements becomes a single generated function
``(interpreter, customer, now, event) -> moved``: attribute updates, tags,
conditions and splits run inline; sends, bonuses, emits and transitions call
the interpreter. Source is generated from the checked model, never from user
text (names are dictionary keys, user strings are ``repr`` literals), so the
speed of hand-written code comes without ``eval`` of anything a user typed.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from journeyflow.model import journey as m
from journeyflow.runtime.splits import split_chooser

if TYPE_CHECKING:
    from journeyflow.runtime.interpreter import Interpreter
    from journeyflow.runtime.program import Program
    from journeyflow.runtime.state import Customer

__all__ = ["Body", "BodyCompiler", "NO_BODY"]

Body = Callable[["Interpreter", "Customer", float, dict[str, Any]], bool]


def _no_body(ip: Interpreter, c: Customer, t: float, e: dict[str, Any]) -> bool:
    return False


NO_BODY: Body = _no_body


class BodyCompiler:
    """Generates the function of each block; constants live in one shared namespace."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.exprs = program.exprs
        self.namespace: dict[str, Any] = {
            **program.exprs.namespace(), "tuple": tuple, "len": len,
            "_bisect": bisect_right, "_next_allowed": program.delivery.next_allowed,
            "_open_get": program.delivery.openings.get, "_zones": program.zones}
        self.sources: dict[str, str] = {}
        self._count = 0

    def compile(self, body: tuple[m.Action, ...], label: str) -> Body:
        """One function for ``body``; an empty block costs nothing to run."""
        if not body:
            return NO_BODY
        return self._function([*self._block(body, 1), "    return False"], label)

    def _function(self, body: list[str], label: str) -> Body:
        """Compile ``body`` as a function ``(ip, c, t, e)`` in the shared namespace."""
        self._count += 1
        name = f"block_{self._count}"
        lines = [f"def {name}(ip, c, t, e):", "    now = t", "    rec = ip.records.append", *body]
        source = "\n".join(lines)
        self.sources[label] = source
        code = compile(source, f"<journey block {label}>", "exec")
        exec(code, self.namespace)  # noqa: S102 - generated from the checked model
        return self.namespace[name]  # type: ignore[no-any-return]

    def _const(self, value: Any) -> str:
        self._count += 1
        name = f"K{self._count}"
        self.namespace[name] = value
        return name

    def _block(self, body: tuple[m.Action, ...], depth: int) -> list[str]:
        out: list[str] = []
        for action in body:
            out += self._statement(action, depth)
        return out or ["    " * depth + "pass"]

    def _statement(self, action: m.Action, depth: int) -> list[str]:  # noqa: C901
        pad = "    " * depth
        p = self.program
        if isinstance(action, m.Send):
            return self._send({"action": "send", "message": action.message,
                               "channel": p.channels[action.message]}, pad)
        if isinstance(action, m.Offer):
            return self._send({"action": "offer", "offer": action.offer, "item": action.item,
                               "message": action.message,
                               "channel": p.channels[action.message]}, pad)
        if isinstance(action, m.GrantBonus):
            remind = action.remind.total_seconds() if action.remind else None
            return [f"{pad}ip.grant(c, t, {action.bonus!r}, {action.held_value!r}, "
                    f"{action.expires.total_seconds()!r}, {remind!r})"]
        if isinstance(action, m.RedeemBonus):
            return [f"{pad}ip.redeem(c, t, {action.bonus!r}, True)"]
        if isinstance(action, m.SetAttribute):
            return self._set(action, pad)
        if isinstance(action, m.TagAction):
            record = self._const({"action": action.kind, "tag": action.tag})
            bit = p.layout.tag_bit(action.tag)
            if action.kind == "untag":
                change = f"c.tag_bits &= {~bit}"
            else:
                change = f"c.tag_bits |= {bit}"
            if action.kind in p.untraced:
                return [f"{pad}{change}"]
            return [f"{pad}{change}", f"{pad}rec((t, c.id, 'action', {record}))"]
        if isinstance(action, m.Emit | m.Notify):
            values = ", ".join(f"{k!r}: {self.exprs.source(v.node)}"
                               for k, v in action.fields.items())
            if isinstance(action, m.Emit):
                return [f"{pad}ip.emit(c, t, {action.event!r}, {{{values}}})"]
            return [f"{pad}ip.notify(c, t, {action.handler!r}, {{{values}}})"]
        if isinstance(action, m.Delayed):
            return self._delayed(action, pad)
        if isinstance(action, m.IfAction):
            out = [f"{pad}if {self.exprs.truth(action.condition.node)}:"]
            out += self._block(action.then, depth + 1)
            if action.orelse:
                out += [f"{pad}else:"] + self._block(action.orelse, depth + 1)
            return out
        if isinstance(action, m.Split):
            return self._split(action, depth)
        target = p.stage_index[action.stage]
        return [f"{pad}ip.move(c, t, e, {target}, {str(action.location)!r})",
                f"{pad}return True"]

    def _delayed(self, action: m.Delayed, pad: str) -> list[str]:
        """Schedule delayed statements: ``after`` a while, or ``at`` an instant computed now
        (one not after now is due at once, after this step; a null one never)."""
        p = self.program
        delayed = p.register_delayed(self.compile(action.body, f"delayed {action.location}"),
                                     action.unless, action.unless_where)
        waits = p.delayed[delayed][2]

        def schedule(due: str) -> str:
            if waits is not None:
                return f"ip.schedule_wait(c, {due}, {delayed}, e, {waits!r})"
            return f"ip.schedule_delayed(c, {due}, {delayed}, e)"

        if action.at is None:
            assert action.after is not None
            return [f"{pad}{schedule(f't + {action.after.total_seconds()!r}')}"]
        return [f"{pad}_due = {self.exprs.source(action.at.node)}",
                f"{pad}if _due is not None: {schedule('(_due if _due > t else t)')}"]

    def _send(self, fields: dict[str, Any], pad: str) -> list[str]:
        """A send, inlined, in the order of delivery: consent, then quiet hours and send
        window (defer), then at the delivery time consent again and the frequency caps.

        A transactional message skips all of it. A send deferred by quiet hours or the
        send window is delivered when due by a function of its own,
        ``Program.deliverers[i]``; the pending send keeps ``i``, which a store can save.
        Checks a journey does not declare generate no code.
        """
        delivery = self.program.delivery
        k = self._const(fields)
        if self.program.model.messages[fields["message"]].transactional:
            return self._deliver(fields, k, pad, capped=False)
        consent = self._consent(fields["channel"])
        out: list[str] = []
        holdout = self.program.layout.holdout
        if holdout is not None:
            out, pad = self._unless(f"c.{holdout}", fields, "holdout", pad)
        if consent is not None:
            more, pad = self._unless(f"not ({consent})", fields, "no_consent", pad)
            out += more
        if not delivery.timed:
            return out + self._deliver(fields, k, pad)
        later = "(at := _next_allowed(t)) != t"
        if self.program.model.timezone_attribute is not None:
            later = "(at := _zones.next_allowed(c, t)) != t"  # in the customer's zone
        elif delivery.bucket is not None:
            # Most sends fall in an hour already known to be open: one dict look-up.
            later = f"_open_get(t // {float(delivery.bucket)!r}, 1) is not None and {later}"
        deliverers = self.program.deliverers
        deliverers.append(self._function(
            [*self._deliver(fields, k, "    ", consent=consent), "    return False"],
            f"deliver {fields['message']} {k}"))
        return [*out, f"{pad}if {later}: ip.defer(c, at, e, {k}, {len(deliverers) - 1})",
                f"{pad}else:", *self._deliver(fields, k, pad + "    ")]

    def _consent(self, channel: str) -> str | None:
        """The test every consent rule of ``channel`` (or ``any``) makes, or None."""
        rules = self.program.model.consent_rules(channel)
        if not rules:
            return None
        return " and ".join(f"({self.exprs.truth(rule.condition.node)})" for rule in rules)

    def _unless(self, test: str, fields: dict[str, Any], reason: str,
                pad: str) -> tuple[list[str], str]:
        """Suppress the send with ``reason`` if ``test``; the rest goes at the new pad."""
        suppressed = self._const({"message": fields["message"], "channel": fields["channel"],
                                  "reason": reason})
        return [f"{pad}if {test}: rec((t, c.id, 'suppressed', {suppressed}))",
                f"{pad}else:"], pad + "    "

    def _deliver(self, fields: dict[str, Any], k: str, pad: str, *, capped: bool = True,
                 consent: str | None = None) -> list[str]:
        """Delivery now: consent (when it is checked again), the frequency caps (which a
        transactional message neither meets nor fills), the action record, the channel."""
        delivery = self.program.delivery
        channel = fields["channel"]
        out: list[str] = []
        if consent is not None:
            out, pad = self._unless(f"not ({consent})", fields, "no_consent", pad)
        keys = [key for key in (channel, "any") if key in delivery.limits] if capped else []
        if keys:
            # Journeys sharing a send log see each other's deliveries (runtime.sendlog).
            out.append(f"{pad}if ip.shared is not None: ip.shared.sync(ip.p.delivery, c, t)")
            # Over a cap when `count` deliveries already fall in (t - per, t].
            tests = [f"len(c.{delivery.slots[key]}) - _bisect(c.{delivery.slots[key]}, "
                     f"t - {per!r}) >= {count}"
                     for key in keys for count, per in delivery.limits[key]]
            suppressed = self._const({"message": fields["message"], "channel": channel,
                                      "reason": "frequency_cap"})
            out += [f"{pad}if {' or '.join(tests)}: rec((t, c.id, 'suppressed', {suppressed}))",
                    f"{pad}else:"]
            pad += "    "
            for key in keys:
                slot, keep = delivery.slots[key], delivery.keep[key]
                out.append(f"{pad}c.{slot} = (*c.{slot}[_bisect(c.{slot}, t - {keep!r}):], t)")
        if capped:
            out.append(f"{pad}if ip.shared is not None: "
                       f"ip.shared.add(ip.p.name, c.id, {channel!r}, t)")
        out.append(f"{pad}c.last_contact = t")
        if fields["action"] not in self.program.untraced:
            out.append(f"{pad}rec((t, c.id, 'action', {k}))")
        return out + [f"{pad}if ip.executor is not None: "
                      f"ip.executor.deliver(ip.p, c, t, {k}, e)"]

    def _set(self, action: m.SetAttribute, pad: str) -> list[str]:
        name = action.attribute
        slot = self.program.layout.attribute(name)
        out = [f"{pad}v = {self.exprs.source(action.value.node)}"]
        if action.op != "=":
            sign = "-" if action.op == "-=" else "+"
            out.append(f"{pad}if v is not None: v = (c.{slot} or 0) {sign} v")
        out.append(f"{pad}c.{slot} = v")
        if "set" in self.program.untraced:
            return out
        if name in self.program.date_attributes:
            out.append(f"{pad}ip.record_set(c, t, {name!r}, v)")
        else:
            out.append(f"{pad}rec((t, c.id, 'action', "
                       f"{{'action': 'set', 'attribute': {name!r}, 'value': v}}))")
        return out

    def _split(self, action: m.Split, depth: int) -> list[str]:

        pad = "    " * depth
        shares = tuple(arm.share for arm in action.arms)
        choose = self._const(split_chooser(self.program.name, action.key, shares))
        out = [f"{pad}arm = {choose}(c.id)",
               f"{pad}c.{self.program.layout.arm_slot(action.key)} = arm"]
        for i, arm in enumerate(action.arms):
            record = self._const({"action": "split", "split": action.key, "arm": arm.title(i)})
            out += [f"{pad}{'if' if i == 0 else 'elif'} arm == {i}:",
                    f"{pad}    rec((t, c.id, 'action', {record}))"]
            out += self._block(arm.body, depth + 1)
        return out
