"""The ``gemma4`` format (FORMATS.md sections 10 and 12): ``<|channel>thought\\n``
reasoning, ``<|tool_call>call:NAME{...}<tool_call|>`` calls in Gemma's object
notation, text around them as content, verbatim.

Examples first (FORMATS.md's shapes, every pitfall it lists, every start state of its
generation-prompt table), then property tests over generated documents: the exact
events of an oracle built with the document, chunk invariance for str and UTF-8
bytes, earliest completion (the ``tool_call`` comes from the feed holding the
object's ``}``), every truncation point of a call, documents derived from the
grammar itself (``hypothesis.extra.lark.from_lark``), and clear errors (documented
codes at exact positions, strict mode raising at the lenient run's first error) over
soups of the format's pieces.  There is no shared corpus for this format.
"""

from __future__ import annotations

import re
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
    calls,
    chunk_holding,
    content,
    feed_each,
    position,
    reasoning,
    strip_messages,
    typed,
)
from tests.test_gemma_object import objects, same, written
from toolwire import Error, Finish, ParseError, ToolCall, ToolCallDelta, ToolCallStart
from toolwire.registry import compiled
from toolwire.values.gemma_object import GemmaObjectScanner

FORMAT = "gemma4"
Q = '<|"|>'
OPEN, CLOSE = "<|tool_call>", "<tool_call|>"
THOUGHT, END_THOUGHT = "<|channel>thought\n", "<channel|>"
DOCUMENTED = {str(code) for code in toolwire.ErrorCode} - {"internal_error"}


def parse(text: str, **options: Any) -> list[Any]:
    return run(FORMAT, [text], **options)


def errors(events: list[Any]) -> list[tuple[str, int]]:
    return [(e.code, e.offset) for e in events if isinstance(e, Error)]


def summary(events: list[Any]) -> list[tuple[str | None, Any]]:
    return [(c.name, c.arguments) for c in calls(events)]


def every_way(text: str, **options: Any) -> list[dict[str, Any]]:
    """The coalesced events, checked equal whole, one character and one byte at a time."""
    whole = coalesce(run(FORMAT, [text], **options))
    assert coalesce(run(FORMAT, list(text), **options)) == whole
    data = text.encode("utf-8")
    assert coalesce(run(FORMAT, [data[k : k + 1] for k in range(len(data))], **options)) == whole
    return whole


# -- FORMATS.md section 10 -------------------------------------------------------------


def test_the_documented_shape() -> None:
    body = f"{{cols:[{Q}x{Q},{Q}y{Q}],id:7,opts:{{deep:true}}}}"
    src = f"{OPEN}call:fetch_row{body}{CLOSE}"
    assert parse(src) == [
        ToolCallStart(index=0, id="call_0", name="fetch_row"),
        ToolCallDelta(index=0, id="call_0", text=body),
        ToolCall(
            index=0,
            id="call_0",
            name="fetch_row",
            arguments={"cols": ["x", "y"], "id": 7, "opts": {"deep": True}},
            raw=body,
            span=(0, len(src) - len(CLOSE)),
        ),
        Finish(reason="tool_calls"),
    ]
    every_way(src)


def test_thought_content_calls_and_text_after() -> None:
    src = (
        f"{THOUGHT}I should look it up.\n{END_THOUGHT}Let me check.\n"
        f"{OPEN}call:fetch_row{{id:7}}{CLOSE}{OPEN}call:ping{{}}{CLOSE}\nDone: {{x}}."
    )
    events = every_way(src)
    assert [e["type"] for e in events if not e["type"].endswith(("_start", "_end"))] == [
        "reasoning_delta",
        "text_delta",
        "tool_call_delta",
        "tool_call",
        "tool_call_delta",
        "tool_call",
        "text_delta",
        "finish",
    ]
    parsed = parse(src)
    assert reasoning(parsed) == "I should look it up."
    assert content(parsed) == "Let me check.\n\nDone: {x}."
    assert summary(parsed) == [("fetch_row", {"id": 7}), ("ping", {})]
    assert [e.reason for e in parsed if isinstance(e, Finish)] == ["stop"]


