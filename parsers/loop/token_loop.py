"""The tool loop on token ids, for RL rollouts: ids in, one token sequence out.

Trainers need a rollout as one sequence in which every sampled id keeps its id and
logprob (mask 1) and every id the loop inserted (the closer the stop cut off, the
tool-result turn, the next assistant header) is marked as not sampled (mask 0,
logprob 0.0).  Re-tokenising a text transcript changes the ids, so this loop never
does: the sampled ids are kept as they came, and only the inserted text is encoded.

Theory of operation
-------------------
The text loop's state machine (``text_session.TextSession``) decides where a turn
stops; ``token_session.TokenSession`` feeds it ids and keeps the books in ids; the
loop itself is ``drive``'s, shared with the text loop; this module says how a turn
samples and reads ids (``TokenLoop``).  Each sampled id goes through the incremental
detokenizer, which emits every character with the id that completes it, so after
id ``k`` the turn's output is ``ends[k]`` characters long.  A call's ``span[1]``
then names its completing id: the first ``k`` with ``ends[k] >= span[1]``.  Ids are
atomic, so that id is kept whole; what it carries past the call (the *overhang*,
e.g. ``}\\n``) is sampled text, and the inserted continuation (closer + results +
header) skips what the overhang already wrote, so ``</tool_call>`` never appears
twice.

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

import inspect
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import aclosing
from functools import partial
from typing import Any, TypeAlias

from ..events import Event, ToolCall
from .drive import Dispatch, Loop, Opened, adrain_loop, adrive, drain_loop, drive
from .token_session import TokenSession
from .tools import DEFAULT_TIMEOUT, Tool
from .trajectory import (
    TokenLoopEnd,
    TokenTurn,
    Trajectory,
    atomic_sample,
    stream_pairs,
)
from .turns import DEFAULT_MAX_STEPS

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


TokenSampler: TypeAlias = Callable[[list[int]], Any]
"""``sample(prompt_ids)``: an iterable of ids / ``(id, logprob)`` pairs / lists of
them (a streaming engine), or one whole sample (see ``atomic_sample``)."""


class TokenLoop(Loop[TokenSession]):
    """A token turn samples the prompt ids; a stream is fed item by item (each item
    as ``(id, logprob)`` pairs, each completed call dispatched at once when asked), a
    whole sample is taken at once."""

    def sample(self) -> Any:
        return self.sampler(list(self.session.ids))

    async def asample(self) -> Any:
        source = self.sample()
        return await source if inspect.isawaitable(source) else source

    def open(self, source: Any, dispatch: Dispatch | None) -> Opened:
        whole = atomic_sample(source)
        if whole is not None:
            return self.session.take(whole), None, None
        if dispatch is None:
            return [], source, self._feed
        return [], source, partial(self._feed_dispatching, dispatch)

    def _feed(self, item: Any) -> list[Event]:
        return self.session.feed(stream_pairs(item))

    def _feed_dispatching(self, dispatch: Dispatch, item: Any) -> list[Event]:
        """``_feed`` that starts each completed call's tool before the events go out."""
        events = self.session.feed(stream_pairs(item))
        for event in events:
            if isinstance(event, ToolCall):
                dispatch(event)
        return events


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
    yield from drive(TokenLoop(sample, session, tools, timeout, concurrent))


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
    session = _session(
        prompt_ids, format, tokenizer, schemas, generation_prompt, max_steps, parallel_calls
    )
    events = drive(TokenLoop(sample, session, tools, timeout, concurrent))
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
    async with aclosing(adrive(TokenLoop(sample, session, tools, timeout, concurrent))) as events:
        async for event in events:
            yield event


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
    session = _session(
        prompt_ids, format, tokenizer, schemas, generation_prompt, max_steps, parallel_calls
    )
    events = adrive(TokenLoop(sample, session, tools, timeout, concurrent))
    return (await adrain_loop(events, on_event, TokenLoopEnd)).trajectory
