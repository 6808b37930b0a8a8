"""The hot paths (``engine/driver.py``, ``providers/base.py``) against the general path.

A long argument streams in small chunks, and most chunks skip the lexer: a JSON string
(also while a speculative body withholds its events), a raw value of a call assembled
from markup, a Python or Gemma string (escapes included), text.  These tests write long
values rich in what ends them -- quotes, backslashes, ``<``, newlines, the fragments of
each format's own closers -- through each format's renderer, and check that

* small fixed chunk sizes (where the hot paths take most chunks) and arbitrary
  chunkings give the events of the whole input, and each call's deltas its ``raw``;
* the hot paths do take a plain value: feeding it in 4-character chunks runs the lexer
  for the call's markup only (at most one chunk in 20), in every format (no format
  loses its fast path).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toolwire
from tests.conftest import chunkings, coalesce, run
from toolwire.engine.driver import StreamParser
from toolwire.events import ToolCall, ToolCallDelta
from toolwire.loop.renderers import renderer, renderer_formats
from toolwire.registry import compiled, is_provider

FORMATS = [f for f in renderer_formats() if not is_provider(f)]


def options(fmt: str) -> dict[str, Any]:
    r = renderer(fmt)
    return {"generation_prompt": r.prime} if r.prime else {}


def closer_fragments(fmt: str) -> list[str]:
    """Pieces of the format's literal delimiters: what a value must not end at."""
    literals = [d.literal for d in compiled(fmt).delimiters.values() if d.literal]
    return sorted({lit[:k] for lit in literals for k in range(1, len(lit))})


@st.composite
def long_values(draw: st.DrawFn, fmt: str) -> str:
    piece = st.one_of(
        st.text(alphabet="ab \n\t<>/\\\"'{}[]=|:é😀", min_size=1, max_size=12),
        st.sampled_from(closer_fragments(fmt) or ["<"]),
        st.text(alphabet="abcdefgh ", min_size=8, max_size=40),
    )
    return "".join(draw(st.lists(piece, min_size=1, max_size=24)))


def deltas_and_raw(events: list[Any]) -> tuple[dict[int, str], dict[int, str]]:
    deltas: dict[int, str] = {}
    raws: dict[int, str] = {}
    for e in events:
        if isinstance(e, ToolCallDelta):
            deltas[e.index] = deltas.get(e.index, "") + e.text
        elif isinstance(e, ToolCall):
            raws[e.index] = e.raw
    return deltas, raws


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=40)
@given(data=st.data())
def test_long_values_in_small_chunks_give_the_events_of_the_whole(
    fmt: str, data: st.DataObject
) -> None:
    value = data.draw(long_values(fmt), label="value")
    text = renderer(fmt).render_call("write_file", {"path": "a.txt", "content": value})
    whole_events = run(fmt, [text], **options(fmt))
    whole = coalesce(whole_events)
    size = data.draw(st.integers(1, 8), label="chunk size")
    fixed = [text[i : i + size] for i in range(0, len(text), size)]
    for chunks in (fixed, data.draw(chunkings(text), label="chunks")):
        events = run(fmt, chunks, **options(fmt))
        assert coalesce(events) == whole
        deltas, raws = deltas_and_raw(events)
        for index, raw in raws.items():
            assert deltas.get(index, "") == raw
    calls = [e for e in whole_events if isinstance(e, ToolCall)]
    assert [c.arguments.get("content") for c in calls] == [value]


def test_every_format_streams_a_plain_value_on_a_hot_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    value = "lorem ipsum dolor sit amet, consectetur adipiscing elit " * 200
    lexed: list[int] = []
    process = StreamParser._process

    def counting(self: StreamParser, out: list[Any], final: bool) -> None:
        lexed[-1] += 1
        process(self, out, final)

    monkeypatch.setattr(StreamParser, "_process", counting)
    slow = {}
    for fmt in FORMATS:
        text = renderer(fmt).render_call("write_file", {"path": "a.txt", "content": value})
        chunks = [text[i : i + 4] for i in range(0, len(text), 4)]
        lexed.append(0)
        events = run(fmt, chunks, **options(fmt))
        assert [e.arguments["content"] for e in events if isinstance(e, ToolCall)] == [value]
        if lexed[-1] > len(chunks) // 20:  # the call's markup, then the value
            slow[fmt] = f"{lexed[-1]} of {len(chunks)} chunks lexed"
    assert not slow, slow


@pytest.mark.parametrize("provider", ["openai-chat", "anthropic", "openai-responses"])
@settings(max_examples=40)
@given(data=st.data())
def test_provider_argument_fragments_give_the_arguments(provider: str, data: st.DataObject) -> None:
    """Argument fragments cut anywhere (inside escapes too) through the providers' hot
    path give the arguments and, concatenated, the deltas."""
    import json

    value = data.draw(st.text(alphabet='ab \n"\\/é😀\t', max_size=60), label="value")
    arguments = json.dumps({"content": value}, ensure_ascii=data.draw(st.booleans()))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(arguments) - 1)), max_size=20)))
    fragments = [
        arguments[a:b] for a, b in zip([0, *cuts], [*cuts, len(arguments)], strict=True) if a < b
    ]
    p = toolwire.parser(provider)
    events = []
    for payload in _provider_stream(provider, fragments):
        events.extend(p.feed_payload(payload))
    events.extend(p.close())
    assert not [e for e in events if e.type == "error"]
    deltas, raws = deltas_and_raw(events)
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert [c.arguments for c in calls] == [{"content": value}]
    assert deltas == {0: arguments} == raws


def _provider_stream(provider: str, fragments: list[str]) -> list[dict[str, Any]]:
    if provider == "openai-chat":

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        head = {"index": 0, "id": "c1", "type": "function", "function": {"name": "f"}}
        return [
            chunk(
                {
                    "role": "assistant",
                    "tool_calls": [{**head, "function": {"name": "f", "arguments": ""}}],
                }
            ),
            *(
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": f}}]})
                for f in fragments
            ),
            chunk({}, "tool_calls"),
        ]
    if provider == "anthropic":
        return [
            {"type": "message_start", "message": {"usage": {"input_tokens": 1}}},
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "tool_use", "id": "t1", "name": "f", "input": {}},
            },
            *(
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "input_json_delta", "partial_json": f},
                }
                for f in fragments
            ),
            {"type": "content_block_stop", "index": 0},
            {"type": "message_delta", "delta": {"stop_reason": "tool_use"}},
            {"type": "message_stop"},
        ]
    item = {"type": "function_call", "id": "fc1", "call_id": "c1", "name": "f", "arguments": ""}
    return [
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        *(
            {"type": "response.function_call_arguments.delta", "output_index": 0, "delta": f}
            for f in fragments
        ),
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": {**item, "arguments": "".join(fragments)},
        },
        {"type": "response.completed", "response": {"status": "completed"}},
    ]