def test_thought_header_and_exactly_one_trailing_newline_are_markup() -> None:
    for body, expected in [
        ("plan\n", "plan"),
        ("plan\n\n", "plan\n"),
        ("\nplan", "\nplan"),
        ("plan", "plan"),
        ("a\nb\n", "a\nb"),
        ("plan \n", "plan "),
    ]:
        events = parse(f"{THOUGHT}{body}{END_THOUGHT}answer")
        assert reasoning(events) == expected, body
        assert content(events) == "answer"
    # A missing newline after the header is tolerated.
    assert reasoning(parse("<|channel>thoughtplan<channel|>")) == "plan"
    # An empty thought is absent.
    events = parse(f"{THOUGHT}{END_THOUGHT}answer")
    assert not typed(events, "reasoning_start") and content(events) == "answer"


def test_a_call_ends_an_unclosed_thought() -> None:
    src = f"{THOUGHT}I will fetch it.\n{OPEN}call:fetch_row{{id:7}}{CLOSE}"
    events = every_way(src)
    parsed = parse(src)
    assert reasoning(parsed) == "I will fetch it.\n"
    assert summary(parsed) == [("fetch_row", {"id": 7})]
    assert errors(parsed) == []
    assert [e["type"] for e in events][:3] == [
        "reasoning_start",
        "reasoning_delta",
        "reasoning_end",
    ]


def test_marker_text_in_reasoning_is_reasoning() -> None:
    text = f"the syntax is {OPEN} then {CLOSE}, or {OPEN}x, <|channel>thought and {Q}"
    events = every_way(f"{THOUGHT}{text}{END_THOUGHT}ok")
    assert "".join(e["text"] for e in events if e["type"] == "reasoning_delta") == text
    assert not [e for e in events if e["type"] in ("tool_call", "error")]


def test_marker_text_inside_strings_is_data() -> None:
    data = f'{CLOSE}{OPEN}call:x{{y:1}}<channel|>{THOUGHT}}}]{{, <turn|>\n\\ "q"'
    src = f"{OPEN}call:write{{text:{Q}{data}{Q}}}{CLOSE}after"
    every_way(src)
    parsed = parse(src)
    assert summary(parsed) == [("write", {"text": data})]
    assert content(parsed) == "after" and errors(parsed) == []


def test_keys_with_spaces() -> None:
    # Ollama dropped the whole call.
    args = f"{{first name:{Q}Ann{Q},home address:{{street name:{Q}Main{Q}}}}}"
    src = f"{OPEN}call:add_contact{args}{CLOSE}"
    assert summary(parse(src)) == [
        ("add_contact", {"first name": "Ann", "home address": {"street name": "Main"}})
    ]


def test_braces_in_strings_in_arrays_of_objects() -> None:
    # llama.cpp returned the array as a string.
    src = f"{OPEN}call:put{{rows:[{{q:{Q}{{a}}{Q}}},{{q:{Q}}}]{Q}}}]}}{CLOSE}"
    assert summary(parse(src)) == [("put", {"rows": [{"q": "{a}"}, {"q": "}]"}]})]


def test_many_strings_followed_by_a_string_array() -> None:
    # Ollama's placeholder scheme collided.
    strings = ",".join(f"k{i}:{Q}v{i}{Q}" for i in range(10))
    src = f"{OPEN}call:tag{{{strings},tags:[{Q}a{Q},{Q}b{Q}]}}{CLOSE}"
    [(_, args)] = summary(parse(src))
    assert args["tags"] == ["a", "b"] and args["k9"] == "v9"


def test_values_are_self_typed_whatever_the_schema() -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "f",
                "parameters": {
                    "type": "object",
                    "properties": {"n": {"type": "string"}, "s": {"type": "integer"}},
                },
            },
        }
    ]
    src = f"{OPEN}call:f{{n:7,s:{Q}7{Q},x:2e-07,y:4e+22,z:-8}}{CLOSE}"
    assert summary(parse(src, tools=tools)) == [
        ("f", {"n": 7, "s": "7", "x": 2e-07, "y": 4e22, "z": -8})
    ]


def test_names_with_dots_and_dashes() -> None:
    assert summary(parse(f"{OPEN}call:tools.shell-exec{{cmd:{Q}ls{Q}}}{CLOSE}")) == [
        ("tools.shell-exec", {"cmd": "ls"})
    ]


def test_text_before_between_and_after_calls_is_verbatim() -> None:
    src = f"  a\n\n{OPEN}call:f{{}}{CLOSE}\n b \n{OPEN}call:g{{}}{CLOSE} \n"
    parsed = parse(src)
    assert content(parsed) == "  a\n\n\n b \n \n"
    assert [e.reason for e in parsed if isinstance(e, Finish)] == ["tool_calls"]


