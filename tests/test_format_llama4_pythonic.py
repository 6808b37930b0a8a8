"""The ``llama4-pythonic`` format (FORMATS.md 8.2): Python call lists
``[fetch_row(id=7, cols=['x', 'y']), ping()]``, optionally wrapped in
``<|python_start|>``…``<|python_end|>``, with text around them as content.

Examples first (FORMATS.md's shapes and pitfalls), then one property test per
DESIGN.md guarantee over generated documents: chunk invariance (str and UTF-8 bytes),
earliest completion, nothing lost (an oracle built with the document), truncation
(a cut call is never a call), and only ``ParseError`` in strict mode whatever the text.
There is no shared corpus for this format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from conftest import chunkings, coalesce, run
from hypothesis import given
from hypothesis import strategies as st
from test_pylit import canonical, kwargs_texts

import toolwire
from tests.oracle import ArbitraryInput
from toolwire import (
    Error,
    Finish,
    ParseError,
    TextDelta,
    TextEnd,
    TextStart,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
)
from toolwire.events import Event
from toolwire.registry import compiled

FORMAT = "llama4-pythonic"
GRAMMAR = compiled(FORMAT)
OPENERS = re.compile(
    "|".join(f"(?:{GRAMMAR.delimiters[n].pattern})" for n in ("LIST_OPEN", "PY_START", "PY_END"))
)


def calls(events: list[Event]) -> list[ToolCall]:
    return [e for e in events if isinstance(e, ToolCall)]


def content(events: list[Event]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def errors(events: list[Event]) -> list[str]:
    return [e.code for e in events if isinstance(e, Error)]


def summary(events: list[Event]) -> list[tuple[str | None, Any]]:
    return [(c.name, c.arguments) for c in calls(events)]


# -- FORMATS.md 8.2 ------------------------------------------------------------------------


def test_the_documented_shape() -> None:
    src = "[fetch_row(id=7, cols=['x', 'y']), ping()]"
    assert run(FORMAT, [src]) == [
        ToolCallStart(index=0, id="call_0", name="fetch_row"),
        ToolCallDelta(index=0, id="call_0", text="id=7, cols=['x', 'y']"),
        ToolCall(
            index=0,
            id="call_0",
            name="fetch_row",
            arguments={"id": 7, "cols": ["x", "y"]},
            raw="id=7, cols=['x', 'y']",
            span=(1, 33),
        ),
        ToolCallStart(index=1, id="call_1", name="ping"),
        ToolCall(index=1, id="call_1", name="ping", arguments={}, raw="", span=(35, 41)),
        Finish(reason="tool_calls"),
    ]


def test_wrapped_in_python_start_and_end() -> None:
    src = "<|python_start|>[fetch_row(id=7), ping()]<|python_end|>"
    events = run(FORMAT, [src])
    assert summary(events) == [("fetch_row", {"id": 7}), ("ping", {})]
    assert content(events) == "" and errors(events) == []
    assert calls(events)[0].span == (17, 32)


def test_text_around_a_list_is_content_verbatim() -> None:
    src = "Let me look.\n[fetch_row(id=7)]\nDone. "
    events = coalesce(run(FORMAT, [src]))
    assert [e["type"] for e in events] == [
        "text_start",
        "text_delta",
        "text_end",
        "tool_call_start",
        "tool_call_delta",
        "tool_call",
        "text_start",
        "text_delta",
        "text_end",
        "finish",
    ]
    assert events[1]["text"] == "Let me look.\n" and events[7]["text"] == "\nDone. "


def test_python_literals() -> None:
    src = (
        '[f(s=\'it\\\'s\', d="say \\"hi\\"", q="it\'s", n=-12345678901234567890123,'
        " x=2.5e-07, t=(1, 'a'), e=(), b=True, c=False, z=None,"
        " m={'k': [1, {\"n\": None}]}, u='\\u00fc\\N{BULLET}')]"
    )
    (call,) = calls(run(FORMAT, [src]))
    assert call.arguments == {
        "s": "it's",
        "d": 'say "hi"',
        "q": "it's",
        "n": -12345678901234567890123,
        "x": 2.5e-07,
        "t": [1, "a"],
        "e": [],
        "b": True,
        "c": False,
        "z": None,
        "m": {"k": [1, {"n": None}]},
        "u": "ü•",
    }


def test_names_and_arguments_may_start_with_underscore() -> None:
    # vLLM's non-streaming regex rejected ``_page=2`` while streaming accepted it.
    src = "[_search(_page=2, q='x'), tools.lookup(key='k')]"
    assert summary(run(FORMAT, [src])) == [
        ("_search", {"_page": 2, "q": "x"}),
        ("tools.lookup", {"key": "k"}),
    ]


def test_markers_and_brackets_inside_strings_are_argument_text() -> None:
    src = "[f(a='])', b=\"[g(x=1)]\", c='<|python_end|>')]"
    (call,) = calls(run(FORMAT, [src]))
    assert call.arguments == {"a": "])", "b": "[g(x=1)]", "c": "<|python_end|>"}


@pytest.mark.parametrize(
    "src",
    [
        "See [the docs](https://example.com/a(b)) and [1].",
        "[x](y) [ ] [a, b] [1, 2] [see f(x)] [f (x)] arr[0] [-f(x)]",
        "[fetch_row",  # a cut list start with no "(" is text
        "a <|python_st",
        "]), [",
    ],
)
def test_markdown_and_prose_brackets_are_content(src: str) -> None:
    events = run(FORMAT, [src])
    assert content(events) == src
    assert calls(events) == [] and errors(events) == []
    assert coalesce(run(FORMAT, list(src))) == coalesce(events)


def test_pretty_printed_list_and_trailing_comma() -> None:
    src = "[\n  fetch_row(\n    id=7,\n  ),\n  ping(),\n]"
    events = run(FORMAT, [src])
    assert summary(events) == [("fetch_row", {"id": 7}), ("ping", {})]
    assert errors(events) == [] and content(events) == ""
    assert calls(events)[0].raw == "\n    id=7,\n  "


def test_several_calls_and_text_in_one_chunk_and_char_by_char() -> None:
    src = "ok [a(x=1), b(y='2')] then [c()] end"
    whole = run(FORMAT, [src])
    assert summary(whole) == [("a", {"x": 1}), ("b", {"y": "2"}), ("c", {})]
    assert content(whole) == "ok  then  end"
    assert coalesce(run(FORMAT, list(src))) == coalesce(whole)
    assert coalesce(run(FORMAT, [bytes([b]) for b in src.encode()])) == coalesce(whole)


def test_a_stray_python_end_is_dropped() -> None:
    events = run(FORMAT, ["a<|python_end|>b"])
    assert content(events) == "ab" and errors(events) == []


def test_generation_prompt_may_end_inside_a_call() -> None:
    events = run(
        FORMAT, ["id=7), ping()]<|python_end|>"], generation_prompt="<|python_start|>[fetch_row("
    )
    assert summary(events) == [("fetch_row", {"id": 7}), ("ping", {})]
    assert errors(events) == [] and content(events) == ""
    assert [e.text for e in events if isinstance(e, ToolCallDelta)] == ["id=7"]


# -- truncation and errors ------------------------------------------------------------------


def test_truncated_inside_a_call_is_an_error_never_a_call() -> None:
    events = run(FORMAT, ["[fetch_row(id=7), delete(path='/tmp/x"])
    assert summary(events) == [("fetch_row", {"id": 7})]
    assert errors(events) == ["truncated"]
    assert not any(isinstance(e, Finish) for e in events)


def test_missing_closing_bracket_keeps_completed_calls() -> None:
    # Each call's values are final at its ")": reported there; the list is cut.
    events = run(FORMAT, ["[fetch_row(id=7)"])
    assert summary(events) == [("fetch_row", {"id": 7})]
    assert errors(events) == ["truncated"]
    events = run(FORMAT, ["<|python_start|>[ping()]"])
    assert summary(events) == [("ping", {})]
    assert errors(events) == ["truncated"]


@pytest.mark.parametrize(
    ("src", "code", "offset"),
    [
        ("[f(x)]", "invalid_arguments", 4),  # positional: the ")" where "=" was due
        ("[f(a=1, a=2)]", "invalid_arguments", 9),
        ("[f(a=1 b=2)]", "invalid_arguments", 7),
        ("[f(a=b'x')]", "invalid_arguments", 5),
        ("[f() g()]", "unexpected_tag", 5),
        ("[f(), 1]", "unexpected_text", 6),
        ("<|python_start|>[1, 2]<|python_end|>", "unexpected_text", 16),
        ("<|python_start|>hello", "unexpected_text", 16),
    ],
)
def test_malformed_calls(src: str, code: str, offset: int) -> None:
    events = run(FORMAT, [src])
    first = next(e for e in events if isinstance(e, Error))
    assert (first.code, first.offset) == (code, offset)
    with pytest.raises(ParseError) as info:
        run(FORMAT, [src], strict=True)
    assert (info.value.code, info.value.offset) == (code, offset)


def test_parsing_goes_on_after_a_malformed_list() -> None:
    src = "[f(x)] tail [g(a=1)]<|python_start|>[h(1)]<|python_end|> end"
    events = run(FORMAT, [src])
    assert errors(events) == ["invalid_arguments", "invalid_arguments"]
    assert summary(events) == [("g", {"a": 1})]
    assert content(events) == " tail  end"
    assert coalesce(run(FORMAT, list(src))) == coalesce(events)


def test_unknown_tools_are_errors_and_the_others_survive() -> None:
    tools = [{"type": "function", "function": {"name": "ping", "parameters": {}}}]
    events = run(FORMAT, ["[nope(a=1), ping()]"], tools=tools)
    assert summary(events) == [("ping", {})]
    assert errors(events) == ["unknown_tool"]


# -- generated documents ----------------------------------------------------------------------

TEXT_FRAGMENTS = [
    "[docs](https://x.y)",
    "[1]",
    "[ ]",
    "[a, b]",
    "[see f(x)]",
    "[f (x)]",
    "f(x=1)",
    "[",
    "]",
    "(",
    ")",
    ",",
    "[fetch_row",
    "[fetch_row(",
    "<|python_start|>",
    "<|python_end|>",
    "<|python",
    "<|",
    "<",
    "'",
    '"',
    "\\",
    "\n",
    "\r\n",
    " ",
    "é",
    "日本",
    "😀",
    "ok",
]
texts = (
    st.lists(st.one_of(st.sampled_from(TEXT_FRAGMENTS), st.text(max_size=4)), max_size=6)
    .map("".join)
    .map(lambda s: _break_openers(s))
    .filter(bool)
)
layouts = st.text(alphabet=" \t\r\n", max_size=3)
call_names = st.from_regex(
    r"[A-Za-z_][A-Za-z0-9_]{0,8}(?:\.[A-Za-z_][A-Za-z0-9_]{0,4})?", fullmatch=True
)


def _break_openers(text: str) -> str:
    """``text`` with every list opener and python marker broken by a ``#`` after its
    first character, so that it is content."""
    while (m := OPENERS.search(text)) is not None:
        text = text[: m.start() + 1] + "#" + text[m.start() + 1 :]
    return text


@dataclass
class Expected:
    name: str
    arguments: Any
    raw: str
    span: tuple[int, int]


@dataclass
class Doc:
    text: str = ""
    content: str = ""
    calls: list[Expected] = field(default_factory=list)

    def add(self, piece: str) -> None:
        self.text += piece


@st.composite
def documents(draw: st.DrawFn) -> Doc:
    doc = Doc()
    kinds = draw(st.lists(st.sampled_from(["text", "list", "block", "stray_end"]), max_size=5))
    previous = ""
    for kind in kinds:
        if kind == "text":
            if previous == "text":
                continue  # adjacent texts could join into an opener
            piece = draw(texts)
            doc.add(piece)
            doc.content += piece
        elif kind == "stray_end":
            doc.add("<|python_end|>")
        else:
            if kind == "block":
                doc.add("<|python_start|>" + draw(layouts))
            doc.add("[" + draw(layouts))
            for k in range(draw(st.integers(1, 3))):
                if k:
                    doc.add(draw(layouts) + "," + draw(layouts))
                name = draw(call_names)
                args = draw(kwargs_texts())
                start = len(doc.text)
                doc.add(name + "(" + args.text + ")")
                doc.calls.append(Expected(name, args.value, args.text, (start, len(doc.text))))
            if draw(st.booleans()):
                doc.add(draw(layouts) + ",")
            doc.add(draw(layouts) + "]")
            if kind == "block":
                doc.add(draw(layouts) + "<|python_end|>")
        previous = kind
    return doc


def _chunks(data: st.DataObject, text: str) -> list[Any]:
    payload: Any = text.encode() if data.draw(st.booleans(), label="bytes") else text
    return data.draw(chunkings(payload))


@given(doc=documents())
def test_nothing_lost(doc: Doc) -> None:
    events = run(FORMAT, [doc.text])
    assert errors(events) == []
    assert content(events) == doc.content
    got = calls(events)
    assert [(c.name, canonical(c.arguments), c.raw, c.span) for c in got] == [
        (e.name, canonical(e.arguments), e.raw, e.span) for e in doc.calls
    ]
    assert [c.index for c in got] == list(range(len(got)))
    for call in got:
        deltas = [e for e in events if isinstance(e, ToolCallDelta) and e.index == call.index]
        assert "".join(d.text for d in deltas) == call.raw
        starts = [e for e in events if isinstance(e, ToolCallStart) and e.index == call.index]
        assert [s.name for s in starts] == [call.name]
        assert events.index(starts[0]) < events.index(call)
    assert isinstance(events[-1], Finish)
    # Text blocks are well formed: start, deltas, end.
    opened = None
    for e in events:
        if isinstance(e, TextStart):
            assert opened is None
            opened = e.id
        elif isinstance(e, TextDelta):
            assert e.id == opened and e.text
        elif isinstance(e, TextEnd):
            assert e.id == opened
            opened = None
    assert opened is None


@given(doc=documents(), data=st.data())
def test_chunk_invariance(doc: Doc, data: st.DataObject) -> None:
    whole = coalesce(run(FORMAT, [doc.text]))
    assert coalesce(run(FORMAT, _chunks(data, doc.text))) == whole


@given(doc=documents(), data=st.data())
def test_earliest_completion(doc: Doc, data: st.DataObject) -> None:
    as_bytes = data.draw(st.booleans(), label="bytes")
    payload: Any = doc.text.encode() if as_bytes else doc.text
    chunks = data.draw(chunkings(payload))
    parser = toolwire.parser(FORMAT)
    seen: list[tuple[int, ToolCall]] = []
    for k, chunk in enumerate(chunks):
        seen.extend((k, e) for e in parser.feed(chunk) if isinstance(e, ToolCall))
    assert not [e for e in parser.close() if isinstance(e, ToolCall)]
    bounds = []
    total = 0
    for chunk in chunks:
        total += len(chunk)
        bounds.append(total)
    assert len(seen) == len(doc.calls)
    for k, call in seen:
        close = call.span[1] - 1  # the ")" that completes it
        if as_bytes:
            close = len(doc.text[:close].encode())
        expected = next(i for i, b in enumerate(bounds) if b > close)
        assert k == expected


@given(doc=documents(), data=st.data())
def test_a_cut_call_is_never_a_call(doc: Doc, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(doc.text)))
    events = run(FORMAT, [doc.text[:cut]])
    complete = [e for e in doc.calls if e.span[1] <= cut]
    assert [(c.name, canonical(c.arguments)) for c in calls(events)] == [
        (e.name, canonical(e.arguments)) for e in complete
    ]
    # A cut inside a marker leaves a marker prefix: text where only whitespace may be.
    assert set(errors(events)) <= {"truncated", "unexpected_text"}


MUTATIONS = [
    *"[](),='\"\\ \n",
    "<|python_start|>",
    "<|python_end|>",
    "f(",
    "[g(",
    "x",
    "1",
    "é",
    "😀",
]


@st.composite
def mutated_documents(draw: st.DrawFn) -> str:
    text = draw(documents()).text
    for _ in range(draw(st.integers(1, 3))):
        k = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(MUTATIONS))
        if op == "insert":
            text = text[:k] + piece + text[k:]
        elif op == "delete":
            text = text[:k] + text[k + 1 :]
        else:
            text = text[:k] + piece + text[k + 1 :]
    return text


arbitrary = st.one_of(
    mutated_documents(),
    st.lists(st.sampled_from([*TEXT_FRAGMENTS, *MUTATIONS, "a=1", "=", "{", "}"]), max_size=12).map(
        "".join
    ),
    st.text(max_size=30),
)


def test_a_malformed_call_in_a_list_does_not_take_the_next_one() -> None:
    """The broken call is skipped to its closing ``)`` (not one inside a string); the
    next call of the list still counts, in any chunking."""
    src = '[f(x), g(a=1, s=")")] after'
    whole = toolwire.parse(src, "llama4-pythonic")
    calls = [(e.name, e.arguments) for e in whole if isinstance(e, toolwire.ToolCall)]
    assert calls == [("g", {"a": 1, "s": ")"})]
    assert [e.code for e in whole if isinstance(e, toolwire.Error)] == ["invalid_arguments"]
    one_by_one = toolwire.parse(list(src), "llama4-pythonic")
    assert [e.to_json() for e in one_by_one if not e.type.endswith("delta")] == [
        e.to_json() for e in whole if not e.type.endswith("delta")
    ]


def check_call_spans(text: str, events: list[Any]) -> None:
    """Whatever went wrong, every reported call is a complete ``name(...)`` of the text."""
    for call in calls(events):
        start, end = call.span
        assert text[start:end] == f"{call.name}({call.raw})"


ARBITRARY_INPUT = ArbitraryInput(
    st.tuples(st.just(FORMAT), arbitrary, st.just({})), check_call_spans
)
"""Arbitrary (malformed) llama4-pythonic input, checked by tests/test_guarantees.py."""
