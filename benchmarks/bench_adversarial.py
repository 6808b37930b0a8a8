"""Benchmark: no input makes a parser superlinear (guarantee 5, adversarially).

Run from the repository root (inside the project's virtualenv)::

    python benchmarks/bench_adversarial.py            # n = 10,000 and 10n, 5 repeats
    python benchmarks/bench_adversarial.py --quick    # n = 2,000 and 4n, 2 repeats (~2 min)
    python benchmarks/bench_adversarial.py --json results.json

Every text format (that has a renderer) and every provider stream gets the inputs that
break naive incremental parsers -- deep nesting, long strings, runs of backslashes,
runs of ``<``, near-miss delimiters, long whitespace runs, many tiny calls, long SSE
lines and tiny events -- at two sizes, fed in small chunks (7 characters for text
formats, 64-byte reads for provider bodies, so every hold-back and split path runs).
Limits are raised to fit the input (``max_depth``, ``max_calls``) so that the work is
parsed, not refused.  The report gives the time at each size and the growth ratio:
linear is the size factor (4 or 10); a ratio above 1.6 x the factor is flagged as
superlinear.  Timing is reported, never asserted.  Markdown goes to stdout, progress
to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from harness import (
    add_run_options,
    cpu_seconds,
    environment,
    fmt_ms,
    fmt_ratio,
    md_table,
    split,
    write_json,
)

import toolwire
from toolwire.registry import is_provider

TEXT_CHUNK = 7
BODY_READ = 64
FLAG = 1.6
"""A growth ratio above FLAG x the size factor is flagged as superlinear (the machine
is shared, so timing noise of 20-30 % is common; a quadratic case grows by the square
of the factor)."""

Feed = list[str] | list[bytes]


@dataclass(slots=True)
class Case:
    family: str
    case: str
    build: Callable[[int], tuple[Feed, dict[str, Any]]]
    """n -> (chunks, parser options)."""


@dataclass(slots=True)
class Row:
    family: str
    case: str
    n: int
    factor: int
    small_ms: float
    big_ms: float
    ratio: float
    superlinear: bool
    errors: int


# -- text formats -----------------------------------------------------------------------


def _text_formats() -> list[str]:
    return sorted(f for f in toolwire.renderer_formats() if not is_provider(f))


def _text_head(fmt: str) -> str:
    """What puts ``fmt`` in visible text (most formats: nothing)."""
    for head in ("", "<|channel|>final<|message|>"):
        if any(e.type == "text_delta" for e in toolwire.parse(head + "abc", fmt)):
            return head
    return ""


def _call(fmt: str, literal: str) -> str:
    """A call of ``fmt`` whose argument ``a`` is written as ``literal`` (JSON or
    Python text; raw text for markup formats, quotes stripped)."""
    doc = toolwire.renderer(fmt).render_call("f", {"a": "MARK"})
    for quoted in ('"MARK"', "'MARK'"):
        if quoted in doc:
            return doc.replace(quoted, literal, 1)
    raw = literal[1:-1] if literal[:1] in "\"'" and literal[-1:] == literal[:1] else literal
    return doc.replace("MARK", raw, 1)


def _near_miss(fmt: str) -> str:
    """The opening markup of a call, less its last character, plus one that breaks
    it: the parser must look at it and give it back as text."""
    doc = toolwire.renderer(fmt).render_call("f", {})
    ends = [i for i in (doc.find(">"), doc.find("]")) if i > 0]
    return doc[: min(ends) if ends else min(8, len(doc) - 1)] + "\x01"


def _nested(n: int) -> str:
    """About ``n`` characters of arrays 400 deep, side by side in one array: deep
    enough to exercise the depth stack, within what ``json.loads`` can decode."""
    one = "[" * 400 + "]" * 400
    return "[" + ",".join([one] * max(1, n // 801)) + "]"


def _chunks(text: str) -> list[str]:
    return split(text, TEXT_CHUNK)


def text_cases(fmt: str) -> list[Case]:
    head = _text_head(fmt)
    sep = "<|python_tag|>" if fmt == "llama3-json" else ""
    one_call = sep + toolwire.renderer(fmt).render_call("f", {})

    def call_with(literal: Callable[[int], str], **options: Any) -> Case:
        def build(n: int) -> tuple[Feed, dict[str, Any]]:
            opts = {k: v(n) for k, v in options.items()}
            return _chunks(sep + _call(fmt, literal(n))), opts

        return Case(fmt, "", build)

    def text(body: Callable[[int], str]) -> Case:
        return Case(fmt, "", lambda n: (_chunks(head + body(n)), {}))

    cases = {
        "deep nesting (default max_depth)": call_with(lambda n: "[" * n + "]" * n),
        "nesting 400 deep, repeated": call_with(_nested),
        "long string": call_with(lambda n: '"' + "x" * n + '"'),
        "many backslashes": call_with(lambda n: '"' + "\\\\" * (n // 2) + '"'),
        "many < in a string": call_with(lambda n: '"' + "<" * n + '"'),
        "many < in text": text(lambda n: "<" * n),
        "near-miss tags": text(lambda n: _near_miss(fmt) * (n // 12)),
        "long whitespace in text": text(lambda n: "a" + " \n" * (n // 2) + "b"),
        "long whitespace in arguments": call_with(lambda n: " " * n + "1"),
        "many tiny calls": Case(
            fmt,
            "",
            lambda n: (_chunks(one_call * (n // len(one_call))), {"max_calls": n}),
        ),
    }
    out = []
    for name, case in cases.items():
        case.case = name
        out.append(case)
    return out


# -- provider streams -------------------------------------------------------------------


def _sse(payloads: list[dict[str, Any]], named: bool = False) -> bytes:
    parts = []
    for p in payloads:
        head = f"event: {p['type']}\n" if named else ""
        parts.append(f"{head}data: {json.dumps(p)}\n\n")
    return "".join(parts).encode()


def _reads(body: bytes) -> list[bytes]:
    return split(body, BODY_READ)


def _chat(fragments: list[str]) -> bytes:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    first = {"index": 0, "id": "c", "type": "function", "function": {"name": "f", "arguments": ""}}
    payloads = [chunk({"tool_calls": [first]})]
    payloads += [
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": f}}]}) for f in fragments
    ]
    payloads.append(chunk({}, "tool_calls"))
    return _sse(payloads) + b"data: [DONE]\n\n"


def _responses(fragments: list[str]) -> bytes:
    item = {"type": "function_call", "id": "fc", "call_id": "c", "name": "f", "arguments": ""}
    payloads: list[dict[str, Any]] = [
        {"type": "response.output_item.added", "output_index": 0, "item": item}
    ]
    payloads += [
        {"type": "response.function_call_arguments.delta", "output_index": 0, "delta": f}
        for f in fragments
    ]
    payloads.append({"type": "response.completed", "response": {"status": "completed"}})
    return _sse(payloads, named=True)


def _anthropic(fragments: list[str]) -> bytes:
    block = {"type": "tool_use", "id": "t", "name": "f", "input": {}}
    payloads: list[dict[str, Any]] = [
        {"type": "message_start", "message": {"usage": {"input_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": block},
    ]
    payloads += [
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": f},
        }
        for f in fragments
    ]
    payloads += [
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {}},
        {"type": "message_stop"},
    ]
    return _sse(payloads, named=True)


def _gemini_text(pieces: list[str]) -> bytes:
    payloads: list[dict[str, Any]] = [
        {"candidates": [{"content": {"role": "model", "parts": [{"text": t}]}}]} for t in pieces
    ]
    payloads.append(
        {
            "candidates": [
                {"content": {"role": "model", "parts": [{"text": "."}]}, "finishReason": "STOP"}
            ]
        }
    )
    return _sse(payloads)


def _ollama_text(pieces: list[str]) -> bytes:
    lines = [
        json.dumps({"model": "m", "message": {"role": "assistant", "content": t}, "done": False})
        for t in pieces
    ]
    lines.append(
        json.dumps(
            {
                "model": "m",
                "message": {"role": "assistant", "content": ""},
                "done": True,
                "done_reason": "stop",
            }
        )
    )
    return ("\n".join(lines) + "\n").encode()


def _argument_cases(name: str, body: Callable[[list[str]], bytes]) -> list[Case]:
    """Argument-fragment streams: the same adversarial arguments in tiny fragments."""

    def case(label: str, args: Callable[[int], str], **options: Any) -> Case:
        def build(n: int) -> tuple[Feed, dict[str, Any]]:
            return _reads(body(split(args(n), 4))), {k: v(n) for k, v in options.items()}

        return Case(name, label, build)

    return [
        case("deep nesting (default max_depth)", lambda n: '{"a": ' + "[" * n + "]" * n + "}"),
        case("nesting 400 deep, repeated", lambda n: '{"a": ' + _nested(n) + "}"),
        case("long string", lambda n: '{"a": "' + "x" * n + '"}'),
        case("many backslashes", lambda n: '{"a": "' + "\\\\" * (n // 2) + '"}'),
        case("long whitespace", lambda n: '{"a":' + " " * n + "1}"),
        Case(
            name,
            "long SSE line (one event)",
            lambda n: (_reads(body(['{"a": "' + "x" * n + '"}'])), {}),
        ),
    ]


def _text_event_cases(name: str, body: Callable[[list[str]], bytes]) -> list[Case]:
    """Text streamed in events: many tiny ones, one long line, markup-like bytes."""

    def case(label: str, pieces: Callable[[int], list[str]]) -> Case:
        return Case(name, label, lambda n: (_reads(body(pieces(n))), {}))

    return [
        case("many tiny events", lambda n: ["x"] * (n // 8)),
        case("long line (one event)", lambda n: ["x" * n]),
        case("many < and backslashes", lambda n: ["<\\" * (n // 2)]),
    ]


def provider_cases() -> list[Case]:
    cases = _argument_cases("openai-chat", _chat)
    cases += _argument_cases("openai-responses", _responses)
    cases += _argument_cases("anthropic", _anthropic)
    for name, body in (("gemini", _gemini_text), ("ollama", _ollama_text)):
        cases += _text_event_cases(name, body)
    cases.append(
        Case(
            "openai-chat",
            "long SSE comment line",
            lambda n: (_reads(b": " + b"x" * n + b"\n" + _chat(['{"a": 1}'])), {}),
        )
    )
    cases.append(
        Case(
            "openai-chat",
            "many tiny events",
            lambda n: (_reads(_chat(['{"a": "'] + ["x"] * (n // 8) + ['"}'])), {}),
        )
    )
    return cases


# -- running ----------------------------------------------------------------------------


def run_once(family: str, chunks: Feed, options: dict[str, Any]) -> int:
    """Feed everything, close; the number of error events (for the report)."""
    p = toolwire.parser(family, **options)
    errors = 0
    for chunk in chunks:
        for e in p.feed(chunk):
            errors += e.type == "error"
    for e in p.close():
        errors += e.type == "error"
    return errors


def measure(case: Case, n: int, factor: int, repeats: int, target: float) -> Row:
    small_chunks, small_opts = case.build(n)
    big_chunks, big_opts = case.build(n * factor)
    errors = run_once(case.family, big_chunks, big_opts)  # warm-up and error count
    small = cpu_seconds(lambda: run_once(case.family, small_chunks, small_opts), repeats, target)
    big = cpu_seconds(lambda: run_once(case.family, big_chunks, big_opts), repeats, target)
    ratio = big / small if small > 0 else float("inf")
    return Row(
        case.family,
        case.case,
        n,
        factor,
        small * 1e3,
        big * 1e3,
        ratio,
        ratio > FLAG * factor,
        errors,
    )


def report(rows: list[Row], factor: int) -> str:
    columns = ["parser", "case", "n", "time n ms", f"time {factor}n ms"]
    lines = md_table([*columns, f"growth (linear = {factor})", "errors"], left=2)
    for r in rows:
        flag = " **superlinear**" if r.superlinear else ""
        lines.append(
            f"| `{r.family}` | {r.case} | {r.n:,} | {fmt_ms(r.small_ms / 1e3)} | "
            f"{fmt_ms(r.big_ms / 1e3)} | {fmt_ratio(r.ratio)}{flag} | {r.errors} |"
        )
    worst = max(rows, key=lambda r: r.ratio / r.factor)
    flagged = [r for r in rows if r.superlinear]
    lines.append("")
    lines.append(
        f"{len(rows)} cases; worst growth {fmt_ratio(worst.ratio)} for {factor}x the input "
        f"(`{worst.family}`, {worst.case}); "
        + (f"{len(flagged)} flagged superlinear." if flagged else "none flagged superlinear.")
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_options(ap, "sizes n and 4n with n = 2,000, 2 repeats (about two minutes)")
    ap.add_argument("--only", help="run only parsers whose id contains this text")
    ns = ap.parse_args(argv)
    quick: bool = ns.quick
    n, factor = (2_000, 4) if quick else (10_000, 10)
    repeats = ns.repeats or (2 if quick else 5)
    target = 0.005 if quick else 0.02
    cases = [c for fmt in _text_formats() for c in text_cases(fmt)] + provider_cases()
    if ns.only:
        cases = [c for c in cases if ns.only in c.family]
    rows = []
    for i, case in enumerate(cases, 1):
        print(f"[{i}/{len(cases)}] {case.family}: {case.case}", file=sys.stderr, flush=True)
        rows.append(measure(case, n, factor, repeats, target))
    env = environment()
    print(
        f"# Adversarial inputs: growth from n to {factor}n (chunks of {TEXT_CHUNK} "
        f"characters, {BODY_READ}-byte reads)\n"
    )
    print(", ".join(f"{k} {v}" for k, v in env.items()) + "\n")
    print(report(rows, factor))
    if ns.json:
        dump = {"environment": env, "quick": quick, "rows": [asdict(r) for r in rows]}
        write_json(ns.json, dump, ensure_ascii=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
