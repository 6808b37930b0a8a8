"""The token loop's bookkeeping: one rollout's ids, mask and logprobs, turn by turn.

Theory of operation
-------------------
``TokenSession`` wraps the text loop's state machine (``text_session.TextSession``), which
decides where a turn stops, and keeps the books in ids.  Each sampled id goes
through the incremental detokenizer, which emits every character with the id that
completes it, so a call's ``span[1]`` names its completing id; that id is kept whole
and what it carries past the call (the overhang, ``}\n``) is sampled text.  The
inserted continuation (closer + results + header, from the format's renderer) skips
what the overhang already wrote (``_account``).  For an atomic sample, the ids after
the cut are kept as sampled only while they write exactly the continuation's fixed
start (``_fixed_start``: the part that does not depend on the results, such as a
stop token the engine kept); the rest are dropped.  ``add_results`` encodes only the
inserted text and records it with mask 0.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import (
    Iterable,
    Mapping,
    Sequence,
)
from typing import Any

from ..engine.token_parser import SpecialMarks, token_anchors
from ..events import Error, Event, ToolCall
from ..framing.detokenize import IncrementalDetokenizer
from ..framing.tokenizer import Tokenizer, as_tokenizer
from .renderer_base import ToolResult
from .text_session import TextSession
from .trajectory import AtomicSample, Pair, TokenLoopEnd, TokenReason, TokenTurn, Trajectory
from .turns import DEFAULT_MAX_STEPS, TurnEnd, TurnStart

__all__ = ["TokenSession"]


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


def _fixed_start(session: TextSession, text: str, calls: Sequence[ToolCall]) -> str:
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
        prompt = self.tokenizer.decode(self.prompt_ids)
        self.text = TextSession(
            prompt, format, schemas, generation_prompt, max_steps, parallel_calls
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
