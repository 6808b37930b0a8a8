"""The tool loop on token ids, for RL rollouts: ids in, one token sequence out.

Trainers need a rollout as one sequence in which every sampled id keeps its id and
logprob (mask 1) and every id the loop inserted (the closer the stop cut off, the
tool-result turn, the next assistant header) is marked as not sampled (mask 0,
logprob 0.0).  Re-tokenising a text transcript changes the ids, so this loop never
does: the sampled ids are kept as they came, and only the inserted text is encoded.

Theory of operation
-------------------
The text loop's state machine (``toolwire.loop.tool_loop._Session``) decides where a turn
stops; this module only moves ids into it and keeps the books in ids.  Each sampled
id goes through the incremental detokenizer, which emits every character with the id
that completes it, so after id ``k`` the turn's output is ``ends[k]`` characters
long.  A call's ``span[1]`` then names its completing id: the first ``k`` with
``ends[k] >= span[1]``.  Ids are atomic, so that id is kept whole; what it carries
past the call (the *overhang*, e.g. ``}\\n``) is sampled text, and the inserted
continuation (closer + results + header) skips what the overhang already wrote, so
``</tool_call>`` never appears twice.

The turn's parser is gated by the special ids (``token_parser.SpecialMarks``): a
marker counts only where a special id wrote it, so marker text that the model wrote
with ordinary ids inside an argument (Kimi-K3's encoder writes bodies that way) does
not cut the call.

Streaming samplers are read id by id and closed at the cut, so any grouping of the
ids gives the same trajectory.  An atomic sample (Tinker's ``SampledSequence``, or an
``(ids, logprobs, stop_reason)`` tuple) holds the ids after the cut too: those that go
on writing exactly the fixed start of the continuation (the stop token an engine
keeps, ``\\n</tool_call><|im_end|>``, GLM's ``<|observation|>``) are kept as sampled
and not inserted again; the rest are dropped.  A sample that ended with ``length``
inside a call is a truncated call: no tool runs and the rollout ends there.

Every turn's prompt is the previous prompt + the kept ids + the inserted ids (the
prefix property), so the whole rollout is one training datum with tool tokens masked.
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
from functools import partial
from typing import Any, TypeAlias

from ..events import Event, ToolCall
from .renderers import ToolResult
from .token_session import TokenSession
from .tool_loop import (
    DEFAULT_MAX_STEPS,
    _aclose,
    _close,
    adrain_loop,
    drain_loop,
)
from .tools import (
    DEFAULT_TIMEOUT,
    Launched,
    Tool,
    arun_tool,
    collect_tool,
    execute_tools,
    launch_tool,
)
from .trajectory import (
    TokenLoopEnd,
    TokenTurn,
    Trajectory,
    atomic_sample,
    stream_pairs,
)

__all__ = [
    "TokenLoopEnd",
    "TokenSession",
    "TokenTurn",
    "Trajectory",
    "aiter_token_tool_loop",
    "arun_token_tool_loop",
    "iter_token_tool_loop",
    "run_token_tool_loop",
]


# -- drivers -------------------------------------------------------------------------


def _session(
    prompt_ids: Sequence[int],
    format: str,
    tokenizer: Any,
    schemas: Sequence[Mapping[str, Any]] | None,
    generation_prompt: str | None,
    max_steps: int,
    parallel_calls: bool,
) -> TokenSession:
    if tokenizer is None:
        raise TypeError(
            "the token loop needs tokenizer= (toolwire.as_tokenizer explains what fits)"
        )
    return TokenSession(
        prompt_ids,
        format,
        tokenizer,
        schemas=schemas,
        generation_prompt=generation_prompt,
        max_steps=max_steps,
        parallel_calls=parallel_calls,
    )


def _feed_item(
    session: TokenSession, item: Any, dispatch: Callable[[ToolCall], object] | None
) -> list[Event]:
    """One streamed item's events; with ``dispatch`` (eager dispatch) each completed
    call's tool is started before the events go out."""
    events = session.feed(stream_pairs(item))
    if dispatch is not None:
        for event in events:
            if isinstance(event, ToolCall):
                dispatch(event)
    return events


