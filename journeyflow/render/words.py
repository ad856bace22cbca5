"""Triggers, guards and actions in the words a marketer uses on a journey map.

The compiler's own summaries (:func:`journeyflow.compile.graph.action_summary`)
echo the file syntax (``send welcome``, ``after 14d``); a map is read by people
who never open the file, so durations are spelled out and messages are named
by what they are ("welcome mail").

Examples
--------
>>> from datetime import timedelta
>>> duration_words(timedelta(days=1, hours=12))
'1 day 12 hours'
>>> expression_words("event.amount > 100")
'amount > 100'
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta

from journeyflow.model import journey as m

__all__ = [
    "ActionText",
    "action_texts",
    "channel_word",
    "duration_words",
    "expression_words",
    "hook_words",
    "trigger_words",
]

# Built-in channels get a noun; a declared channel is named as written ("via crm").
_CHANNEL_NOUNS = {"email": "mail", "sms": "SMS", "push": "push", "webhook": "webhook"}
_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60))
_EVENT_FIELD = re.compile(r"\bevent\.")
_WORDS = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class ActionText:
    """One action line and the messages it sends (for the stats overlay)."""

    text: str
    messages: tuple[str, ...] = ()


def duration_words(value: timedelta | None) -> str:
    """``timedelta(days=14)`` as ``14 days``; weeks stay days, as marketers write them."""
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    parts = []
    for unit, size in _UNITS:
        if seconds >= size:
            count, seconds = divmod(seconds, size)
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    return " ".join(parts) or "0 minutes"


def expression_words(source: str) -> str:
    """A guard as written, minus the ``event.`` prefix a reader does not need."""
    return _EVENT_FIELD.sub("", source)


def channel_word(message: str, channel: str) -> str:
    """``welcome`` over email is the "welcome mail"; an ``sms_reminder`` stays as is."""
    noun = _CHANNEL_NOUNS.get(channel)
    if noun is None:
        return f"{message} via {channel}"
    words = set(_WORDS.findall(message.lower()))
    return message if words & {noun.lower(), channel} else f"{message} {noun}"


def trigger_words(trigger: m.Trigger) -> str:
    """What makes a customer move, e.g. ``purchased`` or ``after 60 days without purchased``."""
    kind = trigger.kind
    if kind == "on":
        return trigger.event or ""
    if kind in ("after", "every"):
        text = f"{kind} {duration_words(trigger.duration)}"
        return text + (f" without {trigger.without}" if trigger.without else "")
    if kind in ("at", "when"):
        return f"{kind} {expression_words(trigger.expr.source) if trigger.expr else ''}".rstrip()
    if kind in ("enter", "exit"):
        return hook_words(kind)
    return "immediately"


def hook_words(kind: str) -> str:
    """``on enter``/``on exit`` as a map heading."""
    return {"enter": "on entry", "exit": "on leaving"}.get(kind, kind)


def _send_words(message: str, messages: Mapping[str, m.Message]) -> str:
    known = messages.get(message)
    return channel_word(message, known.channel if known else "email")


def _arm_words(split: m.Split, arm: m.SplitArm) -> str:
    """``50% split``, or with names ``split "winback_offer", coupon 50%``."""
    if split.name is None and arm.label is None:
        return f"{arm.share:g}% split"
    title = f'split "{split.name}"' if split.name is not None else "split"
    label = f", {arm.label}" if arm.label is not None else ","
    return f"{title}{label} {arm.share:g}%"


def action_texts(actions: tuple[m.Action, ...],
                 messages: Mapping[str, m.Message]) -> Iterator[ActionText]:
    """One line per action of a block; a ``split`` gives one line per arm, an ``if``
    one for each branch.

    Top-level ``-> STAGE`` is left out: the map draws it as an edge.
    """
    for action in actions:
        if isinstance(action, m.Split):
            for arm in action.arms:
                inner = _joined(arm.body, messages)
                yield ActionText(f"{_arm_words(action, arm)}: {inner.text or 'no action'}",
                                 inner.messages)
        elif isinstance(action, m.IfAction) and action.orelse:
            then, orelse = _joined(action.then, messages), _joined(action.orelse, messages)
            condition = expression_words(action.condition.source)
            yield ActionText(f"if {condition}: {then.text or 'nothing'}", then.messages)
            yield ActionText(f"otherwise: {orelse.text or 'nothing'}", orelse.messages)
        elif not isinstance(action, m.Goto):
            yield _one(action, messages)


def _joined(actions: tuple[m.Action, ...], messages: Mapping[str, m.Message]) -> ActionText:
    parts = [_one(a, messages) for a in actions]
    return ActionText(", ".join(p.text for p in parts if p.text),
                      tuple(name for p in parts for name in p.messages))


def _one(action: m.Action, messages: Mapping[str, m.Message]) -> ActionText:
    """One action; compound actions recurse through :func:`_joined`."""
    if isinstance(action, m.Send):
        return ActionText(_send_words(action.message, messages), (action.message,))
    if isinstance(action, m.Offer):
        what = action.offer.replace("_", "-")
        return ActionText(f'{what} "{action.item}" in {_send_words(action.message, messages)}',
                          (action.message,))
    if isinstance(action, m.Delayed):
        inner = _joined(action.body, messages)
        when = (f"at {action.at.source}" if action.at is not None
                else f"after {duration_words(action.after)}")
        return ActionText(f"{when}{action.unless_text}: {inner.text}", inner.messages)
    if isinstance(action, m.IfAction):
        return _if_words(action, messages)
    if isinstance(action, m.Split):
        # A split nested in another action: every arm on one line.
        arms = [(arm.share, _joined(arm.body, messages)) for arm in action.arms]
        text = " / ".join(f"{share:g}% {inner.text or 'no action'}" for share, inner in arms)
        return ActionText(f"split {text}", tuple(n for _, inner in arms for n in inner.messages))
    return ActionText(_plain_words(action))


def _plain_words(action: m.Action) -> str:
    """An action that sends nothing and holds no other actions."""
    if isinstance(action, m.GrantBonus):
        text = f"bonus {action.bonus} {action.value_text} for {duration_words(action.expires)}"
        return text + (f", reminder {duration_words(action.remind)} before"
                       if action.remind else "")
    if isinstance(action, m.RedeemBonus):
        return f"redeem bonus {action.bonus}"
    if isinstance(action, m.SetAttribute):
        return _set_words(action)
    if isinstance(action, m.TagAction):
        return f"{'tag' if action.kind == 'tag' else 'remove tag'} {action.tag}"
    if isinstance(action, m.Emit):
        return f"raise {action.event}"
    if isinstance(action, m.Notify):
        return f"notify {action.handler}"
    if isinstance(action, m.Goto):
        return f"then {action.stage}"
    return action.kind


def _set_words(action: m.SetAttribute) -> str:
    value = expression_words(action.value.source)
    if action.op == "+=":
        return f"add {value} to {action.attribute}"
    if action.op == "-=":
        return f"subtract {value} from {action.attribute}"
    return f"set {action.attribute} to {value}"


def _if_words(action: m.IfAction, messages: Mapping[str, m.Message]) -> ActionText:
    then = _joined(action.then, messages)
    text = f"if {expression_words(action.condition.source)}: {then.text or 'nothing'}"
    names = then.messages
    if action.orelse:
        orelse = _joined(action.orelse, messages)
        text += f"; otherwise: {orelse.text or 'nothing'}"
        names += orelse.messages
    return ActionText(text, names)
