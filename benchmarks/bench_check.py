"""Benchmark: ``toolwire check`` on a generated dataset, in one run.

Run from the repository root (inside the project's virtualenv)::

    python benchmarks/bench_check.py             # 20,000 records
    python benchmarks/bench_check.py --quick     # 4,000 records
    python benchmarks/bench_check.py --no-ray    # without the Ray path

The dataset is JSON Lines with records of both shapes ``toolwire check`` reads, in
mixed formats and sizes: OpenAI-style conversations (structured tool calls checked
against their tools' JSON Schemas, a tenth of them broken) and rollout records whose
``output`` field holds raw model output in one of the text formats (rendered by the
format's renderer: a short answer, or a call with 100 B – 20 KB of arguments, some
cut short).  Timed in the same run: the whole command with ``--jobs 1`` and
``--jobs 2`` (wall time, reading the file included), and the Ray path
(``toolwire.integrations.ray.check_dataset`` on ``ray.data.read_text``, Ray started
beforehand with ``num_cpus=2``).  Reported: records/s, records/s per core, and the
speed-ups over ``--jobs 1``; every path must give the same report.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import harness

from toolwire.cli import main as toolwire_main
from toolwire.loop.renderers import renderer

FORMATS = ("hermes", "qwen3-coder", "glm-4.5", "harmony", "llama3-json", "mistral", "tags")
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "write_file",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
                "required": ["path", "content"],
            },
        },
    }
]


def build_records(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    words = "alpha beta gamma delta <tag> {json} \"quoted\" naïve 中文 \\path\n".split(" ")
    records: list[dict[str, Any]] = []
    for i in range(count):
        size = rng.choice((100, 1_000, 5_000, 20_000))
        content = " ".join(rng.choice(words) for _ in range(size // 6))[:size]
        if i % 2 == 0:
            arguments: Any = {"path": f"f{i}.txt", "content": content}
            if rng.random() < 0.1:
                arguments = {"path": i}  # breaks the schema
            call = {"id": f"c{i}", "type": "function",
                    "function": {"name": "write_file", "arguments": json.dumps(arguments)}}  # fmt: skip
            records.append({
                "messages": [
                    {"role": "user", "content": "write it"},
                    {"role": "assistant", "content": None, "tool_calls": [call]},
                ],
                "tools": TOOLS,
            })  # fmt: skip
        else:
            fmt = FORMATS[i % len(FORMATS)]
            r = renderer(fmt)
            if rng.random() < 0.2:
                text = r.render_answer("Done: " + content[:200])
            else:
                text = r.render_call("write_file", {"path": f"f{i}.txt", "content": content})
                if rng.random() < 0.1:
                    text = text[: len(text) // 2]  # cut short: truncated
            records.append({"output": (r.prime or "") + text, "format": fmt})
    return records


def run_command(path: Path, jobs: int, field: str | None) -> tuple[float, dict[str, Any]]:
    report = path.with_suffix(f".jobs{jobs}.{field or 'messages'}.json")
    argv = ["check", str(path), "--jobs", str(jobs), "--report", str(report)]
    if field:
        argv += ["--field", field]
    start = time.perf_counter()
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        toolwire_main(argv)
    elapsed = time.perf_counter() - start
    return elapsed, json.loads(report.read_text(encoding="utf-8"))


def run_ray(path: Path, field: str | None) -> tuple[float, dict[str, Any]] | None:
    try:
        import ray
    except ImportError:
        return None
    from toolwire.integrations.ray import check_dataset

    start = time.perf_counter()
    _, report = check_dataset(ray.data.read_text(str(path)), column="text", field=field)
    return time.perf_counter() - start, report


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    harness.add_run_options(ap, "4,000 records instead of 20,000")
    ap.add_argument("--records", type=int, help="records in the dataset")
    ap.add_argument("--no-ray", action="store_true", help="skip the Ray path")
    ns = ap.parse_args(argv)
    count = ns.records or (4_000 if ns.quick else 20_000)
    started = time.perf_counter()
    records = build_records(count)
    conversations = [r for r in records if "messages" in r]
    outputs = [r for r in records if "output" in r]
    rows: list[list[str]] = []
    results: dict[str, Any] = {}
    ray_started = False
    with tempfile.TemporaryDirectory() as tmp:
        for label, subset, field in (
            ("conversations (messages)", conversations, None),
            ("model outputs (--field output, format auto)", outputs, "output"),
        ):
            path = Path(tmp) / f"{'messages' if field is None else 'outputs'}.jsonl"
            path.write_text("".join(json.dumps(r) + "\n" for r in subset), encoding="utf-8")
            harness.progress(f"{label}: {len(subset)} records, {path.stat().st_size:,} bytes")
            one, report1 = run_command(path, 1, field)
            two, report2 = run_command(path, 2, field)
            assert report1 == report2, "--jobs 2 changed the report"
            cell: dict[str, Any] = {"records": len(subset), "jobs1_s": one, "jobs2_s": two,
                                    "report": report1}  # fmt: skip
            ray_cell = "n/a"
            if not ns.no_ray:
                if not ray_started:
                    try:
                        import ray

                        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
                        ray_started = True
                    except ImportError:
                        ns.no_ray = True
                timed = run_ray(path, field) if ray_started else None
                if timed is not None:
                    assert timed[1] == report1, "the Ray path changed the report"
                    cell["ray_s"] = timed[0]
                    ray_cell = f"{len(subset) / timed[0]:,.0f} ({one / timed[0]:.2f}x)"
            results[label] = cell
            rows.append([
                label, f"{len(subset):,}", f"{report1['valid']:,}",
                f"{len(subset) / one:,.0f}", f"{len(subset) / two:,.0f} ({one / two:.2f}x)",
                ray_cell,
            ])  # fmt: skip
    if ray_started:
        import ray

        ray.shutdown()
    env = harness.environment("ray", "jsonschema")
    env["cpus"] = str(os.cpu_count())
    lines = [
        "# toolwire check: records per second",
        "",
        harness.environment_line(env, time.perf_counter() - started, ns.quick),
        "",
        *harness.md_table(["records", "count", "valid", "--jobs 1 rec/s (per core)",
                           "--jobs 2 rec/s (speed-up)", "Ray, 2 CPUs rec/s (speed-up)"]),  # fmt: skip
        *(harness.md_row(r) for r in rows),
        "",
        "Wall time of the whole command (reading and decoding the file, checking, the "
        "summary); every path gave the same report.",
    ]
    harness.publish(lines, ns, env, {"records": count}, **results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
