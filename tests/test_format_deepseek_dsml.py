# ruff: noqa: RUF001  (the fullwidth bar U+FF5C is part of DeepSeek's tokens)
"""DeepSeek DSML: ``deepseek-v3.2`` and ``deepseek-v4`` (FORMATS.md 5.4, 5.5, 12).

Readable examples first (FORMATS.md's example, every pitfall listed there, V4 and
V4.1 spellings, each generation-prompt start state, values typed by their
``string=`` attribute, truncation, unknown tools, strict mode, marker text inside
values and reasoning), then property tests: generated documents against an oracle,
chunk invariance over str and bytes, earliest completion, arbitrary tag soup giving
only documented errors at exact positions (strict mode raising at the lenient run's
first error), and documents derived from the grammars themselves (``from_lark``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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
    calls,
    chunk_holding,
    content,
    feed_each,
    position,
    reasoning,
    typed,
)
from toolwire import ErrorCode, Finish, ParseError, ToolCall, ToolCallStart
from toolwire.registry import compiled

V32 = "deepseek-v3.2"
V4 = "deepseek-v4"
FORMATS = [V32, V4]
THINK = "<｜Assistant｜><think>"
NO_THINK = "<｜Assistant｜></think>"
ERROR_CODES = {c.value for c in ErrorCode} - {ErrorCode.INTERNAL_ERROR}

D = "｜DSML｜"
BLOCK = {V32: "function_calls", V4: "tool_calls"}

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "fetch_row",
            "parameters": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "note": {"type": "string"}},
            },
        },
    },
    {"type": "function", "function": {"name": "ping", "parameters": {"type": "object"}}},
]


@dataclass(frozen=True)
class Style:
    """How one output spells its tags: the block name and the optional V4.1 space."""

    block: str
    space: str = ""

    def tag(self, name: str, attrs: str = "") -> str:
        return f"<{D}{self.space}{name}{attrs}>"

    def close(self, name: str) -> str:
        return f"</{D}{self.space}{name}>"

    def param(self, key: str, value: str, string: bool | None) -> str:
        attr = "" if string is None else f' string="{"true" if string else "false"}"'
        return self.tag("parameter", f' name="{key}"{attr}') + value + self.close("parameter")

    def invoke(self, name: str, params: list[str]) -> str:
        body = "".join(p + "\n" for p in params) if params else "\n"
        return self.tag("invoke", f' name="{name}"') + "\n" + body + self.close("invoke")

    def block_of(self, invokes: list[str]) -> str:
        inner = "".join(i + "\n" for i in invokes)
        return "\n\n" + self.tag(self.block) + "\n" + inner + self.close(self.block)


STYLES = {
    V32: [Style("function_calls")],
    V4: [Style("tool_calls"), Style("calls", " "), Style("tool_calls", " ")],
}
S32 = STYLES[V32][0]
S4 = STYLES[V4][0]
S41 = STYLES[V4][1]


def errors(events: list[Any]) -> list[str]:
    return [e.code for e in typed(events, "error")]


def check_chunkings(fmt: str, src: str, **options: Any) -> list[Any]:
    """Events of the whole text, after checking char-by-char and byte-by-byte agree."""
    whole = run(fmt, [src], **options)
    assert coalesce(run(fmt, list(src), **options)) == coalesce(whole)
    data = src.encode("utf-8")
    assert coalesce(run(fmt, [data[i : i + 1] for i in range(len(data))], **options)) == coalesce(
        whole
    )
    return whole


def args_of(fmt: str, src: str, **options: Any) -> dict[str, Any]:
    events = check_chunkings(fmt, src, **options)
    assert errors(events) == []
    (call,) = calls(events)
    return call.arguments


# -- FORMATS.md's example, V4, V4.1 -------------------------------------------------------------

EXAMPLE_PARAMS = [S32.param("id", "7", False), S32.param("note", "2 > 1\n", True)]


def test_formats_md_example_event_by_event() -> None:
    src = "CONTENT" + S32.block_of([S32.invoke("fetch_row", EXAMPLE_PARAMS)])
    opener = src.index("<｜DSML｜invoke")
    end = src.index("</｜DSML｜invoke>") + len("</｜DSML｜invoke>")
    raw = src[src.index("\n", opener) : src.index("</｜DSML｜invoke>")]
    events = check_chunkings(V32, src, tools=TOOLS)
    assert content(events) == "CONTENT"
    assert typed(events, "tool_call_start") == [
        ToolCallStart(index=0, id="call_0", name="fetch_row")
    ]
    assert calls(events) == [
        ToolCall(
            index=0,
            id="call_0",
            name="fetch_row",
            arguments={"id": 7, "note": "2 > 1\n"},
            raw=raw,
            span=(opener, end),
        )
    ]
    assert "".join(e.text for e in typed(events, "tool_call_delta")) == raw
    assert events[-1] == Finish(reason="tool_calls")


@pytest.mark.parametrize("style", STYLES[V4], ids=lambda s: f"{s.block}{s.space!r}")
def test_v4_block_names_and_spaced_tags(style: Style) -> None:
    src = "Hi." + style.block_of([style.invoke("fetch_row", [style.param("id", "7", False)])])
    events = check_chunkings(V4, src)
    assert (content(events), errors(events)) == ("Hi.", [])
    assert [(c.name, c.arguments) for c in calls(events)] == [("fetch_row", {"id": 7})]


def test_v4_1_tags_mixed_with_unspaced_ones() -> None:
    src = (
        f'\n\n<{D} calls>\n<{D}invoke name="ping">\n<{D} parameter name="a" '
        f'string="true">x</{D}parameter>\n</{D} invoke>\n</{D}calls>'
    )
    assert args_of(V4, src) == {"a": "x"}


def test_v3_2_does_not_take_v4_tags() -> None:
    """Each format reads its own block name: V4's opener in a V3.2 output is text."""
    src = "see <｜DSML｜tool_calls> here"
    events = check_chunkings(V32, src)
    assert (content(events), calls(events), errors(events)) == (src, [], [])


