"""Time-budgeted runs of a quadratic peer (not part of toolwire).

The peers re-parse the accumulated text on every chunk, so their cost grows with the
square of the input: at 1 MB in 1-character chunks a run would take hours.  A run here
stops when it has used its budget; it then reports what it got through (chunks done,
seconds spent) and a clearly labelled extrapolation to the whole input, fitted on the
growth of its own partial run.  Runs that finish are timed again without the clock
checks, as often as half a budget more allows, and the median is reported.
"""

from __future__ import annotations

import contextlib
import gc
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from harness import median, time_runs

__all__ = ["BudgetedResult", "extrapolate", "run_budgeted"]

T = TypeVar("T")

_MARK_GROWTH = 1.1
"""Checkpoints are kept at chunk counts growing by this factor (a few hundred at most)."""


@dataclass(slots=True)
class BudgetedResult:
    """One peer on one input: finished (``seconds``) or stopped by its budget."""

    total: int
    """Chunks (or events) in the whole input."""
    budget: float
    finished: bool
    done: int
    """Chunks processed: ``total`` when finished."""
    elapsed: float
    """Seconds the budgeted run took (when stopped: about the budget)."""
    seconds: float | None = None
    """Measured total when finished: the median of ``runs``, else of the budgeted run."""
    runs: list[float] = field(default_factory=list)
    """Clean re-runs (no clock checks) of a finished run."""
    failures: int = 0
    """Prefixes the peer rejected (caught and skipped, as its callers do)."""
    checkpoints: list[tuple[int, float]] = field(default_factory=list)
    """(chunks done, seconds) along a stopped run: what the extrapolation is fitted on."""
    exponent: float | None = None
    """Growth exponent fitted on the partial run's checkpoints (stopped runs only)."""
    extrapolated: float | None = None
    """Estimated total for the whole input (stopped runs only): an extrapolation."""


def run_budgeted(
    make_step: Callable[[], Callable[[T], object]],
    items: Sequence[T],
    budget: float,
    repeats: int,
) -> BudgetedResult:
    """Run ``step(item)`` over ``items`` (``step = make_step()``, fresh state per run)
    until done or ``budget`` seconds are spent.  A step that raises is counted as a
    failure and the run goes on.  A finished run is re-timed cleanly up to ``repeats``
    times within half a ``budget`` more."""
    total = len(items)
    step = make_step()
    clock = time.perf_counter
    checkpoints: list[tuple[int, float]] = []
    failures = 0
    mark = 1
    done = 0
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = clock()
        elapsed = 0.0
        for item in items:
            try:
                step(item)
            except Exception:
                failures += 1
            done += 1
            elapsed = clock() - start
            if done >= mark:
                checkpoints.append((done, elapsed))
                mark = max(done + 1, math.ceil(done * _MARK_GROWTH))
            if elapsed > budget:
                break
    finally:
        if enabled:
            gc.enable()
    if not checkpoints or checkpoints[-1][0] != done:
        checkpoints.append((done, elapsed))
    result = BudgetedResult(total, budget, done == total, done, elapsed, failures=failures)
    if result.finished:
        extra = min(repeats, int(budget / 2 / max(elapsed, 1e-9)))
        if extra >= 1:

            def clean() -> None:
                run = make_step()
                for item in items:
                    with contextlib.suppress(Exception):
                        run(item)

            result.runs = time_runs(clean, extra, expected=elapsed)
            result.seconds = median(result.runs)
        else:
            result.seconds = elapsed
    else:
        result.checkpoints = checkpoints
        result.exponent, result.extrapolated = extrapolate(checkpoints, total)
    return result


def extrapolate(checkpoints: Sequence[tuple[int, float]], total: int) -> tuple[float, float]:
    """(exponent, seconds for ``total`` chunks) from a partial run's checkpoints.

    A least-squares line through log(seconds) against log(chunks done) over the last
    three quarters of the run (chunk counts from a quarter of the last one up), so
    start-up costs weigh little; the exponent is kept within [1, 3] (at least linear,
    and no worse than the cubic cost a superlinear single parse could add)."""
    last_done, last_elapsed = checkpoints[-1]
    points = [(d, s) for d, s in checkpoints if d >= last_done / 4 and s > 0]
    if len(points) < 3:
        points = [(d, s) for d, s in checkpoints if s > 0]
    exponent = 2.0
    if len(points) >= 2:
        xs = [math.log(d) for d, _ in points]
        ys = [math.log(s) for _, s in points]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        sxx = sum((x - mx) ** 2 for x in xs)
        if sxx > 0:
            exponent = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    exponent = min(3.0, max(1.0, exponent))
    return exponent, last_elapsed * (total / last_done) ** exponent
