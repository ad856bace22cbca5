"""The validated journey: names resolved, durations as ``timedelta``.

The model knows nothing of the text format; expressions are kept as checked
syntax-tree nodes (with their source text) for the runtime to compile.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from journeyflow.syntax.expr import Expr

__all__ = [
    "Action", "Attribute", "Consent", "Delayed", "Emit", "EventType", "Goal", "Goto", "GrantBonus",
    "IfAction", "JourneyModel", "Limit", "Location", "Message", "Notify", "Offer", "QuietHours",
    "RedeemBonus", "Reentry", "Rule", "Segment", "Send", "SendWindow", "SetAttribute",
    "SourceExpr", "Split", "SplitArm", "Stage", "TagAction", "Trigger", "BUILTIN_EVENTS",
    "BUILTIN_CHANNELS", "WEEKDAYS", "day_index", "day_range",
    "Migration", "Rewrite", "StageMove",
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


class Frozen(BaseModel):
    # Built on first validation: a journey read from the cache is never validated again,
    # and building every model's validator costs more than the rest of `run`'s start.
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True,
                              defer_build=True)


class Location(Frozen):
    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class SourceExpr(Frozen):
    """A checked expression and the text it was written as."""

    expr: Any  # journeyflow.syntax.ast.Expr; Any keeps pydantic from walking it
    source: str
    type: str

    @property
    def node(self) -> Expr:
        return self.expr  # type: ignore[no-any-return]


class Attribute(Frozen):
    name: str
    type: str
    optional: bool = False
    default: Any = None


class EventType(Frozen):
    name: str
    fields: dict[str, Attribute]
    builtin: bool = False


class Message(Frozen):
    name: str
    channel: str
    subject: str | None = None
    body: str | None = None
    template: str | None = None
    transactional: bool = False  # ignores consent, holdout, caps, quiet hours, send windows
    location: Location


class Limit(Frozen):
    channel: str  # a channel, or "any"
    count: int
    per: timedelta


class QuietHours(Frozen):
    start: time
    end: time


class SendWindow(Frozen):
    days: frozenset[int]  # 0 is Monday
    start: time
    end: time


class Consent(Frozen):
    """Marketing on ``channel`` (or on every channel, "any") needs ``condition`` at delivery."""

    channel: str
    condition: SourceExpr


class Segment(Frozen):
    name: str
    condition: SourceExpr


class Goal(Frozen):
    name: str
    event: str | None = None
    condition: SourceExpr | None = None
    location: Location


class Reentry(Frozen):
    mode: Literal["never", "always", "after"] = "never"
    after: timedelta | None = None
    location: Location | None = None  # the declaration: the `rule` of a re-entry transition


class StageMove(Frozen):
    """``stage OLD -> NEW`` of a ``migrate`` block."""

    old: str
    new: str
    location: Location


class Rewrite(Frozen):
    """``set ATTR = EXPR`` of a ``migrate`` block, evaluated with the earlier version's values."""

    attribute: str
    value: SourceExpr
    location: Location


class Migration(Frozen):
    """How customers of an earlier version of the journey move to this one."""

    moves: tuple[StageMove, ...] = ()
    rewrites: tuple[Rewrite, ...] = ()
    location: Location

    @property
    def stages(self) -> dict[str, str]:
        """Old stage -> new stage."""
        return {move.old: move.new for move in self.moves}


# ---- actions -----------------------------------------------------------------------


class Send(Frozen):
    kind: Literal["send"] = "send"
    message: str


class Offer(Frozen):
    kind: Literal["offer"] = "offer"
    offer: Literal["cross_sell", "up_sell"]
    item: str
    message: str


class GrantBonus(Frozen):
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


class RedeemBonus(Frozen):
    kind: Literal["redeem_bonus"] = "redeem_bonus"
    bonus: str


class SetAttribute(Frozen):
    kind: Literal["set"] = "set"
    attribute: str
    op: Literal["=", "+=", "-="]
    value: SourceExpr


class TagAction(Frozen):
    kind: Literal["tag", "untag"]
    tag: str


class Emit(Frozen):
    kind: Literal["emit"] = "emit"
    event: str
    fields: dict[str, SourceExpr] = Field(default_factory=dict)


class Notify(Frozen):
    kind: Literal["notify"] = "notify"
    handler: str
    fields: dict[str, SourceExpr] = Field(default_factory=dict)


class Goto(Frozen):
    kind: Literal["goto"] = "goto"
    stage: str
    location: Location


class Delayed(Frozen):
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


class IfAction(Frozen):
    kind: Literal["if"] = "if"
    condition: SourceExpr
    then: tuple[Action, ...]
    orelse: tuple[Action, ...] = ()


class SplitArm(Frozen):
    share: float  # percent
    body: tuple[Action, ...]
    label: str | None = None

    def title(self, index: int) -> str | int:
        """How traces and reports name the arm: its label, else its 1-based position."""
        return self.label if self.label is not None else index + 1


class Split(Frozen):
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


class Trigger(Frozen):
    kind: Literal["on", "enter", "exit", "after", "every", "at", "when", "pass"]
    event: str | None = None
    duration: timedelta | None = None
    without: str | None = None
    expr: SourceExpr | None = None
    yearly: bool = False  # `at EXPR every year`


class Rule(Frozen):
    trigger: Trigger
    guard: SourceExpr | None = None
    target: str | None = None
    body: tuple[Action, ...] = ()
    location: Location
    stage: str | None = None  # None for `anywhere` rules


class Stage(Frozen):
    name: str
    start: bool = False
    final: bool = False
    rules: tuple[Rule, ...] = ()
    location: Location


class JourneyModel(Frozen):
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
    reentry: Reentry = Field(default_factory=Reentry)
    anywhere: tuple[Rule, ...] = ()
    stages: dict[str, Stage]
    migration: Migration | None = None  # the `migrate` block

    @property
    def start_stage(self) -> str:
        return next(name for name, stage in self.stages.items() if stage.start)

    def consent_rules(self, channel: str) -> tuple[Consent, ...]:
        """The consent rules a marketing send on ``channel`` must all pass."""
        return tuple(c for c in self.consents if c.channel in (channel, "any"))

