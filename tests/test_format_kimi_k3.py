"""Kimi-K3 "XTML": ``kimi-k3`` (FORMATS.md 6.2 and 12).

Readable examples first (the template's message, each generation-prompt start state,
values typed by their ``type=`` attribute, the whole-object ``json`` form, attribute
escaping in tool names and keys, every pitfall of FORMATS.md 6.2, truncation,
unknown tools, strict mode), then property tests: generated messages against an
oracle, chunk invariance over str and bytes, earliest completion, arbitrary element
soup giving only documented errors at exact positions (strict mode raising at the
lenient run's first error), and documents derived from the grammar (``from_lark``).
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

FORMAT = "kimi-k3"
MSG = '<|open|>message role="assistant"<|sep|>'
THINK = MSG + "<|open|>think<|sep|>"
NO_THINK = MSG + "<|open|>response<|sep|>"
END = "<|close|>message<|sep|><|end_of_msg|>"
ERROR_CODES = {c.value for c in ErrorCode} - {ErrorCode.INTERNAL_ERROR}

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


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;")


def arg(key: str, body: str, kind: str | None) -> str:
    attr = "" if kind is None else f' type="{kind}"'
    return f'<|open|>argument key="{esc(key)}"{attr}<|sep|>{body}<|close|>argument<|sep|>'


def call(name: str, args: list[str], index: int = 1) -> str:
    return (
        f'<|open|>call tool="{esc(name)}" index="{index}"<|sep|>'
        + "".join(args)
        + "<|close|>call<|sep|>"
    )


def json_call(name: str, body: str, index: int = 1) -> str:
    return (
        f'<|open|>call tool="{esc(name)}" index="{index}"<|sep|><|open|>json type="object"<|sep|>'
        f"{body}<|close|>json<|sep|><|close|>call<|sep|>"
    )


def tools(*calls_: str) -> str:
    return "<|open|>tools<|sep|>" + "".join(calls_) + "<|close|>tools<|sep|>"


def response(text: str) -> str:
    return f"<|open|>response<|sep|>{text}<|close|>response<|sep|>"


def errors(events: list[Any]) -> list[str]:
    return [e.code for e in typed(events, "error")]


def check_chunkings(src: str, **options: Any) -> list[Any]:
    """Events of the whole text, after checking char-by-char and byte-by-byte agree."""
    whole = run(FORMAT, [src], **options)
    assert coalesce(run(FORMAT, list(src), **options)) == coalesce(whole)
    data = src.encode("utf-8")
    one_byte = [data[i : i + 1] for i in range(len(data))]
    assert coalesce(run(FORMAT, one_byte, **options)) == coalesce(whole)
    return whole


def args_of(src: str, **options: Any) -> dict[str, Any]:
    events = check_chunkings(src, **options)
    assert errors(events) == []
    (c,) = calls(events)
    return c.arguments


# -- the template's message ---------------------------------------------------------------------


def test_a_whole_message_event_by_event() -> None:
    the_call = call("fetch_row", [arg("id", "7", "number"), arg("note", "2 > 1\n", "string")])
    src = "I need row 7.<|close|>think<|sep|>" + response("Fetching.") + tools(the_call) + END
    start = src.index("<|open|>call")
    end = src.index("<|close|>call<|sep|>") + len("<|close|>call<|sep|>")
    raw = src[src.index("<|sep|>", start) + len("<|sep|>") : src.index("<|close|>call<|sep|>")]
    events = check_chunkings(src, generation_prompt=THINK, tools=TOOLS)
    assert (reasoning(events), content(events)) == ("I need row 7.", "Fetching.")
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
            span=(start, end),
        )
    ]
    assert "".join(e.text for e in typed(events, "tool_call_delta")) == raw
    assert events[-1] == Finish(reason="tool_calls")


def test_thinking_off_prompt() -> None:
    src = "Hi.<|close|>response<|sep|>" + tools(call("ping", [])) + END
    events = check_chunkings(src, generation_prompt=NO_THINK)
    assert (reasoning(events), content(events), errors(events)) == ("", "Hi.", [])
    assert [(c.name, c.arguments, c.raw) for c in calls(events)] == [("ping", {}, "")]


def test_whole_message_without_prompt() -> None:
    src = MSG + "<|open|>think<|sep|>hm<|close|>think<|sep|>" + response("ok") + END
    events = check_chunkings(src)
    assert (reasoning(events), content(events), errors(events)) == ("hm", "ok", [])
    assert events[-1] == Finish(reason="stop")


def test_model_skips_the_think_element() -> None:
    """Thinking requested, the model answers at once: the think element is empty."""
    src = response("Direct answer.") + END
    events = check_chunkings(src, generation_prompt=THINK)
    assert (reasoning(events), content(events), errors(events)) == ("", "Direct answer.", [])


def test_parallel_calls_and_indexes() -> None:
    src = (
        "x<|close|>think<|sep|>"
        + response("")
        + tools(call("ping", [], 1), call("fetch_row", [arg("id", "2", "number")], 2))
    )
    events = check_chunkings(src, generation_prompt=THINK, tools=TOOLS)
    assert [(c.index, c.id, c.name, c.arguments) for c in calls(events)] == [
        (0, "call_0", "ping", {}),
        (1, "call_1", "fetch_row", {"id": 2}),
    ]
    assert errors(events) == []


def test_whitespace_between_elements_is_dropped() -> None:
    src = (
        "\n"
        + response("A")
        + "\n"
        + "<|open|>tools<|sep|>\n"
        + call("fetch_row", [arg("id", "1", "number"), "\n  ", arg("note", "n", "string")])
        + "\n<|close|>tools<|sep|>\n"
        + END
        + "\n"
    )
    events = check_chunkings(src, generation_prompt=MSG, tools=TOOLS)
    assert (content(events), errors(events)) == ("A", [])
    assert [c.arguments for c in calls(events)] == [{"id": 1, "note": "n"}]


# -- values: typed by type=, not by the schema --------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "body", "value"),
    [
        ("string", "  spaced\n", "  spaced\n"),
        ("string", "", ""),
        ("string", "7", "7"),
        ("string", '{"k": 1}', '{"k": 1}'),
        ("number", "7", 7),
        ("number", "-2.5e3", -2500.0),
        ("number", "123456789012345678901234567890", 123456789012345678901234567890),
        ("boolean", "false", False),
        ("null", "null", None),
        ("object", '{"a": [1, null]}', {"a": [1, None]}),
        ("array", '[1, "x"]', [1, "x"]),
        ("integer", "3", 3),
        ("anything", '"s"', "s"),
    ],
)
def test_values_typed_by_their_attribute(kind: str, body: str, value: Any) -> None:
    src = tools(call("fetch_row", [arg("v", body, kind)]))
    assert args_of(src, generation_prompt=MSG) == {"v": value}


def test_the_declaration_wins_over_the_schema() -> None:
    src = tools(call("fetch_row", [arg("id", "7", "string"), arg("note", "42", "number")]))
    assert args_of(src, generation_prompt=MSG, tools=TOOLS) == {"id": "7", "note": 42}


def test_without_type_the_schema_decides() -> None:
    src = tools(call("fetch_row", [arg("id", "7", None), arg("note", "8", None)]))
    assert args_of(src, generation_prompt=MSG, tools=TOOLS) == {"id": 7, "note": "8"}


@pytest.mark.parametrize(
    ("kind", "body", "code", "bad"),
    [
        ("number", "seven", "invalid_json", 0),
        ("object", '{"a": }', "invalid_json", 6),
        ("number", "NaN", "invalid_json", 0),
        ("boolean", "", "invalid_json", 0),
        ("number", '"7"', "invalid_arguments", 0),
        ("array", ' {"a": 1}', "invalid_arguments", 1),
        ("null", "true", "invalid_arguments", 0),
    ],
)
def test_a_body_that_breaks_its_type_is_a_positioned_error(
    kind: str, body: str, code: str, bad: int
) -> None:
    """The call is dropped; the next call still counts."""
    broken = call("fetch_row", [arg("note", "ok", "string"), arg("id", body, kind)])
    src = response("Hi.\n") + tools(broken, call("ping", [], 2))
    value_start = src.index("<|sep|>", src.index('key="id"')) + len("<|sep|>")
    at = value_start + bad
    events = check_chunkings(src, generation_prompt=MSG)
    (err,) = typed(events, "error")
    assert (err.code, err.offset, (err.line, err.column)) == (code, at, position(src, at))
    assert [(c.index, c.name) for c in calls(events)] == [(1, "ping")]
    with pytest.raises(ParseError) as info:
        run(FORMAT, [src], generation_prompt=MSG, strict=True)
    assert (info.value.code, info.value.offset) == (code, at)


def test_whole_object_form() -> None:
    body = '{"id": 7, "note": "a<|close|>argument<|sep|>b"}'
    src = tools(json_call("fetch_row", body), call("ping", [], 2))
    events = check_chunkings(src, generation_prompt=MSG, tools=TOOLS)
    first, second = calls(events)
    assert (first.name, first.arguments, first.raw) == (
        "fetch_row",
        {"id": 7, "note": "a<|close|>argument<|sep|>b"},
        body,
    )
    # The arguments are final at the closing brace: the call completes there.
    assert first.span == (src.index("<|open|>call"), src.index(body) + len(body))
    assert second.name == "ping"
    assert errors(events) == []


def test_whole_object_form_that_is_not_an_object() -> None:
    src = tools(json_call("ping", "[1]"), call("ping", [], 2))
    events = check_chunkings(src, generation_prompt=MSG)
    assert errors(events) == ["invalid_arguments"]
    assert [c.index for c in calls(events)] == [1]


def test_attribute_escaping_in_names_and_keys() -> None:
    src = tools(call('a&b"c', [arg('k"&amp;', "v", "string")]))
    assert "&amp;amp;" in src
    events = check_chunkings(src, generation_prompt=MSG)
    assert [(c.name, c.arguments) for c in calls(events)] == [('a&b"c', {'k"&amp;': "v"})]


@pytest.mark.parametrize(
    "value",
    [
        '<|open|>call tool="x" index="2"<|sep|>',
        "<|close|>call<|sep|><|close|>tools<|sep|>",
        '<|open|>argument key="z"<|sep|>',
        "<|close|>think<|sep|><|end_of_msg|>",
    ],
)
def test_element_text_inside_a_raw_value_is_data(value: str) -> None:
    src = tools(call("fetch_row", [arg("note", value, "string")]), call("ping", [], 2))
    events = check_chunkings(src, generation_prompt=MSG, tools=TOOLS)
    assert [(c.name, c.arguments) for c in calls(events)] == [
        ("fetch_row", {"note": value}),
        ("ping", {}),
    ]


# -- reasoning and text --------------------------------------------------------------------------


def test_elements_mentioned_in_reasoning_and_response_are_text() -> None:
    thought = "I could use <|close|>call<|sep|> or <|open|>argument ...<|sep|>."
    answer = "Write <|close|>think<|sep|> to stop thinking."
    src = thought + "<|close|>think<|sep|>" + response(answer) + END
    events = check_chunkings(src, generation_prompt=THINK)
    assert (reasoning(events), content(events), errors(events)) == (thought, answer, [])


def test_call_opened_inside_unclosed_think() -> None:
    src = "Let me call." + tools(call("ping", []))
    events = check_chunkings(src, generation_prompt=THINK)
    assert (reasoning(events), [c.name for c in calls(events)]) == ("Let me call.", ["ping"])
    assert errors(events) == []


def test_cut_inside_think_is_reasoning_not_an_error() -> None:
    events = check_chunkings("Still thinking about", generation_prompt=THINK)
    assert (reasoning(events), content(events), errors(events)) == ("Still thinking about", "", [])


def test_text_before_any_element_is_content_without_a_prompt() -> None:
    events = check_chunkings("Plain answer.")
    assert (content(events), errors(events)) == ("Plain answer.", [])


def test_think_closer_without_a_prompt_is_an_error() -> None:
    src = "thought<|close|>think<|sep|>" + response("A")
    events = check_chunkings(src)
    (err,) = typed(events, "error")
    assert (err.code, err.offset) == ("unexpected_tag", len("thought"))
    assert content(events).startswith("thought")


def test_text_after_the_message_is_an_error() -> None:
    src = response("A") + END + "more"
    (err,) = typed(check_chunkings(src, generation_prompt=MSG), "error")
    assert (err.code, err.offset) == ("unexpected_text", src.index("more"))


# -- completion, truncation, unknown tools ------------------------------------------------------


def test_tool_call_comes_with_the_last_character_of_the_call_closer() -> None:
    src = tools(call("fetch_row", [arg("id", "7", "number")]))
    end = src.index("<|close|>call<|sep|>") + len("<|close|>call<|sep|>")
    parser = toolwire.parser(FORMAT, generation_prompt=MSG)
    assert not calls(parser.feed(src[: end - 1]))
    assert [c.arguments for c in calls(parser.feed(src[end - 1]))] == [{"id": 7}]
    assert errors(parser.close()) == []  # a client may stop generating here


@pytest.mark.parametrize("cut", ["opener", "name", "value", "closer", "json"])
def test_truncation_keeps_the_calls_before(cut: str) -> None:
    second = call("fetch_row", [arg("note", "abcdef", "string")], 2)
    src = tools(call("ping", []), second)
    s2 = src.index('<|open|>call tool="fetch_row"')
    stop = {
        "opener": s2 + 3,
        "name": s2 + 20,
        "value": src.index("abcdef") + 3,
        "closer": src.index("<|close|>call<|sep|>", s2) + 10,
        "json": None,
    }[cut]
    if stop is None:
        src = tools(call("ping", []), json_call("ping", '{"a": [1, 2]}', 2))
        stop = src.index("[1, 2") + 3
    events = check_chunkings(src[:stop], generation_prompt=MSG)
    assert [c.name for c in calls(events)] == ["ping"]
    (err,) = typed(events, "error")
    assert err.code in ("truncated", "unexpected_text")
    # Held text of a cut element is never delivered as content.
    assert content(events) == ""


def test_unknown_tool() -> None:
    src = tools(call("rm_rf", []), call("ping", [], 2))
    events = check_chunkings(src, generation_prompt=MSG, tools=TOOLS)
    (err,) = typed(events, "error")
    assert (err.code, err.offset) == ("unknown_tool", src.index("<|open|>call"))
    assert [c.name for c in calls(events)] == ["ping"]


def test_strict_mode_raises_with_the_events_before() -> None:
    src = tools(call("ping", [])) + "<|close|>argument<|sep|>"
    with pytest.raises(ParseError) as info:
        run(FORMAT, [src], generation_prompt=MSG, strict=True)
    assert info.value.code == "unexpected_text"
    assert [e.name for e in info.value.events if isinstance(e, ToolCall)] == ["ping"]


# -- generated messages and their oracle ----------------------------------------------------------

_CHARS = st.characters(blacklist_categories=("Cs",))
_PIECES = st.sampled_from(["<|", "|>", "<|open|>", "<|sep|>", "<|close|>", "&amp;", "\n", " "])
_BODY = st.lists(st.one_of(st.text(_CHARS, max_size=6), _PIECES), max_size=5).map("".join)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=5,
)
attr_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=8
)
names = attr_text.filter(bool)
_TYPE = {type(None): "null", bool: "boolean", int: "number", float: "number", list: "array"}


def _free_of(text: str, closers: list[str]) -> bool:
    """A body must not hold the delimiters that end it (or end with a prefix of one)."""
    g = compiled(FORMAT)
    ds = [g.delimiters[c] for c in closers]
    return not any(
        d.match(text, k) or d.prefix(text, k, len(text)) for d in ds for k in range(len(text))
    )


_REASONING_ENDS = [
    "THINK_CLOSE",
    "MSG_OPEN",
    "THINK_OPEN",
    "RESP_OPEN",
    "TOOLS_OPEN",
    "CALL_OPEN",
    "CALL_JSON_OPEN",
    "MSG_CLOSE",
    "END",
]
_CONTENT_ENDS = ["RESP_CLOSE", *_REASONING_ENDS[1:]]


@dataclass
class Doc:
    text: str = ""
    prompt: str | None = None
    content: str = ""
    reasoning: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    ends_with_calls: bool = False


@st.composite
def documents(draw: st.DrawFn) -> Doc:
    doc = Doc()
    mode = draw(st.sampled_from(["think", "no-think", "msg"]))
    doc.prompt = {"think": THINK, "no-think": NO_THINK, "msg": MSG}[mode]
    if mode == "msg" and draw(st.booleans()):
        mode = "think"
        doc.text += "<|open|>think<|sep|>"
    if mode == "think":
        r = draw(_BODY.filter(lambda t: _free_of(t, _REASONING_ENDS)))
        doc.text += r + "<|close|>think<|sep|>"
        doc.reasoning = r
        if draw(st.booleans()):
            doc.text += "<|open|>response<|sep|>"
            mode = "no-think"
    if mode == "no-think":
        c = draw(_BODY.filter(lambda t: _free_of(t, _CONTENT_ENDS)))
        doc.text += c + "<|close|>response<|sep|>"
        doc.content = c
    n = draw(st.integers(0, 3))
    if n:
        doc.text += "<|open|>tools<|sep|>"
    for i in range(n):
        name = draw(names)
        start = len(doc.text)
        if draw(st.integers(0, 4)) == 0:
            value = draw(st.dictionaries(st.text(max_size=4), json_values, max_size=3))
            body = json.dumps(value, ensure_ascii=False)
            doc.text += json_call(name, body, i + 1)
            end = (
                start
                + len(json_call(name, body, i + 1))
                - len("<|close|>json<|sep|><|close|>call<|sep|>")
            )
            doc.calls.append({"name": name, "arguments": value, "raw": body, "span": (start, end)})
            continue
        args: list[str] = []
        arguments: dict[str, Any] = {}
        for key in draw(st.lists(attr_text, max_size=3, unique=True)):
            if draw(st.booleans()):
                value = draw(_BODY.filter(lambda t: _free_of(t, ["ARG_CLOSE"])))
                args.append(arg(key, value, "string"))
            else:
                value = draw(json_values)
                kind = "object" if isinstance(value, dict) else _TYPE.get(type(value), "string")
                if isinstance(value, str):
                    kind = draw(st.sampled_from(["json-any", "string"]))
                    if kind == "string":
                        value = json.dumps(value)
                        args.append(arg(key, value, "string"))
                        arguments[key] = value
                        continue
                    args.append(arg(key, json.dumps(value, ensure_ascii=False), "text-json"))
                    arguments[key] = value
                    continue
                args.append(arg(key, json.dumps(value, ensure_ascii=False), kind))
            arguments[key] = value
        text = call(name, args, i + 1)
        doc.text += text
        raw = "".join(args)
        doc.calls.append(
            {"name": name, "arguments": arguments, "raw": raw, "span": (start, len(doc.text))}
        )
    doc.ends_with_calls = bool(doc.calls)
    if n and draw(st.booleans()):
        doc.text += "<|close|>tools<|sep|>"
        if draw(st.booleans()):
            doc.text += END
    elif not n and draw(st.booleans()):
        doc.text += END
    return doc


@given(documents())
def test_generated_documents_parse_to_the_oracle(doc: Doc) -> None:
    events = run(FORMAT, [doc.text], generation_prompt=doc.prompt)
    assert errors(events) == [], doc.text
    assert content(events) == doc.content
    assert reasoning(events) == doc.reasoning
    got = [
        {"name": c.name, "arguments": c.arguments, "raw": c.raw, "span": c.span}
        for c in calls(events)
    ]
    assert got == doc.calls
    for c in calls(events):
        deltas = [e.text for e in typed(events, "tool_call_delta") if e.index == c.index]
        assert "".join(deltas) == c.raw
    assert events[-1] == Finish(reason="tool_calls" if doc.ends_with_calls else "stop")


@given(documents(), st.data())
def test_chunk_invariance(doc: Doc, data: st.DataObject) -> None:
    whole = coalesce(run(FORMAT, [doc.text], generation_prompt=doc.prompt))
    payload: Any = doc.text.encode("utf-8") if data.draw(st.booleans()) else doc.text
    chunks = data.draw(chunkings(payload))
    assert coalesce(run(FORMAT, chunks, generation_prompt=doc.prompt)) == whole


@given(documents(), st.data())
def test_earliest_completion(doc: Doc, data: st.DataObject) -> None:
    """Each tool_call comes out of the feed() holding its completing character: the
    last ``>`` of ``<|close|>call<|sep|>``, or the ``}`` of a whole-object body."""
    payload: Any = doc.text.encode("utf-8") if data.draw(st.booleans()) else doc.text
    chunks = data.draw(chunkings(payload))
    outs = feed_each(FORMAT, chunks, generation_prompt=doc.prompt)
    seen = [(k, c.index) for k, out in enumerate(outs) for c in calls(out)]
    expected = [
        (chunk_holding(doc.text, chunks, c["span"][1] - 1), i) for i, c in enumerate(doc.calls)
    ]
    assert seen == expected


# -- arbitrary input ------------------------------------------------------------------------------

SOUP = [
    MSG,
    "<|open|>think<|sep|>",
    "<|close|>think<|sep|>",
    "<|open|>response<|sep|>",
    "<|close|>response<|sep|>",
    "<|open|>tools<|sep|>",
    "<|close|>tools<|sep|>",
    '<|open|>call tool="ping" index="1"<|sep|>',
    '<|open|>call tool="ping"<|sep|><|open|>json type="object"<|sep|>',
    "<|close|>call<|sep|>",
    '<|open|>argument key="a" type="string"<|sep|>',
    '<|open|>argument key="b" type="number"<|sep|>',
    '<|open|>argument key="c"<|sep|>',
    "<|close|>argument<|sep|>",
    "<|close|>json<|sep|>",
    "<|close|>message<|sep|>",
    "<|end_of_msg|>",
    "<|open|>",
    "<|sep|>",
    "7",
    '{"k": [1]}',
    "[1,",
    "\n",
]
soup = st.lists(st.one_of(st.sampled_from(SOUP), st.text(max_size=3)), max_size=20).map("".join)


ARBITRARY_INPUT = ArbitraryInput(
    st.tuples(
        st.just(FORMAT),
        soup,
        st.sampled_from([None, MSG, THINK]).map(lambda p: {"generation_prompt": p}),
    )
)
"""Arbitrary kimi-k3 input, checked by tests/test_guarantees.py."""


# -- the grammar-driven generator ---------------------------------------------------------------


def _lark_documents() -> st.SearchStrategy[str]:
    text = (resources.files("toolwire.grammars") / "kimi_k3.lark").read_text("utf-8")
    grammar = Lark(text, parser="lalr", lexer="contextual", start="start")
    body = _BODY.filter(lambda t: _free_of(t, [*_REASONING_ENDS, "RESP_CLOSE", "ARG_CLOSE"]))
    ws = st.sampled_from(["\n", " ", "\n\n"])
    explicit: dict[str, st.SearchStrategy[str]] = {
        "TEXT": body.filter(lambda t: _free_of(t + "<", list(compiled(FORMAT).delimiters))),
        "CONTENT": body,
        "REASONING": body,
        "GAP": ws,
        "PAD": ws,
        "APAD": ws,
        "VALUE": body,
        "ARGS": st.dictionaries(st.text(max_size=3), json_values, max_size=2).map(json.dumps),
        "MSG_OPEN": st.just(MSG),
        "CALL_OPEN": names.map(lambda n: f'<|open|>call tool="{esc(n)}" index="1"<|sep|>'),
        "CALL_JSON_OPEN": names.map(
            lambda n: f'<|open|>call tool="{esc(n)}"<|sep|><|open|>json type="object"<|sep|>'
        ),
        # Raw strings only: a generated VALUE is arbitrary text, not JSON.
        "ARG_OPEN": attr_text.map(
            lambda k: f'<|open|>argument key="{esc(k)}" type="string"<|sep|>'
        ),
    }
    return from_lark(grammar, start="start", explicit=explicit)


@given(_lark_documents(), st.data())
def test_grammar_documents(text: str, data: st.DataObject) -> None:
    """What the grammar derives parses without errors and the same under any chunking
    (str and bytes); each call's deltas concatenate to its raw text."""
    events = run(FORMAT, [text])
    assert errors(events) == [], text
    for c in calls(events):
        deltas = [e.text for e in typed(events, "tool_call_delta") if e.index == c.index]
        assert "".join(deltas) == c.raw
    whole = coalesce(events)
    assert coalesce(run(FORMAT, data.draw(chunkings(text)))) == whole
    assert coalesce(run(FORMAT, data.draw(chunkings(text.encode("utf-8"))))) == whole
