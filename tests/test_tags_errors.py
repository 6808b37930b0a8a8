"""Every error code of the ``tags`` parser, by example: exact code, offset, line and
column; the text before an error is delivered; parsing resumes after it (lenient);
strict mode raises ``ParseError`` with the same fields and stays failed.

Offsets are 0-based characters of the decoded input, lines and columns 1-based.
"""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from conftest import coalesce, run

import toolwire
from toolwire import ErrorCode, ParseError

FORMAT = "tags"


def events(data: Any, **options: Any) -> list[dict[str, Any]]:
    """Coalesced events of a whole input (str, bytes, or a list of chunks); errors
    without their free-text message."""
    chunks = data if isinstance(data, list) else [data]
    out = coalesce(run(FORMAT, chunks, **options))
    for e in out:
        if e["type"] == "error":
            assert e["message"]
            del e["message"]
    return out


def err(code: str, offset: int, line: int, column: int) -> dict[str, Any]:
    return {"type": "error", "code": code, "offset": offset, "line": line, "column": column}


def text(block: int, content: str) -> list[dict[str, Any]]:
    return [
        {"type": "text_start", "id": block},
        {"type": "text_delta", "id": block, "text": content},
        {"type": "text_end", "id": block},
    ]


def reasoning(block: int, content: str) -> list[dict[str, Any]]:
    return [
        {"type": "reasoning_start", "id": block},
        {"type": "reasoning_delta", "id": block, "text": content},
        {"type": "reasoning_end", "id": block},
    ]


def call(
    index: int,
    name: str | None,
    arguments: Any,
    raw: str,
    span: tuple[int, int],
    start_name: str | None = None,
) -> list[dict[str, Any]]:
    cid = f"call_{index}"
    return [
        {"type": "tool_call_start", "index": index, "id": cid, "name": start_name},
        {"type": "tool_call_delta", "index": index, "id": cid, "text": raw},
        {
            "type": "tool_call",
            "index": index,
            "id": cid,
            "name": name,
            "arguments": arguments,
            "raw": raw,
            "span": list(span),
        },
    ]


def started(index: int, name: str | None, delivered: str | None = None) -> list[dict[str, Any]]:
    """A call that started (and delivered some argument text) before it broke."""
    cid = f"call_{index}"
    out = [{"type": "tool_call_start", "index": index, "id": cid, "name": name}]
    if delivered is not None:
        out.append({"type": "tool_call_delta", "index": index, "id": cid, "text": delivered})
    return out


STOP = {"type": "finish", "reason": "stop", "raw_reason": None, "usage": None}
TOOL_CALLS = {"type": "finish", "reason": "tool_calls", "raw_reason": None, "usage": None}


def test_error_codes_are_documented() -> None:
    assert {c.value for c in ErrorCode} >= {
        "truncated",
        "invalid_json",
        "invalid_arguments",
        "unexpected_tag",
        "unexpected_text",
        "invalid_utf8",
        "limit_exceeded",
        "internal_error",
    }


# -- truncated ---------------------------------------------------------------------------


def test_truncated_right_after_tool_call_tag() -> None:
    assert events("say <tool_call>") == [*text(0, "say "), err("truncated", 15, 1, 16)]


def test_truncated_right_after_named_tag() -> None:
    assert events('<tool_call name="ping">') == [*started(0, "ping"), err("truncated", 23, 1, 24)]


def test_truncated_inside_json() -> None:
    # a cut call is never a call; its argument text so far was delivered
    src = '<tool_call>{"id": 7, '
    assert events(src) == [*started(0, None, '{"id": 7, '), err("truncated", 21, 1, 22)]


def test_truncated_inside_a_string_value() -> None:
    """A path cut short must not become a call (FORMATS.md 0: a dangerous prefix)."""
    src = '<tool_call>{"name": "rm", "arguments": {"path": "/home/user/pro'
    assert events(src) == [
        *started(0, "rm", '{"path": "/home/user/pro'),
        err("truncated", len(src), 1, len(src) + 1),
    ]


def test_truncated_inside_an_envelope_name() -> None:
    src = '<tool_call>{"name": "fetch_r'
    assert events(src) == [err("truncated", len(src), 1, len(src) + 1)]


