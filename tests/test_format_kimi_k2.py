"""The ``kimi-k2`` format (FORMATS.md 6.1 and 12; decisions in
``toolwire/formats/kimi_k2.py``).

Examples of every shape, pitfall and prompt tail, truncation point, error and
recovery; then property tests over two generators:

* ``documents()`` builds an output part by part (text, reasoning with or without
  sections inside it, sections with stray text between calls, calls without a
  section opener, a truncated tail) and records the events it must produce: the
  oracle for the exact-event, chunk-invariance and earliest-completion properties;
* ``lark_documents`` derives outputs from the grammar
  (``hypothesis.extra.lark.from_lark``) with explicit strategies for the declared
  terminals.

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
    feed_each,
    strip_messages,
    summary,
    typed,
    whole_char_byte_oracle,
)
from toolwire.formats.kimi_k2 import name_from_id
from toolwire.registry import compiled

FMT = "kimi-k2"
HEAD = "<|im_assistant|>assistant<|im_middle|>"
PROMPT_THINK = HEAD + "<think>"
PROMPT_NO_THINK = HEAD + "<think></think>"

SB, SE = "<|tool_calls_section_begin|>", "<|tool_calls_section_end|>"
CB, AB, CE = "<|tool_call_begin|>", "<|tool_call_argument_begin|>", "<|tool_call_end|>"
MARKERS = [SB, SE, CB, AB, CE, "<think>", "</think>"]
ERROR_CODES = {code.value for code in toolwire.ErrorCode} - {toolwire.ErrorCode.INTERNAL_ERROR}


def call(call_id: str, args: str, before: str = "", after: str = "") -> str:
    return CB + call_id + AB + before + args + after + CE


def section(*calls: str, gap: str = "") -> str:
    return SB + gap + gap.join(calls) + gap + SE


# -- shapes ------------------------------------------------------------------------------


def test_one_call_exact_events() -> None:
    """The id is the header as written; the start carries id and name together."""
    src = "Checking." + section(call("functions.fetch_row:0", '{"id": 7}'))
    start = src.index(CB)
    end = src.index("}") + 1
    cid = "functions.fetch_row:0"
    assert [e.to_json() for e in run(FMT, [src])] == [
        {"type": "text_start", "id": 0},
        {"type": "text_delta", "id": 0, "text": "Checking."},
        {"type": "text_end", "id": 0},
        {"type": "tool_call_start", "index": 0, "id": cid, "name": "fetch_row"},
        {"type": "tool_call_delta", "index": 0, "id": cid, "text": '{"id": 7}'},
        {
            "type": "tool_call",
            "index": 0,
            "id": cid,
            "name": "fetch_row",
            "arguments": {"id": 7},
            "raw": '{"id": 7}',
            "span": [start, end],
        },
        {"type": "finish", "reason": "tool_calls", "raw_reason": None, "usage": None},
    ]


@pytest.mark.parametrize(
    ("call_id", "name"),
    [
        ("functions.fetch_row:0", "fetch_row"),
        ("functions.fetch_row:12", "fetch_row"),  # the counter spans the conversation
        ("fetch_row:3", "fetch_row"),  # without the prefix: the raw id is kept
        ("functions.web.search:1", "web.search"),  # dots belong to the name
        ("functions.mcp:fs.read:4", "mcp:fs.read"),  # split at the LAST colon
        ("functions.ping", "ping"),  # no counter
        (" functions.ping:0 \n", "ping"),  # whitespace around the header is layout
    ],
)
def test_name_is_derived_from_the_id(call_id: str, name: str) -> None:
    src = section(call(call_id, "{}"))
    events = run(FMT, list(src))
    [start] = typed(events, "tool_call_start")
    [done] = typed(events, "tool_call")
    assert (start.id, start.name) == (call_id.strip(), name)
    assert (done.id, done.name) == (call_id.strip(), name)
    assert name_from_id(call_id.strip()) == name


def test_start_waits_for_the_whole_header() -> None:
    """``tool_call_start`` comes from the feed that completes the argument marker."""
    src = section(call("functions.fetch_row:0", "{}"))
    at = src.index(AB) + len(AB) - 1
    chunks = [src[:at], src[at:]]
    outs = feed_each(FMT, chunks)
    assert not typed(outs[0], "tool_call_start")
    assert [e.name for e in typed(outs[1], "tool_call_start")] == ["fetch_row"]


def test_parallel_calls_and_ids() -> None:
    src = section(
        call("functions.get_weather:0", '{"city": "Tokyo"}'), call("functions.ping:1", "{}")
    )
    events = run(FMT, list(src))
    assert summary(events)["calls"] == [("get_weather", {"city": "Tokyo"}), ("ping", {})]
    assert [(c.index, c.id) for c in typed(events, "tool_call")] == [
        (0, "functions.get_weather:0"),
        (1, "functions.ping:1"),
    ]


@pytest.mark.parametrize("gap", ["", " ", "\n", " \n\t", "\r\n", "stray words", " x "])
def test_whitespace_and_stray_text_between_markers_is_never_content(gap: str) -> None:
    ws = gap if gap.isspace() else " "  # around the header: layout, the rest is the id
    src = (
        "Hi"
        + SB
        + gap
        + CB
        + ws
        + "functions.f:0"
        + ws
        + AB
        + " "
        + '{"a": 1}'
        + " \n"
        + CE
        + gap
        + call("functions.g:1", "{}")
        + gap
        + SE
        + "Bye"
    )
    for chunks in ([src], list(src)):
        assert summary(run(FMT, chunks)) == {
            "content": "HiBye",
            "reasoning": "",
            "calls": [("f", {"a": 1}), ("g", {})],
            "errors": [],
        }


@pytest.mark.parametrize("gap", ["", "\n", "nothing to call"])
def test_empty_section_yields_no_calls(gap: str) -> None:
    src = "Hi" + SB + gap + SE + "there"
    events = run(FMT, [src])
    assert summary(events) == {"content": "Hithere", "reasoning": "", "calls": [], "errors": []}
    assert typed(events, "finish")[0].reason == "stop"


def test_text_after_the_section_is_content() -> None:
    src = "Let me look. " + section(call("functions.f:0", "{}")) + " Done."
    events = run(FMT, [src])
    assert summary(events)["content"] == "Let me look.  Done."
    assert typed(events, "finish")[0].reason == "stop"
    assert typed(run(FMT, list(src)), "finish")[0].reason == "stop"


def test_whitespace_after_the_section_keeps_finish_tool_calls() -> None:
    src = section(call("functions.f:0", "{}")) + "\n"
    assert typed(run(FMT, [src]), "finish")[0].reason == "tool_calls"


def test_everything_glued() -> None:
    src = "<think>r</think>c" + section(call("functions.f:0", "{}"), call("functions.g:1", "{}"))
    assert summary(run(FMT, [src])) == {
        "content": "c",
        "reasoning": "r",
        "calls": [("f", {}), ("g", {})],
        "errors": [],
    }


def test_nested_arguments_and_big_numbers() -> None:
    args = {"a": {"b": [1, {"c": None}], "d": "x"}, "e": [], "g": 1e-7, "h": 10**30}
    src = section(call("functions.f:0", json.dumps(args)))
    assert summary(run(FMT, list(src)))["calls"] == [("f", args)]


def test_marker_text_inside_json_strings() -> None:
    args = {"q": CE + SE + SB + CB + AB, "think": "</think><think>", "brace": "}"}
    src = section(call("functions.search:0", json.dumps(args)), call("functions.g:1", "{}"))
    events = run(FMT, list(src))
    assert summary(events)["calls"] == [("search", args), ("g", {})]
    assert summary(events)["errors"] == []


def test_call_without_section_opener_opens_one() -> None:
    src = "Hi" + call("functions.f:0", '{"a": 1}') + "\n" + call("functions.g:1", "{}") + SE + "ok"
    assert summary(run(FMT, [src])) == {
        "content": "Hiok",
        "reasoning": "",
        "calls": [("f", {"a": 1}), ("g", {})],
        "errors": [],
    }


# -- reasoning and prompt tails ----------------------------------------------------------


def test_sections_inside_unclosed_reasoning_are_calls() -> None:
    """K2-Thinking interleaves: whole sections inside <think>, reasoning goes on."""
    src = (
        "<think>I need row 7."
        + section(call("functions.fetch_row:0", '{"id": 7}'))
        + "Now ping."
        + section(call("functions.ping:1", "{}"))
        + "</think>Row 7 is ready."
    )
    for chunks in ([src], list(src)):
        events = run(FMT, chunks)
        assert summary(events) == {
            "content": "Row 7 is ready.",
            "reasoning": "I need row 7.Now ping.",
            "calls": [("fetch_row", {"id": 7}), ("ping", {})],
            "errors": [],
        }
        # separate reasoning blocks around each section
        assert len(typed(events, "reasoning_start")) == 2
        assert typed(events, "finish")[0].reason == "stop"


def test_section_inside_forced_open_reasoning() -> None:
    src = "thinking" + section(call("functions.f:0", "{}")) + "more</think>answer"
    assert summary(run(FMT, list(src), generation_prompt=PROMPT_THINK)) == {
        "content": "answer",
        "reasoning": "thinkingmore",
        "calls": [("f", {})],
        "errors": [],
    }


def test_other_markers_in_reasoning_are_reasoning() -> None:
    body = f"The {CB}, {AB}, {CE} and {SE} tokens; <think> too."
    src = "<think>" + body + "</think>ok"
    assert summary(run(FMT, list(src))) == {
        "content": "ok",
        "reasoning": body,
        "calls": [],
        "errors": [],
    }


@pytest.mark.parametrize(
    ("prompt", "src", "reasoning"),
    [
        (HEAD, "<think>r</think>c", "r"),  # K2-Thinking writes <think> itself
        (HEAD, "c", ""),  # K2-Instruct
        (PROMPT_THINK, "r</think>c", "r"),  # K2.5 / K2.6 thinking
        (PROMPT_NO_THINK, "c", ""),  # thinking off
        (None, "c", ""),
    ],
)
def test_generation_prompt_start_states(prompt: str | None, src: str, reasoning: str) -> None:
    full = src + section(call("functions.f:0", "{}"))
    got = summary(run(FMT, list(full), generation_prompt=prompt))
    assert got == {"content": "c", "reasoning": reasoning, "calls": [("f", {})], "errors": []}


def test_reasoning_is_verbatim() -> None:
    src = "<think>\n r \n</think>\n c \n"
    assert summary(run(FMT, [src]))[("reasoning")] == "\n r \n"
    assert summary(run(FMT, [src]))["content"] == "\n c \n"


def test_section_inside_reasoning_at_the_end_completes_the_output() -> None:
    """K2-Thinking writes its calls section inside ``<think>`` and stops there (the
    ``<|im_end|>`` stop token, stripped by the engine, follows): the section ends the
    reasoning, so the output is complete: the calls, no ``truncated`` error, finish
    ``tool_calls``.  (vLLM's KimiK2ReasoningParser tests likewise end the reasoning at
    a section opener that comes without ``</think>``: tool_section_no_think_end.)"""
    head = "<think>The user wants the weather in Paris. I'll call get_weather."
    body = section(call("functions.get_weather:0", '{"city": "Paris"}'))
    for prompt, src in ((None, head + body), (PROMPT_THINK, head[len("<think>") :] + body)):
        one_byte = [bytes([b]) for b in src.encode()]
        for chunks in ([src], list(src), one_byte):
            events = run(FMT, chunks, generation_prompt=prompt)
            assert summary(events) == {
                "content": "",
                "reasoning": head.removeprefix("<think>"),
                "calls": [("get_weather", {"city": "Paris"})],
                "errors": [],
            }
            assert typed(events, "finish")[0].reason == "tool_calls"
        parser = toolwire.parser(FMT, strict=True, generation_prompt=prompt)
        assert summary(parser.feed(src) + parser.close())["errors"] == []
    # two sections, the output ending with the second one: complete too
    two = head + body + "Also Rome." + section(call("functions.get_weather:1", '{"city": "Rome"}'))
    got = summary(run(FMT, [two]))
    assert (got["errors"], len(got["calls"])) == ([], 2)


def test_reasoning_after_the_last_section_still_needs_its_closer() -> None:
    """Only an output that ends *at* a section is complete: reasoning that goes on
    after it and is cut is truncated reasoning, as before."""
    src = "<think>r" + section(call("functions.f:0", "{}")) + "more"
    got = summary(run(FMT, [src]))
    assert (got["reasoning"], got["calls"], got["errors"]) == ("rmore", [("f", {})], ["truncated"])
    # an open section inside reasoning is cut, not complete
    cut = "<think>r" + SB + call("functions.f:0", "{}")
    assert summary(run(FMT, [cut]))["errors"] == ["truncated"]


def test_truncated_reasoning_is_reasoning() -> None:
    for prompt, src in ((None, "<think>still"), (PROMPT_THINK, "still")):
        events = run(FMT, [src], generation_prompt=prompt)
        assert summary(events)["reasoning"] == "still"
        assert summary(events)["errors"] == ["truncated"]


def test_closer_without_the_forced_open_prompt_is_an_error() -> None:
    got = summary(run(FMT, ["r</think>c"]))
    assert got["errors"] == ["unexpected_tag"]
    assert got["content"] == "rc"


# -- truncation ----------------------------------------------------------------------------

SAMPLE = (
    "<think>r"
    + section(call("functions.a:0", '{"s": "x}"}'))
    + "</think>Hi"
    + SB
    + " "
    + call("functions.fetch_row:1", '{"id": 7, "q": "a}b"}', before=" ", after="\n")
    + "\n"
    + call("functions.ping:2", "{}")
    + SE
    + "Bye"
)


def test_truncation_at_every_character() -> None:
    """Cut anywhere: calls whose ``}`` arrived are reported, a cut call never is (an
    error instead), no marker leaks into content or reasoning."""
    whole = typed(run(FMT, [SAMPLE]), "tool_call")
    assert len(whole) == 3
    for k in range(len(SAMPLE) + 1):
        cut = SAMPLE[:k]
        events = run(FMT, [cut])
        assert [c.to_json() for c in typed(events, "tool_call")] == [
            c.to_json() for c in whole if c.span[1] <= k
        ]
        errors = summary(events)["errors"]
        if any(c.span[0] < k < c.span[1] for c in whole):
            # a marker cut in the header is flushed as header text at close()
            assert errors in (["truncated"], ["unexpected_text"]), (k, errors)
        if k == len(SAMPLE):
            assert errors == []
        text = summary(events)["content"] + summary(events)["reasoning"]
        assert not any(m in text for m in MARKERS), (k, text)
        assert coalesce(run(FMT, list(cut))) == coalesce(events)


# -- errors and recovery -------------------------------------------------------------------

MALFORMED = {  # kind: (text inside a section, error code)
    "invalid_json": (call("functions.f:0", '{"a": }'), "invalid_json"),
    "invalid_arguments": (call("functions.f:0", "[1, 2]"), "invalid_arguments"),
    "empty_header": (call("", '{"a": 1}'), "invalid_arguments"),
    "bad_header": (call("functions.a|b:0", "{}"), "unexpected_text"),
    "marker_in_header": (CB + "functions.f:0" + CE, "unexpected_text"),
    "text_after_json": (call("functions.f:0", "{} x"), "unexpected_text"),
    "stray_think": ("</think>", "unexpected_tag"),
}


@pytest.mark.parametrize(("kind", "bad", "code"), [(k, *v) for k, v in MALFORMED.items()])
def test_malformed_call_then_good_ones(kind: str, bad: str, code: str) -> None:
    good = call("functions.good:1", '{"ok": true}')
    src = "Hi" + SB + bad + good + SE + SB + call("functions.later:2", "{}") + SE
    events = run(FMT, [src])
    got = summary(events)
    assert got["errors"] == [code]
    # "text_after_json": the call completed at its "}", before the junk
    assert [n for n, _ in got["calls"]] == ["f"] * (kind == "text_after_json") + ["good", "later"]
    assert got["content"] == "Hi"
    assert coalesce(run(FMT, list(src))) == coalesce(events)


@pytest.mark.parametrize("stray", [SE, CE, AB, "</think>"])
def test_stray_markers_in_content_are_errors(stray: str) -> None:
    got = summary(run(FMT, ["a" + stray + "b"]))
    assert got["errors"] == ["unexpected_tag"]
    assert got["content"] == "ab"


def test_near_misses_are_text() -> None:
    text = "a <|tool_call|> b <|tool_calls_section_begin> <| c |> functions.f:0 {}"
    assert summary(run(FMT, list(text))) == {
        "content": text,
        "reasoning": "",
        "calls": [],
        "errors": [],
    }


def test_unknown_tool() -> None:
    tools = [{"type": "function", "function": {"name": "fetch_row", "parameters": {}}}]
    src = section(
        call("functions.fetch_row:0", '{"id": 1}'),
        call("functions.nope:1", "{}"),
        call("functions.fetch_row:2", '{"id": 2}'),
    )
    events = run(FMT, [src], tools=tools)
    assert summary(events)["calls"] == [("fetch_row", {"id": 1}), ("fetch_row", {"id": 2})]
    errors = typed(events, "error")
    assert [e.code for e in errors] == ["unknown_tool"]
    assert errors[0].offset == src.index(CB + "functions.nope")
    assert [c.index for c in typed(events, "tool_call")] == [0, 2]


def test_strict_mode_raises_parse_error() -> None:
    src = "Hi" + section(call("functions.f:0", '{"a": }'))
    parser = toolwire.parser(FMT, strict=True)
    with pytest.raises(toolwire.ParseError) as info:
        parser.feed(src)
    assert info.value.code == "invalid_json"
    assert info.value.offset == src.index("}")
    assert summary(info.value.events)["content"] == "Hi"
    with pytest.raises(toolwire.ParseError):
        parser.feed("more")  # poisoned


def test_long_arguments_stream_as_deltas() -> None:
    """A long string argument streams in small pieces, each its own delta, and the
    call is reported once its object closes."""
    value = "x" * 5000 + "é\\n"
    src = section(call("functions.write:0", json.dumps({"text": value}, ensure_ascii=False)))
    chunks = [src[i : i + 4] for i in range(0, len(src), 4)]
    outs = feed_each(FMT, chunks)
    deltas = [e for out in outs for e in typed(out, "tool_call_delta")]
    assert len(deltas) > 1000
    [done] = [e for out in outs for e in typed(out, "tool_call")]
    assert "".join(d.text for d in deltas) == done.raw
    assert done.arguments == {"text": value}


# -- the oracle generator -------------------------------------------------------------------

NEAR_MISSES = [
    "<",
    "<|",
    "|>",
    "<|tool",
    "<|tool_call",
    "<|tool_calls_section_begin",
    "<|tool_call_end|",
    "<|tool_call_argument_begin>",
    "<think",
    "</think",
    "<thinking>",
    "functions.",
    ":0",
    "<|im_end|>",
]
ODD = [" ", "\n", "\r\n", "\t", "é", "日本", "😀", "\u2028", "\x00", "a", "x y", "{", "}", '"']
FRAGMENTS = NEAR_MISSES + ODD + MARKERS


def delimiters() -> dict[str, Any]:
    return compiled(FMT).delimiters


def pattern_of(*names: str) -> re.Pattern[str]:
    d = delimiters()
    return re.compile("|".join(f"(?:{d[n].pattern})" for n in (names or d)))


def break_matches(text: str, pattern: re.Pattern[str]) -> str:
    """Every match of ``pattern`` broken by a space after its first character."""
    while (m := pattern.search(text)) is not None:
        text = text[: m.start() + 1] + " " + text[m.start() + 1 :]
    return text


raw_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=8).map(
    "".join
)
ANY_MARKER = pattern_of()
REASONING_STOPS = pattern_of("THINK_CLOSE", "SECTION_BEGIN")
texts = raw_text.map(lambda s: break_matches(s, ANY_MARKER))
reasonings = raw_text.map(lambda s: break_matches(s, REASONING_STOPS))
gaps = st.one_of(
    st.sampled_from(["", "", " ", "\n", "\r\n", "\t"]),
    st.text(alphabet="ab c\n{}:.é😀", max_size=6),
)
spaces = st.sampled_from(["", "", " ", "\n", " \n"])

json_strings = st.one_of(
    st.text(max_size=6), st.sampled_from([*MARKERS, "}", "{", '"', "\\", "😀", "\u2028", "\x00"])
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
        st.lists(inner, max_size=3), st.dictionaries(json_strings, inner, max_size=3)
    ),
    max_leaves=8,
)
objects = st.dictionaries(json_strings, json_values, max_size=4)
names = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz_ABCXYZ0123456789-.:/é日", min_size=1, max_size=10
).filter(lambda s: not s.startswith("functions."))


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
    prompt: str | None = None


def draw_call(draw: st.DrawFn, doc: Doc) -> tuple[str, int, int]:
    """(call text, offset of the JSON body in it, body length), recording the events."""
    name = draw(names)
    index = doc.index
    doc.index += 1
    call_id = draw(st.sampled_from(["functions.", ""])) + name
    call_id += draw(st.sampled_from([f":{index}", f":{index + 3}", ""]))
    if name_from_id(call_id) != name:  # a colon in a name needs the counter after it
        call_id += f":{index}"
    args = draw(objects)
    raw = draw(dumps(args))
    head = CB + draw(spaces) + call_id + draw(spaces) + AB + draw(spaces)
    text = head + raw + draw(spaces) + CE
    start = len(doc.text)
    done = {
        "type": "tool_call",
        "index": index,
        "id": call_id,
        "name": name_from_id(call_id),
        "arguments": json.loads(raw),
        "raw": raw,
        "span": [start, start + len(head) + len(raw)],
    }
    doc.events += [
        {"type": "tool_call_start", "index": index, "id": call_id, "name": done["name"]},
        {"type": "tool_call_delta", "index": index, "id": call_id, "text": raw},
        done,
    ]
    doc.calls.append(done)
    doc.after_call = False
    return text, len(head), len(raw)


def add_section(draw: st.DrawFn, doc: Doc, opener: bool = True, close: bool = True) -> None:
    """A section of 0-3 calls (at least one without its opener), stray gaps between."""
    if opener:
        doc.add(SB + draw(gaps))
    for k in range(draw(st.integers(0 if opener else 1, 3))):
        if k:
            doc.add(draw(gaps))
        text, _, _ = draw_call(draw, doc)
        doc.add(text)
    if close:
        doc.add(draw(gaps) + SE)


@st.composite
def documents(draw: st.DrawFn, tails: bool = True) -> Doc:
    doc = Doc()
    tail = "none"
    if tails:
        tail = draw(
            st.sampled_from(
                ["none"] * 3 + ["open_think", "cut_call", "open_section", "section_ends_think"]
            )
        )

    def think_body(closed: bool) -> bool:
        """Reasoning with whole sections inside it; whether it ends with a section."""
        body = ""
        k = 0
        for k in range(draw(st.integers(0, 2)) + 1):
            if k:
                add_section(draw, doc)
            body = draw(reasonings)
            doc.add(body)
            doc.block("reasoning", body)
        if closed:
            doc.add("</think>")
        return k > 0 and not body

    prompt = draw(st.sampled_from([None, HEAD, PROMPT_THINK, PROMPT_NO_THINK]))
    doc.prompt = prompt
    if prompt == PROMPT_THINK:
        think_body(closed=True)
    pending = ""  # consecutive text parts form one run
    for kind in draw(st.lists(st.sampled_from(["text", "think", "section", "orphan"]), max_size=6)):
        if kind == "text":
            pending += draw(texts)
            continue
        if pending:
            text = break_matches(pending, ANY_MARKER)
            doc.add(text)
            doc.block("text", text)
            pending = ""
        if kind == "think":
            doc.add("<think>")
            think_body(closed=True)
        else:
            add_section(draw, doc, opener=kind == "section")
    if pending:
        text = break_matches(pending, ANY_MARKER)
        doc.add(text)
        doc.block("text", text)
    doc.tail = tail
    if tail == "open_think":
        doc.add("<think>")
        if think_body(closed=False):
            doc.tail = "none"  # it ended with a section: complete (as below)
        else:
            doc.error("truncated", len(doc.text))
    elif tail == "section_ends_think":
        # K2-Thinking: reasoning, then its calls section inside <think>, then the stop
        # token: the section ends the reasoning and the output is complete.
        doc.add("<think>")
        body = draw(reasonings)
        doc.add(body)
        doc.block("reasoning", body)
        add_section(draw, doc)
        doc.tail = "none"
    elif tail == "open_section":
        add_section(draw, doc, close=False)
        doc.error("truncated", len(doc.text))
    elif tail == "cut_call":
        doc.add(SB)
        saved = (list(doc.events), list(doc.calls), doc.index, doc.after_call)
        text, at, n = draw_call(draw, doc)
        doc.events, doc.calls, doc.index, doc.after_call = saved
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


def check_earliest_completion(text: str, chunks: list[Any], **options: Any) -> list[list[Any]]:
    """Each tool_call comes out of the feed() whose chunk holds its closing ``}``."""
    return earliest_completion(FMT, text, chunks, _completes, **options)


def _completes(text: str, done: Any) -> None:
    assert text[done.span[1] - 1] == "}"
    assert text[done.span[0] :].startswith(CB)


@given(doc=documents(), data=st.data())
def test_oracle_events_and_earliest_completion(doc: Doc, data: st.DataObject) -> None:
    """Every block, call and error of the document with its offsets, whatever the
    chunking (str or UTF-8 bytes); each tool_call from the feed() with its ``}``."""
    feed = partial(check_earliest_completion, doc.text, generation_prompt=doc.prompt)
    chunked_oracle(data, doc.text, feed, partial(check_oracle, doc))


@given(doc=documents())
def test_oracle_char_by_char_and_byte_by_byte(doc: Doc) -> None:
    check = partial(check_oracle, doc)
    whole_char_byte_oracle(FMT, doc.text, check, generation_prompt=doc.prompt)


# -- the grammar-driven generator -------------------------------------------------------


def _generator_grammar() -> Lark:
    """The grammar with the call header required (an empty one is an error, tested
    above)."""
    text = (resources.files("toolwire.grammars") / "kimi_k2.lark").read_text("utf-8")
    return Lark(text.replace("ID*", "ID"), parser="lalr", lexer="contextual", start="start")


def _pieces(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Adjacent content pieces must not join into a delimiter: a piece that ends with
    a possible delimiter start gets a space."""
    ds = list(delimiters().values())

    def fix(s: str) -> str:
        k = s.rfind("<")
        return s + " " if k >= 0 and any(d.prefix(s, k) for d in ds) else s

    return strategy.map(fix)


