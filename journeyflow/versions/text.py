"""The diff as a reviewer reads it: grouped by stage, each change with both sides and
their file:line, in colour on a terminal and plain text elsewhere."""

from __future__ import annotations

import difflib
import re
from typing import Protocol, TextIO

from rich.console import Console
from rich.text import Text

from journeyflow.versions.changes import Change, JourneyDiff, Side

__all__ = ["print_diff", "render_text"]

_ASPECTS = {
    "rule.trigger": "trigger", "rule.guard": "guard", "rule.target": "target",
    "action": "statement", "action.target": "target", "action.timer": "wait",
    "action.condition": "condition", "action.split": "split shares",
    "action.split_position": "split", "message.channel": "channel",
    "message.subject": "subject", "message.body": "body", "message.template": "template",
    "stage.final": "final", "journey.timezone": "", "limit": "",
}
_MARKS = {"added": "+", "removed": "-"}
_LONG = 6  # multi-line texts longer than this show as a unified diff


class InFlightView(Protocol):
    """What a store says about a change: the customers it touches, what it blocks."""

    def touched(self, change: Change) -> int: ...

    def blocks(self, change: Change) -> list[str]: ...


def print_diff(diff: JourneyDiff, stream: TextIO | None = None,
               store: InFlightView | None = None) -> None:
    """Print ``diff``; colour only when ``stream`` is a terminal (and NO_COLOR is unset).
    With ``store``, each change also says how many in-flight customers it touches."""
    console = Console(file=stream, highlight=False, soft_wrap=True, emoji=False)
    for line in render_text(diff, store):
        console.print(line)


def render_text(diff: JourneyDiff, store: InFlightView | None = None) -> list[Text]:
    if not diff:
        return [Text(f"no changes that matter to customers from {diff.old_file} to "
                     f"{diff.new_file}")]
    n = len(diff.changes)
    count = "1 change that matters" if n == 1 else f"{n} changes that matter"
    lines = [Text(f"{count} to customers, from "
                  f"{diff.old_file} to {diff.new_file}", style="bold")]
    for group, changes in diff.groups():
        lines += [Text(""), Text(group.title, style="bold underline")]
        for change in changes:
            lines += _change(change, store)
    return lines


def _change(change: Change, store: InFlightView | None = None) -> list[Text]:
    aspect = _ASPECTS.get(change.kind, "")
    what = f"{aspect} {change.verb}" if aspect else change.verb
    mark = _MARKS.get(change.verb, "~")
    out = [Text(f"  {mark} {change.subject}: {what}", style="bold")]
    old, new = change.old, change.new
    width = max(len(old.where), len(new.where))
    if _is_long(old.text) and _is_long(new.text):
        out += [Text(f"      {old.where}  ->  {new.where}", style="dim")]
        out += _unified(old.text or "", new.text or "")
    elif _one_line(old.text) and _one_line(new.text):
        was, now = _marked_words(old.text or "", new.text or "")
        out += [Text.assemble(f"      {old.where.ljust(width)}  ", was),
                Text.assemble(f"      {new.where.ljust(width)}  ", now)]
    else:
        out += _side(old, width, "red") + _side(new, width, "green")
    if change.note:
        out.append(Text(f"      note: {change.note}", style="italic dim"))
    if store is not None:
        n = store.touched(change)
        out.append(Text(f"      in flight: {'1 customer' if n == 1 else f'{n:,} customers'}",
                        style="yellow"))
        out += [Text(f"      blocks the migration: {why}", style="bold red")
                for why in store.blocks(change)]
    return out


def _is_long(text: str | None) -> bool:
    return text is not None and text.count("\n") >= _LONG


def _one_line(text: str | None) -> bool:
    return text is not None and "\n" not in text


def _marked_words(old: str, new: str) -> tuple[Text, Text]:
    """Both texts, with the words that differ stressed: a copy edit shows at a glance."""
    a, b = re.split(r"(\s+)", old), re.split(r"(\s+)", new)
    was, now = Text(style="red"), Text(style="green")
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        stress = "" if tag == "equal" else "bold underline"
        was.append("".join(a[i1:i2]), style=stress)
        now.append("".join(b[j1:j2]), style=stress)
    return was, now


def _side(side: Side, width: int, colour: str) -> list[Text]:
    where = side.where.ljust(width)
    if side.text is None:
        return [Text(f"      {where}  (not in this version)", style="dim")]
    first, *rest = side.text.split("\n")
    lines = [Text.assemble(f"      {where}  ", (first, colour))]
    pad = " " * (width + 8)
    lines += [Text.assemble(pad, (line, colour)) for line in rest]
    return lines


def _unified(old: str, new: str) -> list[Text]:
    lines = difflib.unified_diff(old.split("\n"), new.split("\n"), lineterm="", n=1)
    out = []
    for line in list(lines)[2:]:  # the two file headers say nothing here
        colour = {"-": "red", "+": "green", "@": "cyan"}.get(line[:1], "")
        out.append(Text(f"        {line}", style=colour))
    return out
