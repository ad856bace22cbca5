"""What a timer in the heap is for, and how many moves one step may make.

Generated step code (:mod:`~journeyflow.runtime.steps`) writes these numbers into
the code it makes, and the interpreter and the stores read them back; keeping them
here lets both sides import them without importing each other.
"""

from __future__ import annotations

__all__ = ["ANYWHERE", "DELAYED", "DELIVER", "EXPIRE", "MAX_TRANSITIONS", "REMIND", "RULE"]

# More transitions and emitted events than this in one step park the customer.
MAX_TRANSITIONS = 100

# The kind of a timer: a stage rule, an `anywhere` rule, a delayed statement, a bonus
# expiring, a bonus reminder, a deferred delivery. Stored as numbers by durable stores.
RULE, ANYWHERE, DELAYED, EXPIRE, REMIND, DELIVER = range(6)
