"""Benchmark: the token-exact tool loop (``toolwire.run_token_tool_loop``).

Run from the repository root (inside the project's virtualenv)::

    python benchmarks/bench_token_loop.py            # full run: 3 turns of ~20k ids, ~1 min
    python benchmarks/bench_token_loop.py --quick    # 3 turns of ~1k ids, short sleeps, ~5 s
    python benchmarks/bench_token_loop.py --format hermes --json out.json

Two parts, one table each:

1. **Cost per sampled id.**  A scripted rollout of 3 turns, each a streamed
   ``write_file`` call of file-like content (``common.build_arguments``) of about
   ``--ids`` sampled ids, read id by id as ``(id, logprob)`` pairs, in a few formats.
   In the same run and over the same ids: a no-op loop (the floor), the incremental
   detokenizer alone, the format's parser alone on the detokenizer's pieces, the text
   loop (``run_tool_loop``) on those pieces, and the token loop.  The tokenizer is a
   byte-level BPE trained in memory on the format's renderer output with the format's
   markers as special tokens (``tests/tokenizer_fixtures.py``) when ``tokenizers`` is
   installed, else toolwire's demo tokenizer (bytes + a few pieces).
2. **Eager dispatch.**  A streaming sampler that sleeps between ids (4 parallel calls
   over ~2 s of generation) and tools that sleep (0.5 s each): wall time with
   ``parallel_calls=True`` and ``concurrent=True`` (each tool starts at its
   ``tool_call`` event) against ``concurrent=False`` (the tools one after the other
   once the stream is cut) and against a sampler that returns the whole sample at
   the end of the same generation time (concurrent, but after the stream).

The report (Markdown) goes to stdout, progress to stderr; nothing is asserted and the
exit status is 0.  See benchmarks/README.md for the figures of one run.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import harness
from common import TOOL_NAME, WRITE_FILE_TOOL, build_arguments, function_tool

import toolwire
from toolwire.cli.demo import demo_prompt
from toolwire.cli.demo_tokenizer import DemoTokenizer
from toolwire.framing.detokenize import IncrementalDetokenizer
from toolwire.loop.renderers import ToolResult, renderer

ROOT = Path(__file__).resolve().parent.parent

FORMATS = ("tags", "hermes", "harmony", "qwen3-coder", "deepseek-v3.1")
TURNS = 3
IDS_FULL, IDS_QUICK = 20_000, 1_000
"""Sampled ids per turn (about: the call's content is sized to it)."""

SCHEMAS: list[dict[str, Any]] = [
    WRITE_FILE_TOOL,
    function_tool("fetch", "Fetch a URL.", {"url": "string"}, ["url"]),
]
"""write_file (qwen3-coder types its raw values by it) and the eager part's fetch."""

LOGPROB = -0.25
"""The scripted logprob of every sampled id (a float, as an engine gives)."""


# ---------------------------------------------------------------------------
# Tokenizers
# ---------------------------------------------------------------------------


def load_fixtures() -> Any | None:
    """``tests/tokenizer_fixtures.py`` loaded by path (``tests`` is no package), or
    None when ``tokenizers`` is missing."""
    try:
        import tokenizers  # noqa: F401
    except ImportError:
        return None
    path = ROOT / "tests" / "tokenizer_fixtures.py"
    spec = importlib.util.spec_from_file_location("toolwire_bench_tokenizer_fixtures", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_tokenizer(fmt: str, kind: str, fixtures: Any | None) -> tuple[Any, str]:
    """The tokenizer of ``fmt`` and its label: the trained BPE or the demo one."""
    if kind != "demo" and fixtures is not None:
        bpe = fixtures.bpe_tokenizer(fmt)
        return bpe, f"BPE {bpe.get_vocab_size()}"
    return DemoTokenizer.for_format(fmt), "demo"


# ---------------------------------------------------------------------------
# Part 1: cost per sampled id
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class Workload:
    format: str
    tokenizer_label: str
    tok: Any
    """The ``toolwire.Tokenizer`` (adapter) the loop and the detokenizer use."""
    raw: Any
    """The tokenizer object as given to the loop."""
    prompt_ids: list[int]
    scripts: list[list[tuple[int, float]]]
    """Per turn, every id the model would write (the call, then a made-up result)."""
    value: Any
    """The call's arguments."""


@dataclass(slots=True)
class CostRow:
    format: str
    tokenizer: str
    sampled_ids: int = 0
    inserted_ids: int = 0
    repeats: int = 0
    aborted: str | None = None
    noop_s: float | None = None
    detok_s: float | None = None
    parser_s: float | None = None
    text_loop_s: float | None = None
    token_loop_s: float | None = None
    token_loop_runs: list[float] = field(default_factory=list)

    def per_id(self, seconds: float | None) -> float | None:
        return None if seconds is None or not self.sampled_ids else seconds / self.sampled_ids


def write_file(path: str, content: str, options: Any = None) -> str:
    return f"wrote {len(content)} characters to {path}"


def build_workload(fmt: str, kind: str, fixtures: Any | None, target_ids: int) -> Workload:
    raw, label = make_tokenizer(fmt, kind, fixtures)
    tok = toolwire.as_tokenizer(raw)
    r = renderer(fmt)
    prompt_ids = tok.encode(demo_prompt(fmt))

    def script(size: int) -> tuple[str, Any]:
        _, value = build_arguments(size)
        call = toolwire.ToolCall(
            index=0, id="call_0", name=TOOL_NAME, arguments={}, raw="", span=(0, 0)
        )
        made_up = ToolResult(call=call, value=None, error=None, content="made up")
        text = r.render_call(TOOL_NAME, value) + r.end_of_turn + r.render_results([made_up])
        return text, value

    size = 4 * target_ids  # a first guess, then scaled by the ids it gives
    text, _ = script(size)
    size = max(1024, int(size * target_ids / max(1, len(tok.encode(text)))))
    text, value = script(size)
    ids = tok.encode(text)
    pairs = [(i, LOGPROB) for i in ids]
    return Workload(fmt, label, tok, raw, prompt_ids, [pairs] * TURNS, value)


def token_loop_run(w: Workload) -> toolwire.Trajectory:
    turn = 0

    def sample(prompt_ids: list[int]) -> Iterator[tuple[int, float]]:
        nonlocal turn
        turn += 1
        return iter(w.scripts[turn - 1])

    return toolwire.run_token_tool_loop(
        sample,
        w.prompt_ids,
        w.format,
        {TOOL_NAME: write_file},
        tokenizer=w.raw,
        schemas=SCHEMAS,
        max_steps=TURNS,
    )


def check_trajectory(w: Workload, t: toolwire.Trajectory) -> str | None:
    """Why the row must be aborted (or None): 3 turns of one write_file call each with
    the expected arguments, masks and logprobs as booked, text == decode."""
    if t.reason != "max_steps" or len(t.turns) != TURNS:
        return f"reason {t.reason} after {len(t.turns)} turns"
    for turn in t.turns:
        calls = turn.turn.calls
        if len(calls) != 1 or calls[0].name != TOOL_NAME or calls[0].arguments != w.value:
            return f"turn {turn.step}: the call is not the scripted write_file"
        if turn.turn.results[0].error is not None:
            return f"turn {turn.step}: {turn.turn.results[0].error}"
    if t.text != w.tok.decode(t.prompt_ids + t.completion_ids):
        return "text != decode(prompt_ids + completion_ids)"
    for m, lp in zip(t.mask, t.logprobs, strict=True):
        if lp != (LOGPROB if m else 0.0):
            return "a logprob does not match its mask"
    return None


def measure_cost(w: Workload, repeats: int) -> CostRow:
    row = CostRow(w.format, w.tokenizer_label)
    harness.progress(f"{w.format} ({w.tokenizer_label}): check run")
    try:
        t = token_loop_run(w)
    except Exception as exc:  # reported, never raised: a benchmark does not fail
        row.aborted = f"the token loop raised {type(exc).__name__}: {exc}"[:200]
        return row
    row.aborted = check_trajectory(w, t)
    if row.aborted is not None:
        return row
    row.sampled_ids = sum(t.mask)
    row.inserted_ids = len(t.mask) - row.sampled_ids
    row.repeats = repeats
    # The same ids as the loop read: per turn, its kept ids after its prompt.
    turns = [
        (
            t.completion_ids[: turn.sampled.start],
            t.completion_ids[turn.sampled.start : turn.sampled.stop],
        )
        for turn in t.turns
    ]
    turns = [(w.prompt_ids + before, kept) for before, kept in turns]
    pairs = [[(i, LOGPROB) for i in kept] for _, kept in turns]
    every_pair = [p for turn_pairs in pairs for p in turn_pairs]
    decode = w.tok.decode

    def detok_pieces(context: list[int], kept: list[int]) -> list[str]:
        d = IncrementalDetokenizer(decode, context=context)
        return [d.feed(i) for i in kept]

    pieces = [[p for p in detok_pieces(c, k) if p] for c, k in turns]
    r = renderer(w.format)
    harness.progress(f"  {row.sampled_ids:,} sampled ids in {TURNS} turns; {repeats} repeats")

    def detok_run() -> None:
        for (context, _), turn_pairs in zip(turns, pairs, strict=True):
            d = IncrementalDetokenizer(decode, context=context)
            feed = d.feed
            for token, _lp in turn_pairs:
                feed(token)

    def parser_run() -> None:
        for turn_pieces in pieces:
            p = toolwire.parser(w.format, tools=SCHEMAS, generation_prompt=r.prime)
            feed = p.feed
            for piece in turn_pieces:
                feed(piece)

    prompt_text = decode(w.prompt_ids)

    def text_loop_run() -> None:
        turn = 0

        def sample(prompt: str) -> Iterator[str]:
            nonlocal turn
            turn += 1
            return iter(pieces[turn - 1])

        toolwire.run_tool_loop(
            sample,
            prompt_text,
            w.format,
            {TOOL_NAME: write_file},
            schemas=SCHEMAS,
            max_steps=TURNS,
        )

    row.noop_s = harness.median(harness.time_runs(lambda: harness.noop_run(every_pair), repeats))
    row.detok_s = harness.median(harness.time_runs(detok_run, repeats))
    row.parser_s = harness.median(harness.time_runs(parser_run, repeats))
    row.text_loop_s = harness.median(harness.time_runs(text_loop_run, repeats))
    row.token_loop_runs = harness.time_runs(lambda: token_loop_run(w), repeats)
    row.token_loop_s = harness.median(row.token_loop_runs)
    return row


def us(seconds: float | None) -> str:
    return harness.fmt_us(seconds, digits=2)


def times(a: float | None, b: float | None) -> str:
    return harness.ratio(a, b, lambda value: f"{value:.2f}x")


def cost_table(rows: list[CostRow]) -> list[str]:
    columns = [
        "format",
        "tokenizer",
        "sampled ids",
        "no-op µs/id",
        "detokenizer µs/id",
        "parser µs/id",
        "text loop µs/id",
        "token loop µs/id",
        "token loop / detokenizer",
        "token loop / text loop",
        "(token loop - text loop - detokenizer) µs/id",
    ]
    lines = harness.md_table(columns, left=2)
    for row in rows:
        if row.aborted is not None:
            cells = [
                f"`{row.format}`",
                row.tokenizer,
                "**aborted**",
                row.aborted.replace("|", "\\|"),
            ]
            cells += [""] * (len(columns) - len(cells))
            lines.append(harness.md_row(cells))
            continue
        rest = None
        if row.token_loop_s and row.text_loop_s and row.detok_s:
            rest = row.token_loop_s - row.text_loop_s - row.detok_s
        cells = [
            f"`{row.format}`",
            row.tokenizer,
            f"{row.sampled_ids:,}",
            us(row.per_id(row.noop_s)),
            us(row.per_id(row.detok_s)),
            us(row.per_id(row.parser_s)),
            us(row.per_id(row.text_loop_s)),
            us(row.per_id(row.token_loop_s)),
            times(row.token_loop_s, row.detok_s),
            times(row.token_loop_s, row.text_loop_s),
            us(row.per_id(rest)),
        ]
        lines.append(harness.md_row(cells))
    return lines


# ---------------------------------------------------------------------------
# Part 2: eager dispatch
# ---------------------------------------------------------------------------

EAGER_FORMAT = "hermes"
EAGER_CALLS = 4


@dataclass(slots=True)
class EagerConfig:
    generation_s: float
    """Generation time of the call turn (all its ids, paced evenly)."""
    tool_s: float
    """Each tool's sleep."""
    repeats: int


@dataclass(slots=True)
class EagerRow:
    mode: str
    parallel_calls: bool
    concurrent: bool
    sampler: str
    wall_s: list[float] = field(default_factory=list)
    tools_started_s: list[float] = field(default_factory=list)
    """Per call of the last run: when its tool started, from the loop's start."""
    aborted: str | None = None


def eager_script(fmt: str, tok: Any) -> tuple[list[int], list[int], list[int]]:
    """Prompt ids, the call turn's ids (the parallel calls, then the end of the turn:
    the stream ends there, so the loop reads all of it) and the answer turn's ids."""
    r = renderer(fmt)
    urls = [
        f"https://example.com/reports/{n}/summary?lang=en&page={n * 7}" for n in range(EAGER_CALLS)
    ]
    calls = "\n".join(r.render_call("fetch", {"url": url}) for url in urls)
    answer = r.render_answer("The four reports agree: revenue is up 4% on last year.")
    return (
        tok.encode(demo_prompt(fmt)),
        tok.encode(calls + r.end_of_turn),
        tok.encode(answer),
    )


def paced(ids: list[int], seconds: float, started: float) -> Iterator[tuple[int, float]]:
    """``ids`` as ``(id, logprob)`` pairs, the k-th not before ``started + k·dt``."""
    dt = seconds / max(1, len(ids))
    for k, token in enumerate(ids, start=1):
        delay = started + k * dt - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        yield token, LOGPROB


def measure_eager(
    config: EagerConfig, tok_raw: Any, label: str
) -> tuple[list[EagerRow], dict[str, Any]]:
    tok = toolwire.as_tokenizer(tok_raw)
    prompt_ids, call_ids, answer_ids = eager_script(EAGER_FORMAT, tok)
    answer_s = config.generation_s * len(answer_ids) / max(1, len(call_ids))
    info = {
        "format": EAGER_FORMAT,
        "tokenizer": label,
        "calls": EAGER_CALLS,
        "call_turn_ids": len(call_ids),
        "answer_turn_ids": len(answer_ids),
        "generation_s": config.generation_s,
        "answer_s": answer_s,
        "tool_s": config.tool_s,
    }
    rows = [
        EagerRow("eager: each tool at its tool_call", True, True, "stream"),
        EagerRow("concurrent, after the whole sample", True, True, "whole"),
        EagerRow("sequential, after the stream", True, False, "stream"),
    ]
    reference: list[int] | None = None
    for row in rows:
        for _ in range(config.repeats):
            started = time.perf_counter()
            starts: list[float] = []
            turn = 0

            def fetch(url: str, starts: list[float] = starts, started: float = started) -> str:
                starts.append(time.perf_counter() - started)
                time.sleep(config.tool_s)
                return f"<html>{url}</html>"

            def sample(ids: list[int], row: EagerRow = row, started: float = started) -> Any:
                nonlocal turn
                turn += 1
                script, seconds = (
                    (call_ids, config.generation_s) if turn == 1 else (answer_ids, answer_s)
                )
                stream = paced(script, seconds, time.perf_counter())
                if row.sampler == "whole":
                    pairs = list(stream)  # the whole generation, then the sample at once
                    return [p[0] for p in pairs], [p[1] for p in pairs], "stop"
                return stream

            t = toolwire.run_token_tool_loop(
                sample,
                prompt_ids,
                EAGER_FORMAT,
                {"fetch": fetch},
                tokenizer=tok_raw,
                schemas=SCHEMAS,
                parallel_calls=row.parallel_calls,
                concurrent=row.concurrent,
            )
            row.wall_s.append(time.perf_counter() - started)
            row.tools_started_s = sorted(starts)
            calls = t.calls
            if len(calls) != EAGER_CALLS or t.reason != "stop" or any(r.error for r in t.results):
                row.aborted = f"{len(calls)} calls, reason {t.reason}"
            if row.sampler == "stream":
                if reference is None:
                    reference = t.completion_ids
                elif t.completion_ids != reference:
                    row.aborted = "the trajectory differs from the eager run's"
        harness.progress(f"eager part: {row.mode}: {harness.median(row.wall_s):.2f} s")
    return rows, info


def eager_table(rows: list[EagerRow], info: dict[str, Any]) -> list[str]:
    base = next((r for r in rows if not r.concurrent), None)
    base_s = harness.median(base.wall_s) if base and base.wall_s else None
    lines = [
        "| mode | parallel_calls | concurrent | sampler | wall s | saved vs sequential s | "
        "tools started at s |",
        "|---|---|---|---|---:|---:|---|",
    ]
    for row in rows:
        wall = harness.median(row.wall_s) if row.wall_s else None
        saved = "" if wall is None or base_s is None or row is base else f"{base_s - wall:.2f}"
        started = ", ".join(f"{s:.2f}" for s in row.tools_started_s)
        mode = row.mode + (f" (**aborted**: {row.aborted})" if row.aborted else "")
        lines.append(
            f"| {mode} | {row.parallel_calls} | {row.concurrent} | {row.sampler} | "
            f"{'n/a' if wall is None else f'{wall:.2f}'} | {saved} | {started} |"
        )
    lower = info["generation_s"] + info["tool_s"] + info["answer_s"]
    lines += [
        "",
        f"{info['calls']} calls in `{info['format']}` ({info['tokenizer']} tokenizer): the call "
        f"turn is {info['call_turn_ids']} ids paced over {info['generation_s']:g} s, the "
        f"answer turn {info['answer_turn_ids']} ids over {info['answer_s']:.2f} s; each tool "
        f"sleeps {info['tool_s']:g} s.  Least possible: generation + one tool + answer = "
        f"{lower:.2f} s; sequential: generation + {info['calls']} tools + answer = "
        f"{lower + (info['calls'] - 1) * info['tool_s']:.2f} s.",
    ]
    return lines


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument(
        "--quick",
        action="store_true",
        help=f"~{IDS_QUICK:,} ids per turn, 1 repeat, 0.4 s generation and 0.1 s tools",
    )
    ap.add_argument("--json", metavar="PATH", help="also write raw results as JSON")
    ap.add_argument("--repeats", type=int, help="timed runs per measurement (default 5; 1 quick)")
    ap.add_argument("--ids", type=int, help=f"sampled ids per turn (default {IDS_FULL:,})")
    ap.add_argument(
        "--format",
        action="append",
        dest="formats",
        metavar="ID",
        help=f"only this format (repeatable; default: {', '.join(FORMATS)})",
    )
    ap.add_argument(
        "--tokenizer",
        choices=("auto", "bpe", "demo"),
        default="auto",
        help="auto: the trained BPE when tokenizers is installed, else the demo tokenizer",
    )
    ap.add_argument("--no-eager", action="store_true", help="skip the eager-dispatch part")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    ns = parse_args(argv)
    quick: bool = ns.quick
    repeats = ns.repeats or (1 if quick else 5)
    target_ids = ns.ids or (IDS_QUICK if quick else IDS_FULL)
    formats = list(ns.formats or FORMATS)
    fixtures = None if ns.tokenizer == "demo" else load_fixtures()
    if ns.tokenizer == "bpe" and fixtures is None:
        print("error: --tokenizer bpe needs the tokenizers package", file=sys.stderr)
        return 2
    started = time.perf_counter()

    rows: list[CostRow] = []
    for fmt in formats:
        w = build_workload(fmt, ns.tokenizer, fixtures, target_ids)
        rows.append(measure_cost(w, repeats))

    eager_rows: list[EagerRow] = []
    eager_info: dict[str, Any] = {}
    if not ns.no_eager:
        eager = EagerConfig(0.4 if quick else 2.0, 0.1 if quick else 0.5, 1 if quick else 3)
        raw, label = make_tokenizer(EAGER_FORMAT, ns.tokenizer, fixtures)
        eager_rows, eager_info = measure_eager(eager, raw, label)
    elapsed = time.perf_counter() - started

    env = harness.environment("tokenizers")
    try:
        load = Path("/proc/loadavg").read_text(encoding="utf-8").split()[:3]
        env["loadavg"] = " ".join(load)
    except OSError:
        pass
    env["cpus"] = str(os.cpu_count())
    out = [
        "# toolwire: the token loop",
        "",
        harness.environment_line(env, elapsed, quick),
        "",
        f"## Cost per sampled id ({TURNS} turns of ~{target_ids:,} ids, one write_file call "
        f"each, read id by id; medians of {repeats})",
        "",
    ]
    out += cost_table(rows)
    out += [
        "",
        "no-op: `f((id, logprob))` per id; detokenizer: `IncrementalDetokenizer(decode)."
        "feed(id)` per id (the loop's own detokenizer, alone); parser: "
        "`toolwire.parser(format).feed` of the detokenizer's pieces; text loop: "
        "`run_tool_loop` streaming those pieces; token loop: `run_token_tool_loop` "
        "streaming the ids (includes the detokenizer, the parser, the books, the inserted "
        "ids' encoding and the trivial tool).  µs/id = total ÷ sampled ids.",
    ]
    if eager_rows:
        out += ["", "## Eager dispatch (wall time, one rollout)", ""]
        out += eager_table(eager_rows, eager_info)
    print("\n".join(out))

    harness.write_results(
        ns.json,
        environment=env,
        quick=quick,
        repeats=repeats,
        ids_per_turn=target_ids,
        elapsed_s=elapsed,
        cost=[asdict(r) for r in rows],
        eager={"info": eager_info, "rows": [asdict(r) for r in eager_rows]},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
