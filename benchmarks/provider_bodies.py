"""Provider stream bodies for the benchmarks (not part of toolwire).

Each builder writes one tool call whose JSON arguments text streams as fragments of
a fixed number of characters, one SSE event per fragment, in the provider's own
schema, with the fields the real APIs send (compact JSON, as they send it; see the
recordings in the shared corpus).  ``arguments_fragment`` is what the SDK helpers read
out of each decoded event: the peers' side of the comparison.

Only the providers that stream the arguments as JSON text are here: Gemini streams
``partialArgs`` values by JSON path and Ollama sends the whole arguments object in one
line, so neither has argument text a peer would re-parse.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from common import TOOL_NAME

__all__ = ["PROVIDERS", "Body", "arguments_fragment", "build_body"]

CALL_ID = "call_Xq3bVb1pDkZ6s0mH2vK8nT4e"
_CHAT_HEAD = {
    "id": "chatcmpl-BenchBenchBenchBenchBenchBench",
    "object": "chat.completion.chunk",
    "created": 1727346178,
    "model": "gpt-4o-2024-08-06",
    "system_fingerprint": "fp_5050236cbd",
}
_ITEM_ID = "fc_04041325ab8ae30400698c51c5468c8197a395f18875a5339f"


@dataclass(slots=True)
class Body:
    """One provider stream: the raw body cut at event boundaries, and each event's
    JSON data string (what a client decodes)."""

    pieces: list[bytes]
    """One piece per SSE event: ``event:`` line (if any), ``data:`` line, blank line."""
    data: list[str]
    """Each event's data, already cut out of the body (``[DONE]`` included)."""
    fragments: int
    """Events carrying an argument fragment."""

    @property
    def size(self) -> int:
        return sum(len(p) for p in self.pieces)


def _dump(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _fragments(arguments: str, size: int) -> list[str]:
    return [arguments[i : i + size] for i in range(0, len(arguments), size)]


def _openai_chat(arguments: str, size: int) -> list[tuple[str | None, str]]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return _dump({**_CHAT_HEAD, "choices": [choice]})

    start = {
        "index": 0,
        "id": CALL_ID,
        "type": "function",
        "function": {"name": TOOL_NAME, "arguments": ""},
    }
    events = [chunk({"role": "assistant", "content": None}), chunk({"tool_calls": [start]})]
    events += [
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": f}}]})
        for f in _fragments(arguments, size)
    ]
    events += [chunk({}, "tool_calls"), "[DONE]"]
    return [(None, e) for e in events]


def _anthropic(arguments: str, size: int) -> list[tuple[str | None, str]]:
    usage = {"input_tokens": 656, "output_tokens": 1}
    message: dict[str, Any] = {
        "model": "claude-haiku-4-5-20251001",
        "id": "msg_01AusY9WEbCaj3N7Tv5J4YjH",
        "type": "message",
        "role": "assistant",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    block = {"type": "tool_use", "id": "toolu_018acGYLtfR52q9yDbWaEdQZ", "name": TOOL_NAME}
    payloads: list[dict[str, Any]] = [
        {"type": "message_start", "message": message},
        {"type": "content_block_start", "index": 0, "content_block": {**block, "input": {}}},
    ]
    payloads += [
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": f},
        }
        for f in _fragments(arguments, size)
    ]
    payloads += [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": None},
            "usage": {**usage, "output_tokens": 74},
        },
        {"type": "message_stop"},
    ]
    return [(p["type"], _dump(p)) for p in payloads]


def _openai_responses(arguments: str, size: int) -> list[tuple[str | None, str]]:
    item = {
        "id": _ITEM_ID,
        "type": "function_call",
        "status": "in_progress",
        "arguments": "",
        "call_id": CALL_ID,
        "name": TOOL_NAME,
    }
    response = {"id": "resp_0404", "object": "response", "status": "in_progress", "output": []}
    payloads: list[dict[str, Any]] = [
        {"type": "response.created", "response": response},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
    ]
    payloads += [
        {
            "type": "response.function_call_arguments.delta",
            "item_id": _ITEM_ID,
            "output_index": 0,
            "delta": f,
            "obfuscation": "nWru1sTmaAzi9O",
        }
        for f in _fragments(arguments, size)
    ]
    done = {**item, "status": "completed", "arguments": arguments}
    payloads += [
        {
            "type": "response.function_call_arguments.done",
            "item_id": _ITEM_ID,
            "output_index": 0,
            "arguments": arguments,
        },
        {"type": "response.output_item.done", "output_index": 0, "item": done},
        {
            "type": "response.completed",
            "response": {**response, "status": "completed", "output": [done]},
        },
    ]
    for n, p in enumerate(payloads):
        p["sequence_number"] = n
    return [(p["type"], _dump(p)) for p in payloads]


_BUILDERS: dict[str, Callable[[str, int], list[tuple[str | None, str]]]] = {
    "openai-chat": _openai_chat,
    "anthropic": _anthropic,
    "openai-responses": _openai_responses,
}
PROVIDERS: tuple[str, ...] = tuple(_BUILDERS)


def build_body(provider: str, arguments: str, size: int) -> Body:
    """The stream of ``provider`` carrying ``arguments`` in ``size``-character
    fragments (characters, not bytes: a JSON string fragment cannot split one)."""
    events = _BUILDERS[provider](arguments, size)
    pieces = [
        (f"event: {name}\n" if name else "").encode() + f"data: {data}\n\n".encode()
        for name, data in events
    ]
    return Body(pieces, [data for _, data in events], -(-len(arguments) // size))


def arguments_fragment(provider: str) -> Callable[[Any], str | None]:
    """What an SDK helper takes out of one decoded event: the argument fragment."""
    if provider == "openai-chat":

        def chat(event: Any) -> str | None:
            for entry in event["choices"][0]["delta"].get("tool_calls") or ():
                fragment: str | None = entry["function"].get("arguments")
                return fragment
            return None

        return chat
    if provider == "anthropic":

        def anthropic(event: Any) -> str | None:
            if event["type"] != "content_block_delta":
                return None
            delta = event["delta"]
            json_delta = delta["type"] == "input_json_delta"
            fragment: str | None = delta["partial_json"] if json_delta else None
            return fragment

        return anthropic
    if provider == "openai-responses":

        def responses(event: Any) -> str | None:
            if event["type"] == "response.function_call_arguments.delta":
                fragment: str = event["delta"]
                return fragment
            return None

        return responses
    raise ValueError(f"unknown provider {provider!r}")
