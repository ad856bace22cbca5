"""The validated journey: names resolved, durations as ``timedelta``.

The model knows nothing of the text format; expressions are kept as checked
syntax-tree nodes (with their source text) for the runtime to compile.

Its parts are frozen msgspec structs, not pydantic models: the compiler is their only
maker and has checked every value it puts in them, so validating them again would only
cost time. A run that reads a compiled journey from the cache then starts without
importing pydantic (a third of its start), and a struct class is made in a fortieth of
the time a dataclass takes (0.012 against 0.56 ms; the model has over 50 of them).
The tests check every field of every compiled example against its annotation
(tests/model/test_types.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time, timedelta
from typing import Any, Literal, TypeVar

import msgspec

from journeyflow.syntax.expr import Expr

__all__ = [
    "Action", "Attribute", "Consent", "Delayed", "Emit", "EventType", "Goal", "Goto", "GrantBonus",
    "IfAction", "JourneyModel", "Limit", "Location", "Message", "Notify", "Offer", "QuietHours",
    "RedeemBonus", "Reentry", "Rule", "Segment", "Send", "SendWindow", "SetAttribute",
    "SourceExpr", "Split", "SplitArm", "Stage", "TagAction", "Trigger", "TriggerKind",
    "OfferKind", "AssignOp", "ReentryMode", "BUILTIN_EVENTS",
    "BUILTIN_CHANNELS", "WEEKDAYS", "day_index", "day_range",
    "Migration", "Part", "Rewrite", "StageMove", "parts_of",
]

BUILTIN_CHANNELS = ("email", "sms", "push", "webhook")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def day_index(name: str) -> int | None:
    """0 for ``mon`` (or ``Monday``) to 6 for ``sun``; None for anything else."""
    key = name.lower()
    key = key[:3] if key in FULL_WEEKDAYS else key
    return WEEKDAYS.index(key) if key in WEEKDAYS else None


def day_range(first: int, last: int) -> frozenset[int]:
    """The days from ``first`` to ``last``, wrapping the week (``fri-mon``)."""
    return frozenset((first + i) % 7 for i in range((last - first) % 7 + 1))
BUILTIN_EVENTS = ("bonus_expired", "bonus_expiring", "bonus_redeemed")


class Part(msgspec.Struct, frozen=True, kw_only=True):
    """A part of the model: immutable, compared and hashed by value, made by keyword.
    Every part says ``frozen=True, kw_only=True`` again: msgspec does not pass them on."""


# What the grammar allows in a few fields the syntax tree keeps as plain text.
TriggerKind = Literal["on", "enter", "exit", "after", "every", "at", "when", "pass"]
OfferKind = Literal["cross_sell", "up_sell"]
AssignOp = Literal["=", "+=", "-="]
ReentryMode = Literal["never", "always", "after"]


class Location(Part, frozen=True, kw_only=True):
    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class SourceExpr(Part, frozen=True, kw_only=True):
    """A checked expression and the text it was written as."""

    expr: Any  # journeyflow.syntax.expr.Expr
    source: str
    type: str

    @property
    def node(self) -> Expr:
        return self.expr  # type: ignore[no-any-return]


class Attribute(Part, frozen=True, kw_only=True):
    name: str
    type: str
    optional: bool = False
    default: Any = None


class EventType(Part, frozen=True, kw_only=True):
    name: str
    fields: dict[str, Attribute]
    builtin: bool = False


class Message(Part, frozen=True, kw_only=True):
    name: str
    channel: str
    subject: str | None = None
    body: str | None = None
    template: str | None = None
    transactional: bool = False  # ignores consent, holdout, caps, quiet hours, send windows
    location: Location


class Limit(Part, frozen=True, kw_only=True):
    channel: str  # a channel, or "any"
    count: int
    per: timedelta


class QuietHours(Part, frozen=True, kw_only=True):
    start: time
    end: time


class SendWindow(Part, frozen=True, kw_only=True):
    days: frozenset[int]  # 0 is Monday
    start: time
    end: time


class Consent(Part, frozen=True, kw_only=True):
    """Marketing on ``channel`` (or on every channel, "any") needs ``condition`` at delivery."""

    channel: str
    condition: SourceExpr


class Segment(Part, frozen=True, kw_only=True):
    name: str
    condition: SourceExpr


class Goal(Part, frozen=True, kw_only=True):
    name: str
    event: str | None = None
    condition: SourceExpr | None = None
    location: Location


class Reentry(Part, frozen=True, kw_only=True):
    mode: ReentryMode = "never"
    after: timedelta | None = None
    location: Location | None = None  # the declaration: the `rule` of a re-entry transition


class StageMove(Part, frozen=True, kw_only=True):
    """``stage OLD -> NEW`` of a ``migrate`` block."""

    old: str
    new: str
    location: Location


class Rewrite(Part, frozen=True, kw_only=True):
    """``set ATTR = EXPR`` of a ``migrate`` block, evaluated with the earlier version's values."""

    attribute: str
    value: SourceExpr
    location: Location


class Migration(Part, frozen=True, kw_only=True):
    """How customers of an earlier version of the journey move to this one."""

    moves: tuple[StageMove, ...] = ()
    rewrites: tuple[Rewrite, ...] = ()
    location: Location

    @property
    def stages(self) -> dict[str, str]:
        """Old stage -> new stage."""
        return {move.old: move.new for move in self.moves}


# ---- actions -----------------------------------------------------------------------


class Send(Part, frozen=True, kw_only=True):
    kind: Literal["send"] = "send"
    message: str


class Offer(Part, frozen=True, kw_only=True):
    kind: Literal["offer"] = "offer"
    offer: OfferKind
    item: str
    message: str


