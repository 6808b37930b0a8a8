"""Benchmark: every text format's parser on one large streamed tool call.

Run from the repository root (inside the project's virtualenv)::

    python benchmarks/bench_formats.py            # full run: 100 KB and 1 MB, 4-char chunks
    python benchmarks/bench_formats.py --quick    # 10 KB and 100 KB, fewer repeats
    python benchmarks/bench_formats.py --json results.json

For every format of ``toolwire.formats()`` that has a renderer, the same ``write_file``
call (the file-like arguments of ``common.build_arguments``) is written in the format's
own syntax by ``toolwire.loop.renderers.renderer(format).render_call``, cut into 4-character
chunks and fed to ``toolwire.parser(format)``.  The report (Markdown) goes to stdout,
progress to stderr; targets are reported but never change the exit status.  See
benchmarks/README.md for the columns and the method.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, Protocol

import common
import harness

KB = 1024
HEADLINE: tuple[str, int] = ("100 KB", 100 * KB)
"""The size of the per-chunk and floor columns (ARGS length in characters)."""
SCALE_FULL: tuple[str, int] = ("1 MB", 1024 * KB)
SCALE_QUICK: tuple[str, int] = ("10 KB", 10 * KB)
"""The second size of the scaling column: 1 MB in a full run, 10 KB with --quick."""
CHUNK = 4
"""Characters per chunk: about one LLM token."""

TOOLS: list[dict[str, Any]] = [common.WRITE_FILE_TOOL]
"""The schema of build_arguments' value: the raw-value formats type their values by it."""
NEEDS_TOOLS = frozenset({"qwen3-coder", "glm-4.5", "glm-4.7"})


class Renderer(Protocol):
    prime: str | None

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str: ...


ParserFactory = Callable[[], harness.Parser]


@dataclass(slots=True)
class Config:
    sizes: list[tuple[str, int]]
    """Headline size first, then the scaling size."""
    repeats: int
    samples: int
    sample_budget: float
    full_limit: float
    full_budget: float
    formats: list[str]


# ---------------------------------------------------------------------------
# Formats
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class Target:
    """One format's parser factory and renderer."""

    format: str
    make: ParserFactory
    render: Callable[[Mapping[str, Any]], str]
    kwargs: dict[str, str]
    """What the parser gets beyond the format (for the report)."""


def load_targets(only: Sequence[str] | None) -> tuple[list[Target], list[str]]:
    """The text formats of ``toolwire.formats()`` with a renderer; the skipped ones."""
    toolwire: Any = importlib.import_module("toolwire")
    renderers: Any = importlib.import_module("toolwire.loop.renderers")
    with_renderer = set(renderers.renderer_formats())
    targets: list[Target] = []
    skipped: list[str] = []
    for name in toolwire.formats():
        if name not in with_renderer or (only and name not in only):
            skipped.append(name)
            continue
        rend: Renderer = renderers.renderer(name)
        kwargs: dict[str, Any] = {}
        shown: dict[str, str] = {}
        if rend.prime is not None:
            # harmony: render_call is written after the generation prompt.
            kwargs["generation_prompt"] = rend.prime
            shown["generation_prompt"] = repr(rend.prime)
        if name in NEEDS_TOOLS:
            kwargs["tools"] = TOOLS
            shown["tools"] = "write_file schema"
        make: ParserFactory = partial(toolwire.parser, name, **kwargs)
        make()  # fail here, once, if the parser cannot be built
        targets.append(Target(name, make, partial(rend.render_call, common.TOOL_NAME), shown))
    return targets, skipped


# ---------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class SizeRun(harness.FloorFigures):
    """One format at one size."""

    size_label: str
    stream_chars: int
    chunks: int
    repeats: int
    aborted: str | None = None
    notes: list[str] = field(default_factory=list)
    events_per_run: int | None = None
    deltas_per_run: int | None = None
    noop_s: float | None = None
    floor_s: float | None = None
    toolwire_s: float | None = None
    toolwire_runs: list[float] = field(default_factory=list)


