"""Journey-wide declarations: header, attributes, events, messages, channels, caps, quiet
hours, send window, segments, goals, value, reentry and the migrate block."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from journeyflow.model import journey as m
from journeyflow.syntax.format_expr import float_text, quote
from journeyflow.versions.canon import duration_text, expr_or_none, same
from journeyflow.versions.changes import JOURNEY, Change, verb_of
from journeyflow.versions.context import Pair, Use, sends, triggered_by

__all__ = ["declaration_changes", "value_text"]

T = TypeVar("T")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def declaration_changes(pair: Pair) -> Iterator[Change]:
    for compare in (_header, _attributes, _events, _messages, _channels, _limits,
                    _sending_times, _campaign, _segments, _goals, _value_and_reentry):
        yield from compare(pair)


def value_text(value: Any) -> str:
    """A default as the language writes it.

    Examples
    --------
    >>> value_text("DE"), value_text(0), value_text(True), value_text(None), value_text([1, "a"])
    ('"DE"', '0', 'true', 'null', '[1, "a"]')
    """
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(value_text(item) for item in value) + "]"
    if isinstance(value, int | float):
        return float_text(float(value))
    return str(value)


@dataclass(frozen=True)
class Named:
    """How to compare one kind of named declaration."""

    kind: str  # the change kind, e.g. "attribute"
    noun: str  # how a reader names one, e.g. "attribute"
    key: tuple[str, ...]  # its key in Version.lines, without its name
    parent: tuple[str, ...]  # where a missing one would be declared
    text: Callable[[Any], str]
    note: Callable[[str, Any, Any], str | None] = lambda verb, old, new: None


def _named(pair: Pair, how: Named, old: Mapping[str, T], new: Mapping[str, T],
           everyone: bool = True, who: Callable[[str], Use] | None = None,
           ) -> Iterator[Change]:
    for name in [*new, *(n for n in old if n not in new)]:
        was, now = old.get(name), new.get(name)
        if was is not None and now is not None and same(was, now):
            continue
        verb = verb_of(was, now)
        stages: tuple[str, ...] = ()
        if who is not None:
            stages, everyone = pair.users(who(name))
        yield Change(
            how.kind, verb, JOURNEY, f"{how.noun} {name}",
            *pair.sides(pair.old.line((*how.key, name), how.parent),
                        None if was is None else how.text(was),
                        pair.new.line((*how.key, name), how.parent),
                        None if now is None else how.text(now)),
            stages=stages, everyone=everyone, note=how.note(verb, was, now))


def _header(pair: Pair) -> Iterator[Change]:
    old, new = pair.old.model, pair.new.model
    if old.name != new.name:
        yield Change("journey.name", "renamed", JOURNEY, "journey name",
                     *pair.sides(pair.old.line(("header",)), quote(old.name),
                                 pair.new.line(("header",)), quote(new.name)),
                     everyone=True, note="customers are kept per journey name, and the "
                     "journey name seeds every split: customers may take other arms")
    if old.version != new.version:
        yield Change("journey.version", "changed", JOURNEY, "version",
                     *pair.sides(pair.old.line(("version",)), _optional(old.version),
                                 pair.new.line(("version",)), _optional(new.version)),
                     everyone=True)
    if old.timezone != new.timezone:
        yield Change("journey.timezone", "changed", JOURNEY, "time zone",
                     *pair.sides(pair.old.line(("timezone",)), quote(old.timezone),
                                 pair.new.line(("timezone",)), quote(new.timezone)),
                     everyone=True, note="quiet hours, send windows and times without an "
                     "offset are read in the new zone")


def _optional(value: int | None) -> str | None:
    return None if value is None else str(value)


def _attribute_text(attr: m.Attribute) -> str:
    default = "" if attr.default is None else f" = {value_text(attr.default)}"
    return f"{attr.name}: {attr.type}{'?' if attr.optional else ''}{default}"


def _attribute_note(verb: str, old: m.Attribute | None, new: m.Attribute | None) -> str | None:
    if verb == "removed":
        return "the value customers hold is dropped"
    if old is None or new is None:
        return "customers already in the journey get the default"
    if (old.type, old.optional) != (new.type, new.optional):
        return "customers already in the journey hold values of the old type"
    return "the new default applies to customers who start from now on"


def _attributes(pair: Pair) -> Iterator[Change]:
    how = Named("attribute", "attribute", ("attribute",), ("customer",),
                _attribute_text, _attribute_note)
    yield from _named(pair, how, pair.old.model.attributes, pair.new.model.attributes)


def _events(pair: Pair) -> Iterator[Change]:
    old = {k: v for k, v in pair.old.model.events.items() if not v.builtin}
    new = {k: v for k, v in pair.new.model.events.items() if not v.builtin}
    whole = Named("event", "event", ("event",), (), _event_text)
    yield from _named(pair, whole, {k: v for k, v in old.items() if k not in new},
                      {k: v for k, v in new.items() if k not in old}, who=triggered_by)
    for name in (n for n in new if n in old):
        field = Named("event.field", f"event {name}, field", ("field", name), ("event", name),
                      _attribute_text)
        yield from _named(pair, field, old[name].fields, new[name].fields,
                          who=_triggered_by_event(name))


def _triggered_by_event(event: str) -> Callable[[str], Use]:
    """For an event's fields: the rules triggered by the event, whatever the field."""
    return lambda _field: triggered_by(event)


