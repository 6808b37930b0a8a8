"""Ollama streams (NDJSON): ``/api/chat`` and ``/api/generate``.

Schema read (Ollama's API docs): each line is one object; ``message.thinking`` /
``message.content`` (``/api/chat``) or ``thinking`` / ``response`` (``/api/generate``)
carry reasoning and text; ``message.tool_calls`` entries come whole
(``function.name`` and ``function.arguments``, an object; ``id`` where the server
sends one, else ``call_<index>``), so each completes in its line.  The line with
``done: true`` ends the response: ``done_reason`` (missing in older servers: a normal
stop) and, as usage, its counters (``prompt_eval_count``, ``eval_count`` and the
durations).  A line ``{"error": ...}`` is an in-band error.
"""

from __future__ import annotations

import json
from typing import Any

from ..framing.sse import Frame
from .base import ProviderParser
from .schema import SchemaError, get_dict, get_list, get_str

__all__ = ["OllamaParser"]

USAGE_KEYS = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)
"""The fields of the final line that make up its usage object."""

FINISH_REASONS = {"stop": "stop", "length": "length"}
"""Raw ``done_reason`` -> normalised; anything else (``load``, ``unload``) is ``other``."""


class OllamaParser(ProviderParser):
    name = "ollama"
    description = "Ollama /api/chat and /api/generate NDJSON streams"
    models = "any model served by Ollama"
    framing = "ndjson"

    def _payload(self, payload: dict[str, Any], frame: Frame) -> None:
        if payload.get("error") is not None:
            self._provider_error(payload)
            return
        message = get_dict(payload, "message")
        if message is not None:
            self._text("reasoning", get_str(message, "thinking"))
            self._text("text", get_str(message, "content"))
            for entry in get_list(message, "tool_calls") or ():
                if not isinstance(entry, dict):
                    raise SchemaError("a tool_calls entry is not an object")
                self._tool_call(entry)
        else:
            self._text("reasoning", get_str(payload, "thinking"))
            self._text("text", get_str(payload, "response"))
        if payload.get("done") is True:
            reason = get_str(payload, "done_reason")
            self._set_reason(reason, FINISH_REASONS.get(reason, "other") if reason else "stop")
            usage = {key: payload[key] for key in USAGE_KEYS if key in payload}
            self._set_usage(usage or None)
            self._finish()

    def _tool_call(self, entry: dict[str, Any]) -> None:
        function = get_dict(entry, "function")
        if function is None:
            raise SchemaError("a tool call without a function")
        arguments = function.get("arguments")
        if isinstance(arguments, dict):
            text = json.dumps(arguments, ensure_ascii=False)
        elif isinstance(arguments, str) or arguments is None:
            text = arguments or ""
        else:
            raise SchemaError("'arguments' is not an object")
        call = self._open_call(get_str(entry, "id"), get_str(function, "name"))
        self._args(call, text)
        self._end_call(call)
