"""Benchmark: toolwire's ``openai-chat`` parser on one large streamed tool call.

Run from the repository root (inside the project's virtualenv)::

    python benchmarks/bench_providers.py            # 10 KB, 100 KB, 1 MB
    python benchmarks/bench_providers.py --quick    # 10 KB, 100 KB, fewer repeats
    python benchmarks/bench_providers.py --json results.json

The workload is a Chat Completions SSE body whose one tool call streams its arguments
(``common.build_arguments``) as 4-character fragments, one per ``chat.completion.chunk``
event, as the OpenAI API sends them.  Timed, per argument size:

* **json.loads floor**: ``json.loads`` of every event's data (pre-split, no SSE
  decoding) and nothing else: what any client pays to read the chunks at all;
* **SDK helpers** (the ``openai`` / ``anthropic`` SDKs' accumulators): per event,
  ``json.loads`` of its data, append the argument fragment, re-parse the accumulated
  arguments with ``jiter.from_json(acc, partial_mode="trailing-strings")``; the
  re-parse is quadratic, so where a full run would exceed ``--full-limit`` seconds it
  is estimated from sampled prefixes (``common.sample_prefix_costs``) and marked ``~``;
* **toolwire**: ``toolwire.parser("openai-chat")`` fed the raw body bytes, one SSE
  event per ``feed`` and in 4 KB reads, then ``close()``.

Both peers get the data strings already cut out of the body, which only favours them.
The report (Markdown) goes to stdout, progress to stderr; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from common import TOOL_NAME, build_arguments, estimate_total, load_peers, sample_prefix_costs
from harness import (
    fmt_ms,
    fmt_ratio,
    loads_floor,
    md_table,
    median,
    progress,
    split,
    time_runs,
    write_json,
)

KB = 1024
SIZES: tuple[tuple[str, int], ...] = (("10 KB", 10 * KB), ("100 KB", 100 * KB), ("1 MB", KB * KB))
FRAGMENT = 4
"""Characters of argument text per event (about one token; a JSON string fragment
cannot split a character, so characters rather than bytes)."""
READ_SIZE = 4096
CALL_ID = "call_Xq3bVb1pDkZ6s0mH2vK8nT4e"
_HEAD = {
    "id": "chatcmpl-BenchBenchBenchBenchBenchBench",
    "object": "chat.completion.chunk",
    "created": 1727346178,
    "model": "gpt-4o-2024-08-06",
    "system_fingerprint": "fp_5050236cbd",
}


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    payload = {
        **_HEAD,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def build_body(arguments: str) -> tuple[bytes, list[bytes], list[str]]:
    """(body, the body cut into one piece per SSE event, the events' data strings)."""
    data = [
        _chunk({"role": "assistant", "content": None}),
        _chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": CALL_ID,
                        "type": "function",
                        "function": {"name": TOOL_NAME, "arguments": ""},
                    }
                ]
            }
        ),
    ]
    for i in range(0, len(arguments), FRAGMENT):
        fragment = arguments[i : i + FRAGMENT]
        data.append(_chunk({"tool_calls": [{"index": 0, "function": {"arguments": fragment}}]}))
    data.append(_chunk({}, "tool_calls"))
    data.append("[DONE]")
    pieces = [f"data: {d}\n\n".encode() for d in data]
    return b"".join(pieces), pieces, data


# ---------------------------------------------------------------------------
# The contenders
# ---------------------------------------------------------------------------


def make_sdk_run() -> Callable[[Sequence[str]], object] | None:
    try:
        from jiter import from_json
    except ImportError:
        return None

    def sdk_run(data: Sequence[str]) -> object:
        """What the SDK helpers do per chunk: decode it, append the fragment to the
        call's accumulated arguments, re-parse those with jiter's partial mode."""
        loads = json.loads
        acc = ""
        parsed: object = None
        for d in data:
            if d == "[DONE]":
                break
            chunk = loads(d)
            for entry in chunk["choices"][0]["delta"].get("tool_calls") or ():
                fragment = entry["function"].get("arguments")
                if fragment:
                    acc += fragment
                    parsed = from_json(acc.encode(), partial_mode="trailing-strings")
        return parsed

    return sdk_run


def toolwire_run(pieces: Sequence[bytes]) -> list[Any]:
    import toolwire

    p = toolwire.parser("openai-chat")
    feed = p.feed
    out: list[Any] = []
    for piece in pieces:
        out += feed(piece)
    out += p.close()
    return out


def check(pieces: Sequence[bytes], expected: Any, close_at: int) -> None:
    """One untimed run: one tool call, emitted by the feed that brings its closing
    brace, with the right arguments, and no error."""
    import toolwire

    p = toolwire.parser("openai-chat")
    at = -1
    events: list[Any] = []
    for i, piece in enumerate(pieces):
        out = p.feed(piece)
        if any(e.type == "tool_call" for e in out):
            at = i
        events += out
    events += p.close()
    calls = [e for e in events if e.type == "tool_call"]
    errors = [e for e in events if e.type == "error"]
    assert not errors, errors[0]
    assert len(calls) == 1 and calls[0].name == TOOL_NAME, calls
    assert calls[0].arguments == expected, "arguments differ"
    assert at == close_at, f"tool_call at piece {at}, expected {close_at}"
    finish = [e for e in events if e.type == "finish"]
    assert len(finish) == 1 and finish[0].reason == "tool_calls", finish


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class Row:
    label: str
    argument_chars: int
    events: int
    body_bytes: int
    floor_s: float = 0.0
    per_event_s: float = 0.0
    reads_s: float = 0.0
    sdk_s: float | None = None
    sdk_estimated: bool = False
    sdk_runs: list[float] = field(default_factory=list)

    def us(self, seconds: float | None) -> str:
        return "n/a" if seconds is None else f"{seconds / self.events * 1e6:.2f}"


