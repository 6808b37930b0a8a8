"""Helpers shared by the property tests that check a parser against an oracle.

Several format test files generate a document together with the exact events the
parser must emit for it. The bookkeeping for that (offsets, block ids, error
positions, the finish reason) is the same for every format, so it lives here; what
differs per format stays in the test file, as a subclass or a parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

import toolwire
from tests.conftest import chunkings, coalesce, run
from toolwire import ReasoningDelta, TextDelta, ToolCall


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of ``offset``; lines end at ``\\n`` only.

    Errors carry both, so the oracle must compute them the way the parser does.
    """
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def strip_messages(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``events`` without error messages: the oracle predicts codes, not wording."""
    return [{k: v for k, v in e.items() if k != "message"} for e in events]


def typed(events: list[Any], kind: str) -> list[Any]:
    """The events of type ``kind``, in order."""
    return [e for e in events if e.type == kind]


def summary(events: list[Any]) -> dict[str, Any]:
    """What a stream amounts to (content, reasoning, calls, error codes), for tests
    that care about the result rather than how it was split into events."""
    return {
        "content": "".join(e.text for e in events if e.type == "text_delta"),
        "reasoning": "".join(e.text for e in events if e.type == "reasoning_delta"),
        "calls": [(e.name, e.arguments) for e in events if e.type == "tool_call"],
        "errors": [e.code for e in events if e.type == "error"],
    }


def calls(events: list[Any]) -> list[ToolCall]:
    """The tool calls of a parse, for example tests that assert on them directly."""
    return [e for e in events if isinstance(e, ToolCall)]


def content(events: list[Any]) -> str:
    """All visible text of a parse, however it was split into deltas."""
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def reasoning(events: list[Any]) -> str:
    """All reasoning text of a parse, however it was split into deltas."""
    return "".join(e.text for e in events if isinstance(e, ReasoningDelta))


def feed_each(fmt: str, chunks: list[Any], **options: Any) -> list[list[Any]]:
    """The events of every feed() (one list per chunk) and, last, of close(), so a
    test can tell which chunk an event came out of."""
    parser = toolwire.parser(fmt, **options)
    outs = [parser.feed(chunk) for chunk in chunks]
    outs.append(parser.close())
    return outs


@dataclass
class OracleDoc:
    """A generated document and the coalesced events the parser must make of it.

    Generators append source with :meth:`add` and record what it must produce with
    :meth:`block` and :meth:`error`; format files subclass it for their calls.
    """

    text: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    """Expected tool_call events."""
    blocks: int = 0
    index: int = 0
    after_call: bool = False
    """Text or reasoning (not whitespace) after the last call: finish is "stop"."""
    tail: str = "none"
    """How the document ends (the values are format-specific)."""

    def add(self, text: str) -> int:
        """Append source text; returns its offset, for error positions and spans."""
        start = len(self.text)
        self.text += text
        return start

    def block(self, kind: str, content: str) -> None:
        """Expect a ``kind`` block (text or reasoning) holding ``content``, if any."""
        if not content:
            return
        bid = self.blocks
        self.blocks += 1
        self.events += [
            {"type": f"{kind}_start", "id": bid},
            {"type": f"{kind}_delta", "id": bid, "text": content},
            {"type": f"{kind}_end", "id": bid},
        ]
        if not content.isspace():
            self.after_call = True

    def error(self, code: str, offset: int) -> None:
        """Expect an error ``code`` at ``offset`` of the text added so far."""
        line, column = position(self.text, offset)
        self.events.append(
            {"type": "error", "code": code, "offset": offset, "line": line, "column": column}
        )

    def finish(self) -> dict[str, Any]:
        """``tool_calls`` when the output ends with calls (only whitespace after the
        last one), else ``stop``."""
        reason = "tool_calls" if self.calls and not self.after_call else "stop"
        return {"type": "finish", "reason": reason, "raw_reason": None, "usage": None}


def chunk_holding(text: str, chunks: list[Any], offset: int) -> int:
    """Index of the chunk of ``chunks`` (all of ``text``, as str or as UTF-8 bytes) that
    holds the character at ``offset`` (for bytes: that character's first byte), i.e. the
    feed() an event completed by that character must come out of."""
    as_bytes = bool(chunks) and isinstance(chunks[0], bytes)
    at = len(text[:offset].encode("utf-8")) if as_bytes else offset
    end = 0
    for k, chunk in enumerate(chunks):
        end += len(chunk)
        if end > at:
            return k
    raise AssertionError(f"offset {offset} lies past the last chunk")


# -- generated documents: the drivers every format's oracle tests share --------------------------

CallText = Callable[[str, Any], None]
"""A format's assertions about the text of a completed call (``text``, the event)."""


def earliest_completion(
    fmt: str, text: str, chunks: list[Any], completes: CallText | None = None, **options: Any
) -> list[list[Any]]:
    """The events of each feed() and of close(), after asserting that every tool_call
    comes out of the feed() whose chunk holds its completing character
    (``span[1] - 1``); ``completes`` checks the format's own completing text."""
    outs = feed_each(fmt, chunks, **options)
    for k, out in enumerate(outs):
        for done in typed(out, "tool_call"):
            if completes is not None:
                completes(text, done)
            assert k == chunk_holding(text, chunks, done.span[1] - 1), (done, k)
    return outs


def closing_brace(text: str, done: Any) -> None:
    """A JSON-bodied call completes at its object's ``}``."""
    assert text[done.span[1] - 1] == "}"


def chunked_oracle(
    data: Any,
    text: str,
    earliest: Callable[[list[Any]], list[list[Any]]],
    check: Callable[[list[dict[str, Any]]], None],
) -> None:
    """The oracle ``check`` under a generated chunking of ``text``, as str or as UTF-8
    bytes; ``earliest(chunks)`` feeds them, checking each call's completing feed()."""
    payload: Any = text.encode("utf-8") if data.draw(st.booleans()) else text
    outs = earliest(data.draw(chunkings(payload)))
    check(coalesce(event for out in outs for event in out))


def whole_char_byte_oracle(
    fmt: str, text: str, check: Callable[[list[dict[str, Any]]], None], **options: Any
) -> None:
    """The oracle ``check`` on the whole text; one character and one byte per feed()
    give the same coalesced events."""
    whole = coalesce(run(fmt, [text], **options))
    check(whole)
    assert coalesce(run(fmt, list(text), **options)) == whole
    raw = text.encode("utf-8")
    assert coalesce(run(fmt, [raw[i : i + 1] for i in range(len(raw))], **options)) == whole


def check_cut(events: list[dict[str, Any]], expected: list[dict[str, Any]]) -> list[str]:
    """A document cut inside a call: everything expected before the cut, then one
    ``truncated`` or ``unexpected_text`` error and no call, text or reasoning; returns
    the error codes after the expected events."""
    n = len(expected)
    assert events[:n] == expected
    rest = events[n:]
    errors = [e["code"] for e in rest if e["type"] == "error"]
    assert errors in (["truncated"], ["unexpected_text"]), rest
    assert not [e for e in rest if e["type"] in ("tool_call", "text_delta", "reasoning_delta")]
    return errors


def check_truncated_at_end(
    events: list[dict[str, Any]], expected: list[dict[str, Any]], text: str
) -> None:
    """A document cut inside a call whose start and argument text may have gone out:
    the expected events, maybe those, then ``truncated`` at the end of the text."""
    n = len(expected)
    assert events[:n] == expected
    rest = events[n:]
    kinds = [e["type"] for e in rest if e["type"] not in ("tool_call_start", "tool_call_delta")]
    assert kinds == ["error"], rest
    line, column = position(text, len(text))
    end = {"type": "error", "code": "truncated", "offset": len(text), "line": line}
    assert rest[-1] == {**end, "column": column}


# -- arbitrary input: the checks every format shares ---------------------------------------------

DOCUMENTED = {str(code) for code in toolwire.ErrorCode} - {"internal_error"}
"""Error codes a parser may report: every documented one but ``internal_error``."""

CallCheck = Callable[[str, list[Any]], None]
Normalise = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def _same(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return events


@dataclass(frozen=True)
class ArbitraryInput:
    """A format's generator of arbitrary input, for the shared guarantees of
    tests/test_guarantees.py: ``inputs`` draws ``(format, text, parser options)``;
    ``check_calls(text, events)`` checks what the format knows of each completed call
    (raw text, arguments, name); ``normalise`` maps coalesced events to what chunk
    invariance compares (identity but for a documented quirk)."""

    inputs: SearchStrategy[tuple[str, str, dict[str, Any]]]
    check_calls: CallCheck | None = None
    normalise: Normalise = _same


def check_clear_errors(
    fmt: str,
    text: str,
    chunks: list[Any],
    check_calls: CallCheck | None = None,
    normalise: Normalise = _same,
    **options: Any,
) -> list[Any]:
    """Guarantee 6 on one input (DESIGN.md): lenient mode raises nothing and reports
    only documented codes, each with a message and its exact offset, line and column;
    every call passes ``check_calls``.  Strict mode raises only ``ParseError``, for the
    lenient run's first error (code and position), carrying every event before it, and
    stays failed; without errors it delivers what lenient mode does.  Returns the
    lenient events."""
    events = run(fmt, chunks, **options)
    errors = typed(events, "error")
    for e in errors:
        assert e.code in DOCUMENTED, e
        assert type(e.offset) is int and type(e.line) is int and type(e.column) is int, e
        assert 0 <= e.offset <= len(text), e
        assert (e.line, e.column) == position(text, e.offset), (text, e)
        assert isinstance(e.message, str) and e.message, e
    if check_calls is not None:
        check_calls(text, events)
    before_first = normalise(coalesce(events[: events.index(errors[0])] if errors else events))
    parser = toolwire.parser(fmt, strict=True, **options)
    got: list[Any] = []
    try:
        for chunk in chunks:
            got += parser.feed(chunk)
        got += parser.close()
    except toolwire.ParseError as exc:
        assert errors, f"strict mode raised {exc.code} at {exc.offset}, lenient reported none"
        first = errors[0]
        assert (exc.code, exc.offset, exc.line, exc.column) == (
            first.code,
            first.offset,
            first.line,
            first.column,
        )
        assert normalise(coalesce(got + list(exc.events))) == before_first
        with pytest.raises(toolwire.ParseError):
            parser.feed("more")
        with pytest.raises(toolwire.ParseError):
            parser.close()
    else:
        assert not errors, f"strict mode did not raise for {errors[0]}"
        assert normalise(coalesce(got)) == before_first
    return events