def test_truncated_after_the_json_before_the_closing_tag() -> None:
    """Values are final at the closing ``}``: the call was reported there; the missing
    ``</tool_call>`` is still a truncation, and there is no finish."""
    src = '<tool_call>{"a": 1}\n'
    assert events(src) == [
        *call(0, None, {"a": 1}, '{"a": 1}', (0, 19)),
        err("truncated", 20, 2, 1),
    ]


def test_truncated_inside_analysis_keeps_the_reasoning() -> None:
    src = "hi\n<analysis>step 1\nstep 2"
    assert events(src) == [
        *text(0, "hi\n"),
        *reasoning(1, "step 1\nstep 2"),
        err("truncated", 26, 3, 7),
    ]


def test_truncated_inside_final_answer_keeps_the_text() -> None:
    assert events("<final_answer>The answer is") == [
        *text(0, "The answer is"),
        err("truncated", 27, 1, 28),
    ]


def test_truncated_with_a_held_closer_prefix_inside_analysis() -> None:
    """``</analysis`` held back at the end never became the closer: it is reasoning."""
    assert events("<analysis>a</analysis") == [
        *reasoning(0, "a</analysis"),
        err("truncated", 21, 1, 22),
    ]


@pytest.mark.parametrize(
    "tail",
    [
        "<",
        "<tool",
        "<tool_ca",
        "<tool_call",
        "</tool_cal",
        "<analysis",
        "<final_answer",
        '<tool_call name="x"',
        "<tool_call\n",
    ],
)
def test_held_tag_prefix_at_close_is_text(tail: str) -> None:
    """A possible tag held back at the end never became a tag: plain text, no error."""
    src = "so " + tail
    assert events(src) == [*text(0, src), STOP]
    assert events(list(src)) == [*text(0, src), STOP]


def test_no_finish_after_truncation() -> None:
    evs = events('<tool_call>{"a": 1}</tool_call><analysis>x')
    assert [e["type"] for e in evs][-1] == "error"
    assert not [e for e in evs if e["type"] == "finish"]


# -- invalid_json ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "at", "delivered"),
    [
        ('{"a":1,}', 7, '{"a":1,'),  # trailing comma: the `}`
        ('{"a" 1}', 5, '{"a" '),  # missing colon: the `1`
        ('{"a": tru}', 9, '{"a": tru'),  # broken literal: the `}`
        ('{"a": 01}', 7, '{"a": 0'),  # leading zero: the `1`
        ('{"a": NaN}', 6, '{"a": '),  # not JSON: the `N`
        ('{"a": "\x01"}', 7, '{"a": "'),  # raw control character
        ("{'a': 1}", 1, None),  # single quotes: no key yet, no start
        ("[1,]", 3, None),  # shape unknown until complete: no start
        ("hello", 0, None),
    ],
)
def test_invalid_json_offset_is_the_offending_character(
    body: str, at: int, delivered: str | None
) -> None:
    src = "<tool_call>" + body + "</tool_call>"
    offset = len("<tool_call>") + at
    head = started(0, None, delivered) if delivered is not None else []
    assert events(src) == [*head, err("invalid_json", offset, 1, offset + 1), STOP]
    # any chunking: same events
    assert events(list(src)) == events(src)


def test_invalid_json_unpaired_surrogate() -> None:
    for body in ('{"a": "\\ud800"}', '{"a": "\\ud800\\u0041"}', '{"a": "\\udc00"}'):
        src = "<tool_call>" + body + "</tool_call>"
        (error,) = [e for e in events(src) if e["type"] == "error"]
        assert error["code"] == "invalid_json"
        # inside the escape sequence that cannot pair, never after the string
        escape = src.rindex("\\u")
        assert escape <= error["offset"] <= src.index('"', escape), (body, error)


def test_invalid_json_position_on_a_later_line() -> None:
    src = "intro\n<tool_call>\n  {\n    hello</tool_call>"
    assert events(src) == [*text(0, "intro\n"), err("invalid_json", 26, 4, 5), STOP]


def test_invalid_json_then_parsing_resumes_after_the_closing_tag() -> None:
    """A bad call, then a good call and text: both survive; the skipped text of the
    bad call is dropped, the text before it delivered."""
    src = 'Before <tool_call>{"a":1,} junk </tool_call><tool_call>{"b":2}</tool_call> after'
    assert events(src) == [
        *text(0, "Before "),
        *started(0, None, '{"a":1,'),
        err("invalid_json", 25, 1, 26),
        *call(1, None, {"b": 2}, '{"b":2}', (44, 62)),
        *text(1, " after"),
        STOP,
    ]
    assert events(list(src)) == events(src)


