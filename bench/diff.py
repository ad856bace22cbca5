"""Time of ``journeyflow diff`` on two versions of a generated 10,000-line journey.

    .venv/bin/python bench/diff.py [--lines 10000] [--repeat 3]

The new version renames a tenth of the stages, changes delays, guards, subjects and split
shares here and there. Prints the time to compile both versions (what ``check`` pays for
the two files, the baseline, measured in the same run) and the time of the diff itself
(re-reading both syntax trees for line numbers, and comparing), and how many changes it
found.
"""

from __future__ import annotations

import argparse
import re

from parse import best, generate  # bench/parse.py: the same generated journey, its timer

import journeyflow
from journeyflow.versions import diff_journeys


def edit(text: str) -> str:
    """A broad edit: every tenth stage renamed, every seventh timer and guard changed."""
    stages = sorted(set(re.findall(r"^stage (s\d+)", text, re.M)), key=lambda s: int(s[1:]))
    for name in stages[::10]:
        text = re.sub(rf"\b{name}\b", f"{name}_renamed", text)
    count = iter(range(1_000_000))
    text = re.sub(r"after 14d without", lambda m: "after 21d without" if next(count) % 7 == 0
                  else m.group(0), text)
    text = re.sub(r"event\.rating <= 2", lambda m: "event.rating <= 3" if next(count) % 7 == 0
                  else m.group(0), text)
    text = re.sub(r'"Erinnerung (\d+)"', r'"Reminder \1"', text)
    # The first split's shares: 60/40 instead of 50/50.
    text = text.replace("50% { grant bonus thanks_", "60% { grant bonus thanks_", 1)
    return text.replace("50% { set points", "40% { set points", 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()
    old_text = generate(opts.lines)
    new_text = edit(old_text)

    def compile_both() -> tuple[journeyflow.Journey, journeyflow.Journey]:
        return (journeyflow.loads(old_text, "old.journey"),
                journeyflow.loads(new_text, "new.journey"))

    old, new = compile_both()
    t_load = best(compile_both, opts.repeat)
    t_diff = best(lambda: diff_journeys(old, new), opts.repeat)
    result = diff_journeys(old, new)
    kinds: dict[str, int] = {}
    for change in result.changes:
        kinds[change.kind] = kinds.get(change.kind, 0) + 1
    print(f"journeys: {old_text.count(chr(10)):,} lines, {len(old.model.stages)} stages each")
    print(f"changes found: {len(result.changes):,} "
          + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    print(f"baseline: compile both versions   {t_load:6.3f} s")
    print(f"journeyflow diff of the two       {t_diff:6.3f} s")
    print(f"diff / compile both: {t_diff / t_load:.2f}x (best of {opts.repeat})")


if __name__ == "__main__":
    main()
