"""What the benchmark scripts in this directory measure (not part of toolwire).

Everything here is deterministic: the payloads are built from fixed templates, so two
runs on the same machine time exactly the same text.  How it is timed, the floors and
the report's formatting are in ``harness.py``.

* ``build_arguments`` / ``wrap_tags`` / ``WRITE_FILE_TOOL``: the workload, one
  ``write_file`` call and its schema;
* ``check_call``: the untimed first run (also the warm-up) that checks a parser's
  events before it is timed;
* ``reparse_run`` / ``load_peers`` / ``probe`` / ``sample_plan`` /
  ``sample_prefix_costs`` / ``estimate_total`` / ``reparse_runs``: the peers' "append
  the delta, re-parse the whole accumulated text" approach, run in full or estimated
  from a sample of prefixes when a full run would take too long;
* ``run_settings`` and the targets: what ``harness.add_run_options`` means, and the
  figures the issues ask for (reported, never enforced).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from harness import fmt_ms, fmt_ratio, time_once, time_runs

__all__ = [
    "FLOOR_RATIO_GOAL",
    "FLOOR_RATIO_MUST",
    "LINEARITY_MAX",
    "SPEEDUP_GOAL",
    "SPEEDUP_MUST",
    "TOOL_NAME",
    "WRITE_FILE_TOOL",
    "CallCheck",
    "Peer",
    "PrefixSample",
    "build_arguments",
    "check_call",
    "estimate_total",
    "function_tool",
    "load_peers",
    "peer_columns",
    "probe",
    "reparse_run",
    "reparse_runs",
    "run_settings",
    "sample_plan",
    "sample_prefix_costs",
    "verdict",
    "wrap_tags",
]

TOOL_NAME = "write_file"
"""The one call every workload streams."""


def function_tool(
    name: str, description: str, properties: dict[str, str], required: Sequence[str]
) -> dict[str, Any]:
    """An OpenAI-style function tool whose parameters are an object of ``properties``
    (name -> JSON type)."""
    parameters = {
        "type": "object",
        "properties": {key: {"type": kind} for key, kind in properties.items()},
        "required": list(required),
    }
    function = {"name": name, "description": description, "parameters": parameters}
    return {"type": "function", "function": function}


WRITE_FILE_TOOL = function_tool(
    TOOL_NAME,
    "Write a file.",
    {"path": "string", "content": "string", "options": "object"},
    ["path", "content"],
)
"""The schema of build_arguments' value: the raw-value formats type their values by it."""

# ---------------------------------------------------------------------------
# Workload
# ---------------------------------------------------------------------------

# A file-like text: Python source and prose, with every kind of character a JSON
# string encoder has to care about -- newlines and tabs (escaped as \n and \t),
# double quotes (\"), backslashes (\\) -- and non-ASCII text in the three UTF-8
# widths above ASCII: é (2 bytes), 中文 (3 bytes), emoji (4 bytes, astral).
_LINES: tuple[str, ...] = (
    "def handle_{i}(request: dict[str, str]) -> str:",
    '    """Handle request #{i}: naïve café résumé, 中文注释, emoji 🚀."""',
    '    path = "C:\\\\Users\\\\dev\\\\project\\\\file_{i}.txt"',
    '    message = f"He said \\"hi\\" to {{name!r}} at step {i}"',
    '    pattern = re.compile(r"^\\s*(\\w+)\\s*=\\s*\\"([^\\"]*)\\"$")',
    '    return json.dumps({{"id": {i}, "emoji": "😀🎉", "text": "naïve"}})',
    "",
    "# Prose: Le café est très bon à Paris. 这是一个测试文件。 Emoji: 👍🏽 ✨ (line {i})",
    "\tindented_with_tab = {i}  # a tab-indented line, then a blank one",
    "",
    "Plain ASCII prose makes up most real files: the quick brown fox jumps over the "
    "lazy dog, {i} times.",
)


def _text_stream() -> Iterable[str]:
    i = 0
    while True:
        for line in _LINES:
            yield from line.format(i=i)
            yield "\n"
        i += 1


def _json_cost(ch: str, cache: dict[str, int]) -> int:
    """Characters ``ch`` takes inside a JSON string (1, or 2 for \\n \\" \\\\ ...)."""
    cost = cache.get(ch)
    if cost is None:
        cost = len(json.dumps(ch, ensure_ascii=False)) - 2
        cache[ch] = cost
    return cost


def _arguments(content: str) -> dict[str, Any]:
    return {
        "path": "src/toolwire_bench/generated_module.py",
        "content": content,
        "options": {
            "mode": "w",
            "encoding": "utf-8",
            "create_dirs": True,
            "tags": ["generated", "benchmark", "café", "中文", "🚀"],
            "meta": {
                "author": {"name": "José Núñez", "email": "jose@example.com"},
                "version": [1, 2, 3],
                "checksum": None,
                "ratio": 0.75,
                "limits": {"max_bytes": 16777216, "overwrite": False, "backup": True},
            },
        },
    }


