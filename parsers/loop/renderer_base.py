"""The renderer's interface and the tool result it renders (``renderers.py`` says
what a renderer supplies to the tool loop and why)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..events import Event, ToolCall

__all__ = ["Renderer", "ToolResult", "json_text"]


@dataclass(slots=True, kw_only=True)
class ToolResult(Event):
    """One executed call and its outcome: what the loop shows and renders."""

    type: ClassVar[str] = "tool_result"
    call: ToolCall
    """The call that was executed."""
    value: Any
    """What the tool returned (None when it failed)."""
    error: str | None
    """Why the call failed (exception, timeout, unknown tool), or None."""
    content: str
    """The text given to the model: a string value as is, any other value as JSON,
    an error as ``{"error": "..."}``."""

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "call": self.call.to_json(),
            "error": self.error,
            "content": self.content,
        }


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class Renderer:
    """The syntax of one text format's calls, turn ends and tool results."""

    format: ClassVar[str] = ""
    generation_prompt: ClassVar[str] = ""
    """The next assistant turn's header, the tail of ``render_results``."""
    prime: ClassVar[str | None] = None
    """What the next turn's parser is primed with (``generation_prompt=``), if the
    tail changes its start state."""
    end_of_turn: ClassVar[str] = ""
    """The stop token that ends ``close_calls`` (engines strip it from the output, so
    output parsers read it as text); empty where the closer is parsed markup."""

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        """A whole call as the model writes it (and the template renders it)."""
        raise NotImplementedError

    def render_answer(self, text: str) -> str:
        """A final answer as the model writes it: plain text in most formats."""
        return text

    def close_calls(self, text: str) -> str:
        """Markup that ends an assistant turn cut just past its last call.

        ``text`` is the turn's output as kept (up to the call's completing
        character), for formats whose closer depends on how the calls were opened.
        """
        raise NotImplementedError

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        """One result; ``position`` is its index among the results of the turn."""
        raise NotImplementedError

    def render_results(self, results: Sequence[ToolResult], *, text: str = "") -> str:
        """The tool turn(s) for one round of results, then ``generation_prompt``."""
        body = "".join(self.render_result(r, position=i, text=text) for i, r in enumerate(results))
        return self._wrap_results(body) + self.generation_prompt

    def _wrap_results(self, body: str) -> str:
        return body

    def continuation(self, text: str, results: Sequence[ToolResult]) -> str:
        """Everything the loop appends after the kept output of a call turn."""
        return self.close_calls(text) + self.render_results(results, text=text)
