"""What a token rollout is made of and returns: the samplers' output shapes, each
turn's token ranges, and the ``Trajectory`` a trainer takes.

Theory of operation
-------------------
A sampler either streams ids (ids, ``(id, logprob)`` pairs, or lists of them:
``stream_pairs`` turns any of these into pairs) or returns one whole sample
(``atomic_sample`` recognises Tinker's ``SampledSequence``, a response holding
``sequences``, or an ``(ids, logprobs, stop_reason)`` tuple).  The rollout is one
token sequence: ``prompt_ids`` then ``completion_ids``, with a ``mask`` (1 sampled,
0 inserted) and ``logprobs`` (0.0 where inserted) aligned to the completion.  Each
``TokenTurn`` names its ranges in that sequence (the sampled part, each call's ids,
the inserted closer, results and next header), so a trainer can mask or weight them
without re-tokenising anything.
"""

from __future__ import annotations

from collections.abc import (
    Iterable,
    Sequence,
)
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeAlias

from ..events import Error, Event, ToolCall
from .renderer_base import ToolResult
from .turns import LoopOver, Turn

__all__ = [
    "AtomicSample",
    "Pair",
    "TokenLoopEnd",
    "TokenReason",
    "TokenTurn",
    "Trajectory",
    "atomic_sample",
    "stream_pairs",
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
class TokenLoopEnd(LoopOver[TokenReason]):
    """The token loop is over; ``trajectory`` holds the rollout."""

    type: ClassVar[str] = "token_loop_end"
    trajectory: Trajectory
