"""The ``hermes`` format (FORMATS.md sections 2 and 12; decisions in
``toolwire/formats/hermes.py``): Qwen2.5, Qwen3, QwQ and Hermes ``<tool_call>`` JSON
envelopes with ``<think>`` reasoning.

Readable examples first, each checked whole, character by character and byte by byte:
the template's shape and separators, every generation-prompt start state, key order and
``parameters``, calls inside unclosed reasoning, marker text inside JSON strings and
reasoning, parallel calls with any separator, truncation at every character, unknown
tools, strict mode and error positions.  Then property tests over two generators:

* ``documents()`` builds an output part by part (content, reasoning blocks, calls in
  every layout and key order, a forced-open or closed reasoning prompt, a truncated
  tail) together with the exact events it must produce (``tests/oracle.py``);
* ``lark_documents`` derives outputs from ``grammars/hermes.lark`` itself
  (``hypothesis.extra.lark.from_lark``).

Offsets are character offsets in the output (the prompt tail does not count).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib import resources
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark

import toolwire
from tests.conftest import chunkings, coalesce, run
from tests.oracle import (
    ArbitraryInput,
    OracleDoc,
    check_truncated_at_end,
    chunked_oracle,
    closing_brace,
    earliest_completion,
    position,
    strip_messages,
    summary,
    typed,
    whole_char_byte_oracle,
)
from toolwire import ParseError
from toolwire.registry import compiled

FORMAT = "hermes"
PLAIN = "<|im_start|>assistant\n"
FORCED_OPEN = "<|im_start|>assistant\n<think>\n"
THINKING_OFF = "<|im_start|>assistant\n<think>\n\n</think>\n\n"
ERROR_CODES = {code.value for code in toolwire.ErrorCode} - {toolwire.ErrorCode.INTERNAL_ERROR}
TOOLS = [
    {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
    for name in ("fetch_row", "ping", "run_cmd")
]


def envelope(name: str, args: Any, key: str = "arguments", name_first: bool = True) -> str:
    """The JSON body as the template writes it (``tojson``: ``", "`` and ``": "``)."""
    members = [f'"name": {json.dumps(name)}', f'"{key}": {json.dumps(args)}']
    return "{" + ", ".join(members if name_first else members[::-1]) + "}"


def call(name: str, args: Any, compact: bool = False, **options: Any) -> str:
    """A whole call block, with the template's newlines or without any."""
    body = envelope(name, args, **options)
    return f"<tool_call>{body}</tool_call>" if compact else f"<tool_call>\n{body}\n</tool_call>"


def check(src: str, fmt: str = FORMAT, **options: Any) -> list[Any]:
    """Events of the whole text, after checking that char-by-char and byte-by-byte
    feeding give the same events."""
    whole = run(fmt, [src], **options)
    assert coalesce(run(fmt, list(src), **options)) == coalesce(whole)
    data = src.encode("utf-8")
    assert coalesce(run(fmt, [data[i : i + 1] for i in range(len(data))], **options)) == coalesce(
        whole
    )
    return whole


def errors(events: list[Any]) -> list[tuple[str, int]]:
    return [(e.code, e.offset) for e in typed(events, "error")]


# -- the template's shape ------------------------------------------------------------------


def test_one_call_exact_events() -> None:
    src = 'Checking.\n<tool_call>\n{"name": "fetch_row", "arguments": {"id": 7}}\n</tool_call>'
    start = src.index("<tool_call>")
    end = src.index("}}") + 2
    assert [e.to_json() for e in check(src)] == [
        {"type": "text_start", "id": 0},
        {"type": "text_delta", "id": 0, "text": "Checking."},
        {"type": "text_end", "id": 0},
        {"type": "tool_call_start", "index": 0, "id": "call_0", "name": "fetch_row"},
        {"type": "tool_call_delta", "index": 0, "id": "call_0", "text": '{"id": 7}'},
        {
            "type": "tool_call",
            "index": 0,
            "id": "call_0",
            "name": "fetch_row",
            "arguments": {"id": 7},
            "raw": '{"id": 7}',
            "span": [start, end],
        },
        {"type": "finish", "reason": "tool_calls", "raw_reason": None, "usage": None},
    ]


def test_qwen3_thinking_shape() -> None:
    """``<think>\\n`` + reasoning + ``\\n</think>\\n\\n`` + content + ``\\n`` + calls
    joined by ``\\n``: every newline there is template separator."""
    src = (
        "<think>\nThe user wants rows 1 and 2.\n</think>\n\nFetching both.\n"
        + call("fetch_row", {"id": 1})
        + "\n"
        + call("fetch_row", {"id": 2})
    )
    events = check(src)
    assert summary(events) == {
        "content": "Fetching both.",
        "reasoning": "The user wants rows 1 and 2.",
        "calls": [("fetch_row", {"id": 1}), ("fetch_row", {"id": 2})],
        "errors": [],
    }
    assert [(c.index, c.id) for c in typed(events, "tool_call")] == [(0, "call_0"), (1, "call_1")]
    assert typed(events, "finish")[0].reason == "tool_calls"


