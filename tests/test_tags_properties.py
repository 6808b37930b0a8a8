"""Property tests of the ``tags`` parser: one per guarantee of DESIGN.md, over generated
documents and generated chunkings.

Two document generators:

* ``documents()`` builds a document part by part (text, reasoning, answers, calls of
  every body shape, stray closing tags, broken calls, a truncated tail) and records
  the events it must produce: the oracle for exact-content assertions;
* ``lark_documents()`` draws from the ``tags`` grammar itself
  (``hypothesis.extra.lark.from_lark``) with adversarial content terminals: used for
  the invariance, completion, memory and no-crash properties.

Offsets are character offsets in the decoded text; errors are compared without their
``message`` (free text), everything else exactly.
"""

from __future__ import annotations

import html
import json
import math
import re
import sys
import tracemalloc
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pytest
from conftest import chunkings, coalesce, run
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark

import toolwire
from tests import oracle
from tests.oracle import (
    ArbitraryInput,
    OracleDoc,
    check_clear_errors,
    chunk_holding,
    position,
    strip_messages,
    typed,
)
from toolwire.registry import compiled

FORMAT = "tags"
GRAMMAR = compiled(FORMAT)
DELIMITERS = GRAMMAR.delimiters
LITERALS = {name: d.literal for name, d in DELIMITERS.items() if d.literal is not None}
LONGEST_LITERAL = max(len(lit) for lit in LITERALS.values())  # len("</final_answer>") == 15
ANY_DELIMITER = re.compile("|".join(f"(?:{d.pattern})" for d in DELIMITERS.values()))
OPENERS_AND_TOOL_CLOSE = re.compile(
    "|".join(
        f"(?:{DELIMITERS[n].pattern})"
        for n in ("ANALYSIS_OPEN", "FINAL_OPEN", "TOOL_OPEN", "TOOL_OPEN_NAMED", "TOOL_CLOSE")
    )
)
ERROR_CODES = {code.value for code in toolwire.ErrorCode} - {toolwire.ErrorCode.INTERNAL_ERROR}
JSON_WS = " \t\r\n"


# -- helpers -------------------------------------------------------------------------


def break_matches(text: str, pattern: re.Pattern[str]) -> str:
    """``text`` with every match of ``pattern`` (which all start with ``<``) broken by a
    space after its ``<``: near-misses stay, real delimiters go."""
    while (m := pattern.search(text)) is not None:
        text = text[: m.start() + 1] + " " + text[m.start() + 1 :]
    return text


def ends_with_delimiter_prefix(text: str) -> bool:
    """Whether a suffix of ``text`` is a proper prefix of a delimiter (delimiters hold a
    ``<`` only at their start, so only the last ``<`` can begin one)."""
    k = text.rfind("<")
    return k >= 0 and any(d.prefix(text, k) for d in DELIMITERS.values())


def is_delimiter_prefix(text: str) -> bool:
    return any(d.prefix(text) for d in DELIMITERS.values())


def feed_each(chunks: list[Any], **options: Any) -> list[list[Any]]:
    """The events of every feed() (one list per chunk) and, last, of close()."""
    return oracle.feed_each(FORMAT, chunks, **options)


# -- content strategies ----------------------------------------------------------------

NEAR_MISSES = [
    "<",
    ">",
    "/",
    "</",
    "<<",
    "<tool",
    "<tool_",
    "<tool_call",
    "<tool_calls>",
    "<tool_call >",
    "< tool_call>",
    "<TOOL_CALL>",
    "</tool_cal",
    "</tool_call",
    "</tool_call >",
    "<tool_call/>",
    "<analysis",
    "< analysis>",
    "<analysis >",
    "</analysis",
    "</ analysis>",
    "<analysis_>",
    "<final_answer",
    "</final_answer",
    "<final_answer/>",
    "<finalanswer>",
    "<final answer>",
    '<tool_call name="x"',
    "<tool_call name=x>",
    '<tool_call name="a>',
    "<tool_call\n",
    '<tool_call name="',
    "<b>",
    "</b>",
    "<br/>",
    "&amp;",
    "&lt;tool_call&gt;",
]
JSONISH = [
    "{",
    "}",
    "[",
    "]",
    '"',
    "'",
    ":",
    ",",
    "\\",
    '\\"',
    "name=",
    '"name"',
    '"arguments"',
    '{"name": "f", "arguments": {}}',
    "null",
    "1e5",
]
ODD = [
    " ",
    "  ",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "é",
    "ß",
    "日本語",
    "😀",
    "👍🏽",
    "\u200b",
    "\u2028",
    "\x00",
    "\x7f",
    "a",
    "hello",
    "x y",
    "0",
]
FRAGMENTS = NEAR_MISSES + JSONISH + ODD
FULL_TAGS = [*list(LITERALS.values()), '<tool_call name="fetch_row">', '<tool_call\tname="">']

fragment = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4))
raw_text = st.lists(fragment, max_size=10).map("".join)
tag_rich_text = st.lists(st.one_of(fragment, st.sampled_from(FULL_TAGS)), max_size=10).map("".join)

