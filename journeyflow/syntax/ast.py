"""The syntax tree: close to the source text, every node with its span.

Spans are excluded from equality, so two trees compare equal when they say
the same thing, however they were laid out (the ``fmt`` round-trip property).
The leaves and expressions live in :mod:`journeyflow.syntax.expr` and are
re-exported here, so a tree is read through this module alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from journeyflow.errors import Span
from journeyflow.syntax.expr import (
    Arg,
    Binary,
    BoolLit,
    Call,
    Clock,
    DateTimeLit,
    Duration,
    EventField,
    Expr,
    Ident,
    InList,
    ListLit,
    Name,
    NullLit,
    Number,
    Path,
    Percent,
    StringLit,
    Unary,
    span_field,
)

__all__ = [
    "Arg", "Arm", "Binary", "Block", "BoolLit", "Call", "ChannelDecl", "Clock", "ConsentDecl",
    "CustomerDecl",
    "DateTimeLit", "Decl", "Delayed", "Dist", "DistArg", "DistField", "Duration", "Emit",
    "EventDecl", "EventField", "Expect", "Expr", "Field", "GoalDecl", "Goto", "Grant", "Header",
    "HoldoutDecl",
    "Ident", "If", "InList", "JourneyFile", "KV", "LimitDecl", "ListLit", "MessageDecl",
    "MessagePart", "Name", "Notify", "NullLit", "Number", "Offer", "Path", "Percent",
    "QuietHours", "Redeem", "ReentryDecl", "Rule", "ScenarioDecl", "ScenarioFile",
    "SegmentDecl", "Send", "SendWindow", "Set", "SimArrivals", "SimIn", "SimRate",
    "SimReaction", "SimReacts", "SimulateDecl", "Split", "StageDecl", "Stmt", "StepEvent",
    "StepWait", "StringLit", "Tag", "Trigger", "Unary", "ValueDecl", "AnywhereDecl", "DaySpan",
    "MigrateDecl", "MigrateItem", "MigrateSet", "MigrateStage",
]

# ---- statements ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Send:
    message: Ident
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Offer:
    kind: Ident
    item: str
    message: Ident
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Grant:
    bonus: Ident
    value: Number | Percent
    expires: Duration
    remind: Duration | None = None
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Redeem:
    bonus: Ident
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Set:
    attribute: Ident
    op: str  # = += -=
    expr: Expr
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Tag:
    tag: str
    remove: bool = False
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class KV:
    key: Ident
    expr: Expr
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Emit:
    event: Ident
    fields: tuple[KV, ...] = ()
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Notify:
    handler: Ident
    fields: tuple[KV, ...] = ()
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Block:
    stmts: tuple[Stmt, ...]
    span: Span = span_field()  # from the first statement to the closing brace


@dataclass(frozen=True, slots=True)
class Delayed:
    """``after D`` or ``at EXPR`` (exactly one is set), optionally ``unless EVENT [where G]``."""

    after: Duration | None
    unless: Ident | None
    block: Block
    where: Expr | None = None  # sees `event` (the arriving one) and `origin` (the scheduling)
    at: Expr | None = None
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class If:
    cond: Expr
    then: Block
    orelse: Block | If | None = None
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Arm:
    share: Percent
    block: Block
    label: Ident | None = None  # names the arm in traces and reports
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Split:
    arms: tuple[Arm, ...]
    name: StringLit | None = None  # keys the arm a customer takes, wherever the split moves
    span: Span = span_field()  # the `split` keyword: an unnamed split hashes its position

    @property
    def position(self) -> str:
        return f"{self.span.line}:{self.span.col}"


@dataclass(frozen=True, slots=True)
class Goto:
    stage: Ident
    span: Span = span_field()  # the arrow


Stmt = (Send | Offer | Grant | Redeem | Set | Tag | Emit | Notify | Delayed | If | Split |
    Goto)

# ---- rules and declarations -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Trigger:
    """``kind`` is one of on, enter, exit, after, every, at, when, pass."""

    kind: str
    event: Ident | None = None
    duration: Duration | None = None
    without: Ident | None = None
    expr: Expr | None = None
    yearly: Span | None = field(default=None, compare=False)  # `every year`, where written
    span: Span = span_field()  # the trigger keyword

    @property
    def every_year(self) -> bool:
        return self.yearly is not None


@dataclass(frozen=True, slots=True)
class Rule:
    trigger: Trigger
    guard: Expr | None = None
    target: Ident | None = None
    block: Block | None = None
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Header:
    name: str
    version: Number | None = None
    timezone: StringLit | None = None  # the zone, or the fallback of `timezone_attribute`
    timezone_attribute: Ident | None = None  # `timezone customer.ATTR or "Zone"`
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Field:
    name: Ident
    type: Ident
    optional: bool = False
    default: Expr | None = None
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class CustomerDecl:
    fields: tuple[Field, ...]
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class EventDecl:
    name: Ident
    fields: tuple[Field, ...]
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class MessagePart:
    name: Ident
    value: str
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class MessageDecl:
    name: Ident
    channel: Ident
    parts: tuple[MessagePart, ...] = ()
    transactional: bool = False  # a receipt: no consent, holdout, caps or quiet hours
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class ChannelDecl:
    name: Ident
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class LimitDecl:
    channel: Ident
    count: Number
    per: Duration
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: Clock
    end: Clock
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class DaySpan:
    first: Ident
    last: Ident | None = None
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class SendWindow:
    days: tuple[DaySpan, ...]
    start: Clock
    end: Clock
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class SegmentDecl:
    name: Ident
    expr: Expr
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class ConsentDecl:
    """``consent CHANNEL|any where EXPR``: marketing on CHANNEL needs EXPR at delivery."""

    channel: Ident
    expr: Expr
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class HoldoutDecl:
    """``holdout N%``: a stable share of customers gets no marketing, to measure uplift."""

    share: Percent
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class GoalDecl:
    name: Ident
    event: Ident | None = None
    where: Expr | None = None
    when: Expr | None = None
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class ValueDecl:
    expr: Expr
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class ReentryDecl:
    mode: str  # never, always, after
    after: Duration | None = None
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class AnywhereDecl:
    rules: tuple[Rule, ...]
    span: Span = span_field()
    end: Span = span_field()


@dataclass(frozen=True, slots=True)
class StageDecl:
    name: Ident
    flags: tuple[Ident, ...]
    rules: tuple[Rule, ...]
    has_body: bool = field(default=True, compare=False)  # `stage x final {}` is `stage x final`
    span: Span = span_field()
    end: Span = span_field()

    @property
    def is_start(self) -> bool:
        return any(f.name == "start" for f in self.flags)

    @property
    def is_final(self) -> bool:
        return any(f.name == "final" for f in self.flags)


# ---- simulate -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DistArg:
    kind: str  # number, choice, bound
    value: float
    label: str | None = None
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Dist:
    """A payload distribution: ``normal(80, 25, min 0)`` or a constant."""

    func: str | None
    args: tuple[DistArg, ...] = ()
    constant: float | str | bool | None = None
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class DistField:
    name: Ident
    dist: Dist
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class SimRate:
    event: Ident
    rate: Number | Percent
    period: Ident
    payload: tuple[DistField, ...] = ()
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class SimArrivals:
    event: Ident
    count: Number
    period: Ident
    lasting: Duration | None = None
    payload: tuple[DistField, ...] = ()
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class SimIn:
    stages: tuple[Ident, ...]
    rates: tuple[SimRate, ...]
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class SimReaction:
    event: Ident
    share: Percent
    within: Duration
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class SimReacts:
    message: Ident
    reactions: tuple[SimReaction, ...]
    span: Span = span_field()


SimItem = (SimArrivals | SimIn | SimReacts)


@dataclass(frozen=True, slots=True)
class SimulateDecl:
    """``anywhere`` rates are a :class:`SimIn` with no stages."""

    items: tuple[SimItem, ...]
    span: Span = span_field()


# ---- migrate -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MigrateStage:
    """``stage OLD -> NEW``: customers in the earlier version's stage OLD go to NEW."""

    old: Ident
    new: Ident
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class MigrateSet:
    """``set ATTR = EXPR``: the attribute rewritten from the earlier version's values."""

    attribute: Ident
    expr: Expr
    span: Span = span_field()