@pytest.mark.parametrize(
    ("reasoning", "expected"),
    [
        ("\nR\n", "R"),
        ("\n\nR\n\n\n", "R"),  # any run of newlines is separator
        ("R", "R"),
        (" \nR \n", " \nR "),  # spaces are text
        ("\nline 1\n\nline 2\n", "line 1\n\nline 2"),
    ],
)
def test_reasoning_loses_only_its_surrounding_newlines(reasoning: str, expected: str) -> None:
    events = check("<think>" + reasoning + "</think>\n\nHi")
    assert summary(events)["reasoning"] == expected
    assert summary(events)["content"] == "Hi"


@pytest.mark.parametrize(
    ("between", "content"),
    [
        ("\n\n", "Hi"),
        ("", "Hi"),
        ("\n\n\n", "Hi"),  # the template removes every leading newline of content
        ("\n \n", " \nHi"),  # a space is not a separator
    ],
)
def test_content_after_think_loses_leading_newlines(between: str, content: str) -> None:
    assert summary(check("<think>R</think>" + between + "Hi"))["content"] == content


@pytest.mark.parametrize("before", ["", "\n", " ", "  \n\t", "\r\n", "\n\n"])
def test_whitespace_right_before_a_call_is_separator(before: str) -> None:
    src = "Sure." + before + call("ping", {}) + "\n\nDone.  \n"
    assert summary(check(src))["content"] == "Sure.Done.  \n"


def test_text_after_calls_is_content_and_finish_says_stop() -> None:
    src = call("ping", {}) + "\nI called ping."
    events = check(src)
    assert summary(events)["content"] == "I called ping."
    assert typed(events, "finish")[0].reason == "stop"
    # Only whitespace after the call: the output ends with calls.
    assert typed(check(call("ping", {}) + "\n \n"), "finish")[0].reason == "tool_calls"


# -- the call body ---------------------------------------------------------------------------


def test_arguments_before_name() -> None:
    """Hermes 2 Pro's prompt shows ``{"arguments": ..., "name": ...}``: the start has
    no name yet, the call has it."""
    src = call("fetch_row", {"id": 7}, name_first=False)
    events = check(src)
    assert [(s.index, s.name) for s in typed(events, "tool_call_start")] == [(0, None)]
    (done,) = typed(events, "tool_call")
    assert (done.name, done.arguments, done.raw) == ("fetch_row", {"id": 7}, '{"id": 7}')


@pytest.mark.parametrize("name_first", [True, False])
def test_parameters_is_accepted_for_arguments(name_first: bool) -> None:
    src = call("fetch_row", {"id": 7}, key="parameters", name_first=name_first)
    assert summary(check(src))["calls"] == [("fetch_row", {"id": 7})]


def test_json_values_are_never_retyped_by_the_schema() -> None:
    """Arguments are JSON, typed by the model: a schema saying ``integer`` leaves the
    string ``"7"`` a string (only raw-value formats are typed by the schema)."""
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "limit": {"type": "string"},
            "flag": {"type": "boolean"},
        },
    }
    tools = [{"type": "function", "function": {"name": "fetch_row", "parameters": schema}}]
    (done,) = typed(
        check(call("fetch_row", {"id": "7", "limit": 7, "flag": "true"}), tools=tools), "tool_call"
    )
    assert done.arguments == {"id": "7", "limit": 7, "flag": "true"}


def test_empty_and_nested_arguments() -> None:
    args = {"a": {"b": [1, {"c": None}], "d": "x"}, "e": [], "f": {}, "g": 1e-7, "h": 10**30}
    src = call("ping", {}) + call("fetch_row", args)
    events = check(src)
    assert summary(events)["calls"] == [("ping", {}), ("fetch_row", args)]
    assert [c.raw for c in typed(events, "tool_call")] == ["{}", json.dumps(args)]


# -- double-encoded arguments ------------------------------------------------------------------

# vLLM PR #54964 ("Stop double-encoding tool call arguments"): Granite 4 writes the
# arguments as a JSON string holding the object, inside an ordinary Hermes envelope.
GRANITE = (
    '<tool_call>{"name": "get_db_config", "arguments": '
    '"{\\n  \\"param\\": \\"max_connections\\"\\n}"}</tool_call>'
)


@pytest.mark.parametrize("fmt", [FORMAT, "tags"])
def test_double_encoded_arguments_are_decoded_once(fmt: str) -> None:
    """The call's ``arguments`` is the object the string holds; ``raw`` and the argument
    deltas are the string literal as the model wrote it (they concatenate to ``raw``).
    Strict mode accepts it too: it is a call, not an error."""
    literal = GRANITE[GRANITE.index('"{') : GRANITE.rindex("}</")]
    events = check(GRANITE, fmt)
    assert [e.to_json() for e in events] == [
        {"type": "tool_call_start", "index": 0, "id": "call_0", "name": "get_db_config"},
        {"type": "tool_call_delta", "index": 0, "id": "call_0", "text": literal},
        {
            "type": "tool_call",
            "index": 0,
            "id": "call_0",
            "name": "get_db_config",
            "arguments": {"param": "max_connections"},
            "raw": literal,
            "span": [0, GRANITE.rindex("}") + 1],
        },
        {"type": "finish", "reason": "tool_calls", "raw_reason": None, "usage": None},
    ]
    assert json.loads(json.loads(literal)) == {"param": "max_connections"}
    assert coalesce(run(fmt, [GRANITE], strict=True)) == coalesce(events)


