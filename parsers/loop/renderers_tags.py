"""Renderers of the formats whose calls are ``<tool_call>`` elements: ``tags``,
``hermes`` and ``qwen3-coder`` (Qwen's templates), ``glm-4.5`` and ``glm-4.7``.

They are one family because they share the markup (a call is a ``<tool_call>``
element, a result a ``<tool_response>``-like element) and differ only in the turn
around the results (Qwen's user turn, GLM's ``<|observation|>``, none for ``tags``)
and in how a call holds its arguments (JSON, or qwen3-coder's and GLM's raw string
values).  ``tags`` has no template: its result syntax
``<tool_result name="NAME" id="ID">...</tool_result>`` is a project decision,
documented in the README.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from .renderer_base import Renderer, ToolResult, json_text, raw_value

__all__ = [
    "Glm45Renderer",
    "Glm47Renderer",
    "HermesRenderer",
    "Qwen3CoderRenderer",
    "TagsRenderer",
]


class TagsRenderer(Renderer):
    """``tags``: results as ``<tool_result>`` elements right after the call (no turns:
    the format has no chat template, so the model simply continues)."""

    format = "tags"
    closer = "</tool_call>"
    results_frame = ("", "\n")

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        return f"<tool_call>{json_text({'name': name, 'arguments': arguments})}</tool_call>"

    def render_answer(self, text: str) -> str:
        return f"<final_answer>{text}</final_answer>"

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        name = html.escape(result.call.name or "", quote=True)
        call_id = html.escape(result.call.id, quote=True)
        return f'\n<tool_result name="{name}" id="{call_id}">{result.content}</tool_result>'


class HermesRenderer(Renderer):
    """``hermes`` (Qwen2.5/3 template): results are ``<tool_response>`` blocks, all of
    one round in one user turn."""

    format = "hermes"
    end_of_turn = "<|im_end|>\n"
    generation_prompt = "<|im_start|>assistant\n"
    closer = "\n</tool_call><|im_end|>\n"
    result_frame = ("\n<tool_response>\n", "\n</tool_response>")
    results_frame = ("<|im_start|>user", "<|im_end|>\n")

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        return f"<tool_call>\n{json_text({'name': name, 'arguments': arguments})}\n</tool_call>"


class Qwen3CoderRenderer(HermesRenderer):
    """``qwen3-coder`` (Qwen3-Coder template): Hermes's turns and closer (the call
    completes at the ``>`` of ``</function>``: only the block closer is left) with
    XML-ish calls holding raw values; the ``<tool_response>`` blocks of one user turn
    are laid out one per line."""

    format = "qwen3-coder"
    result_frame = ("<tool_response>\n", "\n</tool_response>\n")
    results_frame = ("<|im_start|>user\n", "<|im_end|>\n")

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        params = "".join(
            f"<parameter={key}>\n{raw_value(value)}\n</parameter>\n"
            for key, value in arguments.items()
        )
        return f"<tool_call>\n<function={name}>\n{params}</function>\n</tool_call>"


class Glm45Renderer(Renderer):
    """``glm-4.5`` (GLM-4.5/4.6 template): ``<tool_call>NAME`` with one
    ``<arg_key>``/``<arg_value>`` pair per line, raw strings and JSON for the rest; the
    call completes at ``</tool_call>``, so nothing closes the turn but the
    ``<|observation|>`` that opens the tool turn, with one ``<tool_response>`` per
    result."""

    format = "glm-4.5"
    generation_prompt = "<|assistant|>"
    sep = "\n"
    """The template's newline between elements (none in the compact style)."""
    closer = ""
    result_frame = ("\n<tool_response>\n", "\n</tool_response>")
    results_frame = ("<|observation|>", "")

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        sep = self.sep
        pairs = "".join(
            f"{sep}<arg_key>{key}</arg_key>{sep}<arg_value>{raw_value(value)}</arg_value>"
            for key, value in arguments.items()
        )
        return f"<tool_call>{name}{pairs}{sep}</tool_call>"


class Glm47Renderer(Glm45Renderer):
    """``glm-4.7`` (GLM-4.7/5.x template): the compact style; the next turn is opened
    with thinking off (``</think>``), so the output starts in content."""

    format = "glm-4.7"
    generation_prompt = "<|assistant|></think>"
    sep = ""
    result_frame = ("<tool_response>", "</tool_response>")
