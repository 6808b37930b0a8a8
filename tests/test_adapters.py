"""Adapters: chunk dicts and SDK-like objects, sync and async byte iterables, all
giving the events of the raw body."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

import toolwire
from tests.conftest import coalesce, run
from tests.test_providers_corpus import CASES, load
from toolwire import adapters
from toolwire.events import Event
from toolwire.framing.sse import Frame, SseDecoder

CHUNKS: list[dict[str, Any]] = [
    {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "Hi"}}]},
    {
        "object": "chat.completion.chunk",
        "choices": [
            {
                "index": 0,
                "delta": {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "f", "arguments": '{"a": "é'},
                        }
                    ]
                },
            }
        ],
    },
    {
        "object": "chat.completion.chunk",
        "choices": [
            {
                "index": 0,
                "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '"}'}}]},
                "finish_reason": "tool_calls",
            }
        ],
    },
]


class Model:
    """Stands in for a pydantic v2 SDK object (openai, anthropic, google-genai)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def model_dump(self, *, mode: str, by_alias: bool, exclude_none: bool) -> dict[str, Any]:
        assert (mode, by_alias, exclude_none) == ("json", True, True)
        return self._data


class Legacy:
    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def to_dict(self) -> dict[str, Any]:
        return self._data


def summary(events: list[Event]) -> dict[str, Any]:
    return toolwire.collect(events).to_json()


def test_from_chunks_dicts_and_objects() -> None:
    from_dicts = list(adapters.from_chunks(CHUNKS, "openai-chat"))
    m = toolwire.collect(from_dicts)
    assert m.content == "Hi"
    assert [(c.id, c.arguments) for c in m.tool_calls] == [("c1", {"a": "é"})]
    assert m.finish_reason == "tool_calls" and m.errors == ()
    for wrap in (Model, Legacy):
        assert list(adapters.from_chunks(map(wrap, CHUNKS), "openai-chat")) == from_dicts


def test_openai_helper_events_unwrapped() -> None:
    wrapped = []
    for chunk in CHUNKS:
        wrapped.append({"type": "chunk", "chunk": chunk, "snapshot": {}})
        wrapped.append({"type": "content.delta", "delta": "Hi", "snapshot": "Hi"})
    assert list(adapters.from_chunks(wrapped, "openai-chat")) == list(
        adapters.from_chunks(CHUNKS, "openai-chat")
    )


def test_bad_objects() -> None:
    with pytest.raises(TypeError):
        list(adapters.from_chunks([object()], "openai-chat"))
    with pytest.raises(ValueError):
        list(adapters.from_chunks([], "nope"))


@pytest.mark.parametrize("case", CASES)
def test_chunk_dicts_give_the_same_message_as_the_body(corpus: Path, case: str) -> None:
    """Decoding a recorded body into payload dicts and feeding those gives the same
    message (offsets differ: they count the re-serialised body)."""
    body, expected = load(corpus, case)
    provider = expected["provider"]
    payloads = [
        json.loads(frame.data)
        for frame in SseDecoder().feed(body)
        if isinstance(frame, Frame) and frame.data != "[DONE]" and frame.event != "error"
    ]
    whole = toolwire.collect(run(provider, [body]))
    fed = toolwire.collect(adapters.from_chunks(payloads, provider))
    keep = ("content", "reasoning", "tool_calls", "usage")
    assert {k: fed.to_json()[k] for k in keep} == {k: whole.to_json()[k] for k in keep}


def test_iter_events_matches_parse() -> None:
    body = b"".join(b"data: " + json.dumps(c).encode() + b"\r\n\r\n" for c in CHUNKS)
    chunks = [body[i : i + 5] for i in range(0, len(body), 5)]
    expected = coalesce(toolwire.parse(body, "openai-chat"))
    assert coalesce(list(adapters.iter_events(iter(chunks), "openai-chat"))) == expected

    async def aiter_bytes() -> AsyncIterator[bytes]:
        for chunk in chunks:
            await asyncio.sleep(0)
            yield chunk

    async def collect_async() -> list[Event]:
        return [e async for e in adapters.aiter_events(aiter_bytes(), "openai-chat")]

    assert coalesce(asyncio.run(collect_async())) == expected


def test_afrom_chunks() -> None:
    async def objects() -> AsyncIterator[Model]:
        for chunk in CHUNKS:
            yield Model(chunk)

    async def collect_async() -> list[Event]:
        return [e async for e in adapters.afrom_chunks(objects(), "openai-chat")]

    assert asyncio.run(collect_async()) == list(adapters.from_chunks(CHUNKS, "openai-chat"))


def test_iter_events_for_text_formats_too() -> None:
    def text() -> Iterator[str]:
        yield "hello"

    events = list(adapters.iter_events(text(), "tags"))
    assert toolwire.collect(events).content == "hello"
