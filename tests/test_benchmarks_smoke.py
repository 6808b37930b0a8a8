"""The peers benchmark and its plot keep working (no timing is asserted).

``benchmarks/bench_peers.py`` runs in its smallest configuration (1 KB of arguments,
one text format, one provider) as a user would run it; its JSON results must have the
shape ``benchmarks/plot.py`` reads, and the plot must come out as PNG files.  The
budget logic that stops a quadratic peer is checked on its own, deterministically.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str, Path]:
    pytest.importorskip("jiter")
    out = tmp_path_factory.mktemp("peers") / "peers.json"
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "bench_peers.py"),
            "--size",
            "1KB",
            "--format",
            "tags",
            "--provider",
            "openai-chat",
            "--budget",
            "0.5",
            "--repeats",
            "1",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text(encoding="utf-8")), done.stdout, out


def test_results_cover_every_chunk_size_once(results: tuple[dict[str, Any], str, Path]) -> None:
    data, _, _ = results
    assert data["config"]["sizes"] == ["1 KB"]
    assert data["config"]["chunks"] == [1, 4, 64]
    assert data["arguments_chars"] == {"1 KB": 1024}
    assert data["json_loads_s"]["1 KB"] > 0
    assert [(c["format"], c["chunk"]) for c in data["formats"]] == [("tags", n) for n in (1, 4, 64)]
    assert [(c["provider"], c["chunk"]) for c in data["providers"]] == [
        ("openai-chat", n) for n in (1, 4, 64)
    ]
    peers = {(p["peer"], p["chunk"]) for p in data["peers"]}
    assert peers == {(k, n) for k in data["peer_labels"] for n in (1, 4, 64)}
    assert "jiter" in data["peer_labels"]


def test_cells_passed_the_events_check_and_were_timed(
    results: tuple[dict[str, Any], str, Path],
) -> None:
    data, _, _ = results
    for cell in data["formats"]:
        assert cell["aborted"] is None
        assert cell["chunks"] == -(-cell["stream_chars"] // cell["chunk"])
        for key in ("noop_s", "event_floor_s", "toolwire_s"):
            assert cell[key] > 0
        assert len(cell["toolwire_runs"]) == cell["repeats"]
    for cell in data["providers"]:
        assert cell["aborted"] is None and cell["skipped"] is None
        assert cell["events"] == 4 + -(-1024 // cell["chunk"])  # role, start, finish, [DONE]
        assert cell["loads_floor_s"] > 0 and cell["toolwire_s"] > 0
        assert cell["sdk"]["total"] == cell["events"]


def test_peer_results_are_finished_or_extrapolated(
    results: tuple[dict[str, Any], str, Path],
) -> None:
    data, _, _ = results
    budgeted = [p["result"] for p in data["peers"]] + [c["sdk"] for c in data["providers"]]
    for r in budgeted:
        if r["finished"]:
            assert r["done"] == r["total"] and r["seconds"] > 0 and r["extrapolated"] is None
        else:
            assert r["done"] < r["total"] and r["seconds"] is None
            assert r["extrapolated"] >= r["elapsed"] and 1 <= r["exponent"] <= 3


def test_report_has_the_tables(results: tuple[dict[str, Any], str, Path]) -> None:
    _, report, _ = results
    for chunk in (1, 4, 64):
        assert f"### Text formats, {chunk}-character chunks" in report
        assert f"### Provider streams, {chunk}-character argument fragments" in report
    assert "| `tags` |" in report and "| `openai-chat` | 1 KB |" in report
    assert "## Headline: 4-character chunks" in report and "\n| 1 KB | " in report


def test_plot_writes_pngs(results: tuple[dict[str, Any], str, Path], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    _, _, path = results
    done = subprocess.run(
        [sys.executable, str(BENCH / "plot.py"), str(path), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for name in ("peers.png", "peers-providers.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG_MAGIC
        assert str(tmp_path / name) in done.stdout


@pytest.fixture
def budget(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(BENCH))
    import budget as module

    return module


def test_a_spent_budget_stops_the_run_after_one_chunk(budget: Any) -> None:
    calls: list[int] = []

    def make() -> Any:
        return calls.append

    r = budget.run_budgeted(make, list(range(100)), budget=0.0, repeats=3)
    assert (r.finished, r.done, r.total, r.seconds, r.runs) == (False, 1, 100, None, [])
    assert calls == [0]
    assert r.extrapolated is not None and r.extrapolated >= r.elapsed


def test_a_finished_run_counts_failures_and_is_rerun(budget: Any) -> None:
    runs: list[list[int]] = []

    def make() -> Any:
        seen: list[int] = []
        runs.append(seen)

        def step(i: int) -> None:
            seen.append(i)
            if i % 3 == 0:
                raise ValueError("a prefix the peer rejects")

        return step

    r = budget.run_budgeted(make, list(range(10)), budget=60.0, repeats=2)
    assert r.finished and r.done == 10 and r.failures == 4
    assert r.seconds is not None and len(r.runs) == 2
    assert all(seen == list(range(10)) for seen in runs)  # fresh state, every item


@pytest.mark.parametrize("exponent", [1.0, 1.5, 2.0, 2.5])
def test_extrapolation_recovers_a_power_law(budget: Any, exponent: float) -> None:
    checkpoints = [(k, 1e-6 * k**exponent) for k in range(10, 1001, 10)]
    fitted, total = budget.extrapolate(checkpoints, 100_000)
    assert fitted == pytest.approx(exponent)
    assert total == pytest.approx(1e-6 * 100_000**exponent)


def test_extrapolation_keeps_the_exponent_between_linear_and_cubic(budget: Any) -> None:
    flat = [(k, 1.0) for k in range(1, 100)]
    assert budget.extrapolate(flat, 1000) == (1.0, pytest.approx(1000 / 99))
    steep = [(k, 1e-9 * k**5) for k in range(1, 100)]
    assert budget.extrapolate(steep, 990)[0] == 3.0


def test_token_loop_benchmark_quick(tmp_path: Path) -> None:
    """``bench_token_loop.py --quick`` runs (a few seconds) and reports every row; no
    timing is asserted."""
    out = tmp_path / "token_loop.json"
    done = subprocess.run(
        [sys.executable, str(BENCH / "bench_token_loop.py"), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = done.stdout
    assert "## Cost per sampled id" in report and "## Eager dispatch" in report
    assert "**aborted**" not in report
    for fmt in ("tags", "hermes", "harmony", "qwen3-coder", "deepseek-v3.1"):
        assert f"| `{fmt}` | " in report
    for mode in (
        "eager: each tool at its tool_call",
        "concurrent, after the whole sample",
        "sequential, after the stream",
    ):
        assert f"| {mode} | " in report
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [row["format"] for row in data["cost"]] == [
        "tags",
        "hermes",
        "harmony",
        "qwen3-coder",
        "deepseek-v3.1",
    ]
    for row in data["cost"]:
        assert row["aborted"] is None and row["sampled_ids"] > 0
        for key in ("noop_s", "detok_s", "parser_s", "text_loop_s", "token_loop_s"):
            assert row[key] > 0
    eager = data["eager"]["rows"]
    assert [len(row["tools_started_s"]) for row in eager] == [4, 4, 4]
    assert all(row["aborted"] is None and row["wall_s"] for row in eager)