class GrantBonus(Part, frozen=True, kw_only=True):
    kind: Literal["grant_bonus"] = "grant_bonus"
    bonus: str
    value: float
    percent: bool
    expires: timedelta
    remind: timedelta | None = None

    @property
    def held_value(self) -> float | str:
        """The value a customer holds: a number, or a percentage as text ("10%")."""
        if self.percent:
            return self.value_text
        return int(self.value) if self.value.is_integer() else self.value

    @property
    def value_text(self) -> str:
        number = f"{self.value:g}"
        return f"{number}%" if self.percent else number


class RedeemBonus(Part, frozen=True, kw_only=True):
    kind: Literal["redeem_bonus"] = "redeem_bonus"
    bonus: str


class SetAttribute(Part, frozen=True, kw_only=True):
    kind: Literal["set"] = "set"
    attribute: str
    op: AssignOp
    value: SourceExpr


class TagAction(Part, frozen=True, kw_only=True):
    kind: Literal["tag", "untag"]
    tag: str


class Emit(Part, frozen=True, kw_only=True):
    kind: Literal["emit"] = "emit"
    event: str
    fields: dict[str, SourceExpr] = msgspec.field(default_factory=dict)


class Notify(Part, frozen=True, kw_only=True):
    kind: Literal["notify"] = "notify"
    handler: str
    fields: dict[str, SourceExpr] = msgspec.field(default_factory=dict)


class Goto(Part, frozen=True, kw_only=True):
    kind: Literal["goto"] = "goto"
    stage: str
    location: Location


class Delayed(Part, frozen=True, kw_only=True):
    """Statements due ``after`` a while or ``at`` an instant (one of the two), cancelled by
    leaving the stage or by an ``unless`` event (that ``unless_where`` accepts, if given)."""

    kind: Literal["delayed"] = "delayed"
    after: timedelta | None = None
    at: SourceExpr | None = None
    unless: str | None = None
    unless_where: SourceExpr | None = None
    body: tuple[Action, ...]
    location: Location

    @property
    def unless_text(self) -> str:
        """`` unless EVENT [where ...]``, or nothing."""
        if self.unless is None:
            return ""
        where = f" where {self.unless_where.source}" if self.unless_where is not None else ""
        return f" unless {self.unless}{where}"


class IfAction(Part, frozen=True, kw_only=True):
    kind: Literal["if"] = "if"
    condition: SourceExpr
    then: tuple[Action, ...]
    orelse: tuple[Action, ...] = ()


class SplitArm(Part, frozen=True, kw_only=True):
    share: float  # percent
    body: tuple[Action, ...]
    label: str | None = None

    def title(self, index: int) -> str | int:
        """How traces and reports name the arm: its label, else its 1-based position."""
        return self.label if self.label is not None else index + 1


class Split(Part, frozen=True, kw_only=True):
    kind: Literal["split"] = "split"
    position: str  # "LINE:COL" of the split keyword (precise rule 12)
    arms: tuple[SplitArm, ...]
    name: str | None = None

    @property
    def key(self) -> str:
        """What the arm assignment is keyed by: the name, else the position (moves with
        every edit above the split)."""
        return self.name if self.name is not None else self.position


Action = (Send | Offer | GrantBonus | RedeemBonus | SetAttribute | TagAction | Emit | Notify
          | Goto | Delayed | IfAction | Split)


# ---- rules and stages ------------------------------------------------------------------


class Trigger(Part, frozen=True, kw_only=True):
    kind: TriggerKind
    event: str | None = None
    duration: timedelta | None = None
    without: str | None = None
    expr: SourceExpr | None = None
    yearly: bool = False  # `at EXPR every year`


class Rule(Part, frozen=True, kw_only=True):
    trigger: Trigger
    guard: SourceExpr | None = None
    target: str | None = None
    body: tuple[Action, ...] = ()
    location: Location
    stage: str | None = None  # None for `anywhere` rules


class Stage(Part, frozen=True, kw_only=True):
    name: str
    start: bool = False
    final: bool = False
    rules: tuple[Rule, ...] = ()
    location: Location


class JourneyModel(Part, frozen=True, kw_only=True):
    """Everything a journey file declares, checked and resolved."""

    name: str
    version: int | None = None
    timezone: str = "UTC"  # the journey's zone; the fallback with `timezone_attribute`
    timezone_attribute: str | None = None  # the customer attribute naming their own zone
    file: str
    attributes: dict[str, Attribute]
    events: dict[str, EventType]
    messages: dict[str, Message]
    channels: frozenset[str]
    limits: tuple[Limit, ...] = ()
    quiet_hours: QuietHours | None = None
    send_window: SendWindow | None = None
    segments: dict[str, Segment]
    consents: tuple[Consent, ...] = ()
    holdout: float | None = None  # percent of customers who get no marketing
    goals: dict[str, Goal]
    value: SourceExpr | None = None
    reentry: Reentry = msgspec.field(default_factory=Reentry)
    anywhere: tuple[Rule, ...] = ()
    stages: dict[str, Stage]
    migration: Migration | None = None  # the `migrate` block

    @property
    def start_stage(self) -> str:
        return next(name for name, stage in self.stages.items() if stage.start)

    def consent_rules(self, channel: str) -> tuple[Consent, ...]:
        """The consent rules a marketing send on ``channel`` must all pass."""
        return tuple(c for c in self.consents if c.channel in (channel, "any"))


P = TypeVar("P")


def parts_of(node: Any, kind: type[P]) -> Iterator[P]:
    """Every part of type ``kind`` in ``node``: a part of the model, or a dict, list or
    tuple of them, searched through, each part once. Expressions are not searched."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, kind):
            yield node
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
        elif isinstance(node, Part):
            stack.extend(getattr(node, name) for name in node.__struct_fields__)