def test_double_encoded_arguments_stream_as_written() -> None:
    """The string's text goes out while it arrives, before the call completes."""
    src = "<tool_call>" + envelope("run_cmd", json.dumps({"cmd": "x" * 40})) + "</tool_call>"
    parser = toolwire.parser(FORMAT)
    out = parser.feed(src[: src.index("x") + 10])
    assert [e.type for e in out] == ["tool_call_start", "tool_call_delta"]
    assert out[1].text == '"{\\"cmd\\": \\"' + "x" * 10
    rest = parser.feed(src[src.index("x") + 10 :]) + parser.close()
    (done,) = typed(rest, "tool_call")
    assert done.arguments == {"cmd": "x" * 40}
    assert "".join(d.text for d in typed(out + rest, "tool_call_delta")) == done.raw


@pytest.mark.parametrize(
    "literal",
    ['"[1, 2]"', '"\\"{}\\""', '"{\\"a\\": 1} trailing"', '"{bad}"', '""', '"{\\"a\\": NaN}"'],
    ids=["array", "string-in-string", "trailing", "not-json", "empty", "nan"],
)
def test_a_string_that_does_not_hold_an_object_is_invalid_arguments(literal: str) -> None:
    """Decoded at most once and only into an object: anything else stays an error at the
    string's first character, and the next call survives."""
    body = '{"name": "f", "arguments": ' + literal + "}"
    src = "<tool_call>" + body + "</tool_call>" + call("ping", {})
    events = check(src)
    assert errors(events) == [("invalid_arguments", len("<tool_call>") + body.index(literal))]
    assert summary(events)["calls"] == [("ping", {})]


def test_double_encoded_arguments_within_the_depth_limit() -> None:
    """The string's content is held to the engine's limits (depth, strict JSON)."""
    deep = "[" * 20 + "]" * 20
    ok = "<tool_call>" + envelope("f", json.dumps({"a": json.loads(deep)})) + "</tool_call>"
    assert summary(check(ok, max_depth=30))["calls"] == [("f", {"a": json.loads(deep)})]
    assert summary(check(ok, max_depth=10))["errors"] == ["invalid_arguments"]


@pytest.mark.parametrize(
    "body",
    [
        '{"name":"ping","arguments":{}}',
        '  {  "name" :"ping" ,\t"arguments":  { }  }  ',
        '{\n  "name": "ping",\n  "arguments": {}\n}',
        '\r\n{"name": "ping", "arguments": {}}\r\n',
    ],
)
def test_irregular_json_spacing_and_no_newlines(body: str) -> None:
    """The tags alone delimit the call; JSON whitespace inside them is layout."""
    events = check("<tool_call>" + body + "</tool_call>")
    assert summary(events) == {
        "content": "",
        "reasoning": "",
        "calls": [("ping", {})],
        "errors": [],
    }


def test_pretty_printed_closing_braces_in_one_chunk() -> None:
    """vLLM #32152: MTP delivered ``}\\n}\\n</tool_call>`` in one delta and the last
    ``}`` was lost."""
    body = json.dumps({"name": "fetch_row", "arguments": {"id": 7, "q": {"k": "v"}}}, indent=2)
    head = "<tool_call>\n" + body[: body.index("}")]
    rest = body[body.index("}") :] + "\n</tool_call>"
    events = run(FORMAT, [head, rest])
    assert summary(events)["calls"] == [("fetch_row", {"id": 7, "q": {"k": "v"}})]
    assert typed(events, "tool_call")[0].raw == body[body.index('{\n    "id"') : -2]


def test_unicode_arguments_are_kept_as_written() -> None:
    """Non-ASCII text is never re-escaped (vLLM re-escaped it as ``\\u00fc``)."""
    args = '{"q": "Zürich 日本 😀", "e": "\\u00fc"}'
    src = '<tool_call>\n{"name": "run_cmd", "arguments": ' + args + "}\n</tool_call>"
    (done,) = typed(check(src), "tool_call")
    assert done.arguments == {"q": "Zürich 日本 😀", "e": "ü"}
    assert done.raw == args


@pytest.mark.parametrize(
    "value",
    [
        "</tool_call>",
        "<tool_call>\n",
        "a </tool_call> b <tool_call> c",
        "<think>x</think>",
        "}}\n</tool_call>",
        '{"name": "ping", "arguments": {}}',  # a string that looks like an envelope
        "<|im_end|>",
    ],
)
def test_marker_text_inside_json_strings_is_data(value: str) -> None:
    src = call("run_cmd", {"cmd": value}) + call("ping", {})
    events = check(src)
    assert summary(events) == {
        "content": "",
        "reasoning": "",
        "calls": [("run_cmd", {"cmd": value}), ("ping", {})],
        "errors": [],
    }


def test_marker_text_inside_keys_and_names() -> None:
    args = {"</tool_call>": 1, "<think>": {"</think>": "<tool_call>"}}
    src = call("run</tool_call>", args)
    assert summary(check(src))["calls"] == [("run</tool_call>", args)]


# -- several calls ---------------------------------------------------------------------------


@pytest.mark.parametrize("sep", ["", "\n", "\n\n", " ", "\r\n", "\t \n"])
def test_parallel_calls_with_any_separator(sep: str) -> None:
    src = call("fetch_row", {"id": 1}) + sep + call("ping", {}, compact=True) + sep
    src += call("fetch_row", {"id": 2}, key="parameters", name_first=False)
    events = check(src)
    assert summary(events) == {
        "content": "",
        "reasoning": "",
        "calls": [("fetch_row", {"id": 1}), ("ping", {}), ("fetch_row", {"id": 2})],
        "errors": [],
    }
    assert [c.index for c in typed(events, "tool_call")] == [0, 1, 2]