@pytest.mark.parametrize("fmt", FORMATS)
def test_parallel_invokes_and_empty_invoke(fmt: str) -> None:
    s = STYLES[fmt][0]
    src = s.block_of([s.invoke("ping", []), s.invoke("fetch_row", [s.param("id", "1", False)])])
    events = check_chunkings(fmt, src, tools=TOOLS)
    assert [(c.index, c.name, c.arguments) for c in calls(events)] == [
        (0, "ping", {}),
        (1, "fetch_row", {"id": 1}),
    ]
    assert calls(events)[0].raw == "\n\n"
    assert (content(events), errors(events)) == ("", [])


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("strict", [False, True])
def test_self_closing_invoke_is_an_empty_call(fmt: str, strict: bool) -> None:
    s = STYLES[fmt][0]
    tag = f'<{D}invoke name="ping"/>'
    src = "\n\n" + s.tag(s.block) + "\n" + tag + "\n" + s.close(s.block)
    events = run(fmt, [src], strict=strict)
    assert [(c.name, c.arguments, c.raw) for c in calls(events)] == [("ping", {}, "")]
    start = src.index(tag)
    assert calls(events)[0].span == (start, start + len(tag))
    assert coalesce(run(fmt, list(src))) == coalesce(events)


@pytest.mark.parametrize("fmt", FORMATS)
def test_json_object_as_the_whole_invoke_body(fmt: str) -> None:
    """What engines also accept; the call completes at the object's closing brace."""
    s = STYLES[fmt][-1]
    body = '{"id": 7, "note": "</｜DSML｜invoke>"}'
    opener = s.tag("invoke", ' name="fetch_row"')
    src = s.block_of([opener + "\n" + body + "\n" + s.close("invoke"), s.invoke("ping", [])])
    events = check_chunkings(fmt, src, tools=TOOLS)
    first, second = calls(events)
    assert (first.name, first.arguments, first.raw) == (
        "fetch_row",
        {"id": 7, "note": "</｜DSML｜invoke>"},
        body,
    )
    assert first.span == (src.index(opener), src.index(body) + len(body))
    assert (second.name, errors(events)) == ("ping", [])


