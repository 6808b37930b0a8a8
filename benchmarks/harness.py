"""The measuring and reporting harness every benchmark script shares (not part of toolwire).

A benchmark here is always the same four steps, so each step lives once, in this module:

1. **Cut the input** (``split``, ``chunk_count``): fixed-size chunks of a text or a
   body, the last one shorter.
2. **Time it** (``time_runs`` / ``median``, ``drive``, ``fewer_repeats``, or
   ``cpu_seconds``): wall-clock with ``time.perf_counter`` for the absolute figures,
   process CPU time where only a ratio of two sizes matters (other processes on a
   shared machine stretch wall time unevenly).  The cyclic GC is off while the clock
   runs and short runs are looped inside one measurement, so neither a collection nor
   the clock's resolution lands in a figure.  A cell is timed only after an untimed
   check run (``checked`` keeps its outcome), which is also the warm-up.
3. **Compare with a floor** (``noop_run``, ``EventFloor`` / ``floor_run``,
   ``loads_floor``; ``time_with_floors`` times a parser next to the first two):
   what the same loop costs with nothing in it, with the cheapest possible event per
   chunk, or with ``json.loads`` of every event.  ``FloorFigures`` derives the
   per-chunk times and the floor ratio of a cell.
4. **Report** (``fmt_*``, ``ratio``, ``md_row`` / ``md_table``, ``environment`` /
   ``environment_line``, ``publish`` / ``write_results``, ``progress``): Markdown to
   stdout, progress to stderr, the raw figures as JSON.

What is measured (the workload, the peers, the events check) is in ``common.py``.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from importlib import metadata
from typing import Any, Protocol, TypeVar

__all__ = [
    "MIN_MEASUREMENT",
    "CheckedCell",
    "EventFloor",
    "FloorDelta",
    "FloorFigures",
    "Parser",
    "add_run_options",
    "checked",
    "chunk_count",
    "cpu_seconds",
    "drive",
    "environment",
    "environment_line",
    "fewer_repeats",
    "floor_run",
    "fmt_ms",
    "fmt_ratio",
    "fmt_us",
    "loads_floor",
    "md_row",
    "md_table",
    "median",
    "noop_run",
    "progress",
    "publish",
    "ratio",
    "split",
    "time_once",
    "time_runs",
    "time_with_floors",
    "write_json",
    "write_results",
]

# ---------------------------------------------------------------------------
# Chunking
# ---------------------------------------------------------------------------

S = TypeVar("S", str, bytes)


def split(text: S, size: int) -> list[S]:
    """Fixed-size chunks of ``size`` characters (or bytes); the last one may be shorter."""
    return [text[i : i + size] for i in range(0, len(text), size)]


def chunk_count(length: int, size: int) -> int:
    """How many chunks ``split`` makes of ``length`` characters: ``ceil(length / size)``."""
    return -(-length // size)


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------


def time_once(fn: Callable[[], object], number: int = 1) -> float:
    """Seconds per call of ``fn``, timed over ``number`` back-to-back calls with the
    cyclic GC disabled (collected just before)."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        return (time.perf_counter() - start) / number
    finally:
        if enabled:
            gc.enable()


MIN_MEASUREMENT = 0.005
"""Seconds one measurement should last at least: shorter runs are repeated inside it,
so the clock's resolution and the loop's set-up vanish from the per-run time."""


