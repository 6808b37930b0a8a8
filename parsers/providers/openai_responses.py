"""OpenAI Responses API streams (SSE, one ``event:`` per payload ``type``), also from
Azure, LM Studio, DeepSeek and the GitHub Copilot proxy.

Schema read: output items keyed by ``output_index``.  ``function_call`` items are
client calls (id: the item's ``call_id``, not its ``fc_`` item id): started by
``response.output_item.added``, streamed by ``response.function_call_arguments.delta``,
ended by ``...arguments.done`` or ``response.output_item.done`` (whose full
``arguments`` are used only when no fragment came).  Hosted tools (``web_search_call``,
``file_search_call``, ``code_interpreter_call``, ``image_generation_call``,
``mcp_call`` and other ``*_call`` items the client does not run) are one
``provider_tool_call`` at their ``output_item.done``, with the item's fields (less id,
type, status) as arguments.  Text: ``response.output_text.delta`` and
``response.refusal.delta``; reasoning: ``response.reasoning_summary_text.delta`` and
``response.reasoning_text.delta``.

End: ``response.completed`` (raw reason: the response's ``status``),
``response.incomplete`` (``incomplete_details.reason``: ``max_output_tokens`` is
length), ``response.failed`` (an error, unless an ``error`` event already reported
it, then finish ``error``).  Usage is the final response's ``usage``.
"""

from __future__ import annotations

from typing import Any

from ..framing.sse import Frame
from .base import ProviderParser
from .calls import ClientCall
from .schema import SchemaError, get_dict, get_int, get_str

__all__ = ["OpenAIResponsesParser"]

_CLIENT_ITEMS = frozenset(
    (
        "function_call",
        "custom_tool_call",
        "computer_call",
        "local_shell_call",
        "shell_call",
        "apply_patch_call",
    )
)
"""``*_call`` items the client runs.  Only ``function_call`` has JSON arguments; the
others (free-form or action objects) are outside the event vocabulary and skipped."""

_INCOMPLETE = {"max_output_tokens": "length", "content_filter": "content_filter"}

_TEXT = frozenset(("response.output_text.delta", "response.refusal.delta"))
_REASONING = frozenset(("response.reasoning_summary_text.delta", "response.reasoning_text.delta"))


class OpenAIResponsesParser(ProviderParser):
    name = "openai-responses"
    description = "OpenAI Responses API SSE events"
    models = "OpenAI, Azure OpenAI, LM Studio, DeepSeek, GitHub Copilot proxy"
    event_names = True

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._items: dict[int, ClientCall] = {}

    def _payload(self, payload: dict[str, Any], frame: Frame) -> None:
        kind = get_str(payload, "type") or frame.event
        if kind in _TEXT:
            self._text("text", get_str(payload, "delta"))
        elif kind in _REASONING:
            self._text("reasoning", get_str(payload, "delta"))
        elif kind == "response.function_call_arguments.delta":
            call = self._item(payload)
            text = get_str(payload, "delta")
            if text:
                self._stream_args(call, text)
        elif kind == "response.function_call_arguments.done":
            self._end_item(self._item(payload), get_str(payload, "arguments"))
        elif kind == "response.output_item.added":
            item = _item_of(payload)
            if get_str(item, "type") == "function_call":
                call = self._open_call(get_str(item, "call_id"), get_str(item, "name"))
                self._items[_output_index(payload)] = call
                self._args(call, get_str(item, "arguments"))
        elif kind == "response.output_item.done":
            self._item_done(payload)
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            self._response_end(kind, get_dict(payload, "response") or {})
        elif kind == "error":
            self._provider_error(payload)

    def _item(self, payload: dict[str, Any]) -> ClientCall:
        index = _output_index(payload)
        call = self._items.get(index)
        if call is None:
            raise SchemaError(f"arguments for output item {index}, not an open function_call")
        return call

    def _end_item(self, call: ClientCall, arguments: str | None) -> None:
        if call.body.scanner.size == 0 and not call.done:
            self._args(call, arguments)  # no fragment came: the full text
        self._end_call(call)

    def _item_done(self, payload: dict[str, Any]) -> None:
        item = _item_of(payload)
        kind = get_str(item, "type") or ""
        if kind == "function_call":
            index = _output_index(payload)
            call = self._items.get(index)
            if call is None:  # a server that sends only the finished item
                call = self._items[index] = self._open_call(
                    get_str(item, "call_id"), get_str(item, "name")
                )
            self._end_item(call, get_str(item, "arguments"))
        elif kind.endswith("_call") and kind not in _CLIENT_ITEMS:
            arguments = {k: v for k, v in item.items() if k not in ("id", "type", "status")}
            self._provider_call(get_str(item, "id"), kind[: -len("_call")], arguments)

    def _response_end(self, kind: str, response: dict[str, Any]) -> None:
        self._set_usage(get_dict(response, "usage"))
        status = get_str(response, "status")
        if kind == "response.completed":
            self._set_reason(status or "completed", "stop")
        elif kind == "response.incomplete":
            details = get_dict(response, "incomplete_details") or {}
            reason = get_str(details, "reason") or status or "incomplete"
            self._set_reason(reason, _INCOMPLETE.get(reason, "other"))
        else:
            if not self._provider_failed:
                error = get_dict(response, "error")
                self._provider_error(error if error is not None else response)
            self._set_reason(status or "failed", "error")
        self._finish()


def _item_of(payload: dict[str, Any]) -> dict[str, Any]:
    item = get_dict(payload, "item")
    if item is None:
        raise SchemaError("an output item event without its item")
    return item


def _output_index(payload: dict[str, Any]) -> int:
    index = get_int(payload, "output_index")
    if index is None:
        raise SchemaError("an output item event without an output_index")
    return index
