"""The report of real customers: a store read through a :class:`StoreReader`, in the
layout of the simulation report, so the map (``render --stats``) and the HTML page
read it unchanged.

Each stored customer is folded into the simulation's own :class:`Tally` (funnel,
times to stages and goals, transitions, suppressions, goals and value per split arm,
the holdout cohorts) and forgotten, so memory does not grow with the store; the
report is then made by the simulation's ``build_report``, uplift included. What
only a live store knows is added beside it: the outbox by delivery status
(``deliveries``), the rejected events by reason (``rejected``), the instant the
report describes (``as_of``) and, with a holdout, each split arm's uplift over the
held-out customers of the same arm (``arm_uplift``). docs/simulate.md lists the
differences.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from journeyflow.errors import JourneyError
from journeyflow.journey import Journey, version_of
from journeyflow.live.codec import customer_from_json
from journeyflow.live.reportbonus import BonusWatch
from journeyflow.live.reportread import DeliveryCount, StoredCustomer, StoreReader
from journeyflow.model.behaviour import Behaviour
from journeyflow.runtime.program import Program
from journeyflow.runtime.state import Customer
from journeyflow.runtime.timeutil import format_instant, zone_info
from journeyflow.runtime.trace import TraceRecord
from journeyflow.simulate.plan import DAY, Plan
from journeyflow.simulate.report import build_report
from journeyflow.simulate.tally import Outcome, Tally

if TYPE_CHECKING:
    pass

__all__ = ["FORMAT", "STATUSES", "live_report"]

FORMAT = "journeyflow-live/1"
STATUSES = ("sent", "pending", "dead")  # of the outbox table's rows, as every store writes them
NO_EVENT: dict[str, Any] = {}  # the event of a value or segment read outside any step


def live_report(journey: Journey, reader: StoreReader, name: str | None = None,
                at: float | None = None, seed: int = 1) -> dict[str, Any]:
    """The report of the customers of ``journey`` in the store (see the module docstring).

    ``name`` is the journey's name in the store (default: the file's); ``at`` the
    instant it describes (default: the latest the store has seen); ``seed`` seeds the
    bootstrap of the holdout's uplift.
    """
    name = journey.name if name is None else name
    _check_store(journey, reader, name)
    as_of, start, days = _frame(reader, name, at)
    tally, unconfirmed = _stream(journey, reader, name, start, days, as_of)
    model = journey.model
    report = build_report(tally, _plan(journey, start, days, seed, tally.customers), model)
    # The behaviour model's counts have no live counterpart; the engine counts its steps.
    steps = reader.counters(name).get("steps", 0)
    report.update(
        format=FORMAT, as_of=format_instant(as_of),
        events={"behaviour": {}, "reactions": {}, "timer_steps": 0, "processed": steps},
        deliveries=deliveries_section(reader.deliveries(name), unconfirmed),
        rejected=_rejected(reader.rejected(name)))
    for holdout in [report["holdout"], *(report["arm_uplift"] or ())]:
        _drop_empty_cohort_rates(holdout)
    return report


def _frame(reader: StoreReader, name: str, at: float | None) -> tuple[float, float, int]:
    """The report's instant, and the 24-hour days back from it that cover every arrival:
    ``(as_of, start, days)``; the last day of the occupancy ends at the instant."""
    span = reader.span(name)
    if span is None:
        raise JourneyError(f"journey '{name}' has no customers in the state store "
                           f"{reader.location} yet: nothing to report")
    first, latest = span
    as_of = latest if at is None else at
    if as_of < latest:
        raise JourneyError(f"the report's instant {format_instant(as_of)} (--at) is before "
                           f"the store's latest step ({format_instant(latest)}): a report "
                           "shows customers as they stand now, not as they stood then")
    days = max(1, math.ceil((as_of - first) / DAY))
    return as_of, as_of - days * DAY, days


def _drop_empty_cohort_rates(holdout: dict[str, Any] | None) -> None:
    """A cohort without customers has no goal rates: an empty mapping rather than one
    null per goal, which the map's report reader refuses (a live store with few
    customers often has nobody held out yet)."""
    if holdout is None:
        return
    for cohort in ("journey", "holdout"):
        if not holdout["customers"][cohort]:
            holdout[cohort]["goal_rates"] = {}


def _check_store(journey: Journey, reader: StoreReader, name: str) -> None:
    """The store must hold this journey, on the version of this file."""
    held = reader.journeys()
    if name not in held:
        have = ", ".join(f"'{j}' ({n:,} customers)" for j, n in sorted(held.items()))
        raise JourneyError(
            f"the state store {reader.location} has no journey '{name}'"
            + (f"; it holds {have}: report with that journey's file, or name it with "
               "--journey" if have else "; it holds no journey yet"))
    # The store's own rule for a journey's version; it reads nothing but the journey.
    mine = version_of(journey)
    other = {v: n for v, n in reader.versions(name).items() if v != mine}
    if other:
        held_text = ", ".join(f"{n:,} on version {v}" for v, n in sorted(other.items()))
        raise JourneyError(
            f"the state store {reader.location} holds customers of another version of "
            f"journey '{name}' ({held_text}); {journey.file} is version {mine}. "
            "Report with the file of the version they run on, or migrate them first")


def _plan(journey: Journey, start: float, days: int, seed: int, customers: int) -> Plan:
    """The report's frame: one pass over every customer, from ``start`` for ``days``."""
    local = datetime.fromtimestamp(start, zone_info(journey.model.timezone))
    return Plan(source=journey.source, file=journey.model.file, behaviour=Behaviour(),
                start=start, start_date=local.date().isoformat(), days=days, seed=seed,
                customers=customers, lines=(), partition_size=max(1, customers))