def time_runs(fn: Callable[[], object], repeats: int, expected: float | None = None) -> list[float]:
    """``repeats`` measurements of ``fn`` (seconds per call each).  A call shorter than
    ``MIN_MEASUREMENT`` is repeated ``number`` times per measurement, like ``timeit``'s
    autorange; the length of a call is ``expected`` or else one untimed calibration call.
    """
    first = time_once(fn) if expected is None else expected
    number = 1 if first >= MIN_MEASUREMENT else math.ceil(MIN_MEASUREMENT / max(first, 1e-7))
    return [time_once(fn, number) for _ in range(max(1, repeats))]


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def cpu_seconds(fn: Callable[[], object], repeats: int, target: float) -> float:
    """The least CPU time (``time.process_time``) of ``repeats`` calls, each repeated
    until it lasts ``target`` seconds, GC off; the first call is the warm-up and sets
    the count.  CPU time, not wall-clock: for growth ratios, where other processes on a
    shared machine would stretch wall time unevenly (``time_runs`` measures wall-clock
    for the absolute comparisons)."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.process_time()
        fn()
        once = max(time.process_time() - start, 1e-6)
        number = max(1, round(target / once))
        best = float("inf")
        for _ in range(repeats):
            start = time.process_time()
            for _ in range(number):
                fn()
            best = min(best, (time.process_time() - start) / number)
        return best
    finally:
        if enabled:
            gc.enable()


def fewer_repeats(
    repeats: int, count: int, steps: Iterable[tuple[int, int]] = ((500_000, 2), (100_000, 3))
) -> int:
    """At most ``cap`` repeats for the first ``(above, cap)`` of ``steps`` (largest
    ``above`` first) that ``count`` (chunks or events fed per run) exceeds: fewer timed
    runs where one run is long, to fit the benchmark's time."""
    for above, cap in steps:
        if count > above:
            return min(repeats, cap)
    return repeats


class Parser(Protocol):
    """What ``drive`` feeds: a push parser."""

    def feed(self, chunk: Any) -> list[Any]: ...
    def close(self) -> list[Any]: ...


def drive(make: Callable[[], Parser], chunks: Sequence[Any]) -> None:
    """One timed run of a push parser: build it, feed every chunk, close (the events
    are dropped).  ``feed`` is looked up once, outside the loop."""
    p = make()
    feed = p.feed
    for c in chunks:
        feed(c)
    p.close()


# ---------------------------------------------------------------------------
# Floors
# ---------------------------------------------------------------------------


def time_with_floors(
    make: Callable[[], Parser], chunks: Sequence[str], repeats: int
) -> tuple[float, float, list[float]]:
    """The no-op loop's median, the event floor's median and toolwire's runs, timed in
    that order over the same chunks, right next to each other (so the ratios between
    them carry little of a shared machine's drift)."""
    noop = median(time_runs(lambda: noop_run(chunks), repeats))
    floor = median(time_runs(lambda: floor_run(chunks), repeats))
    return noop, floor, time_runs(partial(drive, make, chunks), repeats)


class CheckedCell(Protocol):
    """A timed cell that keeps what its untimed check run gave."""

    aborted: str | None
    notes: list[str]
    events_per_run: int | None
    deltas_per_run: int | None


def checked(
    cell: CheckedCell, reason: str | None, events: int, deltas: int, notes: list[str]
) -> bool:
    """Keep the check run's figures and notes in ``cell``; on a ``reason`` abort the
    cell instead (reported on stderr) and return False: it is not timed."""
    if reason is not None:
        cell.aborted = reason
        progress(f"  ABORTED: {reason}")
        return False
    cell.events_per_run, cell.deltas_per_run = events, deltas
    cell.notes.extend(notes)
    return True


class FloorFigures:
    """The figures derived from a timed cell (a dataclass with ``chunks``,
    ``toolwire_s`` and ``floor_s``): per-chunk times, and toolwire over the event floor."""

    __slots__ = ()
    chunks: int
    toolwire_s: float | None
    floor_s: float | None

    def per_chunk(self, seconds: float | None) -> float | None:
        return None if seconds is None else seconds / self.chunks

    @property
    def floor_ratio(self) -> float | None:
        if self.toolwire_s is None or not self.floor_s:
            return None
        return self.toolwire_s / self.floor_s


def _receive(chunk: object) -> None:
    """The no-op a chunk is handed to."""


def noop_run(chunks: Sequence[object]) -> None:
    """Floor of per-chunk Python cost: a loop handing each chunk to a no-op function."""
    f = _receive
    for c in chunks:
        f(c)


@dataclass(slots=True)
class FloorDelta:
    """A plain slotted delta event (not frozen): the cheapest event worth emitting."""

    index: int
    id: str
    text: str


class EventFloor:
    """The least any push parser with per-chunk deltas can cost: ``feed`` wraps the
    chunk in ONE delta event and returns it in a list, and does nothing else."""

    __slots__ = ()

    def feed(self, chunk: str) -> list[FloorDelta]:
        return [FloorDelta(0, "call_0", chunk)]

    def close(self) -> list[FloorDelta]:
        return []


def floor_run(chunks: Sequence[str]) -> None:
    """The event floor, driven exactly like a real parser."""
    p = EventFloor()
    feed = p.feed
    for c in chunks:
        feed(c)
    p.close()