@dataclass(slots=True)
class Row:
    format: str
    parser_kwargs: dict[str, str]
    runs: dict[str, SizeRun] = field(default_factory=dict)


def check_events(
    make: ParserFactory, chunks: Sequence[str], expected: Any
) -> tuple[str | None, int, int, list[str]]:
    """One untimed run (also the warm-up), checked by common.check_call, plus a note
    when the tool_call does not come from the chunk holding its span's last character.
    Returns (reason to abort or None, events, deltas, notes)."""
    got = common.check_call(make, chunks, expected)
    notes: list[str] = []
    if got.reason is not None:
        return got.reason, got.events, got.deltas, notes
    span = getattr(got.call, "span", None)
    if not got.emitted_at:
        notes.append("tool_call emitted by close(), not by a feed()")
    elif isinstance(span, tuple) and len(span) == 2:
        due = (span[1] - 1) // CHUNK  # the chunk holding the completing character
        if got.emitted_at[0] != due:
            notes.append(
                f"tool_call emitted at chunk {got.emitted_at[0]}, its span ends in chunk {due}"
            )
    return None, got.events, got.deltas, notes


def measure(config: Config, target: Target, size_label: str, value: Any) -> SizeRun:
    stream = target.render(value)
    chunks = harness.split(stream, CHUNK)
    reps = harness.fewer_repeats(config.repeats, len(chunks))
    run = SizeRun(size_label, len(stream), len(chunks), reps)
    harness.progress(f"{target.format} {size_label}: {len(chunks):,} chunks, {reps} repeats")
    if not harness.checked(run, *check_events(target.make, chunks, value)):
        return run
    run.noop_s, run.floor_s, run.toolwire_runs = harness.time_with_floors(target.make, chunks, reps)
    run.toolwire_s = harness.median(run.toolwire_runs)
    return run


# ---------------------------------------------------------------------------
# Peer: jiter re-parse of the accumulated JSON arguments
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class PeerResult:
    seconds: float
    estimated: bool
    estimate_seconds: float
    probe_full_s: float
    chunks: int
    runs: list[float] = field(default_factory=list)
    sample: common.PrefixSample | None = None


def peer_cost(
    config: Config, parse: Callable[[str], object], size_label: str, args_text: str
) -> PeerResult:
    """The re-parse approach on ARGS cut into ``CHUNK``-character chunks: run in full
    when its estimated total is at most ``full_limit``, else the estimate (``~``)."""
    full = common.probe(parse, args_text)
    count, tries = common.sample_plan(full, config.samples, config.sample_budget)
    harness.progress(
        f"jiter re-parse {size_label}: sampling {count} prefixes "
        f"(full text parses in {full * 1e3:.3g} ms)"
    )
    sample = common.sample_prefix_costs(parse, args_text, count, tries)
    arg_chunks = harness.split(args_text, CHUNK)
    estimate = common.estimate_total(sample, len(arg_chunks))
    if estimate > config.full_limit:
        harness.progress(f"  full run would take ~{estimate:,.0f} s; estimated")
        return PeerResult(estimate, True, estimate, full, len(arg_chunks), [], sample)
    runs = common.reparse_runs(parse, arg_chunks, estimate, config.repeats, config.full_budget)
    harness.progress(f"  full run, {len(runs)} repeats (~{estimate:.2g} s each)")
    return PeerResult(harness.median(runs), False, estimate, full, len(arg_chunks), runs, sample)


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def speedup(peer: PeerResult | None, run: SizeRun | None) -> tuple[float | None, bool]:
    if peer is None or run is None or not run.toolwire_s:
        return None, False
    return peer.seconds / run.toolwire_s, peer.estimated


def ok_run(row: Row, size_label: str) -> SizeRun | None:
    run = row.runs.get(size_label)
    return run if run is not None and run.aborted is None else None


def growth(row: Row, small: str, big: str) -> float | None:
    a, b = ok_run(row, small), ok_run(row, big)
    if a is None or b is None or not a.toolwire_s or not b.toolwire_s:
        return None
    return b.toolwire_s / a.toolwire_s


