"""Garbage-collector settings for long batches (``run``, ``simulate``).

A batch keeps many objects alive for its whole length: the compiled journey,
the events read, every customer. CPython's full collections scan all of them
again and again, which costs a third of the run. Freezing what exists before
the batch and making full collections rarer removes most of that; collection
still happens, so cycles are still freed. Embedding services can use the same
context manager around their own batches.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["batch_gc"]


@contextmanager
def batch_gc() -> Iterator[None]:
    """Freeze the objects alive now and make full collections rarer, until the end.

    >>> with batch_gc():
    ...     gc.get_threshold()[2]
    100
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], 10_000), 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
