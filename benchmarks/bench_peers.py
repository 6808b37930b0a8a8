"""Benchmark: toolwire against the floors and the re-parse peers, in one run.

Run from the repository root (inside the project's virtualenv)::

    python benchmarks/bench_peers.py --json benchmarks/results/peers.json   # ~5 min
    python benchmarks/bench_peers.py --quick            # 1 KB and 10 KB, small budget
    python benchmarks/bench_peers.py --size 1KB --format tags --provider openai-chat
    python benchmarks/plot.py benchmarks/results/peers.json                 # the PNGs

Every text format and every provider that streams JSON argument text carries one
``write_file`` call whose arguments (``common.build_arguments``) are 1 KB, 10 KB,
100 KB or 1 MB long, streamed in 1-, 4- and 64-character chunks.  In the same run:
toolwire; the floors (a no-op loop over the same chunks, ``harness.EventFloor``,
``json.loads`` of the final arguments once, and for providers ``json.loads`` of every
SSE event); and the peers, which append each chunk and re-parse everything so far
(jiter's partial mode as the OpenAI/Anthropic SDKs do, partial-json-parser as
vLLM/SGLang do).  The peers are quadratic: each gets a time budget per cell and a cell
it cannot finish is reported as ``> budget``, with an extrapolation marked ``~``.
The report (Markdown) goes to stdout, progress to stderr; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from bench_formats import TOOLS, Target, load_targets
from budget import BudgetedResult, run_budgeted
from common import Peer, build_arguments, check_call, load_peers
from harness import (
    chunk_count,
    drive,
    environment,
    fewer_repeats,
    fmt_ms,
    fmt_ratio,
    loads_floor,
    md_row,
    md_table,
    median,
    noop_run,
    progress,
    ratio,
    split,
    time_runs,
    time_with_floors,
    write_json,
)
from provider_bodies import PROVIDERS, arguments_fragment, build_body

KB = 1024
SIZES: dict[str, int] = {"1 KB": KB, "10 KB": 10 * KB, "100 KB": 100 * KB, "1 MB": KB * KB}
CHUNKS: tuple[int, ...] = (1, 4, 64)
QUICK_SIZES = ("1 KB", "10 KB")


@dataclass(slots=True)
class Config:
    sizes: list[str]
    chunks: list[int]
    formats: list[str] | None
    """None: every text format with a renderer."""
    providers: list[str]
    budget: float
    """Seconds each peer may spend on one cell."""
    repeats: int
    max_events: int
    """Provider cells with more argument events than this are not run (memory)."""
    quick: bool


def repeats_for(config: Config, chunks: int) -> int:
    """Fewer timed runs where one run feeds very many chunks, to fit the run's time."""
    return fewer_repeats(config.repeats, chunks, ((200_000, 1), (100_000, 2)))


# ---------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class FormatCell:
    """One text format, one argument size, one chunk size."""

    format: str
    size: str
    chunk: int
    stream_chars: int
    chunks: int
    repeats: int
    aborted: str | None = None
    notes: list[str] = field(default_factory=list)
    noop_s: float | None = None
    event_floor_s: float | None = None
    toolwire_s: float | None = None
    toolwire_runs: list[float] = field(default_factory=list)


@dataclass(slots=True)
class PeerCell:
    """One re-parse peer on the arguments text, one size, one chunk size (the same
    for every text format: the peer re-parses the JSON arguments only)."""

    peer: str
    size: str
    chunk: int
    result: BudgetedResult


@dataclass(slots=True)
class ProviderCell:
    """One provider stream, one argument size, one fragment size."""

    provider: str
    size: str
    chunk: int
    events: int
    body_bytes: int = 0
    repeats: int = 0
    skipped: str | None = None
    aborted: str | None = None
    notes: list[str] = field(default_factory=list)
    noop_s: float | None = None
    loads_floor_s: float | None = None
    toolwire_s: float | None = None
    toolwire_runs: list[float] = field(default_factory=list)
    sdk: BudgetedResult | None = None
    """The SDK helpers: json.loads per event, append the fragment, jiter re-parse."""


@dataclass(slots=True)
class Results:
    config: Config
    arguments_chars: dict[str, int] = field(default_factory=dict)
    json_loads_s: dict[str, float] = field(default_factory=dict)
    """``json.loads`` of the final arguments text once, per size."""
    formats: list[FormatCell] = field(default_factory=list)
    peers: list[PeerCell] = field(default_factory=list)
    providers: list[ProviderCell] = field(default_factory=list)
    peer_labels: dict[str, str] = field(default_factory=dict)
    skipped_formats: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


# ---------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------


