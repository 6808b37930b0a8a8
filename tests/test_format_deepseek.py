# ruff: noqa: RUF001, RUF002  (the fullwidth bar U+FF5C is part of DeepSeek's tokens)
"""The DeepSeek formats: ``deepseek-r1``, ``deepseek-v3``, ``deepseek-v3.1`` (FORMATS.md
5.1-5.3 and 12; decisions in ``toolwire/formats/deepseek.py``).

Examples of every shape, separator and fence variant, prompt tail, truncation point,
error and recovery; then property tests over two generators:

* ``documents()`` builds an output part by part (text, reasoning, sections, calls
  outside a section, a truncated tail) and records the events it must produce: the
  oracle for exact-event, chunk-invariance and earliest-completion properties;
* ``lark_documents()`` derives outputs from each format's grammar
  (``hypothesis.extra.lark.from_lark``) with explicit strategies for the declared
  terminals; the generator grammar has three rewrites a context-free generator needs
  (see ``_generator_grammar``).

Offsets are character offsets in the output (the prompt tail does not count).
"""

from __future__ import annotations

import json
import re
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
    check_cut,
    chunked_oracle,
    earliest_completion,
    strip_messages,
    summary,
    typed,
    whole_char_byte_oracle,
)
from toolwire import ToolCall
from toolwire.registry import compiled

R1, V3, V31 = "deepseek-r1", "deepseek-v3", "deepseek-v3.1"
FORMATS = (R1, V3, V31)
THINKING = (R1, V31)
GRAMMAR_FILES = {R1: "deepseek_r1.lark", V3: "deepseek_v3.lark", V31: "deepseek_v3_1.lark"}
PROMPT_THINK = {R1: "<｜Assistant｜><think>\n", V31: "<｜Assistant｜><think>"}

B, E = "<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>"
OPENER_VARIANTS = [
    # llama.cpp's list (common/chat.cpp, the DeepSeek R1 handler, run for V3 templates
    # too): what R1 distills write instead of the section opener
    "<｜tool_calls_begin｜>",
    "<｜tool calls begin｜>",
    "<｜tool\\_calls\\_begin｜>",
    "<｜tool▁calls｜>",
]
CB, CE, SEP = "<｜tool▁call▁begin｜>", "<｜tool▁call▁end｜>", "<｜tool▁sep｜>"
MARKERS = [B, E, CB, CE, SEP, "<｜end▁of▁sentence｜>", "<think>", "</think>"]
JSON_WS = " \t\r\n"
ERROR_CODES = {code.value for code in toolwire.ErrorCode} - {toolwire.ErrorCode.INTERNAL_ERROR}


def delimiters(fmt: str) -> dict[str, Any]:
    return compiled(fmt).delimiters


def any_delimiter(fmt: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{d.pattern})" for d in delimiters(fmt).values()))


def v3_call(
    name: str,
    args: str,
    fence_open: str = "\n```json\n",
    fence_close: str = "\n```",
    type_word: str = "function",
) -> str:
    return CB + type_word + SEP + name + fence_open + args + fence_close + CE


def v31_call(name: str, args: str, before: str = "", after: str = "") -> str:
    return CB + name + SEP + before + args + after + CE


def call_text(fmt: str, name: str, args: str) -> str:
    return v31_call(name, args) if fmt == V31 else v3_call(name, args)