def test_stray_closers_in_content_are_dropped() -> None:
    events = every_way(f"a{END_THOUGHT}b{CLOSE}c")
    assert "".join(e["text"] for e in events if e["type"] == "text_delta") == "abc"
    assert not [e for e in events if e["type"] == "error"]


def test_whitespace_between_object_and_closer() -> None:
    parsed = parse(f"{OPEN}call:f{{a:1}} \n{CLOSE}x")
    assert summary(parsed) == [("f", {"a": 1})] and content(parsed) == "x"
    parsed = parse(f"{OPEN}call:f{{a:1}} x{CLOSE}")
    assert summary(parsed) == [("f", {"a": 1})]
    assert errors(parsed) == [("unexpected_text", len(OPEN) + 12)]


def test_input_may_end_at_the_completing_brace() -> None:
    """Where a client stops the model: the call stands, no error."""
    src = f"text{OPEN}call:f{{a:1}}"
    parsed = parse(src)
    assert summary(parsed) == [("f", {"a": 1})] and errors(parsed) == []
    assert [e.reason for e in parsed if isinstance(e, Finish)] == ["tool_calls"]
    src = f"{THOUGHT}hm{OPEN}call:f{{a:1}}"
    assert summary(parse(src)) == [("f", {"a": 1})] and errors(parse(src)) == []


def test_a_missing_closer_before_the_next_call() -> None:
    src = f"{OPEN}call:f{{a:1}}{OPEN}call:g{{}}{CLOSE}"
    parsed = parse(src)
    assert summary(parsed) == [("f", {"a": 1}), ("g", {})]
    assert errors(parsed) == [("unexpected_tag", len(OPEN) + 11)]
    every_way(src)


def test_output_without_its_special_tokens_is_content() -> None:
    """What an engine with ``skip_special_tokens`` on leaves: never guessed as calls."""
    src = "thought\nplan call:fetch_row{id:7} done"
    events = every_way(src)
    assert [e["type"] for e in events] == ["text_start", "text_delta", "text_end", "finish"]


# -- generation prompts (section 10's table) -------------------------------------------------


@pytest.mark.parametrize(
    "prompt",
    [
        "<|turn>model\n",  # thinking on, or thinking off on E2B/E4B
        "<|turn>model\n<|channel>thought\n<channel|>",  # thinking off, 26B/31B
        None,  # continuing the turn after <tool_response|>
        '<|tool_response>response:f{value:<|"|>ok<|"|>}<tool_response|>',
    ],
)
def test_prompts_that_start_in_content(prompt: str | None) -> None:
    src = f"Hi.{OPEN}call:f{{a:1}}{CLOSE}"
    events = every_way(src, generation_prompt=prompt)
    assert [e["text"] for e in events if e["type"] == "text_delta"] == ["Hi."]
    call = next(e for e in events if e["type"] == "tool_call")
    assert call["span"] == [3, len(src) - len(CLOSE)]
    src = f"{THOUGHT}think{END_THOUGHT}Hi."
    parsed = parse(src, generation_prompt=prompt)
    assert reasoning(parsed) == "think" and content(parsed) == "Hi."


def test_prompt_ending_inside_the_thought() -> None:
    prompt = "<|turn>model\n<|channel>thought\n"
    src = f"think\n{END_THOUGHT}Hi.{OPEN}call:f{{}}{CLOSE}"
    every_way(src, generation_prompt=prompt)
    parsed = parse(src, generation_prompt=prompt)
    assert reasoning(parsed) == "think" and content(parsed) == "Hi."
    assert calls(parsed)[0].span == (9 + len(END_THOUGHT), len(src) - len(CLOSE))


# -- errors, truncation, tools, strict mode ---------------------------------------------------


def test_a_call_without_an_object_is_an_error() -> None:
    src = f"{OPEN}call:fetch_row{CLOSE}after{OPEN}call:ping{{}}{CLOSE}"
    parsed = parse(src)
    assert errors(parsed) == [("unexpected_tag", len(OPEN) + 14)]
    assert summary(parsed) == [("ping", {})]
    assert content(parsed) == "after"


