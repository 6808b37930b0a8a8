"""Renderers of the formats whose results are messages of their own, opened by a
header of special tokens: ``harmony`` (a message from ``functions.NAME``),
``llama3-json`` and ``llama4-pythonic`` (``ipython`` messages), ``kimi-k2`` (``tool``
messages) and ``mistral`` (``[TOOL_RESULTS]`` blocks after the turn's ``</s>``).

One family because in each the cut turn is closed by the format's end token (the
model's ``<|call|>``, ``<|eot_id|>``, ``</s>``...) and each result stands alone,
with no tool turn around the round of results.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .renderer_base import Renderer, ToolResult, json_text

__all__ = [
    "HarmonyRenderer",
    "KimiK2Renderer",
    "Llama3JsonRenderer",
    "Llama4PythonicRenderer",
    "MistralRenderer",
]


class HarmonyRenderer(Renderer):
    """``harmony`` (gpt-oss): a call ends with ``<|call|>``; each result is a message
    from ``functions.NAME`` to the assistant on the commentary channel."""

    format = "harmony"
    generation_prompt = "<|start|>assistant"
    prime = "<|start|>assistant"

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        # Written after the generation prompt "<|start|>assistant".
        return (
            f"<|channel|>commentary to=functions.{name} <|constrain|>json<|message|>"
            f"{json_text(arguments)}<|call|>"
        )

    def render_answer(self, text: str) -> str:
        return f"<|channel|>final<|message|>{text}<|return|>"

    def close_calls(self, text: str) -> str:
        # A built-in python call completes at its own <|call|> (raw code has no
        # earlier end): nothing is left to close then.
        return "" if text.endswith("<|call|>") else "<|call|>"

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        # The result comes from the recipient: functions.NAME for the developer's
        # functions, the full name for built-ins (browser.search, python) and other
        # namespaces (math.sum).
        name = result.call.name or ""
        author = name if result.call.builtin or "." in name else f"functions.{name}"
        return (
            f"<|start|>{author} to=assistant<|channel|>commentary<|message|>{result.content}<|end|>"
        )


_MISTRAL_ARRAY = re.compile(r"\[TOOL_CALLS\][ \t\r\n]{0,16}\[")


class MistralRenderer(Renderer):
    """``mistral``: v11+ calls ``[TOOL_CALLS]NAME[ARGS]{json}``; results
    ``[TOOL_RESULTS]...[/TOOL_RESULTS]`` after the turn's ``</s>``.  A turn written in
    the v3 array style is closed with ``]`` and gets v3 results, a JSON object with
    ``content`` and ``call_id``."""

    format = "mistral"
    end_of_turn = "</s>"

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        return f"[TOOL_CALLS]{name}[ARGS]{json_text(arguments)}"

    @staticmethod
    def _array_style(text: str) -> bool:
        opener = text.rfind("[TOOL_CALLS]")
        return opener >= 0 and _MISTRAL_ARRAY.match(text, opener) is not None

    def close_calls(self, text: str) -> str:
        return ("]" if self._array_style(text) else "") + "</s>"

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        if self._array_style(text):
            body = json_text({"content": result.content, "call_id": result.call.id})
        else:
            body = result.content
        return f"[TOOL_RESULTS]{body}[/TOOL_RESULTS]"


class Llama3JsonRenderer(Renderer):
    """``llama3-json`` (Llama 3.1-3.3 template): a JSON call ends the turn with
    ``<|eot_id|>``; each result is an ``ipython`` message."""

    format = "llama3-json"
    end_of_turn = "<|eot_id|>"
    generation_prompt = "<|start_header_id|>assistant<|end_header_id|>\n\n"
    closer = "<|eot_id|>"
    result_frame = ("<|start_header_id|>ipython<|end_header_id|>\n\n", "<|eot_id|>")

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        return json_text({"name": name, "parameters": arguments})


class Llama4PythonicRenderer(Renderer):
    """``llama4-pythonic``: ``[name(k=literal)]`` call lists; the cut falls at a call's
    ``)``, so the list's ``]`` (and ``<|python_end|>`` when it was opened) is added;
    each result is an ``ipython`` message."""

    format = "llama4-pythonic"
    end_of_turn = "<|eot|>"
    generation_prompt = "<|header_start|>assistant<|header_end|>\n\n"
    result_frame = ("<|header_start|>ipython<|header_end|>\n\n", "<|eot|>")

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        # repr() of JSON values (str, int, float, bool, None, list, dict) is exactly
        # the Python-literal language the format's argument parser reads.
        args = ", ".join(f"{key}={value!r}" for key, value in arguments.items())
        return f"[{name}({args})]"

    def close_calls(self, text: str) -> str:
        opened = text.rfind("<|python_start|>") > text.rfind("<|python_end|>")
        return "]" + ("<|python_end|>" if opened else "") + "<|eot|>"


class KimiK2Renderer(Renderer):
    """``kimi-k2``: one section per call turn, ids ``functions.NAME:IDX`` counted over
    the conversation (this renderer's calls); each result is a ``tool`` message headed
    ``## Return of ID``.  The call completes at its ``}``: the call, the section and
    the turn are left to close."""

    format = "kimi-k2"
    end_of_turn = "<|im_end|>"
    generation_prompt = "<|im_assistant|>assistant<|im_middle|>"
    closer = "<|tool_call_end|><|tool_calls_section_end|><|im_end|>"

    def __init__(self) -> None:
        self._next_id = 0

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        call_id = f"functions.{name}:{self._next_id}"
        self._next_id += 1
        return (
            f"<|tool_calls_section_begin|><|tool_call_begin|>{call_id}"
            f"<|tool_call_argument_begin|>{json_text(arguments)}<|tool_call_end|>"
            "<|tool_calls_section_end|>"
        )

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        return (
            f"<|im_system|>tool<|im_middle|>## Return of {result.call.id}\n"
            f"{result.content}<|im_end|>"
        )