def test_invalid_json_invoke_body() -> None:
    src = S32.block_of([S32.tag("invoke", ' name="f"') + '{"a": }' + S32.close("invoke")])
    events = check_chunkings(V32, src)
    (err,) = typed(events, "error")
    assert (err.code, err.offset) == ("invalid_json", src.index("}"))
    assert calls(events) == []


def test_tags_without_the_dsml_piece_are_text() -> None:
    src = 'Use <invoke name="f"> and <parameter name="x" string="true">.'
    events = check_chunkings(V32, src)
    assert (content(events), calls(events), errors(events)) == (src, [], [])


# -- values: typed by string=, not by the schema ------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["  leading spaces", "trailing newline\n", "\n\nblank lines around\n\n", "", "7", "null"],
)
def test_raw_string_values_are_verbatim(value: str) -> None:
    src = S32.block_of([S32.invoke("fetch_row", [S32.param("note", value, True)])])
    assert args_of(V32, src, tools=TOOLS) == {"note": value}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("7", 7),
        ("-2.5e3", -2500.0),
        ("123456789012345678901234567890", 123456789012345678901234567890),
        ("true", True),
        ("null", None),
        ('"quoted"', "quoted"),
        ('{"k": [1, {"x": null}], "s": "a\\nb"}', {"k": [1, {"x": None}], "s": "a\nb"}),
        ("\n[1, 2]\n", [1, 2]),
    ],
)
def test_json_values(text: str, value: Any) -> None:
    src = S32.block_of([S32.invoke("fetch_row", [S32.param("v", text, False)])])
    assert args_of(V32, src) == {"v": value}


def test_the_declaration_wins_over_the_schema() -> None:
    """``string="true"`` keeps ``7`` a string under an integer schema; ``string="false"``
    keeps the JSON string ``"7"`` a string.  The schema is not consulted."""
    src = S32.block_of(
        [S32.invoke("fetch_row", [S32.param("id", "7", True), S32.param("note", "42", False)])]
    )
    assert args_of(V32, src, tools=TOOLS) == {"id": "7", "note": 42}


def test_without_string_attribute_the_schema_decides() -> None:
    src = S32.block_of(
        [S32.invoke("fetch_row", [S32.param("id", "7", None), S32.param("note", "8", None)])]
    )
    assert args_of(V32, src, tools=TOOLS) == {"id": 7, "note": "8"}
    assert args_of(V32, src) == {"id": "7", "note": "8"}


@pytest.mark.parametrize(
    ("text", "bad"),
    [("seven", 0), ("[1, 2", 5), ('{"a": 1,}', 8), ("NaN", 0), ("", 0), ("1 2", 2)],
)
def test_json_value_that_is_not_json_is_kept_with_a_positioned_error(text: str, bad: int) -> None:
    """Lenient: the call stands with the raw text as a string value (SGLang's DSML
    detector keeps such a value as a string) and an ``invalid_json`` error names the
    parameter at the offending character; the block's other invokes count.  Strict:
    the same error is raised, before the call's ``tool_call``."""
    for fmt, s in ((V32, S32), (V4, S4)):
        broken = s.invoke("fetch_row", [s.param("note", "ok", True), s.param("id", text, False)])
        src = "Hi.\n" + s.block_of([broken, s.invoke("ping", [])])
        at = (
            src.index(text, src.index('name="id"')) + bad
            if text
            else src.index("</｜DSML｜parameter>", src.index('name="id"'))
        )
        events = check_chunkings(fmt, src)
        (err,) = typed(events, "error")
        assert (err.code, err.offset, (err.line, err.column)) == (
            "invalid_json",
            at,
            position(src, at),
        )
        assert "'id'" in err.message and "kept as a string" in err.message
        assert [(c.index, c.name, c.arguments) for c in calls(events)] == [
            (0, "fetch_row", {"note": "ok", "id": text}),
            (1, "ping", {}),
        ]
        # the error comes when the value ends, before the call completes
        assert events.index(err) < events.index(calls(events)[0])
        assert events[-1] == Finish(reason="tool_calls")
        with pytest.raises(ParseError) as info:
            run(fmt, [src], strict=True)
        assert (info.value.code, info.value.offset) == ("invalid_json", at)
        assert calls(info.value.events) == []