def run_row(label: str, size: int, args: argparse.Namespace) -> Row:
    arguments, value = build_arguments(size)
    body, pieces, data = build_body(arguments)
    reads = split(body, READ_SIZE)
    row = Row(label, size, len(data), len(body))
    progress(f"{label}: {len(data):,} events, {len(body):,} bytes")
    check(pieces, value, len(pieces) - 3)
    repeats = args.repeats if len(data) < 100_000 else max(1, min(args.repeats, 3))
    row.floor_s = median(time_runs(lambda: loads_floor(data), repeats))
    row.per_event_s = median(time_runs(lambda: toolwire_run(pieces), repeats))
    row.reads_s = median(time_runs(lambda: toolwire_run(reads), repeats))
    sdk = make_sdk_run()
    if sdk is None:
        return row
    jiter = load_peers(["jiter"])[0]
    fragments = split(arguments, FRAGMENT)
    sample = sample_prefix_costs(jiter.parse, arguments, args.samples, tries_per_prefix=3)
    estimate = row.floor_s + estimate_total(sample, len(fragments))
    if estimate <= args.full_limit:
        row.sdk_runs = time_runs(lambda: sdk(data), max(1, min(repeats, 3)), expected=estimate)
        row.sdk_s = median(row.sdk_runs)
    else:
        row.sdk_s, row.sdk_estimated = estimate, True
    return row


COLUMNS = (
    "arguments",
    "events",
    "json.loads floor ms (µs/event)",
    "toolwire, 1 event/feed ms (µs/event)",
    "toolwire, 4 KB reads ms (µs/event)",
    "toolwire - floor µs/event",
    "SDK helpers (jiter re-parse) ms (µs/event)",
    "toolwire / floor",
    "speedup vs SDK",
)


def table(rows: Sequence[Row]) -> list[str]:
    lines = md_table(COLUMNS)
    for r in rows:
        sdk = "n/a" if r.sdk_s is None else f"{fmt_ms(r.sdk_s, r.sdk_estimated)} ({r.us(r.sdk_s)})"
        speedup = None if r.sdk_s is None else r.sdk_s / r.per_event_s
        lines.append(
            f"| {r.label} | {r.events:,} | {fmt_ms(r.floor_s)} ({r.us(r.floor_s)}) | "
            f"{fmt_ms(r.per_event_s)} ({r.us(r.per_event_s)}) | "
            f"{fmt_ms(r.reads_s)} ({r.us(r.reads_s)}) | "
            f"{(r.per_event_s - r.floor_s) / r.events * 1e6:.2f} | {sdk} | "
            f"{fmt_ratio(r.per_event_s / r.floor_s)} | {fmt_ratio(speedup, r.sdk_estimated)} |"
        )
    return lines


def scaling(rows: Sequence[Row]) -> list[str]:
    by = {r.label: r for r in rows}
    small, big = by.get("100 KB"), by.get("1 MB")
    if small is None or big is None:
        return []
    sdk = (
        "n/a"
        if small.sdk_s is None or big.sdk_s is None
        else fmt_ratio(big.sdk_s / small.sdk_s, big.sdk_estimated or small.sdk_estimated)
    )
    return [
        "",
        f"Scaling, 1 MB ÷ 100 KB (events x{big.events / small.events:.2f}): "
        f"json.loads floor {fmt_ratio(big.floor_s / small.floor_s)}, "
        f"toolwire {fmt_ratio(big.per_event_s / small.per_event_s)} (1 event/feed), "
        f"{fmt_ratio(big.reads_s / small.reads_s)} (4 KB reads), SDK helpers {sdk}.",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="10 KB and 100 KB only")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--samples", type=int, default=100, help="prefixes sampled for estimates")
    ap.add_argument(
        "--full-limit", type=float, default=10.0, help="run the SDK peer in full up to this (s)"
    )
    ap.add_argument("--json", metavar="PATH", help="also write raw results")
    args = ap.parse_args(argv)
    if args.quick:
        args.repeats = min(args.repeats, 3)
    sizes = SIZES[:2] if args.quick else SIZES
    rows = [run_row(label, size, args) for label, size in sizes]
    env = f"CPython {platform.python_version()}, {platform.machine()}"
    print(
        f"openai-chat SSE, one tool call, {FRAGMENT}-character argument fragments, "
        f"one event each ({env}; `~` = estimated from sampled prefixes):\n"
    )
    print("\n".join(table(rows) + scaling(rows)))
    if args.json:
        dump = {"environment": env, "rows": [asdict(r) for r in rows]}
        write_json(args.json, dump, indent=2, ensure_ascii=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
