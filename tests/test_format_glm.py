"""The GLM formats ``glm-4.5`` and ``glm-4.7`` (FORMATS.md 7, 0.1 and 12; decisions in
``toolwire/formats/glm.py``).

Both parsers are run on every example: they must accept both whitespace variants.
Examples cover the template shapes, every pitfall, the prompt tails, typing by the
tool schema, truncation, unknown tools and strict mode; then property tests over two
generators:

* ``documents()`` draws tool schemas and typed values, renders calls in a drawn
  layout (4.5 newlines, 4.7 compact, spaces, mixed), sometimes without the last
  ``</arg_value>``, surrounds them with text and reasoning carrying separator
  whitespace, and records the exact events a correct parser returns (the oracle);
* ``lark_documents`` derives outputs from ``grammars/glm.lark`` with
  ``hypothesis.extra.lark.from_lark``.

Offsets are character offsets in the output (the prompt tail does not count).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import partial
from importlib import resources
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark

import toolwire
from tests.conftest import chunkings, coalesce, run
from tests.oracle import (
    ArbitraryInput,
    OracleDoc,
    check_cut,
    chunked_oracle,
    earliest_completion,
    feed_each,
    strip_messages,
    summary,
    typed,
    whole_char_byte_oracle,
)
from toolwire.registry import compiled

G45, G47 = "glm-4.5", "glm-4.7"
FORMATS = (G45, G47)
WS = " \t\r\n"
THINK_ON_47 = "<|assistant|><think>"
PROMPTS = [
    None,
    "<|assistant|>",
    "<|assistant|>\n<think></think>",
    THINK_ON_47,
    "<|assistant|></think>",
]
MARKERS = [
    "<tool_call>",
    "</tool_call>",
    "<arg_key>",
    "</arg_key>",
    "<arg_value>",
    "</arg_value>",
    "<think>",
    "</think>",
]
ERROR_CODES = {code.value for code in toolwire.ErrorCode} - {toolwire.ErrorCode.INTERNAL_ERROR}


def tool(name: str, **types: str) -> dict[str, Any]:
    props = {k: {"type": t} for k, t in types.items()}
    return {"type": "function", "function": {"name": name, "parameters": {"properties": props}}}


TOOLS = [
    tool("fetch_row", id="integer", note="string", ratio="number", dry="boolean", cwd="null"),
    tool("ping"),
    tool("put", body="object", tags="array", code="string"),
]


def glm_call(name: str, pairs: list[tuple[str, str]], sep: str = "", close: bool = True) -> str:
    """A call in the 4.5 layout (``sep="\\n"``) or the 4.7 one (``sep=""``)."""
    body = "".join(f"{sep}<arg_key>{k}</arg_key>{sep}<arg_value>{v}</arg_value>" for k, v in pairs)
    if not close:  # the last </arg_value> missing
        body = body.removesuffix("</arg_value>")
    return f"<tool_call>{name}{body}{sep}</tool_call>"


# -- shapes ------------------------------------------------------------------------------

SHAPE_45 = (
    "\n<think>REASONING</think>\nCONTENT\n"
    + glm_call("fetch_row", [("id", "7"), ("note", "hi")], "\n")
    + "\n"
    + glm_call("ping", [], "\n")
)
SHAPE_47 = (
    "REASONING</think>CONTENT"
    + glm_call("fetch_row", [("id", "7"), ("note", "hi")])
    + glm_call("ping", [])
)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("src", "prompt"), [(SHAPE_45, "<|assistant|>"), (SHAPE_47, THINK_ON_47)], ids=["4.5", "4.7"]
)
def test_template_shapes_in_both_parsers(fmt: str, src: str, prompt: str) -> None:
    for chunks in ([src], list(src), [bytes([b]) for b in src.encode()]):
        events = run(fmt, chunks, tools=TOOLS, generation_prompt=prompt)
        assert summary(events) == {
            "content": "CONTENT",
            "reasoning": "REASONING",
            "calls": [("fetch_row", {"id": 7, "note": "hi"}), ("ping", {})],
            "errors": [],
        }
        assert typed(events, "finish")[0].reason == "tool_calls"


def test_one_call_exact_events() -> None:
    src = "Checking." + glm_call("fetch_row", [("id", "7")])
    raw = "<arg_key>id</arg_key><arg_value>7</arg_value>"
    assert [e.to_json() for e in coalesce_events(run(G47, [src], tools=TOOLS))] == [
        {"type": "text_start", "id": 0},
        {"type": "text_delta", "id": 0, "text": "Checking."},
        {"type": "text_end", "id": 0},
        {"type": "tool_call_start", "index": 0, "id": "call_0", "name": "fetch_row"},
        {"type": "tool_call_delta", "index": 0, "id": "call_0", "text": raw},
        {
            "type": "tool_call",
            "index": 0,
            "id": "call_0",
            "name": "fetch_row",
            "arguments": {"id": 7},
            "raw": raw,
            "span": [9, len(src)],
        },
        {"type": "finish", "reason": "tool_calls", "raw_reason": None, "usage": None},
    ]


class _Json:
    """An event given back from a coalesced dict, for ``to_json`` comparisons."""

    def __init__(self, item: dict[str, Any]) -> None:
        self.item = item

    def to_json(self) -> dict[str, Any]:
        return self.item


def coalesce_events(events: list[Any]) -> list[_Json]:
    return [_Json(e) for e in coalesce(events)]


LAYOUTS = {
    "4.5 newlines": ("\n", "\n", "\n"),
    "4.7 compact": ("", "", ""),
    "spaces (4.5-Air)": (" ", " ", " "),
    "mixed: adjacent key and value in 4.5": ("\n", "", "\n"),
    "CRLF and tabs": ("\r\n", "\t", "\r\n  "),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_layout_in_both_parsers(fmt: str, layout: str) -> None:
    lead, gap, pad = LAYOUTS[layout]
    src = (
        f"<tool_call>fetch_row{lead}<arg_key>id</arg_key>{gap}<arg_value>7</arg_value>{pad}"
        f"<arg_key>note</arg_key>{gap}<arg_value> a b </arg_value>{pad}</tool_call>"
    )
    got = summary(run(fmt, list(src), tools=TOOLS))
    assert got["calls"] == [("fetch_row", {"id": 7, "note": " a b "})]
    assert got["errors"] == []


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("after", ["<arg_key>", "\n<arg_key>", " <arg_key>", "</tool_call>"])
def test_name_ends_at_arg_key_newline_or_close(fmt: str, after: str) -> None:
    src = "<tool_call>web.search-v2" + after
    src += "q</arg_key><arg_value>x</arg_value></tool_call>" if "arg_key" in after else ""
    events = run(fmt, [src])
    assert [e.name for e in typed(events, "tool_call")] == ["web.search-v2"]
    assert summary(events)["errors"] == []


def test_start_comes_with_the_character_that_ends_the_name() -> None:
    src = glm_call("fetch_row", [("id", "7")], "\n")
    cut = src.index("\n")
    outs = feed_each(G45, [src[:cut], src[cut:]])
    assert not typed(outs[0], "tool_call_start")
    assert [e.name for e in typed(outs[1], "tool_call_start")] == ["fetch_row"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("src", ["<tool_call>ping\n</tool_call>", "<tool_call>ping</tool_call>"])
def test_empty_arguments(fmt: str, src: str) -> None:
    [done] = typed(run(fmt, [src]), "tool_call")
    assert (done.name, done.arguments, done.raw) == ("ping", {}, src[15:-12])


def test_call_index_is_the_position_in_the_response() -> None:
    src = "".join(glm_call("ping", []) for _ in range(3))
    assert [c.index for c in typed(run(G47, [src]), "tool_call")] == [0, 1, 2]


def test_text_after_calls_is_content_and_finish_says_stop() -> None:
    src = "Before.\n" + glm_call("ping", [], "\n") + "\nAfter.\n"
    events = run(G45, list(src))
    assert summary(events)["content"] == "Before.After."
    assert typed(events, "finish")[0].reason == "stop"
    assert typed(run(G45, [glm_call("ping", []) + "\n \n"]), "finish")[0].reason == "tool_calls"


# -- typing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "raw", "value"),
    [
        ("id", "7", 7),
        ("id", " 7\n", 7),  # surrounding whitespace is stripped before typing
        ("id", "123456789012345678901234567890", 123456789012345678901234567890),
        ("ratio", "2e-07", 2e-07),
        ("ratio", "4e+22", 4e22),
        ("dry", "true", True),
        ("dry", "True", True),  # Python literals accepted for a boolean schema
        ("cwd", "null", None),
        ("note", "3", "3"),  # the schema says string
        ("note", "00917", "00917"),
        ("note", "4_200", "4_200"),
        ("note", '{"k": [1]}', '{"k": [1]}'),
        ("note", "", ""),
        ("note", "  two\nlines  ", "  two\nlines  "),  # whitespace in a value is data
        ("body", '{"a": [1, {"b": null}]}', {"a": [1, {"b": None}]}),
        ("tags", '["x", 2]', ["x", 2]),
        ("other", "7", "7"),  # no schema for the key: verbatim
    ],
)
def test_values_are_typed_by_the_schema(key: str, raw: str, value: Any) -> None:
    name = "put" if key in ("body", "tags") else "fetch_row"
    for fmt, sep in ((G45, "\n"), (G47, "")):
        src = glm_call(name, [(key, raw)], sep)
        assert summary(run(fmt, [src], tools=TOOLS))["calls"] == [(name, {key: value})]


def test_without_tools_every_value_is_text() -> None:
    src = glm_call("f", [("n", "7"), ("b", "true"), ("o", "{}")])
    assert summary(run(G47, [src]))["calls"] == [("f", {"n": "7", "b": "true", "o": "{}"})]


def test_keys_lose_surrounding_whitespace() -> None:
    src = "<tool_call>fetch_row<arg_key> id \n</arg_key><arg_value>7</arg_value></tool_call>"
    assert summary(run(G47, [src], tools=TOOLS))["calls"] == [("fetch_row", {"id": 7})]


# -- values: markers, missing closers ---------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_marker_text_inside_a_value_is_data(fmt: str) -> None:
    value = "a <tool_call>x<arg_key>k</arg_key><arg_value>v <think>t</think> end"
    src = glm_call("put", [("code", value), ("tags", "[1]")], "\n")
    events = run(fmt, list(src), tools=TOOLS)
    assert summary(events)["calls"] == [("put", {"code": value, "tags": [1]})]
    assert summary(events)["errors"] == []


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("sep", ["\n", ""])
def test_missing_last_arg_value_close_is_truncated(fmt: str, sep: str) -> None:
    """Only </arg_value> ends a value: without it the value runs on through
    </tool_call> to the end of the output, which is a cut call (never a call)."""
    src = glm_call("fetch_row", [("id", "7"), ("note", "kept\n")], sep, close=False)
    events = run(fmt, list(src), tools=TOOLS)
    assert summary(events)["calls"] == []
    assert summary(events)["errors"] == ["truncated"]
    assert coalesce(run(fmt, [src], tools=TOOLS)) == coalesce(events)


@pytest.mark.parametrize("fmt", FORMATS)
def test_value_cut_by_the_end_of_input_is_truncated(fmt: str) -> None:
    """ai-dynamo/dynamo PR #9355: a GLM output cut inside a value
    (``<arg_value>NY`` then max_tokens) must be dropped, as vLLM and SGLang drop it,
    not returned with empty arguments."""
    src = "<tool_call>get_weather\n<arg_key>location</arg_key>\n<arg_value>NY"
    events = run(fmt, list(src))
    assert summary(events) == {"content": "", "reasoning": "", "calls": [], "errors": ["truncated"]}
    [error] = typed(events, "error")
    assert error.offset == len(src)
    assert "</arg_value>" in error.message
    assert not typed(events, "finish")


def test_tool_call_close_inside_a_value_is_data() -> None:
    """local-inference-lab/vllm PR #639: GLM-4.7 and GLM-5.x tokenize ``</tool_call>``
    written inside a value (editing parser or template code) as the structural marker,
    and a parser that closes the call there leaks the rest into the content."""
    src = glm_call("put", [("code", "x</tool_call>y"), ("tags", "[1]")])
    got = summary(run(G47, list(src), tools=TOOLS))
    assert got == {
        "content": "",
        "reasoning": "",
        "calls": [("put", {"code": "x</tool_call>y", "tags": [1]})],
        "errors": [],
    }


# A write_file whose content documents the format itself: every marker but the
# value's own closer (undecidable, so a document about the format must not spell
# it) is data inside <arg_value>...</arg_value>.
DOC_CONTENT = """# GLM tool calls