def test_several_calls_in_one_chunk_with_trailing_content() -> None:
    """Speculative decoding and relays deliver whole calls at once: every event of the
    chunk comes out of that one feed()."""
    src = "A" + call("ping", {}) + call("fetch_row", {"id": 3}) + "B"
    parser = toolwire.parser(FORMAT)
    out = parser.feed(src)
    assert [e.type for e in out].count("tool_call") == 2
    assert summary(out + parser.close())["content"] == "AB"


# -- generation prompts (start states) -------------------------------------------------------


@pytest.mark.parametrize("prompt", [None, "", PLAIN])
def test_plain_prompt_starts_in_content_and_the_model_may_open_think(prompt: str | None) -> None:
    src = "<think>\nHmm.\n</think>\n\nHi." + call("ping", {})
    assert summary(check(src, generation_prompt=prompt)) == {
        "content": "Hi.",
        "reasoning": "Hmm.",
        "calls": [("ping", {})],
        "errors": [],
    }


def test_thinking_disabled_prompt_starts_in_content() -> None:
    src = "Hi.\n" + call("ping", {})
    assert summary(check(src, generation_prompt=THINKING_OFF)) == {
        "content": "Hi.",
        "reasoning": "",
        "calls": [("ping", {})],
        "errors": [],
    }


def test_forced_open_prompt_starts_in_reasoning() -> None:
    """Thinking-2507 / QwQ: the prompt opened ``<think>``, the output only closes it."""
    src = "I'm\nthinking\n</think>\n\nHello" + call("ping", {})
    events = check(src, generation_prompt=FORCED_OPEN)
    assert summary(events) == {
        "content": "Hello",
        "reasoning": "I'm\nthinking",
        "calls": [("ping", {})],
        "errors": [],
    }
    # Offsets count the output only.
    assert typed(events, "tool_call")[0].span[0] == src.index("<tool_call>")


def test_forced_open_output_without_the_prompt_is_content() -> None:
    """The pitfall: a parser that waits for ``<think>`` treats all reasoning as content.
    Without ``generation_prompt`` the stray ``</think>`` is text (stray tags are text)."""
    src = "I'm thinking</think>\n\nHello"
    assert summary(check(src)) == {"content": src, "reasoning": "", "calls": [], "errors": []}


def test_reasoning_cut_short_is_still_reasoning() -> None:
    src = "Still thinking about it"
    events = check(src, generation_prompt=FORCED_OPEN)
    assert summary(events)["reasoning"] == src
    assert errors(events) == [("truncated", len(src))]
    events = check("<think>\nStill")
    assert summary(events)["reasoning"] == "Still"
    assert errors(events) == [("truncated", len("<think>\nStill"))]


# -- calls and tags inside reasoning ----------------------------------------------------------


@pytest.mark.parametrize("sep", ["\n\n", "\n", "", " "])
@pytest.mark.parametrize("name_first", [True, False])
def test_call_inside_unclosed_reasoning_ends_it(sep: str, name_first: bool) -> None:
    """Models open calls from unclosed thinking: ``<tool_call>`` followed by a call
    head ends the reasoning and opens the call."""
    src = "I should fetch row 7." + sep + call("fetch_row", {"id": 7}, name_first=name_first)
    src += "\nDone."
    events = check(src, generation_prompt=FORCED_OPEN)
    assert summary(events) == {
        "content": "Done.",
        "reasoning": "I should fetch row 7." + sep.strip("\n"),
        "calls": [("fetch_row", {"id": 7})],
        "errors": [],
    }
    assert typed(events, "tool_call")[0].span[0] == src.index("<tool_call>")


def test_call_inside_an_opened_think_block_ends_it() -> None:
    src = "<think>\nLet me call it.\n" + call("ping", {}, key="parameters")
    assert summary(check(src)) == {
        "content": "",
        "reasoning": "Let me call it.",
        "calls": [("ping", {})],
        "errors": [],
    }


@pytest.mark.parametrize(
    "mention",
    [
        "Maybe a <tool_call> block?",
        "I could write <tool_call>\n{ } or <tool_call>{name} there.",
        "A <tool_call></tool_call> pair, then <think> again.",
        "<tool_call>\n[1, 2]",
        '<tool_call> {"city": "Paris"}',  # a call head needs an envelope key
    ],
)
def test_tool_call_mentioned_in_reasoning_stays_reasoning(mention: str) -> None:
    src = mention + "\n</think>\n\nNo tool needed."
    assert summary(check(src, generation_prompt=FORCED_OPEN)) == {
        "content": "No tool needed.",
        "reasoning": mention,
        "calls": [],
        "errors": [],
    }
    assert summary(check("<think>" + src))["reasoning"] == mention


# -- truncation ------------------------------------------------------------------------------

CUT_CALL = call("run_cmd", {"cmd": "rm -rf /tmp/build", "n": [1, {"k": True}]})
_BODY_END = CUT_CALL.index("}}") + 2


