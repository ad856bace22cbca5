"""The same partitions of several journeys, leased together by one worker.

Journeys run together share each customer's send log, so that a ``limit`` counts every
journey's deliveries. On a store shared by workers that holds only if one worker steps a
customer in every journey at once: otherwise two workers could each find a customer
under its cap and both send. So a worker running several journeys claims a partition in
all of them in one transaction, only when it is free (or its own) in all of them, and
gives it back in all of them when it loses or releases it in one. The journeys'
partition counts must be the same (they are, unless one was first stored with another
``partitions`` option).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from journeyflow.live.leases import Leases

__all__ = ["Changes", "balance_together"]

# Per journey (in the order given): partitions lost, gained and given back.
Changes = list[tuple[set[int], set[int], set[int]]]

# The rows free (or this worker's) now, locked; one another transaction holds is skipped.
_CANDIDATES = (
    "SELECT journey, part FROM jf_leases WHERE journey = ANY(%s) AND (worker IS NULL OR "
    "expires < clock_timestamp() OR worker = %s) ORDER BY part, journey "
    "FOR UPDATE SKIP LOCKED")

_CLAIM = (
    "UPDATE jf_leases SET worker = %s, epoch = epoch + 1, "
    "expires = clock_timestamp() + make_interval(secs => %s) "
    "WHERE journey = ANY(%s) AND part = ANY(%s) RETURNING journey, part, epoch, deliveries")


def balance_together(leases: Sequence[Leases]) -> Changes:
    """One balancing turn of a worker over journeys leased together: renew, give back
    what is no longer held in every journey and the share above the fair one, and claim
    up to the fair share (partitions / live workers, rounded up)."""
    lost = [lease.refresh() for lease in leases]
    # What is not held in every journey is given back in all of them.
    whole = set.intersection(*(set(lease.held) for lease in leases))
    given = [set(lease.held) - whole for lease in leases]
    live = max(lease.heartbeat() for lease in leases)
    target = math.ceil(leases[0].partitions / live)
    excess = len(whole) - target
    if excess > 0:
        extra = set(sorted(whole)[-excess:])
        whole -= extra
        given = [g | extra for g in given]
    for lease, parts in zip(leases, given, strict=True):
        lease.release(parts)
    gained = _claim(leases, target - len(whole), whole)
    return [(lo, gained, gi) for lo, gi in zip(lost, given, strict=True)]


def _claim(leases: Sequence[Leases], count: int, held: set[int]) -> set[int]:
    """Take up to ``count`` partitions free in every journey, in one transaction."""
    if count <= 0:
        return set()
    first = leases[0]
    by_name = {lease.journey: lease for lease in leases}
    names = list(by_name)
    with first.conn.transaction():
        free: dict[int, int] = {}
        for journey, part in first.conn.execute(_CANDIDATES, (names, first.worker)):
            if journey in by_name and part not in held:
                free[part] = free.get(part, 0) + 1
        # Only a partition free in every journey is taken: in all of them at once.
        chosen = sorted(part for part, n in free.items() if n == len(names))[:count]
        if not chosen:
            return set()
        rows = first.conn.execute(_CLAIM, (first.worker, first.seconds, names,
                                           chosen)).fetchall()
    for journey, part, epoch, deliveries in rows:
        lease = by_name[journey]
        lease.held[part] = epoch
        lease.deliveries[part] = deliveries
    return set(chosen)