@pytest.mark.parametrize(
    ("src", "code", "offset"),
    [
        (f"{OPEN}fetch_row{{}}{CLOSE}", "unexpected_text", len(OPEN)),
        (f"{OPEN}call:{{}}{CLOSE}", "unexpected_text", len(OPEN)),
        (f"{OPEN}call:bad name{{}}{CLOSE}", "unexpected_text", len(OPEN) + 8),
        (f"{OPEN}call:f{{a:Paris}}{CLOSE}", "invalid_arguments", len(OPEN) + 9),
        (f"{OPEN}call:f{{a:1,}}{CLOSE}", "invalid_arguments", len(OPEN) + 11),
        (f"{OPEN}call:f{{a:1e999}}{CLOSE}", "limit_exceeded", len(OPEN) + 14),
        (f"{OPEN}call:f{{a:{Q}x{Q}}}}}{CLOSE}", "unexpected_text", len(OPEN) + 21),
    ],
)
def test_errors_at_exact_positions(src: str, code: str, offset: int) -> None:
    full = src + f"ok{OPEN}call:ping{{}}{CLOSE}"
    parsed = parse(full)
    assert errors(parsed) == [(code, offset)]
    assert ("ping", {}) in summary(parsed)  # parsing resumes for the next call
    [err] = [e for e in parsed if isinstance(e, Error)]
    assert (err.line, err.column) == position(full, offset)
    every_way(full)
    with pytest.raises(ParseError) as info:
        toolwire.parse(full, FORMAT, strict=True)
    assert (info.value.code, info.value.offset) == (code, offset)


def test_every_truncation_point_of_a_call() -> None:
    """A call cut anywhere before its ``}`` is a ``truncated`` error at close(), never a
    call; the call before it stays."""
    first = f"{OPEN}call:ping{{}}{CLOSE}"
    cut_call = f"{OPEN}call:fetch_row{{id:7,q:{Q}a}}b{Q},xs:[1,{{k:null}}]}}"
    for k in range(1, len(OPEN)):  # a cut marker is text
        assert content(parse(first + "x" + cut_call[:k])) == "x" + cut_call[:k]
    head = len(OPEN) + len("call:")
    for k in range(len(OPEN), len(cut_call)):
        src = first + "x" + cut_call[:k]
        parsed = parse(src)
        assert summary(parsed) == [("ping", {})], k
        if len(OPEN) < k <= head:
            # Cut before the name: the input ended inside the call head ``call:NAME{``
            # (the core's rule for a cut delimiter: ``truncated`` at its start).
            expected = [("truncated", len(first) + 1 + len(OPEN))]
        else:
            expected = [("truncated", len(src))]
        assert errors(parsed) == expected, k
        assert every_way(src) == coalesce(parsed)
    src = first + "x" + cut_call
    assert summary(parse(src))[-1] == ("fetch_row", {"id": 7, "q": "a}b", "xs": [1, {"k": None}]})


def test_truncated_thought_is_reasoning() -> None:
    parsed = parse(f"{THOUGHT}still thinking")
    assert reasoning(parsed) == "still thinking"
    assert errors(parsed) == [("truncated", len(THOUGHT) + 14)]


def test_unknown_tools() -> None:
    tools = [{"type": "function", "function": {"name": "ping", "parameters": {}}}]
    src = f"{OPEN}call:rm{{path:{Q}/{Q}}}{CLOSE}{OPEN}call:ping{{}}{CLOSE}"
    parsed = parse(src, tools=tools)
    assert errors(parsed) == [("unknown_tool", 0)]
    assert summary(parsed) == [("ping", {})]


def test_strict_mode_poisons() -> None:
    parser = toolwire.parser(FORMAT, strict=True)
    assert summary(parser.feed(f"{OPEN}call:f{{a:1}}{CLOSE}")) == [("f", {"a": 1})]
    with pytest.raises(ParseError) as info:
        parser.feed(f"{OPEN}call:g{{a b}}")
    assert info.value.code == "invalid_arguments"
    with pytest.raises(ParseError):
        parser.feed("more")


def test_limits() -> None:
    src = f"{OPEN}call:f{{a:{{b:{{c:1}}}}}}{CLOSE}"
    assert errors(parse(src, max_depth=2)) == [("limit_exceeded", len(OPEN) + 12)]
    assert errors(parse(src, max_depth=3)) == []
    body = f"{{s:{Q}{'x' * 100}{Q}}}"
    src = f"{OPEN}call:f{body}{CLOSE}"
    assert errors(parse(src, max_argument_size=len(body))) == []
    assert errors(parse(src, max_argument_size=50)) == [("limit_exceeded", len(OPEN) + 6 + 50)]