# Top-level text: never a delimiter (stray closers would be errors, openers blocks).
texts = raw_text.map(lambda s: break_matches(s, ANY_DELIMITER))
# Reasoning and answers may mention any tag but their own closer.
reasonings = tag_rich_text.map(lambda s: break_matches(s, re.compile(re.escape("</analysis>"))))
answers = tag_rich_text.map(lambda s: break_matches(s, re.compile(re.escape("</final_answer>"))))
layouts = st.text(alphabet=JSON_WS, max_size=4)
names = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz_ABCXYZ0123456789-.:/ é日"),
    min_size=0,
    max_size=12,
)

json_strings = st.one_of(
    st.text(max_size=8),
    st.sampled_from(
        [
            "</tool_call>",
            "}",
            "{",
            "<analysis>",
            '"',
            "\\",
            "<tool_call>",
            "\n",
            "😀",
            "\u2028",
            "\x00",
            "</final_answer>",
            '"}</tool_call>',
            "\\u0041",
        ]
    ),
    st.lists(st.sampled_from(FRAGMENTS), max_size=4).map("".join),
)
json_keys = st.one_of(
    st.sampled_from(
        ["a", "id", "name", "arguments", "parameters", "x y", "é", "</tool_call>", "😀", ""]
    ),
    st.text(max_size=4),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    json_strings,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(json_keys, inner, max_size=4)
    ),
    max_leaves=10,
)
first_keys = json_keys.filter(lambda k: k not in ("name", "arguments", "parameters"))


@st.composite
def bare_objects(draw: st.DrawFn) -> dict[str, Any]:
    """An object whose first key is not name/arguments/parameters (or ``{}``)."""
    if draw(st.booleans()):
        return {}
    obj = {draw(first_keys): draw(json_values)}
    for key, value in draw(st.lists(st.tuples(json_keys, json_values), max_size=3)):
        obj.setdefault(key, value)
    return obj


any_objects = st.dictionaries(json_keys, json_values, max_size=4)


@st.composite
def dumpers(draw: st.DrawFn) -> Any:
    """A json.dumps style: separators, indentation, ASCII escaping."""
    kwargs: dict[str, Any] = {"ensure_ascii": draw(st.booleans())}
    style = draw(st.sampled_from(["compact", "default", "indent", "tab"]))
    if style == "compact":
        kwargs["separators"] = (",", ":")
    elif style == "indent":
        kwargs["indent"] = draw(st.integers(0, 2))
    elif style == "tab":
        kwargs["indent"] = "\t"
    return lambda value: json.dumps(value, **kwargs)


# -- the oracle document generator ---------------------------------------------------------


@dataclass
class Doc(OracleDoc):
    """The shared oracle document (events are coalesced, errors without message, up to
    the tail; ``tail`` is none | open_analysis | open_final | cut_call), plus the
    visible and reasoning text and call steps of the tags format."""

    visible: str = ""
    reasoning: str = ""
    tail_start: int = 0
    """Offset where the tail begins."""
    longest_named_tag: int = 0

    def block(self, kind: str, content: str) -> None:
        super().block(kind, content)
        if kind == "text":
            self.visible += content
        else:
            self.reasoning += content

    def call_start(self, name: str | None) -> tuple[int, str]:
        index = self.index
        self.index += 1
        call_id = f"call_{index}"
        self.events.append({"type": "tool_call_start", "index": index, "id": call_id, "name": name})
        return index, call_id

    def delta(self, index: int, raw: str) -> None:
        self.events.append(
            {"type": "tool_call_delta", "index": index, "id": f"call_{index}", "text": raw}
        )

    def complete(self, call: dict[str, Any]) -> None:
        self.events.append(call)
        self.calls.append(call)
        self.after_call = False


@st.composite
def named_openers(draw: st.DrawFn) -> tuple[str, str]:
    """(``<tool_call name="...">`` with varied whitespace, the name it gives)."""
    name = draw(names)
    before = draw(st.text(alphabet=JSON_WS, min_size=1, max_size=3))
    after = draw(st.text(alphabet=JSON_WS, max_size=3))
    return f'<tool_call{before}name="{name}"{after}>', html.unescape(name)


call_openers = st.one_of(st.just(("<tool_call>", None)), named_openers())
"""(tag text, name from the tag or None)."""