def test_string_false_on_a_path_keeps_the_call() -> None:
    """What V3.2 / V4 write when they mark a string parameter ``string="false"``: a
    bare path or word.  The call stands with the text verbatim (whitespace kept),
    typed neither by JSON nor by the schema, and the error names the parameter."""
    value = "/home/user/notes 2024.txt\n"
    for fmt, style in ((V32, S32), (V4, S4), (V4, S41)):
        src = "I'll read it." + style.block_of(
            [style.invoke("read_file", [style.param("path", value, False)])]
        )
        events = check_chunkings(fmt, src, tools=[*TOOLS, _tool("read_file", "path", "string")])
        assert [(c.name, c.arguments) for c in calls(events)] == [("read_file", {"path": value})]
        (err,) = typed(events, "error")
        assert err.code == "invalid_json" and "'path'" in err.message
        assert err.offset == src.index(value)


def _tool(name: str, key: str, type_: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "parameters": {"type": "object", "properties": {key: {"type": type_}}},
        },
    }


def test_a_kept_value_does_not_change_a_valid_json_value() -> None:
    src = S32.block_of([S32.invoke("f", [S32.param("a", ' {"k": [1, null]} ', False)])])
    assert args_of(V32, src) == {"a": {"k": [1, None]}}


def test_multi_line_json_error_position() -> None:
    text = '{\n  "a": 1,\n  oops\n}'
    src = S32.block_of([S32.invoke("f", [S32.param("v", text, False)])])
    at = src.index("oops")
    events = check_chunkings(V32, src)
    (err,) = typed(events, "error")
    assert (err.offset, err.line, err.column) == (at, *position(src, at))
    assert calls(events)[0].arguments == {"v": text}


@pytest.mark.parametrize(
    "value",
    [
        f'<{D}invoke name="other">',
        f"</{D}invoke>\n</{D}function_calls>",
        f'\n\n<{D}function_calls>\n<{D}invoke name="x">\n',
        "<think>and</think>",
    ],
)
def test_marker_text_inside_a_raw_value_is_data(value: str) -> None:
    src = S32.block_of(
        [S32.invoke("fetch_row", [S32.param("note", value, True)]), S32.invoke("ping", [])]
    )
    events = check_chunkings(V32, src, tools=TOOLS)
    assert [(c.name, c.arguments) for c in calls(events)] == [
        ("fetch_row", {"note": value}),
        ("ping", {}),
    ]
    assert errors(events) == []


# -- content and reasoning ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_thinking_prompt(fmt: str) -> None:
    s = STYLES[fmt][0]
    src = "I need row 7.</think>Fetching." + s.block_of(
        [s.invoke("fetch_row", [s.param("id", "7", False)])]
    )
    events = check_chunkings(fmt, src, generation_prompt=THINK)
    assert (reasoning(events), content(events)) == ("I need row 7.", "Fetching.")
    assert len(calls(events)) == 1


def test_non_thinking_prompt_and_calls_without_content() -> None:
    src = S32.block_of([S32.invoke("ping", [])])
    events = check_chunkings(V32, src, generation_prompt=NO_THINK)
    assert (reasoning(events), content(events), errors(events)) == ("", "", [])
    assert len(calls(events)) == 1


def test_reasoning_restarted_after_tool_results() -> None:
    prompt = "<function_results>\n<result>R</result>\n</function_results>\n\n<think>"
    events = check_chunkings(V32, "Good.</think>Done.", generation_prompt=prompt)
    assert (reasoning(events), content(events)) == ("Good.", "Done.")


def test_whitespace_before_the_block_is_separator_and_text_after_is_content() -> None:
    src = "Answer:  \n" + S32.block_of([S32.invoke("ping", [])]) + "\nAfter."
    events = check_chunkings(V32, src)
    assert content(events) == "Answer:\nAfter."
    assert events[-1] == Finish(reason="stop")


def test_block_inside_unclosed_reasoning_ends_it() -> None:
    src = "Let me call it." + S32.block_of([S32.invoke("ping", [])])
    events = check_chunkings(V32, src, generation_prompt=THINK)
    assert reasoning(events) == "Let me call it.\n\n"
    assert [c.name for c in calls(events)] == ["ping"]


