"""The text loop's state machine (no I/O): where a model turn stops, what it keeps,
and the prompt it leaves for the next turn.

Theory of operation
-------------------
A turn feeds every chunk of the sample to a fresh parser.  When a feed reports a
``tool_call`` the turn stops *there*: the output is kept up to the call's ``span[1]``
(the character that completed it, possibly in the middle of the chunk) and the rest
is dropped.  With ``parallel_calls`` the turn goes on after a call while the output
is only more calls and the whitespace between them, and stops at the first anything
else; the events after a call are withheld until that is decided, so hallucinated
text never reaches the caller.  ``end_turn`` cuts the output, ``add_results`` appends
what the format's renderer writes after it (closing markup, results, next header).

``TextSession`` is the whole of that; the loops (``drive``) move chunks and results
into it, and the token loop's ``TokenSession`` wraps it to keep the books in ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from ..engine.driver import StreamParser
from ..events import Event, TextDelta, TextEnd, TextStart, ToolCall, ToolCallDelta, ToolCallStart
from ..registry import compiled, is_provider
from .renderer_base import Renderer, ToolResult
from .renderers import renderer
from .turns import LoopEnd, LoopResult, StopReason, Turn, TurnEnd, TurnStart

__all__ = ["TextSession"]

_CALL_EVENTS = (ToolCallStart, ToolCallDelta, ToolCall)


class TextSession:
    """Prompt, turns and the stop decision; the drivers feed it chunks and results."""

    def __init__(
        self,
        prompt: str,
        format: str,
        schemas: Sequence[Mapping[str, Any]] | None,
        generation_prompt: str | None,
        max_steps: int,
        parallel_calls: bool,
    ) -> None:
        if is_provider(format):
            raise ValueError(
                f"the tool loop reads model-native text formats; {format!r} is a provider "
                "stream, whose calls and results go through the provider's API"
            )
        if max_steps < 1:
            raise ValueError("max_steps must be at least 1")
        self.renderer: Renderer = renderer(format)
        self.grammar = compiled(format)
        self.schemas = schemas
        self.max_steps = max_steps
        self.parallel = parallel_calls
        self.pieces = [prompt]
        self.prompt = prompt
        if generation_prompt is None and prompt.endswith(self.renderer.generation_prompt):
            generation_prompt = self.renderer.prime
        self.prime = generation_prompt
        self.turns: list[Turn] = []
        self.events: list[Event] = []
        # per turn
        self.parser: StreamParser | None = None
        self.turn = Turn(0, "")
        self.output: list[str] = []
        self.calls: list[ToolCall] = []
        self.held: list[Event] = []
        self.stopped = False

    def emit(self, events: list[Event]) -> list[Event]:
        self.events.extend(events)
        return events

    def record(self, result: ToolResult) -> ToolResult:
        self.events.append(result)
        return result

    def begin(self) -> TurnStart:
        """Start the next turn; its prompt is ``self.prompt``."""
        step = len(self.turns) + 1
        self.turn = Turn(step, self.prompt)
        self.turns.append(self.turn)
        self.parser = StreamParser(self.grammar, tools=self.schemas, generation_prompt=self.prime)
        self.output = []
        self.calls = []
        self.held = []
        self.stopped = False
        start = TurnStart(step=step, prompt=self.prompt)
        self.emit([start])
        return start

    def feed(self, chunk: str) -> list[Event]:
        """The events of one chunk that the caller may see; sets ``stopped`` when the
        turn must stop here (the sampler is then to be closed)."""
        if not isinstance(chunk, str):
            raise TypeError(
                f"the sampler must yield str chunks, not {type(chunk).__name__} "
                "(wrap token ids with toolwire.loop.detokenize)"
            )
        assert self.parser is not None and not self.stopped
        self.output.append(chunk)
        out: list[Event] = []
        for event in self.parser.feed(chunk):
            if isinstance(event, ToolCall):
                self.calls.append(event)
                out.extend(self.held)
                self.held.clear()
                out.append(event)
                if not self.parallel:
                    self.stopped = True
                    break
            elif not self.calls:
                out.append(event)
            elif isinstance(event, _CALL_EVENTS):
                out.extend(self.held)  # another call: the whitespace before it is real
                self.held.clear()
                out.append(event)
            elif isinstance(event, TextStart | TextEnd) or (
                isinstance(event, TextDelta) and event.text.isspace()
            ):
                self.held.append(event)  # between calls, or the start of invented text
            else:
                self.stopped = True  # anything else after a call: the model goes on
                break
        self.turn.events.extend(out)
        return self.emit(out)

    def end_of_output(self) -> list[Event]:
        """The sampler ended by itself.  With calls, the turn is cut at the last one
        (an open call after it is dropped); without, the parser is closed."""
        assert self.parser is not None
        if self.calls:
            self.stopped = True
            return []
        out: list[Event] = []
        for event in self.parser.close():
            if isinstance(event, ToolCall):  # completed by the end of input
                self.calls.append(event)
                if not self.parallel:
                    out.append(event)
                    break
            out.append(event)
        self.turn.events.extend(out)
        return self.emit(out)

    def end_turn(self, end: int | None = None) -> TurnEnd:
        """Cut the output and record it; the prompt grows by the kept text.

        ``end``: where to cut, in characters of the output (default: just past the
        last call, or all of it); the token loop cuts at a token boundary instead.
        """
        output = "".join(self.output)
        if end is None:
            end = self.calls[-1].span[1] if self.calls else len(output)
        text, dropped = output[:end], output[end:]
        turn = self.turn
        turn.text, turn.dropped, turn.calls = text, dropped, list(self.calls)
        self.pieces.append(text)
        self.prompt = "".join(self.pieces)
        self.parser = None
        reason: Literal["tool_calls", "stop"] = "tool_calls" if self.calls else "stop"
        event = TurnEnd(
            step=turn.step, reason=reason, text=text, dropped=dropped, calls=len(self.calls)
        )
        self.emit([event])
        return event

    def add_results(self, results: list[ToolResult], appended: str | None = None) -> None:
        """Append closing markup, the rendered results and the next header
        (``appended``: that text as the caller computed it, if it did)."""
        turn = self.turn
        turn.results = results
        if appended is None:
            appended = self.renderer.continuation(turn.text, results)
        turn.appended = appended
        self.pieces.append(turn.appended)
        self.prompt = "".join(self.pieces)
        self.prime = self.renderer.prime

    def outcome(self, end: TurnEnd) -> StopReason | None:
        """How the loop ends after this turn, or None when its tools are to run."""
        return "stop" if end.reason == "stop" else None

    def finish(self, reason: StopReason) -> LoopEnd:
        result = LoopResult(self.prompt, self.turns, self.events, reason)
        end = LoopEnd(reason=reason, steps=len(self.turns), result=result)
        self.events.append(end)
        return end
