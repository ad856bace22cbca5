"""A customer as the state file shows it, by a function generated per journey.

A state file holds every customer, so the entry is made as steps are: one function
for the journey, reading the customer's slots by name, with the journey's attributes,
segments and value written in (attribute names are identifiers the compiler accepted,
written with ``repr``). It gives what ``Engine.customer`` shows, without the id:
stage, status, attributes (dates as ISO 8601 text, lists copied), tags in name order,
bonuses, goals, segments, pending sends and, when the journey has one, its value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from journeyflow.runtime.timeutil import format_instant

if TYPE_CHECKING:
    from journeyflow.runtime.program import Program
    from journeyflow.runtime.state import Customer

__all__ = ["Entry", "entry_function"]

Entry = Callable[["Customer"], dict[str, Any]]
_NO_EVENT: dict[str, Any] = {}


def entry_function(p: Program) -> Entry:
    """The function that makes the state-file entry of one of ``p``'s customers."""
    layout = p.layout
    attributes = layout.attributes
    lines = ["def entry(c):",
             "    now = c.clock",
             "    attrs = {" + ", ".join(f"{name!r}: c.{slot}"
                                         for name, slot in attributes.items()) + "}"]
    for name in attributes:
        kind = p.model.attributes[name].type if name in p.model.attributes else None
        if kind == "list":  # copied: what a caller does with the entry stays its own
            lines += [f"    v = attrs[{name!r}]",
                      f"    if type(v) is list: attrs[{name!r}] = list(v)"]
        elif name in p.date_attributes:
            lines += [f"    v = attrs[{name!r}]",
                      f"    if isinstance(v, float): attrs[{name!r}] = FORMAT(v)"]
    value = ['    out["value"] = float(VALUE(c, NO_EVENT, now))'] if p.value is not None else []
    lines += [
        "    out = {'stage': STAGES[c.stage], 'status': c.status, 'attributes': attrs,",
        "           'tags': sorted(TAGS(c.tag_bits)) if c.tag_bits else [],",
        "           'bonuses': {k: BONUS(b.value, b.expires) for k, b in c.bonuses.items()}"
        " if c.bonuses else {},",
        "           'goals': list(GOALS(c.goal_bits)) if c.goal_bits else [],",
        "           'segments': [name for name, test in SEGMENTS if test(c, NO_EVENT, now)],",
        "           'pending': [{'message': x['message'], 'due': FORMAT(x['due'])}"
        " for x in c.pending] if c.pending else []}",
        *value,
        "    return out"]
    namespace: dict[str, Any] = {
        "FORMAT": format_instant, "STAGES": p.stage_names, "TAGS": layout.tag_names,
        "GOALS": layout.goal_names, "BONUS": p.describe_bonus, "VALUE": p.value,
        "SEGMENTS": tuple(p.segment_tests.items()), "NO_EVENT": _NO_EVENT}
    exec(compile("\n".join(lines) + "\n", f"<journey state entry {p.name}>", "exec"),  # noqa: S102
         namespace)
    return namespace["entry"]  # type: ignore[no-any-return]
