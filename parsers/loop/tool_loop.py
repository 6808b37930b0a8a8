"""The tool loop: stop the model at each completed call, run the tool, append the
result in the model's own syntax, continue.

Theory of operation
-------------------
A turn samples the prompt and feeds every chunk to a fresh parser.  When a feed
reports a ``tool_call`` the turn stops *there*: the output is kept up to the call's
``span[1]`` (the character that completed it, possibly in the middle of the chunk),
the rest of the chunk and anything after it are dropped, and the sampler's iterator
is closed (``close()`` / ``aclose()``) so the engine can cancel.  Without the stop a
model goes on to write the tool's result itself, invented.

The tools of the turn then run in call order (concurrently if asked), each under a
timeout; a failure of any kind (unknown tool, bad arguments, exception, timeout) is
an error *result* the model reads, never an exception of the loop.  The renderer of
the format (``toolwire.loop.renderers``) appends to the prompt what the model's chat
template would have: the closing markup the stop cut off, one tool turn per result,
the next assistant header.  The next turn samples that prompt.  The loop ends when
a turn ends without a call (the model answered, or stopped) or after ``max_steps``
turns; in the latter case the last turn's results are appended anyway, so the
transcript can be resumed by another loop.

``parallel_calls=True`` lets a turn hold several calls (models that write parallel
calls): after a call the turn goes on while the output is only more calls and the
whitespace between them, and stops at the first anything else; the cut is then
just past the last complete call and the events after it are withheld until that
is decided, so the hallucinated text never reaches the caller either.

The state machine of a turn is ``_Session`` (no I/O); ``iter_tool_loop`` and
``aiter_tool_loop`` only move chunks into it and run tools, so the sync and async
loops cannot disagree.  Text formats only: provider streams (``openai-chat``...)
return calls as structured API objects and take results as API messages.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeAlias, TypeVar

from ..engine.driver import StreamParser
from ..events import Event, TextDelta, TextEnd, TextStart, ToolCall, ToolCallDelta, ToolCallStart
from ..message import Message, collect
from ..registry import compiled, is_provider
from .renderers import Renderer, ToolResult, renderer
from .tools import DEFAULT_TIMEOUT, Tool, arun_tool, execute_tools

__all__ = [
    "DEFAULT_MAX_STEPS",
    "DEFAULT_TIMEOUT",
    "LoopEnd",
    "LoopResult",
    "Turn",
    "TurnEnd",
    "TurnStart",
    "aiter_tool_loop",
    "arun_tool_loop",
    "iter_tool_loop",
    "run_tool_loop",
]

DEFAULT_MAX_STEPS = 8
"""Model turns per loop: a model that calls tools forever is stopped (agent SDKs use
similar small defaults: the OpenAI Agents SDK's ``max_turns`` is 10)."""


Sampler: TypeAlias = Callable[[str], Iterable[str]]
"""``sample(prompt) -> chunks of generated text``, e.g. a generator over an engine."""
AsyncSampler: TypeAlias = Callable[[str], AsyncIterable[str] | Iterable[str]]
StopReason: TypeAlias = Literal["stop", "max_steps"]


# -- loop events ---------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class TurnStart(Event):
    """A model turn begins: ``prompt`` is what is sampled."""

    type: ClassVar[str] = "turn_start"
    step: int
    """1-based turn number."""
    prompt: str


@dataclass(slots=True, kw_only=True)
class TurnEnd(Event):
    """A model turn is over, cut at its last call or ended by the model."""

    type: ClassVar[str] = "turn_end"
    step: int
    reason: Literal["tool_calls", "stop"]
    """``tool_calls``: stopped at a completed call; ``stop``: the output ended."""
    text: str
    """The output kept: everything up to the completing character of the last call
    (all of it when the model stopped by itself)."""
    dropped: str
    """What the sampler produced after the cut and the loop discarded."""
    calls: int
    """Number of completed calls in the kept output."""


@dataclass(slots=True, kw_only=True)
class LoopEnd(Event):
    """The loop is over; ``result`` holds the transcript and every turn."""

    type: ClassVar[str] = "loop_end"
    reason: StopReason
    """``stop``: the last turn had no call; ``max_steps``: the turn limit was hit."""
    steps: int
    result: LoopResult

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "reason": self.reason, "steps": self.steps}