def test_cut_inside_reasoning_is_reasoning_then_truncated() -> None:
    events = check_chunkings(V32, "Still thinking", generation_prompt=THINK)
    assert (reasoning(events), content(events)) == ("Still thinking", "")
    (err,) = typed(events, "error")
    assert (err.code, err.offset) == ("truncated", len("Still thinking"))


def test_tags_mentioned_in_reasoning_stay_reasoning() -> None:
    thought = f"Use <{D}function_calls> then <{D}invoke name=…> later; </{D}invoke>."
    events = check_chunkings(V32, thought + "</think>No call.", generation_prompt=THINK)
    assert (reasoning(events), content(events), calls(events)) == (thought, "No call.", [])


def test_invoke_without_block_opener_opens_an_implicit_block() -> None:
    src = "Hi. " + S32.invoke("ping", []) + "\n" + S32.close("function_calls")
    events = check_chunkings(V32, src)
    assert (content(events), [c.name for c in calls(events)], errors(events)) == (
        "Hi.",
        ["ping"],
        [],
    )


@pytest.mark.parametrize("stray", [f"</{D}invoke>", f"</{D}parameter>", "</think>"])
def test_stray_tags_in_text_are_errors(stray: str) -> None:
    src = "a " + stray + " b"
    events = check_chunkings(V32, src)
    (err,) = typed(events, "error")
    assert (err.code, err.offset) == ("unexpected_tag", 2)
    assert content(events).startswith("a")


def test_text_between_tags_is_an_error() -> None:
    src = S32.block_of([S32.invoke("ping", [])]).replace("\n<｜DSML｜invoke", "\nx<｜DSML｜invoke")
    events = check_chunkings(V32, src)
    (err,) = typed(events, "error")
    assert (err.code, err.offset) == ("unexpected_text", src.index("x<"))


# -- completion, truncation, unknown tools ------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_tool_call_comes_with_the_last_character_of_the_invoke_closer(fmt: str) -> None:
    s = STYLES[fmt][-1]
    src = s.block_of([s.invoke("fetch_row", [s.param("id", "7", False)])])
    end = src.index(s.close("invoke")) + len(s.close("invoke"))
    parser = toolwire.parser(fmt)
    assert not calls(parser.feed(src[: end - 1]))
    assert [c.arguments for c in calls(parser.feed(src[end - 1]))] == [{"id": 7}]
    # The client may stop generating here: no error at close.
    assert errors(parser.close()) == []


@pytest.mark.parametrize("cut", ["param", "value", "invoke", "tag"])
def test_truncation_inside_the_second_invoke_keeps_the_first(cut: str) -> None:
    """A cut call is an error at close(), never a call.  A cut inside a tag between
    values leaves a tag fragment where only whitespace or a tag may stand: the input
    ended inside the tag, ``truncated`` at its start (the core's rule for a cut
    delimiter); anywhere else ``truncated`` at the end of the input."""
    second = S32.invoke("fetch_row", [S32.param("note", "abc", True)])
    src = S32.block_of([S32.invoke("ping", []), second])
    param = src.index('<｜DSML｜parameter name="note"')
    closer = src.index("</｜DSML｜invoke>", src.index("abc"))
    stop, expected = {
        "param": (param + 12, ("truncated", param)),
        "value": (src.index("abc") + 2, ("truncated", src.index("abc") + 2)),
        "invoke": (closer - 1, ("truncated", closer - 1)),
        "tag": (closer + 5, ("truncated", closer)),
    }[cut]
    events = check_chunkings(V32, src[:stop])
    assert [c.name for c in calls(events)] == ["ping"]
    (err,) = typed(events, "error")
    assert (err.code, err.offset) == expected


def test_unknown_tool() -> None:
    src = S32.block_of([S32.invoke("rm_rf", []), S32.invoke("ping", [])])
    events = check_chunkings(V32, src, tools=TOOLS)
    (err,) = typed(events, "error")
    assert (err.code, err.offset) == ("unknown_tool", src.index("<｜DSML｜invoke"))
    assert [c.name for c in calls(events)] == ["ping"]


