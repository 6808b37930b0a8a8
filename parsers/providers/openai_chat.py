"""OpenAI Chat Completions streams (``chat.completion.chunk`` over SSE), and the many
vendors that copy the schema: Azure, DeepSeek, Groq, OpenRouter, Qwen, Mistral, z.ai,
vLLM, llama.cpp, LM Studio.

Schema read: ``choices[0].delta`` carries ``reasoning_content`` (DeepSeek, Qwen) or
``reasoning`` (Groq, OpenRouter) — the first non-empty of the two, as some servers
send both with the same text —, ``content`` (a string, or Mistral's list of text and
thinking parts), ``refusal`` (shown as text) and ``tool_calls`` (plus the legacy
``function_call``).  ``choices[0].finish_reason`` ends every open call; the last
non-null ``usage`` (top level, else Groq's ``x_groq.usage``) is the usage; a
top-level ``error`` object is an in-band error; ``data: [DONE]`` ends the response.
Only choice 0 is read (``n`` > 1 streams carry other choices; they are ignored).

Tool-call identity: an entry's ``index`` names its call; without an index its
non-empty ``id`` does; without either, the entry continues the most recent call, unless
it brings a name that call cannot take (it is complete, or named otherwise), which
opens a new one.  Empty-string ids and names on continuations are ignored.  An index
reused with a different non-empty id starts a new call (some servers number every
parallel call 0); the call it replaces is over.  Entries of one chunk are applied in
order, so several fragments of one call in one chunk are merged.
"""

from __future__ import annotations

import json
from typing import Any

from ..framing.sse import Frame
from .base import ProviderParser
from .calls import ClientCall
from .schema import SchemaError, get_dict, get_str

__all__ = ["OpenAIChatParser"]

FINISH_REASONS = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
    "error": "error",
}
"""Raw ``finish_reason`` -> normalised; anything else is ``other``."""


