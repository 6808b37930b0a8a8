"""The ``toolwire`` command: exit codes, output shapes, stdin, and replayed chunkings."""

from __future__ import annotations

import io
import json
import os
import re
import selectors
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from toolwire.cli import command as cli
from toolwire.cli.command import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
WEATHER = EXAMPLES / "weather.tags"
MALFORMED = EXAMPLES / "malformed.tags"
DELTAS = {"reasoning_delta", "text_delta", "tool_call_delta"}
CLI = [sys.executable, "-m", "toolwire.cli"]


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    """Call ``main`` in-process and return (status, stdout, stderr)."""
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    # validate's default --format auto says what it detected; what follows is the same
    # as with that format given (test_default_format_is_detected).
    return status, captured.out, DETECTED.sub("", captured.err, count=1)


DETECTED = re.compile(r"\Atoolwire: format: [\w.-]+ \(detected\)\n")


def events(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


def coalesce(evs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Merge adjacent deltas of one block or call: what chunk invariance compares."""
    merged: list[dict[str, Any]] = []
    for e in evs:
        last = merged[-1] if merged else None
        if (
            last is not None
            and e["type"] in DELTAS
            and last["type"] == e["type"]
            and last.get("id") == e.get("id")
            and last.get("index") == e.get("index")
        ):
            merged[-1] = {**last, "text": last["text"] + e["text"]}
        else:
            merged.append(dict(e))
    return merged


def error_lines(err: str, name: str) -> list[tuple[int, int, str]]:
    """The ``FILE:LINE:COL: code: message`` lines of stderr, as (line, col, code)."""
    found = re.findall(rf"^{re.escape(name)}:(\d+):(\d+): (\w+): .+$", err, re.MULTILINE)
    assert len(found) == len(err.splitlines()), err
    return [(int(line), int(col), code) for line, col, code in found]


def test_valid_stream_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "validate", WEATHER)
    assert (status, err) == (0, "")
    assert re.search(r"^reasoning: The user asks .*get_weather\.$", out, re.MULTILINE)
    assert re.search(r"^tool_call #0 get_weather\(\{.*\"São Paulo\".*\}\) \[\d+:\d+\]$",
                     out, re.MULTILINE)  # fmt: skip
    assert re.search(r"^text: Yes: tomorrow .*☔\.$", out, re.MULTILINE)


def test_default_format_is_detected(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "validate", WEATHER) == run(capsys, "validate", "--format", "tags", WEATHER)
    main(["validate", str(WEATHER)])
    assert capsys.readouterr().err == "toolwire: format: tags (detected)\n"


def test_jsonl_gives_every_event(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "validate", "--jsonl", WEATHER)
    assert status == 0
    evs = coalesce(events(out))
    types = [e["type"] for e in evs]
    answer = next(i for i, e in enumerate(evs) if e.get("text", "").startswith("Yes:"))
    assert types.index("reasoning_start") < types.index("tool_call_start")
    assert types.index("tool_call_start") < types.index("tool_call") < answer
    assert types[-1] == "finish"
    (call,) = [e for e in evs if e["type"] == "tool_call"]
    assert call["index"] == 0 and call["name"] == "get_weather"
    assert call["arguments"] == {
        "location": {"city": "São Paulo", "country": "BR"},
        "units": "metric",
        "forecast": {"days": 2, "fields": ["temperature", "precipitation"]},
    }
    text = WEATHER.read_text(encoding="utf-8")
    start, end = call["span"]
    assert text[start:end].startswith("<tool_call>")
    assert text[start:end].rstrip().endswith("}")
    reasoning = "".join(e["text"] for e in evs if e["type"] == "reasoning_delta")
    assert reasoning.startswith("The user asks") and reasoning.endswith("get_weather.")


def test_malformed_stream_exits_1_with_positions(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "validate", MALFORMED)
    assert status == 1
    errors = error_lines(err, str(MALFORMED))
    assert errors and errors[0][0] == 2 and errors[0][2] == "invalid_json"
    # The line has the trailing comma: the error points at or just after it.
    bad_line = MALFORMED.read_text(encoding="utf-8").splitlines()[1]
    assert bad_line.index(",}") + 1 <= errors[0][1] <= bad_line.index(",}") + 2
    # Lenient mode goes on: the good call after the bad one is still reported.
    assert re.search(r"^tool_call #\d+ get_weather\(\{\"city\": \"Bergen\"", out, re.MULTILINE)


def test_malformed_jsonl_has_error_event(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "validate", "--jsonl", MALFORMED)
    assert status == 1
    (first, *_) = [e for e in events(out) if e["type"] == "error"]
    assert first["code"] == "invalid_json" and first["line"] == 2
    assert error_lines(err, str(MALFORMED))[0] == (2, first["column"], "invalid_json")


def test_strict_stops_at_first_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "validate", "--strict", MALFORMED)
    assert status == 1
    assert [(line, code) for line, _, code in error_lines(err, str(MALFORMED))] == [
        (2, "invalid_json")
    ]
    assert "Bergen" not in out
    assert out.startswith("reasoning: Two cities")


def test_strict_valid_stream_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "validate", "--strict", WEATHER)[0] == 0


@pytest.mark.parametrize("example", [WEATHER, MALFORMED], ids=lambda p: p.name)
@pytest.mark.parametrize(
    "split", [["char"], ["random"], ["random", "--seed", "1"], ["random", "--seed", "7"]],
    ids=" ".join,
)  # fmt: skip
def test_split_gives_same_events(
    capsys: pytest.CaptureFixture[str], example: Path, split: list[str]
) -> None:
    whole = run(capsys, "validate", "--jsonl", "--split", "none", example)
    pieces = run(capsys, "validate", "--jsonl", "--split", *split, example)
    assert pieces[0] == whole[0]
    assert coalesce(events(pieces[1])) == coalesce(events(whole[1]))
    assert pieces[2] == whole[2]
    if split[0] == "char":  # one byte at a time: many more deltas, same content
        assert len(events(pieces[1])) > len(events(whole[1]))


# Tags separated by newlines, as models write them: the newlines outside the tags are
# text blocks of their own (``tags`` keeps text verbatim), whitespace only.
SPACED = (
    "<analysis>Look it up.</analysis>\n"
    '<tool_call>{"name": "ping", "arguments": {}}</tool_call>\n\n'
    "<analysis> \n</analysis>\n"
    "<final_answer>\n  Done.</final_answer>\n"
)


def validate_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, data: str, *argv: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data.encode("utf-8"))))
    return run(capsys, "validate", *argv, "-")


def test_readable_output_skips_whitespace_only_blocks(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The readable lines show blocks that say something; a block that does is shown
    whole, its leading whitespace included."""
    status, out, err = validate_stdin(capsys, monkeypatch, SPACED)
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "reasoning: Look it up.",
        "tool_call #0 ping({}) [33:77]",
        "text: \\n  Done.",
        "finish: stop",
    ]


def test_jsonl_keeps_whitespace_only_blocks(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out, _ = validate_stdin(capsys, monkeypatch, SPACED, "--jsonl")
    assert status == 0
    blocks = [e["text"] for e in coalesce(events(out)) if e["type"].endswith("_delta")]
    assert blocks.count("\n") == 3 and "\n\n" in blocks and " \n" in blocks


@pytest.mark.parametrize("split", [["char"], ["random", "--seed", "3"]], ids=" ".join)
def test_readable_output_is_the_same_whatever_the_split(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, split: list[str]
) -> None:
    """Whether a block is shown cannot depend on how its text arrived."""
    whole = validate_stdin(capsys, monkeypatch, SPACED)
    assert validate_stdin(capsys, monkeypatch, SPACED, "--split", *split) == whole


def test_a_long_blank_block_is_shown_past_the_bound(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whitespace is kept back only up to ``BLANK_HELD`` characters (bounded memory):
    a longer blank block is shown, whole."""
    monkeypatch.setattr(cli, "BLANK_HELD", 4)
    _, out, _ = validate_stdin(capsys, monkeypatch, "<final_answer>   \n\n</final_answer>")
    assert out.splitlines() == ["text:    \\n\\n", "finish: stop"]
    _, out, _ = validate_stdin(capsys, monkeypatch, "<final_answer>  \n</final_answer>")
    assert out.splitlines() == ["finish: stop"]


def test_an_error_inside_a_blank_block_shows_no_empty_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out, err = validate_stdin(capsys, monkeypatch, "\n\n</analysis>\n")
    assert status == 1
    assert "unexpected_tag" in err
    assert out.splitlines() == ["finish: stop"]


def test_stdin_dash_in_process(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(MALFORMED.read_bytes())))
    status, out, err = run(capsys, "validate", "-")
    assert status == 1
    assert error_lines(err, "<stdin>")[0][::2] == (2, "invalid_json")
    assert "Bergen" in out


def test_stdin_is_the_default_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(WEATHER.read_bytes())))
    assert run(capsys, "validate", "--jsonl")[:2] == run(capsys, "validate", "--jsonl", WEATHER)[:2]


def test_stdin_subprocess() -> None:
    result = subprocess.run(
        [*CLI, "validate", "--jsonl", "-"], input=WEATHER.read_bytes(), capture_output=True
    )
    assert result.returncode == 0, result.stderr
    assert any(e["type"] == "tool_call" for e in events(result.stdout.decode("utf-8")))


def test_invalid_utf8_is_malformed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b"<final_answer>caf\xc3 au lait</final_answer>"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    status, _, err = run(capsys, "validate", "--split", "char", "-")
    assert status == 1
    assert "invalid_utf8" in {code for _, _, code in error_lines(err, "<stdin>")}


@pytest.mark.skipif(os.name != "posix", reason="uses select on a pipe")
def test_live_pipe_shows_events_before_input_ends() -> None:
    """A call written to the pipe is reported while the writer is still connected."""
    proc = subprocess.Popen(
        [*CLI, "validate", "--jsonl", "-"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(b'<tool_call>{"name": "ping", "arguments": {}}</tool_call>')
        proc.stdin.flush()
        received = b""
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            while b'"type": "tool_call",' not in received:
                assert sel.select(timeout=30), f"no tool_call before end of input: {received!r}"
                data = os.read(proc.stdout.fileno(), 65536)  # unbuffered: select sees it all
                assert data, "output ended early"
                received += data
        assert proc.poll() is None  # still waiting for more input
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_broken_pipe_exits_quietly(tmp_path: Path) -> None:
    big = tmp_path / "big.tags"
    big.write_bytes(WEATHER.read_bytes() * 2000)
    proc = subprocess.Popen(
        [*CLI, "validate", "--jsonl", str(big)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # the reader goes away, like `| head -1`
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 2
    assert b"Traceback" not in err and b"Exception" not in err


def test_missing_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out, err = run(capsys, "validate", tmp_path / "nope.tags")
    assert (status, out) == (2, "")
    assert "nope.tags" in err and "Traceback" not in err


def test_directory_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(capsys, "validate", tmp_path)[0] == 2


def test_unknown_format_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "validate", "--format", "no-such-format", WEATHER)
    assert (status, out) == (2, "")
    assert "no-such-format" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [[], ["validate", "--split", "bytes"], ["validate", "--seed", "x"], ["frobnicate"]],
    ids=repr,
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    status, out, err = run(capsys, *argv)
    assert (status, out) == (2, "")
    assert "usage:" in err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "validate", "--help")
    assert status == 0 and "--split" in out


def test_formats_lists_tags(capsys: pytest.CaptureFixture[str]) -> None:
    import toolwire

    status, out, err = run(capsys, "formats")
    assert (status, err) == (0, "")
    names = [line.split()[0] for line in out.splitlines()]
    assert "tags" in names
    assert names == toolwire.formats()
