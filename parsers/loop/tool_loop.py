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

The state machine of a turn is ``text_session.TextSession`` (no I/O); the loop
itself, shared with the token loop, sync and async, is ``drive``; this module only
says how a text turn samples (``sample(prompt)``, read chunk by chunk).  The events
and records are in ``turns``, the running of tools in ``tools``.  Text formats
only: provider streams (``openai-chat``...) return calls as structured API objects
and take results as API messages.
"""

from __future__ import annotations

from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import aclosing
from typing import Any, TypeAlias

from ..events import Event
from .drive import Dispatch, Loop, Opened, adrain_loop, adrive, drain_loop, drive
from .text_session import TextSession
from .tools import DEFAULT_TIMEOUT, Tool
from .turns import DEFAULT_MAX_STEPS, LoopEnd, LoopResult, Turn, TurnEnd, TurnStart

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


Sampler: TypeAlias = Callable[[str], Iterable[str]]
"""``sample(prompt) -> chunks of generated text``, e.g. a generator over an engine."""
AsyncSampler: TypeAlias = Callable[[str], AsyncIterable[str] | Iterable[str]]


class TextLoop(Loop[TextSession]):
    """A text turn samples the prompt and feeds each chunk to the session; its tools
    run once the turn is cut (no eager dispatch: ``dispatch`` is not used)."""

    def sample(self) -> Any:
        return self.sampler(self.session.prompt)

    def open(self, source: Any, dispatch: Dispatch | None) -> Opened:
        return [], source, self.session.feed


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
    session = TextSession(prompt, format, schemas, generation_prompt, max_steps, parallel_calls)
    yield from drive(TextLoop(sample, session, tools, timeout, concurrent))


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
    session = TextSession(prompt, format, schemas, generation_prompt, max_steps, parallel_calls)
    events = drive(TextLoop(sample, session, tools, timeout, concurrent))
    return drain_loop(events, on_event, LoopEnd).result


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
    session = TextSession(prompt, format, schemas, generation_prompt, max_steps, parallel_calls)
    async with aclosing(adrive(TextLoop(sample, session, tools, timeout, concurrent))) as events:
        async for event in events:
            yield event


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
    session = TextSession(prompt, format, schemas, generation_prompt, max_steps, parallel_calls)
    events = adrive(TextLoop(sample, session, tools, timeout, concurrent))
    return (await adrain_loop(events, on_event, LoopEnd)).result
