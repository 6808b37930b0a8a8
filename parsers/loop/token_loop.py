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
from bisect import bisect_left, bisect_right
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
from functools import partial
from typing import Any, ClassVar, Literal, TypeAlias

from ..engine.token_parser import SpecialMarks, token_anchors
from ..events import Error, Event, ToolCall
from ..framing.detokenize import IncrementalDetokenizer
from ..framing.tokenizer import Tokenizer, as_tokenizer
from .renderers import ToolResult
from .tool_loop import (
    DEFAULT_MAX_STEPS,
    DEFAULT_TIMEOUT,
    Launched,
    Tool,
    Turn,
    TurnEnd,
    TurnStart,
    _aclose,
    _arun_one,
    _close,
    _collect,
    _execute,
    _launch,
    _Session,
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

TokenReason: TypeAlias = Literal["stop", "max_steps", "length"]
Pair: TypeAlias = tuple[int, float | None]


@dataclass(slots=True)
class AtomicSample:
    """One whole sample of an engine that does not stream (Tinker's sampler)."""

    tokens: list[int]
    logprobs: list[float | None]
    stop_reason: str | None
    """``stop`` (a stop sequence or EOS), ``length`` (max_tokens), or None."""


def atomic_sample(result: Any) -> AtomicSample | None:
    """The sample in ``result`` when it is a whole one: an object with ``tokens``,
    ``logprobs`` and ``stop_reason`` (``SampledSequence``), a response with
    ``sequences`` (the first is taken), or an ``(ids, logprobs, stop_reason)`` tuple;
    None for a stream of ids."""
    if hasattr(result, "sequences") and not hasattr(result, "tokens"):
        sequences = result.sequences
        if not sequences:
            raise ValueError("the sampler returned a response without sequences")
        result = sequences[0]
    if hasattr(result, "tokens") and hasattr(result, "stop_reason"):
        tokens, logprobs, reason = (
            result.tokens,
            getattr(result, "logprobs", None),
            result.stop_reason,
        )
    elif (
        isinstance(result, tuple)
        and len(result) == 3
        and isinstance(result[0], Sequence)
        and (result[2] is None or isinstance(result[2], str))
    ):
        tokens, logprobs, reason = result
    else:
        return None
    ids = [int(t) for t in tokens]
    if logprobs is None:
        lps: list[float | None] = [None] * len(ids)
    else:
        lps = [None if lp is None else float(lp) for lp in logprobs]
        if len(lps) != len(ids):
            raise ValueError(f"{len(ids)} tokens but {len(lps)} logprobs in the sample")
    return AtomicSample(ids, lps, None if reason is None else str(reason))


def stream_pairs(item: Any) -> list[Pair]:
    """One streamed item as ``(id, logprob)`` pairs: an id, an ``(id, logprob)``
    pair, or a list of either (a group of ids that arrived together)."""
    if isinstance(item, int):
        return [(item, None)]
    if (
        isinstance(item, tuple)
        and len(item) == 2
        and isinstance(item[0], int)
        and (item[1] is None or isinstance(item[1], float))
    ):
        return [(item[0], item[1])]
    if isinstance(item, Iterable) and not isinstance(item, str | bytes):
        return [pair for sub in item for pair in stream_pairs(sub)]
    raise TypeError(
        f"a streaming sampler yields ids, (id, logprob) pairs or lists of them, "
        f"not {type(item).__name__}"
    )


@dataclass(slots=True)
class TokenTurn:
    """One model turn in ids; ranges index ``Trajectory.completion_ids``."""

    step: int
    prompt_length: int
    """Length of the prompt ids this turn sampled from."""
    sampled: range
    """The kept sampled ids (mask 1)."""
    calls: list[range] = field(default_factory=list)
    """Per call: from the id carrying its first character to its completing id."""
    closer: range = range(0)
    """Inserted: the markup that closes the cut turn (minus what the model wrote)."""
    results: range = range(0)
    """Inserted: the tool turn(s) holding the results."""
    header: range = range(0)
    """Inserted: the next assistant header."""
    dropped: int = 0
    """Sampled ids seen after the cut and discarded."""
    stop_reason: str | None = None
    """What the sampler said of how the sample ended (atomic samplers)."""
    turn: Turn = field(default_factory=lambda: Turn(0, ""))
    """The same turn in text: kept text, events, calls, results, appended text."""

    @property
    def inserted(self) -> range:
        """Every inserted id of the turn (closer, results, header)."""
        return range(self.closer.start, max(self.closer.stop, self.header.stop))


@dataclass(slots=True)
class Trajectory:
    """A whole rollout as one token sequence, with its training masks."""

    prompt_ids: list[int]
    """The first prompt, unchanged."""
    completion_ids: list[int]
    """Everything after it: sampled and inserted ids, in order."""
    mask: list[int]
    """1 per sampled id, 0 per inserted id."""
    logprobs: list[float | None]
    """The sampler's logprob per sampled id (None where it gave none), 0.0 where
    ``mask`` is 0."""
    turns: list[TokenTurn]
    reason: TokenReason
    """``stop``: the last turn had no call; ``max_steps``: the turn limit was hit;
    ``length``: the last sample hit its token limit (inside a call: no tool ran)."""
    text: str
    """``tokenizer.decode(prompt_ids + completion_ids)``."""
    events: list[Event]
    error: Error | None = None
    """The error that ended the last turn (a truncated call), if any."""

    @property
    def calls(self) -> list[ToolCall]:
        return [call for turn in self.turns for call in turn.turn.calls]

    @property
    def results(self) -> list[ToolResult]:
        return [result for turn in self.turns for result in turn.turn.results]

    def to_record(self) -> dict[str, Any]:
        """The rollout record verl's agent loop and SkyRL's generator use:
        ``prompt_ids``, ``response_ids``, ``response_mask``, ``response_logprobs``
        (0.0 where the sampler gave none)."""
        return {
            "prompt_ids": list(self.prompt_ids),
            "response_ids": list(self.completion_ids),
            "response_mask": list(self.mask),
            "response_logprobs": [0.0 if lp is None else lp for lp in self.logprobs],
        }


@dataclass(slots=True, kw_only=True)
class TokenLoopEnd(Event):
    """The token loop is over; ``trajectory`` holds the rollout."""

    type: ClassVar[str] = "token_loop_end"
    reason: TokenReason
    steps: int
    trajectory: Trajectory

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "reason": self.reason, "steps": self.steps}


