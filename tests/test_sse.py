"""The SSE and NDJSON decoders: examples of each rule, and properties against a
direct transcription of the WHATWG event-stream algorithm under arbitrary splits."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import chunkings
from toolwire.framing.lines import FramingError
from toolwire.framing.ndjson import NdjsonDecoder
from toolwire.framing.sse import Frame, SseDecoder


def decode(chunks: list[bytes], **options: Any) -> tuple[list[Frame | FramingError], SseDecoder]:
    decoder = SseDecoder(**options)
    out: list[Frame | FramingError] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    out.extend(decoder.close())
    return out, decoder


def frames(items: list[Frame | FramingError]) -> list[tuple[str, str, str]]:
    return [(f.event, f.data, f.id) for f in items if isinstance(f, Frame)]


def errors(items: list[Frame | FramingError]) -> list[tuple[str, int, int, int]]:
    return [(e.code, e.offset, e.line, e.column) for e in items if isinstance(e, FramingError)]


# -- the reference: the spec's algorithm, read literally, on the whole text ----------


def reference(body: bytes) -> tuple[list[tuple[str, str, str]], int | None, bool]:
    """(events, retry, truncated) per WHATWG HTML 9.2.6, on a valid UTF-8 body."""
    text = body.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    pieces = re.split(r"\r\n|\r|\n", text)
    lines, rest = pieces[:-1], pieces[-1]  # the last piece has no line end
    events: list[tuple[str, str, str]] = []
    data, kind, last_id, retry = "", "", "", None
    pending = False
    for line in lines:
        if line == "":
            pending = False
            if data == "":
                kind = ""
                continue
            if data.endswith("\n"):
                data = data[:-1]
            events.append((kind or "message", data, last_id))
            data, kind = "", ""
            continue
        if line.startswith(":"):
            continue
        pending = True
        if ":" in line:
            name, value = line.split(":", 1)
            if value.startswith(" "):
                value = value[1:]
        else:
            name, value = line, ""
        if name == "data":
            data += value + "\n"
        elif name == "event":
            kind = value
        elif name == "id":
            if "\0" not in value:
                last_id = value
        elif name == "retry" and value and all(c in "0123456789" for c in value):
            retry = int(value)
    return events, retry, pending or rest != ""


# -- examples --------------------------------------------------------------------


def test_fields_and_dispatch() -> None:
    body = b"event: add\ndata: a\ndata:b\ndata\nid: 7\nretry: 1500\n\n: comment\ndata: x\n\n"
    out, decoder = decode([body])
    assert frames(out) == [("add", "a\nb\n", "7"), ("message", "x", "7")]
    assert decoder.retry == 1500
    first = out[0]
    assert isinstance(first, Frame)
    assert (first.start, first.line) == (0, 1)
    assert first.end == body.index(b"\n\n") + 2  # just past the blank line's LF


def test_empty_data_buffer_dispatches_nothing_and_resets_type() -> None:
    out, _ = decode([b"event: x\n\ndata: y\n\n"])
    assert frames(out) == [("message", "y", "")]


def test_data_with_empty_value_is_dispatched() -> None:
    out, _ = decode([b"data:\n\n"])
    assert frames(out) == [("message", "", "")]


def test_bom_dropped_and_counted_in_offsets() -> None:
    out, _ = decode([b"\xef\xbb", b"\xbfdata: a\n\n"])
    assert frames(out) == [("message", "a", "")]
    assert isinstance(out[0], Frame) and out[0].start == 0


def test_bom_only_at_start() -> None:
    out, _ = decode([b"data: a\n\n\xef\xbb\xbfdata: b\n\n"])
    assert frames(out) == [("message", "a", "")]  # "\ufeffdata" is an unknown field


def test_cr_crlf_lf_and_cr_at_chunk_end() -> None:
    out, _ = decode([b"data: a\r", b"\ndata: b\r", b"\r", b"\ndata: c\n\r\n"])
    assert frames(out) == [("message", "a\nb", ""), ("message", "c", "")]


def test_blank_line_ending_in_cr_dispatches_in_that_feed() -> None:
    decoder = SseDecoder()
    assert decoder.feed(b"data: a\r") == []
    out = decoder.feed(b"\r")
    assert frames(out) == [("message", "a", "")]
    assert decoder.feed(b"\n") == []  # the LF completes the CRLF, nothing more


def test_no_splitlines_on_unicode_separators() -> None:
    out, _ = decode(["data: a\u2028b\u0085c\x0bd\n\n".encode()])
    assert frames(out) == [("message", "a\u2028b\u0085c\x0bd", "")]


def test_id_with_nul_ignored_and_id_persists() -> None:
    out, _ = decode([b"id: 1\ndata: a\n\nid: x\x00y\ndata: b\n\n"])
    assert frames(out) == [("message", "a", "1"), ("message", "b", "1")]


def test_retry_must_be_digits() -> None:
    _, decoder = decode([b"retry: 12a\n\nretry: 30\n\nretry:\n\n"])
    assert decoder.retry == 30


def test_split_utf8_character() -> None:
    body = "data: é€😀\n\n".encode()
    out, _ = decode([bytes([b]) for b in body])
    assert frames(out) == [("message", "é€😀", "")]


def test_invalid_utf8_reported_and_event_dropped() -> None:
    out, _ = decode([b"data: ok\n\ndata: a\xffb\ndata: more\n\ndata: next\n\n"])
    assert frames(out) == [("message", "ok", ""), ("message", "next", "")]
    assert errors(out) == [("invalid_utf8", 17, 3, 8)]


def test_unterminated_last_event_is_truncated() -> None:
    out, _ = decode([b"data: a\n\ndata: b"])
    assert frames(out) == [("message", "a", "")]
    assert errors(out) == [("truncated", 16, 3, 8)]
    out, _ = decode([b"data: a\n\ndata: b\n"])
    assert errors(out) == [("truncated", 17, 4, 1)]


def test_trailing_comment_lines_are_not_truncation() -> None:
    out, _ = decode([b"data: a\n\n: keep-alive\n"])
    assert errors(out) == []


def test_line_limit() -> None:
    body = b"data: " + b"x" * 50 + b"\ndata: y\n\ndata: z\n\n"
    for chunks in ([body], [bytes([b]) for b in body]):
        out, _ = decode(chunks, max_line_size=20)
        assert frames(out) == [("message", "z", "")]
        assert errors(out) == [("limit_exceeded", 20, 1, 21)]


def test_event_limit() -> None:
    out, _ = decode([b"data: 12345\ndata: 67890\n\ndata: z\n\n"], max_event_size=8)
    assert frames(out) == [("message", "z", "")]
    assert errors(out) == [("limit_exceeded", 12, 2, 1)]


# -- properties ------------------------------------------------------------------

_values = st.text(
    st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=12
)
_names = st.sampled_from(["data", "event", "id", "retry", "x", "data ", "", "dat"])


@st.composite
def sse_bodies(draw: st.DrawFn) -> bytes:
    """Random field lines, comments and blank lines with mixed line ends; sometimes a
    BOM, sometimes an unterminated tail."""
    parts: list[str] = ["\ufeff"] if draw(st.booleans()) else []
    for _ in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(["field", "field", "bare", "comment", "blank", "retry"]))
        if kind == "field":
            line = draw(_names) + ":" + draw(st.sampled_from(["", " ", "  "])) + draw(_values)
        elif kind == "bare":
            line = draw(_names)
        elif kind == "comment":
            line = ":" + draw(_values)
        elif kind == "retry":
            line = "retry: " + draw(st.sampled_from(["10", "7x", "", "٣"]))
        else:
            line = ""
        parts.append(line + draw(st.sampled_from(["\n", "\r", "\r\n"])))
    if draw(st.booleans()):
        parts.append(draw(_names) + ":" + draw(_values))
    return "".join(parts).encode("utf-8")


@given(body=sse_bodies(), data=st.data())
def test_matches_reference_under_any_split(body: bytes, data: st.DataObject) -> None:
    events, retry, truncated = reference(body)
    out, decoder = decode(data.draw(chunkings(body)))
    assert frames(out) == events
    assert decoder.retry == retry
    assert [e[0] for e in errors(out)] == (["truncated"] if truncated else [])


@given(body=sse_bodies(), data=st.data())
def test_positions_do_not_depend_on_chunking(body: bytes, data: st.DataObject) -> None:
    whole, _ = decode([body])
    split, _ = decode(data.draw(chunkings(body)))
    assert whole == split
    for frame in whole:
        if isinstance(frame, Frame):
            assert body[frame.end - 1 : frame.end] in (b"\r", b"\n")


@given(body=st.binary(max_size=200), data=st.data())
def test_arbitrary_bytes_same_items_any_split(body: bytes, data: st.DataObject) -> None:
    whole, _ = decode([body], max_line_size=40, max_event_size=60)
    split, _ = decode(data.draw(chunkings(body)), max_line_size=40, max_event_size=60)
    assert whole == split


# -- NDJSON ------------------------------------------------------------------------


def nd(chunks: list[bytes]) -> list[Frame | FramingError]:
    decoder = NdjsonDecoder(max_line_size=64)
    out: list[Frame | FramingError] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    out.extend(decoder.close())
    return out


def test_ndjson_lines() -> None:
    body = b'{"a":1}\r\n\n  \n{"b":"\xc3\xa9"}\n{"c":3}'
    out = nd([body])
    assert [(f.data, f.line, f.terminated) for f in out if isinstance(f, Frame)] == [
        ('{"a":1}', 1, True),
        ('{"b":"é"}', 4, True),
        ('{"c":3}', 5, False),
    ]
    assert out == nd([bytes([b]) for b in body])


def test_ndjson_cr_is_not_a_line_end() -> None:
    out = nd([b'{"a":\r1}\n'])
    assert [f.data for f in out if isinstance(f, Frame)] == ['{"a":\r1}']


def test_ndjson_errors() -> None:
    out = nd([b'{"a":"\xff"}\n' + b"x" * 70 + b'\n{"ok":1}\n'])
    assert [f.data for f in out if isinstance(f, Frame)] == ['{"ok":1}']
    assert errors(out) == [("invalid_utf8", 6, 1, 7), ("limit_exceeded", 74, 2, 65)]