@pytest.mark.parametrize("cut", range(len("<tool_call>"), _BODY_END))
def test_cut_call_is_an_error_never_a_call(cut: int) -> None:
    """Cut anywhere from the end of ``<tool_call>`` to before the envelope's ``}``: a
    ``truncated`` error at the end of the input, no call, no marker in the content."""
    src = "Deleting.\n" + CUT_CALL[:cut]
    events = check(src)
    assert typed(events, "tool_call") == []
    assert errors(events) == [("truncated", len(src))]
    assert summary(events)["content"] == "Deleting."
    assert not typed(events, "finish")
    with pytest.raises(ParseError) as info:
        run(FORMAT, [src], strict=True)
    assert (info.value.code, info.value.offset) == ("truncated", len(src))


@pytest.mark.parametrize("cut", range(1, len("<tool_call>")))
def test_cut_inside_the_opening_tag_is_text(cut: int) -> None:
    """Until ``<tool_call>`` is complete it is not a marker: a fragment at the end of
    the output is text."""
    src = "Deleting.\n" + CUT_CALL[:cut]
    assert summary(check(src)) == {"content": src, "reasoning": "", "calls": [], "errors": []}


@pytest.mark.parametrize("tail", ["", "\n", " \n "])
def test_input_may_end_after_the_envelope(tail: str) -> None:
    """A client that stops generating at the ``tool_call`` event closes cleanly."""
    src = CUT_CALL[:_BODY_END] + tail
    events = check(src)
    assert summary(events)["calls"] == [
        ("run_cmd", {"cmd": "rm -rf /tmp/build", "n": [1, {"k": True}]})
    ]
    assert errors(events) == []
    assert typed(events, "finish")[0].reason == "tool_calls"


@pytest.mark.parametrize("cut", range(_BODY_END + 2, len(CUT_CALL)))
def test_cut_inside_the_closing_tag(cut: int) -> None:
    """The call stays; the input ended inside ``</tool_call>`` where only whitespace
    or the closer may stand: ``truncated`` at the fragment's start (the core's rule
    for a cut delimiter), never text."""
    src = CUT_CALL[:cut]
    events = check(src)
    assert len(typed(events, "tool_call")) == 1
    assert errors(events) == [("truncated", _BODY_END + 1)]
    assert summary(events)["content"] == ""


def test_calls_before_a_cut_one_stay() -> None:
    src = call("ping", {}) + "\n" + CUT_CALL[:40]
    events = check(src)
    assert summary(events)["calls"] == [("ping", {})]
    assert errors(events) == [("truncated", len(src))]


# -- errors, recovery, unknown tools, strict mode -----------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "at"),
    [
        ("free text", "invalid_json", 1),  # "f" may begin "false"
        ('{"name": "f", "arguments": {"a": }}', "invalid_json", 33),
        ('{"name": "f", "arguments": {}} x', "unexpected_text", 31),
        ('{"name": "f", "arguments": {}}{"name": "g", "arguments": {}}', "unexpected_text", 30),
        ('{"name": "f"}', "invalid_arguments", 0),
        ('{"name": 3, "arguments": {}}', "invalid_arguments", 0),
        ('{"name": "f", "arguments": {}, "id": "x"}', "invalid_arguments", 0),
        ('{"name": "f", "arguments": [1]}', "invalid_arguments", 27),
        ('{"name": "f", "arguments": "[1]"}', "invalid_arguments", 27),  # not an object
        ('{"name": "f", "arguments": "\\"{}\\""}', "invalid_arguments", 27),  # decoded once
        ("[1, 2]", "invalid_arguments", 0),
        ("<|im_end|>", "invalid_json", 0),
    ],
)
def test_malformed_call_then_parsing_resumes(body: str, code: str, at: int) -> None:
    """The error points at the offending character; parsing goes on after the next
    ``</tool_call>``, so the next call survives."""
    bad = "<tool_call>" + body + "</tool_call>"
    src = "Hi\n" + bad + "ok" + call("ping", {})
    events = check(src)
    offset = len("Hi\n<tool_call>") + at
    assert errors(events) == [(code, offset)]
    (err,) = typed(events, "error")
    assert (err.line, err.column) == position(src, offset)
    assert summary(events)["content"] == "Hiok"
    assert [c.name for c in typed(events, "tool_call")] == ["f"] * (code == "unexpected_text") + [
        "ping"
    ]


def test_recovery_restarts_at_a_think_or_tool_call_opener() -> None:
    """Lenient recovery skips to the next ``<tool_call>`` or ``<think>`` (kept) or past
    the next ``</tool_call>``; the broken call keeps its index."""
    src = "<tool_call>{oops <think>R</think>A<tool_call>{bad" + call("ping", {}) + "B"
    events = check(src)
    assert errors(events) == [("invalid_json", 12), ("invalid_json", src.index("bad"))]
    assert summary(events)["reasoning"] == "R"
    assert summary(events)["content"] == "AB"
    assert [(c.index, c.name) for c in typed(events, "tool_call")] == [(2, "ping")]


def test_stray_tags_in_content_are_text() -> None:
    src = "a</tool_call>b</think>c<|im_end|>"
    assert summary(check(src)) == {"content": src, "reasoning": "", "calls": [], "errors": []}