def measure_format(config: Config, target: Target, size: str, chunk: int, value: Any) -> FormatCell:
    stream = target.render(value)
    chunks = split(stream, chunk)
    reps = repeats_for(config, len(chunks))
    cell = FormatCell(target.format, size, chunk, len(stream), len(chunks), reps)
    got = check_call(target.make, chunks, value)  # also the warm-up
    if got.reason is not None:
        cell.aborted = got.reason
        progress(f"  {target.format} {size} /{chunk}: ABORTED: {got.reason}")
        return cell
    span = getattr(got.call, "span", None)
    if not got.emitted_at:
        cell.notes.append("tool_call emitted by close(), not by a feed()")
    elif isinstance(span, tuple) and got.emitted_at[0] != (span[1] - 1) // chunk:
        cell.notes.append(f"tool_call emitted at chunk {got.emitted_at[0]}, not with its end")
    cell.noop_s, cell.event_floor_s, cell.toolwire_runs = time_with_floors(
        target.make, chunks, reps
    )
    cell.toolwire_s = median(cell.toolwire_runs)
    return cell


def reparse_steps(parse: Callable[[str], object]) -> Callable[[], Callable[[str], object]]:
    """The peers' per-chunk work: append the chunk, re-parse the accumulated text."""

    def make() -> Callable[[str], object]:
        acc = ""

        def step(chunk: str) -> object:
            nonlocal acc
            acc += chunk
            return parse(acc)

        return step

    return make


def sdk_steps(
    provider: str, parse: Callable[[str], object]
) -> Callable[[], Callable[[str], object]]:
    """The SDK helpers' per-event work: decode the event, append its argument fragment,
    re-parse the accumulated arguments."""
    extract = arguments_fragment(provider)

    def make() -> Callable[[str], object]:
        acc = ""
        loads = json.loads

        def step(data: str) -> object:
            nonlocal acc
            if data == "[DONE]":
                return None
            fragment = extract(loads(data))
            if not fragment:
                return None
            acc += fragment
            return parse(acc)

        return step

    return make


def measure_peer(config: Config, peer: Peer, size: str, chunk: int, arguments: str) -> PeerCell:
    chunks = split(arguments, chunk)
    result = run_budgeted(reparse_steps(peer.parse), chunks, config.budget, config.repeats)
    progress(f"  {peer.key} {size} /{chunk}: {describe(result)}")
    return PeerCell(peer.key, size, chunk, result)


def measure_provider(
    config: Config,
    provider: str,
    size: str,
    chunk: int,
    arguments: str,
    value: Any,
    jiter: Peer | None,
) -> ProviderCell:
    toolwire: Any = importlib.import_module("toolwire")
    fragments = chunk_count(len(arguments), chunk)
    cell = ProviderCell(provider, size, chunk, fragments)
    if fragments > config.max_events:
        cell.skipped = f"{fragments:,} events exceed --max-events {config.max_events:,}"
        progress(f"  {provider} {size} /{chunk}: skipped ({cell.skipped})")
        return cell
    body = build_body(provider, arguments, chunk)
    pieces, data = body.pieces, body.data
    cell.events, cell.body_bytes = len(pieces), body.size
    cell.repeats = reps = repeats_for(config, len(pieces))

    def make() -> Any:
        return toolwire.parser(provider)

    got = check_call(make, pieces, value)  # bytes feed the same way
    if got.reason is not None:
        cell.aborted = got.reason
        progress(f"  {provider} {size} /{chunk}: ABORTED: {got.reason}")
        return cell
    if not got.emitted_at:
        cell.notes.append("tool_call emitted by close(), not by a feed()")
    cell.noop_s = median(time_runs(lambda: noop_run(pieces), reps))
    cell.loads_floor_s = median(time_runs(lambda: loads_floor(data), reps))
    cell.toolwire_runs = time_runs(partial(drive, make, pieces), reps)
    cell.toolwire_s = median(cell.toolwire_runs)
    if jiter is not None:
        cell.sdk = run_budgeted(
            sdk_steps(provider, jiter.parse), data, config.budget, config.repeats
        )
        progress(f"  {provider} SDK {size} /{chunk}: {describe(cell.sdk)}")
    return cell


def describe(r: BudgetedResult) -> str:
    if r.finished and r.seconds is not None:
        return f"{r.seconds * 1e3:,.1f} ms"
    return (
        f"> budget after {r.done:,}/{r.total:,} chunks; "
        f"~{r.extrapolated or 0:,.0f} s extrapolated (exponent {r.exponent or 0:.2f})"
    )


