"""End to end: ``journeyflow run`` against a hand-written pipeline, and ``Engine.handle``
against hand-written dispatch, on examples/lifecycle.journey.

    .venv/bin/python bench/endtoend.py [--sizes 100000,390000,1000000] [--big]
        [--customers 25000] [--repeat 2] [--handle] [--codecs]

Run mode (the default): for each size a JSON Lines file of that many events is made
once (cached in the temp dir) from the seeded lifecycle workload of
bench/baselines/workload.py: a fixed population of ``--customers`` customers whose
120-day behaviour repeats, shifted by 120 days, until the size is reached, so a
bigger file means more events, not more customers. Then, in alternating child
processes, ``--repeat`` times each, ``journeyflow run JOURNEY --events F --trace T
--state S`` (its compiled journey cached by an untimed run beforehand, as after any
earlier run of the same journey), the same with ``--no-cache`` (parsing and checking
the journey first), and bench/baselines/pipeline.py (the same file in, a trace out)
run; per child the CPU time (user + system) and the peak RSS (``ru_maxrss`` from
``wait4``) are taken, the best run counts. Printed: events/s (CPU and wall), peak MB,
the ratios, trace lines written, and whether every customer ends in the same stage.
``--big`` adds 5,000,000 events (a few minutes).

Before timing, journeyflow and the baselines are byte-compiled (``compileall``), as
installing a wheel does: an editable install compiles on first import, unless
``PYTHONDONTWRITEBYTECODE`` is set, and then every child would compile the sources
again (about 0.15 s more for journeyflow). The children get their own
``JOURNEYFLOW_CACHE_DIR`` in a temporary folder.

``--handle``: in child processes, ``Engine.handle`` on event dicts with ISO 8601
times, as a service receives them, against the hand-written journey's dispatch on
the same events already parsed (float times, defaults filled in); the events of each
100k chunk are made outside the timing, trace records are cleared after each chunk.

``--codecs``: the JSON readers and writers, and event validation, on the same lines:
the standard library, orjson, msgspec, and journeyflow's validator.

``--startup``: what a run costs before its first event: ``journeyflow run`` on an
empty file (cached journey, and ``--no-cache``), the pipeline on the same file, and a
bare ``python -c pass``; CPU time, min and median of ``--repeat`` x 10 alternating
children. (No memory here: a child's peak RSS as ``wait4`` gives it is never below its
parent's size when it forked, which is more than these children use.)
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec
import orjson
from baselines import harness
from baselines import workload as wl
from baselines.lifecycle import JOURNEY_FILE
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
JOURNEYFLOW = Path(sys.executable).with_name("journeyflow")
PERIOD = wl.SPAN_DAYS * wl.DAY
FILE_FORMAT = "1"  # bump when the event files change, so cached ones are made again
TARGET_SPEED = 0.60  # journeyflow run >= 60% of the hand-written pipeline
TARGET_MEMORY = 2.0  # peak RSS <= 2x the pipeline's
TARGET_HANDLE = 0.35  # Engine.handle on dicts >= 35% of hand-written dispatch

console = Console(width=None if sys.stdout.isatty() else 160)


# ---- the event files ------------------------------------------------------------------

def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _stream(customers: int, seed: int) -> Iterator[dict[str, Any]]:
    """The workload's events, period after period, with ISO 8601 times."""
    w = wl.generate(customers, seed)  # not the shared pickle: its class path varies
    period = 0
    while True:
        shift = period * PERIOD
        for start in range(0, len(w), harness.CHUNK):
            for event in wl.raw_events(w, start, min(len(w), start + harness.CHUNK)):
                event["at"] = _iso(event["at"] + shift)
                yield event
        period += 1


def events_file(size: int, customers: int, seed: int) -> Path:
    """The cached file of ``size`` events, made in a child process when missing: this
    process stays small, as a child's peak RSS counts the parent's at fork time."""
    key = hashlib.sha256((HERE / "baselines" / "workload.py").read_bytes()
                         + FILE_FORMAT.encode()).hexdigest()[:10]
    path = Path(tempfile.gettempdir()) / f"journeyflow-e2e-{customers}-{seed}-{size}-{key}.jsonl"
    if not path.exists():
        _child([sys.executable, str(Path(__file__).resolve()), "--make-file", str(size),
                "--customers", str(customers), "--seed", str(seed), "--out", str(path)])
    return path