lark_documents = from_lark(
    _generator_grammar(),
    start="start",
    explicit={
        "TEXT": _pieces(texts),
        "REASONING": _pieces(reasonings),
        "ID": st.tuples(
            st.sampled_from(["functions.", ""]), names, st.sampled_from([":0", ":7"])
        ).map("".join),
        "GAP": st.text(alphabet="ab c\n:.é", max_size=4),
        "TAIL": st.sampled_from([" ", "\n", "\t"]),
        "ARGS": st.tuples(spaces, objects.flatmap(dumps)).map("".join),
    },
)


def check_calls(text: str, events: list[Any]) -> None:
    """Per call: deltas concatenate to raw, raw is the input's text, arguments parse,
    one start before it with the same id and name, the name derived from the id."""
    for done in typed(events, "tool_call"):
        deltas = [e.text for e in typed(events, "tool_call_delta") if e.index == done.index]
        assert "".join(deltas) == done.raw
        a, b = done.span
        assert text[a:b].endswith(done.raw)
        assert done.arguments == json.loads(done.raw)
        assert done.name == name_from_id(done.id)
        starts = [e for e in typed(events, "tool_call_start") if e.index == done.index]
        assert len(starts) == 1 and (starts[0].id, starts[0].name) == (done.id, done.name)
        assert events.index(starts[0]) < events.index(done)