def _event_text(event: m.EventType) -> str:
    fields = ", ".join(_attribute_text(f) for f in event.fields.values())
    return f"event {event.name} {{ {fields} }}" if fields else f"event {event.name} {{}}"


# ---- messages and channels -----------------------------------------------------------------


def _messages(pair: Pair) -> Iterator[Change]:
    old, new = pair.old.model.messages, pair.new.model.messages
    whole = Named("message", "message", ("message",), (),
                  lambda msg: f"message {msg.name} via {msg.channel}")
    yield from _named(pair, whole, {k: v for k, v in old.items() if k not in new},
                      {k: v for k, v in new.items() if k not in old}, who=sends)
    for name in (n for n in new if n in old):
        yield from _message_parts(pair, old[name], new[name])


def _message_parts(pair: Pair, old: m.Message, new: m.Message) -> Iterator[Change]:
    parts: list[tuple[str, str | None, str | None]] = [
        ("channel", old.channel, new.channel), ("subject", old.subject, new.subject),
        ("body", old.body, new.body),
        ("template", pair.old.template_text(old), pair.new.template_text(new)),
        ("transactional", _transactional(old), _transactional(new))]
    stages, everyone = pair.users(sends(new.name))
    for part, was, now in parts:
        if was == now:
            continue
        verb = verb_of(was, now)
        parent = ("message", new.name)
        note = _template_note(old, new) if part == "template" else None
        yield Change(f"message.{part}", verb, JOURNEY, f"message {new.name}",
                     *pair.sides(pair.old.line(("part", old.name, part), parent), was,
                                 pair.new.line(("part", new.name, part), parent), now),
                     stages=stages, everyone=everyone, note=note)


def _transactional(message: m.Message) -> str | None:
    return "transactional" if message.transactional else None


def _template_note(old: m.Message, new: m.Message) -> str:
    if old.template and new.template and old.template != new.template:
        return f"the template file was {old.template}, it is {new.template}"
    return f"the template file {new.template or old.template}"


def _channels(pair: Pair) -> Iterator[Change]:
    old = {c: c for c in pair.old.model.channels - set(m.BUILTIN_CHANNELS)}
    new = {c: c for c in pair.new.model.channels - set(m.BUILTIN_CHANNELS)}
    how = Named("channel", "channel", ("channel",), (), lambda name: f"channel {name}")
    yield from _named(pair, how, old, new)


# ---- caps and sending times ----------------------------------------------------------------


def _limit_text(limit: m.Limit) -> str:
    return f"limit {limit.channel} to {limit.count} per {duration_text(limit.per)}"


def _limits(pair: Pair) -> Iterator[Change]:
    """Caps are matched by channel: one cap per channel (the usual case) reads as changed."""
    old = _by_channel(pair.old.model.limits)
    new = _by_channel(pair.new.model.limits)
    for channel in [*new, *(c for c in old if c not in new)]:
        was, now = old.get(channel, []), new.get(channel, [])
        kept = [(i, lim) for i, lim in was if not any(same(lim, n) for _, n in now)]
        fresh = [(i, lim) for i, lim in now if not any(same(lim, o) for _, o in was)]
        for k in range(max(len(kept), len(fresh))):
            yield _limit_change(pair, kept[k] if k < len(kept) else None,
                                fresh[k] if k < len(fresh) else None)


def _by_channel(limits: tuple[m.Limit, ...]) -> dict[str, list[tuple[int, m.Limit]]]:
    out: dict[str, list[tuple[int, m.Limit]]] = {}
    for i, limit in enumerate(limits):
        out.setdefault(limit.channel, []).append((i, limit))
    return out


def _limit_change(pair: Pair, old: tuple[int, m.Limit] | None,
                  new: tuple[int, m.Limit] | None) -> Change:
    verb = verb_of(old, new)
    channel = (new or old)[1].channel  # type: ignore[index]
    return Change("limit", verb, JOURNEY, f"frequency cap on {channel}",
                  *pair.sides(pair.old.line(("limit", str(old[0])) if old else ("header",)),
                              _limit_text(old[1]) if old else None,
                              pair.new.line(("limit", str(new[0])) if new else ("header",)),
                              _limit_text(new[1]) if new else None),
                  everyone=True)