def test_strict_mode_raises_with_the_events_before() -> None:
    src = "Hi." + S32.block_of([S32.invoke("ping", [])]) + f"</{D}invoke>"
    with pytest.raises(ParseError) as info:
        run(V32, [src], strict=True)
    assert info.value.code == "unexpected_tag"
    assert [e.name for e in info.value.events if isinstance(e, ToolCall)] == ["ping"]


# -- generated documents and their oracle ---------------------------------------------------------

_CHARS = st.characters(blacklist_categories=("Cs",))
_RAW_PIECES = st.sampled_from(
    ["<", ">", "\n", " ", "｜", "DSML", f'<{D}invoke name="x">', f"</{D}invoke>", "</think>"]
)
raw_strings = st.lists(st.one_of(st.text(_CHARS, max_size=6), _RAW_PIECES), max_size=5).map("".join)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=5,
)
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,10}", fullmatch=True)
keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
_TEXT_PIECES = st.sampled_from(["<", "｜", "DSML", "think>", " ", "\n", "</", "x"])
_PLAIN = st.lists(st.one_of(st.text(_CHARS, max_size=5), _TEXT_PIECES), max_size=5).map("".join)


def _no_delimiter(fmt: str, text: str, after: str = "") -> bool:
    """Content pieces must not hold a delimiter (or end with a prefix of one), also
    where ``after`` (the start of the tag that follows) completes one.  Only
    delimiters starting inside ``text`` count: ``after`` itself is a tag's start."""
    g = compiled(fmt)
    full = text + after
    for d in g.delimiters.values():
        for k in range(len(text)):
            if d.match(full, k) is not None or d.prefix(full, k, len(full)):
                return False
    return True


NOT_JSON = [("seven", 0), ("/tmp/a b.txt", 0), ("[1, 2", 5), ("", 0), ("1 2", 2), (" nul", 1)]
"""``string="false"`` texts that are not JSON, with the offending character's index."""


@dataclass
class Doc:
    fmt: str
    text: str = ""
    prompt: str | None = None
    content: str = ""
    reasoning: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    ends_with_calls: bool = False
    errors: list[tuple[str, int]] = field(default_factory=list)
    """``string="false"`` values that are not JSON: (code, offset) of each."""


@st.composite
def documents(draw: st.DrawFn) -> Doc:
    fmt = draw(st.sampled_from(FORMATS))
    style = draw(st.sampled_from(STYLES[fmt]))
    doc = Doc(fmt)
    mode = draw(st.sampled_from(["think", "no-think", "none"]))
    if mode == "think":
        doc.prompt = THINK
        r = draw(_PLAIN.filter(lambda t: _no_delimiter(fmt, t, "<")))
        doc.text += r + "</think>"
        doc.reasoning = r
    elif mode == "no-think":
        doc.prompt = NO_THINK
    for _ in range(draw(st.integers(0, 2))):
        seg = draw(_PLAIN.filter(lambda t: _no_delimiter(fmt, t, "<")))
        doc.text += seg
        doc.content += seg.rstrip(" \t\r\n")
        if seg.strip():
            doc.ends_with_calls = False  # text after the last call: finish "stop"
        doc.text += "\n\n" + style.tag(style.block) + "\n"
        for _ in range(draw(st.integers(0, 3))):
            name = draw(names)
            start = len(doc.text)
            if draw(st.integers(0, 5)) == 0:
                value = draw(st.dictionaries(keys, json_values, max_size=3))
                body = json.dumps(value, ensure_ascii=False)
                lead = style.tag("invoke", f' name="{name}"') + draw(st.sampled_from(["\n", ""]))
                doc.text += lead + body
                span = (start, len(doc.text))
                doc.text += draw(st.sampled_from(["\n", ""])) + style.close("invoke") + "\n"
                doc.calls.append({"name": name, "arguments": value, "raw": body, "span": span})
                doc.ends_with_calls = True
                continue
            if draw(st.integers(0, 5)) == 0:
                tag = f'<{D}{style.space}invoke name="{name}"/>'
                doc.text += tag + "\n"
                doc.calls.append(
                    {"name": name, "arguments": {}, "raw": "", "span": (start, start + len(tag))}
                )
                doc.ends_with_calls = True
                continue
            params: list[str] = []
            arguments: dict[str, Any] = {}
            for key in draw(st.lists(keys, max_size=3, unique=True)):
                if draw(st.booleans()):
                    value = draw(raw_strings.filter(lambda v: style.close("parameter") not in v))
                    value = value.replace(f"</{D}parameter>", "").replace(f"</{D} parameter>", "")
                    params.append(style.param(key, value, True))
                    arguments[key] = value
                elif draw(st.integers(0, 4)):
                    value = draw(json_values)
                    params.append(style.param(key, json.dumps(value, ensure_ascii=False), False))
                    arguments[key] = value
                else:  # string="false" on text that is not JSON: kept, with an error
                    text, bad = draw(st.sampled_from(NOT_JSON))
                    param = style.param(key, text, False)
                    head = style.tag("invoke", f' name="{name}"') + "\n"
                    at = len(doc.text) + len(head) + sum(len(p) + 1 for p in params)
                    at += param.index(">") + 1 + bad
                    doc.errors.append(("invalid_json", at))
                    params.append(param)
                    arguments[key] = text
            block = style.invoke(name, params)
            doc.text += block
            raw = block[block.index(">") + 1 : block.rindex("<")]
            doc.calls.append(
                {"name": name, "arguments": arguments, "raw": raw, "span": (start, len(doc.text))}
            )
            doc.ends_with_calls = True
            doc.text += "\n"
        doc.text += style.close(style.block)
    if draw(st.booleans()):
        tail = draw(_PLAIN.filter(lambda t: _no_delimiter(fmt, t)))
        doc.text += tail
        doc.content += tail
        if tail.strip() and doc.calls:
            doc.ends_with_calls = False
    return doc