def add_valid_call(draw: st.DrawFn, doc: Doc) -> None:
    dump = draw(dumpers())
    tag, tag_name = draw(call_openers)
    lead = draw(layouts)
    if tag_name is not None:  # the body is always the arguments
        args = draw(st.one_of(any_objects, bare_objects()))
        args_text = dump(args)
        body, raw_at, name, start_name = args_text, 0, tag_name, tag_name
    elif draw(st.booleans()):  # bare arguments
        args = draw(bare_objects())
        args_text = dump(args)
        body, raw_at, name, start_name = args_text, 0, None, None
    else:  # envelope, either key order
        args = draw(any_objects)
        args_text = dump(args)
        name = draw(json_strings)
        key = draw(st.sampled_from(["arguments", "parameters"]))
        colon = draw(st.sampled_from([":", ": ", " :\n "]))
        comma = draw(st.sampled_from([",", ", ", ",\n  "]))
        name_member = f'"name"{colon}{dump(name)}'
        if draw(st.booleans()):
            head = "{" + name_member + comma + f'"{key}"{colon}'
            body, start_name = head + args_text + "}", name
        else:
            head = "{" + f'"{key}"{colon}'
            body, start_name = head + args_text + comma + name_member + "}", None
        raw_at = len(head)
    start = doc.add(tag)
    doc.longest_named_tag = max(doc.longest_named_tag, len(tag) if tag_name is not None else 0)
    body_at = doc.add(lead + body) + len(lead)
    end = body_at + len(body)
    doc.add(draw(layouts) + "</tool_call>")
    raw = body[raw_at : raw_at + len(args_text)]
    assert json.loads(raw) == args
    index, call_id = doc.call_start(start_name)
    doc.delta(index, raw)
    call = {
        "type": "tool_call",
        "index": index,
        "id": call_id,
        "name": name,
        "arguments": json.loads(raw),
        "raw": raw,
        "span": [start, end],
    }
    doc.complete(call)


def add_broken_call(draw: st.DrawFn, doc: Doc) -> None:
    """A call the parser must reject; then it resumes after ``</tool_call>``."""
    dump = draw(dumpers())
    kind = draw(
        st.sampled_from(
            [
                "bad_first",
                "trailing_comma",
                "trailing_text",
                "missing_arguments",
                "arguments_not_object",
                "body_not_object",
            ]
        )
    )
    junk = draw(raw_text)
    start = doc.add("<tool_call>" + draw(layouts))
    if kind == "bad_first":
        first = draw(st.sampled_from([*list("x]}:,<a'"), "é", "😀"]))
        at = doc.add(break_matches(first + junk, ANY_DELIMITER))
        doc.index += 1  # the call consumed an index but never started
        doc.error("invalid_json", at)
    elif kind == "trailing_comma":
        # `{..., }`: the argument text before the offending `}` is delivered
        obj = draw(bare_objects().filter(bool))
        text = dump(obj)[:-1].rstrip(JSON_WS) + "," + draw(layouts)
        if draw(st.booleans()):  # bare arguments
            head, name = "", None
        else:  # inside an envelope's arguments, after the name
            name = draw(json_strings)
            head = "{" + f'"name": {dump(name)}, "arguments": '
        at = doc.add(head + text) + len(head + text)
        index, _ = doc.call_start(name)
        doc.delta(index, text)
        doc.add("}" + break_matches(junk, OPENERS_AND_TOOL_CLOSE))
        doc.error("invalid_json", at)
    elif kind == "trailing_text":
        add_call_body_then_junk(draw, doc, dump, start)
        return
    elif kind == "missing_arguments":
        name = draw(json_strings)
        at = doc.add(dump({"name": name}))
        doc.call_start(name)
        doc.error("invalid_arguments", at)
        doc.add(break_matches(junk, OPENERS_AND_TOOL_CLOSE))
    elif kind == "arguments_not_object":
        name = draw(json_strings)
        value = draw(st.one_of(json_scalars, st.lists(json_values, max_size=3)))
        head = "{" + f'"name": {dump(name)}, "arguments": '
        value_text = dump(value)
        at = doc.add(head) + len(head)
        doc.add(value_text + "}")
        index, _ = doc.call_start(name)
        doc.delta(index, value_text)
        doc.error("invalid_arguments", at)
        doc.add(break_matches(junk, OPENERS_AND_TOOL_CLOSE))
    else:  # body_not_object: a top-level array or string
        value = draw(st.one_of(st.lists(json_values, max_size=3), json_strings))
        value_text = dump(value)
        at = doc.add(value_text)
        index, _ = doc.call_start(None)
        doc.delta(index, value_text)
        doc.error("invalid_arguments", at)
        doc.add(break_matches(junk, OPENERS_AND_TOOL_CLOSE))
    doc.add("</tool_call>")


def add_call_body_then_junk(draw: st.DrawFn, doc: Doc, dump: Any, start: int) -> None:
    """A complete call, then non-whitespace before ``</tool_call>``: the call stands,
    the text is an error and is dropped."""
    args = draw(bare_objects())
    raw = dump(args)
    body_at = doc.add(raw)
    index, call_id = doc.call_start(None)
    doc.delta(index, raw)
    call = {
        "type": "tool_call",
        "index": index,
        "id": call_id,
        "name": None,
        "arguments": json.loads(raw),
        "raw": raw,
        "span": [start, body_at + len(raw)],
    }
    doc.complete(call)
    doc.add(draw(layouts))
    first = draw(st.sampled_from([*list("x]}{:,<a\"'"), "é", "\xa0", "\x0b"]))
    bad = break_matches(first + draw(raw_text), ANY_DELIMITER)
    at = doc.add(bad)
    doc.error("unexpected_text", at)
    doc.add("</tool_call>")