def test_invalid_json_then_parsing_resumes_at_the_next_opening_tag() -> None:
    """An opening tag inside the broken body is kept: parsing restarts there."""
    src = '<tool_call>{"q": <analysis>why</analysis><tool_call>{"n": 1}</tool_call>ok'
    assert events(src) == [
        *started(0, None, '{"q": '),
        err("invalid_json", 17, 1, 18),
        *reasoning(0, "why"),
        *call(1, None, {"n": 1}, '{"n": 1}', (41, 60)),
        *text(1, "ok"),
        STOP,
    ]


def test_invalid_json_inside_an_envelope_after_its_name() -> None:
    """The name and the error arrive in one chunk."""
    src = '<tool_call>{"name": "f", "arguments": {"a": 1,}}</tool_call>'
    expected = [*started(0, "f", '{"a": 1,'), err("invalid_json", 46, 1, 47), STOP]
    assert events(src) == expected
    assert events(list(src)) == expected


def test_invalid_json_in_bare_arguments_with_an_arguments_key_any_chunking() -> None:
    """A bare object (first key ``a``) with its own ``arguments`` key, broken after
    it: the text delivered before the error does not depend on the chunking."""
    src = '<tool_call>{"a":1,"arguments":2,}</tool_call>'
    expected = [*started(0, None, '{"a":1,"arguments":2,'), err("invalid_json", 32, 1, 33), STOP]
    assert events([src[:15], src[15:]]) == expected
    assert events(src) == expected


# -- invalid_arguments --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "at", "head"),
    [
        ('{"name": "f"}', 0, started(0, "f")),
        ('{"name": "f", "arguments": {}, "x": 1}', 0, started(0, "f", "{}")),
        ('{"name": "f", "arguments": {}, "parameters": {}}', 0, started(0, "f", "{}")),
        ('{"name": 7, "arguments": {}}', 0, started(0, None, "{}")),
        ('{"arguments": {}}', 0, started(0, None, "{}")),
        ('{"name": "f", "arguments": [1, 2]}', 27, started(0, "f", "[1, 2]")),
        ('{"parameters": "x", "name": "f"}', 15, started(0, None, '"x"')),
        ("[1, 2]", 0, started(0, None, "[1, 2]")),
        ('"just text"', 0, started(0, None, '"just text"')),
        ("42", 0, started(0, None, "42")),
        ("null", 0, started(0, None, "null")),
    ],
)
def test_invalid_arguments(body: str, at: int, head: list[dict[str, Any]]) -> None:
    src = "<tool_call>" + body + "</tool_call>tail"
    offset = len("<tool_call>") + at
    assert events(src) == [
        *head,
        err("invalid_arguments", offset, 1, offset + 1),
        *text(0, "tail"),
        STOP,
    ]
    assert events(list(src)) == events(src)


def test_invalid_arguments_with_a_named_tag() -> None:
    src = '<tool_call name="f">[1]</tool_call>'
    assert events(src) == [*started(0, "f", "[1]"), err("invalid_arguments", 20, 1, 21), STOP]


def test_invalid_arguments_position_when_the_body_spans_lines() -> None:
    """The error is found at the body's end but lies at its start, lines earlier."""
    src = '<tool_call>\n{"name": "f",\n "x": 1}\n</tool_call>'
    assert events(src) == [*started(0, "f"), err("invalid_arguments", 12, 2, 1), STOP]


def test_invalid_arguments_position_of_a_multiline_arguments_value() -> None:
    src = '<tool_call>{\n  "name": "f",\n  "arguments": [\n    1\n  ]\n}</tool_call>'
    value = src.index("[")
    assert events(src) == [
        *started(0, "f", "[\n    1\n  ]"),
        err("invalid_arguments", value, 3, 16),
        STOP,
    ]


def test_invalid_arguments_then_the_next_call_survives() -> None:
    src = '<tool_call>[]</tool_call>\n<tool_call>{"ok": true}</tool_call>'
    assert events(src) == [
        *started(0, None, "[]"),
        err("invalid_arguments", 11, 1, 12),
        *text(0, "\n"),
        *call(1, None, {"ok": True}, '{"ok": true}', (26, 49)),
        TOOL_CALLS,
    ]


