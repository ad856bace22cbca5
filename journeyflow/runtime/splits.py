"""Which arm of a split a customer takes, and whether the holdout holds them out.

The arm is a pure function of the journey's name, the split's key and the customer
id, so it is the same in every process, every run and every version of the file
that keeps the split's name.
"""

from __future__ import annotations

import hashlib
import itertools
import struct
from bisect import bisect_right
from collections.abc import Callable

__all__ = ["holdout_test", "split_arm", "split_chooser"]


def split_arm(journey: str, customer: str, position: str, shares: tuple[float, ...]) -> int:
    """The arm a customer takes (precise rule 12): stable in every process and run.

    >>> split_arm("Newsletter-Test", "kunde-2", "11:5", (30.0, 70.0))
    0
    """
    return split_chooser(journey, position, shares)(customer)


def split_chooser(journey: str, position: str,
                  shares: tuple[float, ...]) -> Callable[[str], int]:
    """:func:`split_arm` of one split, its constant parts prepared once: customer id -> arm.

    >>> split_chooser("Newsletter-Test", "11:5", (30.0, 70.0))("kunde-2")
    0
    """
    head, tail = f"{journey}\x1f".encode(), f"\x1f{position}".encode()
    bounds = tuple(itertools.accumulate(shares))  # summed in order, as the contract says
    last = len(shares) - 1
    sha256, first_8_bytes = hashlib.sha256, struct.Struct(">Q").unpack_from

    def arm(customer: str) -> int:
        point = (first_8_bytes(sha256(head + customer.encode() + tail).digest())[0]
                 % 10000) / 100
        # The first arm whose cumulative share exceeds the point; the last when
        # shares sum to a little under 100.
        i = bisect_right(bounds, point)
        return i if i < last else last

    return arm


def holdout_test(journey: str, share: float) -> Callable[[str], bool]:
    """Customer id -> whether ``share`` percent of customers hold them out: the split
    number of the key "holdout" below ``share``.

    >>> held = holdout_test("Newsletter-Test", 50.0)
    >>> [held(f"kunde-{i}") for i in range(4)]
    [False, True, False, False]
    """
    choose = split_chooser(journey, "holdout", (share, 100.0 - share))
    return lambda customer: choose(customer) == 0