Each call is `<tool_call>NAME`, then per argument `<arg_key>KEY</arg_key>` and
`<arg_value>` with the raw value and its closing tag, then `</tool_call>`:

    <tool_call>get_weather
    <arg_key>city</arg_key>

An empty call is `<tool_call>ping</tool_call>`.  Reasoning comes first, between
<think> and </think>; <|observation|> ends the turn after a call.
"""


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("sep", ["\n", ""])
def test_write_file_documenting_the_format(fmt: str, sep: str) -> None:
    tools = [tool("write_file", path="string", content="string")]
    src = (
        "I'll write the notes.\n"
        + glm_call("write_file", [("path", "docs/glm.md"), ("content", DOC_CONTENT)], sep)
        + "\nDone."
    )
    for chunks in ([src], list(src), [bytes([b]) for b in src.encode()]):
        events = run(fmt, chunks, tools=tools)
        assert summary(events) == {
            "content": "I'll write the notes.Done.",
            "reasoning": "",
            "calls": [("write_file", {"path": "docs/glm.md", "content": DOC_CONTENT})],
            "errors": [],
        }
        [done] = typed(events, "tool_call")
        assert done.span[1] == src.rindex("</tool_call>") + len("</tool_call>")


# -- "<tool_call>" without a name ------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("before", ["", "Let me check.", "Let me check.\n", "\n<think>r</think>\n"])
def test_output_cut_right_after_tool_call_is_truncated(fmt: str, before: str) -> None:
    src = before + "<tool_call>"
    for chunks in ([src], list(src), [src[:-3], src[-3:]]):
        events = run(fmt, chunks)
        got = summary(events)
        assert (got["calls"], got["errors"]) == ([], ["truncated"])
        assert "<tool_call>" not in got["content"] + got["reasoning"]
        [error] = typed(events, "error")
        assert error.offset == len(src)
    with pytest.raises(toolwire.ParseError) as info:
        run(fmt, [src], strict=True)
    assert info.value.code == "truncated"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("after", "code"),
    [
        (" get_weather", "unexpected_text"),
        ("\nget_weather", "unexpected_text"),
        ("<arg_key>a</arg_key>", "unexpected_tag"),
        ("</tool_call>", "unexpected_tag"),
    ],
)
def test_tool_call_not_followed_by_a_name_is_an_error(fmt: str, after: str, code: str) -> None:
    """The marker is never text; the first error is at the character after it, and
    parsing resumes (at the next call at the latest)."""
    src = "Hi <tool_call>" + after + " x " + glm_call("ping", [])
    events = run(fmt, [src])
    got = summary(events)
    assert got["calls"] == [("ping", {})]
    first = typed(events, "error")[0]
    assert (first.code, first.offset) == (code, len("Hi <tool_call>"))
    assert got["content"].startswith("Hi") and "<tool_call>" not in got["content"]
    assert coalesce(run(fmt, list(src))) == coalesce(events)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("holdback", [11, 12, 20])
def test_head_longer_than_the_holdback_is_a_limit_never_a_shorter_tag(
    fmt: str, holdback: int
) -> None:
    """``<tool_call>NAME`` longer than ``max_holdback``: neither the bare marker nor a
    name cut at the window wins; ``limit_exceeded`` at its start, whatever the
    chunking, then parsing goes on."""
    src = "Hi" + glm_call("n" * 30, [("a", "1")]) + "ok" + glm_call("g", [])
    events = run(fmt, [src], max_holdback=holdback)
    assert [(e.code, e.offset) for e in typed(events, "error")] == [("limit_exceeded", 2)]
    # With 11, "<tool_call>g" does not fit either: skipped while resynchronising.
    survivors = [] if holdback == 11 else ["g"]
    assert [e.name for e in typed(events, "tool_call_start")] == survivors  # no cut name
    assert [c.name for c in typed(events, "tool_call")] == survivors
    assert coalesce(run(fmt, list(src), max_holdback=holdback)) == coalesce(events)
    with pytest.raises(toolwire.ParseError) as info:
        run(fmt, [src], max_holdback=holdback, strict=True)
    assert (info.value.code, info.value.offset) == ("limit_exceeded", 2)


# -- reasoning, whitespace and prompt tails -----------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_surrounding_whitespace_of_reasoning_and_content_is_separator(fmt: str) -> None:
    src = "\n<think>\n  step one\n\n  step two \n</think>\n\n  The answer:\n 42 \n\n"
    assert summary(run(fmt, list(src))) == {
        "content": "The answer:\n 42",
        "reasoning": "step one\n\n  step two",
        "calls": [],
        "errors": [],
    }


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("prompt", "src", "reasoning"),
    [
        ("<|assistant|>", "\n<think>r</think>\nc", "r"),  # 4.5/4.6 thinking on
        ("<|assistant|>\n<think></think>", "\nc", ""),  # 4.5/4.6 thinking off
        (THINK_ON_47, "r</think>c", "r"),  # 4.7/5.x thinking on
        ("<|assistant|></think>", "c", ""),  # 4.7/5.x thinking off
        (None, "c", ""),
    ],
)
def test_generation_prompt_start_states(
    fmt: str, prompt: str | None, src: str, reasoning: str
) -> None:
    full = src + "\n" + glm_call("ping", [], "\n")
    got = summary(run(fmt, list(full), generation_prompt=prompt))
    assert got == {"content": "c", "reasoning": reasoning, "calls": [("ping", {})], "errors": []}


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncated_reasoning_with_the_forced_open_prompt_is_reasoning(fmt: str) -> None:
    events = run(fmt, ["still thinking\n"], generation_prompt=THINK_ON_47)
    assert summary(events)["reasoning"] == "still thinking"
    assert summary(events)["content"] == ""
    assert summary(events)["errors"] == ["truncated"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_tags_in_reasoning_are_reasoning(fmt: str) -> None:
    body = "call <tool_call>f<arg_key>k</arg_key><arg_value>v</arg_value></tool_call> later"
    assert summary(run(fmt, list("<think>" + body + "</think>ok"))) == {
        "content": "ok",
        "reasoning": body,
        "calls": [],
        "errors": [],
    }


# -- truncation, errors ----------------------------------------------------------------------

SAMPLE = (
    "\n<think>r</think>\nHi\n"
    + glm_call("fetch_row", [("id", "7"), ("note", "a</tool_calx")], "\n")
    + "\n"
    + glm_call("ping", [])
    + "\nBye"
)


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncation_at_every_character(fmt: str) -> None:
    """Cut anywhere: calls whose ``</tool_call>`` arrived are reported, a cut call never
    is (an error instead), no marker leaks into content or reasoning."""
    whole = typed(run(fmt, [SAMPLE], tools=TOOLS), "tool_call")
    assert len(whole) == 2
    for k in range(len(SAMPLE) + 1):
        cut = SAMPLE[:k]
        events = run(fmt, [cut], tools=TOOLS)
        assert [c.to_json() for c in typed(events, "tool_call")] == [
            c.to_json() for c in whole if c.span[1] <= k
        ]
        errors = summary(events)["errors"]
        if any(c.span[0] + len("<tool_call>") < k < c.span[1] for c in whole):
            assert errors in (["truncated"], ["unexpected_text"]), (k, errors)
        if any(c.span[0] + len("<tool_call>") == k for c in whole):
            assert errors == ["truncated"], (k, errors)  # right after the marker
        if k == len(SAMPLE):
            assert errors == []
        text = summary(events)["content"] + summary(events)["reasoning"]
        assert not any(m in text for m in MARKERS), (k, text)
        assert coalesce(run(fmt, list(cut), tools=TOOLS)) == coalesce(events)


MALFORMED = {  # kind: (text, error codes)
    "text_between_pairs": (
        "<tool_call>f<arg_key>a</arg_key>oops<arg_value>1</arg_value></tool_call>",
        ["unexpected_text"],
    ),
    "text_after_name": ("<tool_call>f g<arg_key>a</arg_key></tool_call>", ["unexpected_text"]),
    "nameless": (
        "<tool_call>\n<arg_key>a</arg_key><arg_value>1</arg_value></tool_call>",
        ["unexpected_text"],
    ),
    "marker_in_key": (
        "<tool_call>f<arg_key>a<arg_value>1</arg_value></tool_call>",
        ["unexpected_text"],
    ),
    "value_without_key": ("<tool_call>f<arg_value>1</arg_value></tool_call>", ["unexpected_text"]),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_call_then_good_ones(fmt: str, kind: str) -> None:
    bad, codes = MALFORMED[kind]
    src = "Hi\n" + bad + "\n" + glm_call("good", [("ok", "true")]) + "\nBye"
    events = run(fmt, [src])
    got = summary(events)
    assert got["calls"] == [("good", {"ok": "true"})], kind
    assert got["errors"] and not [c for c in got["errors"] if c not in ERROR_CODES]
    if codes is not None:
        assert got["errors"] == codes, kind
    assert got["content"].startswith("Hi") and got["content"].endswith("Bye")
    assert coalesce(run(fmt, list(src))) == coalesce(events)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("stray", ["</tool_call>", "</think>", "<arg_key>", "</arg_value>"])
def test_stray_markers_in_content_are_errors(fmt: str, stray: str) -> None:
    got = summary(run(fmt, ["a " + stray + " b"]))
    assert got["errors"] == ["unexpected_tag"]
    assert got["content"].replace(" ", "") == "ab"  # the marker never is content


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_tool(fmt: str) -> None:
    src = glm_call("ping", []) + glm_call("nope", [("a", "1")]) + glm_call("ping", [])
    events = run(fmt, [src], tools=TOOLS)
    assert summary(events)["calls"] == [("ping", {}), ("ping", {})]
    errors = typed(events, "error")
    assert [e.code for e in errors] == ["unknown_tool"]
    assert errors[0].offset == src.index("<tool_call>nope")
    assert [c.index for c in typed(events, "tool_call")] == [0, 2]


@pytest.mark.parametrize("fmt", FORMATS)
def test_strict_mode_raises_parse_error(fmt: str) -> None:
    src = "Hi\n<tool_call>f<arg_key>a</arg_key>oops"
    parser = toolwire.parser(fmt, strict=True)
    with pytest.raises(toolwire.ParseError) as info:
        parser.feed(src)
    assert info.value.code == "unexpected_text"
    assert info.value.offset == src.index("oops")
    assert summary(info.value.events)["content"] == "Hi"
    with pytest.raises(toolwire.ParseError):
        parser.feed("more")


# -- the oracle generator -------------------------------------------------------------------

NEAR_MISSES = [
    "<",
    "</",
    "<tool",
    "<tool_call",
    "</tool_call",
    "<arg_key",
    "<arg_value",
    "</arg_value",
    "<think",
    "</think",
    "<thinking>",
    "<|observation|>",
    "<tool_call> ",
    "<tool_call>\n",
]
ODD = [" ", "\n", "\r\n", "\t", "é", "日本", "😀", "\u2028", "\x00", "a", "x y", "{", "}", '"']
FRAGMENTS = NEAR_MISSES + ODD + MARKERS


def delimiters(fmt: str = G45) -> dict[str, Any]:
    return compiled(fmt).delimiters


def pattern_of(*names: str) -> re.Pattern[str]:
    d = delimiters()
    return re.compile("|".join(f"(?:{d[n].pattern})" for n in (names or d)))


def break_matches(text: str, pattern: re.Pattern[str]) -> str:
    """Every match of ``pattern`` broken by a space after its first character."""
    while (m := pattern.search(text)) is not None:
        text = text[: m.start() + 1] + " " + text[m.start() + 1 :]
    return text


ANY_MARKER = pattern_of()
raw_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=8).map(
    "".join
)
texts = raw_text.map(lambda s: break_matches(s, ANY_MARKER))
reasonings = raw_text.map(lambda s: break_matches(s, pattern_of("THINK_CLOSE")))
raw_strings = st.one_of(
    raw_text.map(lambda s: break_matches(s, pattern_of("VALUE_CLOSE"))),
    st.sampled_from(["00917", "4_200", '{"k": [1]}', "3", "true", "null", " x ", ""]),
)
names = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz_ABCXYZ0123456789-.:/é日", min_size=1, max_size=12
)
keys = st.from_regex(r"[a-z_][a-z0-9_]{0,7}", fullmatch=True)
whitespace = st.sampled_from(["", "\n", " ", "\r\n", "\t", "  \n"])
STYLES = {"4.5": "\n", "4.7": "", "spaces": " "}

JSON_TYPES = ["string", "integer", "number", "boolean", "null", "object", "array", "untyped"]
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.text(max_size=5)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def draw_value(draw: st.DrawFn, kind: str) -> tuple[str, Any]:
    """(raw text as the template writes it, the value a correct parser returns)."""
    if kind in ("string", "untyped"):
        raw = draw(raw_strings)
        return raw, raw
    value: Any = {
        "integer": st.integers(-(10**30), 10**30),
        "number": st.floats(allow_nan=False, allow_infinity=False),
        "boolean": st.booleans(),
        "null": st.none(),
        "object": st.dictionaries(st.text(max_size=4), json_values, max_size=3),
        "array": st.lists(json_values, max_size=3),
    }[kind]
    raw = json.dumps(draw(value), ensure_ascii=draw(st.booleans()))
    return raw, json.loads(raw)


@dataclass(kw_only=True)
class Doc(OracleDoc):
    fmt: str
    prompt: str | None = None
    schemas: dict[str, dict[str, str]] = field(default_factory=dict)
    """Tool name -> key -> JSON type (``untyped``: no schema for the key)."""

    def tools(self) -> list[dict[str, Any]]:
        return [
            tool(name, **{k: t for k, t in types.items() if t != "untyped"})
            for name, types in self.schemas.items()
        ]


def draw_call(draw: st.DrawFn, doc: Doc) -> tuple[str, int]:
    """(call text, length of its head ``<tool_call>NAME``), recording the events."""
    name = draw(names)
    types = doc.schemas.setdefault(name, {})
    style = draw(st.sampled_from([*STYLES, "mixed"]))

    def ws() -> str:
        return STYLES[style] if style in STYLES else draw(whitespace)

    head = "<tool_call>" + name
    body = ws()
    arguments: dict[str, Any] = {}
    pairs = draw(st.lists(keys, max_size=3, unique=True))
    for key in pairs:
        kind = types.setdefault(key, draw(st.sampled_from(JSON_TYPES)))
        raw, value = draw_value(draw, kind)
        arguments[key] = value
        key_ws = draw(st.sampled_from(["", "", " "]))
        body += f"<arg_key>{key_ws}{key}{key_ws}</arg_key>{ws()}<arg_value>{raw}"
        body += "</arg_value>" + ws()
    text = head + body + "</tool_call>"
    start = len(doc.text)
    index = doc.index
    doc.index += 1
    done = {
        "type": "tool_call",
        "index": index,
        "id": f"call_{index}",
        "name": name,
        "arguments": arguments,
        "raw": body,
        "span": [start, start + len(text)],
    }
    doc.events.append({"type": "tool_call_start", "index": index, "id": done["id"], "name": name})
    if body:
        doc.events.append(
            {"type": "tool_call_delta", "index": index, "id": done["id"], "text": body}
        )
    doc.events.append(done)
    doc.calls.append(done)
    doc.after_call = False
    return text, len(head)


@st.composite
def documents(draw: st.DrawFn, tails: bool = True) -> Doc:
    doc = Doc(fmt=draw(st.sampled_from(FORMATS)), prompt=draw(st.sampled_from(PROMPTS)))
    tail = "none"
    if tails:
        tail = draw(st.sampled_from(["none"] * 3 + ["open_think", "cut_call"]))
    pending = ""

    def flush() -> None:
        nonlocal pending
        if pending:
            text = break_matches(pending, ANY_MARKER)
            doc.add(text)
            doc.block("text", text.strip(WS))
            pending = ""

    def think(closed: bool) -> None:
        body = draw(reasonings)
        doc.add(body)
        doc.block("reasoning", body.strip(WS))
        if closed:
            doc.add("</think>")

    if doc.prompt == THINK_ON_47:
        think(closed=tail != "open_think" or draw(st.booleans()))
        if not doc.text.endswith("</think>"):
            doc.tail = tail
            doc.error("truncated", len(doc.text))
            return doc
    for kind in draw(st.lists(st.sampled_from(["text", "ws", "think", "call"]), max_size=7)):
        if kind == "text":
            pending += draw(texts)
        elif kind == "ws":
            pending += draw(whitespace)
        else:
            flush()
            if kind == "think":
                doc.add("<think>")
                think(closed=True)
            else:
                text, _ = draw_call(draw, doc)
                doc.add(text)
    flush()
    doc.tail = tail
    if tail == "open_think":
        doc.add("<think>")
        think(closed=False)
        doc.error("truncated", len(doc.text))
    elif tail == "cut_call":
        # Cut anywhere from right after the <tool_call> marker to just before the
        # call's completing ">": inside the name, a key, a value (the last
        # </arg_value> missing), the layout, </tool_call>.
        saved = (list(doc.events), list(doc.calls), doc.index, doc.after_call)
        text, _head = draw_call(draw, doc)
        doc.events, doc.calls, doc.index, doc.after_call = saved
        doc.add(text[: draw(st.integers(len("<tool_call>"), len(text) - 1))])
    return doc


def check_oracle(doc: Doc, events: list[dict[str, Any]]) -> None:
    events = strip_messages(events)
    if doc.tail == "none":
        assert events == [*doc.events, doc.finish()]
    elif doc.tail == "open_think":
        assert events == doc.events
    else:  # cut_call: the call may have started, but never completes
        errors = check_cut(events, doc.events)
        if doc.text.endswith("<tool_call>"):
            assert errors == ["truncated"], events


def check_earliest_completion(
    fmt: str, text: str, chunks: list[Any], **options: Any
) -> list[list[Any]]:
    """Each tool_call comes out of the feed() whose chunk holds the ``>`` of its
    ``</tool_call>``."""
    return earliest_completion(fmt, text, chunks, _completes, **options)


def _completes(text: str, done: Any) -> None:
    assert text[: done.span[1]].endswith("</tool_call>")
    assert text[done.span[0] :].startswith("<tool_call>" + done.name)


@given(doc=documents(), data=st.data())
def test_oracle_events_and_earliest_completion(doc: Doc, data: st.DataObject) -> None:
    """Every block, call (typed by the schema) and error of the document with its
    offsets, whatever the chunking (str or UTF-8 bytes); each tool_call from the feed()
    with the ``>`` of its ``</tool_call>``."""
    options = {"generation_prompt": doc.prompt, "tools": doc.tools()}
    feed = partial(check_earliest_completion, doc.fmt, doc.text, **options)
    chunked_oracle(data, doc.text, feed, partial(check_oracle, doc))


@given(doc=documents())
def test_oracle_char_by_char_and_byte_by_byte(doc: Doc) -> None:
    options = {"generation_prompt": doc.prompt, "tools": doc.tools()}
    whole_char_byte_oracle(doc.fmt, doc.text, partial(check_oracle, doc), **options)


# -- the grammar-driven generator -------------------------------------------------------


def _pieces(strategy: st.SearchStrategy[str], *names: str) -> st.SearchStrategy[str]:
    """Adjacent content pieces must not join into a delimiter: a piece that ends with
    a possible start of one gets a space."""
    ds = [d for n, d in delimiters().items() if not names or n in names]

    def fix(s: str) -> str:
        k = s.rfind("<")
        return s + " " if k >= 0 and any(d.prefix(s, k) for d in ds) else s

    return strategy.map(fix)


def _layout() -> st.SearchStrategy[str]:
    return st.sampled_from(["", " ", "\n", "\t", "\r\n"])


_GRAMMAR = (resources.files("toolwire.grammars") / "glm.lark").read_text("utf-8")
# The nameless "<tool_call>" alternative never parses to the end (its NAME is never
# lexed): documents derive the other ones.
_GRAMMAR = _GRAMMAR.replace("         | TOOL_OPEN NAME\n", "")
assert "TOOL_OPEN NAME" not in _GRAMMAR
lark_documents = from_lark(
    Lark(_GRAMMAR, parser="lalr", lexer="contextual", start="start"),
    start="start",
    explicit={
        "TEXT": _pieces(texts),
        "REASONING": _pieces(reasonings, "THINK_CLOSE"),
        "TOOL_HEAD": names.map(lambda n: "<tool_call>" + n),
        "KEY": st.text(alphabet="abc_ \n1é", max_size=5),
        "VALUE": _pieces(raw_strings, "VALUE_CLOSE"),
        "LEAD": _layout(),
        "GAP": _layout(),
        "PAD": _layout(),
    },
)


def check_calls(text: str, events: list[Any]) -> None:
    """Per call: deltas concatenate to raw, raw is the input's text between the head
    and ``</tool_call>``, one start before it with the same name."""
    for done in typed(events, "tool_call"):
        deltas = [e.text for e in typed(events, "tool_call_delta") if e.index == done.index]
        assert "".join(deltas) == done.raw
        a, b = done.span
        assert text[a:b] == "<tool_call>" + done.name + done.raw + "</tool_call>"
        starts = [e for e in typed(events, "tool_call_start") if e.index == done.index]
        assert len(starts) == 1 and starts[0].name == done.name
        assert events.index(starts[0]) < events.index(done)


@given(text=lark_documents, fmt=st.sampled_from(FORMATS), data=st.data())
def test_grammar_documents(text: str, fmt: str, data: st.DataObject) -> None:
    """What the grammar derives parses without errors, the same under any chunking
    (str and bytes), with consistent calls completed at their ``</tool_call>``."""
    events = run(fmt, [text])
    assert typed(events, "error") == [], text
    check_calls(text, events)
    whole = coalesce(events)
    assert coalesce(run(fmt, data.draw(chunkings(text)))) == whole
    assert coalesce(run(fmt, data.draw(chunkings(text.encode("utf-8"))))) == whole
    check_earliest_completion(fmt, text, data.draw(chunkings(text)))


# -- values holding every marker --------------------------------------------------------------

VALUE_MARKERS = [
    *(m for m in MARKERS if m != "</arg_value>"),
    "<|assistant|>",
    "<|user|>",
    "<|observation|>",
    "<|system|>",
    "<|endoftext|>",
    "<tool_response>",
    "</tool_response>",
    "</arg_value",  # the closer's prefixes are data too
    "</arg_value >",
]


@st.composite
def marker_values(draw: st.DrawFn) -> str:
    """Every GLM marker but ``</arg_value>``, in any order, among raw text."""
    markers = draw(st.permutations(VALUE_MARKERS))
    fill = st.lists(raw_strings, max_size=len(markers) + 1, min_size=len(markers) + 1)
    pieces = draw(fill)
    value = pieces[0] + "".join(m + p for m, p in zip(markers, pieces[1:], strict=True))
    # Adjacent pieces must not spell the closer: break any that appears.
    return break_matches(value, pattern_of("VALUE_CLOSE"))


@settings(max_examples=60)
@given(
    fmt=st.sampled_from(FORMATS),
    value=marker_values(),
    sep=st.sampled_from(["\n", "", " "]),
    typed_as=st.sampled_from(["code", "untyped_key"]),
    data=st.data(),
)
def test_value_holding_every_marker_round_trips(
    fmt: str, value: str, sep: str, typed_as: str, data: st.DataObject
) -> None:
    """Only ``</arg_value>`` ends a value: a string value holding every other marker
    comes back exactly (string schema, or no schema for the key), whatever the
    chunking, and the pair after it is still read."""
    src = "Writing.\n" + glm_call("put", [(typed_as, value), ("tags", "[1]")], sep)
    payload: Any = src.encode("utf-8") if data.draw(st.booleans()) else src
    chunks = data.draw(chunkings(payload))
    outs = check_earliest_completion(fmt, src, chunks, tools=TOOLS)
    events = [e for out in outs for e in out]
    assert summary(events) == {
        "content": "Writing.",
        "reasoning": "",
        "calls": [("put", {typed_as: value, "tags": [1]})],
        "errors": [],
    }
    check_calls(src, events)


# -- arbitrary input: clear errors --------------------------------------------------------------

arbitrary_texts = st.lists(
    st.one_of(
        st.sampled_from([*FRAGMENTS, "<tool_call>f", "7", "{}"]),
        st.just(glm_call("f", [("a", "1")], "\n")),
        st.text(max_size=3),
    ),
    max_size=20,
).map("".join)


ARBITRARY_INPUT = ArbitraryInput(
    st.tuples(
        st.sampled_from(FORMATS),
        st.one_of(arbitrary_texts, documents().map(lambda d: d.text)),
        st.sampled_from([None, THINK_ON_47]).map(
            lambda p: {"generation_prompt": p, "tools": TOOLS}
        ),
    ),
    check_calls,
)
"""Arbitrary GLM input, checked by tests/test_guarantees.py."""


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("prompt", PROMPTS)
def test_strict_parser_accepts_every_prompt_tail(fmt: str, prompt: str | None) -> None:
    """The prompt tail is run through the parser silently: a strict parser must not
    raise on it (``</think>`` alone is a stray tag in output text, not in a prompt)."""
    src = ("r</think>" if prompt == THINK_ON_47 else "") + "hi" + glm_call("ping", [])
    parser = toolwire.parser(fmt, strict=True, generation_prompt=prompt)
    got = summary(parser.feed(src) + parser.close())
    assert got["calls"] == [("ping", {})]
    assert got["content"] == "hi"