def _quiet_text(quiet: m.QuietHours) -> str:
    return f"quiet hours {quiet.start:%H:%M} to {quiet.end:%H:%M}"


def _window_text(window: m.SendWindow) -> str:
    days = ",".join(DAYS[d] for d in sorted(window.days))
    return f"send window {days} {window.start:%H:%M} to {window.end:%H:%M}"


def _sending_times(pair: Pair) -> Iterator[Change]:
    old, new = pair.old.model, pair.new.model
    yield from _single(pair, "quiet_hours", "quiet hours", old.quiet_hours, new.quiet_hours,
                       _quiet_text)
    yield from _single(pair, "send_window", "send window", old.send_window, new.send_window,
                       _window_text)


def _consent_text(consents: tuple[m.Consent, ...]) -> str:
    return "; ".join(f"consent {c.channel} where {expr_or_none(c.condition)}" for c in consents)


def _campaign(pair: Pair) -> Iterator[Change]:
    """Each customer's zone, consent and the holdout: who gets marketing, and when."""
    old, new = pair.old.model, pair.new.model
    yield from _single(pair, "journey.timezone_attribute", "customer time zone",
                       old.timezone_attribute, new.timezone_attribute,
                       lambda name: f"timezone customer.{name}", "quiet hours, send windows, "
                       "next(...) and yearly dates follow each customer's own zone")
    yield from _single(pair, "consent", "consent", old.consents or None, new.consents or None,
                       _consent_text, "marketing sends are checked against it at delivery")
    yield from _single(pair, "holdout", "holdout", old.holdout, new.holdout,
                       lambda share: f"holdout {float_text(share)}%",
                       "customers held out of marketing follow the share")


def _single(pair: Pair, key: str, noun: str, old: T | None, new: T | None,
            text: Callable[[T], str], note: str | None = None,
            stages: tuple[str, ...] | None = None) -> Iterator[Change]:
    """A declaration a journey has at most once."""
    if (old is None and new is None) or (old is not None and new is not None and same(old, new)):
        return
    verb = verb_of(old, new)
    yield Change(key, verb, JOURNEY, noun,
                 *pair.sides(pair.old.line((key,)), None if old is None else text(old),
                             pair.new.line((key,)), None if new is None else text(new)),
                 stages=stages or (), everyone=stages is None, note=note)


# ---- segments, goals, value, reentry ---------------------------------------------------------


def _segments(pair: Pair) -> Iterator[Change]:
    how = Named("segment", "segment", ("segment",), (),
                lambda seg: f"segment {seg.name} where {expr_or_none(seg.condition)}",
                lambda verb, *_: "reports and every rule that reads the segment follow it")
    yield from _named(pair, how, pair.old.model.segments, pair.new.model.segments)


def _goal_text(goal: m.Goal) -> str:
    if goal.event is None:
        return f"goal {goal.name} when {expr_or_none(goal.condition)}"
    where = f" where {expr_or_none(goal.condition)}" if goal.condition is not None else ""
    return f"goal {goal.name} on {goal.event}{where}"


def _goals(pair: Pair) -> Iterator[Change]:
    how = Named("goal", "goal", ("goal",), (), _goal_text)
    yield from _named(pair, how, pair.old.model.goals, pair.new.model.goals)


def _reentry_text(reentry: m.Reentry) -> str:
    if reentry.mode == "after" and reentry.after is not None:
        return f"reentry after {duration_text(reentry.after)}"
    return f"reentry {reentry.mode}"


def _value_and_reentry(pair: Pair) -> Iterator[Change]:
    old, new = pair.old.model, pair.new.model
    yield from _single(pair, "value", "customer value", old.value, new.value,
                       lambda v: f"value {expr_or_none(v)}")
    finals = tuple(name for name, view in pair.old.stages.items() if view.stage.final)
    yield from _single(pair, "reentry", "reentry", old.reentry, new.reentry, _reentry_text,
                       "decides whether customers in a final stage start again", finals)
    yield from _single(pair, "migrate", "migrate block", old.migration, new.migration,
                       _migration_text, "how a store's customers of the earlier version "
                       "move to this one (journeyflow migrate)")


def _migration_text(migration: m.Migration) -> str:
    items = [f"stage {move.old} -> {move.new}" for move in migration.moves]
    items += [f"set {r.attribute} = {expr_or_none(r.value)}" for r in migration.rewrites]
    return "migrate { " + "; ".join(items) + " }" if items else "migrate {}"
