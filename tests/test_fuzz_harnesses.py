"""The fuzz harnesses: each atheris harness runs for a short fixed budget on seeds
written by ``fuzz.seeds`` (skipped when atheris cannot be imported), and the rule
they check does catch what it is meant to catch.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import toolwire
from fuzz import seeds
from fuzz.harness import check, chunkings
from fuzz.minimize import minimize
from fuzz.targets import FAMILIES, decode, encode, family_targets

ROOT = Path(__file__).resolve().parent.parent
BUDGET_SECONDS = 3
"""libFuzzer's -max_total_time per harness: four harnesses stay well under a minute."""


@pytest.fixture(scope="module")
def seed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fuzz-seeds")
    counts = seeds.write(out, per_format=2)
    assert all(counts[f] > 0 for f in FAMILIES), counts
    return out


@pytest.mark.parametrize("family", FAMILIES)
def test_atheris_harness_runs_clean_for_a_short_budget(
    family: str, seed_dir: Path, tmp_path: Path
) -> None:
    """Coverage-guided fuzzing of the family from its seeds: no input breaks the rule
    within the budget (a crash makes libFuzzer exit non-zero and write the input)."""
    pytest.importorskip("atheris")
    corpus = tmp_path / "corpus"  # libFuzzer adds what it finds to the first directory
    corpus.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("FUZZ_FORMAT", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            f"fuzz.atheris_{family}",
            str(corpus),
            str(seed_dir / family),
            f"-dict={seed_dir / family}.dict",
            f"-max_total_time={BUDGET_SECONDS}",
            "-max_len=512",
            "-timeout=20",
            "-seed=1",
            f"-artifact_prefix={tmp_path}/",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    crashes = sorted(p.name for p in tmp_path.iterdir() if p.name != "corpus")
    assert proc.returncode == 0 and not crashes, (
        f"fuzz.atheris_{family} failed (exit {proc.returncode}, inputs {crashes}; replay with "
        f"python -m fuzz.reproduce {family} FILE):\n{proc.stderr[-4000:]}"
    )
    assert "Done" in proc.stderr, proc.stderr[-2000:]


def test_selector_byte_round_trips_for_every_target() -> None:
    for family in FAMILIES:
        for target in family_targets(family):
            for small in (False, True):
                data = encode(family, target, b"doc", small_limits=small)
                selected = decode(family, data)
                assert (selected.target, selected.document, selected.small_limits) == (
                    target,
                    b"doc",
                    small,
                )
    assert decode("formats", encode("formats", "tags", b"x"), fixed="hermes").target == "hermes"


def test_chunkings_cover_whole_single_units_and_random_cuts() -> None:
    data = "é\r\n<a>".encode()
    feedings = chunkings(data, seed=3)
    assert len(feedings) == 3
    for chunks in feedings.values():
        assert b"".join(chunks) == data
    whole, single, random_cuts = feedings.values()
    assert whole == [data]
    assert single == [data[i : i + 1] for i in range(len(data))]
    assert 1 < len(random_cuts) <= len(data)


class _ChunkSensitive:
    """A parser that breaks the rule: it reports one event per feed."""

    def __init__(self, format: str, *, strict: bool = False, **_: Any) -> None:
        self.strict = strict

    def feed(self, chunk: bytes) -> list[toolwire.Event]:
        return [toolwire.TextStart(id=len(chunk))] if chunk else []

    def close(self) -> list[toolwire.Event]:
        return []


class _Crashing(_ChunkSensitive):
    def feed(self, chunk: bytes) -> list[toolwire.Event]:
        raise KeyError("bug")


class _InternalError(_ChunkSensitive):
    def feed(self, chunk: bytes) -> list[toolwire.Event]:
        if self.strict:
            raise toolwire.ParseError("internal_error", "bug", offset=0, line=1, column=1)
        return []


@pytest.mark.parametrize(
    ("parser", "raised"),
    [(_ChunkSensitive, AssertionError), (_Crashing, KeyError), (_InternalError, AssertionError)],
)
def test_the_rule_catches_what_it_is_meant_to_catch(
    monkeypatch: pytest.MonkeyPatch, parser: type[_ChunkSensitive], raised: type[Exception]
) -> None:
    monkeypatch.setattr(toolwire, "parser", parser)
    with pytest.raises(raised):
        check(b"<tool_call>{}</tool_call>", "tags")


def test_minimize_keeps_only_what_the_failure_needs() -> None:
    def fails_on_xy(data: bytes) -> None:
        assert not (b"x" in data and b"y" in data), "x and y"

    assert minimize(fails_on_xy, b"aaxbbbbbyccc") == b"xy"
    assert minimize(fails_on_xy, b"passes") == b"passes"


def test_reproduce_replays_files_and_prints_a_shrunk_regression_entry(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fuzz.reproduce import main

    crash = tmp_path / "crash-1"
    crash.write_bytes(encode("formats", "tags", b"<analysis>a</analysis>"))
    assert main(["formats", str(crash)]) == 0
    assert "passes (tags" in capsys.readouterr().out

    monkeypatch.setattr(toolwire, "parser", _ChunkSensitive)
    assert main(["formats", str(crash)]) == 1
    out = capsys.readouterr().out
    assert "FAILS (tags" in out
    # The rule breaks as soon as there are two bytes to split: two are kept.
    entry = re.search(r"Selected\(family='formats', target='tags', document=(b'[^']*')", out)
    assert entry is not None and len(ast.literal_eval(entry.group(1))) == 2, out


def test_the_token_rule_catches_what_it_is_meant_to_catch(monkeypatch: pytest.MonkeyPatch) -> None:
    """A detokenizer that decodes each id alone (a character split across ids becomes
    U+FFFD) and a session that reads only the first id of each group both break the
    token loop's rule."""
    pytest.importorskip("tokenizers")
    from fuzz.tokens import check_tokens
    from toolwire.loop import token_session
    from toolwire.loop.renderers import renderer

    r = renderer("hermes")
    doc = ("Let me look é.\n" + r.render_call("lookup", {"path": "ü"}) + "\x1eDone 🙂.").encode()
    check_tokens(doc, "hermes", 1)

    class Naive:
        def __init__(self, decode: Any, **_: Any) -> None:
            self.decode = decode

        def feed(self, ids: Any) -> str:
            return str(self.decode([ids] if isinstance(ids, int) else list(ids)))

        def close(self) -> str:
            return ""

    with monkeypatch.context() as m:
        m.setattr(token_session, "IncrementalDetokenizer", Naive)
        with pytest.raises(AssertionError):
            check_tokens(doc, "hermes", 1)

    feed = token_session.TokenSession.feed

    def first_of_each_group(self: Any, pairs: Any) -> Any:
        return feed(self, list(pairs)[:1])

    monkeypatch.setattr(token_session.TokenSession, "feed", first_of_each_group)
    with pytest.raises(AssertionError):
        check_tokens(doc, "hermes", 1)