# -- unexpected_tag -------------------------------------------------------------------------


@pytest.mark.parametrize("closer", ["</analysis>", "</final_answer>", "</tool_call>"])
def test_unexpected_stray_closing_tag_at_top_level(closer: str) -> None:
    src = "a\nb " + closer + " c"
    assert events(src) == [*text(0, "a\nb "), err("unexpected_tag", 4, 2, 3), *text(1, " c"), STOP]
    assert events(list(src)) == events(src)


def test_unexpected_opening_tag_after_a_call_json() -> None:
    """The call was complete at its `}`; the opening tag is kept and parsed."""
    src = '<tool_call>{"a":1}\n<analysis>x</analysis>y'
    assert events(src) == [
        *call(0, None, {"a": 1}, '{"a":1}', (0, 18)),
        err("unexpected_tag", 19, 2, 1),
        *reasoning(0, "x"),
        *text(1, "y"),
        STOP,
    ]


def test_unexpected_second_tool_call_without_closing_the_first() -> None:
    src = '<tool_call>{"a":1}<tool_call>{"b":2}</tool_call>'
    assert events(src) == [
        *call(0, None, {"a": 1}, '{"a":1}', (0, 18)),
        err("unexpected_tag", 18, 1, 19),
        *call(1, None, {"b": 2}, '{"b":2}', (18, 36)),
        TOOL_CALLS,
    ]


def test_unexpected_closing_tag_after_a_call_json() -> None:
    src = '<tool_call>{"a":1}</final_answer></tool_call>z'
    evs = events(src)
    assert evs[:4] == [
        *call(0, None, {"a": 1}, '{"a":1}', (0, 18)),
        err("unexpected_tag", 18, 1, 19),
    ]
    assert evs[-4:] == [*text(0, "z"), STOP]


# -- unexpected_text ------------------------------------------------------------------------


def test_unexpected_text_between_json_and_closing_tag() -> None:
    src = '<tool_call>{"a":1} x</tool_call>after'
    assert events(src) == [
        *call(0, None, {"a": 1}, '{"a":1}', (0, 18)),
        err("unexpected_text", 19, 1, 20),
        *text(0, "after"),
        STOP,
    ]
    assert events(list(src)) == events(src)


def test_unexpected_text_position_after_newlines() -> None:
    src = '<tool_call>{"a":1}\n\n  junk <b> </tool_call>\nnext'
    assert events(src) == [
        *call(0, None, {"a": 1}, '{"a":1}', (0, 18)),
        err("unexpected_text", 22, 3, 3),
        *text(0, "\nnext"),
        STOP,
    ]


@pytest.mark.parametrize("char", ["\u00a0", "\x0b", "\x0c", "\u2028", "}", "<"])
def test_only_json_whitespace_may_follow_a_call(char: str) -> None:
    src = '<tool_call>{"a":1}' + char + "</tool_call>"
    evs = events(src)
    assert err("unexpected_text", 18, 1, 19) in evs
    assert [e["type"] for e in evs].count("tool_call") == 1


# -- invalid_utf8 ----------------------------------------------------------------------------


def test_invalid_utf8_in_text() -> None:
    evs = events(b"ok \xff there")
    assert [e for e in evs if e["type"] == "error"] == [err("invalid_utf8", 3, 1, 4)]
    assert "".join(e["text"] for e in evs if e["type"] == "text_delta") == "ok  there"
    # "ok " is delivered before the error
    assert evs.index(err("invalid_utf8", 3, 1, 4)) > [e["type"] for e in evs].index("text_delta")
    assert evs[-1] == STOP


def test_invalid_utf8_offset_counts_characters() -> None:
    evs = events(["é\n€".encode() + b"x\xffy\xc0\xaf"])
    assert [e for e in evs if e["type"] == "error"] == [
        err("invalid_utf8", 4, 2, 3),
        err("invalid_utf8", 5, 2, 4),
        err("invalid_utf8", 5, 2, 4),
    ]


