# ruff: noqa: RUF001, RUF002  (the fullwidth bar U+FF5C is part of DeepSeek's tokens)
"""Renderers of DeepSeek's formats: ``deepseek-v3`` and ``deepseek-r1`` (fenced JSON
calls), ``deepseek-v3.1`` (``NAME<｜tool▁sep｜>{json}``), ``deepseek-v3.2`` and
``deepseek-v4`` (DSML blocks).

One family because the first three share the fullwidth special tokens of the call
section and of the results (``<｜tool▁output▁begin｜>``, after which the model
continues: no new ``<｜Assistant｜>``), and the last two are one syntax with two
block names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .renderer_base import Renderer, ToolResult, json_text

__all__ = [
    "DeepSeekR1Renderer",
    "DeepSeekV3Renderer",
    "DeepSeekV4Renderer",
    "DeepSeekV31Renderer",
    "DeepSeekV32Renderer",
]

_V3_BEGIN = "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>"
_V3_END = "<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜>"
_OUTPUT = ("<｜tool▁output▁begin｜>", "<｜tool▁output▁end｜>")


class DeepSeekV3Renderer(Renderer):
    """``deepseek-v3`` and ``deepseek-r1``: fenced JSON calls; results inside
    ``<｜tool▁outputs▁begin｜>``, one per line, after which the model continues (no
    new ``<｜Assistant｜>``)."""

    format = "deepseek-v3"
    end_of_turn = "<｜end▁of▁sentence｜>"
    closer = "\n```" + _V3_END
    result_frame = _OUTPUT
    results_frame = ("<｜tool▁outputs▁begin｜>", "<｜tool▁outputs▁end｜>")

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        return (
            f"{_V3_BEGIN}function<｜tool▁sep｜>{name}\n```json\n{json_text(arguments)}\n```"
            "<｜tool▁call▁end｜><｜tool▁calls▁end｜>"
        )

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        sep = "\n" if position else ""
        return sep + super().render_result(result, position=position, text=text)


class DeepSeekR1Renderer(DeepSeekV3Renderer):
    format = "deepseek-r1"


class DeepSeekV31Renderer(Renderer):
    """``deepseek-v3.1``: ``NAME<｜tool▁sep｜>{json}`` calls; each result is one
    ``<｜tool▁output▁begin｜>`` block, after which the model continues."""

    format = "deepseek-v3.1"
    end_of_turn = "<｜end▁of▁sentence｜>"
    closer = _V3_END
    result_frame = _OUTPUT

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        return (
            f"{_V3_BEGIN}{name}<｜tool▁sep｜>{json_text(arguments)}"
            "<｜tool▁call▁end｜><｜tool▁calls▁end｜>"
        )


class DeepSeekV32Renderer(Renderer):
    """``deepseek-v3.2`` (DeepSeek's ``encoding_dsv32``): a DSML block after ``\\n\\n``,
    strings raw with ``string="true"``, other values JSON with ``string="false"``;
    the results in one ``<function_results>`` block, then the next turn in
    non-thinking mode (``</think>``: the output starts in content)."""

    format = "deepseek-v3.2"
    block = "function_calls"
    end_of_turn = "<｜end▁of▁sentence｜>"
    generation_prompt = "\n\n</think>"
    result_frame = ("<result>", "</result>\n")
    results_frame = ("<function_results>\n", "</function_results>")

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


class DeepSeekV4Renderer(DeepSeekV32Renderer):
    """``deepseek-v4``: V3.2's DSML with the block named ``tool_calls``."""

    format = "deepseek-v4"
    block = "tool_calls"