def test_streamed_string_chunks_are_one_delta_each() -> None:
    """Chunks inside a string (the island's fast path) go out as they arrive."""
    parser = toolwire.parser(FORMAT)
    head = f"{OPEN}call:write{{text:{Q}"
    assert [type(e) for e in parser.feed(head)] == [ToolCallStart, ToolCallDelta]
    for piece in ["hello ", "world, ", "{not} ", "[json]\n", "<", "b>"]:
        out = parser.feed(piece)
        assert out == [ToolCallDelta(index=0, id="call_0", text=piece)], piece
    assert parser.offset == len(head) + 29
    out = parser.feed(f"{Q}}}{CLOSE}")
    [call] = calls(out)
    assert call.arguments == {"text": "hello world, {not} [json]\n<b>"}
    assert call.span == (0, len(head) + 29 + len(Q) + 1)


def test_argument_limit_inside_a_streamed_string() -> None:
    body = f"{{s:{Q}{'x' * 100}{Q}}}"
    src = f"{OPEN}call:f{body}{CLOSE}"
    for size in (1, 5, 7):
        chunks = [src[k : k + size] for k in range(0, len(src), size)]
        events = run(FORMAT, chunks, max_argument_size=50)
        assert errors(events) == [("limit_exceeded", len(OPEN) + 6 + 50)], size


def test_utf8_split_inside_a_string_and_a_marker() -> None:
    src = f"é{OPEN}call:f{{s:{Q}Zürich 😀{Q}}}{CLOSE}"
    assert summary(parse(src)) == [("f", {"s": "Zürich 😀"})]
    every_way(src)


# -- the oracle -----------------------------------------------------------------------------

_SAFE_TEXT = st.one_of(
    st.text(alphabet=st.sampled_from(list("ab {}[]:,\"'|>\n\r\té😀")), min_size=1, max_size=8),
    st.sampled_from(["a < b", "call:f{a:1}", Q.replace("<", "< "), "thought\n", "<tool_call"]),
)
_SAFE_REASONING = st.one_of(
    _SAFE_TEXT,
    st.sampled_from([CLOSE, f"{OPEN}x", "<|channel>thought", Q, "\n", "\n\n", "<channel"]),
)
_NAMES = st.from_regex(r"[a-z_][a-z0-9_.\-]{0,8}", fullmatch=True)


def _fix(piece: str) -> str:
    """A piece ending inside a possible marker start gets a space, so that adjacent
    pieces never join into a marker."""
    k = piece.rfind("<")
    ds = list(compiled(FORMAT).delimiters.values())
    return piece + " " if k >= 0 and any(d.prefix(piece, k) for d in ds) else piece


@st.composite
def documents(draw: st.DrawFn) -> OracleDoc:
    doc = OracleDoc()
    text_run = ""

    def flush() -> None:
        nonlocal text_run
        doc.block("text", text_run)
        text_run = ""

    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["text", "thought", "call"]))
        if kind == "text":
            piece = _fix(draw(_SAFE_TEXT))
            doc.add(piece)
            text_run += piece
            continue
        flush()
        if kind == "thought":
            body = "".join(_fix(p) for p in draw(st.lists(_SAFE_REASONING, max_size=4)))
            doc.add(THOUGHT + body)
            if draw(st.booleans()):
                doc.add(END_THOUGHT)
                doc.block("reasoning", body[:-1] if body.endswith("\n") else body)
                continue
            doc.block("reasoning", body)  # closed by the call that follows
        name = draw(_NAMES)
        args = draw(objects)
        body = draw(written(args))
        start = doc.add(OPEN + "call:" + name)
        doc.add(body)
        end = len(doc.text)
        call_id = f"call_{doc.index}"
        doc.events += [
            {"type": "tool_call_start", "index": doc.index, "id": call_id, "name": name},
            {"type": "tool_call_delta", "index": doc.index, "id": call_id, "text": body},
        ]
        doc.calls.append(
            {
                "type": "tool_call",
                "index": doc.index,
                "id": call_id,
                "name": name,
                "arguments": args,
                "raw": body,
                "span": [start, end],
            }
        )
        doc.events.append(doc.calls[-1])
        doc.index += 1
        doc.after_call = False
        doc.add(draw(st.sampled_from(["", "", " ", "\n"])) + CLOSE)
    flush()
    doc.events.append(doc.finish())
    return doc