@st.composite
def documents(draw: st.DrawFn, broken: bool = True, max_parts: int = 8) -> Doc:
    kinds = ["text", "text", "analysis", "final", "call", "call"]
    if broken:
        kinds += ["stray", "broken"]
    doc = Doc()
    pending_text = ""

    def flush() -> None:
        nonlocal pending_text
        if pending_text:
            text = break_matches(pending_text, ANY_DELIMITER)
            doc.add(text)
            doc.block("text", text)
            pending_text = ""

    for kind in draw(st.lists(st.sampled_from(kinds), max_size=max_parts)):
        if kind == "text":
            pending_text += draw(texts)
            continue
        flush()
        if kind == "analysis":
            content = draw(reasonings)
            doc.add("<analysis>" + content + "</analysis>")
            doc.block("reasoning", content)
        elif kind == "final":
            content = draw(answers)
            doc.add("<final_answer>" + content + "</final_answer>")
            doc.block("text", content)
        elif kind == "call":
            add_valid_call(draw, doc)
        elif kind == "stray":
            closer = draw(st.sampled_from(["</analysis>", "</final_answer>", "</tool_call>"]))
            doc.error("unexpected_tag", doc.add(closer))
        else:
            add_broken_call(draw, doc)
    flush()
    doc.tail_start = len(doc.text)
    tails = ["none", "none", "open_analysis", "open_final", "cut_call"] if broken else ["none"]
    doc.tail = draw(st.sampled_from(tails))
    if doc.tail == "open_analysis":
        content = draw(reasonings)
        doc.add("<analysis>" + content)
        doc.block("reasoning", content)
    elif doc.tail == "open_final":
        content = draw(answers)
        doc.add("<final_answer>" + content)
        doc.block("text", content)
    elif doc.tail == "cut_call":
        tag, tag_name = draw(call_openers)
        if tag_name is not None:
            doc.longest_named_tag = max(doc.longest_named_tag, len(tag))
        body = draw(layouts) + draw(dumpers())(draw(st.one_of(bare_objects(), any_objects)))
        doc.add(tag + body[: draw(st.integers(0, len(body) - 1))])
        doc.index += 1
    if doc.tail in ("open_analysis", "open_final"):
        doc.error("truncated", len(doc.text))
    return doc


# -- the grammar-driven generator ----------------------------------------------------------