def test_unknown_tool_is_an_error_and_other_calls_survive() -> None:
    src = call("fetch_row", {"id": 1}) + "\n" + call("rm_everything", {"path": "/"})
    src += "\n" + call("ping", {})
    events = check(src, tools=TOOLS)
    assert errors(events) == [("unknown_tool", src.index("<tool_call>", 10))]
    assert [(c.index, c.name) for c in typed(events, "tool_call")] == [
        (0, "fetch_row"),
        (2, "ping"),
    ]
    # Without tools= any name is accepted.
    assert [c.name for c in typed(run(FORMAT, [src]), "tool_call")] == [
        "fetch_row",
        "rm_everything",
        "ping",
    ]


def test_strict_mode_raises_at_the_first_error_and_stays_failed() -> None:
    parser = toolwire.parser(FORMAT, strict=True)
    before = parser.feed('Hi <tool_call>\n{"name": ')
    assert summary(before)["content"] == "Hi"
    with pytest.raises(ParseError) as info:
        parser.feed("oops}")
    assert (info.value.code, info.value.offset, info.value.line, info.value.column) == (
        "invalid_json",
        len('Hi <tool_call>\n{"name": '),
        2,
        10,
    )
    with pytest.raises(ParseError):
        parser.feed("more")
    with pytest.raises(ParseError):
        parser.close()


def test_strict_mode_accepts_what_lenient_mode_accepts() -> None:
    src = "<think>\nR\n</think>\n\nHi\n" + call("ping", {}) + call("fetch_row", {"id": 1})
    assert coalesce(run(FORMAT, [src], strict=True)) == coalesce(run(FORMAT, [src]))


# -- completion ------------------------------------------------------------------------------


def test_tool_call_comes_from_the_feed_holding_the_closing_brace() -> None:
    src = call("fetch_row", {"id": 7})
    end = src.index("}}") + 2
    parser = toolwire.parser(FORMAT)
    assert not typed(parser.feed(src[: end - 1]), "tool_call")
    assert [c.arguments for c in typed(parser.feed(src[end - 1 : end]), "tool_call")] == [{"id": 7}]
    assert not typed(parser.feed(src[end:]) + parser.close(), "tool_call")


def test_argument_text_streams_before_the_call_completes() -> None:
    src = call("run_cmd", {"cmd": "x" * 50})
    parser = toolwire.parser(FORMAT)
    out = parser.feed(src[: src.index("x") + 20])
    assert [e.type for e in out] == ["tool_call_start", "tool_call_delta"]
    assert out[1].text == '{"cmd": "' + "x" * 20


# -- the oracle generator ------------------------------------------------------------------------

MARKERS = ["<tool_call>", "</tool_call>", "<think>", "</think>", "<|im_end|>", "<|im_start|>"]
NEAR_MISSES = [
    "<",
    "</",
    "<tool",
    "<tool_call",
    "</tool_call",
    "<think",
    "</think",
    "< think>",
    "<tool_call >",
    '{"name": "x"}',
    '{"name"',
    "{",
    "}",
    '"',
    "\\",
]
ODD = [" ", "\n", "\n\n", "\r\n", "\t", "é", "日本", "😀", "\u2028", "\x00", "a", "x y"]
FRAGMENTS = MARKERS + NEAR_MISSES + ODD

raw_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=8).map(
    "".join
)

IN_TEXT = re.compile(r"<tool_call>|<think>")
"""What opens a block in content; every other tag there is text."""
IN_REASONING = re.compile(
    r"</think>|<tool_call>(?=[ \t\r\n]{0,64}\{[ \t\r\n]{0,64}\"(?:name|arguments|parameters)\")"
)
"""What ends reasoning (a call opener only with a call head after it)."""


def break_matches(text: str, pattern: re.Pattern[str]) -> str:
    """Every match of ``pattern`` broken by a space after its first character."""
    while (m := pattern.search(text)) is not None:
        text = text[: m.start() + 1] + " " + text[m.start() + 1 :]
    return text


json_strings = st.one_of(
    st.text(max_size=6),
    st.sampled_from([*MARKERS, "}", "{", '"', "\\", "😀", "\u2028", "\x00", "}}\n</tool_call>"]),
)
json_keys = st.one_of(
    st.sampled_from(["a", "id", "name", "arguments", "</tool_call>", ""]), json_strings
)
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**20), 10**20),
        st.floats(allow_nan=False, allow_infinity=False),
        json_strings,
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(json_keys, inner, max_size=3)
    ),
    max_leaves=8,
)
objects = st.dictionaries(json_keys, json_values, max_size=4)
names = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz_ABC0123456789-.:/é日<>", min_size=1, max_size=10
)
json_ws = st.sampled_from(["", "", " ", "\n", "\n  ", "\t", "\r\n"])


@st.composite
def dumps(draw: st.DrawFn, value: Any) -> str:
    style = draw(st.sampled_from(["compact", "default", "indent"]))
    ascii_ = draw(st.booleans())
    if style == "compact":
        return json.dumps(value, ensure_ascii=ascii_, separators=(",", ":"))
    if style == "indent":
        return json.dumps(value, ensure_ascii=ascii_, indent=draw(st.integers(0, 2)))
    return json.dumps(value, ensure_ascii=ascii_)