def table(config: Config, rows: list[Row], peers: dict[str, PeerResult]) -> list[str]:
    head, scale = config.sizes[0][0], config.sizes[1][0]
    small, big = sorted(config.sizes, key=lambda s: s[1])
    columns = [
        "format",
        f"chunks ({head})",
        "toolwire µs/chunk",
        "event floor µs/chunk",
        "toolwire / floor",
        f"toolwire ms {head}",
        f"toolwire ms {scale}",
        f"{big[0]} / {small[0]}",
        f"jiter re-parse ms {head}",
        f"jiter re-parse ms {scale}",
        f"speedup {head}",
        f"speedup {scale}",
    ]
    lines = harness.md_table(columns)
    for row in rows:
        h = row.runs.get(head)
        s = row.runs.get(scale)
        aborted = [f"{r.size_label}: {r.aborted}" for r in (h, s) if r and r.aborted]
        if aborted:
            cols = [f"`{row.format}`", f"{h.chunks:,}" if h else "", "**row aborted**"]
            cols += [""] * (len(columns) - len(cols))
            cols[-1] = "; ".join(aborted).replace("|", "\\|")
            lines.append(harness.md_row(cols))
            continue
        ph, ps = peers.get(head), peers.get(scale)
        g = growth(row, small[0], big[0])
        cols = [
            f"`{row.format}`",
            f"{h.chunks:,}" if h else "n/a",
            harness.fmt_us(h.per_chunk(h.toolwire_s)) if h else "n/a",
            harness.fmt_us(h.per_chunk(h.floor_s)) if h else "n/a",
            harness.fmt_ratio(h.floor_ratio) if h else "n/a",
            harness.fmt_ms(h.toolwire_s) if h else "n/a",
            harness.fmt_ms(s.toolwire_s) if s else "n/a",
            "n/a" if g is None else f"{g:.2f}x",
            *common.peer_columns((ph, ps), (speedup(ph, h), speedup(ps, s))),
        ]
        lines.append(harness.md_row(cols))
    return [*lines, ""]


def evaluate_targets(
    config: Config, rows: list[Row], peers: dict[str, PeerResult]
) -> list[dict[str, Any]]:
    """bench_tags.py's targets, per format: floor ratio and speedup at the headline
    size, linearity between the two sizes (only meaningful with 1 MB: full runs)."""
    head = config.sizes[0][0]
    small, big = sorted(config.sizes, key=lambda s: s[1])
    results: list[dict[str, Any]] = []
    for row in rows:
        h = ok_run(row, head)
        ratio = h.floor_ratio if h else None
        g = growth(row, small[0], big[0])
        sp, sp_est = speedup(peers.get(head), h)
        results.append(
            {
                "format": row.format,
                "floor_ratio": ratio,
                "floor_goal": None if ratio is None else ratio <= common.FLOOR_RATIO_GOAL,
                "floor_must": None if ratio is None else ratio <= common.FLOOR_RATIO_MUST,
                "growth": g,
                "growth_ok": None if g is None else g <= common.LINEARITY_MAX,
                "speedup": sp,
                "speedup_estimated": sp_est,
                "speedup_goal": None if sp is None else sp >= common.SPEEDUP_GOAL,
                "speedup_must": None if sp is None else sp >= common.SPEEDUP_MUST,
            }
        )
    return results


