"""``simulate --from-store``: forecast the customers a durable store holds now.

Instead of new arrivals, the population is the store's customers, each starting where
the store has it (:mod:`journeyflow.simulate.resume`). The store is read in the parent
process, one snapshot for the whole command (:mod:`journeyflow.simulate.storeread`), and
cut into partitions of stored ids that any worker can simulate: customers sorted by id,
a fixed number per partition, so the report does not depend on the number of workers.

Versions: every stored customer runs on a version of the journey. Customers of the
file's own version are decoded as they are; customers of another version are moved onto
it as opening the store with the file would migrate them (:mod:`journeyflow.versions.
migration`), in memory only: the store is never written. Before any work starts, the
whole population is rehearsed once, so a migration that something blocks is refused with
its report rather than half-simulated. :func:`population_for` is the one place that
turns stored rows into customers of a program.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from journeyflow.errors import JourneyError
from journeyflow.journey import Journey, source_version, version_of
from journeyflow.live.codec import customer_from_json, dumps, loads, timer_from_row
from journeyflow.model.behaviour import Behaviour
from journeyflow.runtime.program import Program
from journeyflow.runtime.state import ACTIVE, Customer
from journeyflow.runtime.timerkinds import ANYWHERE, DELAYED, RULE
from journeyflow.runtime.timeutil import format_instant
from journeyflow.simulate.engine import run_partition
from journeyflow.simulate.plan import ArrivalLine, Plan, arrival_lines, check_by
from journeyflow.simulate.resume import Resumed, ResumeRun
from journeyflow.simulate.stored import StoredPartition, StoredPopulation, StoredRow
from journeyflow.simulate.storeread import StoreReader
from journeyflow.simulate.tables import program_for
from journeyflow.simulate.tally import Tally
from journeyflow.versions.migrate_report import MigrationReport
from journeyflow.versions.migrate_store import old_programs
from journeyflow.versions.migration import CustomerMigrator, Migrated

__all__ = ["migrated", "population_for", "population_report",
           "run_stored_partition", "store_plan"]


# ---- stored rows to customers ------------------------------------------------------------


def population_for(program: Program, version: str, rows: Iterable[StoredRow],
                   population: StoredPopulation | None = None) -> Iterator[Resumed]:
    """The stored ``rows`` as customers of ``program`` (whose version is ``version``).

    Rows of that version are decoded as stored; rows of another version are migrated
    onto it (:func:`migrated`), with the sources ``population`` recorded.
    """
    migrator = None
    for row in rows:
        if row.version == version:
            yield _decoded(program, row)
            continue
        if migrator is None:
            if population is None:
                raise needs_migration(program.model.name, {row.version: 1}, version)
            migrator = _migrator(program, version, population)
        yield migrated(program, migrator, row, population.seq if population else 0)


def _migrator(program: Program, version: str, population: StoredPopulation
              ) -> CustomerMigrator:
    """Moves customers onto ``program`` as the store would, at the store's latest time."""
    held = {v: 1 for v, _ in population.sources if v != version}
    programs = old_programs(dict(population.sources), held, program.model.name)
    return CustomerMigrator(program, version, programs, population.latest,
                            MigrationReport(program.model.name, version, dry_run=True))


def migrated(program: Program, migrator: CustomerMigrator, row: StoredRow,
             seq: int) -> Resumed:
    """One row stored by another version of the journey, moved onto ``program``; timers
    the move sets anew are numbered after the store's own (``seq``), in their order."""
    result = _move(migrator, row)
    if result is None:  # the rehearsal found nothing blocking; this is one it missed
        raise JourneyError(f"--from-store: stored customer '{row.id}' cannot be moved onto "
                           f"{program.model.file}: {migrator.report.text()}".rstrip())
    state, timers, _ = result
    fresh = iter(range(seq + 1, seq + 1 + len(timers)))
    moved = StoredRow(row.id, migrator.version, state, tuple(
        (due, n if n is not None else next(fresh), kind, dumps(payload))
        for due, n, kind, payload in timers))
    return _decoded(program, moved)


def _move(migrator: CustomerMigrator, row: StoredRow) -> Migrated | None:
    """The stored row as the migration takes it (timer payloads decoded), moved."""
    return migrator.migrate(row.version, row.state, [(due, n, kind, loads(payload))
                                                      for due, n, kind, payload in row.timers])


