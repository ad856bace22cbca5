"""examples/lifecycle.journey written by hand: the practical ceiling for CPython.

Slotted customers (tags, goals and bonuses as small integers), a
``{(stage, event): [(guard, target, body)]}`` table, one timer heap ordered by
``(due, seq)`` holding the handler to call, quiet hours cached per UTC hour, and an
action log of tuples: one record per enter, exit, transition, action, suppression
and goal, like journeyflow's trace. The step semantics are docs/language.md:
``anywhere`` rules first, then the first matching stage rule, run to completion
(pass-through and ``when``), goals at the end of each step, timers before the
event at the same time, ``reentry after 90d`` from the final stage.

As a hand-written service would, it keeps only what this journey's rules read: no
attribute dict, no history of events nothing reads, no segment window or value sum
(reporting only), no late-event check (the input is sorted) and no runaway guard (no
pass-through or ``when`` rule here can loop).
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

from baselines.lifecycle import (
    ADVOCACY,
    AWARENESS,
    CHURNED,
    CONSIDERATION,
    DAY,
    FIRST_PURCHASE,
    HOUR,
    LOYALTY,
    RETENTION,
    SERVICE,
    STAGES,
    WINBACK,
    QuietHours,
    rule_location,
    split_arm,
    split_position,
)

__all__ = ["Customer", "Handwritten"]

Data = dict[str, Any]
Record = tuple[Any, ...]
EMPTY: Data = {}
INF = float("inf")

# Tags and goals as bits.
AT_RISK, RENDEZVOUS_USED, VIP, LAPSED, WINBACK_COUPON, WINBACK_PLAIN = 1, 2, 4, 8, 16, 32
REGISTERED, CONVERTED, REPEAT_BUYER, ADVOCATE, WON_BACK = 1, 2, 4, 8, 16

REENTRY = 90 * DAY
EMAIL_CAP, EMAIL_PER = 3, 7 * DAY  # limit email to 3 per 7d
PUSH_PER = DAY  # limit push to 1 per 1d
EMAIL, PUSH = "email", "push"


class Customer:
    """One customer: the stage, what the journey's rules read, caps and bonuses."""

    __slots__ = ("active", "category", "comeback", "emails", "entered", "epoch",
                 "final_at", "friend_bonus", "goals", "grants", "id", "last_purchase",
                 "last_push", "pages", "points", "purchases", "rendezvous", "spent", "stage",
                 "tags")

    def __init__(self, cid: str, t: float) -> None:
        self.id = cid
        self.stage = AWARENESS
        self.active = True  # False in the final stage
        self.epoch = 0  # bumps when leaving a stage: its timers go stale
        self.entered = t
        self.final_at = 0.0
        self.pages = 0  # count(page_viewed)
        self.purchases = 0  # count(purchased)
        self.last_purchase = -INF
        self.category: str | None = None  # last(purchased.category)
        self.points: float = 0
        self.spent: float = 0  # total_spent
        self.tags = 0
        self.goals = 0
        self.grants = 0
        self.rendezvous = 0  # bonuses: the grant number while held, 0 when not
        self.comeback = 0
        self.friend_bonus = 0
        self.emails: tuple[float, ...] = ()  # email deliveries in the last 7 days
        self.last_push = -INF


# A message: (channel, action record detail, suppressed record detail).
Message = tuple[str, tuple[str, ...], tuple[str, ...]]


def _message(name: str, channel: str, offer: tuple[str, str] | None = None) -> Message:
    detail = ("send", name, channel) if offer is None else ("offer", *offer, name, channel)
    return channel, detail, (name, channel, "frequency_cap")


SIGNUP_INVITE = _message("signup_invite", PUSH)
WELCOME = _message("welcome", EMAIL)
CART_REMINDER = _message("cart_reminder", EMAIL)
THANK_YOU = _message("thank_you", EMAIL)
RENDEZVOUS_REMINDER = _message("rendezvous_reminder", PUSH)
CROSS_SELL_SHOES = _message("accessories", EMAIL, ("cross_sell", "Shoe care kit"))
CROSS_SELL_OTHER = _message("accessories", EMAIL, ("cross_sell", "Matching accessories"))
UP_SELL = _message("membership_offer", EMAIL, ("up_sell", "Plus membership"))
LOYALTY_WELCOME = _message("loyalty_welcome", EMAIL)
REFERRAL_INVITE = _message("referral_invite", EMAIL)
REFERRAL_THANKS = _message("referral_thanks", EMAIL)
WINBACK_COUPON_MAIL = _message("winback_coupon", EMAIL)
WINBACK_PLAIN_MAIL = _message("winback_plain", EMAIL)

