"""Properties of every provider parser on generated streams.

A strategy draws an abstract response (reasoning, text, tool calls with JSON
arguments), renders it in a provider's schema with fragmented arguments (interleaved
parallel calls for ``openai-chat``), then frames it as the wire would: SSE with mixed
line ends, comments and ``event:`` lines, or NDJSON.  It knows the byte that
completes each call (the line end that dispatches the frame carrying the closing
brace, or the provider's end-of-call frame).  Then, under arbitrary byte splits:

* chunk invariance: the coalesced events equal those of the whole body, offsets
  included;
* earliest completion: each ``tool_call`` comes out of the ``feed`` holding its
  completing byte, and ``span[1]`` is just past that byte;
* nothing lost: the collected message is the drawn one;
* only ``ParseError``, only in strict mode, on corrupted bodies.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import toolwire
from tests.conftest import chunkings, coalesce, run
from toolwire.events import Event, ToolCall

_alphabet = st.characters(
    codec="utf-8", blacklist_categories=("Cs",), whitelist_categories=None
) | st.sampled_from(list('"\\\n\r\t{}[],: é€😀\u2028'))
_texts = st.text(_alphabet, min_size=1, max_size=12)
_keys = st.text(st.sampled_from(list('abcxyz_é"\\')), min_size=1, max_size=5)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(_alphabet, max_size=10),
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, min_size=1, max_size=3)
        | st.dictionaries(_keys, inner, min_size=1, max_size=3)
    ),
    max_leaves=6,
)
_arguments = st.dictionaries(_keys, _values, min_size=1, max_size=4)


@dataclass
class Call:
    name: str
    arguments: dict[str, Any]
    fragments: list[str] = field(default_factory=list)


@dataclass
class Response:
    reasoning: list[str]
    text: list[str]
    calls: list[Call]
    order: list[int] = field(default_factory=list)
    """The calls in the order they start (their toolwire index), when not in order."""

    def started(self) -> list[Call]:
        return [self.calls[i] for i in self.order] if self.order else self.calls

    def toolwire_index(self, call: int) -> int:
        return self.order.index(call) if self.order else call


@st.composite
def responses(draw: st.DrawFn) -> Response:
    calls = [
        Call(draw(st.sampled_from(["get_weather", "search", "f"])), draw(_arguments))
        for _ in range(draw(st.integers(0, 3)))
    ]
    for call in calls:
        raw = json.dumps(call.arguments, ensure_ascii=draw(st.booleans()))
        cuts = sorted(draw(st.sets(st.integers(1, max(1, len(raw) - 1)), max_size=6)))
        bounds = [0, *cuts, len(raw)]
        call.fragments = [raw[a:b] for a, b in itertools.pairwise(bounds) if a < b]
        if draw(st.booleans()):
            call.fragments.insert(0, "")  # an empty first fragment, as OpenAI sends
    return Response(draw(st.lists(_texts, max_size=3)), draw(st.lists(_texts, max_size=3)), calls)


@dataclass
class Frame:
    payload: dict[str, Any]
    event: str | None = None
    completes: int | None = None
    """Index of the call this frame completes."""


# -- rendering per provider -----------------------------------------------------------


def openai_chat(r: Response, draw: st.DrawFn) -> list[Frame]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    frames = [Frame(chunk({"role": "assistant", "reasoning_content": t})) for t in r.reasoning]
    frames += [Frame(chunk({"content": t})) for t in r.text]
    # Interleave the calls' fragments, keeping each call's own order.
    queues = {i: list(c.fragments) for i, c in enumerate(r.calls)}
    schedule = draw(st.permutations([i for i, c in enumerate(r.calls) for _ in c.fragments]))
    blank_names = draw(st.lists(st.booleans(), min_size=len(schedule), max_size=len(schedule)))
    r.order = []
    for i, blank in zip(schedule, blank_names, strict=True):
        piece = queues[i].pop(0)
        entry: dict[str, Any] = {"index": i, "function": {"arguments": piece}}
        if i not in r.order:
            r.order.append(i)
            entry.update(id=f"call_x{i}", type="function")
            entry["function"]["name"] = r.calls[i].name
        elif blank:
            entry["function"]["name"] = ""  # empty names on continuations are ignored
        frames.append(Frame(chunk({"tool_calls": [entry]}), completes=i if not queues[i] else None))
    frames.append(Frame(chunk({}, "tool_calls" if r.calls else "stop")))
    frames.append(Frame({"choices": [], "usage": {"total_tokens": 3}}))
    return frames


def anthropic(r: Response, draw: st.DrawFn) -> list[Frame]:
    frames = [Frame({"type": "message_start", "message": {"usage": {"input_tokens": 1}}})]
    block = 0

    def blocks(kind: str, delta: str, pieces: list[str]) -> None:
        nonlocal block
        if not pieces:
            return
        frames.append(
            Frame(
                {
                    "type": "content_block_start",
                    "index": block,
                    "content_block": {"type": kind, kind: ""},
                }
            )
        )
        for t in pieces:
            frames.append(
                Frame(
                    {
                        "type": "content_block_delta",
                        "index": block,
                        "delta": {"type": delta, kind: t},
                    }
                )
            )
        frames.append(Frame({"type": "content_block_stop", "index": block}))
        block += 1

    blocks("thinking", "thinking_delta", r.reasoning)
    blocks("text", "text_delta", r.text)
    for i, call in enumerate(r.calls):
        frames.append(
            Frame(
                {
                    "type": "content_block_start",
                    "index": block,
                    "content_block": {
                        "type": "tool_use",
                        "id": f"toolu_{i}",
                        "name": call.name,
                        "input": {},
                    },
                }
            )
        )
        if draw(st.booleans()):
            frames.append(Frame({"type": "ping"}))
        for j, piece in enumerate(call.fragments):
            frames.append(
                Frame(
                    {
                        "type": "content_block_delta",
                        "index": block,
                        "delta": {"type": "input_json_delta", "partial_json": piece},
                    },
                    completes=i if j == len(call.fragments) - 1 else None,
                )
            )
        frames.append(Frame({"type": "content_block_stop", "index": block}))
        block += 1
    frames.append(
        Frame(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use" if r.calls else "end_turn"},
                "usage": {"output_tokens": 9},
            }
        )
    )
    frames.append(Frame({"type": "message_stop"}))
    for f in frames:
        f.event = f.payload["type"]
    return frames


def openai_responses(r: Response, draw: st.DrawFn) -> list[Frame]:
    frames = [Frame({"type": "response.created", "response": {"status": "in_progress"}})]
    index = 0
    if r.reasoning:
        frames += [
            Frame(
                {"type": "response.reasoning_summary_text.delta", "output_index": index, "delta": t}
            )
            for t in r.reasoning
        ]
        index += 1
    if r.text:
        frames += [
            Frame({"type": "response.output_text.delta", "output_index": index, "delta": t})
            for t in r.text
        ]
        index += 1
    for i, call in enumerate(r.calls):
        item = {
            "type": "function_call",
            "id": f"fc_{i}",
            "call_id": f"call_r{i}",
            "name": call.name,
            "arguments": "",
        }
        frames.append(
            Frame({"type": "response.output_item.added", "output_index": index, "item": item})
        )
        for j, piece in enumerate(call.fragments):
            frames.append(
                Frame(
                    {
                        "type": "response.function_call_arguments.delta",
                        "output_index": index,
                        "delta": piece,
                    },
                    completes=i if j == len(call.fragments) - 1 else None,
                )
            )
        raw = "".join(call.fragments)
        frames.append(
            Frame(
                {
                    "type": "response.function_call_arguments.done",
                    "output_index": index,
                    "arguments": raw,
                }
            )
        )
        frames.append(
            Frame(
                {
                    "type": "response.output_item.done",
                    "output_index": index,
                    "item": {**item, "arguments": raw},
                }
            )
        )
        index += 1
    frames.append(
        Frame(
            {
                "type": "response.completed",
                "response": {"status": "completed", "usage": {"total_tokens": 5}},
            }
        )
    )
    for f in frames:
        f.event = f.payload["type"]
    return frames


def _partial_args(value: Any, path: str, draw: st.DrawFn) -> list[dict[str, Any]]:
    """Vertex ``partialArgs`` entries for ``value`` at ``path`` (strings split)."""
    if isinstance(value, dict):
        entries = []
        for k, v in value.items():
            plain = k.replace("_", "a").isalnum() and draw(st.booleans())
            quoted = k.replace("\\", "\\\\").replace("'", "\\'")
            entries += _partial_args(v, f"{path}.{k}" if plain else f"{path}['{quoted}']", draw)
        return entries
    if isinstance(value, list):
        return [e for i, v in enumerate(value) for e in _partial_args(v, f"{path}[{i}]", draw)]
    if isinstance(value, str):
        cut = draw(st.integers(0, len(value)))
        return [
            {"jsonPath": path, "stringValue": value[:cut], "willContinue": True},
            {"jsonPath": path, "stringValue": value[cut:]},
        ]
    if value is None:
        return [{"jsonPath": path, "nullValue": None}]
    if isinstance(value, bool):
        return [{"jsonPath": path, "boolValue": value}]
    return [{"jsonPath": path, "numberValue": value}]


def gemini(r: Response, draw: st.DrawFn) -> list[Frame]:
    def parts(*items: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(items)}}
        if finish:
            candidate["finishReason"] = finish
        return {"candidates": [candidate], "usageMetadata": {"totalTokenCount": 4}}

    frames = [Frame(parts({"text": t, "thought": True})) for t in r.reasoning]
    frames += [Frame(parts({"text": t})) for t in r.text]
    for i, call in enumerate(r.calls):
        arguments = call.arguments
        if draw(st.booleans()):
            frames.append(
                Frame(parts({"functionCall": {"name": call.name, "args": arguments}}), completes=i)
            )
            continue
        frames.append(Frame(parts({"functionCall": {"name": call.name, "willContinue": True}})))
        for entry in _partial_args(arguments, "$", draw):
            frames.append(
                Frame(parts({"functionCall": {"partialArgs": [entry], "willContinue": True}}))
            )
        frames.append(Frame(parts({"functionCall": {}}), completes=i))
    frames.append(Frame(parts({"text": ""}, finish="STOP")))
    return frames


def ollama(r: Response, draw: st.DrawFn) -> list[Frame]:
    def line(message: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"model": "m", "message": {"role": "assistant", **message}, "done": False, **extra}

    frames = [Frame(line({"content": "", "thinking": t})) for t in r.reasoning]
    frames += [Frame(line({"content": t})) for t in r.text]
    for i, call in enumerate(r.calls):
        frames.append(
            Frame(
                line(
                    {
                        "content": "",
                        "tool_calls": [
                            {"function": {"name": call.name, "arguments": call.arguments}}
                        ],
                    }
                ),
                completes=i,
            )
        )
    frames.append(
        Frame(
            {
                "model": "m",
                "message": {"role": "assistant", "content": ""},
                "done": True,
                "done_reason": "stop",
                "eval_count": 7,
            }
        )
    )
    return frames


RENDER = {
    "openai-chat": openai_chat,
    "anthropic": anthropic,
    "openai-responses": openai_responses,
    "gemini": gemini,
    "ollama": ollama,
}
PROVIDERS = sorted(RENDER)


@dataclass
class Stream:
    provider: str
    response: Response
    body: bytes
    completion: dict[int, int]
    """Call index -> offset just past its completing byte."""


@st.composite
def streams(draw: st.DrawFn, provider: str) -> Stream:
    r = draw(responses())
    frames = RENDER[provider](r, draw)
    out = bytearray()
    completion: dict[int, int] = {}
    if provider == "ollama":
        for f in frames:
            out += json.dumps(f.payload).encode() + draw(st.sampled_from([b"\n", b"\r\n"]))
            if f.completes is not None:
                completion[f.completes] = len(out)
        return Stream(provider, r, bytes(out), completion)
    prev = "\n"

    def end(blank: bool) -> bytes:
        nonlocal prev
        choices = ["\n", "\r\n", "\r"]
        if blank and prev == "\r":
            choices = ["\r\n", "\r"]  # a lone LF would complete the previous CR
        prev = draw(st.sampled_from(choices))
        return prev.encode()

    if draw(st.booleans()):
        out += b"\xef\xbb\xbf"
    for f in frames:
        if draw(st.integers(0, 4)) == 0:
            out += b": keep-alive" + end(False)
        if f.event is not None and draw(st.integers(0, 3)):
            out += f"event: {f.event}".encode() + end(False)
        text = json.dumps(f.payload, ensure_ascii=draw(st.booleans()))
        out += b"data:" + (b" " if draw(st.booleans()) else b"") + text.encode() + end(False)
        blank = end(True)
        if f.completes is not None:
            completion[r.toolwire_index(f.completes)] = len(out) + 1
        out += blank
    if provider == "openai-chat":
        out += b"data: [DONE]" + end(False) + end(True)
    return Stream(provider, r, bytes(out), completion)


def _check_message(stream: Stream, events: list[Event]) -> None:
    message = toolwire.collect(events)
    r = stream.response
    assert message.reasoning == ("".join(r.reasoning) or None)
    assert message.content == ("".join(r.text) or None)
    assert [(c.name, c.arguments) for c in message.tool_calls] == [
        (c.name, c.arguments) for c in r.started()
    ]
    assert message.errors == ()
    assert message.finish_reason == ("tool_calls" if r.calls else "stop")


@pytest.mark.parametrize("provider", PROVIDERS)
@given(data=st.data())
def test_chunk_invariance_and_nothing_lost(provider: str, data: st.DataObject) -> None:
    stream = data.draw(streams(provider))
    whole = run(provider, [stream.body])
    _check_message(stream, whole)
    split = run(provider, data.draw(chunkings(stream.body)))
    assert coalesce(split) == coalesce(whole)


@pytest.mark.parametrize("provider", PROVIDERS)
@given(data=st.data())
def test_earliest_completion(provider: str, data: st.DataObject) -> None:
    stream = data.draw(streams(provider))
    chunks = data.draw(chunkings(stream.body))
    parser = toolwire.parser(provider)
    fed = 0
    for chunk in chunks:
        fed += len(chunk)
        for event in parser.feed(chunk):
            if isinstance(event, ToolCall):
                end = stream.completion[event.index]
                assert event.span[1] == end
                assert fed - len(chunk) < end <= fed  # the completing byte is in this chunk
    assert not [e for e in parser.close() if isinstance(e, ToolCall)]


@pytest.mark.parametrize("provider", PROVIDERS)
@given(data=st.data())
def test_only_parse_error_in_strict_mode(provider: str, data: st.DataObject) -> None:
    stream = data.draw(streams(provider))
    body = bytearray(stream.body)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(body)))
        action = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        byte = data.draw(st.sampled_from(list(b'{}[]":,\\\n\r \xff\xc3x0')))
        if action == "insert":
            body[at:at] = bytes([byte])
        elif at < len(body):
            body[at : at + 1] = b"" if action == "delete" else bytes([byte])
    chunks = data.draw(chunkings(bytes(body)))
    lenient = run(provider, chunks)  # never raises
    assert coalesce(lenient) == coalesce(run(provider, [bytes(body)]))
    parser = toolwire.parser(provider, strict=True)
    try:
        for chunk in chunks:
            parser.feed(chunk)
        parser.close()
    except toolwire.ParseError as exc:
        assert exc.code != "internal_error"
        assert exc.code in {e.code for e in lenient if isinstance(e, toolwire.Error)}


@given(body=st.binary(max_size=300), data=st.data())
def test_arbitrary_bytes(body: bytes, data: st.DataObject) -> None:
    for provider in PROVIDERS:
        chunks = data.draw(chunkings(body))
        assert coalesce(run(provider, chunks)) == coalesce(run(provider, [body]))
        try:
            run(provider, chunks, strict=True)
        except toolwire.ParseError as exc:
            assert exc.code != "internal_error"