# -- shapes ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_call_exact_events(fmt: str) -> None:
    src = "Checking." + B + call_text(fmt, "fetch_row", '{"id": 7}') + E
    start = src.index(CB)
    end = src.index("}") + 1
    events = run(fmt, [src])
    assert [e.to_json() for e in events] == [
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


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("sep", ["", "\n", "\n\n", " \t", "\r\n"])
def test_parallel_calls_with_any_whitespace_between(fmt: str, sep: str) -> None:
    src = (
        B
        + sep
        + call_text(fmt, "get_weather", '{"city": "Tokyo"}')
        + sep
        + call_text(fmt, "ping", "{}")
        + sep
        + E
    )
    got = summary(run(fmt, [src]))
    assert got == {
        "content": "",
        "reasoning": "",
        "calls": [("get_weather", {"city": "Tokyo"}), ("ping", {})],
        "errors": [],
    }
    assert [c.index for c in typed(run(fmt, list(src)), "tool_call")] == [0, 1]


@pytest.mark.parametrize("fmt", FORMATS)
def test_content_around_the_section(fmt: str) -> None:
    src = "Let me look.  \n" + B + call_text(fmt, "f", "{}") + E + "\nDone."
    got = summary(run(fmt, [src]))
    # R1 trims whitespace before a call opener (section 12); V3/V3.1 keep it verbatim
    before = "Let me look." if fmt == R1 else "Let me look.  \n"
    assert got["content"] == before + "\nDone."
    assert got["calls"] == [("f", {})]
    finish = typed(run(fmt, [src]), "finish")[0]
    assert finish.reason == "stop"  # text after the last call


@pytest.mark.parametrize("fmt", FORMATS)
def test_finish_reason_is_chunk_invariant(fmt: str) -> None:
    src = B + call_text(fmt, "f", "{}") + E + " Done."
    assert typed(run(fmt, [src]), "finish")[0].reason == "stop"
    assert typed(run(fmt, list(src)), "finish")[0].reason == "stop"


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_and_nested_arguments(fmt: str) -> None:
    args = {"a": {"b": [1, {"c": None}], "d": "x"}, "e": [], "f": {}, "g": 1e-7, "h": 10**30}
    src = B + call_text(fmt, "f", "{}") + call_text(fmt, "g", json.dumps(args)) + E
    assert summary(run(fmt, [src]))["calls"] == [("f", {}), ("g", args)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_marker_text_inside_json_strings(fmt: str) -> None:
    args = {
        "q": CE + "\n```" + E + B + CB + SEP,
        "fence": "```json\n{}\n```",
        "brace": "}",
        "think": "</think><think>",
    }
    src = B + call_text(fmt, "search", json.dumps(args, ensure_ascii=False)) + E
    events = run(fmt, list(src))
    assert summary(events)["calls"] == [("search", args)]
    assert summary(events)["errors"] == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_markdown_and_the_word_function_are_text(fmt: str) -> None:
    text = "Use ```json\n{}\n``` or call function f(x) <｜ not a marker ｜> a < b."
    assert summary(run(fmt, list(text))) == {
        "content": text,
        "reasoning": "",
        "calls": [],
        "errors": [],
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_call_outside_a_section_opens_one(fmt: str) -> None:
    """The section opener missing: the calls are taken, ``<｜tool▁calls▁end｜>``
    closes the implicit section."""
    src = "Hi" + call_text(fmt, "f", '{"a": 1}') + "\n" + call_text(fmt, "g", "{}") + E + "ok"
    assert summary(run(fmt, [src])) == {
        "content": "Hiok",
        "reasoning": "",
        "calls": [("f", {"a": 1}), ("g", {})],
        "errors": [],
    }


# -- misspelled section openers (R1 distills) ------------------------------------------


def test_opener_variants_are_llama_cpps_list() -> None:
    assert OPENER_VARIANTS[2] == "<｜tool" + "\\" + "_calls" + "\\" + "_begin｜>"
    for fmt in (R1, V3):
        pattern = delimiters(fmt)["CALLS_BEGIN"]
        for opener in [B, *OPENER_VARIANTS]:
            assert pattern.match(opener) and pattern.match(opener).end() == len(opener)
        for near in ("<｜tool_calls｜>", "<｜tool▁calls▁begin>", "<｜tool\\calls\\begin｜>"):
            assert pattern.match(near) is None


@pytest.mark.parametrize("fmt", [R1, V3])
@pytest.mark.parametrize("opener", OPENER_VARIANTS)
@pytest.mark.parametrize("call_begin", [True, False], ids=["call-begin", "no-call-begin"])
def test_misspelled_section_opener_opens_the_section(
    fmt: str, opener: str, call_begin: bool
) -> None:
    """llama.cpp's test-chat.cpp parses ``<｜tool▁calls｜>function<｜tool▁sep｜>
    special_function\n```json\n{"arg1": 1}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>``
    (DeepSeek R1 format) to one call: the variant opener, and the call's own
    ``<｜tool▁call▁begin｜>`` missing."""
    body = 'function<｜tool▁sep｜>special_function\n```json\n{"arg1": 1}\n```' + CE
    src = "Let me check." + opener + (CB if call_begin else "") + body + E
    start = src.index(CB if call_begin else opener)  # a bare first call opens at the opener
    raw = src.encode("utf-8")
    for chunks in ([src], list(src), [raw[i : i + 1] for i in range(len(raw))]):
        events = run(fmt, chunks)
        assert summary(events) == {
            "content": "Let me check.",
            "reasoning": "",
            "calls": [("special_function", {"arg1": 1})],
            "errors": [],
        }
        (call,) = typed(events, "tool_call")
        assert call.span == (start, src.index("}") + 1)
        assert call.raw == '{"arg1": 1}'


@pytest.mark.parametrize("opener", [B, *OPENER_VARIANTS])
def test_misspelled_opener_inside_forced_open_reasoning(opener: str) -> None:
    """R1 distills call from unclosed thinking with the misspelled opener too."""
    call = v3_call("get_weather", '{"city": "Paris"}')
    for head in (call, call[len(CB) :]):
        src = "I should check the weather.\n" + opener + head + E
        got = summary(run(R1, list(src), generation_prompt=PROMPT_THINK[R1]))
        assert got == {
            "content": "",
            "reasoning": "I should check the weather.",
            "calls": [("get_weather", {"city": "Paris"})],
            "errors": [],
        }


def test_first_call_without_its_begin_token_then_ordinary_calls() -> None:
    src = B + v3_call("f", "{}")[len(CB) :] + "\n" + v3_call("g", '{"a": 1}') + E
    src += "\n" + "<｜tool▁calls｜>" + v3_call("h", "{}")[len(CB) :] + E
    for fmt in (R1, V3):
        events = run(fmt, list(src))
        got = summary(events)
        assert (got["calls"], got["errors"]) == ([("f", {}), ("g", {"a": 1}), ("h", {})], [])
        # a bare first call's span starts at the opener it is glued to
        spans = [c.span[0] for c in typed(events, "tool_call")]
        assert spans == [0, src.index(CB), src.index("<｜tool▁calls｜>")]


@pytest.mark.parametrize("fmt", [R1, V3])
def test_the_word_function_alone_opens_no_call(fmt: str) -> None:
    """``function<｜tool▁sep｜>NAME`` is a call only glued to a section opener: in text
    the word is text and the call head a stray marker (``unexpected_tag``), as
    before; between calls only whitespace or ``<｜tool▁call▁begin｜>`` may stand."""
    src = "Call function" + v3_call("f", "{}")[len(CB + "function") :]
    got = summary(run(fmt, [src]))
    assert got["calls"] == [] and got["errors"][0] == "unexpected_tag"
    assert got["content"].startswith("Call function")
    bad = B + v3_call("f", "{}") + v3_call("g", "{}")[len(CB) :] + E
    got = summary(run(fmt, [bad]))
    assert (got["calls"], got["errors"]) == ([("f", {})], ["unexpected_text"])
    # the opener followed by "function" but no call head: text after the opener
    assert summary(run(fmt, [B + "function(x)" + E]))["errors"] == ["unexpected_text"]


def test_v3_1_keeps_its_one_opener() -> None:
    """V3.1's calls have another syntax; llama.cpp's variants are the R1 handler's."""
    src = OPENER_VARIANTS[0] + v31_call("f", "{}") + E
    got = summary(run(V31, [src]))
    assert got["calls"] == [("f", {})]  # the call opens an implicit section
    assert got["content"] == OPENER_VARIANTS[0]


# -- V3 fences and the type word --------------------------------------------------------


@pytest.mark.parametrize("fmt", [R1, V3])
@pytest.mark.parametrize(
    ("fence_open", "fence_close"),
    [
        ("\n```json\n", "\n```"),
        ("\n```json", "```"),
        ("\n```json\n", "\n```\n"),
        ("  \n```json\n", "\n```   "),
        ("\r\n```json\r\n", "\r\n```"),
        ("\n```json\n", ""),  # closing fence missing: tolerated
        ("\n```json\n", "\n"),
    ],
)
def test_v3_fence_variants(fmt: str, fence_open: str, fence_close: str) -> None:
    src = B + v3_call("f", '{"a": "b"}', fence_open, fence_close) + E
    events = run(fmt, list(src))
    assert summary(events)["calls"] == [("f", {"a": "b"})]
    assert summary(events)["errors"] == []
    assert typed(events, "tool_call")[0].raw == '{"a": "b"}'


@pytest.mark.parametrize("fmt", [R1, V3])
def test_v3_type_word(fmt: str) -> None:
    """Always ``function``; checked only to be a lowercase word (or absent)."""
    for word in ("function", ""):
        src = B + v3_call("f", "{}", type_word=word) + E
        assert summary(run(fmt, [src]))["calls"] == [("f", {})]
    src = B + v3_call("f", "{}", type_word="Function 1") + E
    assert summary(run(fmt, [src]))["errors"] == ["unexpected_text"]


@pytest.mark.parametrize("fmt", [R1, V3])
def test_v3_name_must_be_followed_by_the_fence(fmt: str) -> None:
    src = B + CB + "function" + SEP + "f\n{}\n```" + CE + v3_call("g", "{}") + E
    got = summary(run(fmt, [src]))
    assert got["calls"] == [("g", {})]
    assert got["errors"] == ["unexpected_text"]


def test_v31_separator_variants() -> None:
    src = B + v31_call("f", '{"a": 1}', before=" \n", after="\n ") + v31_call("g", "{}") + E
    assert summary(run(V31, list(src)))["calls"] == [("f", {"a": 1}), ("g", {})]


def test_v31_name_capture_rejects_markup() -> None:
    for bad in ("get weather", "a<b", "x｜y"):
        src = B + v31_call(bad, "{}") + v31_call("ok", "{}") + E
        got = summary(run(V31, [src]))
        assert got["calls"] == [("ok", {})], bad
        assert got["errors"] == ["unexpected_text"], bad


def test_v31_call_without_a_name_is_an_error() -> None:
    src = B + v31_call("", '{"a": 1}') + v31_call("ok", "{}") + E
    got = summary(run(V31, [src]))
    assert got["calls"] == [("ok", {})]
    assert got["errors"] == ["invalid_arguments"]


# -- reasoning and prompt tails ----------------------------------------------------------


def test_r1_reasoning_then_call() -> None:
    src = "<think>\nThe user wants row 7.\n</think>\n\n" + B + v3_call("f", "{}") + E
    assert summary(run(R1, [src])) == {
        "content": "",
        "reasoning": "The user wants row 7.",
        "calls": [("f", {})],
        "errors": [],
    }


@pytest.mark.parametrize("after", ["", "\n", "\n\n", "\n\n\n"])
def test_r1_separator_after_think_is_at_most_two_newlines(after: str) -> None:
    src = "<think>x</think>" + after + "Answer"
    expected = "\n" * max(0, len(after) - 2) + "Answer"
    assert summary(run(R1, list(src)))["content"] == expected
    assert summary(run(R1, [src]))["content"] == expected


def test_r1_forced_open_prompt() -> None:
    src = "I'm\nthinking\n</think>\n\nHello"
    assert summary(run(R1, [src], generation_prompt=PROMPT_THINK[R1])) == {
        "content": "Hello",
        "reasoning": "I'm\nthinking",
        "calls": [],
        "errors": [],
    }
    # without the prompt the closer is a stray: an error, not content
    got = summary(run(R1, [src]))
    assert got["errors"] == ["unexpected_tag"]
    assert "</think>" not in got["content"]


@pytest.mark.parametrize("fmt", THINKING)
def test_call_from_unclosed_reasoning_ends_it(fmt: str) -> None:
    """A section opener followed by a call head inside reasoning is a call (R1
    distills call without closing a forced-open think)."""
    src = "Let me call it.\n" + B + call_text(fmt, "f", '{"a": 1}') + E + "Done."
    got = summary(run(fmt, list(src), generation_prompt=PROMPT_THINK[fmt]))
    assert got == {
        "content": "Done.",
        "reasoning": "Let me call it." if fmt == R1 else "Let me call it.\n",
        "calls": [("f", {"a": 1})],
        "errors": [],
    }


@pytest.mark.parametrize("fmt", THINKING)
def test_markers_mentioned_in_reasoning_are_reasoning(fmt: str) -> None:
    body = f"The {B} token, then {CB}, {CE}, ```json and {E}; no call here."
    src = "<think>" + body + "</think>" + "ok"
    got = summary(run(fmt, list(src)))
    assert got == {"content": "ok", "reasoning": body, "calls": [], "errors": []}


def test_v31_prompt_tails() -> None:
    src = "reasoning</think>content" + B + v31_call("f", "{}") + E
    thinking = summary(run(V31, [src], generation_prompt=PROMPT_THINK[V31]))
    assert thinking == {
        "content": "content",
        "reasoning": "reasoning",
        "calls": [("f", {})],
        "errors": [],
    }
    plain = summary(run(V31, ["content" + B + v31_call("f", "{}") + E], generation_prompt=""))
    non_thinking = summary(
        run(
            V31,
            ["content" + B + v31_call("f", "{}") + E],
            generation_prompt="<｜Assistant｜></think>",
        )
    )
    assert plain == non_thinking == {**thinking, "reasoning": ""}


def test_v3_has_no_reasoning_block() -> None:
    src = "<think>x</think>" + B + v3_call("f", "{}") + E
    assert summary(run(V3, [src]))["content"] == "<think>x</think>"


@pytest.mark.parametrize("fmt", THINKING)
def test_truncated_reasoning_is_reasoning(fmt: str) -> None:
    events = run(fmt, ["<think>still thinking"])
    assert summary(events)["reasoning"] == "still thinking"
    assert summary(events)["errors"] == ["truncated"]


# -- truncation ----------------------------------------------------------------------------


def _sample(fmt: str) -> str:
    return (
        "<think>r</think>Hi" * (fmt in THINKING)
        + B
        + call_text(fmt, "fetch_row", '{"id": 7, "q": "a}b"}')
        + "\n"
        + call_text(fmt, "ping", "{}")
        + E
        + "Bye"
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncation_at_every_character(fmt: str) -> None:
    """Cut anywhere: the calls whose ``}`` arrived are reported, a cut call never is
    (an error instead), no marker leaks into content or reasoning."""
    src = _sample(fmt)
    whole = typed(run(fmt, [src]), "tool_call")
    assert len(whole) == 2
    for k in range(len(src) + 1):
        cut = src[:k]
        events = run(fmt, [cut])
        calls = typed(events, "tool_call")
        assert [c.to_json() for c in calls] == [c.to_json() for c in whole if c.span[1] <= k]
        errors = summary(events)["errors"]
        inside_call = any(c.span[0] < k < c.span[1] for c in whole)
        if inside_call:
            assert errors and errors[-1] in ("truncated", "unexpected_text"), (k, errors)
        if k == len(src):
            assert errors == []
        text = summary(events)["content"] + summary(events)["reasoning"]
        assert not any(m in text for m in MARKERS), (k, text)
        assert coalesce(run(fmt, list(cut))) == coalesce(events)


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncation_after_a_section_opener(fmt: str) -> None:
    for src in ("Sure." + B, "Sure." + B + CB, "Sure." + B + call_text(fmt, "f", "{}")):
        events = run(fmt, [src])
        assert summary(events)["errors"] == ["truncated"], src
        assert summary(events)["content"] == "Sure."
        assert not typed(events, "finish")


# -- errors and recovery -------------------------------------------------------------------


MALFORMED_V3 = {  # kind: (text, error code)
    "invalid_json": (v3_call("f", '{"a": }'), "invalid_json"),
    "invalid_arguments": (v3_call("f", "[1, 2]"), "invalid_arguments"),
    "unterminated_string": (v3_call("f", '{"a": "b')[: -len(CE) - 5], "invalid_json"),
    "no_fence": (CB + "function" + SEP + "f\n{}" + CE, "unexpected_text"),
    "text_between": ("oops", "unexpected_text"),
    "stray_separator": (SEP, "unexpected_text"),
}
MALFORMED_V31 = {
    "invalid_json": (v31_call("f", '{"a": }'), "invalid_json"),
    "invalid_arguments": (v31_call("f", '"x"'), "invalid_arguments"),
    "bad_name": (v31_call("a b", "{}"), "unexpected_text"),
    "no_separator": (CB + "f" + CE, "unexpected_text"),
    "text_between": ("oops", "unexpected_text"),
    "text_after_json": (v31_call("f", "{} x"), "unexpected_text"),
}
MALFORMED = [
    *[(fmt, kind, *bad) for fmt in (R1, V3) for kind, bad in MALFORMED_V3.items()],
    *[(V31, kind, *bad) for kind, bad in MALFORMED_V31.items()],
]


@pytest.mark.parametrize(
    ("fmt", "kind", "bad", "code"), MALFORMED, ids=[f"{m[0]}-{m[1]}" for m in MALFORMED]
)
def test_malformed_call_then_good_ones(fmt: str, kind: str, bad: str, code: str) -> None:
    good = call_text(fmt, "good", '{"ok": true}')
    src = "Hi" + B + bad + "\n" + good + E + B + call_text(fmt, "later", "{}") + E
    events = run(fmt, [src])
    got = summary(events)
    assert got["errors"] == [code]
    # "text_after_json": the call completed at its "}", before the junk
    assert [name for name, _ in got["calls"]] == ["f"] * (kind == "text_after_json") + [
        "good",
        "later",
    ]
    assert got["content"] == "Hi"
    assert coalesce(run(fmt, list(src))) == coalesce(events)


@pytest.mark.parametrize("fmt", FORMATS)
def test_section_opener_without_calls(fmt: str) -> None:
    """Section opener present, per-call tokens missing: no call, an error, and the
    next section parses."""
    src = B + 'fetch_row {"id": 7}' + E + "x" + B + call_text(fmt, "f", "{}") + E
    got = summary(run(fmt, [src]))
    assert got["calls"] == [("f", {})]
    assert got["errors"] == ["unexpected_text"]
    assert got["content"] == "x"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("stray", [E, CE, SEP, "</think>"])
def test_stray_markers_in_content_are_errors(fmt: str, stray: str) -> None:
    src = "a" + stray + "b"
    got = summary(run(fmt, [src]))
    if (fmt == V3 and stray == "</think>") or (fmt != V31 and stray == SEP):
        # not markers of the format (a V3 separator counts only inside a call head)
        assert got == {"content": src, "reasoning": "", "calls": [], "errors": []}
    else:
        assert got["errors"] == ["unexpected_tag"]
        assert got["content"] == "ab"


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_tool(fmt: str) -> None:
    tools = [{"type": "function", "function": {"name": "fetch_row", "parameters": {}}}]
    src = B + call_text(fmt, "fetch_row", '{"id": 1}') + call_text(fmt, "nope", "{}")
    src += call_text(fmt, "fetch_row", '{"id": 2}') + E
    events = run(fmt, [src], tools=tools)
    assert summary(events)["calls"] == [("fetch_row", {"id": 1}), ("fetch_row", {"id": 2})]
    errors = typed(events, "error")
    assert [e.code for e in errors] == ["unknown_tool"]
    assert errors[0].offset == src.index(CB + ("nope" if fmt == V31 else "function" + SEP + "nope"))
    assert [c.index for c in typed(events, "tool_call")] == [0, 2]


@pytest.mark.parametrize("fmt", FORMATS)
def test_strict_mode_raises_parse_error(fmt: str) -> None:
    src = "Hi" + B + call_text(fmt, "f", '{"a": }') + E
    parser = toolwire.parser(fmt, strict=True)
    with pytest.raises(toolwire.ParseError) as info:
        parser.feed(src)
    assert info.value.code == "invalid_json"
    assert info.value.offset == src.index("}")
    assert summary(info.value.events)["content"] == "Hi"


# -- the oracle generator -------------------------------------------------------------------

NEAR_MISSES = [
    "<",
    "<｜",
    "｜>",
    "<｜tool",
    "<｜tool▁call",
    "<｜tool▁calls▁begin",
    "<｜tool▁call▁end｜",
    "<|tool▁sep|>",
    "<｜tool_calls_begin｜>",
    "<｜tool▁sep>",
    "▁",
    "｜",
    "<think",
    "</think",
    "</ think>",
    "<thinking>",
    "```",
    "```json",
    "\n```json\n",
    "function",
    "function<",
]
ODD = [" ", "\n", "\r\n", "\t", "é", "日本", "😀", "\u2028", "\x00", "a", "x y", "{", "}", '"']
FRAGMENTS = NEAR_MISSES + ODD + MARKERS


def break_matches(text: str, pattern: re.Pattern[str]) -> str:
    """Every match of ``pattern`` broken by a space after its first character."""
    while (m := pattern.search(text)) is not None:
        text = text[: m.start() + 1] + " " + text[m.start() + 1 :]
    return text


raw_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=8).map(
    "".join
)


def texts(fmt: str) -> st.SearchStrategy[str]:
    """Visible text: no delimiter of the format (in strict text, any would be one)."""
    pattern = any_delimiter(fmt)
    return raw_text.map(lambda s: break_matches(s, pattern))


def reasonings(fmt: str) -> st.SearchStrategy[str]:
    """Reasoning text: no closer, no section opener followed by a call head."""
    d = delimiters(fmt)
    names = [n for n in d if n.startswith("THINK_CLOSE") or n == "CALLS_BEGIN_IN_THINK"]
    pattern = re.compile("|".join(f"(?:{d[n].pattern})" for n in names))
    return raw_text.map(lambda s: break_matches(s, pattern))


json_strings = st.one_of(
    st.text(max_size=6),
    st.sampled_from([*MARKERS, "```", "\n```\n", "}", "{", '"', "\\", "😀", "\u2028", "\x00"]),
)
json_keys = st.one_of(st.sampled_from(["a", "id", "name", "arguments", CE, "é", ""]), json_strings)
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
    alphabet="abcdefghijklmnopqrstuvwxyz_ABCXYZ0123456789-.:/é日", min_size=1, max_size=10
)
layouts = st.sampled_from(["", "", "\n", " ", "\n\n", "\t", "\r\n"])


@st.composite
def dumps(draw: st.DrawFn, value: Any) -> str:
    style = draw(st.sampled_from(["compact", "default", "indent"]))
    ascii_ = draw(st.booleans())
    if style == "compact":
        return json.dumps(value, ensure_ascii=ascii_, separators=(",", ":"))
    if style == "indent":
        return json.dumps(value, ensure_ascii=ascii_, indent=draw(st.integers(0, 2)))
    return json.dumps(value, ensure_ascii=ascii_)


@dataclass(kw_only=True)
class Doc(OracleDoc):
    """The shared oracle document for one of the DeepSeek formats."""

    fmt: str
    prompt: str | None = None


def add_text(doc: Doc, text: str, after_think: bool, before_call: bool) -> None:
    doc.add(text)
    visible = text
    if doc.fmt == R1:
        if after_think:  # </think> takes up to two newlines with it
            visible = visible[2:] if visible.startswith("\n\n") else visible.removeprefix("\n")
        if before_call:
            visible = visible.rstrip(" \t\r\n")
    doc.block("text", visible)


def add_reasoning(doc: Doc, body: str, closed: bool) -> None:
    doc.add(body)
    if doc.fmt == R1:
        body = body.lstrip("\n")
        if closed:
            body = body.rstrip("\n")
    doc.block("reasoning", body)


def draw_call(
    draw: st.DrawFn, doc: Doc, first_in_think: bool = False, bare: bool = False
) -> tuple[str, int, int]:
    """(call text, offset of the body in it, raw length), recording the events;
    ``bare``: V3 / R1 without ``<｜tool▁call▁begin｜>`` (then ``function`` opens it)."""
    name = draw(names)
    args = draw(objects)
    raw = draw(dumps(args))
    lead = draw(st.sampled_from(["", "", " ", "\n"]))
    if doc.fmt == V31:
        text = CB + name + SEP + lead + raw + draw(layouts) + CE
        at = len(CB + name + SEP + lead)
    else:
        fence_open = draw(st.sampled_from(["\n```json\n", "\n```json", " \n```json\n"]))
        fence_close = draw(st.sampled_from(["\n```", "```", "\n```\n", ""]))
        type_word = (
            "function" if first_in_think or bare else draw(st.sampled_from(["function"] * 3 + [""]))
        )
        head = ("" if bare else CB) + type_word + SEP + name + fence_open + lead
        text = head + raw + fence_close + CE
        at = len(head)
    start = len(doc.text)
    index = doc.index
    doc.index += 1
    call = {
        "type": "tool_call",
        "index": index,
        "id": f"call_{index}",
        "name": name,
        "arguments": json.loads(raw),
        "raw": raw,
        "span": [start, start + at + len(raw)],
    }
    doc.events += [
        {"type": "tool_call_start", "index": index, "id": f"call_{index}", "name": name},
        {"type": "tool_call_delta", "index": index, "id": f"call_{index}", "text": raw},
        call,
    ]
    doc.calls.append(call)
    doc.after_call = False
    return text, at, len(raw)


def add_calls(
    draw: st.DrawFn, doc: Doc, opener: str, close: bool = True, in_think: bool = False
) -> None:
    """A section (``opener`` is B, or "" for one without its opener) of 1-3 calls;
    ``in_think``: the section ends unclosed reasoning (its look-ahead needs the call
    head right after the opener).  V3 / R1: the opener may be one of the misspelled
    variants, and the first call may lack its ``<｜tool▁call▁begin｜>``."""
    variants = doc.fmt != V31
    if opener == B and variants and draw(st.integers(0, 2)) == 0:
        opener = draw(st.sampled_from(OPENER_VARIANTS))
    doc.add(opener)
    if opener and not in_think and draw(st.booleans()):
        doc.add(draw(layouts))
        opener = ""  # layout after it: the first call is not glued to the opener
    for k in range(draw(st.integers(1, 3))):
        if k:
            doc.add(draw(layouts))
        bare = variants and k == 0 and bool(opener) and draw(st.integers(0, 3)) == 0
        text, _, _ = draw_call(draw, doc, first_in_think=in_think and k == 0, bare=bare)
        if bare:  # the call opens at the section opener glued to it
            doc.calls[-1]["span"][0] -= len(opener)
        doc.add(text)
    if close:
        doc.add(draw(layouts) + E)


@st.composite
def documents(draw: st.DrawFn, fmt: str | None = None, tails: bool = True) -> Doc:
    fmt = fmt if fmt is not None else draw(st.sampled_from(FORMATS))
    doc = Doc(fmt=fmt)
    kinds = ["text", "section", "section", "orphan"] + ["think"] * (fmt in THINKING)
    tail = "none"
    if tails:
        tail = draw(st.sampled_from(["none"] * 3 + ["open_think", "cut_call", "open_section"]))
        if tail == "open_think" and fmt not in THINKING:
            tail = "none"
    pending = ""  # text not yet added: consecutive parts form one run
    after_think = False  # the pending text follows </think>

    def close_think() -> None:
        nonlocal pending, after_think
        doc.add("</think>")
        if fmt == R1:  # </think> takes up to two newlines with it
            pending = draw(st.sampled_from(["", "\n", "\n\n"]))
        after_think = True

    if fmt in THINKING and draw(st.booleans()):  # forced-open prompt
        doc.prompt = PROMPT_THINK[fmt]
        add_reasoning(doc, draw(reasonings(fmt)), closed=True)
        if draw(st.integers(0, 2)):
            close_think()
        else:  # a call ends the reasoning
            add_calls(draw, doc, B, in_think=True)
    parts = draw(st.lists(st.sampled_from(kinds), max_size=6))
    last = {"none": "end", "open_think": "end", "cut_call": "call", "open_section": "call"}
    for kind in [*parts, last[tail]]:
        if kind == "text":
            pending += draw(texts(fmt))
            continue
        if kind in ("section", "orphan", "call") and draw(st.integers(0, 3)) == 0:
            pending += draw(st.sampled_from([" ", "\n", " \n\t", "\r\n"]))
        if pending or after_think:
            text = break_matches(pending, any_delimiter(fmt))
            add_text(doc, text, after_think, before_call=kind in ("section", "orphan", "call"))
            pending, after_think = "", False
        if kind in ("end", "call"):
            break
        if kind == "think":
            doc.add("<think>")
            add_reasoning(doc, draw(reasonings(fmt)), closed=True)
            if draw(st.integers(0, 3)):
                close_think()
            else:  # a call ends the reasoning
                add_calls(draw, doc, B, in_think=True)
        else:
            add_calls(draw, doc, B if kind == "section" else "")
    doc.tail = tail
    if tail == "open_think":
        doc.add("<think>")
        add_reasoning(doc, draw(reasonings(fmt)), closed=False)
        doc.error("truncated", len(doc.text))
    elif tail == "open_section":
        add_calls(draw, doc, B, close=False)
        doc.error("truncated", len(doc.text))
    elif tail == "cut_call":
        doc.add(B)
        saved = (list(doc.events), list(doc.calls), doc.index, doc.after_call)
        text, at, n = draw_call(draw, doc)
        doc.events, doc.calls, _, doc.after_call = saved
        doc.add(text[: draw(st.integers(0, at + n - 1))])
    return doc


def check_oracle(doc: Doc, events: list[dict[str, Any]]) -> None:
    events = strip_messages(events)
    if doc.tail == "none":
        assert events == [*doc.events, doc.finish()]
    elif doc.tail in ("open_think", "open_section"):
        assert events == doc.events
    else:
        check_cut(events, doc.events)


@given(doc=documents(), data=st.data())
def test_oracle_events_and_earliest_completion(doc: Doc, data: st.DataObject) -> None:
    """Nothing lost, nothing added: every block, call and error of the document, with
    its offsets, whatever the chunking (str or UTF-8 bytes); each tool_call from the
    feed() that delivers its closing ``}``."""
    feed = partial(check_earliest_completion, doc.fmt, doc.text, generation_prompt=doc.prompt)
    chunked_oracle(data, doc.text, feed, partial(check_oracle, doc))


@given(doc=documents())
def test_oracle_char_by_char_and_byte_by_byte(doc: Doc) -> None:
    check = partial(check_oracle, doc)
    whole_char_byte_oracle(doc.fmt, doc.text, check, generation_prompt=doc.prompt)


def check_earliest_completion(
    fmt: str, text: str, chunks: list[Any], **options: Any
) -> list[list[Any]]:
    """Each tool_call comes out of the feed() whose chunk holds its closing ``}``;
    returns the events of each feed() and of close()."""
    return earliest_completion(fmt, text, chunks, _completes, **options)


def _completes(text: str, call: Any) -> None:
    assert text[call.span[1] - 1] == "}"
    assert text[call.span[0] :].startswith((CB, "<｜tool"))


# -- the grammar-driven generator -------------------------------------------------------


def _generator_grammar(fmt: str) -> Lark:
    """The format's grammar with three rewrites a context-free generator needs: the
    call after CALLS_BEGIN_IN_THINK is required (its look-ahead needs one), the call
    type word appears once (``function``, as the look-ahead expects) and a V3.1 name
    is non-empty (an empty one is an error, tested above)."""
    text = (resources.files("toolwire.grammars") / GRAMMAR_FILES[fmt]).read_text("utf-8")
    for old, new in [
        ("CALLS_BEGIN_IN_THINK _calls", "CALLS_BEGIN_IN_THINK call _calls"),
        ("TYPE*", "TYPE"),
        ("NAME*", "NAME+"),
    ]:
        text = text.replace(old, new)
    return Lark(text, parser="lalr", lexer="contextual", start="start")


def _pieces(fmt: str, strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Adjacent content pieces must not join into a delimiter: a piece that ends with
    a possible delimiter start gets a space."""
    ds = list(delimiters(fmt).values())

    def fix(s: str) -> str:
        k = s.rfind("<")
        return s + " " if k >= 0 and any(d.prefix(s, k) for d in ds) else s

    return strategy.map(fix)


def _lark_documents(fmt: str) -> st.SearchStrategy[str]:
    def args_text() -> st.SearchStrategy[str]:
        return st.tuples(st.sampled_from(["", " ", "\n"]), objects.flatmap(dumps)).map("".join)

    explicit: dict[str, st.SearchStrategy[str]] = {
        "TEXT": _pieces(fmt, texts(fmt)),
        "LAYOUT": st.sampled_from(list(JSON_WS)),
        "ARGS": args_text(),
    }
    if fmt in THINKING:
        explicit["REASONING"] = _pieces(fmt, reasonings(fmt))
        explicit["CALLS_BEGIN_IN_THINK"] = st.just(B)
    if fmt == V31:
        explicit["NAME"] = names
    else:
        explicit["TYPE"] = st.just("function")
        explicit["CALLS_BEGIN_BARE"] = st.sampled_from([B, *OPENER_VARIANTS]).map(
            lambda opener: opener + "function"
        )
        explicit["FENCE"] = st.sampled_from(["\n```", "```", "\n", " ", "`"])
        explicit["CALL_HEAD"] = st.tuples(
            names, st.sampled_from(["\n```json", " \n```json", "\r\n```json"])
        ).map(lambda t: SEP + t[0] + t[1])
    return from_lark(_generator_grammar(fmt), start="start", explicit=explicit)


LARK_DOCUMENTS = {fmt: _lark_documents(fmt) for fmt in FORMATS}
lark_documents = st.sampled_from(FORMATS).flatmap(
    lambda fmt: st.tuples(st.just(fmt), LARK_DOCUMENTS[fmt])
)


def check_calls(text: str, events: list[Any]) -> None:
    """Per call: deltas concatenate to raw, raw is the input's text, arguments parse,
    one start before it with the same id."""
    for call in typed(events, "tool_call"):
        deltas = [e.text for e in typed(events, "tool_call_delta") if e.index == call.index]
        assert "".join(deltas) == call.raw
        a, b = call.span
        assert text[a:b].endswith(call.raw)
        assert call.arguments == json.loads(call.raw)
        starts = [e for e in typed(events, "tool_call_start") if e.index == call.index]
        assert len(starts) == 1 and starts[0].id == call.id and starts[0].name == call.name
        assert events.index(starts[0]) < events.index(call)


@given(doc=lark_documents, data=st.data())
def test_grammar_documents(doc: tuple[str, str], data: st.DataObject) -> None:
    """What the grammar derives parses without errors, the same under any chunking
    (str and bytes), with consistent calls completed at their ``}``."""
    fmt, text = doc
    events = run(fmt, [text])
    assert typed(events, "error") == [], text
    check_calls(text, events)
    whole = coalesce(events)
    assert coalesce(run(fmt, data.draw(chunkings(text)))) == whole
    assert coalesce(run(fmt, data.draw(chunkings(text.encode("utf-8"))))) == whole
    check_earliest_completion(fmt, text, data.draw(chunkings(text)))


# -- arbitrary input: clear errors --------------------------------------------------------------

arbitrary_texts = st.lists(
    st.one_of(
        st.sampled_from([*FRAGMENTS, "function", '{"a": 1}', "{}", "\n```", "[1]"]),
        st.sampled_from([v3_call("f", "{}"), v31_call("f", "{}")]),
        st.text(max_size=3),
    ),
    max_size=20,
).map("".join)


@st.composite
def _arbitrary_inputs(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    fmt = draw(st.sampled_from(FORMATS))
    text = draw(st.one_of(arbitrary_texts, documents(tails=True).map(lambda d: d.text)))
    prompt = draw(st.booleans()) and fmt in THINKING
    return fmt, text, {"generation_prompt": PROMPT_THINK[fmt]} if prompt else {}


ARBITRARY_INPUT = ArbitraryInput(_arbitrary_inputs(), check_calls)
"""Arbitrary input of the four DeepSeek formats, checked by tests/test_guarantees.py."""


def test_calls_are_tool_call_events() -> None:
    """Sanity: the public type of a completed call."""
    events = run(V3, [B + v3_call("f", "{}") + E])
    assert isinstance(typed(events, "tool_call")[0], ToolCall)