def loads_floor(data: Sequence[str]) -> None:
    """Floor of a provider stream: ``json.loads`` of every SSE event's data (the
    ``[DONE]`` sentinel skipped) and nothing else, what any client pays to read it."""
    loads = json.loads
    for d in data:
        if d != "[DONE]":
            loads(d)


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------


def fmt_us(seconds: float | None, digits: int = 3) -> str:
    return "n/a" if seconds is None else f"{seconds * 1e6:.{digits}f}"


def _big(value: float) -> str:
    """``1.2e9`` for huge values, ``12,345`` below a million."""
    if value >= 1e6:
        mantissa, exponent = f"{value:.1e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    return f"{value:,.0f}"


def fmt_ms(seconds: float | None, estimated: bool = False) -> str:
    if seconds is None:
        return "n/a"
    ms = seconds * 1e3
    text = _big(ms) if ms >= 1000 else f"{ms:.3g}" if ms < 10 else f"{ms:.1f}"
    return ("~" if estimated else "") + text


def fmt_ratio(value: float | None, estimated: bool = False) -> str:
    if value is None:
        return "n/a"
    text = _big(value) if value >= 100 else f"{value:.2f}" if value < 10 else f"{value:.1f}"
    return ("~" if estimated else "") + text + "x"


def ratio(a: float | None, b: float | None, fmt: Callable[[float], str] = fmt_ratio) -> str:
    """``a ÷ b`` through ``fmt``, or ``n/a`` when either is missing (or ``b`` is 0)."""
    return "n/a" if a is None or not b else fmt(a / b)


# ---------------------------------------------------------------------------
# Markdown, JSON, progress
# ---------------------------------------------------------------------------


def md_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def md_table(columns: Sequence[str], left: int = 1) -> list[str]:
    """A Markdown table's head: the columns, then the rule (the first ``left``
    columns left-aligned, the figures right-aligned)."""
    rule = "|" + "|".join("---" if i < left else "---:" for i in range(len(columns))) + "|"
    return [md_row(columns), rule]


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def write_json(path: str, data: Any, indent: int = 1, ensure_ascii: bool = False) -> None:
    """The raw results, for plot.py and for the record."""
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=indent, ensure_ascii=ensure_ascii)


def write_results(path: str | None, **results: Any) -> None:
    """The raw ``results`` (in the order given) as JSON at ``path``, when given, and a
    word on stderr that they are there."""
    if path:
        write_json(path, results)
        progress(f"raw results written to {path}")


def publish(
    lines: list[str],
    options: argparse.Namespace,
    env: dict[str, str],
    config: dict[str, Any],
    **results: Any,
) -> None:
    """The report's Markdown ``lines`` to stdout, then, with ``--json PATH`` among the
    ``add_run_options`` options, the raw results there: the environment, --quick, the
    run's config, then ``results``."""
    print("\n".join(lines))
    write_results(options.json, environment=env, quick=options.quick, config=config, **results)


def environment(*dists: str) -> dict[str, str]:
    """Interpreter, platform and package versions, for the report's header."""
    env = {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
    }
    for dist in ("toolwire", *dists):
        try:
            env[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            env[dist] = "not installed"
    return env


def environment_line(env: dict[str, str], elapsed: float, quick: bool) -> str:
    """The report's ``Environment: ...; benchmark took N s (--quick).`` line."""
    return (
        "Environment: "
        + ", ".join(f"{k} {v}" for k, v in env.items())
        + f"; benchmark took {elapsed:.0f} s"
        + (" (--quick)" if quick else "")
        + "."
    )


def add_run_options(ap: argparse.ArgumentParser, quick_help: str) -> None:
    """The options every script takes: --quick, --json, --repeats, --samples,
    --full-limit."""
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--json", metavar="PATH", help="also write raw results as JSON")
    ap.add_argument("--repeats", type=int, help="timed runs per measurement (default 5; 3 quick)")
    ap.add_argument(
        "--samples", type=int, help="prefixes sampled for an estimate (default 200; 50 quick)"
    )
    ap.add_argument(
        "--full-limit",
        type=float,
        metavar="SECONDS",
        help="estimate a peer instead of running it in full above this (default 10; 3 quick)",
    )