def _launch_into(launched: list[Launched], tools: Mapping[str, Tool], call: ToolCall) -> None:
    launched.append(launch_tool(call, tools))


def _task_into(
    tasks: list[asyncio.Future[ToolResult]],
    tools: Mapping[str, Tool],
    timeout: float | None,
    call: ToolCall,
) -> None:
    tasks.append(asyncio.ensure_future(arun_tool(call, tools, timeout)))


TokenSampler: TypeAlias = Callable[[list[int]], Any]
"""``sample(prompt_ids)``: an iterable of ids / ``(id, logprob)`` pairs / lists of
them (a streaming engine), or one whole sample (see ``atomic_sample``)."""


def iter_token_tool_loop(
    sample: TokenSampler,
    prompt_ids: Sequence[int],
    format: str,
    tools: Mapping[str, Tool],
    *,
    tokenizer: Any = None,
    schemas: Sequence[Mapping[str, Any]] | None = None,
    generation_prompt: str | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    timeout: float | None = DEFAULT_TIMEOUT,
    parallel_calls: bool = False,
    concurrent: bool = False,
) -> Iterator[Event]:
    """Run the token loop, yielding every event as it happens; the last is a
    ``TokenLoopEnd`` holding the trajectory.  Arguments as for
    ``run_token_tool_loop``."""
    session = _session(
        prompt_ids, format, tokenizer, schemas, generation_prompt, max_steps, parallel_calls
    )
    while True:
        yield session.begin()
        source = sample(list(session.ids))
        whole = atomic_sample(source)
        launched: list[Launched] = []
        eager = partial(_launch_into, launched, tools) if concurrent else None
        if whole is not None:
            yield from session.take(whole)
        else:
            iterator = iter(source)
            try:
                for item in iterator:
                    yield from _feed_item(session, item, eager)
                    if session.stopped:
                        break
                else:
                    yield from session.end_of_output()
            finally:
                _close(iterator)
        end = session.end_turn()
        yield end
        reason = session.outcome(end)
        if reason is not None:
            yield session.finish(reason)
            return
        results: list[ToolResult] = []
        if launched:
            calls = session.calls
            launched += [launch_tool(call, tools) for call in calls[len(launched) :]]
            outcomes: Iterable[ToolResult] = (collect_tool(one, timeout) for one in launched)
        else:
            outcomes = execute_tools(session.calls, tools, timeout, concurrent)
        for result in outcomes:
            results.append(session.record(result))
            yield result
        session.add_results(results)
        if len(session.turns) >= session.max_steps:
            yield session.finish("max_steps")
            return


def run_token_tool_loop(
    sample: TokenSampler,
    prompt_ids: Sequence[int],
    format: str,
    tools: Mapping[str, Tool],
    *,
    tokenizer: Any = None,
    on_event: Callable[[Event], None] | None = None,
    schemas: Sequence[Mapping[str, Any]] | None = None,
    generation_prompt: str | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    timeout: float | None = DEFAULT_TIMEOUT,
    parallel_calls: bool = False,
    concurrent: bool = False,
) -> Trajectory:
    """Sample ids, stop at each completed call, run it, insert the result's ids,
    continue; return the rollout as one token sequence with its masks.

    ``sample(prompt_ids)`` returns a stream of ids (ids, ``(id, logprob)`` pairs or
    lists of them; a generator is closed at the cut) or one whole sample (an object
    with ``tokens``, ``logprobs``, ``stop_reason`` such as Tinker's
    ``SampledSequence``, or an ``(ids, logprobs, stop_reason)`` tuple).
    ``prompt_ids``: the conversation rendered up to the assistant header.
    ``tokenizer``: a ``toolwire.Tokenizer`` or anything ``toolwire.as_tokenizer``
    takes (``tokenizers``, ``transformers``, ``tiktoken``).  ``concurrent`` with a
    streaming sampler starts each tool the moment its call completes, while the
    model goes on writing the next one (results still in call order).  The other
    arguments are those of ``toolwire.run_tool_loop``.
    """
    events = iter_token_tool_loop(
        sample,
        prompt_ids,
        format,
        tools,
        tokenizer=tokenizer,
        schemas=schemas,
        generation_prompt=generation_prompt,
        max_steps=max_steps,
        timeout=timeout,
        parallel_calls=parallel_calls,
        concurrent=concurrent,
    )
    return drain_loop(events, on_event, TokenLoopEnd).trajectory