def run(config: Config) -> Results:
    results = Results(config)
    targets: list[Target] = []
    if config.formats != []:
        targets, skipped = load_targets(config.formats)
        for t in targets:  # formats that type raw values by schema need it; a client has it
            if isinstance(t.make, partial) and "tools" not in t.make.keywords:
                t.make = partial(t.make, tools=TOOLS)
        if config.formats is None:  # the formats left out for want of a renderer
            results.skipped_formats = [s for s in skipped if s not in PROVIDERS]
    peers = load_peers()
    results.peer_labels = {p.key: p.label for p in peers}
    jiter = next((p for p in peers if p.key == "jiter"), None)
    started = time.perf_counter()
    for size in config.sizes:
        arguments, value = build_arguments(SIZES[size])
        results.arguments_chars[size] = len(arguments)
        results.json_loads_s[size] = median(time_runs(partial(json.loads, arguments), 5))
        for peer in peers:
            if peer.parse(arguments) != value:
                results.notes.append(f"{peer.label} does not return the value at {size}")
        for chunk in config.chunks:
            progress(f"{size} in {chunk}-character chunks")
            for target in targets:
                results.formats.append(measure_format(config, target, size, chunk, value))
            for peer in peers:
                results.peers.append(measure_peer(config, peer, size, chunk, arguments))
            for provider in config.providers:
                results.providers.append(
                    measure_provider(config, provider, size, chunk, arguments, value, jiter)
                )
    results.elapsed_s = time.perf_counter() - started
    return results


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def peer_text(r: BudgetedResult | None) -> str:
    """``123`` ms when finished, ``> 2,000 (~2.1e5)`` when stopped by the budget."""
    if r is None:
        return "n/a"
    if r.finished:
        return fmt_ms(r.seconds)
    return f"> {fmt_ms(r.budget)} ({fmt_ms(r.extrapolated, estimated=True)})"


def speedup_text(r: BudgetedResult | None, toolwire_s: float | None) -> str:
    """peer ÷ toolwire; for a stopped peer a lower bound and the extrapolated ratio."""
    if r is None or not toolwire_s:
        return "n/a"
    if r.finished and r.seconds is not None:
        return fmt_ratio(r.seconds / toolwire_s)
    low = fmt_ratio(r.elapsed / toolwire_s)
    high = fmt_ratio((r.extrapolated or 0) / toolwire_s, estimated=True)
    return f"> {low} ({high})"


def format_tables(results: Results, chunk: int) -> list[str]:
    sizes = results.config.sizes
    peers = {(p.peer, p.size): p.result for p in results.peers if p.chunk == chunk}
    cells = {(c.format, c.size): c for c in results.formats if c.chunk == chunk}
    names = list(dict.fromkeys(c.format for c in results.formats))
    if not names:
        return []
    ref = names[0] if "tags" not in names else "tags"
    big = sizes[-1]

    def ref_row(label: str, text: Callable[[FormatCell], str]) -> str:
        """A row of the reference format's figure at every size."""
        return md_row([label, *(text(cells[ref, s]) if (ref, s) in cells else "" for s in sizes)])

    lines = [
        f"### Text formats, {chunk}-character chunks",
        "",
        *md_table(["ms", *sizes]),
        ref_row(f"chunks (`{ref}`)", lambda c: f"{c.chunks:,}"),
        ref_row(f"no-op loop (`{ref}`)", lambda c: fmt_ms(c.noop_s)),
        ref_row(f"event floor (`{ref}`)", lambda c: fmt_ms(c.event_floor_s)),
        md_row(["json.loads once", *(fmt_ms(results.json_loads_s[s]) for s in sizes)]),
    ]
    for key, label in results.peer_labels.items():
        lines.append(md_row([label, *(peer_text(peers.get((key, s))) for s in sizes)]))
    columns = ["format", *(f"toolwire ms {s}" for s in sizes)]
    columns += [f"÷ no-op {big}", f"÷ event floor {big}", f"÷ json.loads {big}"]
    if len(sizes) > 1:
        columns.append(f"{big} ÷ {sizes[-2]}")
    columns += [f"vs {label} {big}" for label in results.peer_labels.values()]
    lines += ["", *md_table(columns)]
    for name in names:
        row = [f"`{name}`"]
        aborted = [
            f"{s}: {cells[name, s].aborted}"
            for s in sizes
            if cells.get((name, s)) and cells[name, s].aborted
        ]
        if aborted:
            lines.append(
                f"| `{name}` | **aborted**: " + "; ".join(aborted).replace("|", "\\|") + " |"
            )
            continue
        row += [fmt_ms(cells[name, s].toolwire_s) if (name, s) in cells else "" for s in sizes]
        last = cells.get((name, big))
        tw = last.toolwire_s if last else None
        row += [
            ratio(tw, last.noop_s if last else None),
            ratio(tw, last.event_floor_s if last else None),
            ratio(tw, results.json_loads_s.get(big)),
        ]
        if len(sizes) > 1:
            prev = cells.get((name, sizes[-2]))
            row.append(ratio(tw, prev.toolwire_s if prev else None))
        row += [speedup_text(peers.get((key, big)), tw) for key in results.peer_labels]
        lines.append(md_row(row))
    return [*lines, ""]