def _options(doc: Doc) -> dict[str, Any]:
    return {"generation_prompt": doc.prompt}


@given(documents())
def test_generated_documents_parse_to_the_oracle(doc: Doc) -> None:
    events = run(doc.fmt, [doc.text], **_options(doc))
    assert [(e.code, e.offset) for e in typed(events, "error")] == doc.errors, doc.text
    assert content(events) == doc.content
    assert reasoning(events) == doc.reasoning
    got = [
        {"name": c.name, "arguments": c.arguments, "raw": c.raw, "span": c.span}
        for c in calls(events)
    ]
    assert got == doc.calls
    for call in calls(events):
        deltas = [e.text for e in typed(events, "tool_call_delta") if e.index == call.index]
        assert "".join(deltas) == call.raw
    assert events[-1] == Finish(reason="tool_calls" if doc.ends_with_calls else "stop")


@given(documents(), st.data())
def test_chunk_invariance(doc: Doc, data: st.DataObject) -> None:
    whole = coalesce(run(doc.fmt, [doc.text], **_options(doc)))
    payload: Any = doc.text.encode("utf-8") if data.draw(st.booleans()) else doc.text
    assert coalesce(run(doc.fmt, data.draw(chunkings(payload)), **_options(doc))) == whole


@given(documents(), st.data())
def test_earliest_completion(doc: Doc, data: st.DataObject) -> None:
    """Each tool_call comes out of the feed() holding the ``>`` of its invoke closer
    (or of its self-closing tag), never earlier or later."""
    payload: Any = doc.text.encode("utf-8") if data.draw(st.booleans()) else doc.text
    chunks = data.draw(chunkings(payload))
    outs = feed_each(doc.fmt, chunks, **_options(doc))
    seen = [(k, c.index) for k, out in enumerate(outs) for c in calls(out)]
    expected = [
        (chunk_holding(doc.text, chunks, call["span"][1] - 1), i)
        for i, call in enumerate(doc.calls)
    ]
    assert seen == expected


# -- arbitrary input ------------------------------------------------------------------------------


def _soup_pieces(fmt: str) -> list[str]:
    s = STYLES[fmt][-1]
    return [
        "\n\n" + s.tag(s.block),
        s.close(s.block),
        s.tag("invoke", ' name="ping"'),
        s.tag("invoke", ' name="ping"/'),
        s.close("invoke"),
        s.tag("parameter", ' name="a" string="true"'),
        s.tag("parameter", ' name="b" string="false"'),
        s.tag("parameter", ' name="c"'),
        s.close("parameter"),
        "<think>",
        "</think>",
        "\n",
        "7",
        '{"k": [1]}',
        "[1,",
    ]