def _account(expected: str, written: str) -> int | None:
    """How much of ``expected`` the model's ``written`` text (the completing id's
    overhang) already wrote, or None when it wrote something else.  Whitespace may
    differ: that id is kept whole anyway, and what follows it should not repeat a
    newline.  Ids after the cut are held to an exact match (``_keep_tail``)."""
    i = j = 0
    while j < len(written):
        if i < len(expected) and written[j] == expected[i]:
            i += 1
            j += 1
        elif written[j].isspace():
            j += 1
        elif i < len(expected) and expected[i].isspace():
            i += 1
        else:
            return None
    return i


def _fixed_start(session: _Session, text: str, calls: Sequence[ToolCall]) -> str:
    """The part of the continuation that does not depend on the results: the
    closer and the framing before the first result's content."""
    one = [ToolResult(call=c, value=None, error=None, content="0") for c in calls]
    two = [ToolResult(call=c, value=None, error=None, content="1") for c in calls]
    a = session.renderer.continuation(text, one)
    b = session.renderer.continuation(text, two)
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return a[:n]


class TokenSession:
    """The books of a token loop (no I/O): prompt and completion ids, mask,
    logprobs and turns; the drivers feed it ids and results.  Usable step by step
    (an RL environment's ``step``) as well as by the loops below."""

    def __init__(
        self,
        prompt_ids: Sequence[int],
        format: str,
        tokenizer: Any,
        *,
        schemas: Sequence[Mapping[str, Any]] | None = None,
        generation_prompt: str | None = None,
        max_steps: int = DEFAULT_MAX_STEPS,
        parallel_calls: bool = False,
    ) -> None:
        self.tokenizer: Tokenizer = as_tokenizer(tokenizer)
        self.prompt_ids = [int(i) for i in prompt_ids]
        self.text = _Session(
            self.tokenizer.decode(self.prompt_ids),
            format,
            schemas=schemas,
            generation_prompt=generation_prompt,
            max_steps=max_steps,
            parallel_calls=parallel_calls,
        )
        self.ids = list(self.prompt_ids)
        """The current prompt: the first one + every kept and inserted id."""
        self.completion: list[int] = []
        self.mask: list[int] = []
        self.logprobs: list[float | None] = []
        self.turns: list[TokenTurn] = []
        self.error: Error | None = None
        self.truncated = False
        # per turn
        self._ids: list[int] = []
        self._logprobs: list[float | None] = []
        self._ends: list[int] = []
        self._detok = IncrementalDetokenizer(self.tokenizer.decode)
        self._offset = 0
        self._consumed = 0
        self._span_text = ""
        self._tail_open = False
        self._tail: list[Pair] = []
        self._dropped = 0
        self._stop_reason: str | None = None
        self._anchors = token_anchors(self.text.grammar, tokenizer)
        """Which delimiters hold special-token text (see ``token_parser``)."""
        self._marks: SpecialMarks | None = None

    @property
    def stopped(self) -> bool:
        """The turn must stop reading the sampler (cut at a call)."""
        return self.text.stopped

    @property
    def calls(self) -> list[ToolCall]:
        """The completed calls of the current turn."""
        return self.text.calls

    @property
    def max_steps(self) -> int:
        return self.text.max_steps

    def begin(self) -> TurnStart:
        """Start the next turn; it samples ``self.ids``."""
        start = self.text.begin()
        assert self.text.parser is not None
        self._marks = SpecialMarks(self.text.parser, self._anchors)
        self._marks.install()
        self._ids, self._logprobs, self._ends = [], [], []
        self._detok = IncrementalDetokenizer(self.tokenizer.decode, context=self.ids)
        self._offset = 0
        self._consumed = 0
        self._span_text = ""
        self._dropped = 0
        self._stop_reason = None
        self.error = None
        self.truncated = False
        return start

    def _parse(self, piece: str, token: int | None = None) -> list[Event]:
        """Parse the text that ``token`` completed; a special id's text is marked
        as such, so that the same text from ordinary ids is never a delimiter."""
        assert self._marks is not None
        self._marks.arrive(piece, None if token is None else self._anchors.ids.get(token))
        return self.text.feed(piece)

    def _push(self, token: int, logprob: float | None) -> str:
        self._ids.append(token)
        self._logprobs.append(logprob)
        piece = self._detok.feed(token)
        self._offset += len(piece)
        self._ends.append(self._offset)
        return piece

    def feed(self, pairs: Iterable[Pair]) -> list[Event]:
        """Streamed ids (with logprobs): the events the caller may see.  Ids after
        the cut are counted as dropped and never parsed."""
        out: list[Event] = []
        for token, logprob in pairs:
            if self.text.stopped:
                self._dropped += 1
                continue
            piece = self._push(token, logprob)
            if piece:
                out.extend(self._parse(piece, token))
        return out

    def end_of_output(self, stop_reason: str | None = None) -> list[Event]:
        """The sample ended by itself (``stop_reason`` as the engine gave it)."""
        self._stop_reason = stop_reason
        if self.text.stopped:
            return []
        out: list[Event] = []
        rest = self._detok.close()  # bytes that never formed a character
        if rest and self._ends:
            self._offset += len(rest)
            self._ends[-1] = self._offset
            out.extend(self._parse(rest))
            if self.text.stopped:
                return out
        if stop_reason == "length" and self.text.calls:
            parser = self.text.parser
            assert parser is not None
            errors = [e for e in parser.close() if isinstance(e, Error)]
            if errors:  # a call was open when the token limit hit
                self.truncated = True
                self.error = errors[0]
                self.text.turn.events.append(errors[0])
                return out + self.text.emit([errors[0]])
            self.text.stopped = True
            return out
        closing = self.text.end_of_output()
        self.error = next((e for e in closing if isinstance(e, Error)), None)
        if stop_reason == "length" and not self.text.calls:
            self.truncated = True
        return out + closing

    def take(self, sample: AtomicSample) -> list[Event]:
        """A whole sample: fed id by id up to the cut; after it, the ids that write
        the continuation's fixed start are kept (see the module docstring)."""
        out: list[Event] = []
        pairs = list(zip(sample.tokens, sample.logprobs, strict=True))
        for n, (token, logprob) in enumerate(pairs):
            piece = self._push(token, logprob)
            if piece:
                out.extend(self._parse(piece, token))
            if self.text.stopped:
                self._stop_reason = sample.stop_reason
                self._tail = pairs[n + 1 :]
                self._tail_open = True
                return out
        return out + self.end_of_output(sample.stop_reason)

    def end_turn(self) -> TurnEnd:
        """Cut the turn at its last call's completing id (all of it without calls)
        and record the kept ids."""
        calls = self.text.calls
        if calls and not self.truncated:
            span_end = calls[-1].span[1]
            keep = bisect_left(self._ends, span_end) + 1
            output = "".join(self.text.output)
            self._span_text = output[:span_end]
            end = self._ends[keep - 1]
            fixed = _fixed_start(self.text, self._span_text, calls)
            written = output[span_end:end]
            consumed = _account(fixed, written)
            self._consumed = consumed or 0
            after = list(zip(self._ids[keep:], self._logprobs[keep:], strict=True)) + self._tail
            del self._ids[keep:], self._logprobs[keep:], self._ends[keep:]
            if consumed is not None and self._tail_open:
                end = self._keep_tail(end, fixed, after)
            self._dropped += len(after) - (len(self._ids) - keep)
            keep = len(self._ids)
        else:
            keep, end = len(self._ids), self._offset
        self._tail_open = False
        self._tail = []
        event = self.text.end_turn(end)
        start = len(self.completion)
        turn = TokenTurn(
            step=event.step,
            prompt_length=len(self.ids),
            sampled=range(start, start + keep),
            dropped=self._dropped,
            stop_reason=self._stop_reason,
            turn=self.text.turn,
        )
        self._record(self._ids, self._logprobs, 1)
        for call in calls if not self.truncated else ():
            first = bisect_right(self._ends, call.span[0])
            last = bisect_left(self._ends, call.span[1])
            turn.calls.append(range(start + first, start + last + 1))
        at = start + keep
        turn.closer = turn.results = turn.header = range(at, at)
        self.turns.append(turn)
        return event

    def _keep_tail(self, end: int, fixed: str, after: list[Pair]) -> int:
        """Extend the cut over the atomic sample's next ids while they write the
        continuation's fixed start (a stop token the engine kept); returns the new
        end of the kept text."""
        tail = ""
        text = "".join(self.text.output)[:end]
        detok = IncrementalDetokenizer(self.tokenizer.decode, context=self.ids + self._ids)
        for token, logprob in after:
            piece = detok.feed(token)
            if not piece or not fixed.startswith(piece, self._consumed):
                break
            tail += piece
            self._consumed += len(piece)
            self._ids.append(token)
            self._logprobs.append(logprob)
            end += len(piece)
            self._ends.append(end)
        self.text.output[:] = [text + tail]
        return end

    def _record(self, ids: Sequence[int], logprobs: Sequence[float | None], mask: int) -> None:
        self.ids.extend(ids)
        self.completion.extend(ids)
        self.mask.extend([mask] * len(ids))
        self.logprobs.extend(logprobs)

    def add_results(self, results: list[ToolResult]) -> list[int]:
        """Insert the rest of the continuation (closer, results, header) as ids
        with mask 0; returns them."""
        renderer = self.text.renderer
        continuation = renderer.continuation(self._span_text, results)
        appended = continuation[self._consumed :]
        self.text.add_results(results, appended)
        inserted = self.tokenizer.encode(appended) if appended else []
        # Token boundaries of the inserted parts, by the characters each id starts at.
        detok = IncrementalDetokenizer(self.tokenizer.decode, context=self.ids)
        starts: list[int] = []
        offset = 0
        for token in inserted:
            starts.append(offset)
            offset += len(detok.feed(token))
        closer_end = max(0, len(renderer.close_calls(self._span_text)) - self._consumed)
        header_start = max(0, len(continuation) - len(renderer.generation_prompt) - self._consumed)
        at = len(self.completion)
        a = at + bisect_left(starts, closer_end)
        b = at + bisect_left(starts, header_start)
        turn = self.turns[-1]
        turn.closer, turn.results, turn.header = (
            range(at, a),
            range(a, b),
            range(b, at + len(inserted)),
        )
        self._record(inserted, [0.0] * len(inserted), 0)
        return inserted

    def record(self, result: ToolResult) -> ToolResult:
        return self.text.record(result)

    def finish(self, reason: TokenReason) -> TokenLoopEnd:
        trajectory = Trajectory(
            prompt_ids=list(self.prompt_ids),
            completion_ids=list(self.completion),
            mask=list(self.mask),
            logprobs=list(self.logprobs),
            turns=self.turns,
            reason=reason,
            text=self.tokenizer.decode(self.prompt_ids + self.completion),
            events=self.text.events,
            error=self.error,
        )
        end = TokenLoopEnd(reason=reason, steps=len(self.turns), trajectory=trajectory)
        self.text.events.append(end)
        return end

    def outcome(self, end: TurnEnd) -> TokenReason | None:
        """How the loop ends after this turn, or None when its tools are to run."""
        if self.truncated:
            return "length"
        if end.reason == "stop":
            return "length" if self._stop_reason == "length" else "stop"
        return None


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
    launched.append(_launch(call, tools))