def build_arguments(size: int) -> tuple[str, dict[str, Any]]:
    """Return ``(text, value)``: ``text`` is ``json.dumps(value, ensure_ascii=False)``
    and exactly ``size`` characters long (code points), most of them in ``content``."""
    overhead = len(json.dumps(_arguments(""), ensure_ascii=False))
    budget = size - overhead
    if budget < 0:
        raise ValueError(f"size {size} is below the fixed overhead {overhead}")
    cache: dict[str, int] = {}
    parts: list[str] = []
    for ch in _text_stream():
        if budget == 0:
            break
        cost = _json_cost(ch, cache)
        if cost > budget:
            ch, cost = "x", 1
        parts.append(ch)
        budget -= cost
    value = _arguments("".join(parts))
    text = json.dumps(value, ensure_ascii=False)
    assert len(text) == size, (len(text), size)
    return text, value


def wrap_tags(arguments_text: str, name: str = "write_file") -> str:
    """The full model output in toolwire's ``tags`` format around one tool call."""
    return (
        "<analysis>short</analysis>"
        f'<tool_call>{{"name": "{name}", "arguments": {arguments_text}}}</tool_call>'
        "<final_answer>done</final_answer>"
    )


# ---------------------------------------------------------------------------
# Peers: re-parse the accumulated text on every chunk
# ---------------------------------------------------------------------------


def reparse_run(parse: Callable[[str], object], chunks: Sequence[str]) -> int:
    """Append each chunk to the accumulated text and re-parse all of it, as the
    OpenAI/Anthropic SDKs (jiter) and vLLM/SGLang (partial-json-parser) do.  A prefix
    the parser rejects is skipped, as those callers do; returns how many were."""
    acc = ""
    failures = 0
    for c in chunks:
        acc += c
        try:
            parse(acc)
        except Exception:
            failures += 1
    return failures


@dataclass(slots=True)
class Peer:
    """A re-parse peer: ``parse(accumulated_text)`` is what it runs on every chunk."""

    key: str
    label: str
    parse: Callable[[str], object]


def _jiter() -> Peer:
    from jiter import from_json

    def jiter_parse(acc: str) -> object:
        return from_json(acc.encode(), partial_mode="trailing-strings")

    return Peer("jiter", "jiter re-parse", jiter_parse)


def _pjp() -> Peer:
    import partial_json_parser  # type: ignore[import-untyped]

    def pjp_parse(acc: str) -> object:
        return partial_json_parser.loads(acc)

    return Peer("pjp", "partial-json-parser", pjp_parse)


_PEERS: dict[str, tuple[str, Callable[[], Peer]]] = {
    "jiter": ("jiter", _jiter),
    "pjp": ("partial-json-parser", _pjp),
}
"""Peer key -> (its distribution, its loader)."""


def load_peers(keys: Sequence[str] = ("jiter", "pjp")) -> list[Peer]:
    """The installed peers among ``keys``: jiter's partial mode (the OpenAI/Anthropic
    SDKs) and partial-json-parser (vLLM/SGLang); a missing one is reported on stderr
    and left out."""
    peers: list[Peer] = []
    for key in keys:
        dist, load = _PEERS[key]
        try:
            peers.append(load())
        except ImportError:
            print(f"warning: {dist} is not installed; its column will be n/a", file=sys.stderr)
    return peers


@dataclass(slots=True)
class PrefixSample:
    """Per-prefix parse times measured at evenly spaced prefix lengths."""

    lengths: list[int]
    seconds: list[float]
    tries_per_prefix: int
    failures: int

    @property
    def mean(self) -> float:
        return float(statistics.fmean(self.seconds))


def sample_prefix_costs(
    parse: Callable[[str], object],
    text: str,
    samples: int,
    tries_per_prefix: int = 1,
) -> PrefixSample:
    """Time ``parse`` on ``samples`` prefixes of ``text`` whose lengths are the
    midpoints of ``samples`` equal slices of ``[0, len(text)]``, each parse timed on
    its own (best of ``tries_per_prefix``), GC disabled."""
    n = len(text)
    samples = max(1, min(samples, n))
    lengths = [max(1, min(n, math.ceil((k + 0.5) * n / samples))) for k in range(samples)]
    seconds: list[float] = []
    failures = 0
    clock = time.perf_counter
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        for length in lengths:
            prefix = text[:length]
            best = math.inf
            for _ in range(max(1, tries_per_prefix)):
                start = clock()
                try:
                    parse(prefix)
                except Exception:
                    failures += 1
                best = min(best, clock() - start)
            seconds.append(best)
    finally:
        if enabled:
            gc.enable()
    return PrefixSample(lengths, seconds, max(1, tries_per_prefix), failures)


def estimate_total(sample: PrefixSample, chunk_count: int) -> float:
    """Estimated seconds for a full re-parse run over ``chunk_count`` chunks.

    A full run parses the prefixes ending at every chunk boundary, i.e. ``chunk_count``
    prefixes whose lengths are spread evenly over ``(0, len(text)]``; the sum of their
    parse times is ``chunk_count`` x (mean per-prefix time), and the mean is estimated
    by the midpoint rule over the sampled prefix lengths.  The per-chunk append
    (O(1) amortised) is not counted, which only favours the peers.
    """
    return sample.mean * chunk_count