@st.composite
def envelopes(draw: st.DrawFn) -> tuple[str, int, str, str, Any, bool]:
    """(envelope text, offset of the arguments in it, their raw text, name, arguments,
    whether the name comes first), in any key order and spacing."""
    name = draw(names)
    args = draw(objects)
    raw = draw(dumps(args))
    if draw(st.integers(0, 4)) == 0:
        # double-encoded: decoded once, ``raw`` (and the deltas) the string as written
        raw = json.dumps(raw, ensure_ascii=draw(st.booleans()))
    key = draw(st.sampled_from(["arguments", "parameters"]))
    colon = draw(st.sampled_from([": ", ":", " : ", ":\n "]))
    name_member = '"name"' + colon + json.dumps(name, ensure_ascii=draw(st.booleans()))
    name_first = draw(st.booleans())
    text = "{" + draw(json_ws)
    if name_first:
        text += name_member + draw(st.sampled_from([", ", ",", ",\n  "]))
    text += f'"{key}"' + colon
    at = len(text)
    text += raw
    if not name_first:
        text += draw(st.sampled_from([", ", ",", "\n, "])) + name_member
    text += draw(json_ws) + "}"
    return text, at, raw, name, args, name_first


@dataclass(kw_only=True)
class Doc(OracleDoc):
    """A generated hermes output and the events it must give."""

    prompt: str | None = None


def add_text(doc: Doc, text: str, before_call: bool) -> None:
    """A content run: its leading newlines are separator, and so is its trailing
    whitespace when a call opener ends it (section 12)."""
    text = break_matches(text, IN_TEXT)
    doc.add(text)
    visible = text.lstrip("\n")
    doc.block("text", visible.rstrip(" \t\r\n") if before_call else visible)


def add_reasoning(doc: Doc, body: str, closed: bool) -> None:
    """A reasoning run: its leading newlines, and its trailing ones when ``</think>`` or
    a call ends it, are separator."""
    doc.add(body)
    body = body.lstrip("\n")
    doc.block("reasoning", body.rstrip("\n") if closed else body)


def add_call(draw: st.DrawFn, doc: Doc, close: str) -> None:
    """``<tool_call>`` + layout + envelope + layout + ``close``, recording its events."""
    start = doc.add("<tool_call>" + draw(json_ws))
    body, at, raw, name, args, name_first = draw(envelopes())
    at += doc.add(body)
    index = doc.index
    doc.index += 1
    done = {
        "type": "tool_call",
        "index": index,
        "id": f"call_{index}",
        "name": name,
        "arguments": args,
        "raw": raw,
        "span": [start, len(doc.text)],
    }
    doc.events += [
        {
            "type": "tool_call_start",
            "index": index,
            "id": f"call_{index}",
            "name": name if name_first else None,
        },
        {"type": "tool_call_delta", "index": index, "id": f"call_{index}", "text": raw},
        done,
    ]
    doc.calls.append(done)
    doc.after_call = False
    doc.add(draw(json_ws) + close)


def reasoning_text(draw: st.DrawFn) -> str:
    return break_matches(draw(raw_text), IN_REASONING)


@st.composite
def documents(draw: st.DrawFn) -> Doc:
    """An output of text, reasoning blocks and calls with its oracle; ``tail`` says how
    it ends: "none" (complete), "open_call" (``</tool_call>`` missing at the end),
    "open_think" (reasoning cut short) or "cut_call" (cut inside a call's JSON)."""
    doc = Doc()
    mode = draw(st.sampled_from(["plain", "off", "forced", "forced_call"]))
    doc.prompt = {"plain": draw(st.sampled_from([None, PLAIN])), "off": THINKING_OFF}.get(
        mode, FORCED_OPEN
    )
    if mode != "plain" and mode != "off":
        r = reasoning_text(draw)
        if mode == "forced_call":  # the call ends the reasoning
            r = break_matches(r + draw(st.sampled_from(["", "\n", "\n\n"])), IN_REASONING)
            add_reasoning(doc, r, closed=True)
            add_call(draw, doc, "</tool_call>")
        else:
            add_reasoning(doc, break_matches(r + "\n", IN_REASONING), closed=True)
            doc.add("</think>")
    pending = ""
    for kind in draw(st.lists(st.sampled_from(["text", "text", "call", "think"]), max_size=6)):
        if kind == "text":
            pending += draw(raw_text)
            continue
        if pending:
            add_text(doc, pending, before_call=kind == "call")
            pending = ""
        if kind == "call":
            add_call(draw, doc, "</tool_call>")
        else:
            doc.add("<think>")
            add_reasoning(doc, reasoning_text(draw), closed=True)
            if draw(st.integers(0, 3)):
                doc.add("</think>")
            else:
                add_call(draw, doc, "</tool_call>")
    doc.tail = draw(st.sampled_from(["none", "none", "open_call", "open_think", "cut_call"]))
    if pending:
        add_text(doc, pending, before_call=doc.tail in ("open_call", "cut_call"))
    if doc.tail == "open_call":
        add_call(draw, doc, "")
    elif doc.tail == "open_think":
        doc.add("<think>")
        add_reasoning(doc, reasoning_text(draw), closed=False)
        doc.error("truncated", len(doc.text))
    elif doc.tail == "cut_call":
        saved = (list(doc.events), list(doc.calls), doc.index, doc.after_call)
        start = len(doc.text)
        add_call(draw, doc, "</tool_call>")
        end = doc.calls[-1]["span"][1]
        doc.events, doc.calls, doc.index, doc.after_call = saved
        doc.text = doc.text[: draw(st.integers(start + len("<tool_call>"), end - 1))]
    return doc