def test_truncated_multibyte_sequence_at_close() -> None:
    evs = events([b"ok \xe2\x82"])
    start, delta, end = text(0, "ok ")
    assert evs == [start, delta, err("invalid_utf8", 3, 1, 4), end, STOP]


def test_multibyte_character_split_across_feeds_is_fine() -> None:
    assert events([b"price: \xe2", b"\x82", b"\xac5"]) == [*text(0, "price: €5"), STOP]


def test_invalid_utf8_inside_a_call_drops_the_call() -> None:
    src = b'<tool_call>{"a": "x\xffy"}</tool_call>after'
    expected = [
        *started(0, None, '{"a": "x'),
        err("invalid_utf8", 19, 1, 20),
        *text(0, "after"),
        STOP,
    ]
    assert events(src) == expected
    assert events([src[i : i + 1] for i in range(len(src))]) == expected


def test_invalid_utf8_inside_a_held_tag_prefix() -> None:
    """``<tool`` held back, then bad bytes: it can never become a tag, it is text."""
    evs = events(b"<tool\xff_call>")
    assert [e for e in evs if e["type"] == "error"] == [err("invalid_utf8", 5, 1, 6)]
    assert "".join(e["text"] for e in evs if e["type"] == "text_delta") == "<tool_call>"
    assert not [e for e in evs if e["type"].startswith("tool_call")]


# -- limit_exceeded --------------------------------------------------------------------------


def test_limit_argument_size() -> None:
    src = '<tool_call>{"a": "0123456789"}</tool_call>after'
    assert events(src, max_argument_size=10) == [
        *started(0, None, '{"a": "012'),
        err("limit_exceeded", 21, 1, 22),
        *text(0, "after"),
        STOP,
    ]


def test_limit_depth() -> None:
    src = '<tool_call>{"a":[[[1]]]}</tool_call>'
    assert events(src, max_depth=3) == [
        *started(0, None, '{"a":[['),
        err("limit_exceeded", 18, 1, 19),
        STOP,
    ]


def test_limit_holdback_of_an_endless_named_tag() -> None:
    src = 'x <tool_call name="' + "a" * 40 + '">{}</tool_call>y'
    evs = events(src, max_holdback=32)
    assert [e for e in evs if e["type"] == "error"] == [err("limit_exceeded", 2, 1, 3)]
    assert "".join(e["text"] for e in evs if e["type"] == "text_delta") == "x y"
    assert evs[-1] == STOP


def test_limit_float_overflow() -> None:
    src = '<tool_call>\n{"a": 1e999}</tool_call>'
    (error,) = [e for e in events(src) if e["type"] == "error"]
    assert error["code"] == "limit_exceeded"
    assert 12 <= error["offset"] <= src.index("1e999")
    assert (error["line"], error["column"]) == (2, error["offset"] - 12 + 1)


# -- strict mode ------------------------------------------------------------------------------


def test_strict_raises_with_the_lenient_fields_and_the_events_before_it() -> None:
    src = 'Hi <analysis>hm</analysis><tool_call>{"a":1,}</tool_call>'
    lenient = events(src)
    (expected,) = [e for e in lenient if e["type"] == "error"]
    parser = toolwire.parser(FORMAT, strict=True)
    with pytest.raises(ParseError) as info:
        parser.feed(src)
    exc = info.value
    assert (exc.code, exc.offset, exc.line, exc.column) == (
        expected["code"],
        expected["offset"],
        expected["line"],
        expected["column"],
    )
    assert str(exc) == exc.message and "line 1 column 45" in exc.message
    assert coalesce(exc.events) == lenient[: lenient.index(expected)]
    with pytest.raises(ParseError) as again:
        parser.feed("more")
    assert again.value.code == "invalid_json"
    with pytest.raises(ParseError):
        parser.close()


def test_strict_events_hold_only_the_failing_feed() -> None:
    parser = toolwire.parser(FORMAT, strict=True)
    first = parser.feed("Hello ")
    assert coalesce(first) == [
        {"type": "text_start", "id": 0},
        {"type": "text_delta", "id": 0, "text": "Hello "},
    ]
    with pytest.raises(ParseError) as info:
        parser.feed("world </analysis>")
    assert info.value.code == "unexpected_tag" and info.value.offset == 12
    assert coalesce(info.value.events) == [
        {"type": "text_delta", "id": 0, "text": "world "},
        {"type": "text_end", "id": 0},
    ]