def _content(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Content pieces can be adjacent (``TEXT TEXT``, ``REASONING*``): none ends with
    a possible delimiter start, so two pieces never join into a tag."""
    return strategy.map(lambda s: s + " " if ends_with_delimiter_prefix(s) else s)


def _args_texts() -> st.SearchStrategy[str]:
    @st.composite
    def build(draw: st.DrawFn) -> str:
        dump = draw(dumpers())
        if draw(st.booleans()):
            return str(dump(draw(bare_objects())))
        args, name = dump(draw(any_objects)), dump(draw(json_strings))
        key = draw(st.sampled_from(["arguments", "parameters"]))
        if draw(st.booleans()):
            return f'{{"name": {name}, "{key}": {args}}}'
        return f'{{"{key}": {args}, "name": {name}}}'

    return build()


def _grammar() -> Lark:
    text = (resources.files("toolwire.grammars") / "tags.lark").read_text("utf-8")
    return Lark(text, parser="lalr", lexer="contextual", start="start")


lark_documents = from_lark(
    _grammar(),
    start="start",
    explicit={
        "TEXT": _content(texts),
        "REASONING": _content(reasonings),
        "ANSWER": _content(answers),
        "ARGS": _args_texts(),
        "LAYOUT": st.sampled_from(list(JSON_WS)),
        "TOOL_OPEN_NAMED": named_openers().map(lambda pair: pair[0]),
    },
)

arbitrary_texts = st.lists(
    st.one_of(
        st.sampled_from(FULL_TAGS + FRAGMENTS),
        st.sampled_from(["tool_call", "analysis", "final_answer", "name=", '"', "{}", "[]"]),
        st.text(max_size=3),
    ),
    max_size=25,
).map("".join)
"""Anything: tags, broken tags, JSON pieces, in any order."""

any_document = st.one_of(documents().map(lambda d: d.text), lark_documents, arbitrary_texts)


def check_lark_document_is_well_formed(text: str) -> None:
    """A from_lark document parses without errors (the content strategies work)."""
    errors = [e.to_json() for e in typed(run(FORMAT, [text]), "error")]
    assert errors == [], text


# -- guarantee 1: chunk invariance ------------------------------------------------------------


@given(text=any_document, data=st.data())
def test_chunk_invariance_str(text: str, data: st.DataObject) -> None:
    whole = coalesce(run(FORMAT, [text]))
    chunks = data.draw(chunkings(text))
    assert coalesce(run(FORMAT, chunks)) == whole


@given(text=any_document, data=st.data())
def test_chunk_invariance_bytes(text: str, data: st.DataObject) -> None:
    """UTF-8 bytes split anywhere (inside a multi-byte character, between CR and LF)
    give the events of the unsplit text, offsets in characters."""
    whole = coalesce(run(FORMAT, [text]))
    raw = text.encode("utf-8")
    assert coalesce(run(FORMAT, [raw])) == whole
    chunks = data.draw(chunkings(raw))
    assert coalesce(run(FORMAT, chunks)) == whole


@given(doc=documents())
def test_chunk_invariance_one_byte_and_one_char_at_a_time(doc: Doc) -> None:
    whole = coalesce(run(FORMAT, [doc.text]))
    raw = doc.text.encode("utf-8")
    assert coalesce(run(FORMAT, [raw[i : i + 1] for i in range(len(raw))])) == whole
    assert coalesce(run(FORMAT, list(doc.text))) == whole


@given(doc=documents(), data=st.data())
def test_chunk_invariance_strict_mode(doc: Doc, data: st.DataObject) -> None:
    """Strict mode fails at the same error whatever the chunking, with the same events
    before it."""

    def strict_run(chunks: list[Any]) -> tuple[list[dict[str, Any]], Any]:
        parser = toolwire.parser(FORMAT, strict=True)
        events: list[Any] = []
        try:
            for chunk in chunks:
                events += parser.feed(chunk)
            events += parser.close()
        except toolwire.ParseError as exc:
            events += exc.events
            return coalesce(events), (exc.code, exc.offset, exc.line, exc.column)
        return coalesce(events), None

    whole = strict_run([doc.text])
    assert strict_run(data.draw(chunkings(doc.text))) == whole
    assert strict_run(data.draw(chunkings(doc.text.encode("utf-8")))) == whole


@given(text=lark_documents)
def test_grammar_documents_are_well_formed(text: str) -> None:
    """Sanity of the generator: what the grammar derives, the parser accepts."""
    check_lark_document_is_well_formed(text)


# -- guarantee 2: earliest completion -----------------------------------------------------------


def check_earliest_completion(text: str, chunks: list[Any]) -> None:
    """Each tool_call comes out of the feed() whose chunk holds its completing ``}``
    (for bytes: that character's byte), the character at span[1] - 1."""
    outs = feed_each(chunks)
    for k, out in enumerate(outs):
        for call in typed(out, "tool_call"):
            last = call.span[1] - 1
            assert text[last] == "}", (text, call)
            assert text[call.span[0] :].startswith("<tool_call"), (text, call)
            first_k = chunk_holding(text, chunks, last)
            assert k == first_k, (
                f"tool_call for span {call.span} came out of "
                f"{'close()' if k == len(chunks) else f'feed #{k}'}; "
                f"its completing character arrived in feed #{first_k}"
            )


@given(text=st.one_of(documents().map(lambda d: d.text), lark_documents), data=st.data())
def test_earliest_completion(text: str, data: st.DataObject) -> None:
    check_earliest_completion(text, data.draw(chunkings(text)))
    check_earliest_completion(text, data.draw(chunkings(text.encode("utf-8"))))


@given(doc=documents(broken=False))
def test_earliest_completion_char_by_char(doc: Doc) -> None:
    check_earliest_completion(doc.text, list(doc.text))


# -- guarantee 3: nothing lost --------------------------------------------------------------


@given(doc=documents(), data=st.data())
def test_nothing_lost_exact_events(doc: Doc, data: st.DataObject) -> None:
    """The document's oracle: every block, call, error and the finish, exactly."""
    events = strip_messages(coalesce(run(FORMAT, data.draw(chunkings(doc.text)))))
    if doc.tail == "none":
        assert events == [*doc.events, doc.finish()]
    elif doc.tail in ("open_analysis", "open_final"):
        # reasoning or an answer cut short is still delivered; no finish
        assert events == doc.events
    else:
        # The events up to the cut call are exact; the cut call is never a call and
        # the stream ends with a truncation error at the end of the input, no finish.
        n = len(doc.events)
        assert events[:n] == doc.events
        rest = events[n:]
        line, column = position(doc.text, len(doc.text))
        assert rest[-1:] == [
            {
                "type": "error",
                "code": "truncated",
                "offset": len(doc.text),
                "line": line,
                "column": column,
            }
        ]
        assert [e["type"] for e in rest[:-1]] in (
            [],
            ["tool_call_start"],
            ["tool_call_start", "tool_call_delta"],
        )


@given(doc=documents(), data=st.data())
def test_nothing_lost_contents(doc: Doc, data: st.DataObject) -> None:
    events = run(FORMAT, data.draw(chunkings(doc.text.encode("utf-8"))))
    assert "".join(e.text for e in typed(events, "text_delta")) == doc.visible
    assert "".join(e.text for e in typed(events, "reasoning_delta")) == doc.reasoning
    calls = typed(events, "tool_call")
    assert [c.to_json() for c in calls] == doc.calls
    check_calls(doc.text, events)


def check_calls(text: str, events: list[Any]) -> None:
    """Per call: deltas concatenate to raw, raw is the input's text, arguments parse."""
    for call in typed(events, "tool_call"):
        deltas = [e.text for e in typed(events, "tool_call_delta") if e.index == call.index]
        assert "".join(deltas) == call.raw
        a, b = call.span
        assert call.raw in text[a:b]
        assert call.arguments == json.loads(call.raw)
        assert isinstance(call.arguments, dict)
        starts = [e for e in typed(events, "tool_call_start") if e.index == call.index]
        assert len(starts) == 1 and starts[0].id == call.id
        assert events.index(starts[0]) < events.index(call)


@given(text=st.one_of(lark_documents, arbitrary_texts), data=st.data())
def test_nothing_lost_calls_anywhere(text: str, data: st.DataObject) -> None:
    check_calls(text, run(FORMAT, data.draw(chunkings(text))))


@given(doc=documents())
def test_generation_prompt_starts_inside_reasoning(doc: Doc) -> None:
    """``generation_prompt="<analysis>"``: the output starts inside reasoning and its
    offsets count from the output's start."""
    body = "model thinks\n"
    primed = coalesce(
        run(FORMAT, [body + "</analysis>" + doc.text], generation_prompt="<analysis>")
    )
    plain = coalesce(run(FORMAT, ["<analysis>" + body + "</analysis>" + doc.text]))
    shift = len("<analysis>")
    for e in plain:
        if "span" in e:
            e["span"] = [e["span"][0] - shift, e["span"][1] - shift]
        if e["type"] == "error":
            e["offset"] -= shift
            if e["line"] == 1:
                e["column"] -= shift
            e.pop("message")
    for e in primed:
        e.pop("message", None)
    assert primed == plain


# -- guarantee 4: bounded memory ------------------------------------------------------------


def holdback_bound(text: str) -> int:
    """The longest text that may be held: a literal delimiter's length, or the
    longest run of ``text`` that is a prefix of ``<tool_call name="...">`` (whose
    attribute has no fixed length), capped by max_holdback."""
    named = DELIMITERS["TOOL_OPEN_NAMED"]
    bound = LONGEST_LITERAL
    for m in re.finditer("<tool_call", text):
        j = m.end()
        while j < len(text) and named.prefix(text, m.start(), j + 1):
            j += 1
        bound = max(bound, j - m.start())
    return min(bound, toolwire.DEFAULT_MAX_HOLDBACK)


def check_holdback(chunks: list[Any], bound: int) -> None:
    parser = toolwire.parser(FORMAT)
    for chunk in chunks:
        parser.feed(chunk)
        held = parser._buf
        assert len(held) <= bound, (held, bound)
        # what is kept can still become a delimiter; everything else went out
        assert held == "" or is_delimiter_prefix(held), held
    parser.close()
    assert parser._buf == ""


@given(doc=documents(), data=st.data())
def test_holdback_bounded_by_longest_delimiter(doc: Doc, data: st.DataObject) -> None:
    bound = holdback_bound(doc.text)
    assert bound >= doc.longest_named_tag
    check_holdback(data.draw(chunkings(doc.text)), bound)
    check_holdback(list(doc.text), bound)


@given(text=st.one_of(lark_documents, arbitrary_texts), data=st.data())
def test_holdback_bounded_anywhere(text: str, data: st.DataObject) -> None:
    check_holdback(data.draw(chunkings(text)), holdback_bound(text))


def test_holdback_bounded_on_long_adversarial_text() -> None:
    """A long text made of delimiter near-misses, one character at a time."""
    unit = "".join(NEAR_MISSES) + "<analysis>x < y</analysis>plain <final_answer>ok</final_answer>"
    text = break_matches(unit, re.compile(r"<tool_call[ \t\r\n]+name=")) * 20
    check_holdback(list(text), LONGEST_LITERAL)


def test_holdback_limit_for_an_endless_named_tag() -> None:
    """A ``<tool_call name="...`` that never closes is held at most max_holdback
    characters, then reported; memory does not grow with it."""
    parser = toolwire.parser(FORMAT, max_holdback=64)
    events = parser.feed('text <tool_call name="')
    for _ in range(200):
        events += parser.feed("a")
        assert len(parser._buf) <= 64 + 1
    events += parser.close()
    errors = typed(events, "error")
    assert [e.code for e in errors][:1] == ["limit_exceeded"]
    assert errors[0].offset == len("text ")


def _traced_growth(chunks: Any, warmup: int) -> int:
    """Bytes still allocated (by anything) after feeding all chunks, minus what was
    allocated after the first ``warmup`` chunks; events are dropped at once."""
    parser = toolwire.parser(FORMAT)
    tracemalloc.start()
    try:
        base = 0
        for k, chunk in enumerate(chunks):
            parser.feed(chunk)
            if k == warmup:
                base = tracemalloc.get_traced_memory()[0]
        return tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("prefix", "filler"),
    [
        ("", "lorem ipsum dolor sit amet; "),
        ("<analysis>", "lorem ipsum dolor sit amet; "),
        ("<final_answer>", "lorem ipsum dolor sit amet; "),
        ("", "a < b, <tools>, </tool_cal; "),
        ("<analysis>", "a < b, <tool_call>, </anal; "),
    ],
    ids=["text", "reasoning", "answer", "text-near-misses", "reasoning-near-misses"],
)
def test_memory_does_not_grow_with_a_long_text_stream(prefix: str, filler: str) -> None:
    """1 MB of text or reasoning in 1 KB chunks: nothing of it stays in the parser
    (each chunk is a fresh string, so anything the parser keeps shows up)."""

    def stream() -> Any:
        if prefix:
            yield prefix
        for k in range(1000):
            yield f"{k:08d} {filler}" * 30

    assert _traced_growth(stream(), warmup=20) < 64 * 1024


