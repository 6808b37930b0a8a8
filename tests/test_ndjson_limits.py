"""Line and event limits at their edges under every chunking.

A line end never counts toward ``max_line_size``.  For NDJSON only CRLF and LF end a
line, so a CR that ends a chunk may still become the first half of a CRLF: it must not
count until the next byte says so (it used to, and a line of exactly the limit was
accepted whole but rejected when its CR came alone).  These tests feed lines of
limit - 1, limit and limit + 1 bytes, ending in LF, CRLF or a lone CR, to the NDJSON
and SSE decoders and to the Ollama parser, and compare every chunking with the
unsplit run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import chunkings, coalesce, run, split_at
from toolwire.framing.lines import FramingError
from toolwire.framing.ndjson import NdjsonDecoder
from toolwire.framing.sse import Frame, SseDecoder

LIMIT = 24
SIZES = (LIMIT - 1, LIMIT, LIMIT + 1)
ENDINGS = (b"\n", b"\r\n", b"\r")

Items = list[Frame | FramingError]


def decode(make: Callable[[], NdjsonDecoder | SseDecoder], chunks: list[bytes]) -> Items:
    decoder = make()
    out: Items = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    out.extend(decoder.close())
    return out


def splits(body: bytes, data: st.DataObject) -> list[list[bytes]]:
    """A drawn chunking, plus the two that matter most here: one byte at a time, and a
    cut just after every CR (so each CR ends a chunk)."""
    at_cr = [i + 1 for i, b in enumerate(body[:-1]) if b == 0x0D]
    return [
        data.draw(chunkings(body)),
        [body[i : i + 1] for i in range(len(body))],
        split_at(body, at_cr),
    ]


def ndjson() -> NdjsonDecoder:
    return NdjsonDecoder(max_line_size=LIMIT)


# -- examples ----------------------------------------------------------------------


@pytest.mark.parametrize("ending", [b"\n", b"\r\n"])
@pytest.mark.parametrize("size", SIZES)
def test_ndjson_line_at_the_limit_whatever_the_cut(size: int, ending: bytes) -> None:
    line = b"[" + b"1" * (size - 2) + b"]"
    body = line + ending + b"[2]\n"
    whole = decode(ndjson, [body])
    if size <= LIMIT:
        assert [(f.data, f.end) for f in whole if isinstance(f, Frame)] == [
            (line.decode(), len(line) + len(ending)),
            ("[2]", len(body)),
        ]
    else:
        assert [(e.code, e.offset) for e in whole if isinstance(e, FramingError)] == [
            ("limit_exceeded", LIMIT)
        ]
    for cut in range(1, len(body)):
        assert decode(ndjson, [body[:cut], body[cut:]]) == whole, cut
    assert decode(ndjson, [body[i : i + 1] for i in range(len(body))]) == whole


def test_ndjson_lone_cr_at_the_end_of_the_body_is_content() -> None:
    """No LF can follow a CR that ends the body: it counts, whatever the chunking."""
    body = b"[" + b"1" * (LIMIT - 2) + b"]\r"
    for chunks in ([body], [body[:-1], body[-1:]], [bytes([b]) for b in body]):
        assert [(e.code, e.offset) for e in decode(ndjson, chunks)] == [("limit_exceeded", LIMIT)]
    short = body[1:]
    for chunks in ([short], [short[:-1], short[-1:]]):
        [frame] = decode(ndjson, chunks)
        assert isinstance(frame, Frame) and frame.data == short.decode()
        assert not frame.terminated


# -- properties --------------------------------------------------------------------


@st.composite
def sized_line(draw: st.DrawFn, size: int, prefix: bytes = b"") -> bytes:
    """``size`` bytes without CR or LF, starting with ``prefix``: mostly ASCII, some
    bytes of any value (invalid UTF-8 must behave the same under any split too)."""
    filler = st.sampled_from([b"x", b"{", b'"', b" ", b"\xc3\xa9"[:1], b"\xa9", b"\xef"])
    rest = b"".join(draw(st.lists(filler, min_size=size, max_size=size)))
    return (prefix + rest)[:size].ljust(size, b"x")


@st.composite
def ndjson_bodies(draw: st.DrawFn) -> bytes:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        parts.append(draw(sized_line(draw(st.sampled_from(SIZES)))))
        parts.append(draw(st.sampled_from(ENDINGS)))
    return b"".join(parts)


@st.composite
def sse_bodies(draw: st.DrawFn) -> bytes:
    """Field lines around the line limit; ``data:`` lines (no space) of limit + 1 bytes
    carry limit - 3 bytes of event data, so the event limit is within reach too."""
    parts = []
    for _ in range(draw(st.integers(1, 5))):
        if draw(st.booleans()):
            prefix = draw(st.sampled_from([b"data:", b"data: ", b"event:", b":", b"id:"]))
            parts.append(draw(sized_line(draw(st.sampled_from(SIZES)), prefix)))
        parts.append(draw(st.sampled_from(ENDINGS)))
    return b"".join(parts)


@given(body=ndjson_bodies(), data=st.data())
def test_ndjson_limit_same_under_any_split(body: bytes, data: st.DataObject) -> None:
    whole = decode(ndjson, [body])
    for chunks in splits(body, data):
        assert decode(ndjson, chunks) == whole, chunks


@pytest.mark.parametrize("max_event_size", [LIMIT - 4, LIMIT - 3, 2 * LIMIT - 6])
@given(body=sse_bodies(), data=st.data())
def test_sse_limits_same_under_any_split(
    max_event_size: int, body: bytes, data: st.DataObject
) -> None:
    def make() -> SseDecoder:
        return SseDecoder(max_line_size=LIMIT, max_event_size=max_event_size)

    whole = decode(make, [body])
    for chunks in splits(body, data):
        assert decode(make, chunks) == whole, chunks


_OLLAMA = {"max_depth": 4, "max_argument_size": 48, "max_line_size": 96, "max_event_size": 128}


def _ollama_line(content: str, size: int) -> bytes:
    """An Ollama chat line of exactly ``size`` bytes (padded in the content)."""
    head = b'{"message":{"role":"assistant","content":"'
    tail = b'"},"done":false}'
    text = content.encode()[: size - len(head) - len(tail)]
    return head + text.ljust(size - len(head) - len(tail), b"x") + tail


@given(
    lines=st.lists(
        st.tuples(
            st.text("ab \u00e9", max_size=30),
            st.sampled_from((95, 96, 97)),
            st.sampled_from(ENDINGS),
        ),
        min_size=1,
        max_size=3,
    ),
    done=st.booleans(),
    data=st.data(),
)
def test_ollama_line_limit_same_under_any_split(
    lines: list[tuple[str, int, bytes]], done: bool, data: st.DataObject
) -> None:
    body = b"".join(_ollama_line(text, size) + end for text, size, end in lines)
    if done:
        body += b'{"message":{"role":"assistant","content":""},"done":true}\n'
    whole: list[dict[str, Any]] = coalesce(run("ollama", [body], **_OLLAMA))
    for chunks in splits(body, data):
        assert coalesce(run("ollama", chunks, **_OLLAMA)) == whole, chunks