@given(text=lark_documents, data=st.data())
def test_grammar_documents(text: str, data: st.DataObject) -> None:
    """What the grammar derives parses without errors, the same under any chunking
    (str and bytes), with consistent calls completed at their ``}``."""
    events = run(FMT, [text])
    assert typed(events, "error") == [], text
    check_calls(text, events)
    whole = coalesce(events)
    assert coalesce(run(FMT, data.draw(chunkings(text)))) == whole
    assert coalesce(run(FMT, data.draw(chunkings(text.encode("utf-8"))))) == whole
    check_earliest_completion(text, data.draw(chunkings(text)))


# -- arbitrary input: clear errors --------------------------------------------------------------

arbitrary_texts = st.lists(
    st.one_of(
        st.sampled_from([*FRAGMENTS, "functions.f:0", '{"a": 1}', "{}", "[1]"]),
        st.just(call("functions.f:0", "{}")),
        st.text(max_size=3),
    ),
    max_size=20,
).map("".join)


ARBITRARY_INPUT = ArbitraryInput(
    st.tuples(
        st.just(FMT),
        st.one_of(arbitrary_texts, documents().map(lambda d: d.text)),
        st.sampled_from([None, PROMPT_THINK]).map(lambda p: {"generation_prompt": p}),
    ),
    check_calls,
)
"""Arbitrary kimi-k2 input, checked by tests/test_guarantees.py."""


@pytest.mark.parametrize("prompt", [None, HEAD, PROMPT_THINK, PROMPT_NO_THINK])
def test_strict_parser_accepts_every_prompt_tail(prompt: str | None) -> None:
    src = (
        ("r</think>" if prompt == PROMPT_THINK else "")
        + "hi"
        + section(call("functions.f:0", "{}"))
    )
    parser = toolwire.parser(FMT, strict=True, generation_prompt=prompt)
    got = summary(parser.feed(src) + parser.close())
    assert got["calls"] == [("f", {})]
    assert got["content"] == "hi"