SPLIT_POSITION = split_position("stage winback")
SPLIT_SHARES = (50.0, 50.0)


class Handwritten:
    """The lifecycle journey, by hand. ``handle_valid((cid, event, data, at, attrs))``."""

    def __init__(self) -> None:
        self.customers: dict[str, Customer] = {}
        self.timers: list[tuple[Any, ...]] = []
        self.seq = 0
        self.records: list[Record] = []
        self.quiet = QuietHours()
        self.quiet_cache = self.quiet.cache

    # ---- events ----------------------------------------------------------------------

    def handle_valid(self, ev: tuple[str, str, Data, float, Data]) -> None:  # noqa: C901
        cid, name, data, t, _ = ev
        timers = self.timers
        if timers and timers[0][0] <= t:
            self.advance(t)
        c = self.customers.get(cid)
        if c is None:
            c = self.create(cid, t)
        elif not c.active and t >= c.final_at + REENTRY:
            self.reenter(c, t)
        if name == "page_viewed":  # history, before the rules run
            c.pages += 1
        elif name == "purchased":
            c.purchases += 1
            c.last_purchase = t
            c.category = data["category"]
        if not c.active:
            return
        anywhere, goals = PLAN.get(name, NO_PLAN)
        if anywhere is not None:
            for guard, target, body in anywhere:
                if guard is None or guard(c, data):
                    if target is None:
                        assert body is not None
                        body(self, c, t, data)
                    else:
                        self.take(c, t, data, target, body)
                        break
            else:
                anywhere = None
        if anywhere is None:  # no `anywhere` rule moved the customer
            rules = TABLE.get((c.stage, name))
            if rules is not None:
                for guard, target, body in rules:
                    if guard is None or guard(c, data):
                        if target is None:
                            assert body is not None
                            body(self, c, t, data)
                        else:
                            self.take(c, t, data, target, body)
                        break
        if INSTANT[c.stage]:
            self.settle(c, t)
        if goals is not None:
            self.reach(c, t, goals)
        if c.purchases >= 2 and not c.goals & REPEAT_BUYER:
            c.goals |= REPEAT_BUYER
            self.records.append((t, c.id, "goal", "repeat_buyer"))

    def arrive(self, cid: str, name: str, data: Data, t: float) -> Customer:
        """What ``handle_valid`` does before the rules: timers, creation or re-entry,
        history (for subclasses; ``handle_valid`` has it inline)."""
        timers = self.timers
        if timers and timers[0][0] <= t:
            self.advance(t)
        c = self.customers.get(cid)
        if c is None:
            c = self.create(cid, t)
        elif not c.active and t >= c.final_at + REENTRY:
            self.reenter(c, t)
        if name == "purchased":
            c.purchases += 1
            c.last_purchase = t
            c.category = data["category"]
        elif name == "page_viewed":
            c.pages += 1
        return c

    def event_step(self, c: Customer, t: float, name: str, data: Data) -> None:
        """A built-in event (bonus_expired, bonus_expiring): the rules of an event step."""
        if not c.active:
            return
        moved = False
        for guard, target, body in ANYWHERE.get(name, ()):
            if guard is None or guard(c, data):
                if target is None:
                    assert body is not None
                    body(self, c, t, data)
                else:
                    self.take(c, t, data, target, body)
                    moved = True
                    break
        if not moved:
            for guard, target, body in TABLE.get((c.stage, name), ()):
                if guard is None or guard(c, data):
                    if target is None:
                        assert body is not None
                        body(self, c, t, data)
                    else:
                        self.take(c, t, data, target, body)
                    break
        self.after_step(c, t)

    def after_step(self, c: Customer, t: float) -> None:
        """Run to completion, then the `when` goals (timer and built-in event steps)."""
        if INSTANT[c.stage]:
            self.settle(c, t)
        self.when_goals(c, t)

    def when_goals(self, c: Customer, t: float) -> None:
        """``goal repeat_buyer when count(purchased) >= 2``."""
        if c.purchases >= 2 and not c.goals & REPEAT_BUYER:
            c.goals |= REPEAT_BUYER
            self.records.append((t, c.id, "goal", "repeat_buyer"))

    def reach(self, c: Customer, t: float, goals: tuple[Goal, ...]) -> None:
        for bit, goal, cond in goals:
            if not c.goals & bit and (cond is None or cond(c)):
                c.goals |= bit
                self.records.append((t, c.id, "goal", goal))

    # ---- stages ----------------------------------------------------------------------

    def create(self, cid: str, t: float) -> Customer:
        c = self.customers[cid] = Customer(cid, t)
        self.enter(c, t, AWARENESS, EMPTY)
        if INSTANT[AWARENESS]:
            self.settle(c, t)
        return c

    def reenter(self, c: Customer, t: float) -> None:
        c.active = True
        c.epoch += 1
        self.enter(c, t, AWARENESS, EMPTY)
        if INSTANT[AWARENESS]:
            self.settle(c, t)

    def take(self, c: Customer, t: float, data: Data, target: Target, body: Body | None) -> None:
        """A rule with a target: exit, the rule's block, transition, enter."""
        source = STAGES[c.stage]
        self.records.append((t, c.id, "exit", source))
        c.epoch += 1
        if body is not None:
            body(self, c, t, data)
        stage, detail = target
        self.records.append((t, c.id, "transition", source, detail))
        self.enter(c, t, stage, data)

    def enter(self, c: Customer, t: float, stage: int, data: Data) -> None:
        c.stage = stage
        c.entered = t
        self.records.append((t, c.id, "enter", STAGES[stage]))
        if stage == CHURNED:
            c.active = False
            c.final_at = t
            return
        for spec in STAGE_TIMERS[stage]:
            self.seq += 1
            heappush(self.timers, (t + spec[0], self.seq, self.stage_timer, c, c.epoch, spec))
        hook = ON_ENTER[stage]
        if hook is not None:
            hook(self, c, t, data)

    def begin_stay(self, c: Customer, t: float, stage: int) -> bool:
        """``enter`` without the stage's ``on enter`` block; False for the final stage."""
        c.stage = stage
        c.entered = t
        self.records.append((t, c.id, "enter", STAGES[stage]))
        if stage == CHURNED:
            c.active = False
            c.final_at = t
            return False
        for spec in STAGE_TIMERS[stage]:
            self.seq += 1
            heappush(self.timers, (t + spec[0], self.seq, self.stage_timer, c, c.epoch, spec))
        return True

    def settle(self, c: Customer, t: float) -> None:
        """Pass-throughs and `when` rules until none fires."""
        while c.active:
            for cond, target in INSTANT[c.stage]:
                if cond is None or cond(c):
                    self.take(c, t, EMPTY, target, None)
                    break
            else:
                return

    # ---- timers ----------------------------------------------------------------------

    def push(self, due: float, handler: Callable[..., None], c: Customer, a: Any,
             b: Any) -> None:
        self.seq += 1
        heappush(self.timers, (due, self.seq, handler, c, a, b))

    def advance(self, until: float) -> None:
        """Fire every timer due at or before ``until``, in (due, seq) order."""
        timers = self.timers
        while timers and timers[0][0] <= until:
            due, _, handler, c, a, b = heappop(timers)
            handler(c, due, a, b)

    def stage_timer(self, c: Customer, t: float, epoch: int, spec: TimerSpec) -> None:
        if epoch != c.epoch or not c.active:
            return
        if spec[1]:  # after ... without purchased
            start, last = c.entered, c.last_purchase
            due = (last if last > start else start) + spec[0]
            if due > t:
                self.push(due, self.stage_timer, c, epoch, spec)
                return
        self.timer_rule(c, t, spec)
        if INSTANT[c.stage]:
            self.settle(c, t)
        if c.purchases >= 2 and not c.goals & REPEAT_BUYER:
            c.goals |= REPEAT_BUYER
            self.records.append((t, c.id, "goal", "repeat_buyer"))

    def timer_rule(self, c: Customer, t: float, spec: TimerSpec) -> None:
        _, _, target, body, _ = spec
        if target is None:
            assert body is not None
            body(self, c, t, EMPTY)
        else:
            self.take(c, t, EMPTY, target, None)

    def cart_timer(self, c: Customer, t: float, epoch: int, purchases: int) -> None:
        """``after 4h unless purchased { send cart_reminder }``."""
        if epoch != c.epoch or not c.active or c.purchases != purchases:
            return
        self.send(c, t, CART_REMINDER)
        if INSTANT[c.stage]:
            self.settle(c, t)
        if c.purchases >= 2 and not c.goals & REPEAT_BUYER:
            c.goals |= REPEAT_BUYER
            self.records.append((t, c.id, "goal", "repeat_buyer"))

    def expire_timer(self, c: Customer, t: float, bonus: str, grant: int) -> None:
        if getattr(c, bonus) != grant:
            return
        setattr(c, bonus, 0)
        self.event_step(c, t, "bonus_expired", {"bonus": bonus})

    def remind_timer(self, c: Customer, t: float, bonus: str, grant: int) -> None:
        if getattr(c, bonus) != grant:
            return
        self.event_step(c, t, "bonus_expiring", {"bonus": bonus})

    def deliver_timer(self, c: Customer, t: float, message: Message, _: None) -> None:
        self.deliver(c, t, message)

    # ---- actions ---------------------------------------------------------------------

    def send(self, c: Customer, t: float, message: Message) -> None:
        """Quiet hours defer the delivery; caps are checked when it is delivered."""
        hour = int(t // HOUR)
        end = self.quiet_cache.get(hour)
        if end is None:
            end = self.quiet.quiet_end(hour)
        if end > t:
            self.seq += 1
            heappush(self.timers, (end, self.seq, self.deliver_timer, c, message, None))
        else:
            self.deliver(c, t, message)

    def deliver(self, c: Customer, t: float, message: Message) -> None:
        channel, detail, suppressed = message
        if channel is EMAIL:
            sent = c.emails
            low = t - EMAIL_PER
            if sent and sent[0] <= low:
                sent = c.emails = tuple([x for x in sent if x > low])
            if len(sent) >= EMAIL_CAP:
                self.records.append((t, c.id, "suppressed", suppressed))
                return
            c.emails = (*sent, t)
        elif channel is PUSH:
            if c.last_push > t - PUSH_PER:
                self.records.append((t, c.id, "suppressed", suppressed))
                return
            c.last_push = t
        self.records.append((t, c.id, "action", detail))

    def grant(self, c: Customer, t: float, bonus: str, value: str, expires: float,
              remind: float) -> None:
        c.grants += 1
        grant = c.grants
        setattr(c, bonus, grant)
        at = t + expires
        self.push(at, self.expire_timer, c, bonus, grant)
        if remind:
            self.push(at - remind, self.remind_timer, c, bonus, grant)
        self.records.append((t, c.id, "action", "grant_bonus", bonus, value, at))

    def tag(self, c: Customer, t: float, bit: int, tag: str) -> None:
        c.tags |= bit
        self.records.append((t, c.id, "action", "tag", tag))

    def final_stages(self) -> dict[str, str]:
        return {cid: STAGES[c.stage] for cid, c in self.customers.items()}


# ---- the journey's rule bodies: (engine, customer, now, event data) -------------------

Body = Callable[[Handwritten, Customer, float, Data], None]
Guard = Callable[[Customer, Data], Any]
Target = tuple[int, tuple[str, str]]  # (stage, (stage name, rule location))
Rule = tuple[Guard | None, Target | None, Body | None]
TimerSpec = tuple[float, bool, Target | None, Body | None, str]
Goal = tuple[int, str, Callable[[Customer], Any] | None]


def _on_purchased(e: Handwritten, c: Customer, t: float, data: Data) -> None:
    """anywhere: set total_spent/points += amount; redeem the Rendez-Vous or comeback."""
    amount = data["amount"]
    records = e.records
    cid = c.id
    c.spent = spent = c.spent + amount
    records.append((t, cid, "action", "set", "total_spent", spent))
    c.points = points = c.points + amount
    records.append((t, cid, "action", "set", "points", points))
    if c.rendezvous:
        c.rendezvous = 0
        records.append((t, cid, "action", "redeem_bonus", "rendezvous"))
        c.tags |= RENDEZVOUS_USED
        records.append((t, cid, "action", "tag", "rendezvous_used"))
    if c.comeback:
        c.comeback = 0
        records.append((t, cid, "action", "redeem_bonus", "comeback"))


def _on_referred(e: Handwritten, c: Customer, t: float, data: Data) -> None:
    c.points = points = c.points + 100
    e.records.append((t, c.id, "action", "set", "points", points))


def _remind_rendezvous(e: Handwritten, c: Customer, t: float, data: Data) -> None:
    e.send(c, t, RENDEZVOUS_REMINDER)


def _invite(e: Handwritten, c: Customer, t: float, data: Data) -> None:
    e.send(c, t, SIGNUP_INVITE)


def _welcome(e: Handwritten, c: Customer, t: float, data: Data) -> None:
    e.send(c, t, WELCOME)


def _cart_reminder_later(e: Handwritten, c: Customer, t: float, data: Data) -> None:
    e.push(t + 4 * HOUR, e.cart_timer, c, c.epoch, c.purchases)


def _thank_you(e: Handwritten, c: Customer, t: float, data: Data) -> None:
    e.send(c, t, THANK_YOU)
    e.grant(c, t, "rendezvous", "10%", 30 * DAY, 7 * DAY)


def _at_risk(e: Handwritten, c: Customer, t: float, data: Data) -> None:
    e.tag(c, t, AT_RISK, "at_risk")
    e.records.append((t, c.id, "action", "notify", "crm", "call back", data["rating"]))


def _cross_sell(e: Handwritten, c: Customer, t: float, data: Data) -> None:
    e.send(c, t, CROSS_SELL_SHOES if c.category == "shoes" else CROSS_SELL_OTHER)


def _up_sell(e: Handwritten, c: Customer, t: float, data: Data) -> None:
    e.send(c, t, UP_SELL)


def _vip(e: Handwritten, c: Customer, t: float, data: Data) -> None:
    e.tag(c, t, VIP, "vip")
    e.send(c, t, LOYALTY_WELCOME)


def _referral_invite(e: Handwritten, c: Customer, t: float, data: Data) -> None:
    e.send(c, t, REFERRAL_INVITE)


def _thanks_for_referral(e: Handwritten, c: Customer, t: float, data: Data) -> None:
    e.send(c, t, REFERRAL_THANKS)
    e.grant(c, t, "friend_bonus", "15", 60 * DAY, 0.0)


def _winback(e: Handwritten, c: Customer, t: float, data: Data) -> None:
    e.tag(c, t, LAPSED, "lapsed")
    if split_arm(c.id, SPLIT_POSITION, SPLIT_SHARES) == 0:
        e.tag(c, t, WINBACK_COUPON, "winback_coupon")
        e.grant(c, t, "comeback", "15%", 30 * DAY, 0.0)
        e.send(c, t, WINBACK_COUPON_MAIL)
    else:
        e.tag(c, t, WINBACK_PLAIN, "winback_plain")
        e.send(c, t, WINBACK_PLAIN_MAIL)


# ---- the tables ----------------------------------------------------------------------


def _to(block: str, stage: int, snippet: str) -> Target:
    return stage, (STAGES[stage], rule_location(block, snippet))


def _from(stage: int, target: int, snippet: str) -> Target:
    return _to(f"stage {STAGES[stage]}", target, snippet)


ANYWHERE: dict[str, tuple[Rule, ...]] = {
    "unsubscribed": ((None, _to("anywhere", CHURNED, "on unsubscribed"), None),),
    "purchased": ((None, None, _on_purchased),),
    "referred": ((None, None, _on_referred),),
    "bonus_expiring": ((lambda c, d: d["bonus"] == "rendezvous" and c.rendezvous, None,
                        _remind_rendezvous),),
}

TABLE: dict[tuple[int, str], tuple[Rule, ...]] = {
    (AWARENESS, "page_viewed"): ((lambda c, d: c.pages == 3, None, _invite),),
    (AWARENESS, "signed_up"): ((None, _from(AWARENESS, CONSIDERATION, "on signed_up"),
                                None),),
    (AWARENESS, "purchased"): ((None, _from(AWARENESS, FIRST_PURCHASE, "on purchased"),
                                None),),
    (CONSIDERATION, "cart_abandoned"): ((lambda c, d: d["cart_value"] >= 10, None,
                                         _cart_reminder_later),),
    (CONSIDERATION, "purchased"): ((None, _from(CONSIDERATION, FIRST_PURCHASE,
                                                "on purchased"), None),),
    (SERVICE, "support_ticket"): ((lambda c, d: d["rating"] <= 2, None, _at_risk),),
    (SERVICE, "purchased"): ((None, _from(SERVICE, RETENTION, "on purchased"), None),),
    (LOYALTY, "referred"): ((None, _from(LOYALTY, ADVOCACY, "on referred"), None),),
    (WINBACK, "purchased"): (
        (lambda c, d: c.purchases == 1, _from(WINBACK, FIRST_PURCHASE, "on purchased where"),
         None),
        (None, _from(WINBACK, RETENTION, "on purchased -> retention"), None)),
}

ON_ENTER: list[Body | None] = [None] * len(STAGES)
ON_ENTER[CONSIDERATION] = _welcome
ON_ENTER[FIRST_PURCHASE] = _thank_you
ON_ENTER[LOYALTY] = _vip
ON_ENTER[ADVOCACY] = _thanks_for_referral
ON_ENTER[WINBACK] = _winback


def _timer(stage: int, days: float, snippet: str, without: bool = False,
           target: int | None = None, body: Body | None = None) -> TimerSpec:
    moved = None if target is None else _from(stage, target, snippet)
    return days * DAY, without, moved, body, f"timer_{STAGES[stage]}_{int(days)}d"


STAGE_TIMERS: list[tuple[TimerSpec, ...]] = [()] * len(STAGES)
STAGE_TIMERS[CONSIDERATION] = (_timer(CONSIDERATION, 21, "after 21d", target=WINBACK),)
STAGE_TIMERS[SERVICE] = (_timer(SERVICE, 7, "after 7d", body=_cross_sell),
                         _timer(SERVICE, 60, "after 60d", True, WINBACK))
STAGE_TIMERS[RETENTION] = (_timer(RETENTION, 14, "after 14d", body=_up_sell),
                           _timer(RETENTION, 90, "after 90d", True, WINBACK))
STAGE_TIMERS[LOYALTY] = (_timer(LOYALTY, 14, "after 14d", body=_referral_invite),
                         _timer(LOYALTY, 180, "after 180d", True, WINBACK))
STAGE_TIMERS[ADVOCACY] = (_timer(ADVOCACY, 180, "after 180d", True, WINBACK),)
STAGE_TIMERS[WINBACK] = (_timer(WINBACK, 30, "after 30d", target=CHURNED),)

# Run to completion: (condition or None for a pass-through, target), per stage.
INSTANT: list[tuple[tuple[Callable[[Customer], Any] | None, Target], ...]] = [()] * len(STAGES)
INSTANT[FIRST_PURCHASE] = ((None, _from(FIRST_PURCHASE, SERVICE, "-> service")),)
INSTANT[RETENTION] = ((lambda c: c.points >= 1000 or c.spent >= 500,
                       _from(RETENTION, LOYALTY, "when points")),)

GOALS: dict[str, tuple[Goal, ...]] = {
    "signed_up": ((REGISTERED, "registered", None),),
    "purchased": ((CONVERTED, "converted", None),
                  (WON_BACK, "won_back", lambda c: c.tags & LAPSED)),
    "referred": ((ADVOCATE, "advocate", None),),
}

# Per event: its `anywhere` rules and goals (one look-up on the hot path).
PLAN: dict[str, tuple[tuple[Rule, ...] | None, tuple[Goal, ...] | None]] = {
    name: (ANYWHERE.get(name), GOALS.get(name)) for name in {*ANYWHERE, *GOALS}}
NO_PLAN: tuple[None, None] = (None, None)