def summary_lines(config: Config, targets: list[dict[str, Any]]) -> list[str]:
    head = config.sizes[0][0]
    small, big = sorted(config.sizes, key=lambda s: s[1])
    floor_goal, floor_must = common.FLOOR_RATIO_GOAL, common.FLOOR_RATIO_MUST
    speedup_goal, speedup_must = common.SPEEDUP_GOAL, common.SPEEDUP_MUST
    lines = [
        "## Targets (those of bench_tags.py, per format)",
        "",
        f"toolwire / floor at {head} <= {floor_goal:g}x (must {floor_must:g}x); "
        f"{big[0]} total <= {common.LINEARITY_MAX:g}x the {small[0]} total"
        + (" (info only: 10x the size is not the 1 MB target)" if big[1] != SCALE_FULL[1] else "")
        + f"; speedup vs jiter re-parse at {head} >= {speedup_goal:g}x (must {speedup_must:g}x).",
        "",
    ]

    def mark(must: bool | None, goal: bool | None, shown: str) -> str:
        if must is None:
            return f"SKIP {shown}"
        extra = "" if goal == must else f" (goal {common.verdict(bool(goal))})"
        return f"{common.verdict(must)} {shown}{extra}"

    for t in targets:
        parts = [
            "floor " + mark(t["floor_must"], t["floor_goal"], harness.fmt_ratio(t["floor_ratio"])),
            "linearity "
            + mark(
                t["growth_ok"],
                t["growth_ok"],
                "n/a" if t["growth"] is None else f"{t['growth']:.2f}x",
            ),
            "speedup "
            + mark(
                t["speedup_must"],
                t["speedup_goal"],
                harness.fmt_ratio(t["speedup"], t["speedup_estimated"]),
            ),
        ]
        lines.append(f"- `{t['format']}`: " + "; ".join(parts))
    return [
        *lines,
        "",
        "(Reporting only: the exit status is 0 whatever the outcome.)",
        "",
    ]


def method_lines(
    config: Config, rows: list[Row], peers: dict[str, PeerResult], skipped: list[str]
) -> list[str]:
    head = config.sizes[0][0]
    lines = [
        "## Method",
        "",
        '- Stream: `renderer(format).render_call("write_file", ARGS_VALUE)` alone (one '
        "call, nothing around it), where ARGS_VALUE is `common.build_arguments(size)`'s "
        "value: size = the length in characters of its JSON text ARGS "
        "(`json.dumps(..., ensure_ascii=False)`).  The stream's length differs per "
        "format (qwen3-coder writes strings raw, llama4-pythonic as Python literals), "
        "hence the chunk counts.  Parsers: `toolwire.parser(format)`; qwen3-coder gets "
        "`tools=` with the write_file schema (so `options` types back to an object), "
        'harmony `generation_prompt="<|start|>assistant"` (its rendered call follows '
        "that header).",
        f"- {CHUNK}-character chunks.  One untimed run per format and size checks the "
        "events and warms up: exactly one `tool_call`, named `write_file`, with the "
        "rendered arguments, and no `error`; otherwise the row is aborted.",
        f"- Timings: median of {config.repeats} measurements (3 above 100k chunks, as in "
        "bench_tags.py), `time.perf_counter`, cyclic GC disabled while the clock runs, "
        "runs under 5 ms looped within one measurement.  toolwire = parser construction, "
        "every `feed`, `close`.  Event floor = `harness.EventFloor` (one slotted delta per "
        f"chunk) on the same chunks; per-chunk columns and the floor ratio are at {head}.",
        "- jiter re-parse: per chunk, append to the accumulated arguments text and "
        '`jiter.from_json(acc.encode(), partial_mode="trailing-strings")` all of it '
        "(the OpenAI/Anthropic SDK approach).  Its text is ARGS, the JSON arguments an "
        "OpenAI-compatible server streams, cut into the same chunk size, whatever the "
        "format: for the JSON formats it is exactly the call's argument text, and "
        "qwen3-coder / llama4-pythonic have no JSON text jiter could read.  So the peer "
        "column is the same for every row and only toolwire's side varies.  The peer "
        "parses only the arguments (toolwire the whole call markup), and a rejected "
        "prefix is skipped: both favour the peer.",
        "- `~` marks an estimate: where a full re-parse run would take more than "
        f"{config.full_limit:g} s, the per-prefix parse time is measured at up to "
        f"{config.samples} evenly spaced prefix lengths (midpoints of equal slices; fewer "
        f"when sampling would exceed {config.sample_budget:g} s) and total = mean "
        "per-prefix time x number of chunks (`common.estimate_total`; the append is not "
        "counted).  partial-json-parser (vLLM/SGLang) is not re-run here: it depends only "
        "on ARGS, so bench_tags.py's column applies to every row.",
        "- Wall-clock numbers: on a shared machine expect 10-30% noise between runs "
        "(more on the 1 MB column, which has fewer repeats, and on the linearity ratio, "
        "whose two sizes are timed at different moments).  The floor ratio, measured "
        "right next to each row, is the steadier figure; the peer is timed once per "
        "size, after all rows, so a speedup carries the noise of both sides.",
    ]
    for label, p in peers.items():
        if not p.estimated and p.seconds > 0.05:
            lines.append(
                f"- jiter {label}: run in full ({len(p.runs)} runs); estimate / measured "
                f"= {p.estimate_seconds / p.seconds:.2f} (check of the method)."
            )
        elif p.estimated and p.sample is not None:
            lines.append(
                f"- jiter {label}: estimated from {len(p.sample.lengths)} prefixes "
                f"(whole text parses in {p.probe_full_s * 1e3:.3g} ms)."
            )
        if p.sample is not None and p.sample.failures:
            lines.append(f"- jiter {label}: rejected {p.sample.failures} sampled prefixes.")
    for row in rows:
        for run in row.runs.values():
            for note in run.notes:
                lines.append(f"- note, `{row.format}` {run.size_label}: {note}")
    if skipped:
        lines.append(
            "- Not benchmarked (provider streams or no renderer): "
            + ", ".join(f"`{s}`" for s in skipped)
            + "."
        )
    return [*lines, ""]


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.Namespace, Config]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    harness.add_run_options(ap, "10 KB and 100 KB (no 1 MB), fewer repeats and samples")
    ap.add_argument(
        "--format",
        action="append",
        dest="formats",
        metavar="ID",
        help="only this format (repeatable; default: every text format with a renderer)",
    )
    ns = ap.parse_args(argv)
    config = Config(
        sizes=[HEADLINE, SCALE_QUICK if ns.quick else SCALE_FULL],
        **common.run_settings(ns),
        formats=list(ns.formats or []),
    )
    return ns, config


