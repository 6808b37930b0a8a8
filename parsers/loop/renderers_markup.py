# ruff: noqa: RUF001  (the fullwidth bar U+FF5C is part of DeepSeek's tokens)
"""Renderers of the formats whose arguments are markup or literals, not one JSON text:
``qwen3-coder``'s ``<parameter=…>`` values, Python calls (``llama4-pythonic``), GLM's
``<arg_key>``/``<arg_value>``, DSML parameters (DeepSeek V3.2/V4), Gemma's object
notation and ``kimi-k3``'s typed arguments.  Each writes a value so that the format's
parser reads back the same value (raw strings stay raw, the rest is JSON or the
format's own literal)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .renderer_base import Renderer, ToolResult, json_text


def _raw_value(value: Any) -> str:
    """qwen3-coder writes strings raw and everything else as JSON text."""
    return value if isinstance(value, str) else json_text(value)


class Qwen3CoderRenderer(Renderer):
    """``qwen3-coder`` (Qwen3-Coder template): XML-ish calls with raw values; results
    are ``<tool_response>`` blocks in one user turn."""

    format = "qwen3-coder"
    end_of_turn = "<|im_end|>\n"
    generation_prompt = "<|im_start|>assistant\n"

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        params = "".join(
            f"<parameter={key}>\n{_raw_value(value)}\n</parameter>\n"
            for key, value in arguments.items()
        )
        return f"<tool_call>\n<function={name}>\n{params}</function>\n</tool_call>"

    def close_calls(self, text: str) -> str:
        # The call completes at the ">" of </function>: only the block closer is left.
        return "\n</tool_call><|im_end|>\n"

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        return f"<tool_response>\n{result.content}\n</tool_response>\n"

    def _wrap_results(self, body: str) -> str:
        return f"<|im_start|>user\n{body}<|im_end|>\n"


class Llama4PythonicRenderer(Renderer):
    """``llama4-pythonic``: ``[name(k=literal)]`` call lists; the cut falls at a call's
    ``)``, so the list's ``]`` (and ``<|python_end|>`` when it was opened) is added;
    each result is an ``ipython`` message."""

    format = "llama4-pythonic"
    end_of_turn = "<|eot|>"
    generation_prompt = "<|header_start|>assistant<|header_end|>\n\n"

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        # repr() of JSON values (str, int, float, bool, None, list, dict) is exactly
        # the Python-literal language the format's argument parser reads.
        args = ", ".join(f"{key}={value!r}" for key, value in arguments.items())
        return f"[{name}({args})]"

    def close_calls(self, text: str) -> str:
        opened = text.rfind("<|python_start|>") > text.rfind("<|python_end|>")
        return "]" + ("<|python_end|>" if opened else "") + "<|eot|>"

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        return f"<|header_start|>ipython<|header_end|>\n\n{result.content}<|eot|>"


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

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        sep = self.sep
        pairs = "".join(
            f"{sep}<arg_key>{key}</arg_key>{sep}<arg_value>{_raw_value(value)}</arg_value>"
            for key, value in arguments.items()
        )
        return f"<tool_call>{name}{pairs}{sep}</tool_call>"

    def close_calls(self, text: str) -> str:
        return ""

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        sep = self.sep
        return f"{sep}<tool_response>{sep}{result.content}{sep}</tool_response>"

    def _wrap_results(self, body: str) -> str:
        return "<|observation|>" + body


class Glm47Renderer(Glm45Renderer):
    """``glm-4.7`` (GLM-4.7/5.x template): the compact style; the next turn is opened
    with thinking off (``</think>``), so the output starts in content."""

    format = "glm-4.7"
    generation_prompt = "<|assistant|></think>"
    sep = ""


class DeepSeekV32Renderer(Renderer):
    """``deepseek-v3.2`` (DeepSeek's ``encoding_dsv32``): a DSML block after ``\\n\\n``,
    strings raw with ``string="true"``, other values JSON with ``string="false"``;
    the results in one ``<function_results>`` block, then the next turn in
    non-thinking mode (``</think>``: the output starts in content)."""

    format = "deepseek-v3.2"
    block = "function_calls"
    end_of_turn = "<｜end▁of▁sentence｜>"
    generation_prompt = "\n\n</think>"

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        params = "".join(
            f'<｜DSML｜parameter name="{key}" string="true">{value}</｜DSML｜parameter>\n'
            if isinstance(value, str)
            else f'<｜DSML｜parameter name="{key}" string="false">{json_text(value)}'
            "</｜DSML｜parameter>\n"
            for key, value in arguments.items()
        )
        return (
            f'\n\n<｜DSML｜{self.block}>\n<｜DSML｜invoke name="{name}">\n'
            f"{params or chr(10)}</｜DSML｜invoke>\n</｜DSML｜{self.block}>"
        )

    def close_calls(self, text: str) -> str:
        # The call completes at the ">" of the invoke closer: the block is still open.
        return f"\n</｜DSML｜{self.block}>{self.end_of_turn}"

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        return f"<result>{result.content}</result>\n"

    def _wrap_results(self, body: str) -> str:
        return f"<function_results>\n{body}</function_results>"


class DeepSeekV4Renderer(DeepSeekV32Renderer):
    """``deepseek-v4``: V3.2's DSML with the block named ``tool_calls``."""

    format = "deepseek-v4"
    block = "tool_calls"


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

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        return f"<|tool_call>call:{name}{_gemma_value(arguments)}<tool_call|>"

    def close_calls(self, text: str) -> str:
        return "<tool_call|>"

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
    opener, and the model writes its think or response element itself."""

    format = "kimi-k3"
    end_of_turn = "<|end_of_msg|>"
    generation_prompt = '<|open|>message role="assistant"<|sep|>'

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        args = "".join(_k3_argument(key, value) for key, value in arguments.items())
        return (
            "<|open|>response<|sep|><|close|>response<|sep|><|open|>tools<|sep|>"
            f'<|open|>call tool="{_k3_attr(name)}" index="1"<|sep|>{args}'
            "<|close|>call<|sep|><|close|>tools<|sep|>"
        )

    def render_answer(self, text: str) -> str:
        return f"<|open|>response<|sep|>{text}<|close|>response<|sep|>"

    def close_calls(self, text: str) -> str:
        # The call completes at the last ">" of <|close|>call<|sep|>.
        return "<|close|>tools<|sep|><|close|>message<|sep|>" + self.end_of_turn

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        return (
            f'<|open|>message role="tool" index="{position + 1}"<|sep|>{result.content}'
            "<|close|>message<|sep|><|end_of_msg|>"
        )