MigrateItem = (MigrateStage | MigrateSet)


@dataclass(frozen=True, slots=True)
class MigrateDecl:
    items: tuple[MigrateItem, ...]
    span: Span = span_field()


# ---- scenarios ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepEvent:
    when: DateTimeLit | Duration  # a Duration means "+DURATION" after the previous step
    event: Ident
    data: tuple[KV, ...] = ()
    customer: str | None = None
    attributes: tuple[KV, ...] = ()
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class StepWait:
    duration: Duration
    span: Span = span_field()


@dataclass(frozen=True, slots=True)
class Expect:
    """``kind`` is stage, sent, tagged, goal, bonus, suppressed, arm or expr."""

    kind: str
    negated: bool = False
    name: str | None = None  # the message, stage...; for `arm`, the arm's label or number
    expr: Expr | None = None
    times: Number | None = None  # expect sent MESSAGE N times
    containing: StringLit | None = None  # expect sent MESSAGE containing "text"
    reason: Ident | None = None  # expect suppressed MESSAGE because REASON
    split: StringLit | None = None  # expect arm "SPLIT" LABEL
    span: Span = span_field()


Step = (StepEvent | StepWait | Expect)


@dataclass(frozen=True, slots=True)
class ScenarioDecl:
    name: str
    steps: tuple[Step, ...]
    span: Span = span_field()


Decl = (CustomerDecl | EventDecl | MessageDecl | ChannelDecl | LimitDecl | QuietHours |
    SendWindow | SegmentDecl | ConsentDecl | HoldoutDecl | GoalDecl | ValueDecl | ReentryDecl |
    AnywhereDecl | StageDecl | SimulateDecl | MigrateDecl | ScenarioDecl)


@dataclass(frozen=True, slots=True)
class JourneyFile:
    header: Header
    decls: tuple[Decl, ...]
    comments: tuple[tuple[int, int, str], ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ScenarioFile:
    scenarios: tuple[ScenarioDecl, ...]
    comments: tuple[tuple[int, int, str], ...] = field(default=(), compare=False, repr=False)