def _stream(journey: Journey, reader: StoreReader, name: str, start: float, days: int,
            as_of: float) -> tuple[Tally, int]:
    """Every customer folded into the counts, one at a time; and how many deliveries were
    settled ``unconfirmed`` (handed over by a process that stopped before the answer)."""
    program = Program(journey.model, journey.scenarios)
    tally = Tally(list(journey.model.stages), start, days)
    bonuses = BonusWatch(journey.model)
    unconfirmed = 0
    for stored in reader.customers(name):
        c = _customer(program, stored, reader.location)
        records = _records(stored)
        outcome = _outcome(program, c, as_of)
        tally.absorb(records, c, outcome)
        unconfirmed += _count_sends(records, tally)
        bonuses.count(records, c.bonuses, c.clock, tally)
    tally.close_partition()
    return tally, unconfirmed


def _customer(program: Program, stored: StoredCustomer, location: str) -> Customer:
    try:
        return customer_from_json(program, stored.state)
    except (KeyError, ValueError, TypeError) as exc:
        raise JourneyError(f"customer '{stored.id}' in the state store {location} does not fit "
                           f"journey '{program.name}' ({type(exc).__name__}: {exc}); was it "
                           "written by another journey?") from exc


def _records(stored: StoredCustomer) -> list[TraceRecord]:
    cid = stored.id
    return [(at, cid, kind, fields) for text in stored.history
            for at, kind, fields in orjson.loads(text)]


def _outcome(program: Program, c: Customer, as_of: float) -> Outcome:
    value = program.value(c, NO_EVENT, as_of) if program.value is not None else None
    segments = tuple(name for name, test in program.segment_tests.items()
                     if test(c, NO_EVENT, as_of))
    # A value that is not a number (an unset attribute) counts as nothing, as in simulate.
    return Outcome(c.created, None, float(value) if isinstance(value, int | float) else 0.0,
                   segments)


def _count_sends(records: list[TraceRecord], tally: Tally) -> int:
    """Sends and offers that went out, by message: what simulate counts as delivered.
    The deliveries settled ``unconfirmed`` are returned."""
    delivered = tally.delivered
    unconfirmed = 0
    for _, _, kind, fields in records:
        if kind == "action" and fields.get("action") in ("send", "offer"):
            delivered[fields["message"]] += 1
        elif kind == "delivery" and "unconfirmed" in fields:
            unconfirmed += 1
    return unconfirmed


def deliveries_section(counts: list[DeliveryCount], unconfirmed: int = 0) -> dict[str, Any]:
    """The outbox by status: in all, per message, per channel and per notify handler;
    ``unconfirmed``: the sent ones a process handed over and stopped before the server
    answered (their mail may not have arrived)."""
    total = dict.fromkeys(STATUSES, 0)
    messages: dict[str, dict[str, Any]] = {}
    channels: dict[str, dict[str, int]] = {}
    notifications: dict[str, dict[str, int]] = {}
    attempts = 0
    for row in counts:
        attempts += row.attempts
        _add(total, row)
        if row.kind == "send" and row.message is not None:
            _add(messages.setdefault(row.message, {"channel": row.channel,
                                                   **dict.fromkeys(STATUSES, 0)}), row)
            _add(channels.setdefault(row.channel, dict.fromkeys(STATUSES, 0)), row)
        else:
            _add(notifications.setdefault(row.channel, dict.fromkeys(STATUSES, 0)), row)
    return {**total, "attempts": attempts, "unconfirmed": unconfirmed,
            "messages": dict(sorted(messages.items())),
            "channels": dict(sorted(channels.items())),
            "notifications": dict(sorted(notifications.items()))}


def _add(into: dict[str, Any], row: DeliveryCount) -> None:
    # A row still "sending" has been handed to the server whole: it is never sent again.
    status = "sent" if row.status == "sending" else row.status
    into[status] = into.get(status, 0) + row.rows


def _rejected(reasons: Mapping[str, int]) -> dict[str, Any]:
    return {"count": sum(reasons.values()), "reasons": dict(sorted(reasons.items()))}
