"""Where each per-customer value lives: one slot each, in a class made per journey.

A journey declares its attributes, and its expressions name the aggregates of
event history they read, the channels it caps and the splits it runs. Each of
those gets a slot (``v0``, ``v1``...) of a ``Customer`` subclass built for the
journey, so a customer is one object with no dict inside: reading ``points``
or ``count(purchased)`` is one attribute load, and a hundred thousand
customers cost tens of megabytes, not hundreds.

Slots are handed out while the journey's expressions and blocks are compiled
(the generated code names them), then the class is built once, before the
first customer exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from journeyflow.runtime.state import Customer

__all__ = ["CustomerLayout", "history_key"]

# Kinds of history aggregate and the value a new customer starts with.
HISTORY_START: dict[str, Any] = {"count": 0, "last_at": None, "order": -1, "sum": 0,
                                 "last": None, "window": (), "payloads": (),
                                 # live `unless EVENT where ...` waits on the event:
                                 # (wait id, delayed id, scheduling event, stage epoch)
                                 "waits": ()}


def history_key(kind: str, event: str, field: str | None = None) -> str:
    """The name of one aggregate of a customer's history (as the store writes it).

    >>> history_key("sum", "purchased", "amount")
    'sum:purchased.amount'
    """
    return f"{kind}:{event}" if field is None else f"{kind}:{event}.{field}"


class CustomerLayout:
    """Slot names for attributes, history aggregates, cap logs and split arms."""

    def __init__(self, defaults: Mapping[str, Any]) -> None:
        self._next = 0
        self.attributes: dict[str, str] = {}
        self.defaults = dict(defaults)
        self.history: dict[str, str] = {}  # history key -> slot
        self.history_parts: dict[str, tuple[str, str, str | None]] = {}  # (kind, event, field)
        self.history_start: dict[str, Any] = {}  # history key -> starting value
        self.caps: dict[str, str] = {}  # channel (or "any") -> slot of its delivery times
        self.arms: dict[str, str] = {}  # split name (or position) -> slot of the arm taken
        # The slot saying whether the customer is in the journey's holdout, and the test
        # that decides it from the customer id (None: the journey has no holdout).
        self.holdout: str | None = None
        self._held: Callable[[str], bool] | None = None
        # Goals and tags are bits of one int each: small ints cost nothing to keep.
        self.goals: dict[str, int] = {}
        self.tags: dict[str, int] = {}
        self.cls: type[Customer] | None = None
        self._init: Any = None
        for name in defaults:
            self.attributes[name] = self._slot()
        # Few customers differ in their goals and tags: their names are kept by bits.
        self._goal_names: dict[int, tuple[str, ...]] = {}
        self._tag_names: dict[int, tuple[str, ...]] = {}

    def _slot(self) -> str:
        if self.cls is not None:
            raise RuntimeError("the customer class is already built")
        name = f"v{self._next}"
        self._next += 1
        return name

    def attribute(self, name: str) -> str:
        return self.attributes[name]

    def history_slot(self, kind: str, event: str, field: str | None = None) -> str:
        key = history_key(kind, event, field)
        slot = self.history.get(key)
        if slot is None:
            slot = self.history[key] = self._slot()
            self.history_start[key] = HISTORY_START[kind]
            self.history_parts[key] = (kind, event, field)
        return slot

    def cap_slot(self, channel: str) -> str:
        slot = self.caps.get(channel)
        if slot is None:
            slot = self.caps[channel] = self._slot()
        return slot

    def arm_slot(self, key: str) -> str:
        slot = self.arms.get(key)
        if slot is None:
            slot = self.arms[key] = self._slot()
        return slot

    def hold_out(self, held: Callable[[str], bool]) -> str:
        """The holdout slot, set when a customer is made from ``held(customer id)``: the
        id alone decides it, so a customer restored from a store gets the same answer."""
        if self.holdout is None:
            self.holdout = self._slot()
        self._held = held
        return self.holdout

    def held_out(self, c: Customer) -> bool:
        return self.holdout is not None and bool(getattr(c, self.holdout))

    def goal_bit(self, name: str) -> int:
        bit = self.goals.get(name)
        if bit is None:
            bit = self.goals[name] = 1 << len(self.goals)
        return bit

    def tag_bit(self, name: str) -> int:
        bit = self.tags.get(name)
        if bit is None:
            bit = self.tags[name] = 1 << len(self.tags)
        return bit

    def goal_names(self, bits: int) -> tuple[str, ...]:
        # A goal added later takes a new bit, so names kept for earlier bits stay true.
        names = self._goal_names.get(bits)
        if names is None:
            names = self._goal_names[bits] = tuple(
                name for name, bit in self.goals.items() if bits & bit)
        return names

    def tag_names(self, bits: int) -> tuple[str, ...]:
        names = self._tag_names.get(bits)
        if names is None:
            names = self._tag_names[bits] = tuple(
                name for name, bit in self.tags.items() if bits & bit)
        return names

    # ---- the class --------------------------------------------------------------

    def build(self, journey: str) -> type[Customer]:
        """The journey's customer class, and the function that fills a new one's slots."""
        if self.cls is not None:
            return self.cls
        slots = tuple(f"v{i}" for i in range(self._next))
        namespace: dict[str, Any] = {"list": list}
        lines = ["def init(c):"]
        for name, slot in self.attributes.items():
            value = self.defaults[name]
            namespace[f"K_{slot}"] = value
            # A list default is copied: customers must not share one list.
            lines.append(f"    c.{slot} = list(K_{slot})" if isinstance(value, list)
                         else f"    c.{slot} = K_{slot}")
        for key, slot in self.history.items():
            namespace[f"K_{slot}"] = self.history_start[key]
            lines.append(f"    c.{slot} = K_{slot}")
        lines += [f"    c.{slot} = ()" for slot in self.caps.values()]  # no delivery yet
        lines += [f"    c.{slot} = None" for slot in self.arms.values()]  # no arm taken yet
        if self.holdout is not None:
            namespace["_held"] = self._held
            lines.append(f"    c.{self.holdout} = _held(c.id)")
        lines.append("    return c")
        exec(compile("\n".join(lines), f"<customer layout {journey}>", "exec"),  # noqa: S102
             namespace)  # generated from slot names and constants only
        self._init = namespace["init"]
        self.cls = type("JourneyCustomer", (Customer,), {"__slots__": slots, "_layout": self})
        return self.cls

    def new(self, cid: str, stage: int, now: float) -> Customer:
        """A new customer in ``stage``, every slot at its starting value."""
        assert self.cls is not None
        c: Customer = self._init(self.cls(cid, stage, now))
        return c

    def blank(self) -> Customer:
        """A customer with no values at all, for a store to fill."""
        assert self.cls is not None
        return self.cls.__new__(self.cls)

    # ---- reading and writing by name -------------------------------------------------

    def get_attributes(self, c: Customer) -> dict[str, Any]:
        return {name: getattr(c, slot) for name, slot in self.attributes.items()}

    def set_attributes(self, c: Customer, values: Mapping[str, Any]) -> None:
        slots = self.attributes
        for name, value in values.items():
            slot = slots.get(name)
            if slot is not None:
                setattr(c, slot, value)

    def get_history(self, c: Customer) -> dict[str, Any]:
        return {key: getattr(c, slot) for key, slot in self.history.items()}

    def get_caps(self, c: Customer) -> dict[str, tuple[float, ...]]:
        return {channel: getattr(c, slot) for channel, slot in self.caps.items()}

    def get_arms(self, c: Customer) -> dict[str, int]:
        """Split name (position when unnamed) -> arm taken (0-based), for the splits this
        customer has been through."""
        out = {}
        for key, slot in self.arms.items():
            arm = getattr(c, slot)
            if arm is not None:
                out[key] = arm
        return out

    def attribute_view(self, c: Customer) -> Mapping[str, Any]:
        return MappingProxyType(self.get_attributes(c))