def test_memory_does_not_grow_with_tags_and_calls() -> None:
    """Thousands of blocks and calls: no per-block or per-call state is kept (no parse
    tree, no growing parser stack)."""

    def stream() -> Any:
        for k in range(2000):
            yield f"text {k} a < b <analysis>r {k}</analysis><tool_call>"
            yield f'{{"k": {k}}}</tool_call><final_answer>{k}</final_answer>'

    assert _traced_growth(stream(), warmup=100) < 64 * 1024


def test_memory_released_after_a_long_call() -> None:
    """A 1 MB argument is kept while its call is open (bounded by the largest open
    call), and released once the call completes."""

    def stream() -> Any:
        yield "<tool_call>"
        yield '{"data": "'
        for k in range(1000):
            yield f"{k:08d}" * 125
        yield '"}</tool_call>'
        for k in range(20):
            yield f"text {k:08d} after the call; "

    # warmup before the call opens: the whole call must be gone at the end
    assert _traced_growth(stream(), warmup=0) < 64 * 1024


# -- guarantee 5: linear time (work counted, never timed) ---------------------------------------


def _work(chunks: list[str]) -> int:
    """Python-level calls (functions and C builtins) made while feeding: a
    deterministic measure of work, independent of the machine."""
    parser = toolwire.parser(FORMAT)
    count = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        for chunk in chunks:
            parser.feed(chunk)
        parser.close()
    finally:
        sys.setprofile(None)
    return count