@st.composite
def soups(draw: st.DrawFn) -> tuple[str, str]:
    fmt = draw(st.sampled_from(FORMATS))
    pieces = st.one_of(st.sampled_from(_soup_pieces(fmt)), st.text(max_size=3))
    return fmt, "".join(draw(st.lists(pieces, max_size=20)))


ARBITRARY_INPUT = ArbitraryInput(
    st.tuples(soups(), st.sampled_from([None, THINK])).map(
        lambda s: (s[0][0], s[0][1], {"generation_prompt": s[1]})
    )
)
"""Arbitrary DSML input, checked by tests/test_guarantees.py."""


# -- the grammar-driven generator ---------------------------------------------------------------


def _generator_grammar(fmt: str) -> Lark:
    """The format's grammar with the rewrite a context-free generator needs: the
    look-ahead of BLOCK_IN_THINK wants an invoke after it."""
    name = compiled(fmt).spec.grammar
    text = (resources.files("toolwire.grammars") / name).read_text("utf-8")
    text = text.replace("_think_open BLOCK_IN_THINK", "_think_open BLOCK_IN_THINK LAYOUT invoke")
    return Lark(text, parser="lalr", lexer="contextual", start="start")


def _lark_documents(fmt: str) -> st.SearchStrategy[str]:
    s = STYLES[fmt][0]
    ok = st.text(_CHARS, max_size=6)
    explicit: dict[str, st.SearchStrategy[str]] = {
        "TEXT": _PLAIN.filter(lambda t: _no_delimiter(fmt, t, "<")),
        "REASONING": _PLAIN.filter(lambda t: _no_delimiter(fmt, t, "<")),
        "LAYOUT": st.sampled_from(["\n", " ", "\n\n"]),
        "PAD": st.sampled_from(["\n", " ", "\n\n"]),
        "VALUE": ok.filter(lambda v: "</" not in v and not v.endswith("<")),
        "BLOCK_IN_THINK": st.just(s.tag(s.block)),
        "INVOKE_OPEN": names.map(lambda n: s.tag("invoke", f' name="{n}"')),
        "INVOKE_SELF": names.map(lambda n: s.tag("invoke", f' name="{n}"/')),
        "INVOKE_JSON": names.map(lambda n: s.tag("invoke", f' name="{n}"') + "\n"),
        "ARGS": st.dictionaries(keys, json_values, max_size=2).map(json.dumps),
        "JPAD": st.sampled_from(["\n", " "]),
        # Raw strings only: a generated VALUE is arbitrary text, not JSON.
        "PARAM_OPEN": keys.map(lambda k: s.tag("parameter", f' name="{k}" string="true"')),
    }
    return from_lark(_generator_grammar(fmt), start="start", explicit=explicit)


LARK_DOCUMENTS = {fmt: _lark_documents(fmt) for fmt in FORMATS}


@given(
    st.sampled_from(FORMATS).flatmap(lambda f: st.tuples(st.just(f), LARK_DOCUMENTS[f])), st.data()
)
def test_grammar_documents(doc: tuple[str, str], data: st.DataObject) -> None:
    """What the grammar derives parses without errors and the same under any chunking
    (str and bytes); each call's deltas concatenate to its raw text."""
    fmt, text = doc
    events = run(fmt, [text])
    assert errors(events) == [], text
    for call in calls(events):
        deltas = [e.text for e in typed(events, "tool_call_delta") if e.index == call.index]
        assert "".join(deltas) == call.raw
        if call.raw.startswith("{"):  # a JSON body
            assert call.arguments == json.loads(call.raw)
        else:  # parameter tags, raw strings only
            assert all(isinstance(v, str) for v in call.arguments.values())
    whole = coalesce(events)
    assert coalesce(run(fmt, data.draw(chunkings(text)))) == whole
    assert coalesce(run(fmt, data.draw(chunkings(text.encode("utf-8"))))) == whole