@dataclass(slots=True)
class Turn:
    """One model turn as the loop saw it."""

    step: int
    prompt: str
    text: str = ""
    """The output kept (see ``TurnEnd.text``)."""
    dropped: str = ""
    events: list[Event] = field(default_factory=list)
    """The parser's events for the kept output, as delivered."""
    calls: list[ToolCall] = field(default_factory=list)
    results: list[ToolResult] = field(default_factory=list)
    appended: str = ""
    """What the loop appended after ``text``: closing markup, results, next header."""

    @property
    def message(self) -> Message:
        """The turn's content, reasoning and calls, collected from its events."""
        return collect(self.events)


@dataclass(slots=True)
class LoopResult:
    """Everything the loop did."""

    transcript: str
    """The initial prompt plus every kept output and everything appended."""
    turns: list[Turn]
    events: list[Event]
    """Every event delivered, in order (parser events and loop events)."""
    reason: StopReason

    @property
    def results(self) -> list[ToolResult]:
        return [r for turn in self.turns for r in turn.results]

    @property
    def answer(self) -> str:
        """The visible text of the last turn."""
        return (self.turns[-1].message.content or "") if self.turns else ""


# -- the turn state machine (no I/O) -------------------------------------------------


_CALL_EVENTS = (ToolCallStart, ToolCallDelta, ToolCall)