def check_oracle(doc: Doc, events: list[dict[str, Any]]) -> None:
    events = strip_messages(events)
    if doc.tail in ("none", "open_call"):
        assert events == [*doc.events, doc.finish()]
    elif doc.tail == "open_think":
        assert events == doc.events
    else:  # cut_call: everything before the call, maybe its start and argument text
        check_truncated_at_end(events, doc.events, doc.text)


def check_earliest_completion(
    text: str, chunks: list[Any], fmt: str = FORMAT, **options: Any
) -> list[list[Any]]:
    """Each tool_call comes out of the feed() whose chunk holds its completing ``}``
    (``span[1] - 1``); returns the events of each feed() and of close()."""
    return earliest_completion(fmt, text, chunks, closing_brace, **options)


@given(doc=documents(), data=st.data())
def test_oracle_events_and_earliest_completion(doc: Doc, data: st.DataObject) -> None:
    """Every block, call and error of the document with its offsets, whatever the
    chunking (str or UTF-8 bytes); each tool_call from the feed() holding its ``}``."""
    feed = partial(check_earliest_completion, doc.text, generation_prompt=doc.prompt)
    chunked_oracle(data, doc.text, feed, partial(check_oracle, doc))


@given(doc=documents())
def test_oracle_whole_char_by_char_and_byte_by_byte(doc: Doc) -> None:
    check = partial(check_oracle, doc)
    whole_char_byte_oracle(FORMAT, doc.text, check, generation_prompt=doc.prompt)


# -- the grammar-driven generator ------------------------------------------------------------


def _pieces(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Adjacent content pieces must not join into a delimiter: a piece that ends with a
    possible delimiter start gets a space."""
    ds = list(compiled(FORMAT).delimiters.values())

    def fix(s: str) -> str:
        k = s.rfind("<")
        return s + " " if k >= 0 and any(d.prefix(s, k) for d in ds) else s

    return strategy.map(fix)


def _lark_documents() -> st.SearchStrategy[str]:
    grammar = (resources.files("toolwire.grammars") / "hermes.lark").read_text("utf-8")
    lark = Lark(grammar, parser="lalr", lexer="contextual", start="start")
    explicit = {
        "TEXT": _pieces(raw_text.map(lambda s: break_matches(s, IN_TEXT))),
        "REASONING": _pieces(raw_text.map(lambda s: break_matches(s, IN_REASONING))),
        "LAYOUT": st.sampled_from([" ", "\n", "\t", "\r\n"]),
        "ARGS": st.tuples(json_ws, envelopes()).map(lambda t: t[0] + t[1][0]),
        "THINK_CALL": st.just("<tool_call>"),
    }
    return from_lark(lark, start="start", explicit=explicit)


def json_arguments(done: Any) -> Any:
    """The arguments a call's JSON ``raw`` text stands for (a string holding an object,
    double-encoded arguments, is decoded once)."""
    parsed = json.loads(done.raw)
    return json.loads(parsed) if isinstance(parsed, str) else parsed


def check_calls(
    text: str, events: list[Any], arguments_of: Callable[[Any], Any] = json_arguments
) -> None:
    """Per call: deltas concatenate to raw, raw is the input's text inside the span,
    arguments parse from it, one start before it with the same id."""
    for done in typed(events, "tool_call"):
        deltas = [e.text for e in typed(events, "tool_call_delta") if e.index == done.index]
        assert "".join(deltas) == done.raw
        a, b = done.span
        assert done.raw in text[a:b]
        assert done.arguments == arguments_of(done)
        starts = [e for e in typed(events, "tool_call_start") if e.index == done.index]
        assert len(starts) == 1 and starts[0].id == done.id
        assert starts[0].name in (None, done.name)
        assert events.index(starts[0]) < events.index(done)


@given(text=_lark_documents(), data=st.data())
def test_grammar_documents(text: str, data: st.DataObject) -> None:
    """What the grammar derives parses without errors, the same under any chunking
    (str and bytes), with consistent calls completed at their ``}``."""
    events = run(FORMAT, [text])
    assert typed(events, "error") == [], text
    check_calls(text, events)
    whole = coalesce(events)
    assert coalesce(run(FORMAT, data.draw(chunkings(text)))) == whole
    assert coalesce(run(FORMAT, data.draw(chunkings(text.encode("utf-8"))))) == whole
    check_earliest_completion(text, data.draw(chunkings(text)))


# -- arbitrary input: clear errors --------------------------------------------------------------


arbitrary_texts = st.lists(
    st.one_of(
        st.sampled_from([*FRAGMENTS, '{"name": "f", "arguments": {}}', "\n</tool_call>"]),
        st.sampled_from([call("f", {}), call("g", {"a": 1}, compact=True, name_first=False)]),
        st.text(max_size=3),
    ),
    max_size=20,
).map("".join)


ARBITRARY_INPUT = ArbitraryInput(
    st.tuples(
        st.just(FORMAT),
        st.one_of(arbitrary_texts, documents().map(lambda d: d.text)),
        st.fixed_dictionaries(
            {
                "generation_prompt": st.sampled_from([None, FORCED_OPEN, THINKING_OFF]),
                "tools": st.sampled_from([None, TOOLS]),
            }
        ),
    ),
    check_calls,
)
"""Arbitrary hermes input, checked by tests/test_guarantees.py."""