def rehearse(journey: Journey, program: Program, rows: Iterable[StoredRow],
             population: StoredPopulation) -> tuple[MigrationReport, StoredPopulation]:
    """Move every stored customer of another version onto ``journey`` in memory, before
    any simulation starts: what would block it, and the population's census (stage,
    status, goals) as the file sees it once moved."""
    version = version_of(journey)
    migrator = _migrator(program, version, population)
    stages: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    goals: Counter[str] = Counter()
    for row in rows:
        state = row.state
        if row.version != version:
            result = _move(migrator, row)
            if result is None:
                continue
            state = result[0]
        data = loads(state)
        stages[str(data["stage"])] += 1
        statuses[str(data["status"])] += 1
        goals.update(str(g) for g in data.get("goals", ()))
    return migrator.report, replace(population, stages=tuple(sorted(stages.items())),
                                    statuses=tuple(sorted(statuses.items())),
                                    goals=tuple(sorted(goals.items())))


def needs_migration(journey: str, held: dict[str, int], version: str,
                    command: str = "journeyflow migrate --store URL JOURNEY") -> JourneyError:
    """The refusal for customers stored on another version than the file's."""
    versions = ", ".join(f"{n:,} on version {v}" for v, n in sorted(held.items()))
    return JourneyError(
        f"--from-store: the store holds customers of journey '{journey}' on another version "
        f"({versions}); this file is version {version}. Migrate them onto this version first "
        f"({command}), or forecast with the journey file of their version")


def _decoded(program: Program, row: StoredRow) -> Resumed:
    try:
        c = customer_from_json(program, row.state)
        timers = tuple(t for due, seq, kind, payload in row.timers
                       if (t := timer_from_row(due, seq, row.id, kind, payload, c)) is not None)
    except KeyError as exc:
        raise _misfit(program, row.id, f"it is in or holds {exc}, which the file does not "
                                       "declare") from None
    except (ValueError, TypeError, IndexError) as exc:
        raise _misfit(program, row.id, f"its stored state cannot be read ({exc})") from None
    for timer in timers:
        _check_timer(program, c, timer)
    return Resumed(c, timers)


def _misfit(program: Program, cid: str, why: str) -> JourneyError:
    """A stored customer of the file's version that the file cannot take."""
    return JourneyError(f"--from-store: stored customer '{cid}' does not fit "
                        f"{program.model.file}: {why}. The store was written by another edit "
                        "of the journey under the same version: give the edit a new version "
                        "and migrate the customers, or forecast with the file they run on")


def _check_timer(program: Program, c: Customer, timer: tuple[Any, ...]) -> None:
    """A stored timer names its rule or delayed statement by position in the program: a
    live one must name a timer of the customer's stage (or an ``anywhere`` timer, or an
    existing delayed statement), or an edit under the same version has moved the rules.

    Timers of an earlier stay or life are skipped when they fire, so any position does.
    """
    _, _, _, kind, epoch, which, _ = timer
    if kind == RULE and c.status is ACTIVE and epoch == c.epoch:
        fits = any(rule.id == which for rule in program.stages[c.stage].timers)
    elif kind == ANYWHERE and c.status is ACTIVE and epoch == c.life:
        fits = any(rule.id == which for rule in program.anywhere_timers)
    elif kind == DELAYED:
        fits = isinstance(which, int) and 0 <= which < len(program.delayed)
    else:
        return
    if not fits:
        where = ("anywhere" if kind == ANYWHERE
                 else f"stage '{program.stage_names[c.stage]}'")
        raise _misfit(program, c.id, f"a pending timer of {where} is not one of its timers "
                                     "in the file (rules were added, removed or reordered)")


def run_stored_partition(plan: Plan, partition: StoredPartition | int) -> Tally:
    """Simulate one partition of a forecast from a store, stored customers or new
    arrivals (a partition number): the unit of work of every backend."""
    if isinstance(partition, int):
        return run_partition(plan, partition)
    assert plan.population is not None
    program = program_for(plan.source, plan.file)
    version = source_version(plan.source, program.model.version)
    customers = list(population_for(program, version, partition.rows, plan.population))
    return ResumeRun(plan).run_stored(customers)


# ---- the plan ------------------------------------------------------------------------------


def _start(journey: Journey, latest: float, start: date | None) -> float:
    if start is None:
        return latest
    zone = ZoneInfo(journey.model.timezone)
    first = datetime.combine(start, time(), zone).timestamp()
    if first < latest:
        raise JourneyError(f"--start {start}: the store's customers are already at "
                           f"{format_instant(latest)}; a forecast starts at that time or "
                           "later (leave --start out to start there)")
    return first