def main(argv: Sequence[str] | None = None) -> int:
    ns, config = parse_args(argv)
    try:
        targets, skipped = load_targets(config.formats)
    except Exception as exc:
        print(f"error: cannot build the parsers: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    if not targets:
        print("error: no format to benchmark", file=sys.stderr)
        return 2
    jiter = next((peer.parse for peer in common.load_peers(["jiter"])), None)
    started = time.perf_counter()

    workloads: dict[str, tuple[str, Any]] = {}
    for label, size in config.sizes:
        args_text, value = common.build_arguments(size)
        assert json.loads(args_text) == value
        workloads[label] = (args_text, value)

    rows: list[Row] = []
    for target in targets:
        row = Row(target.format, target.kwargs)
        for label, _ in config.sizes:
            row.runs[label] = measure(config, target, label, workloads[label][1])
        rows.append(row)

    peers: dict[str, PeerResult] = {}
    if jiter is not None:
        for label, _ in config.sizes:
            peers[label] = peer_cost(config, jiter, label, workloads[label][0])
    elapsed = time.perf_counter() - started

    env = harness.environment("jiter")
    head = config.sizes[0][0]
    out = [
        "# toolwire: every text format on one streamed `write_file` call",
        "",
        harness.environment_line(env, elapsed, ns.quick),
        "",
        f"{CHUNK}-character chunks; per-chunk and floor columns at {head}; `~` = estimated "
        "from sampled prefixes.",
        "",
    ]
    out += table(config, rows, peers)
    target_results = evaluate_targets(config, rows, peers)
    out += summary_lines(config, target_results)
    out += method_lines(config, rows, peers, skipped)
    harness.publish(
        out,
        ns,
        env,
        asdict(config),
        chunk=CHUNK,
        elapsed_s=elapsed,
        arguments_chars={k: len(v[0]) for k, v in workloads.items()},
        rows=[asdict(r) for r in rows],
        jiter={k: asdict(p) for k, p in peers.items()},
        targets=target_results,
        skipped=skipped,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
