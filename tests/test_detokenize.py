"""The incremental detokenizer, against toy tokenizers over generated Unicode text.

Byte-level: a token is any slice of the UTF-8 bytes (so characters are split across
tokens anywhere) and ``decode`` replaces incomplete sequences with U+FFFD, as real
byte-level tokenizers do.  SentencePiece-like: ``decode`` drops the leading space of
its first piece, so only a window with context decodes a later piece right.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import chunkings
from toolwire import IncrementalDetokenizer, adetokenize, detokenize

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


class ByteTokenizer:
    """Token ``i`` stands for ``pieces[i]``; counts how many ids ``decode`` reads."""

    def __init__(self, pieces: Sequence[bytes]) -> None:
        self.pieces = list(pieces)
        self.decoded = 0
        self.calls = 0

    def decode(self, ids: Sequence[int]) -> str:
        self.decoded += len(ids)
        self.calls += 1
        return b"".join(self.pieces[i] for i in ids).decode("utf-8", "replace")


@st.composite
def tokenized(draw: st.DrawFn, text: str) -> ByteTokenizer:
    data = text.encode()
    return ByteTokenizer(draw(chunkings(data, max_cuts=len(data))) if data else [])


@settings(max_examples=150)
@given(data=st.data(), text=_TEXT)
def test_byte_level_emits_only_final_text(data: st.DataObject, text: str) -> None:
    tok = data.draw(tokenized(text))
    ids = list(range(len(tok.pieces)))
    batches = data.draw(chunkings(ids)) if ids else []
    detok = IncrementalDetokenizer(tok.decode)
    out: list[str] = []
    for batch in batches:
        piece = detok.feed(batch)
        # Emitted text never changes later: it is a prefix of the true text.
        out.append(piece)
        assert text.startswith("".join(out))
        if "\ufffd" not in text:
            assert "\ufffd" not in piece
    out.append(detok.close())
    assert "".join(out) == text
    # Linear: every decode reads a bounded window, never the whole prefix.
    assert tok.decoded <= 3 * (2 * detok.max_pending + 1) * max(1, len(ids)) + 10


@settings(max_examples=60)
@given(text=_TEXT)
def test_one_id_at_a_time_is_linear(text: str) -> None:
    data = text.encode() * 20  # long enough for a quadratic decoder to show
    tok = ByteTokenizer([data[i : i + 1] for i in range(len(data))])
    detok = IncrementalDetokenizer(tok.decode)
    out = "".join(detok.feed(i) for i in range(len(data))) + detok.close()
    assert out == text * 20
    assert tok.decoded <= 8 * len(data) + 8  # each id is decoded a bounded number of times


def test_replacement_char_waits_then_is_bounded() -> None:
    tok = ByteTokenizer([b"\xe2", b"\x82", b"\xac", b"\xff"] + [b"\xff"] * 20)
    detok = IncrementalDetokenizer(tok.decode, max_pending=4)
    assert detok.feed(0) == "" and detok.feed(1) == ""  # an incomplete "€" waits
    assert detok.feed(2) == "€"
    # Bytes that never form a character: emitted as U+FFFD once max_pending ids waited.
    pieces = [detok.feed(i) for i in range(3, 24)]
    assert "".join(pieces) + detok.close() == "\ufffd" * 21
    assert max(len(p) for p in pieces) <= 5  # the first stalled id, then 4 more


_WORDS = st.lists(st.sampled_from(["hello", "wörld", "a", "δ", "🙂", "x y"]), max_size=12)


@settings(max_examples=60)
@given(words=_WORDS)
def test_sentencepiece_leading_space_needs_context(words: list[str]) -> None:
    pieces = ["▁" + w for w in words]

    def decode(ids: Sequence[int]) -> str:
        return "".join(pieces[i] for i in ids).replace("▁", " ").removeprefix(" ")

    ids = list(range(len(pieces)))
    naive = "".join(decode([i]) for i in ids)
    detok = IncrementalDetokenizer(decode)
    out = "".join(detok.feed(i) for i in ids) + detok.close()
    assert out == decode(ids)
    if len(words) > 1:
        assert naive != out  # decoding ids one by one loses the spaces


def test_context_ids_are_not_emitted() -> None:
    pieces = ["▁prompt", "▁tail", "▁out", "▁put"]

    def decode(ids: Sequence[int]) -> str:
        return "".join(pieces[i] for i in ids).replace("▁", " ").removeprefix(" ")

    detok = IncrementalDetokenizer(decode, context=[0, 1])
    assert detok.feed(2) + detok.feed([3]) + detok.close() == " out put"


def test_detokenize_closes_the_id_iterator() -> None:
    data = "ab€cd".encode()
    tok = ByteTokenizer([data[i : i + 1] for i in range(len(data))])
    closed: list[bool] = []

    def engine() -> Iterator[int]:
        try:
            yield from range(len(data))
        finally:
            closed.append(True)

    texts = detokenize(engine(), tok.decode)
    assert next(texts) == "a"
    texts.close()  # what the tool loop does at a stop
    assert closed == [True]
    assert "".join(detokenize(iter(range(len(data))), tok.decode)) == "ab€cd"


def test_adetokenize() -> None:
    data = "x€y".encode()
    tok = ByteTokenizer([data[i : i + 1] for i in range(len(data))])
    closed: list[bool] = []

    async def engine() -> AsyncIterator[list[int]]:
        try:
            for i in range(len(data)):
                yield [i]
        finally:
            closed.append(True)

    async def main() -> list[str]:
        return [t async for t in adetokenize(engine(), tok.decode)]

    assert asyncio.run(main()) == ["x", "€", "y"]
    assert closed == [True]


@settings(max_examples=100)
@given(data=st.data(), text=_TEXT)
def test_each_character_comes_with_the_id_that_completes_it(data: st.DataObject, text: str) -> None:
    # What the token loop relies on to find the id carrying a call's last character:
    # after id k, exactly the characters whose bytes lie in ids[: k + 1] are out
    # (a real U+FFFD at the end waits like an incomplete character, so none here).
    text = text.replace("\ufffd", "")
    tok = data.draw(tokenized(text))
    detok = IncrementalDetokenizer(tok.decode)
    out = ""
    end = 0
    for i, piece in enumerate(tok.pieces):
        out += detok.feed(i)
        end += len(piece)
        complete = text.encode()[:end].decode("utf-8", "ignore")
        assert out == complete
    assert out + detok.close() == text


def test_waiting_restarts_when_characters_come_out() -> None:
    # One batch completes a character and ends inside the next: the ids before the
    # new incomplete character do not count against max_pending.
    text = "\x80𐀀𐀀"
    data = text.encode()
    tok = ByteTokenizer([data[i : i + 1] for i in range(len(data))])
    detok = IncrementalDetokenizer(tok.decode)
    out = [detok.feed([0]), detok.feed(list(range(1, 9))), detok.feed([9])]
    assert out == ["", "\x80𐀀", "𐀀"]