def make_file(path: Path, size: int, customers: int, seed: int) -> None:
    partial = path.with_suffix(".partial")
    with partial.open("wb") as out:
        batch: list[bytes] = []
        for count, event in enumerate(_stream(customers, seed), start=1):
            batch.append(orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE))
            if len(batch) == 10_000 or count == size:
                out.write(b"".join(batch))
                batch = []
            if count == size:
                break
    partial.replace(path)
    return path


# ---- child processes --------------------------------------------------------------------

def _child(command: list[str]) -> dict[str, float]:
    """Run one child: wall and CPU seconds, peak RSS in MB; exits on failure."""
    started = time.perf_counter()
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE) as child:
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        stderr = child.stderr.read().decode() if child.stderr else ""
    if child.returncode != 0:
        console.print(f"[red]{shlex.join(command)} failed:[/red]\n{stderr}")
        sys.exit(1)
    return {"wall": time.perf_counter() - started, "cpu": usage.ru_utime + usage.ru_stime,
            "rss_mb": usage.ru_maxrss / 1024}


def _count_lines(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))


JOURNEYFLOW_ROWS = ("journeyflow", "journeyflow --no-cache")


def _prepare(tmp: Path) -> None:
    """Byte-compile what the children import, and fill their journey cache, untimed."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "journeyflow"),
                    str(HERE / "baselines")], check=True, stdout=subprocess.DEVNULL)
    os.environ["JOURNEYFLOW_CACHE_DIR"] = str(tmp / "journey-cache")
    empty = tmp / "empty.jsonl"
    empty.write_bytes(b"")
    _child([str(JOURNEYFLOW), "run", str(JOURNEY_FILE), "--events", str(empty),
            "--state", str(tmp / "empty.state")])


def _run_set(path: Path, tmp: Path) -> dict[str, dict[str, Any]]:
    jf = [str(JOURNEYFLOW), "run", str(JOURNEY_FILE), "--events", str(path),
          "--trace", str(tmp / "jf.trace"), "--state", str(tmp / "jf.state")]
    hw = [sys.executable, str(HERE / "baselines" / "pipeline.py"), str(path),
          str(tmp / "hw.trace"), str(tmp / "hw.stages")]
    cold = [*jf[:-4], "--trace", str(tmp / "cold.trace"), "--state", str(tmp / "cold.state"),
            "--no-cache"]
    return {"journeyflow": {**_child(jf), "records": _count_lines(tmp / "jf.trace")},
            "journeyflow --no-cache": {**_child(cold),
                                       "records": _count_lines(tmp / "cold.trace")},
            "pipeline": {**_child(hw), "records": _count_lines(tmp / "hw.trace")}}


def _same_output(tmp: Path) -> bool:
    """Whether the run with the cached journey wrote what the one without it wrote."""
    return all(_digest(tmp / f"jf.{kind}") == _digest(tmp / f"cold.{kind}")
               for kind in ("trace", "state"))


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _stages_differ(tmp: Path) -> int:
    """Customers whose final stage differs, counted in a child: the state file of a
    large run takes more memory to read than a run takes, and every later child's peak
    RSS would count this process's peak (they are started by vfork)."""
    out = tmp / "differ.json"
    _child([sys.executable, str(Path(__file__).resolve()), "--stages-differ", str(tmp),
            "--out", str(out)])
    return int(out.read_text())


def count_differ(tmp: Path, out: Path) -> None:
    state = orjson.loads((tmp / "jf.state").read_bytes())["customers"]
    hand = orjson.loads((tmp / "hw.stages").read_bytes())["stages"]
    out.write_text(str(sum(state.get(cid, {}).get("stage") != stage
                           for cid, stage in hand.items()) + len(set(state) - set(hand))))


def _best_of(size: int, path: Path, tmp: Path, repeat: int) -> dict[str, dict[str, Any]]:
    """Each implementation's run with the least CPU time, of ``repeat``."""
    best: dict[str, dict[str, Any]] = {}
    for run in range(repeat):
        with console.status(f"{size:,} events: run {run + 1} of {repeat}"):
            results = _run_set(path, tmp)
        for impl, result in results.items():
            console.print(f"{size:,} {impl} run {run + 1}: "
                          f"{size / result['cpu']:,.0f} events/s CPU, "
                          f"{result['rss_mb']:.0f} MB")
            if impl not in best or result["cpu"] < best[impl]["cpu"]:
                best[impl] = result
    return best