def _task_into(
    tasks: list[asyncio.Future[ToolResult]],
    tools: Mapping[str, Tool],
    timeout: float | None,
    call: ToolCall,
) -> None:
    tasks.append(asyncio.ensure_future(_arun_one(call, tools, timeout)))


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
            launched += [_launch(call, tools) for call in calls[len(launched) :]]
            outcomes: Iterable[ToolResult] = (_collect(one, timeout) for one in launched)
        else:
            outcomes = _execute(session.calls, tools, timeout, concurrent)
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
    end: TokenLoopEnd | None = None
    for event in iter_token_tool_loop(
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
    ):
        if on_event is not None:
            on_event(event)
        if isinstance(event, TokenLoopEnd):
            end = event
    assert end is not None
    return end.trajectory


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
                    asyncio.ensure_future(_arun_one(call, tools, timeout))
                    for call in calls[len(tasks) :]
                ]
            results: list[ToolResult] = []
            for i, call in enumerate(calls):
                result = await tasks[i] if concurrent else await _arun_one(call, tools, timeout)
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
    end: TokenLoopEnd | None = None
    async for event in aiter_token_tool_loop(
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
    ):
        if on_event is not None:
            shown = on_event(event)
            if inspect.isawaitable(shown):
                await shown
        if isinstance(event, TokenLoopEnd):
            end = event
    assert end is not None
    return end.trajectory