def provider_table(results: Results, chunk: int) -> list[str]:
    cells = [c for c in results.providers if c.chunk == chunk]
    if not cells:
        return []
    lines = [
        f"### Provider streams, {chunk}-character argument fragments (one SSE event each)",
        "",
        "| provider | arguments | events | body MB | no-op ms | json.loads per event ms "
        "| json.loads once ms | toolwire ms (µs/event) | ÷ json.loads per event "
        "| SDK helpers (jiter re-parse) ms | vs SDK helpers |",
        "|---|---|" + "---:|" * 9,
    ]
    for c in cells:
        head = f"| `{c.provider}` | {c.size} | {c.events:,} |"
        if c.skipped or c.aborted:
            why = f"not run: {c.skipped}" if c.skipped else f"**aborted**: {c.aborted}"
            lines.append(head + " " + why.replace("|", "\\|") + " |" + " |" * 7)
            continue
        per_event = "" if c.toolwire_s is None else f" ({c.toolwire_s / c.events * 1e6:.2f})"
        lines.append(
            head + f" {c.body_bytes / 1e6:.2f} | {fmt_ms(c.noop_s)} | {fmt_ms(c.loads_floor_s)} | "
            f"{fmt_ms(results.json_loads_s.get(c.size))} | {fmt_ms(c.toolwire_s)}{per_event} | "
            f"{ratio(c.toolwire_s, c.loads_floor_s)} | {peer_text(c.sdk)} | "
            f"{speedup_text(c.sdk, c.toolwire_s)} |"
        )
    return [*lines, ""]


def headline(results: Results) -> list[str]:
    """One row per size at 4-character chunks (about one token): the reference format
    and the range over formats, the floors, the peers, one provider and its SDK."""
    config = results.config
    chunk = 4 if 4 in config.chunks else config.chunks[0]
    cells = {(c.format, c.size): c for c in results.formats if c.chunk == chunk}
    names = list(dict.fromkeys(c.format for c in results.formats))
    provs = {(c.provider, c.size): c for c in results.providers if c.chunk == chunk}
    peers = {(p.peer, p.size): p.result for p in results.peers if p.chunk == chunk}
    if not names and not provs:
        return []
    ref = "tags" if "tags" in names else names[0] if names else None
    prov = (
        "openai-chat" if "openai-chat" in config.providers else next(iter(config.providers), None)
    )
    head = ["arguments"]
    if ref:
        head += [f"toolwire `{ref}`", "toolwire, all formats", "event floor", "json.loads once"]
        head += list(results.peer_labels.values())
        head += [f"{label} ÷ toolwire `{ref}`" for label in results.peer_labels.values()]
    if prov:
        head += [f"toolwire `{prov}`", "json.loads per event", "SDK helpers", "SDK ÷ toolwire"]
    lines = [
        f"## Headline: {chunk}-character chunks (ms per stream)",
        "",
        *md_table(head),
    ]
    for size in config.sizes:
        row = [size]
        if ref:
            c = cells.get((ref, size))
            times = [x.toolwire_s for n in names if (x := cells.get((n, size))) and x.toolwire_s]
            span = f"{fmt_ms(min(times))} to {fmt_ms(max(times))}" if times else "n/a"
            tw = c.toolwire_s if c else None
            row += [fmt_ms(tw), span, fmt_ms(c.event_floor_s if c else None)]
            row.append(fmt_ms(results.json_loads_s.get(size)))
            row += [peer_text(peers.get((k, size))) for k in results.peer_labels]
            row += [speedup_text(peers.get((k, size)), tw) for k in results.peer_labels]
        if prov:
            pc = provs.get((prov, size))
            if pc is None or pc.toolwire_s is None:
                row += ["n/a"] * 4
            else:
                row += [
                    fmt_ms(pc.toolwire_s),
                    fmt_ms(pc.loads_floor_s),
                    peer_text(pc.sdk),
                    speedup_text(pc.sdk, pc.toolwire_s),
                ]
        lines.append(md_row(row))
    return [*lines, ""]