def describe(journey: Journey, reader: StoreReader, start: date | None) -> StoredPopulation:
    """The store's population of ``journey``, checked: name, versions, clock."""
    name = journey.model.name
    held = reader.versions(name)
    version = version_of(journey)
    others = {v: n for v, n in held.items() if v != version}
    latest = reader.latest_clock(name)
    seq, steps = reader.counters(name)
    sources = {**reader.sources(name), version: journey.source}
    population = StoredPopulation(
        url=reader.url, journey=name, version=version, now=_start(journey, latest, start),
        latest=latest, customers=sum(held.values()), seq=seq, steps=steps,
        stages=(), statuses=(), goals=(), sources=tuple(sorted(sources.items())),
        stored_versions=tuple(sorted(held.items())))
    if others:  # moved onto this file in memory: rehearsed here, before any work starts;
        # the rehearsal counts the census as the file sees it
        return check_migration(journey, held, reader.rows(name), population, reader.url)
    return replace(population, stages=reader.census(name, "stage"),
                   statuses=reader.census(name, "status"), goals=reader.goals(name))


def check_migration(journey: Journey, held: dict[str, int], rows: Iterable[StoredRow],
                    population: StoredPopulation, url: str) -> StoredPopulation:
    """Refuse a forecast whose stored customers of another version (``held``: how many
    per version) cannot be moved onto ``journey``: what blocks it, with how many
    customers each, as `journeyflow migrate` says it. ``rows`` are streamed once; the
    population comes back with its census as ``journey`` sees it."""
    version = version_of(journey)
    recorded = dict(population.sources)
    missing = {v: n for v, n in held.items() if v != version and v not in recorded}
    if missing:
        raise needs_migration(population.journey, missing, version,
                              f"the store has no record of the file of that version; "
                              f"journeyflow migrate --store {url} --old OLD.journey "
                              f"{journey.file}")
    report, moved = rehearse(journey, program_for(journey.source, journey.file), rows,
                             population)
    if report.blocked:
        raise JourneyError(f"--from-store: the store's customers cannot be moved onto "
                           f"{journey.file}: {report.text()}".rstrip())
    return moved


def store_plan(journey: Journey, behaviour: Behaviour, reader: StoreReader, *,
               start: date | None, days: int, seed: int, by: str | None = None,
               arrivals: bool = False, customers: int | None = None) -> Plan:
    """The forecast of the store's customers of ``journey`` for ``days`` days from now.

    ``start`` (a local date) moves "now" later than the latest customer clock. With
    ``arrivals``, the behaviour model's new arrivals come too, from now on
    (``customers`` of them, if given, as ``--customers`` does); without, the
    population is only the store's.
    """
    if days < 0:
        raise JourneyError("--days must be 0 or more")
    if customers is not None and not arrivals:
        raise JourneyError("customers: the store decides the population of a forecast from "
                           "a store; new arrivals come only with arrivals=True")
    check_by(journey, by)
    lines: tuple[ArrivalLine, ...] = ()
    if arrivals:
        if days < 1:
            raise JourneyError("new arrivals need a horizon of at least 1 day")
        lines = arrival_lines(behaviour, days, customers)
    population = describe(journey, reader, start)
    zone = ZoneInfo(journey.model.timezone)
    first_day = datetime.fromtimestamp(population.now, zone).date().isoformat()
    total = population.customers + sum(line.count for line in lines)
    return Plan(journey.source, journey.file, behaviour, population.now, first_day, days,
                seed, total, lines, by, population=population)


def check_same_population(plan: Plan, journey: Journey, reader: StoreReader) -> None:
    """``--compare``: the other journey must be able to take the same stored customers
    (moved onto it in memory when it is another version, as for the first file)."""
    population = plan.population
    assert population is not None
    if journey.model.name != population.journey:
        raise JourneyError(f"--compare {journey.file}: journey '{journey.model.name}' is not "
                           f"'{population.journey}', the journey of the store's customers")
    held = reader.versions(population.journey)
    if set(held) != {version_of(journey)}:
        check_migration(journey, held, reader.rows(population.journey), population,
                        population.url)


# ---- the report ----------------------------------------------------------------------------


def population_report(plan: Plan, journey: Journey) -> dict[str, Any]:
    """The ``population`` section of a report: the customers the forecast started from,
    per stage (in the journey's order), per status and per goal already reached, and how
    many new arrivals came besides."""
    population = plan.population
    assert population is not None
    stages, goals = dict(population.stages), dict(population.goals)
    return {"store": population.url, "version": population.version,
            "stored_versions": dict(population.stored_versions),
            "now": format_instant(population.now),
            "latest_clock": format_instant(population.latest),
            "customers": population.customers, "arrivals": plan.arrivals,
            "stages": {name: stages.get(name, 0) for name in journey.model.stages},
            "statuses": {status: dict(population.statuses).get(status, 0)
                         for status in ("active", "final", "parked")},
            "goals": {name: goals.get(name, 0) for name in journey.model.goals}}