def _same_events(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    """Equal events; arguments compared as JSON values (floats by value and sign)."""
    assert len(got) == len(want), (got, want)
    for g, w in zip(got, want, strict=True):
        if g.get("type") == "tool_call":
            assert same(g["arguments"], dict(w["arguments"])), (g, w)
            g = {k: v for k, v in g.items() if k != "arguments"}
            w = {k: v for k, v in w.items() if k != "arguments"}
        assert g == w


@given(doc=documents(), data=st.data())
def test_documents_give_the_oracles_events(doc: OracleDoc, data: st.DataObject) -> None:
    whole = strip_messages(coalesce(run(FORMAT, [doc.text])))
    _same_events(whole, doc.events)
    chunks = data.draw(chunkings(doc.text))
    assert strip_messages(coalesce(run(FORMAT, chunks))) == whole
    as_bytes = data.draw(chunkings(doc.text.encode("utf-8")))
    assert strip_messages(coalesce(run(FORMAT, as_bytes))) == whole


@given(doc=documents(), data=st.data())
def test_earliest_completion(doc: OracleDoc, data: st.DataObject) -> None:
    for chunks in (data.draw(chunkings(doc.text)), data.draw(chunkings(doc.text.encode()))):
        outs = feed_each(FORMAT, chunks)
        for k, out in enumerate(outs):
            for event in out:
                if isinstance(event, ToolCall):
                    assert k == chunk_holding(doc.text, chunks, event.span[1] - 1)


# -- the grammar as a generator ----------------------------------------------------------------


def _generator_grammar() -> Lark:
    """The grammar with one rewrite: the look-ahead of TOOL_OPEN_IN_THOUGHT (a
    generator cannot honour it; ``call:NAME`` follows it in the grammar anyway)."""
    text = (resources.files("toolwire.grammars") / "gemma4.lark").read_text("utf-8")
    text = text.replace("/<\\|tool_call>(?=call:)/", '"<|tool_call>"')
    return Lark(text, parser="lalr", lexer="contextual", start="start")


_PLAIN = st.text(alphabet=st.sampled_from(list("ab :{}\n,é")), min_size=1, max_size=6)
lark_documents = from_lark(
    _generator_grammar(),
    start="start",
    explicit={
        "TEXT": _PLAIN,
        "REASONING": _PLAIN,
        "CALL_HEAD": _NAMES.map(lambda n: "call:" + n),
        "LAYOUT": st.sampled_from([" ", "\n", "\t"]),
        "ARGS": objects.flatmap(written).map(lambda s: s[1:]),  # after OBJ_OPEN's "{"
    },
)


@given(text=lark_documents, data=st.data())
def test_grammar_documents(text: str, data: st.DataObject) -> None:
    """What the grammar derives parses without errors, the same under any chunking,
    with each call's deltas concatenating to its raw object text."""
    events = run(FORMAT, [text])
    assert typed(events, "error") == [], text
    for call in calls(events):
        deltas = [e.text for e in typed(events, "tool_call_delta") if e.index == call.index]
        assert "".join(deltas) == call.raw
        assert text[call.span[0] : call.span[1]].endswith(call.raw)
        sc = GemmaObjectScanner()
        assert sc.feed(call.raw, 0, len(call.raw)) == len(call.raw)
        assert sc.value() == call.arguments
    whole = coalesce(events)
    assert coalesce(run(FORMAT, data.draw(chunkings(text)))) == whole
    assert coalesce(run(FORMAT, data.draw(chunkings(text.encode("utf-8"))))) == whole


# -- arbitrary input: clear errors ---------------------------------------------------------------

_SOUP = st.lists(
    st.one_of(
        st.sampled_from(
            [
                OPEN,
                CLOSE,
                THOUGHT,
                END_THOUGHT,
                "call:",
                "call:f",
                "{",
                "}",
                Q,
                "<|",
                "a:",
                "1",
                ",",
            ]
        ),
        st.text(alphabet='ab <>|{}[]":,\n', max_size=4),
    ),
    max_size=14,
).map("".join)


def test_only_documented_delimiters() -> None:
    literals = {d.literal for d in compiled(FORMAT).delimiters.values() if d.literal}
    assert literals == {OPEN, CLOSE, "{", END_THOUGHT}
    assert re.fullmatch(compiled(FORMAT).delimiters["THOUGHT_OPEN"].pattern, THOUGHT)


ARBITRARY_INPUT = ArbitraryInput(st.tuples(st.just(FORMAT), _SOUP, st.just({})))
"""Arbitrary gemma4 input, checked by tests/test_guarantees.py."""
