# ruff: noqa: RUF001, RUF002  (the fullwidth bar U+FF5C is part of DeepSeek's tokens)
"""Tool calls and tool results written in each text format's own syntax.

The tool loop stops the model just past a call's completing character (``span[1]``),
so the call's closing markup (``</tool_call>``, ``<|call|>``, the end-of-turn token)
was never kept; then the tool's result must reach the model in the turn syntax its
chat template would have rendered.  A ``Renderer`` supplies the three pieces the loop
appends to the prompt, in order:

1. ``close_calls(text)``: the markup that ends the cut assistant turn (the call's
   closer, a section closer, the end-of-turn token);
2. ``render_results(results)``: one tool turn per result (hermes
   ``<tool_response>``, harmony ``functions.NAME to=assistant`` messages, ...);
3. ``generation_prompt``: the header of the next assistant turn (already the tail of
   ``render_results``).  ``prime`` is the part of that tail which changes the output
   parser's start state, passed as the next parser's ``generation_prompt``: only
   harmony's ``<|start|>assistant`` does (the output starts inside a header); for
   the others the tail is turn framing the parser never sees.

``render_call`` and ``render_answer`` write the model's side (a whole call, a final
answer) the way the format's template renders history; the tests check that every
rendered call parses back, with the same parser, to the same name and arguments, and
the scripted models of the demo and the tests are built from them.

The syntaxes follow the chat templates summarised in FORMATS.md (prompt side:
Qwen's ``<tool_response>`` user turns, Llama's ``ipython`` role, DeepSeek's
``<｜tool▁output▁begin｜>``, Mistral's ``[TOOL_RESULTS]``).  ``tags`` has no template:
its result syntax ``<tool_result name="NAME" id="ID">...</tool_result>`` is a project
decision, documented in the README.  Provider streams have no renderer: their
results go back through the provider's API as messages, not as text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from .renderer_base import Renderer, ToolResult, json_text
from .renderers_markup import (
    DeepSeekV4Renderer,
    DeepSeekV32Renderer,
    Gemma4Renderer,
    Glm45Renderer,
    Glm47Renderer,
    KimiK3Renderer,
    Llama4PythonicRenderer,
    Qwen3CoderRenderer,
)

__all__ = ["Renderer", "ToolResult", "renderer", "renderer_formats"]


class TagsRenderer(Renderer):
    """``tags``: results as ``<tool_result>`` elements right after the call (no turns:
    the format has no chat template, so the model simply continues)."""

    format = "tags"

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        return f"<tool_call>{json_text({'name': name, 'arguments': arguments})}</tool_call>"

    def render_answer(self, text: str) -> str:
        return f"<final_answer>{text}</final_answer>"

    def close_calls(self, text: str) -> str:
        return "</tool_call>"

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        name = html.escape(result.call.name or "", quote=True)
        call_id = html.escape(result.call.id, quote=True)
        return f'\n<tool_result name="{name}" id="{call_id}">{result.content}</tool_result>'

    def _wrap_results(self, body: str) -> str:
        return body + "\n"


class HermesRenderer(Renderer):
    """``hermes`` (Qwen2.5/3 template): results are ``<tool_response>`` blocks, all of
    one round in one user turn."""

    format = "hermes"
    end_of_turn = "<|im_end|>\n"
    generation_prompt = "<|im_start|>assistant\n"

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        return f"<tool_call>\n{json_text({'name': name, 'arguments': arguments})}\n</tool_call>"

    def close_calls(self, text: str) -> str:
        return "\n</tool_call><|im_end|>\n"

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        return f"\n<tool_response>\n{result.content}\n</tool_response>"

    def _wrap_results(self, body: str) -> str:
        return f"<|im_start|>user{body}<|im_end|>\n"


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


_V3_BEGIN = "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>"
_V3_END = "<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜>"


class DeepSeekV3Renderer(Renderer):
    """``deepseek-v3`` and ``deepseek-r1``: fenced JSON calls; results inside
    ``<｜tool▁outputs▁begin｜>``, after which the model continues (no new
    ``<｜Assistant｜>``)."""

    format = "deepseek-v3"
    end_of_turn = "<｜end▁of▁sentence｜>"

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        return (
            f"{_V3_BEGIN}function<｜tool▁sep｜>{name}\n```json\n{json_text(arguments)}\n```"
            "<｜tool▁call▁end｜><｜tool▁calls▁end｜>"
        )

    def close_calls(self, text: str) -> str:
        return "\n```" + _V3_END

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        sep = "\n" if position else ""
        return f"{sep}<｜tool▁output▁begin｜>{result.content}<｜tool▁output▁end｜>"

    def _wrap_results(self, body: str) -> str:
        return f"<｜tool▁outputs▁begin｜>{body}<｜tool▁outputs▁end｜>"


class DeepSeekR1Renderer(DeepSeekV3Renderer):
    format = "deepseek-r1"


class DeepSeekV31Renderer(Renderer):
    """``deepseek-v3.1``: ``NAME<｜tool▁sep｜>{json}`` calls; each result is one
    ``<｜tool▁output▁begin｜>`` block, after which the model continues."""

    format = "deepseek-v3.1"
    end_of_turn = "<｜end▁of▁sentence｜>"

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        return (
            f"{_V3_BEGIN}{name}<｜tool▁sep｜>{json_text(arguments)}"
            "<｜tool▁call▁end｜><｜tool▁calls▁end｜>"
        )

    def close_calls(self, text: str) -> str:
        return _V3_END

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        return f"<｜tool▁output▁begin｜>{result.content}<｜tool▁output▁end｜>"


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

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        return json_text({"name": name, "parameters": arguments})

    def close_calls(self, text: str) -> str:
        return "<|eot_id|>"

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        return f"<|start_header_id|>ipython<|end_header_id|>\n\n{result.content}<|eot_id|>"


class KimiK2Renderer(Renderer):
    """``kimi-k2``: one section per call turn, ids ``functions.NAME:IDX`` counted over
    the conversation (this renderer's calls); each result is a ``tool`` message headed
    ``## Return of ID``."""

    format = "kimi-k2"
    end_of_turn = "<|im_end|>"
    generation_prompt = "<|im_assistant|>assistant<|im_middle|>"

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

    def close_calls(self, text: str) -> str:
        # The call completes at its "}": the call, the section and the turn are open.
        return "<|tool_call_end|><|tool_calls_section_end|><|im_end|>"

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        return (
            f"<|im_system|>tool<|im_middle|>## Return of {result.call.id}\n"
            f"{result.content}<|im_end|>"
        )


_RENDERERS: dict[str, type[Renderer]] = {
    cls.format: cls
    for cls in (
        TagsRenderer,
        HermesRenderer,
        Qwen3CoderRenderer,
        HarmonyRenderer,
        DeepSeekV3Renderer,
        DeepSeekR1Renderer,
        DeepSeekV31Renderer,
        MistralRenderer,
        Llama3JsonRenderer,
        Llama4PythonicRenderer,
        DeepSeekV32Renderer,
        DeepSeekV4Renderer,
        KimiK3Renderer,
        KimiK2Renderer,
        Glm45Renderer,
        Glm47Renderer,
        Gemma4Renderer,
    )
}


def renderer_formats() -> list[str]:
    """The registered format ids that have a renderer (the tool loop's formats)."""
    from ..registry import format_names

    known = set(format_names())
    return sorted(name for name in _RENDERERS if name in known)


def renderer(format: str) -> Renderer:
    """The renderer of a text format; ValueError for provider formats and unknown ids."""
    try:
        return _RENDERERS[format]()
    except KeyError:
        raise ValueError(
            f"no tool-result renderer for format {format!r} (provider streams send "
            f"results through their API); formats with one: {', '.join(renderer_formats())}"
        ) from None
