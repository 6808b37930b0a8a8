"""Renderers of the formats whose arguments are written in a notation of their own,
with its encoder here: ``gemma4`` (Gemma's object notation, ``<|"|>`` strings and
bare keys) and ``kimi-k3`` (XTML ``argument`` elements typed one by one).

One family because the work of each is the value encoder that its chat template
applies to arguments (and, for Gemma, to the results too); the turn framing around
them is a few fixed strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .renderer_base import Renderer, ToolResult, json_text

__all__ = ["Gemma4Renderer", "KimiK3Renderer"]


def _gemma_value(value: Any) -> str:
    """A value in Gemma 4's object notation, as its template's ``format_argument``
    writes it: raw ``<|"|>`` strings, bare keys sorted case-insensitively (Jinja's
    ``dictsort``), numbers as Python ``str()``."""
    if isinstance(value, str):
        return f'<|"|>{value}<|"|>'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: str(kv[0]).lower())
        return "{" + ",".join(f"{_gemma_key(k)}:{_gemma_value(v)}" for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_gemma_value(v) for v in value) + "]"
    return str(value)


_GEMMA_KEY_CHAR = r':{}\[\],<"\x00-\x1f\x7f'
_GEMMA_BARE_KEY = re.compile(
    rf"[^\s{_GEMMA_KEY_CHAR}](?:[^{_GEMMA_KEY_CHAR}]*[^\s{_GEMMA_KEY_CHAR}])?"
)


def _gemma_key(key: Any) -> str:
    """Bare, as the template writes keys; a key bare text cannot hold (empty, with
    surrounding spaces or ``:`` and the like) in ``<|"|>``, the template's
    ``escape_keys`` form."""
    key = str(key)
    return key if _GEMMA_BARE_KEY.fullmatch(key) else f'<|"|>{key}<|"|>'


class Gemma4Renderer(Renderer):
    """``gemma4``: ``<|tool_call>call:NAME{...}<tool_call|>``; the cut falls at the
    object's ``}``, so ``<tool_call|>`` is added.  Results stay in the model's turn as
    ``<|tool_response>response:NAME{value:<|"|>...<|"|>}<tool_response|>`` and the
    model goes on in the same turn (no new header)."""

    format = "gemma4"
    closer = "<tool_call|>"

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        return f"<|tool_call>call:{name}{_gemma_value(arguments)}<tool_call|>"

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        name = result.call.name or ""
        return (
            f"<|tool_response>response:{name}{{value:{_gemma_value(result.content)}}}"
            "<tool_response|>"
        )


_K3_TYPES = {bool: "boolean", int: "number", float: "number", type(None): "null"}


def _k3_attr(text: str) -> str:
    """An XTML attribute value: ``&`` and ``"`` escaped, as the K3 encoder does."""
    return text.replace("&", "&amp;").replace('"', "&quot;")


def _k3_argument(key: str, value: Any) -> str:
    """One argument element: strings raw, other values JSON text with their type."""
    if isinstance(value, str):
        kind, body = "string", value
    else:
        kind = _K3_TYPES.get(type(value)) or ("object" if isinstance(value, dict) else "array")
        body = json_text(value)
    head = f'<|open|>argument key="{_k3_attr(key)}" type="{kind}"<|sep|>'
    return f"{head}{body}<|close|>argument<|sep|>"


class KimiK3Renderer(Renderer):
    """``kimi-k3``: an empty response element, then a tools element with one call;
    ``type="string"`` arguments raw, others JSON.  Each result is a ``tool`` message
    (its element layout after the call is not established: FORMATS.md 6.2 gives
    the assistant side only); the next turn starts with the assistant message
    opener, and the model writes its think or response element itself.  The call
    completes at the last ``>`` of ``<|close|>call<|sep|>``."""

    format = "kimi-k3"
    end_of_turn = "<|end_of_msg|>"
    generation_prompt = '<|open|>message role="assistant"<|sep|>'
    closer = "<|close|>tools<|sep|><|close|>message<|sep|>" + end_of_turn

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        args = "".join(_k3_argument(key, value) for key, value in arguments.items())
        return (
            "<|open|>response<|sep|><|close|>response<|sep|><|open|>tools<|sep|>"
            f'<|open|>call tool="{_k3_attr(name)}" index="1"<|sep|>{args}'
            "<|close|>call<|sep|><|close|>tools<|sep|>"
        )

    def render_answer(self, text: str) -> str:
        return f"<|open|>response<|sep|>{text}<|close|>response<|sep|>"

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        return (
            f'<|open|>message role="tool" index="{position + 1}"<|sep|>{result.content}'
            "<|close|>message<|sep|><|end_of_msg|>"
        )
