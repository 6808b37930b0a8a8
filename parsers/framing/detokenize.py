"""Token ids in, text that can no longer change out.

Samplers of local engines and RL rollouts yield token ids, and the user's tokenizer
gives ``decode(ids) -> str``.  Decoding one token at a time is wrong: a character
whose UTF-8 bytes are spread over several byte-level tokens decodes as U+FFFD until
its last byte arrives, and SentencePiece-style decoders drop or add a leading space
depending on what comes before.  Decoding the whole prefix after every token is right
but quadratic.

``IncrementalDetokenizer`` keeps two offsets into the ids, as vLLM's and Hugging
Face's incremental detokenizers do: ``prefix`` (where the window of context starts)
and ``read`` (where the text already emitted ends).  For new ids it decodes the
window ``ids[prefix:read]`` and ``ids[prefix:]``; the text the second adds to the
first is new.  When it ends with U+FFFD (an incomplete character) only the text
before that run is emitted and the ids stay in the window until the character is
complete; every character is emitted by the feed of the id that completes it, which
is how the token loop knows the id that carried a call's completing character.  When
all ids are read the window slides (``prefix = read``, ``read = end``) and the ids
before it are forgotten.  Each decode is bounded by the window, so the
total cost is linear in the number of ids.

A model may really produce U+FFFD (or bytes that are not UTF-8): once
``max_pending`` more ids have arrived since the text first ended with U+FFFD, the
text is emitted as it decodes, so the window stays bounded whatever the model
writes.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Sequence

__all__ = ["DEFAULT_MAX_PENDING", "IncrementalDetokenizer", "adetokenize", "detokenize"]

DEFAULT_MAX_PENDING = 8
"""Ids that may wait for a character to complete: a UTF-8 character has at most 4
bytes, so a byte-level tokenizer needs 4; the margin covers tokenizers that spread
a byte sequence over more pieces."""

_REPLACEMENT = "\ufffd"

Decode = Callable[[Sequence[int]], str]


class IncrementalDetokenizer:
    """``feed(ids) -> new text`` / ``close() -> the rest`` over the user's ``decode``.

    ``context``: the last ids of the prompt, if any, decoded only for the context
    they give the first generated ids (a SentencePiece leading space); their text is
    never emitted.
    """

    def __init__(
        self,
        decode: Decode,
        *,
        context: Sequence[int] = (),
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self._decode = decode
        self.max_pending = max_pending
        self._ids: list[int] = list(context[-max_pending:])
        """The window: ``ids[prefix:]`` of the vLLM scheme, so ``prefix`` is 0."""
        self._read = len(self._ids)
        self._prefix_text = decode(self._ids) if self._ids else ""
        self._emitted = 0
        """Characters past ``_prefix_text`` already emitted while the window waits."""
        self._stalled_at: int | None = None
        """Window length when the text first ended with U+FFFD (None: not waiting);
        only ids received after it count against ``max_pending``, so a large batch
        that ends inside a character still waits for its last bytes."""

    def feed(self, ids: int | Iterable[int]) -> str:
        """The text that ``ids`` make final (often empty: a character is incomplete)."""
        if isinstance(ids, int):
            self._ids.append(ids)
        else:
            self._ids.extend(ids)
        if len(self._ids) == self._read:
            return ""
        text = self._decode(self._ids)
        if text.endswith(_REPLACEMENT):
            stable = text.rstrip(_REPLACEMENT)
            if self._stalled_at is None or self._new(stable):
                # Waiting starts (again) now: only later ids count against the limit.
                self._stalled_at = len(self._ids)
            if len(self._ids) - self._stalled_at < self.max_pending:
                return self._partial(stable)
        return self._advance(text)

    def close(self) -> str:
        """End of the ids: whatever is left, incomplete characters decoded as they are."""
        if len(self._ids) == self._read:
            return ""
        return self._advance(self._decode(self._ids))

    def _new(self, text: str) -> str:
        start = len(self._prefix_text) if text.startswith(self._prefix_text) else 0
        return text[start + self._emitted :]

    def _partial(self, stable: str) -> str:
        """The complete characters before a trailing incomplete one; no slide."""
        new = self._new(stable)
        self._emitted += len(new)
        return new

    def _advance(self, text: str) -> str:
        new = self._new(text)
        # Slide: the ids just read become the context of the next window.
        del self._ids[: self._read]
        self._read = len(self._ids)
        self._stalled_at = None
        self._emitted = 0
        self._prefix_text = self._decode(self._ids)
        return new


def detokenize(
    ids: Iterable[int | Sequence[int]],
    decode: Decode,
    *,
    context: Sequence[int] = (),
    max_pending: int = DEFAULT_MAX_PENDING,
) -> Iterator[str]:
    """Text chunks from a stream of ids (or of lists of ids): a sampler for the tool
    loop.  Closing this generator closes the id iterator, so a loop that stops at a
    call cancels the engine behind it."""
    detok = IncrementalDetokenizer(decode, context=context, max_pending=max_pending)
    iterator = iter(ids)
    try:
        for item in iterator:
            if text := detok.feed(item):
                yield text
    finally:
        if (close := getattr(iterator, "close", None)) is not None:
            close()
    if rest := detok.close():
        yield rest


async def adetokenize(
    ids: AsyncIterable[int | Sequence[int]],
    decode: Decode,
    *,
    context: Sequence[int] = (),
    max_pending: int = DEFAULT_MAX_PENDING,
) -> AsyncIterator[str]:
    """The async ``detokenize``; ``aclose()`` reaches the id iterator."""
    detok = IncrementalDetokenizer(decode, context=context, max_pending=max_pending)
    iterator = aiter(ids)
    try:
        async for item in iterator:
            if text := detok.feed(item):
                yield text
    finally:
        if (aclose := getattr(iterator, "aclose", None)) is not None:
            await aclose()
    if rest := detok.close():
        yield rest
