"""What a renderer is: the three pieces the tool loop appends after a cut turn, and
the ``ToolResult`` they render.

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

Most formats frame these pieces with fixed text: a closer that does not depend on
how the turn was written, each result's content between a fixed head and tail, a
round of results inside a fixed tool turn.  A renderer says so with ``closer``,
``result_frame`` and ``results_frame`` and writes methods only where a piece
depends on the call or the turn.  The formats' renderers live in one module per
family (``renderers_*``); ``renderers`` maps format ids to them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..events import Event, ToolCall

__all__ = ["Renderer", "ToolResult", "json_text", "raw_value"]


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
    """A value as JSON the way chat templates write it (``ensure_ascii`` off)."""
    return json.dumps(value, ensure_ascii=False)


def raw_value(value: Any) -> str:
    """A string raw, anything else as JSON text (qwen3-coder's and GLM's values)."""
    return value if isinstance(value, str) else json_text(value)


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
    closer: ClassVar[str | None] = None
    """What ``close_calls`` returns when it does not depend on the turn's text."""
    result_frame: ClassVar[tuple[str, str] | None] = None
    """The text before and after a result's content, when nothing else of the
    result (name, id, position, the turn's text) shows in its rendering."""
    results_frame: ClassVar[tuple[str, str]] = ("", "")
    """The text before and after one round of results (the tool turn that holds
    them), before ``generation_prompt``."""

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
        if self.closer is None:
            raise NotImplementedError
        return self.closer

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        """One result; ``position`` is its index among the results of the turn."""
        if self.result_frame is None:
            raise NotImplementedError
        head, tail = self.result_frame
        return head + result.content + tail

    def render_results(self, results: Sequence[ToolResult], *, text: str = "") -> str:
        """The tool turn(s) for one round of results, then ``generation_prompt``."""
        body = "".join(self.render_result(r, position=i, text=text) for i, r in enumerate(results))
        return self._wrap_results(body) + self.generation_prompt

    def _wrap_results(self, body: str) -> str:
        head, tail = self.results_frame
        return head + body + tail

    def continuation(self, text: str, results: Sequence[ToolResult]) -> str:
        """Everything the loop appends after the kept output of a call turn."""
        return self.close_calls(text) + self.render_results(results, text=text)
