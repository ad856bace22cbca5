"""The release fuzz run: many mutated journeys, none may crash or take too long.

    .venv/bin/python bench/fuzz.py --inputs 100000 [--workers 2] [--seed 1]
    .venv/bin/python bench/fuzz.py --replay 4711 [--seed 1]

Input number i is made from ``random.Random(f"{seed}:{i}")`` out of the
repository's own journeys (tests/syntax/fuzzing.py: token, line, nesting and
byte mutations, and soups of the language's words), checked through the library
and ``journeyflow check``, and run on a few events when it compiles. Prints the
count of each outcome, every distinct traceback with the inputs that raised it
(saved under ``--out``), and the slowest inputs with their time; ``--replay``
checks one input again and prints it. Exit status 1 when an input crashed or
took longer than ``--bound`` seconds.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the mutations live with the fuzz test they also serve

from tests.syntax.fuzzing import check_input, make_input, seed_journeys  # noqa: E402

Result = tuple[int, str, str, float, str | None]  # index, made from, status, seconds, crash

_SEEDS: dict[str, str] = {}
_WORKDIR: Path | None = None


def _start_worker() -> None:
    global _WORKDIR
    _SEEDS.update(seed_journeys())
    _WORKDIR = Path(tempfile.mkdtemp(prefix="journeyflow-fuzz-"))
    # Build the parser and the error labels before the clock runs on any input.
    check_input(_SEEDS["examples/abandoned_cart.journey"].encode(), _WORKDIR)


def input_number(seed: int, index: int) -> tuple[str, bytes]:
    return make_input(random.Random(f"{seed}:{index}"), _SEEDS)


def check_one(job: tuple[int, int, int]) -> Result:
    seed, index, cli_every = job
    assert _WORKDIR is not None
    made_from, data = input_number(seed, index)
    began = time.perf_counter()
    outcome = check_input(data, _WORKDIR, cli=index % cli_every == 0)
    return index, made_from, outcome.status, time.perf_counter() - began, outcome.crash


def run(opts: argparse.Namespace) -> int:
    jobs = [(opts.seed, i, opts.cli_every) for i in range(opts.inputs)]
    results: list[Result] = []
    began = time.perf_counter()
    with multiprocessing.Pool(opts.workers, initializer=_start_worker) as pool:
        for n, result in enumerate(pool.imap_unordered(check_one, jobs, chunksize=20), 1):
            results.append(result)
            if n % max(1, opts.inputs // 20) == 0:
                print(f"  {n:,} inputs, {time.perf_counter() - began:,.0f} s", flush=True)
    return report(results, time.perf_counter() - began, opts)


def report(results: list[Result], seconds: float, opts: argparse.Namespace) -> int:
    statuses = Counter(status for _, _, status, _, _ in results)
    print(f"\n{len(results):,} inputs in {seconds:,.0f} s with {opts.workers} workers "
          f"(seed {opts.seed}, the CLI on every {opts.cli_every}):")
    for status in ("compiled", "diagnostics", "unreadable", "crash"):
        print(f"  {status:<12} {statuses.get(status, 0):>8,}")
    crashes = [r for r in results if r[4] is not None]
    by_traceback: dict[str, list[Result]] = {}
    for r in crashes:
        by_traceback.setdefault((r[4] or "").strip().splitlines()[-1], []).append(r)
    print(f"tracebacks: {len(crashes)} ({len(by_traceback)} distinct)")
    if crashes:
        _save(crashes, opts)
    for last_line, group in by_traceback.items():
        print(f"\n--- {len(group)} x {last_line}\n    inputs: "
              + ", ".join(f"{i} ({made_from})" for i, made_from, *_ in group[:10]))
        print(group[0][4])
    slowest = sorted(results, key=lambda r: -r[3])[: opts.slowest]
    print(f"\nslowest inputs (bound {opts.bound} s):")
    for index, made_from, status, secs, _ in slowest:
        print(f"  {secs:7.3f} s  input {index:<7} {status:<12} from {made_from}")
    times = sorted(r[3] for r in results)
    if times:
        print(f"median {times[len(times) // 2] * 1000:.1f} ms, "
              f"99th percentile {times[int(len(times) * 0.99)] * 1000:.1f} ms")
    too_slow = [r for r in results if r[3] > opts.bound]
    print(f"over the bound: {len(too_slow)}")
    return 1 if crashes or too_slow else 0


def _save(crashes: list[Result], opts: argparse.Namespace) -> None:
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    for index, made_from, _, _, crash in crashes:
        _, data = input_number(opts.seed, index)
        (out / f"{index}.journey").write_bytes(data)
        (out / f"{index}.txt").write_text(f"made from {made_from}\n\n{crash}", "utf-8")
    print(f"inputs and tracebacks saved in {out}/")


def replay(opts: argparse.Namespace) -> int:
    _start_worker()
    made_from, data = input_number(opts.seed, opts.replay)
    print(f"input {opts.replay} (seed {opts.seed}), made from {made_from}:\n")
    print(data.decode("utf-8", "replace"))
    index, _, status, secs, crash = check_one((opts.seed, opts.replay, 1))
    print(f"\n{status} in {secs:.3f} s")
    if crash:
        print(crash)
    return 1 if crash else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cli-every", type=int, default=1,
                        help="run journeyflow check through the CLI on every N-th input")
    parser.add_argument("--bound", type=float, default=2.0, help="seconds allowed per input")
    parser.add_argument("--slowest", type=int, default=10)
    parser.add_argument("--out", default="fuzz-failures")
    parser.add_argument("--replay", type=int, help="check input number N again and show it")
    opts = parser.parse_args()
    sys.exit(replay(opts) if opts.replay is not None else run(opts))


if __name__ == "__main__":
    main()