LINEAR_UNIT = (
    break_matches("".join(NEAR_MISSES), ANY_DELIMITER)
    + "<analysis>why <tool_call> here? <<<< </analysis>\n"
    + '<tool_call>{"name": "fetch_row", "arguments": {"q": "'
    + 'x\\n\\"}</tool_call>' * 8
    + '", "n": [1, 2.5, true, null]}}</tool_call>\n'
    + '<tool_call name="ping">{"host": "example.org"}</tool_call>'
    + "<final_answer>done <b>ok</b></final_answer>\n"
)


@pytest.mark.parametrize("size", [1, 7, 64])
def test_work_is_linear_in_input_size(size: int) -> None:
    """Doubling the input doubles the work, whatever the chunk size: nothing re-parses
    what it has seen."""

    def chunks(copies: int) -> list[str]:
        text = LINEAR_UNIT * copies
        return [text[i : i + size] for i in range(0, len(text), size)]

    small, large = _work(chunks(6)), _work(chunks(12))
    assert large <= 2.1 * small, (small, large)
    assert large >= 1.8 * small, (small, large)


@pytest.mark.parametrize(
    ("prefix", "unit", "suffix"),
    [
        ("", "a <b <tool <tool_cal </tool_cal </analysis < analysis>", ""),
        ("<analysis>", "why <tool_call> </final_answer> <analysis", "</analysis>"),
        ('<tool_call>{"text": "', 'abc \\" <tool_call> \\u00e9 } ', '"}</tool_call>'),
    ],
    ids=["text", "reasoning", "argument"],
)
def test_large_input_one_char_at_a_time(prefix: str, unit: str, suffix: str) -> None:
    """200 KB fed one character at a time completes, with the hold-back bounded."""
    text = prefix + unit * (200_000 // len(unit)) + suffix
    parser = toolwire.parser(FORMAT)
    delivered = 0
    for ch in text:
        for event in parser.feed(ch):
            delivered += len(getattr(event, "text", "") or "")
        assert len(parser._buf) <= LONGEST_LITERAL
    events = parser.close()
    assert not typed(events, "error")
    assert delivered >= len(unit) * (200_000 // len(unit)) - LONGEST_LITERAL


# -- guarantee 6: clear errors --------------------------------------------------------------


INVALID_UTF8 = [
    b"\xff",
    b"\xfe",
    b"\x80",
    b"\xc3",
    b"\xe2\x82",
    b"\xf0\x9f\x98",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xe2\x28\xa1",
]


@st.composite
def bytes_with_invalid_utf8(draw: st.DrawFn) -> bytes:
    """A document's UTF-8 with invalid sequences inserted (between characters or
    inside one), anywhere: text, reasoning, a call's JSON, a tag."""
    data = draw(any_document).encode("utf-8")
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(data)))
        data = data[:i] + draw(st.sampled_from(INVALID_UTF8)) + data[i:]
    return data