class OpenAIChatParser(ProviderParser):
    name = "openai-chat"
    description = "OpenAI Chat Completions SSE chunks, and the vendors that copy them"
    models = "OpenAI, Azure, DeepSeek, Groq, OpenRouter, Qwen, Mistral, z.ai, vLLM, llama.cpp"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._by_index: dict[int, ClientCall] = {}
        self._by_id: dict[str, ClientCall] = {}
        self._last: ClientCall | None = None

    def _payload(self, payload: dict[str, Any], frame: Frame) -> None:
        # Fast path: the chunk a long argument streams as, thousands of times --
        # one choice whose delta is one argument fragment for a known call.
        choices = payload.get("choices")
        if (
            type(choices) is list
            and len(choices) == 1
            and payload.get("usage") is None
            and payload.get("error") is None
            and "x_groq" not in payload
        ):
            choice = choices[0]
            if (
                type(choice) is dict
                and not choice.get("finish_reason")
                and choice.get("index", 0) in (0, None)
            ):
                delta = choice.get("delta")
                if type(delta) is dict and len(delta) == 1:
                    entries = delta.get("tool_calls")
                    if (
                        type(entries) is list
                        and len(entries) == 1
                        and type(entries[0]) is dict
                        and self._fragment(entries[0])
                    ):
                        return
        self._general(payload)

    def _fragment(self, entry: dict[str, Any]) -> bool:
        """An entry that only continues a known call, taken without the general
        path's identity rules (it meets them all trivially); False, having done
        nothing, for any other entry."""
        index = entry.get("index")
        if type(index) is not int:
            return False
        call = self._by_index.get(index)
        if call is None:
            return False
        body = call.body
        call_id = entry.get("id")
        if call_id and call_id != body.id:
            return False
        function = entry.get("function")
        if type(function) is not dict:
            return False
        text = function.get("arguments")
        name = function.get("name")
        if (name and name != body.name) or (text is not None and type(text) is not str):
            return False
        self._last = call
        if text:
            self._stream_args(call, text)
        return True

    def _general(self, payload: dict[str, Any]) -> None:
        # Plain dict reads with type checks only on what is present.
        if payload.get("error") is not None:
            self._provider_error(payload)
        usage = payload.get("usage")
        if usage is None and "x_groq" in payload:
            groq = get_dict(payload, "x_groq")
            usage = groq.get("usage") if groq else None
        if usage is not None:
            self._set_usage(_dict(usage, "usage"))
        choices = payload.get("choices")
        if not choices:
            return
        if type(choices) is not list:
            raise SchemaError("'choices' is not an array")
        for choice in choices:
            if type(choice) is not dict:
                raise SchemaError("a choice is not an object")
            if choice.get("index", 0) not in (0, None):
                continue
            delta = choice.get("delta")
            if delta:
                self._delta(_dict(delta, "delta"))
            reason = choice.get("finish_reason")
            if reason:
                reason = _str(reason, "finish_reason")
                normalised = FINISH_REASONS.get(reason, "other")
                self._set_reason(reason, normalised)
                self._end_calls(cut=normalised == "length")

    def _delta(self, delta: dict[str, Any]) -> None:
        get = delta.get
        reasoning = get("reasoning_content") or get("reasoning")
        if reasoning:
            self._text("reasoning", _str(reasoning, "reasoning"))
        content = get("content")
        if content:
            if type(content) is list:
                self._parts(content)
            else:
                self._text("text", _str(content, "content"))
        refusal = get("refusal")
        if refusal:
            self._text("text", _str(refusal, "refusal"))
        entries = get("tool_calls")
        if entries:
            if type(entries) is not list:
                raise SchemaError("'tool_calls' is not an array")
            for entry in entries:
                if type(entry) is not dict:
                    raise SchemaError("a tool_calls entry is not an object")
                self._entry(entry)
        legacy = get("function_call")
        if legacy:
            self._entry({"function": _dict(legacy, "function_call")})

    def _parts(self, parts: list[Any]) -> None:
        """Mistral's content parts: ``text`` parts, and ``thinking`` parts whose
        ``thinking`` is a string or a list of text parts."""
        for part in parts:
            if not isinstance(part, dict):
                raise SchemaError("a content part is not an object")
            kind = get_str(part, "type")
            if kind == "text":
                self._text("text", get_str(part, "text"))
            elif kind == "thinking":
                thinking = part.get("thinking")
                if isinstance(thinking, list):
                    for inner in thinking:
                        if isinstance(inner, dict):
                            self._text("reasoning", get_str(inner, "text"))
                else:
                    self._text("reasoning", get_str(part, "thinking"))

    def _entry(self, entry: dict[str, Any]) -> None:
        index = entry.get("index")
        if index is not None and type(index) is not int:
            raise SchemaError("'index' is not an integer")
        call_id = entry.get("id") or None
        if call_id is not None:
            call_id = _str(call_id, "id")
        function = entry.get("function")
        function = _dict(function, "function") if function is not None else {}
        name = function.get("name") or None
        if name is not None:
            name = _str(name, "name")
        arguments = function.get("arguments")
        if arguments is not None and type(arguments) is not str:
            if not isinstance(arguments, dict):  # a few servers send the object itself
                raise SchemaError("'arguments' is not a string")
            arguments = json.dumps(arguments, ensure_ascii=False)
        call: ClientCall | None
        if index is not None:
            call = self._by_index.get(index)
            if call is not None and call_id and call_id != call.body.id:
                self._end_call(call)  # the index now names another call
                call = None
        elif call_id:
            call = self._by_id.get(call_id)
        else:
            last = self._last
            fresh = name and (
                last is None
                or last.done
                or last.dead
                or (last.body.name is not None and last.body.name != name)
            )
            call = None if fresh else last
        if call is None:
            call = self._open_call(call_id, name)
            if index is not None:
                self._by_index[index] = call
            if call_id:
                self._by_id[call_id] = call
        else:
            self._name(call, name)
        self._last = call
        self._args(call, arguments)


def _str(value: Any, key: str) -> str:
    if type(value) is not str:
        raise SchemaError(f"{key!r} is not a string")
    return value


def _dict(value: Any, key: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise SchemaError(f"{key!r} is not an object")
    return value