def _verdict(size: int, speed: float, memory: float, cold_speed: float,
             cold_memory: float) -> str:
    return (f"{size:,} events: journeyflow run at {speed:.0%} of the pipeline's speed "
            f"(target >= {TARGET_SPEED:.0%}: {'met' if speed >= TARGET_SPEED else 'NOT met'}), "
            f"{memory:.2f}x its peak memory (target <= {TARGET_MEMORY:.0f}x: "
            f"{'met' if memory <= TARGET_MEMORY else 'NOT met'}); with --no-cache "
            f"{cold_speed:.0%} and {cold_memory:.2f}x")


def run_mode(args: argparse.Namespace) -> list[str]:
    sizes = [int(s) for s in args.sizes.split(",")] + ([5_000_000] if args.big else [])
    table = Table(title=f"journeyflow run vs the hand-written pipeline, lifecycle.journey, "
                        f"{args.customers:,} customers; best of {args.repeat} (CPU)")
    for column in ("events", "implementation", "events/s CPU", "events/s wall", "peak MB",
                   "trace lines", "speed ÷ pipeline", "memory ÷ pipeline", "stages ≠"):
        table.add_column(column, justify="left" if column == "implementation" else "right")
    verdicts = []
    peaks: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="jf-e2e-") as tmp:
        _prepare(Path(tmp))
        for size in sizes:
            with console.status(f"making {size:,} events"):
                path = events_file(size, args.customers, args.seed)
            best = _best_of(size, path, Path(tmp), args.repeat)
            differ = _stages_differ(Path(tmp))
            hw = best["pipeline"]
            ratios = {impl: (hw["cpu"] / best[impl]["cpu"], best[impl]["rss_mb"] / hw["rss_mb"])
                      for impl in JOURNEYFLOW_ROWS}
            peaks[size] = best["journeyflow"]["rss_mb"]
            for impl, result in best.items():
                mine = impl in ratios
                speed, memory = ratios.get(impl, (0.0, 0.0))
                table.add_row(f"{size:,}", impl, f"{size / result['cpu']:,.0f}",
                              f"{size / result['wall']:,.0f}", f"{result['rss_mb']:.0f}",
                              f"{result['records']:,}", f"{speed:.0%}" if mine else "",
                              f"{memory:.2f}x" if mine else "", f"{differ:,}" if mine else "")
            verdicts.append(_verdict(size, *ratios["journeyflow"], *ratios[JOURNEYFLOW_ROWS[1]])
                            + ("" if _same_output(Path(tmp)) else
                               "; the trace or the state DIFFERS with and without the cache"))
    console.print(table)
    if len(peaks) > 1:
        low, high = min(peaks), max(peaks)
        verdicts.append(f"journeyflow peak memory {peaks[low]:.0f} MB at {low:,} events, "
                        f"{peaks[high]:.0f} MB at {high:,} events")
    return verdicts


# ---- start-up ------------------------------------------------------------------------------

def startup_mode(args: argparse.Namespace) -> list[str]:
    """CPU time of each command on an empty event file."""
    with tempfile.TemporaryDirectory(prefix="jf-e2e-") as tmp:
        folder = Path(tmp)
        _prepare(folder)
        empty = str(folder / "empty.jsonl")
        run = [str(JOURNEYFLOW), "run", str(JOURNEY_FILE), "--events", empty,
               "--trace", str(folder / "t"), "--state", str(folder / "s")]
        commands = {
            "journeyflow run": run,
            "journeyflow run --no-cache": [*run, "--no-cache"],
            "pipeline": [sys.executable, str(HERE / "baselines" / "pipeline.py"), empty,
                         str(folder / "hw.trace"), str(folder / "hw.stages")],
            "python -c pass": [sys.executable, "-c", "pass"],
        }
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in commands}
        for _ in range(args.repeat * 10):
            for name, command in commands.items():
                runs[name].append(_child(command))
    table = Table(title="before the first event: an empty event file, "
                        f"{args.repeat * 10} runs each (CPU ms)")
    for column in ("command", "min", "median"):
        table.add_column(column, justify="left" if column == "command" else "right")
    for name, results in runs.items():
        cpu = sorted(r["cpu"] * 1000 for r in results)
        table.add_row(name, f"{cpu[0]:.0f}", f"{statistics.median(cpu):.0f}")
    console.print(table)
    jf = min(r["cpu"] for r in runs["journeyflow run"])
    hw = min(r["cpu"] for r in runs["pipeline"])
    return [f"journeyflow run starts in {jf * 1000:.0f} ms of CPU, the pipeline in "
            f"{hw * 1000:.0f} ms (min of {args.repeat * 10})"]


