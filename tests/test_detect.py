
"""``toolwire.detect_format``: the format of a stream from its start.

Checked on every corpus case (real model outputs and recorded provider bodies), on
generated calls of every text format written by its renderer, and on generated
streams of every provider.  A detected format is right when it is the case's, or a
format that reads the same syntax to the same calls (DeepSeek R1 without its
``<think>`` is V3's syntax); ``None`` only where nothing tells (no marker at all).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toolwire
from tests.conftest import corpus_root
from toolwire.events import ToolCall
from toolwire.loop.renderers import renderer, renderer_formats
from toolwire.testing import provider_streams
from toolwire.testing.streams import PROVIDER_RENDERERS

ROOT = corpus_root()


def calls(text: str | bytes, fmt: str, **options: Any) -> list[tuple[str | None, Any]]:
    return [
        (e.name, e.arguments)
        for e in toolwire.parse(text, fmt, **options)
        if isinstance(e, ToolCall)
    ]


def _model_cases() -> list[Path]:
    return sorted((ROOT / "models").glob("*/*.json")) if ROOT else []


def _provider_cases() -> list[Path]:
    return sorted((ROOT / "providers").glob("*/*.sse")) if ROOT else []


@pytest.mark.skipif(ROOT is None, reason="shared corpus not found")
@pytest.mark.parametrize("path", _model_cases(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_corpus_model_outputs(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    output, fmt = case["output"], case["format"]
    detected = toolwire.detect_format(output)
    if detected is None:
        # Only an output without any format marker (reasoning and an answer) may
        # leave the format open.
        assert not calls(output, fmt), "an output with calls must tell its format"
        assert "<tool_call" not in output and "tool▁call" not in output
        return
    if detected != fmt:
        assert calls(output, detected) == calls(output, fmt)
        assert (fmt, detected) in {("deepseek-r1", "deepseek-v3")}


@pytest.mark.skipif(ROOT is None, reason="shared corpus not found")
@pytest.mark.parametrize("path", _provider_cases(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_corpus_provider_bodies(path: Path) -> None:
    body = path.read_bytes()
    assert toolwire.detect_format(body) == path.parent.name
    assert toolwire.detect_format(body[:512]) == path.parent.name


SIBLINGS = {("deepseek-r1", "deepseek-v3"), ("tags", "hermes")}
"""(format, detected): the renderer's call alone is the other format's syntax."""


@pytest.mark.parametrize("fmt", [f for f in renderer_formats() if f in toolwire.formats()])
@settings(max_examples=30)
@given(data=st.data())
def test_rendered_calls_of_every_format(fmt: str, data: st.DataObject) -> None:
    name = data.draw(st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True), label="name")
    value = data.draw(st.text(alphabet="ab <>{}\"'\n", max_size=20), label="value")
    before = data.draw(st.sampled_from(["", "Let me check.\n", "ok "]), label="before")
    r = renderer(fmt)
    text = before + r.render_call(name, {"q": value})
    detected = toolwire.detect_format(text)
    options = {"generation_prompt": r.prime} if r.prime else {}
    if fmt == "harmony":  # its calls follow a header that says harmony anyway
        text = r.prime + text if r.prime else text
        detected = toolwire.detect_format(text)
        options = {}
    if detected is None:  # bare JSON after prose is text there
        assert fmt == "llama3-json" and before
        assert calls(text, fmt, **options) == []
        return
    assert detected == fmt or (fmt, detected) in SIBLINGS, (fmt, detected, text)
    assert calls(text, detected, **options) == calls(text, fmt, **options)


@pytest.mark.parametrize("provider", sorted(PROVIDER_RENDERERS))
@settings(max_examples=30)
@given(data=st.data())
def test_generated_provider_streams(provider: str, data: st.DataObject) -> None:
    stream = data.draw(provider_streams(provider))
    assert toolwire.detect_format(stream.body) == provider


@pytest.mark.parametrize(
    "head",
    [
        "",
        "   \n",
        "Hello, world!",
        "<think>reasoning</think>answer",
        "data: {}\n\n",
        '{"foo": 1}\n',
        "<tool_call>\n<function=f>\n<arg_key>k</arg_key>",  # two formats' markers
    ],
)
def test_ambiguous_or_unmarked_heads_are_none(head: str) -> None:
    assert toolwire.detect_format(head) is None
    assert toolwire.detect_format(head.encode()) is None


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        ("<tool_call>get\n<arg_key>city</arg_key>", "glm-4.5"),
        ("<tool_call>get<arg_key>city</arg_key>", "glm-4.7"),
        ('<tool_call>{"name": "f", "arguments": {}}</tool_call>', "hermes"),
        ('<analysis>x</analysis><tool_call>{"name": "f"}', "tags"),
        ('[TOOL_CALLS][{"name": "f", "arguments": {}}]', "mistral"),
        ('{"name": "f", "parameters": {}}', "llama3-json"),
        ("[get_weather(city='Paris')]", "llama4-pythonic"),
        ("<|tool_call>call:f{a:1}<tool_call|>", "gemma4"),
        (
            "\ufeff\n"
            + '{"model":"m","message":{"role":"assistant","content":"hi"},"done":false}\n',
            "ollama",
        ),
        ('event: message_start\ndata: {"type":"message_start"}\n\n', "anthropic"),
    ],
)
def test_markers_tell_the_format(head: str, fmt: str) -> None:
    assert toolwire.detect_format(head) == fmt