def probe(parse: Callable[[str], object], text: str) -> float:
    """Warm ``parse`` up on half of ``text``, then time it once on all of it: the
    longest prefix, the dearest one, which sizes the sampling."""
    parse(text[: len(text) // 2])
    return time_once(lambda: parse(text))


def sample_plan(full: float, samples: int, sample_budget: float) -> tuple[int, int]:
    """(prefixes to sample, tries per prefix) for a peer whose whole text parses in
    ``full`` seconds.  Sampling costs about count x full / 2 (more if the per-prefix
    cost is superlinear, which only makes it cheaper): kept within ``sample_budget``;
    quick parses are tried 3 times, the best kept."""
    count = samples
    if full > 0:
        count = min(count, max(10, int(sample_budget / (full / 2))))
    return count, 3 if full < 0.02 else 1


def reparse_runs(
    parse: Callable[[str], object],
    chunks: Sequence[str],
    estimate: float,
    repeats: int,
    full_budget: float,
) -> list[float]:
    """Full re-parse runs of a peer whose estimated total is ``estimate`` seconds: as
    many as ``repeats`` but no more than ``full_budget`` seconds allow (at least one)."""
    reps = max(1, min(repeats, int(full_budget / max(estimate, 1e-9))))
    return time_runs(partial(reparse_run, parse, chunks), reps, estimate)


# ---------------------------------------------------------------------------
# Shared by the scripts: targets, the events check, options, environment
# ---------------------------------------------------------------------------

# Targets of the issues (reporting only; a benchmark never fails).
FLOOR_RATIO_GOAL, FLOOR_RATIO_MUST = 2.0, 3.0
LINEARITY_MAX = 11.0
SPEEDUP_GOAL, SPEEDUP_MUST = 300.0, 100.0


def peer_columns(
    results: Sequence[Any | None], speedups: Sequence[tuple[float | None, bool]]
) -> list[str]:
    """The report's peer columns: each peer result's total in ms (``.seconds``), then
    each ``(speedup, estimated)``; ``~`` marks an estimate, ``n/a`` a peer not run."""
    totals = [fmt_ms(r.seconds, r.estimated) if r else "n/a" for r in results]
    return totals + [fmt_ratio(value, estimated) for value, estimated in speedups]


def verdict(ok: bool) -> str:
    """How a target is reported: PASS or FAIL (never an exit status)."""
    return "PASS" if ok else "FAIL"


@dataclass(slots=True)
class CallCheck:
    """What one untimed run of a parser gave (also the warm-up)."""

    reason: str | None
    """Why the row must be aborted, or None."""
    events: int
    deltas: int
    call: Any = None
    emitted_at: list[int] = field(default_factory=list)
    """Indexes of the chunks whose feed() returned a tool_call."""


def check_call(make: Callable[[], Any], chunks: Sequence[Any], expected: Any) -> CallCheck:
    """Feed ``chunks`` (text or bytes) once: exactly one tool_call named TOOL_NAME whose arguments
    equal ``expected``, and no error event, or a reason to abort the row."""
    p = make()
    events: list[Any] = []
    emitted_at: list[int] = []
    try:
        for i, c in enumerate(chunks):
            out = p.feed(c)
            events.extend(out)
            emitted_at.extend(i for e in out if getattr(e, "type", None) == "tool_call")
        events.extend(p.close())
    except Exception as exc:
        return CallCheck(f"parser raised {type(exc).__name__}: {exc}"[:200], 0, 0)
    calls = [e for e in events if getattr(e, "type", None) == "tool_call"]
    errors = [e for e in events if getattr(e, "type", None) == "error"]
    deltas = sum(1 for e in events if getattr(e, "type", None) == "tool_call_delta")
    n = len(events)
    if errors:
        return CallCheck(f"error event: {errors[0]!r}"[:200], n, deltas)
    if len(calls) != 1:
        return CallCheck(f"expected 1 tool_call event, got {len(calls)}", n, deltas)
    call = calls[0]
    if getattr(call, "name", None) != TOOL_NAME:
        return CallCheck(f"tool_call name is {getattr(call, 'name', None)!r}", n, deltas)
    if getattr(call, "arguments", None) != expected:
        return CallCheck("tool_call arguments differ from the expected ones", n, deltas)
    return CallCheck(None, n, deltas, call, emitted_at)


def run_settings(ns: argparse.Namespace) -> dict[str, Any]:
    """What ``harness.add_run_options`` gave, with the defaults of a full or a
    ``--quick`` run: repeats, samples, the sampling and full-run budgets."""
    quick: bool = ns.quick
    return {
        "repeats": ns.repeats or (3 if quick else 5),
        "samples": ns.samples or (50 if quick else 200),
        "sample_budget": 10.0 if quick else 60.0,
        "full_limit": ns.full_limit if ns.full_limit is not None else (3.0 if quick else 10.0),
        "full_budget": 5.0 if quick else 15.0,
    }
