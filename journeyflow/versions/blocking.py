"""What keeps a store's customers from moving to a new version, and what would fix it.

A migration that meets any of these changes nothing. Each problem is counted over every
customer it concerns, so one report lists everything to fix at once, each with the line
of a ``migrate`` block (or the edit) that would fix it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

__all__ = ["Problem", "Problems", "version_name"]


def version_name(version: str) -> str:
    """``version 2``, or the source hash of a journey without a ``version`` line."""
    return f"version {version}"


@dataclass(frozen=True, order=True)
class Problem:
    """One kind of blocker; ``subject`` is the stage, attribute, bonus or split concerned."""

    kind: str  # stage, type, rewrite, bonus, split, arm, source
    subject: str
    detail: str = ""  # the type found, the arm, the error: whatever the message needs

    def message(self, customers: int, new: str) -> str:
        who = _customers(customers)
        to = version_name(new)
        are = "is" if customers == 1 else "are"
        s = "s" if customers == 1 else ""
        if self.kind == "stage":
            return f"{who} {are} in stage '{self.subject}', which {to} does not have"
        if self.kind == "type":
            return (f"{who} hold{s} {self.detail} in '{self.subject}', which {to} declares "
                    "with another type")
        if self.kind == "rewrite":
            return f"the migrate rewrite of '{self.subject}' fails for {who}: {self.detail}"
        if self.kind == "bonus":
            return (f"{who} hold{s} bonus '{self.subject}', which {to} never grants, so it "
                    "could neither expire nor be redeemed")
        if self.kind == "split":
            return (f"{who} took an arm of split '{self.subject}', which {to} no longer has")
        if self.kind == "arm":
            return (f"{who} took arm {self.detail} of split '{self.subject}', which has fewer "
                    f"arms in {to}")
        return (f"{who} run{s} on {version_name(self.subject)}, whose journey the store does "
                "not hold, so their timers and delayed statements cannot be matched")

    def hint(self, new: str) -> str:
        if self.kind == "stage":
            return f"add  migrate {{ stage {self.subject} -> STAGE }}"
        if self.kind == "type":
            return f"add  migrate {{ set {self.subject} = ... }}  (it reads the old values)"
        if self.kind == "rewrite":
            return f"fix  set {self.subject} = ...  in the migrate block"
        if self.kind == "bonus":
            return (f"keep a  grant bonus {self.subject} ...  statement in {version_name(new)}, "
                    "or migrate once the bonus has run out")
        if self.kind in ("split", "arm"):
            return (f"keep split '{self.subject}' with its arms in {version_name(new)} (add "
                    "an empty arm to retire one)")
        return ("pass that version's file: journeyflow migrate --store URL --old OLD.journey "
                "NEW.journey")


class Problems:
    """Every problem met, with the number of customers each concerns."""

    def __init__(self) -> None:
        self.counts: Counter[Problem] = Counter()

    def add(self, problem: Problem, customers: int = 1) -> None:
        self.counts[problem] += customers

    def __bool__(self) -> bool:
        return bool(self.counts)

    def lines(self, new: str) -> list[tuple[str, str]]:
        """(message, hint) per problem, the most customers first."""
        ordered = sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))
        return [(p.message(n, new), p.hint(new)) for p, n in ordered]

    def as_json(self, new: str) -> list[dict[str, object]]:
        ordered = sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))
        return [{"kind": p.kind, "subject": p.subject, "customers": n,
                 "message": p.message(n, new), "hint": p.hint(new)} for p, n in ordered]


def _customers(n: int) -> str:
    return "1 customer" if n == 1 else f"{n:,} customers"