async def aiter_token_tool_loop(
    sample: TokenSampler,
    prompt_ids: Sequence[int],
    format: str,
    tools: Mapping[str, Tool],
    *,
    tokenizer: Any = None,
    schemas: Sequence[Mapping[str, Any]] | None = None,
    generation_prompt: str | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    timeout: float | None = DEFAULT_TIMEOUT,
    parallel_calls: bool = False,
    concurrent: bool = False,
) -> AsyncIterator[Event]:
    """The async ``iter_token_tool_loop``: ``sample`` may be async (its result
    awaited), return an async iterable (closed with ``aclose()`` at the cut) or
    anything the sync loop takes; async tools are awaited, plain ones run in a
    worker thread.  With ``concurrent`` each call's task starts at its event and
    a turn that ends without running its tools cancels them."""
    session = _session(
        prompt_ids, format, tokenizer, schemas, generation_prompt, max_steps, parallel_calls
    )
    while True:
        yield session.begin()
        source = sample(list(session.ids))
        if inspect.isawaitable(source):
            source = await source
        whole = atomic_sample(source)
        tasks: list[asyncio.Future[ToolResult]] = []
        start = partial(_task_into, tasks, tools, timeout) if concurrent else None
        try:
            if whole is not None:
                for event in session.take(whole):
                    yield event
            elif isinstance(source, AsyncIterable):
                aiterator = aiter(source)
                try:
                    while True:
                        try:
                            item = await anext(aiterator)
                        except StopAsyncIteration:
                            for event in session.end_of_output():
                                yield event
                            break
                        for event in _feed_item(session, item, start):
                            yield event
                        if session.stopped:
                            break
                finally:
                    await _aclose(aiterator)
            else:
                iterator = iter(source)
                try:
                    for item in iterator:
                        for event in _feed_item(session, item, start):
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
            reason = session.outcome(end)
            if reason is not None:
                yield session.finish(reason)
                return
            calls = session.calls
            if concurrent:
                tasks += [
                    asyncio.ensure_future(arun_tool(call, tools, timeout))
                    for call in calls[len(tasks) :]
                ]
            results: list[ToolResult] = []
            for i, call in enumerate(calls):
                result = await tasks[i] if concurrent else await arun_tool(call, tools, timeout)
                results.append(session.record(result))
                yield result
        finally:
            for task in tasks:
                task.cancel()  # only those still running: the turn ended without them
        session.add_results(results)
        if len(session.turns) >= session.max_steps:
            yield session.finish("max_steps")
            return


async def arun_token_tool_loop(
    sample: TokenSampler,
    prompt_ids: Sequence[int],
    format: str,
    tools: Mapping[str, Tool],
    *,
    tokenizer: Any = None,
    on_event: Callable[[Event], Any] | None = None,
    schemas: Sequence[Mapping[str, Any]] | None = None,
    generation_prompt: str | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    timeout: float | None = DEFAULT_TIMEOUT,
    parallel_calls: bool = False,
    concurrent: bool = False,
) -> Trajectory:
    """The async ``run_token_tool_loop`` (``on_event`` may be a coroutine function)."""
    events = aiter_token_tool_loop(
        sample,
        prompt_ids,
        format,
        tools,
        tokenizer=tokenizer,
        schemas=schemas,
        generation_prompt=generation_prompt,
        max_steps=max_steps,
        timeout=timeout,
        parallel_calls=parallel_calls,
        concurrent=concurrent,
    )
    return (await adrain_loop(events, on_event, TokenLoopEnd)).trajectory