# ---- Engine.handle -------------------------------------------------------------------------

def handle_worker(impl: str, customers: int, seed: int, out: Path) -> None:
    """Time ``Engine.handle`` on dicts (or hand-written dispatch on parsed events)."""
    w = wl.generate(customers, seed)  # not the shared pickle: its class path varies
    if impl == "journeyflow":
        import journeyflow

        engine = journeyflow.Engine(journeyflow.load(JOURNEY_FILE))
        handle: Callable[[Any], Any] = engine.handle
        records = engine.interpreter.records
        advance: Callable[[float], Any] = engine.advance

        def prepare(event: dict[str, Any]) -> Any:
            event["at"] = _iso(event["at"])
            return event
    else:
        from baselines.handwritten import Handwritten

        hand = Handwritten()
        handle, records, advance, prepare = (hand.handle_valid, hand.records, hand.advance,
                                             harness.prepare)
    cpu = 0.0
    gc.collect()
    gc.freeze()
    for start in range(0, len(w), harness.CHUNK):
        batch = [prepare(e) for e in wl.raw_events(w, start, min(len(w), start + harness.CHUNK))]
        began = time.process_time()
        for event in batch:
            handle(event)
        records.clear()
        cpu += time.process_time() - began
    began = time.process_time()
    advance(w.horizon)
    cpu += time.process_time() - began
    out.write_text(json.dumps({"events": len(w), "cpu": cpu,
                               "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                               / 1024}))


def handle_mode(args: argparse.Namespace) -> list[str]:
    best: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="jf-e2e-") as tmp:
        for run in range(args.repeat):
            for impl in ("journeyflow", "handwritten"):
                out = Path(tmp) / f"{impl}.json"
                _child([sys.executable, str(Path(__file__).resolve()), "--handle-worker", impl,
                        "--handle-customers", str(args.handle_customers), "--out", str(out)])
                result = json.loads(out.read_text())
                rate = result["events"] / result["cpu"]
                console.print(f"handle {impl} run {run + 1}: {rate:,.0f} events/s CPU")
                if impl not in best or result["cpu"] < best[impl]["cpu"]:
                    best[impl] = result
    jf, hw = best["journeyflow"], best["handwritten"]
    share = hw["cpu"] / jf["cpu"]
    events = jf["events"]
    return [f"Engine.handle on dicts: {events / jf['cpu']:,.0f} events/s; hand-written "
            f"dispatch on parsed events: {events / hw['cpu']:,.0f}; {share:.0%} of it "
            f"(target >= {TARGET_HANDLE:.0%}: {'met' if share >= TARGET_HANDLE else 'NOT met'})"
            f"; {events:,} events, {args.handle_customers:,} customers, best of {args.repeat}"]


# ---- codecs ----------------------------------------------------------------------------------

def _rate(fn: Callable[[Any], Any], items: Sequence[Any]) -> float:
    """Items per CPU second of ``fn`` on each item, results dropped (best of 3)."""
    best = float("inf")
    for _ in range(3):
        gc.collect()
        began = time.process_time()
        for item in items:
            fn(item)
        best = min(best, time.process_time() - began)
    return len(items) / best


def codecs_mode(args: argparse.Namespace) -> list[str]:
    import journeyflow
    from journeyflow.runtime.events import Rejection
    from journeyflow.runtime.trace import record_to_dict

    path = events_file(100_000, args.customers, args.seed)
    lines = path.read_bytes().splitlines()
    engine = journeyflow.Engine(journeyflow.load(JOURNEY_FILE))
    validator = engine.validator

    def validate(line: bytes) -> Any:
        try:
            return validator.validate_line(line)
        except Rejection:
            return None

    readers: list[tuple[str, Callable[[Any], Any]]] = [
        ("json.loads", json.loads), ("orjson.loads", orjson.loads)]
    writers: list[tuple[str, Callable[[Any], Any]]] = [
        ("json.dumps", lambda r: json.dumps(r, ensure_ascii=False)),
        ("orjson.dumps", orjson.dumps)]
    untyped, typed = msgspec.json.Decoder(), _msgspec_decoder(msgspec)
    encoder = msgspec.json.Encoder()
    readers += [("msgspec, untyped", untyped.decode),
                ("msgspec, typed events (validating) + at",
                 lambda line: _typed(typed, line))]
    writers.append(("msgspec encode", encoder.encode))
    readers.append(("journeyflow validate_line: orjson + generated checks", validate))
    out = [f"read {len(lines):,} lines, lines/s (CPU, best of 3):"]
    out += [f"  {label:<56}{_rate(fn, lines):>12,.0f}" for label, fn in readers]
    for line in lines[:20_000]:
        engine.handle_valid(validator.validate_line(line)[0])
    records = [record_to_dict(r) for r in engine.interpreter.records]
    out.append(f"write {len(records):,} trace records, records/s (CPU, best of 3):")
    out += [f"  {label:<56}{_rate(fn, records):>12,.0f}" for label, fn in writers]
    return out


def _msgspec_decoder(msgspec: Any) -> Any:
    """The lifecycle's events as msgspec Structs: a tagged union on ``event``."""
    from datetime import datetime

    number = int | float
    kinds: list[Any] = []
    specs: dict[str, dict[str, Any]] = {
        "page_viewed": {"page": (str, "home")}, "signed_up": {"source": (str, "web")},
        "cart_abandoned": {"cart_value": (number, msgspec.NODEFAULT)},
        "purchased": {"amount": (number, msgspec.NODEFAULT), "category": (str, "other")},
        "support_ticket": {"rating": (number, msgspec.NODEFAULT)},
        "referred": {"friend": (str, msgspec.NODEFAULT)}, "unsubscribed": {}}
    for name, fields in specs.items():
        data = msgspec.defstruct(f"{name}_data", [(k, t, d) for k, (t, d) in fields.items()])
        kinds.append(msgspec.defstruct(name, [("at", datetime), ("customer", str),
                                              ("data", data, msgspec.field(default_factory=data))],
                                       tag_field="event", tag=name))
    union: Any = kinds[0]
    for kind in kinds[1:]:
        union = union | kind
    return msgspec.json.Decoder(union)


def _typed(decoder: Any, line: bytes) -> Any:
    event = decoder.decode(line)
    return event.at.timestamp()


# ---- main --------------------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", default="100000,390000,1000000",
                        help="event counts, comma-separated")
    parser.add_argument("--big", action="store_true", help="add 5,000,000 events")
    parser.add_argument("--customers", type=int, default=25_000,
                        help="customers in the event files (their behaviour repeats)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--handle", action="store_true", help="Engine.handle mode")
    parser.add_argument("--handle-customers", type=int, default=5_000)
    parser.add_argument("--codecs", action="store_true", help="JSON libraries and validation")
    parser.add_argument("--startup", action="store_true", help="start-up cost on an empty file")
    parser.add_argument("--handle-worker", help=argparse.SUPPRESS)
    parser.add_argument("--make-file", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stages-differ", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.handle_worker:
        handle_worker(args.handle_worker, args.handle_customers, args.seed, args.out)
        return 0
    if args.make_file:
        make_file(args.out, args.make_file, args.customers, args.seed)
        return 0
    if args.stages_differ:
        count_differ(args.stages_differ, args.out)
        return 0
    started = time.perf_counter()
    if args.codecs:
        lines = codecs_mode(args)
    elif args.startup:
        lines = startup_mode(args)
    elif args.handle:
        lines = handle_mode(args)
    else:
        lines = run_mode(args)
    for line in lines:
        console.print(line)
    python = os.path.relpath(sys.executable, Path.cwd())
    script = os.path.relpath(Path(__file__).resolve(), Path.cwd())
    console.print(f"command: {shlex.join([python, script, *sys.argv[1:]])}  "
                  f"({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