def report(results: Results, env: dict[str, str]) -> str:
    config = results.config
    out = [
        "# toolwire against the floors and the re-parse peers (one run)",
        "",
        "Environment: "
        + ", ".join(f"{k} {v}" for k, v in env.items())
        + f"; the run took {results.elapsed_s:.0f} s"
        + (" (--quick)" if config.quick else "")
        + f"; peer budget {config.budget:g} s per cell.",
        "",
        "Times are totals per run in ms (median of the timed runs).  A peer that could not "
        f"finish a cell within {config.budget:g} s shows `> budget`, and in parentheses a "
        "`~` extrapolation from its own partial run (power law fitted on its growth; an "
        "estimate, not a measurement).  Ratios: toolwire ÷ floor, and peer ÷ toolwire "
        "(`>`: at least, from the budget).",
        "",
    ]
    out += headline(results)
    for chunk in config.chunks:
        out += format_tables(results, chunk)
    for chunk in config.chunks:
        out += provider_table(results, chunk)
    notes = list(results.notes)
    notes += [f"`{c.format}` {c.size} /{c.chunk}: {n}" for c in results.formats for n in c.notes]
    notes += [
        f"`{c.provider}` {c.size} /{c.chunk}: {n}" for c in results.providers for n in c.notes
    ]
    notes += [
        f"{results.peer_labels.get(p.peer, p.peer)} {p.size} /{p.chunk}: "
        f"{p.result.failures:,} prefixes rejected (skipped)"
        for p in results.peers
        if p.result.failures
    ]
    if results.skipped_formats:
        notes.append("Not benchmarked: " + ", ".join(f"`{s}`" for s in results.skipped_formats))
    if notes:
        out += ["Notes:", "", *(f"- {n}" for n in notes), ""]
    return "\n".join(out)


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def size_label(text: str) -> str:
    """``1KB`` / ``1 kb`` / ``1 KB`` -> ``1 KB``."""
    wanted = text.replace(" ", "").upper()
    for label in SIZES:
        if label.replace(" ", "").upper() == wanted:
            return label
    raise argparse.ArgumentTypeError(f"size must be one of {', '.join(SIZES)}")


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.Namespace, Config]:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 KB and 10 KB, 0.5 s peer budget")
    ap.add_argument("--json", metavar="PATH", help="write the results as JSON (for plot.py)")
    ap.add_argument("--size", action="append", type=size_label, help="1KB, 10KB, 100KB, 1MB")
    ap.add_argument("--chunk", action="append", type=int, help="chunk size (default 1, 4, 64)")
    ap.add_argument("--format", action="append", help="only this text format (repeatable)")
    ap.add_argument(
        "--provider", action="append", help=f"only this provider ({', '.join(PROVIDERS)})"
    )
    ap.add_argument("--no-formats", action="store_true", help="providers only")
    ap.add_argument("--no-providers", action="store_true", help="text formats only")
    ap.add_argument("--budget", type=float, help="seconds per peer per cell (1.5; 0.5 quick)")
    ap.add_argument("--repeats", type=int, help="timed runs per measurement (default 3)")
    ap.add_argument(
        "--max-events",
        type=int,
        default=300_000,
        help="skip provider cells with more events (default 300000: 1 MB in 1-char "
        "fragments is 1M events, ~300 MB of body)",
    )
    ns = ap.parse_args(argv)
    for p in ns.provider or ():
        if p not in PROVIDERS:
            ap.error(f"unknown provider {p!r}; choose from {', '.join(PROVIDERS)}")
    sizes = ns.size or (list(QUICK_SIZES) if ns.quick else list(SIZES))
    config = Config(
        sizes=sorted(set(sizes), key=SIZES.__getitem__),
        chunks=sorted(set(ns.chunk or CHUNKS)),
        formats=[] if ns.no_formats else ns.format,
        providers=[] if ns.no_providers else list(ns.provider or PROVIDERS),
        budget=ns.budget if ns.budget is not None else (0.5 if ns.quick else 1.5),
        repeats=ns.repeats or 3,
        max_events=ns.max_events,
        quick=ns.quick,
    )
    return ns, config


def main(argv: Sequence[str] | None = None) -> int:
    ns, config = parse_args(argv)
    load_before = os.getloadavg()[0]
    results = run(config)
    env = environment("jiter", "partial-json-parser")
    env["cores"] = str(os.cpu_count())
    env["load average (1 min) before / after"] = f"{load_before:.1f} / {os.getloadavg()[0]:.1f}"
    print(report(results, env))
    if ns.json:
        dump = {"environment": env, **asdict(results)}
        write_json(ns.json, dump)
        progress(f"results written to {ns.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