def test_strict_truncation_raises_at_close_and_stays_failed() -> None:
    parser = toolwire.parser(FORMAT, strict=True)
    assert parser.feed('<tool_call>{"a": ') != []
    with pytest.raises(ParseError) as info:
        parser.close()
    assert (info.value.code, info.value.offset) == ("truncated", 17)
    with pytest.raises(ParseError):
        parser.close()
    with pytest.raises(ParseError):
        parser.feed("1}")


def test_strict_error_found_in_the_streamed_argument_fast_path() -> None:
    """The call is streaming (plain string chunks); the error comes in a later chunk."""
    parser = toolwire.parser(FORMAT, strict=True)
    parser.feed('<tool_call>{"a": "')
    parser.feed("plain text")
    with pytest.raises(ParseError) as info:
        parser.feed('"\x01')
    assert (info.value.code, info.value.offset) == ("invalid_json", 29)
    assert coalesce(info.value.events) == [
        {"type": "tool_call_delta", "index": 0, "id": "call_0", "text": '"'}
    ]
    with pytest.raises(ParseError):
        parser.feed("more plain text")


def test_strict_invalid_utf8_carries_events_and_stays_failed() -> None:
    parser = toolwire.parser(FORMAT, strict=True)
    with pytest.raises(ParseError) as info:
        parser.feed(b"ok \xff there")
    assert (info.value.code, info.value.offset, info.value.line, info.value.column) == (
        "invalid_utf8",
        3,
        1,
        4,
    )
    assert coalesce(info.value.events)[:2] == [
        {"type": "text_start", "id": 0},
        {"type": "text_delta", "id": 0, "text": "ok "},
    ]
    with pytest.raises(ParseError):
        parser.feed(b"more")
    with pytest.raises(ParseError):
        parser.close()


def test_strict_invalid_utf8_inside_a_streaming_call_stays_failed() -> None:
    """After the error, a str chunk must not be taken as more argument text."""
    parser = toolwire.parser(FORMAT, strict=True)
    parser.feed('<tool_call>{"a": "')
    parser.feed("streaming")
    with pytest.raises(ParseError) as info:
        parser.feed(b"\xff")
    assert (info.value.code, info.value.offset) == ("invalid_utf8", 27)
    for more in ("more text", '"}</tool_call>'):
        with pytest.raises(ParseError):
            parser.feed(more)


def test_strict_truncated_multibyte_at_close_stays_failed() -> None:
    parser = toolwire.parser(FORMAT, strict=True)
    parser.feed(b"ok \xe2\x82")
    with pytest.raises(ParseError) as info:
        parser.close()
    assert (info.value.code, info.value.offset) == ("invalid_utf8", 3)
    with pytest.raises(ParseError):
        parser.close()


def test_strict_without_errors_is_lenient() -> None:
    src = 'a <analysis>b</analysis><tool_call>{"c": 1}</tool_call>'
    assert coalesce(run(FORMAT, [src], strict=True)) == coalesce(run(FORMAT, [src]))


def test_parse_error_pickles() -> None:
    with pytest.raises(ParseError) as info:
        toolwire.parse("x </tool_call>", FORMAT, strict=True)
    back = pickle.loads(pickle.dumps(info.value))
    assert (back.code, back.offset, back.line, back.column, back.message) == (
        info.value.code,
        info.value.offset,
        info.value.line,
        info.value.column,
        info.value.message,
    )


def test_lenient_parse_never_raises_on_garbage() -> None:
    garbage = [
        "",
        "<",
        ">",
        "</",
        "<tool_call>" * 3,
        "</tool_call>" * 3,
        "<tool_call>{" * 50,
        "<tool_call>" + "[" * 2000,
        '<tool_call name="',
        "<analysis><analysis></analysis>",
        "<final_answer></analysis></final_answer></final_answer>",
        '<tool_call>{"name": {"arguments": 1}}</tool_call>',
        '<tool_call>{"a": "\\u12"}</tool_call>',
        "<tool_call>\ufeff{}</tool_call>",
    ]
    for src in garbage:
        evs = run(FORMAT, [src])
        assert all(e.code != "internal_error" for e in evs if e.type == "error"), src
        evs_b = run(FORMAT, [src.encode()])
        assert coalesce(evs_b) == coalesce(evs)
