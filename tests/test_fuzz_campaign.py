"""``python -m fuzz campaign``: the plan, the status-line parsing, the triage of
artifacts into deduplicated, minimised findings, and one short real run (skipped
without atheris) whose report must have the documented structure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import toolwire
from fuzz import campaign, seeds
from fuzz.campaign import MIN_FORMAT_SLOT, Sample, finding_key, parse_status, plan, thin, triage
from fuzz.targets import encode


def test_status_lines_of_fork_mode_and_of_a_single_process() -> None:
    fork = (
        "#13525: cov: 912 ft: 1100 corp: 154 exec/s 1525 oom/timeout/crash: 0/1/2 "
        "time: 13s job: 2 dft_time: 0"
    )
    s = parse_status(fork, 13.4)
    assert s == Sample(13.4, 13525, 912, 1100, 154, 2, 2, 1, 0)
    single = (
        "#2308\tNEW    cov: 595 ft: 601 corp: 26/1034b lim: 4 exec/s: 1154 rss: 80Mb L: 3/3 MS: 1"
    )
    s = parse_status(single, 2.0)
    assert s is not None and (s.execs, s.cov, s.ft, s.corpus, s.job) == (2308, 595, 601, 26, None)
    assert parse_status("INFO: -fork=1: fuzzing in separate process(s)", 1.0) is None
    assert parse_status("#2\tINITED cov: 18 ft: 18 corp: 1/1b exec/s: 0 rss: 66Mb", 0.5) is not None


def test_last_growth_and_thinning() -> None:
    samples = [Sample(float(t), t * 10, min(t, 5), min(t, 7)) for t in range(1, 200)]
    assert campaign.last_growth(samples) == 7.0
    assert campaign.last_growth(samples, "cov") == 5.0
    kept = thin(samples, 20)
    assert len(kept) <= 20 and kept[0] is samples[0] and kept[-1] is samples[-1]
    assert [s.t for s in kept] == sorted(s.t for s in kept)


def test_plan_splits_the_budget_and_rotates_formats(tmp_path: Path) -> None:
    families = ["formats", "json"]
    formats = ["a", "b", "c", "d"]
    # 8 minutes: half to 2 families, half to 4 format slots of 60 s.
    slots = plan(8, families, formats, 0.5)
    assert [(s.name, s.seconds) for s in slots] == [
        ("formats", 120.0),
        ("json", 120.0),
        *((f"formats@{f}", 60.0) for f in formats),
    ]
    # 2 minutes: 60 s for formats is two slots of MIN_FORMAT_SLOT, taken in rotation.
    state = tmp_path / "rotation.json"
    first = [s.format for s in plan(2, families, formats, 0.5, state) if s.format]
    second = [s.format for s in plan(2, families, formats, 0.5, state) if s.format]
    assert len(first) == int(60 // MIN_FORMAT_SLOT) == 2
    assert first == ["a", "b"] and second == ["c", "d"]
    # No format slots without the formats family, or with a budget too small for one.
    assert all(s.format is None for s in plan(8, ["json"], formats, 0.5))
    assert [s.seconds for s in plan(0.5, families, formats, 0.5)] == [15.0, 15.0]


class _Crashing:
    """A parser that fails the rule on any input holding ``<``, passes otherwise."""

    def __init__(self, format: str, **_: Any) -> None:
        pass

    def feed(self, chunk: bytes) -> list[toolwire.Event]:
        if b"<" in chunk:
            raise KeyError("bug")
        return []

    def close(self) -> list[toolwire.Event]:
        return []


def test_triage_deduplicates_and_minimises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(toolwire, "parser", _Crashing)
    folder = tmp_path / "artifacts" / "formats"
    folder.mkdir(parents=True)
    files = {
        "crash-1": encode("formats", "tags", b"hello <tool_call> world"),
        "crash-2": encode("formats", "hermes", b"<x"),  # the same bug: one finding
        "timeout-3": encode("formats", "tags", b"plain text"),  # passes: not reproduced
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    artifacts = [(folder / name, "formats", None) for name in files]
    findings = triage(artifacts, timeout=5, minimize_seconds=10, out=tmp_path)
    assert len(findings) == 2
    bug, flaky = findings
    assert bug.key[0] == "KeyError" and "fuzz/harness.py" in bug.key[1]
    assert bug.artifacts == ["artifacts/formats/crash-1", "artifacts/formats/crash-2"]
    assert bug.reproduced and bug.minimized == "b'<'"
    assert bug.input_size == 2  # the smaller of the two inputs was minimised
    assert bug.regression.startswith("Selected(family='formats', target='hermes', document=b'<'")
    assert (tmp_path / bug.minimized_file).read_bytes() == b"<"
    assert bug.reproduce.startswith("python -m fuzz.reproduce formats ")
    assert not flaky.reproduced and flaky.key[0] == "NotReproduced" and flaky.kind == "timeout"


def test_finding_key_names_the_check_and_the_toolwire_frame() -> None:
    from toolwire.values.json_engine import JsonScanner

    try:
        JsonScanner(capture_keys=None).feed(None, 0, 1)  # type: ignore[arg-type]
    except Exception as exc:
        kind, check, where = finding_key(exc)
    assert kind == "TypeError" and check == "-"
    assert where.startswith("parsers/values/json_engine.py:")


def test_a_short_campaign_writes_its_report(tmp_path: Path) -> None:
    """One family for ~15 s in fork mode: the report has every documented field."""
    pytest.importorskip("atheris")
    seed_dir = tmp_path / "seeds"
    seeds.write(seed_dir, ["json"], per_format=2)
    out = tmp_path / "out"
    args = ["--minutes", "0.25", "--families", "json", "--formats", "none"]
    code = campaign.main([*args, "--seeds", str(seed_dir), "--out", str(out), "--", "-seed=1"])
    report = json.loads((out / "report.json").read_text())
    assert (out / "report.md").read_text().startswith("# Fuzz campaign")
    for key in ("started", "minutes", "jobs", "mode", "split", "plateau_rule", "seconds"):
        assert key in report
    assert report["mode"] == "fixed" and report["libfuzzer_extra"] == ["-seed=1"]
    (slot,) = report["slots"]
    assert slot["slot"] == "json" and slot["planned_seconds"] == 15
    assert code == (1 if report["findings"] else 0), slot["error"]
    assert slot["execs"] > 0 and slot["cov"] > 0 and slot["coverage"], slot
    assert slot["coverage"][-1]["execs"] == slot["execs"]
    assert isinstance(slot["plateaued"], bool)
    assert report["families"]["json"]["execs"] == slot["execs"]
    assert (out / slot["log"]).is_file()
    for finding in report["findings"]:
        assert finding["regression"].startswith("Selected(family='json'")