class _Session:
    """Prompt, turns and the stop decision; the drivers feed it chunks and results."""

    def __init__(
        self,
        prompt: str,
        format: str,
        *,
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

    def finish(self, reason: StopReason) -> LoopEnd:
        result = LoopResult(self.prompt, self.turns, self.events, reason)
        end = LoopEnd(reason=reason, steps=len(self.turns), result=result)
        self.events.append(end)
        return end


# -- drivers -------------------------------------------------------------------------


_End = TypeVar("_End", bound=Event)


def drain_loop(
    events: Iterable[Event], on_event: Callable[[Event], Any] | None, end: type[_End]
) -> _End:
    """Run a loop's events to the end, showing each to ``on_event``: its last event,
    of type ``end``, carries the result (the ``run_*`` form of an ``iter_*`` loop)."""
    last: _End | None = None
    for event in events:
        if on_event is not None:
            on_event(event)
        if isinstance(event, end):
            last = event
    assert last is not None
    return last


async def adrain_loop(
    events: AsyncIterable[Event], on_event: Callable[[Event], Any] | None, end: type[_End]
) -> _End:
    """The async ``drain_loop`` (``on_event`` may be a coroutine function)."""
    last: _End | None = None
    async for event in events:
        if on_event is not None:
            shown = on_event(event)
            if inspect.isawaitable(shown):
                await shown
        if isinstance(event, end):
            last = event
    assert last is not None
    return last


def _close(iterator: object) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


def iter_tool_loop(
    sample: Sampler,
    prompt: str,
    format: str,
    tools: Mapping[str, Tool],
    *,
    schemas: Sequence[Mapping[str, Any]] | None = None,
    generation_prompt: str | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    timeout: float | None = DEFAULT_TIMEOUT,
    parallel_calls: bool = False,
    concurrent: bool = False,
) -> Iterator[Event]:
    """Run the tool loop, yielding every event as it happens.

    Yields ``TurnStart``, the parser's events of the kept output (live, chunk by
    chunk), ``TurnEnd``, one ``ToolResult`` per call, ... and finally ``LoopEnd``,
    whose ``result`` holds the transcript and the turns.  Arguments as for
    ``run_tool_loop``.
    """
    session = _Session(
        prompt,
        format,
        schemas=schemas,
        generation_prompt=generation_prompt,
        max_steps=max_steps,
        parallel_calls=parallel_calls,
    )
    while True:
        yield session.begin()
        iterator = iter(sample(session.prompt))
        try:
            for chunk in iterator:
                yield from session.feed(chunk)
                if session.stopped:
                    break
            else:
                yield from session.end_of_output()
        finally:
            _close(iterator)  # the engine may cancel; also when our caller stops early
        end = session.end_turn()
        yield end
        if end.reason == "stop":
            yield session.finish("stop")
            return
        results: list[ToolResult] = []
        for result in execute_tools(session.calls, tools, timeout, concurrent):
            results.append(session.record(result))
            yield result
        session.add_results(results)
        if len(session.turns) >= session.max_steps:
            yield session.finish("max_steps")
            return


def run_tool_loop(
    sample: Sampler,
    prompt: str,
    format: str,
    tools: Mapping[str, Tool],
    *,
    on_event: Callable[[Event], None] | None = None,
    schemas: Sequence[Mapping[str, Any]] | None = None,
    generation_prompt: str | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    timeout: float | None = DEFAULT_TIMEOUT,
    parallel_calls: bool = False,
    concurrent: bool = False,
) -> LoopResult:
    """Sample, stop at each completed call, run it, append the result, continue.

    ``sample(prompt)`` returns the generated text as an iterable of ``str`` chunks
    (a generator is closed as soon as the loop stops reading it); ``format`` is a
    text format with a renderer (``toolwire.loop.renderers.renderer_formats()``);
    ``tools`` maps tool names to plain or async callables, called with the call's
    arguments as keywords.  ``on_event`` receives every event as it happens.

    ``schemas``: the OpenAI-style tool list, given to the parser (calls to other
    names become ``unknown_tool`` errors; qwen3-coder types values by it).
    ``generation_prompt``: what primes the first turn's parser (default: the
    format's own assistant header when ``prompt`` ends with it).  ``max_steps``:
    model turns at most.  ``timeout``: seconds per tool (None: no limit, and the
    tools then run in the calling thread; otherwise on a daemon thread each).
    ``parallel_calls``: let one turn hold several calls (see the module docstring).
    ``concurrent``: run the calls of one turn at the same time (results still in
    call order).
    """
    events = iter_tool_loop(
        sample,
        prompt,
        format,
        tools,
        schemas=schemas,
        generation_prompt=generation_prompt,
        max_steps=max_steps,
        timeout=timeout,
        parallel_calls=parallel_calls,
        concurrent=concurrent,
    )
    return drain_loop(events, on_event, LoopEnd).result


async def _aclose(iterator: object) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()
    else:
        _close(iterator)


async def aiter_tool_loop(
    sample: AsyncSampler,
    prompt: str,
    format: str,
    tools: Mapping[str, Tool],
    *,
    schemas: Sequence[Mapping[str, Any]] | None = None,
    generation_prompt: str | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    timeout: float | None = DEFAULT_TIMEOUT,
    parallel_calls: bool = False,
    concurrent: bool = False,
) -> AsyncIterator[Event]:
    """The async ``iter_tool_loop``: ``sample`` may return an async iterable (closed
    with ``aclose()`` at the stop) or a plain one; async tools are awaited, plain
    ones run in a worker thread; ``concurrent`` gathers the calls of a turn."""
    session = _Session(
        prompt,
        format,
        schemas=schemas,
        generation_prompt=generation_prompt,
        max_steps=max_steps,
        parallel_calls=parallel_calls,
    )
    while True:
        yield session.begin()
        source = sample(session.prompt)
        if isinstance(source, AsyncIterable):
            aiterator = aiter(source)
            try:
                while True:
                    try:
                        chunk = await anext(aiterator)
                    except StopAsyncIteration:
                        for event in session.end_of_output():
                            yield event
                        break
                    for event in session.feed(chunk):
                        yield event
                    if session.stopped:
                        break
            finally:
                await _aclose(aiterator)
        else:
            iterator = iter(source)
            try:
                for chunk in iterator:
                    for event in session.feed(chunk):
                        yield event
                    if session.stopped:
                        break
                else:
                    for event in session.end_of_output():
                        yield event
            finally:
                _close(iterator)
        end = session.end_turn()
        yield end
        if end.reason == "stop":
            yield session.finish("stop")
            return
        calls = session.calls
        results: list[ToolResult] = []
        if concurrent:
            tasks = [asyncio.ensure_future(arun_tool(c, tools, timeout)) for c in calls]
            try:
                for task in tasks:
                    result = await task
                    results.append(session.record(result))
                    yield result
            finally:
                for task in tasks:
                    task.cancel()  # only those still running: our caller stopped early
        else:
            for call in calls:
                result = await arun_tool(call, tools, timeout)
                results.append(session.record(result))
                yield result
        session.add_results(results)
        if len(session.turns) >= session.max_steps:
            yield session.finish("max_steps")
            return


async def arun_tool_loop(
    sample: AsyncSampler,
    prompt: str,
    format: str,
    tools: Mapping[str, Tool],
    *,
    on_event: Callable[[Event], Any] | None = None,
    schemas: Sequence[Mapping[str, Any]] | None = None,
    generation_prompt: str | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    timeout: float | None = DEFAULT_TIMEOUT,
    parallel_calls: bool = False,
    concurrent: bool = False,
) -> LoopResult:
    """The async ``run_tool_loop`` (``on_event`` may be a coroutine function)."""
    events = aiter_tool_loop(
        sample,
        prompt,
        format,
        tools,
        schemas=schemas,
        generation_prompt=generation_prompt,
        max_steps=max_steps,
        timeout=timeout,
        parallel_calls=parallel_calls,
        concurrent=concurrent,
    )
    return (await adrain_loop(events, on_event, LoopEnd)).result