@given(data=bytes_with_invalid_utf8(), chunks=st.data())
def test_clear_errors_invalid_utf8(data: bytes, chunks: st.DataObject) -> None:
    """Offsets count decoded characters: invalid bytes take no room."""
    check_clear_errors(FORMAT, data.decode("utf-8", "ignore"), chunks.draw(chunkings(data)))
    whole = coalesce(run(FORMAT, [data]))
    assert coalesce(run(FORMAT, chunks.draw(chunkings(data)))) == whole
    codes = [e["code"] for e in whole if e["type"] == "error"]
    # (unless the inserted bytes happened to form characters)
    assert ("invalid_utf8" in codes) == (data != data.decode("utf-8", "replace").encode())


@given(doc=documents(), data=st.data())
def test_clear_errors_positions_of_generated_errors(doc: Doc, data: st.DataObject) -> None:
    """Errors of generated broken documents: exact positions (the oracle's)."""
    check_clear_errors(FORMAT, doc.text, data.draw(chunkings(doc.text)))


def _lone_surrogates(value: Any) -> bool:
    """Whether decoding produced an unpaired surrogate (json.loads accepts those)."""
    if isinstance(value, str):
        return re.search("[\ud800-\udfff]", value) is not None
    if isinstance(value, list):
        return any(_lone_surrogates(v) for v in value)
    if isinstance(value, dict):
        return any(_lone_surrogates(k) or _lone_surrogates(v) for k, v in value.items())
    return False


def _overflows(value: Any) -> bool:
    """Whether a float overflowed (json.loads gives inf; the engine limit_exceeded)."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, list):
        return any(_overflows(v) for v in value)
    if isinstance(value, dict):
        return any(_overflows(v) for v in value.values())
    return False


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def json_verdict(text: str) -> str:
    """What the JSON island makes of ``text`` (its value must start it, after JSON
    whitespace): "valid" (a strict RFC 8259 value, then anything), "limit" (a float
    that overflows), "number" (a bare number, never a call) or "invalid"."""
    start = len(text) - len(text.lstrip(JSON_WS))
    try:
        value, _end = _DECODER.raw_decode(text, start)
    except ValueError:
        return "invalid"
    if _lone_surrogates(value):
        return "invalid"
    if _overflows(value):
        return "limit"
    if isinstance(value, int | float) and not isinstance(value, bool):
        # a top-level number ends where it can no longer continue; what follows
        # (``00``, ``1.5.``) may be read as a broken number or as trailing text
        return "number"
    return "valid"


@st.composite
def mutated_bodies(draw: st.DrawFn) -> str:
    dump = draw(dumpers())
    body = dump(draw(st.one_of(bare_objects(), any_objects)))
    for _ in range(draw(st.integers(0, 2))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "cut"]))
        i = draw(st.integers(0, len(body)))
        char = draw(st.sampled_from([*list('{}[]":,\\ x0-.e'), "\n", "tru", "\x01"]))
        if op == "delete":
            body = body[:i] + body[i + 1 :]
        elif op == "insert":
            body = body[:i] + char + body[i:]
        elif op == "replace":
            body = body[:i] + char + body[i + 1 :]
        else:
            body = body[:i]
    return body


@given(body=mutated_bodies(), after=st.sampled_from(["", "\n", "text", "<analysis>a</analysis>"]))
def test_invalid_json_flagged_exactly_when_the_body_is_not_json(body: str, after: str) -> None:
    """``invalid_json`` is reported for a call exactly when what follows its tag does
    not start with a strictly valid JSON value (or it is cut by the end of input:
    ``truncated``); a valid bare-object body always becomes the call's arguments."""
    rest = body + "</tool_call>" + after
    events = run(FORMAT, ["<tool_call>" + rest])
    # only this call's outcome: after an error, parsing may resume at a tag that
    # was inside a JSON string of the body
    codes = [e.code for e in typed(events, "error")][:1]
    calls = [c for c in typed(events, "tool_call") if c.index == 0]
    verdict = json_verdict(rest)
    if verdict == "valid":
        assert codes != ["invalid_json"], (body, codes)
    elif verdict == "limit":
        assert codes == ["limit_exceeded"], (body, codes)
    elif verdict == "number":
        assert codes in (["invalid_json"], ["invalid_arguments"]), (body, codes)
    else:
        assert codes in (["invalid_json"], ["truncated"]), (body, codes)
        assert not calls, (body, calls)
    try:
        value = json.loads(body, parse_constant=_reject_constant)
    except ValueError:
        return
    if (
        isinstance(value, dict)
        and not _lone_surrogates(value)
        and not _overflows(value)
        and next(iter(value), None) not in ("name", "arguments", "parameters")
    ):
        assert [(c.arguments, c.raw) for c in calls] == [(value, body.strip(JSON_WS))], codes


ARBITRARY_INPUT = ArbitraryInput(st.tuples(st.just(FORMAT), any_document, st.just({})))
"""Any tags document, checked by tests/test_guarantees.py."""
