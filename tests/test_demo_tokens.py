"""``toolwire demo --tokens``: the token loop on the scripted model, in every format.

The demo prints a trajectory; these tests read it back (the table and ``--jsonl``)
and check what a trainer relies on: sampled ids keep their own logprobs, inserted
ids have mask 0 and logprob 0.0, the ids decode to the printed transcript, and the
transcript holds the real tool results, never the invented ones.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pytest

from toolwire import Tokenizer, as_tokenizer, cli
from toolwire.cli.demo import (
    INVENTED_WORDS,
    QUESTION,
    TOKEN_NOTE,
    ScriptedModel,
    demo_prompt,
    word_count,
)
from toolwire.cli.demo_tokenizer import DEMO_MARKERS, DemoTokenizer
from toolwire.cli.demo_tokens import scripted_logprob
from toolwire.loop.renderers import renderer_formats

WORDS = word_count("notes.txt")["words"]
ANSWER = f"notes.txt has {WORDS} words: {WORDS / 250:g} pages at 250 words per page{TOKEN_NOTE}."
INSERTED_PARTS = {"closer", "results", "header"}

ROW = re.compile(
    r"^ +(?P<index>\d+) +(?P<id>\d+) +(?P<mask>[01]) +(?P<logprob>-?\d+\.\d) +"
    r"(?P<part>sampled|call|closer|results|header) +(?P<token>.+)$"
)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert cli.main(["demo", "--tokens", *argv]) == 0
    return capsys.readouterr().out


def jsonl(capsys: pytest.CaptureFixture[str], fmt: str, *argv: str) -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in run_cli(capsys, "--jsonl", "--format", fmt, *argv).splitlines()
    ]


# -- the tokenizer -------------------------------------------------------------------


def test_every_format_with_a_renderer_has_demo_markers() -> None:
    assert set(DEMO_MARKERS) == set(renderer_formats())


@pytest.mark.parametrize("fmt", renderer_formats())
def test_demo_tokenizer_follows_the_protocol(fmt: str) -> None:
    tok = DemoTokenizer.for_format(fmt)
    assert isinstance(tok, Tokenizer) and as_tokenizer(tok) is tok
    text = ScriptedModel(fmt).script(demo_prompt(fmt))
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert len(ids) < len(text.encode())  # the pieces and markers are used
    for marker in DEMO_MARKERS[fmt]:
        (only,) = tok.encode(marker)
        assert only in tok.special_ids and tok.decode([only]) == marker
    assert len(tok.special_ids) == len(set(DEMO_MARKERS[fmt]))


def test_a_multibyte_character_spans_byte_ids() -> None:
    tok = DemoTokenizer.for_format("hermes")
    ids = tok.encode("page \u2014 ok")
    dash = [i for i in ids if tok.decode([i]) == "\ufffd"]
    assert len(dash) == 3 and all(i < 256 for i in dash)
    cut = ids.index(dash[1])
    assert tok.decode(ids[:cut]).endswith("\ufffd")  # incomplete UTF-8 -> U+FFFD
    assert tok.decode(ids) == "page \u2014 ok"
    assert tok.encode("<|im_end|>x") == [*tok.encode("<|im_end|>"), ord("x")]
    with pytest.raises(ValueError):
        DemoTokenizer.for_format("openai-chat")


# -- the trajectory, read back from --jsonl ---------------------------------------------


@pytest.mark.parametrize("fmt", renderer_formats())
def test_jsonl_trajectory_properties(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    lines = jsonl(capsys, fmt)
    prompt, summary = lines[0], lines[-1]
    assert prompt["type"] == "prompt" and summary["type"] == "summary"
    turns = [x for x in lines if x["type"] == "turn"]
    tokens = [x for x in lines if x["type"] == "token"]
    assert len(turns) == 3 and summary["reason"] == "stop"

    masks = [t["mask"] for t in tokens]
    assert set(masks) == {0, 1}
    assert [t["index"] for t in tokens] == list(range(len(tokens)))
    assert summary["sampled"] == masks.count(1) and summary["inserted"] == masks.count(0)
    for t in tokens:
        inserted = t["part"] in INSERTED_PARTS
        assert t["mask"] == (0 if inserted else 1)
        if inserted:
            assert t["logprob"] == 0.0
    # Each turn's sampled ids are a prefix of its sample and keep their own logprobs.
    for turn in turns:
        start, stop = turn["sampled"]
        assert turn["prompt_length"] == len(prompt["ids"]) + start  # the prefix property
        for k, t in enumerate(tokens[start:stop], start=1):
            assert t["logprob"] == scripted_logprob(k) and t["turn"] == turn["step"]
        for (a, b), call in zip(turn["calls"], turn["tool_calls"], strict=True):
            assert start <= a < b <= stop and call["name"] in ("word_count", "calculate")
    assert [len(t["tool_calls"]) for t in turns] == [1, 1, 0]

    tok = DemoTokenizer.for_format(fmt)
    transcript = summary["transcript"]
    assert tok.decode(prompt["ids"] + [t["id"] for t in tokens]) == transcript
    assert prompt["text"] + "".join(t["text"] for t in tokens) == transcript
    assert all(t["special"] == (t["id"] in tok.special_ids) for t in tokens)

    results = [r for turn in turns for r in turn["tool_results"]]
    assert [r["error"] for r in results] == [None, None]
    assert f'"words": {WORDS}' in results[0]["content"]
    assert results[0]["content"] in transcript and results[1]["content"] in transcript
    assert str(INVENTED_WORDS) not in transcript
    assert summary["answer"] == ANSWER
    # The answer's dash spans three byte ids; the third carries the character.
    dash = [t for t in tokens if t["id"] in (0xE2, 0x80, 0x94) and t["turn"] == 3]
    assert [t["text"] for t in dash] == ["", "", "\u2014"]


@pytest.mark.parametrize("fmt", ["hermes", "harmony", "deepseek-v3.1", "kimi-k2", "glm-4.5"])
def test_grouping_of_the_stream_does_not_change_the_trajectory(
    fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def trajectory(chunk: int) -> tuple[list[Any], int]:
        lines = jsonl(capsys, fmt, "--chunk-size", str(chunk))
        tokens = [
            (x["id"], x["mask"], x["logprob"], x["part"]) for x in lines if x["type"] == "token"
        ]
        return tokens, lines[-1]["dropped"]

    one, dropped_one = trajectory(1)
    assert dropped_one == 0  # read id by id, the sampler is closed at the cut
    for chunk in (3, 1000):
        assert trajectory(chunk)[0] == one


# -- the table -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", renderer_formats())
def test_table_trajectory_properties(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = run_cli(capsys, "--format", fmt)
    assert out.startswith(f"toolwire demo --tokens: format {fmt},")
    assert f"question: {QUESTION}" in out and "SCRIPTED" in out
    prompt_line = re.search(r"^prompt: (\d+) ids (\[.*\])$", out, re.M)
    assert prompt_line is not None
    prompt_ids = json.loads(prompt_line.group(2))
    assert len(prompt_ids) == int(prompt_line.group(1))

    rows = [m.groupdict() for m in map(ROW.match, out.splitlines()) if m]
    assert [int(r["index"]) for r in rows] == list(range(len(rows)))
    masks = {r["mask"] for r in rows}
    assert masks == {"0", "1"}
    for r in rows:
        assert (r["mask"] == "0") == (r["part"] in INSERTED_PARTS)
        if r["mask"] == "0":
            assert r["logprob"] == "0.0"
    assert {r["part"] for r in rows} >= {"call", "results"}
    assert out.count("  tool_call ") == 2 and out.count("  tool_result ") == 2
    assert out.count("cut: the sampler was closed after") == 2

    head, _, rest = out.partition("--- transcript: decode(prompt_ids + completion_ids), ")
    transcript = rest.split(" characters ---\n", 1)[1]
    assert transcript.endswith("\n--- end of transcript ---\n")
    transcript = transcript.removesuffix("\n--- end of transcript ---\n")
    tok = DemoTokenizer.for_format(fmt)
    assert tok.decode(prompt_ids + [int(r["id"]) for r in rows]) == transcript
    assert f'"words": {WORDS}' in transcript and str(INVENTED_WORDS) not in transcript
    assert f"answer: {ANSWER}" in head
    sampled = sum(r["mask"] == "1" for r in rows)
    assert f"completion {len(rows)} ids = {sampled} sampled (mask 1) + " in head
    assert "b'\\x94' -> '\u2014'" in out  # the byte that completes the dash


def test_table_marks_what_the_completing_id_carries_past_the_call(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = run_cli(capsys)  # hermes: '"}}\n' ends the call and writes the newline
    assert "format hermes" in out
    assert out.count("(carries '\\n' past the call)") == 2
    closer = [m for m in map(ROW.match, out.splitlines()) if m and m["part"] == "closer"]
    assert closer[0]["token"].startswith("'</tool_call>'")  # the newline is not inserted again


def test_cli_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "--jsonl"]) == 2
    assert "--jsonl needs --tokens" in capsys.readouterr().err
    assert cli.main(["demo", "--tokens", "--chunk-size", "0"]) == 2
    assert cli.main(["demo", "--tokens", "--format", "openai-chat"]) == 2


def test_the_cli_needs_no_tokenizer_library() -> None:
    code = (
        "import sys\n"
        "for name in ('tokenizers', 'transformers', 'tiktoken'):\n"
        "    sys.modules[name] = None  # importing it raises ImportError\n"
        "from toolwire.cli.command import main\n"
        "sys.exit(main(['demo', '--tokens', '--format', 'qwen3-coder']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "summary: 3 turns, reason stop" in done.stdout
