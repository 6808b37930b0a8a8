"""Anthropic Messages streams (SSE, one ``event:`` per payload ``type``).

Schema read: ``message_start`` (usage), ``content_block_start`` / ``_delta`` /
``_stop`` keyed by the block ``index``, ``message_delta`` (``stop_reason``, usage
updated field by field), ``message_stop`` (the end), ``ping`` (ignored) and
``error``.  Unknown event types are ignored, as Anthropic's versioning policy asks.

Blocks: ``text`` -> text, ``thinking`` -> reasoning (signatures and
``redacted_thinking`` are opaque and left out), ``tool_use`` -> a client call whose
``input_json_delta`` fragments stream its arguments and whose ``content_block_stop``
ends it (no fragments: the start's ``input``, else ``{}``).  ``server_tool_use``,
``mcp_tool_use`` and any other ``*_tool_use`` block are tools Anthropic runs: one
``provider_tool_call`` at their stop.  Result blocks (``*_tool_result``) are not
content and are skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import ErrorCode
from ..framing.sse import Frame
from .base import ProviderParser
from .calls import ClientCall
from .schema import SchemaError, get_dict, get_int, get_str

__all__ = ["AnthropicParser"]

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "content_filter",
}
"""Raw ``stop_reason`` -> normalised; anything else (``pause_turn``...) is ``other``."""


@dataclass(slots=True)
class _ServerTool:
    id: str | None
    name: str | None
    input: Any
    parts: list[str] = field(default_factory=list)


_DELTA = "content_block_delta"


class AnthropicParser(ProviderParser):
    name = "anthropic"
    description = "Anthropic Messages API SSE events"
    models = "Claude (Anthropic API, Bedrock and Vertex streaming in the same events)"
    event_names = True

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._calls: dict[int, tuple[ClientCall, Any]] = {}
        self._servers: dict[int, _ServerTool] = {}

    def _payload(self, payload: dict[str, Any], frame: Frame) -> None:
        # Fast path: the event a long argument streams as, thousands of times -- an
        # input_json_delta with a string for an open tool_use block.
        delta = payload.get("delta")
        if type(delta) is dict and delta.get("type") == "input_json_delta":
            text = delta.get("partial_json")
            index = payload.get("index")
            entry = self._calls.get(index) if type(index) is int else None
            if entry is not None and type(text) is str and payload.get("type") == _DELTA:
                if text:
                    self._stream_args(entry[0], text)
                return
        kind = get_str(payload, "type") or frame.event
        if kind == "content_block_delta":
            self._block_delta(payload)
        elif kind == "content_block_start":
            self._block_start(payload)
        elif kind == "content_block_stop":
            self._block_stop(_index(payload))
        elif kind == "message_start":
            message = get_dict(payload, "message") or {}
            usage = get_dict(message, "usage")
            if usage is not None:
                self._set_usage(dict(usage))
        elif kind == "message_delta":
            usage = get_dict(payload, "usage")
            if usage is not None:
                self._set_usage({**(self._usage or {}), **usage})
            delta = get_dict(payload, "delta") or {}
            reason = get_str(delta, "stop_reason")
            if reason:
                normalised = FINISH_REASONS.get(reason, "other")
                self._set_reason(reason, normalised)
                if normalised == "length":
                    self._end_calls(cut=True)
        elif kind == "message_stop":
            self._finish()
        elif kind == "error":
            self._provider_error(payload)

    def _block(self, payload: dict[str, Any], field: str) -> tuple[int, dict[str, Any], str]:
        """A block event's index, its ``field`` object (required) and that object's
        ``type``."""
        index = _index(payload)
        obj = get_dict(payload, field)
        if obj is None:
            raise SchemaError(f"{get_str(payload, 'type')} without a {field}")
        return index, obj, get_str(obj, "type") or ""

    def _block_text(self, kind: str, obj: dict[str, Any], suffix: str) -> bool:
        """A text or thinking piece (a start's first text: no suffix; a delta:
        ``_delta``); False for any other kind."""
        if kind == "text" + suffix:
            self._text("text", get_str(obj, "text"))
        elif kind == "thinking" + suffix:
            self._text("reasoning", get_str(obj, "thinking"))
        else:
            return False
        return True

    def _block_start(self, payload: dict[str, Any]) -> None:
        index, block, kind = self._block(payload, "content_block")
        if self._block_text(kind, block, ""):
            return
        if kind == "tool_use":
            call = self._open_call(get_str(block, "id"), get_str(block, "name"))
            self._calls[index] = (call, block.get("input"))
        elif kind.endswith("tool_use"):
            self._servers[index] = _ServerTool(
                get_str(block, "id"), get_str(block, "name"), block.get("input")
            )

    def _block_delta(self, payload: dict[str, Any]) -> None:
        index, delta, kind = self._block(payload, "delta")
        if self._block_text(kind, delta, "_delta") or kind != "input_json_delta":
            return
        text = get_str(delta, "partial_json")
        entry = self._calls.get(index)
        if entry is not None:
            if text:
                self._stream_args(entry[0], text)
        elif index in self._servers:
            self._servers[index].parts.append(text or "")
        else:
            raise SchemaError(f"input_json_delta for block {index}, not an open tool_use")

    def _block_stop(self, index: int) -> None:
        entry = self._calls.pop(index, None)
        if entry is not None:
            call, start_input = entry
            if call.body.scanner.size == 0 and isinstance(start_input, dict) and start_input:
                # No fragments: the input came whole with the start (some proxies).
                self._args(call, json.dumps(start_input, ensure_ascii=False))
            self._end_call(call)
            return
        server = self._servers.pop(index, None)
        if server is not None:
            text = "".join(server.parts)
            arguments = server.input if server.input is not None else {}
            if text.strip():
                try:
                    arguments = json.loads(text)
                except ValueError as exc:
                    self._error(ErrorCode.INVALID_JSON, f"{server.name} input is not JSON ({exc})")
                    return
            self._provider_call(server.id, server.name, arguments)


def _index(payload: dict[str, Any]) -> int:
    index = get_int(payload, "index")
    if index is None:
        raise SchemaError("a content block event without an index")
    return index
