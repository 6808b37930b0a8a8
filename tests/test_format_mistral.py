"""The ``mistral`` format: v3 arrays, v11+ ``[TOOL_CALLS]NAME[ARGS]{...}``, ``[CALL_ID]``,
``[THINK]`` reasoning (FORMATS.md 9 and 12; decisions in ``toolwire/formats/mistral.py``).

Examples of every shape, separator and id variant, truncation point, error and
recovery; then property tests over two generators:

* ``documents()`` builds an output part by part (text, reasoning, v11 calls, v3
  arrays, a truncated tail) and records the events it must produce (the oracle);
* ``lark_documents`` derives outputs from ``grammars/mistral.lark``
  (``hypothesis.extra.lark.from_lark``) with explicit strategies for the declared
  terminals and the look-ahead patterns (one rewrite, see ``_generator_grammar``).
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
    closing_brace,
    earliest_completion,
    strip_messages,
    summary,
    typed,
    whole_char_byte_oracle,
)

FORMAT = "mistral"
TC, ARGS, CALL_ID = "[TOOL_CALLS]", "[ARGS]", "[CALL_ID]"
THINK, END_THINK = "[THINK]", "[/THINK]"
MARKERS = [TC, ARGS, CALL_ID, THINK, END_THINK]
JSON_WS = " \t\r\n"
ERROR_CODES = {code.value for code in toolwire.ErrorCode} - {toolwire.ErrorCode.INTERNAL_ERROR}
OPENERS = re.compile(r"\[TOOL_CALLS\]|\[THINK\]")


def v3(*calls: dict[str, Any], space: str = "") -> str:
    return TC + space + json.dumps(list(calls))


def v11(name: str, args: str, call_id: str | None = None, marker: str = ARGS) -> str:
    return TC + name + (CALL_ID + call_id if call_id is not None else "") + marker + args


# -- v3 / v7 arrays ----------------------------------------------------------------------


def test_v3_one_call_exact_events() -> None:
    src = 'Hello[TOOL_CALLS] [{"name": "add", "arguments": {"a": 1}}]'
    events = run(FORMAT, [src])
    assert [e.to_json() for e in events] == [
        {"type": "text_start", "id": 0},
        {"type": "text_delta", "id": 0, "text": "Hello"},
        {"type": "text_end", "id": 0},
        {"type": "tool_call_start", "index": 0, "id": "call_0", "name": "add"},
        {"type": "tool_call_delta", "index": 0, "id": "call_0", "text": '{"a": 1}'},
        {
            "type": "tool_call",
            "index": 0,
            "id": "call_0",
            "name": "add",
            "arguments": {"a": 1},
            "raw": '{"a": 1}',
            "span": [len("Hello"), len(src) - 1],
        },
        {"type": "finish", "reason": "tool_calls", "raw_reason": None, "usage": None},
    ]


@pytest.mark.parametrize("space", ["", " ", "  ", "\n", " \n "])
@pytest.mark.parametrize("inner", ["", " ", "\n  "])
def test_v3_whitespace_variants(space: str, inner: str) -> None:
    src = (
        TC
        + space
        + "["
        + inner
        + '{"name": "add", "arguments": {"a": 3.5}}'
        + inner
        + ","
        + inner
        + '{"name":"ping","arguments":{}}'
        + inner
        + "]"
    )
    got = summary(run(FORMAT, list(src)))
    assert got == {
        "content": "",
        "reasoning": "",
        "calls": [("add", {"a": 3.5}), ("ping", {})],
        "errors": [],
    }


def test_v3_key_order_parameters_and_an_argument_named_name() -> None:
    src = TC + (
        '[{"arguments": {"name": "x", "arguments": 1}, "name": "f"},'
        ' {"name": "g", "parameters": {"id": 2}}]'
    )
    events = run(FORMAT, [src])
    assert summary(events)["calls"] == [("f", {"name": "x", "arguments": 1}), ("g", {"id": 2})]
    # arguments before the name: the start cannot carry it yet
    assert [e.name for e in typed(events, "tool_call_start")] == [None, "g"]


def test_v3_nemo_ids() -> None:
    """llama.cpp's Nemo test writes the id last (the template's order): it reaches the
    tool_call; the start and deltas, already out, carry ``call_<index>``."""
    src = v3(
        {"name": "f", "arguments": {"a": 1}, "id": "a1b2c3d4e"},
        {"name": "g", "arguments": {}, "id": "Z9y8X7w6V"},
    )
    events = run(FORMAT, list(src))
    assert [c.id for c in typed(events, "tool_call")] == ["a1b2c3d4e", "Z9y8X7w6V"]
    assert [c.id for c in typed(events, "tool_call_start")] == ["call_0", "call_1"]
    assert summary(events)["errors"] == []


@pytest.mark.parametrize(
    "element",
    [
        {"name": "f", "id": "a1b2c3d4e", "arguments": {"a": "x" * 30}},
        {"id": "a1b2c3d4e", "name": "f", "arguments": {"a": "x" * 30}},
        {"id": "a1b2c3d4e", "arguments": {"a": "x" * 30}, "name": "f"},
    ],
    ids=["name-id-args", "id-name-args", "id-args-name"],
)
def test_v3_nemo_id_before_the_arguments_is_on_every_event(element: dict[str, Any]) -> None:
    """The start waits for an id that comes before the arguments (the project issue
    "Formats part 3": the id used to reach only the tool_call); the arguments still
    stream before the call completes."""
    src = v3(element, {"name": "g", "arguments": {}})
    events = run(FORMAT, list(src))
    assert [(e.type, e.id) for e in events if e.type.startswith("tool_call")] == [
        ("tool_call_start", "a1b2c3d4e"),
        *[("tool_call_delta", "a1b2c3d4e")] * (len(json.dumps(element["arguments"]))),
        ("tool_call", "a1b2c3d4e"),
        ("tool_call_start", "call_1"),
        ("tool_call_delta", "call_1"),
        ("tool_call_delta", "call_1"),
        ("tool_call", "call_1"),
    ]
    parser = toolwire.parser(FORMAT)
    out = parser.feed(src[: src.index("xxx")])
    assert [(e.type, e.id) for e in out] == [
        ("tool_call_start", "a1b2c3d4e"),
        ("tool_call_delta", "a1b2c3d4e"),
    ]


def test_v3_array_then_text_then_v11_call() -> None:
    src = v3({"name": "f", "arguments": {}}) + " then " + v11("g", '{"b": [1]}') + " done"
    assert summary(run(FORMAT, list(src))) == {
        "content": " then  done",
        "reasoning": "",
        "calls": [("f", {}), ("g", {"b": [1]})],
        "errors": [],
    }


# -- v11+ ------------------------------------------------------------------------------------


@pytest.mark.parametrize("marker", [ARGS, ""])
def test_v11_calls_back_to_back(marker: str) -> None:
    """With ``[ARGS]``, or without it (stripped as a special token)."""
    src = "bla" + v11("add", '{"a": 3.5, "b": 4}', marker=marker)
    src += v11("multiply", '{"a": 3}', marker=marker)
    events = run(FORMAT, list(src))
    assert summary(events) == {
        "content": "bla",
        "reasoning": "",
        "calls": [("add", {"a": 3.5, "b": 4}), ("multiply", {"a": 3})],
        "errors": [],
    }
    calls = typed(events, "tool_call")
    assert [c.span for c in calls] == [(3, src.index("}") + 1), (src.rindex(TC), len(src))]


def test_v11_call_id() -> None:
    src = v11("f", '{"q": 1}', call_id="a1b2c3d4e") + v11("g", "{}")
    events = run(FORMAT, [src])
    assert [(c.id, c.name) for c in typed(events, "tool_call")] == [
        ("a1b2c3d4e", "f"),
        ("call_1", "g"),
    ]
    # the name waits for the id (defer_start): every event carries it
    assert [d.id for d in typed(events, "tool_call_start")] == ["a1b2c3d4e", "call_1"]
    assert [d.id for d in typed(events, "tool_call_delta")] == ["a1b2c3d4e", "call_1"]


def test_v11_json_whitespace_after_args_marker() -> None:
    src = v11("f", ' \n{"a": 1}')
    assert summary(run(FORMAT, [src]))["calls"] == [("f", {"a": 1})]


def test_envelope_right_after_the_marker() -> None:
    src = TC + '{"name": "f", "arguments": {"x": 1}}'
    assert summary(run(FORMAT, [src]))["calls"] == [("f", {"x": 1})]


def test_text_after_calls_is_content_and_finish_reason() -> None:
    events = run(FORMAT, [v11("f", "{}") + " and more"])
    assert summary(events)["content"] == " and more"
    assert typed(events, "finish")[0].reason == "stop"
    assert typed(run(FORMAT, [v11("f", "{}")]), "finish")[0].reason == "tool_calls"


def test_finish_reason_is_chunk_invariant() -> None:
    src = v11("f", "{}") + " and more"
    assert typed(run(FORMAT, list(src)), "finish")[0].reason == "stop"


# -- markers as text -----------------------------------------------------------------------


def test_marker_text_inside_json_strings() -> None:
    args = {"q": '[TOOL_CALLS]x[ARGS]{"a": 1}]', "t": "[THINK][/THINK]", "b": "}{],["}
    src = v11("f", json.dumps(args)) + v3({"name": "g", "arguments": args})
    events = run(FORMAT, list(src))
    assert summary(events)["calls"] == [("f", args), ("g", args)]
    assert summary(events)["errors"] == []


def test_markup_lookalikes_in_text_are_text() -> None:
    text = "Use [ARGS] or [CALL_ID], {x}, a ] b, [/THINK] and [TOOL_CALLS ] as text."
    assert summary(run(FORMAT, list(text))) == {
        "content": text,
        "reasoning": "",
        "calls": [],
        "errors": [],
    }


def test_reasoning_then_calls() -> None:
    body = "I could call [TOOL_CALLS]f[ARGS]{} or [THINK] nested; not now."
    src = THINK + body + END_THINK + "Sure." + v11("f", '{"a": 1}')
    assert summary(run(FORMAT, list(src))) == {
        "content": "Sure.",
        "reasoning": body,
        "calls": [("f", {"a": 1})],
        "errors": [],
    }


def test_prompt_tails() -> None:
    src = "thinking" + END_THINK + v11("f", "{}")
    got = summary(run(FORMAT, [src], generation_prompt="[/INST][THINK]"))
    assert got == {"content": "", "reasoning": "thinking", "calls": [("f", {})], "errors": []}
    plain = summary(run(FORMAT, ["Hi" + v11("f", "{}")], generation_prompt="[INST]q[/INST]"))
    assert plain == {"content": "Hi", "reasoning": "", "calls": [("f", {})], "errors": []}


def test_truncated_reasoning_is_reasoning() -> None:
    events = run(FORMAT, [THINK + "still"])
    assert summary(events)["reasoning"] == "still"
    assert summary(events)["errors"] == ["truncated"]


# -- Magistral 2506: plain-text <think> -----------------------------------------------------

# Magistral Small / Medium 2506 (tokenizer v11, no [THINK] token): the default system
# prompt of the model card asks for "<think>\nYour thoughts ...\n</think>\n\nHere,
# provide a concise summary ...", written with ordinary tokens.
MAGISTRAL = (
    "<think>\nThe user wants the weather in Paris; I should call get_weather.\n</think>\n\n"
    "Let me check the weather." + v11("get_weather", '{"city": "Paris"}')
)


def check(src: str, **options: Any) -> list[Any]:
    """Events of the whole text, after checking that char-by-char and byte-by-byte
    feeding give the same events."""
    whole = run(FORMAT, [src], **options)
    assert coalesce(run(FORMAT, list(src), **options)) == coalesce(whole)
    data = src.encode("utf-8")
    assert coalesce(run(FORMAT, [data[i : i + 1] for i in range(len(data))], **options)) == (
        coalesce(whole)
    )
    return whole


@pytest.mark.parametrize("prompt", [None, "[/INST]"])
def test_magistral_2506_plain_think_at_the_start_is_reasoning(prompt: str | None) -> None:
    """``<think>`` as the first thing of the output opens reasoning (the newlines just
    inside the tags and after ``</think>`` are the template's); then content and calls
    as usual."""
    events = check(MAGISTRAL, generation_prompt=prompt)
    assert summary(events) == {
        "content": "Let me check the weather.",
        "reasoning": "The user wants the weather in Paris; I should call get_weather.",
        "calls": [("get_weather", {"city": "Paris"})],
        "errors": [],
    }
    assert [e.type for e in events[:3]] == ["reasoning_start", "reasoning_delta", "reasoning_end"]


def test_plain_think_prefilled_by_the_prompt_and_cut_short() -> None:
    """A prompt that prefills ``<think>`` starts inside it; reasoning cut by the end of
    the input is still reasoning (and a ``truncated`` error)."""
    src = "\nworking\n</think>\n\nDone."
    got = summary(check(src, generation_prompt="[/INST]<think>"))
    assert got == {"content": "Done.", "reasoning": "working", "calls": [], "errors": []}
    cut = check("<think>\nstill working")
    assert summary(cut)["reasoning"] == "still working"
    assert summary(cut)["errors"] == ["truncated"]


@pytest.mark.parametrize(
    "src",
    [
        "Use <think> tags like this: <think>x</think>",
        THINK + "r" + END_THINK + "<think>x</think>",
        v11("f", "{}") + "<think>x</think>",
        "[THINK]a <think> b[/THINK]",
    ],
)
def test_plain_think_anywhere_else_is_text(src: str) -> None:
    """Only as the first thing of the output is ``<think>`` markup: after text, a
    ``[THINK]`` block or calls it is text (or reasoning text inside ``[THINK]``), so
    [THINK] models and models writing about tags are unchanged."""
    events = check(src)
    assert "<think>" in summary(events)["content"] + summary(events)["reasoning"]
    assert summary(events)["errors"] == []


def test_plain_think_after_a_longer_prompt_tail_is_text() -> None:
    """Documented: only a prompt tail that is ``[/INST]`` (or none) leaves the parser
    at the start of the output; after a longer tail ``<think>`` is text."""
    events = check("<think>x</think>", generation_prompt="[INST]q[/INST]")
    assert summary(events)["content"] == "<think>x</think>"


# -- truncation ----------------------------------------------------------------------------


SAMPLES = {
    "v3": "Hi" + v3({"name": "f", "arguments": {"a": "}"}}, {"name": "g", "arguments": {}}),
    "v11": "Hi" + v11("f", '{"a": "}"}', call_id="abcdefghi") + v11("g", "{}", marker=""),
}


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_truncation_at_every_character(sample: str) -> None:
    """Cut anywhere: the calls whose ``}`` arrived are reported, a cut call never is,
    no marker reaches the content."""
    src = SAMPLES[sample]
    whole = typed(run(FORMAT, [src]), "tool_call")
    assert len(whole) == 2
    for k in range(len(src) + 1):
        cut = src[:k]
        events = run(FORMAT, [cut])
        calls = typed(events, "tool_call")
        assert [c.to_json() for c in calls] == [c.to_json() for c in whole if c.span[1] <= k]
        errors = summary(events)["errors"]
        # a cut inside [TOOL_CALLS] leaves text (the end of input shows it is no
        # marker); after it, the cut call is an error
        if any(c.span[0] + len(TC) <= k < c.span[1] for c in whole):
            assert errors and errors[-1] in ("truncated", "unexpected_text"), (k, errors)
        content = summary(events)["content"]
        partial = content.removeprefix("Hi"[:k])
        assert partial == "" or (cut.endswith(partial) and TC.startswith(partial)), (k, content)
        assert not any(m in content for m in MARKERS), (k, content)
        assert coalesce(run(FORMAT, list(cut))) == coalesce(events)


@pytest.mark.parametrize("before", ["", "Sure.", "Sure. "])
def test_stop_right_after_the_marker(before: str) -> None:
    events = run(FORMAT, [before + TC])
    assert summary(events) == {
        "content": before,
        "reasoning": "",
        "calls": [],
        "errors": ["truncated"],
    }
    assert not typed(events, "tool_call_start")
    assert coalesce(run(FORMAT, list(before + TC))) == coalesce(events)


# -- errors and recovery -------------------------------------------------------------------


MALFORMED = {
    "invalid_json": v11("f", '{"a": }'),
    "arguments_not_object": v11("f", "[1]"),
    "prose_after_marker": TC + " Let me think about it.",
    "name_with_space": TC + "get weather" + ARGS + "{}",
    "no_arguments": TC + "f" + ARGS + "nope",
    "v3_not_json": TC + '[{"name": "f", "arguments": {}} {"name": "g"}]',
    "v3_bad_element": TC + '[{"name": "f", "arguments": 1}]',
    "v3_missing_name": TC + '[{"arguments": {}}]',
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_call_then_good_ones(kind: str) -> None:
    src = (
        "Hi"
        + MALFORMED[kind]
        + v11("good", '{"ok": true}')
        + v3({"name": "later", "arguments": {}})
    )
    events = run(FORMAT, [src])
    got = summary(events)
    assert len(got["errors"]) == 1, got
    # (a v3 element complete before the error stays a call)
    assert got["calls"][-2:] == [("good", {"ok": True}), ("later", {})]
    assert len(got["calls"]) == 2 + (kind == "v3_not_json")
    assert got["content"] == "Hi"
    assert coalesce(run(FORMAT, list(src))) == coalesce(events)


def test_a_bad_array_element_does_not_take_the_rest_of_the_array() -> None:
    """A malformed element is reported; the elements after it still count."""
    src = v3({"name": "f", "arguments": 1}, {"name": "g", "arguments": {}}) + v11("h", "{}")
    got = summary(run(FORMAT, [src]))
    assert got["calls"] == [("g", {}), ("h", {})]
    assert got["errors"] == ["invalid_arguments"]
    broken = '[TOOL_CALLS][{"name": "f", "arguments": {"a": x}}, {"name": "g", "arguments": {}}]'
    got = summary(run(FORMAT, [broken]))
    assert (got["calls"], got["errors"]) == ([("g", {})], ["invalid_json"])


def test_unknown_tools() -> None:
    tools = [{"type": "function", "function": {"name": n}} for n in ("f", "g")]
    src = v3(
        {"name": "f", "arguments": {}},
        {"name": "x", "arguments": {}},
        {"name": "g", "arguments": {}},
    )
    src += v11("y", "{}") + v11("f", '{"a": 1}')
    events = run(FORMAT, [src], tools=tools)
    got = summary(events)
    assert got["calls"] == [("f", {}), ("g", {}), ("f", {"a": 1})]
    assert got["errors"] == ["unknown_tool", "unknown_tool"]
    assert [e.offset for e in typed(events, "error")][1] == src.index(TC + "y")


def test_strict_mode_raises_parse_error() -> None:
    src = "Hi" + v11("f", '{"a": }')
    parser = toolwire.parser(FORMAT, strict=True)
    with pytest.raises(toolwire.ParseError) as info:
        parser.feed(src)
    assert (info.value.code, info.value.offset) == ("invalid_json", src.index("}"))
    assert summary(info.value.events)["content"] == "Hi"


# -- the oracle generator -------------------------------------------------------------------

FRAGMENTS = [
    "[",
    "]",
    "[TOOL",
    "[TOOL_CALLS",
    "[TOOL_CALLS ]",
    "[tool_calls]",
    "[THINK",
    "[/THINK",
    "[ARGS]",
    "[CALL_ID]",
    "{",
    "}",
    ",",
    '"',
    "{}",
    '{"a": 1}',
    "[]",
    " ",
    "\n",
    "\r\n",
    "\t",
    "é",
    "日本",
    "😀",
    "\u2028",
    "\x00",
    "a",
    "x y",
    TC,
    THINK,
    END_THINK,
]


def break_matches(text: str, pattern: re.Pattern[str]) -> str:
    while (m := pattern.search(text)) is not None:
        text = text[: m.start() + 1] + " " + text[m.start() + 1 :]
    return text


raw_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=8).map(
    "".join
)
texts = raw_text.map(lambda s: break_matches(s, OPENERS))
reasonings = raw_text.map(lambda s: break_matches(s, re.compile(re.escape(END_THINK))))
plain_reasonings = raw_text.map(lambda s: break_matches(s, re.compile("</think>")))

json_strings = st.one_of(
    st.text(max_size=6),
    st.sampled_from([*MARKERS, "}", "{", "]", "[", ",", '"', "\\", "😀", "\u2028", "\x00"]),
)
json_keys = st.one_of(st.sampled_from(["a", "id", "name", "arguments", "é", ""]), json_strings)
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
call_ids = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    min_size=9,
    max_size=9,
)
spaces = st.sampled_from(["", "", "", " ", "\n", "  "])


@st.composite
def dumpers(draw: st.DrawFn) -> Any:
    kwargs: dict[str, Any] = {"ensure_ascii": draw(st.booleans())}
    style = draw(st.sampled_from(["compact", "default", "indent"]))
    if style == "compact":
        kwargs["separators"] = (",", ":")
    elif style == "indent":
        kwargs["indent"] = draw(st.integers(0, 2))
    return lambda value: json.dumps(value, **kwargs)


@dataclass
class Doc(OracleDoc):
    """The shared oracle document, plus mistral's calls (start, one delta, tool_call)."""

    prompt: str | None = None

    def call(
        self,
        start_name: str | None,
        name: str,
        args_raw: str,
        span: list[int],
        ids: tuple[str, str],
    ) -> None:
        """``ids``: (id of start and deltas, id of the tool_call)."""
        index = self.index
        self.index += 1
        first, final = ids
        self.events += [
            {"type": "tool_call_start", "index": index, "id": first, "name": start_name},
            {"type": "tool_call_delta", "index": index, "id": first, "text": args_raw},
        ]
        call = {
            "type": "tool_call",
            "index": index,
            "id": final,
            "name": name,
            "arguments": json.loads(args_raw),
            "raw": args_raw,
            "span": span,
        }
        self.events.append(call)
        self.calls.append(call)
        self.after_call = False


def v11_text(draw: st.DrawFn, doc: Doc) -> tuple[str, int, int, Any]:
    """(text, offset of the arguments in it, their length, a recorder of the call)."""
    dump = draw(dumpers())
    name = draw(names)
    call_id = draw(st.one_of(st.none(), call_ids))
    raw = dump(draw(objects))
    marker = draw(st.sampled_from([ARGS, ARGS, ""]))
    lead = draw(spaces) if marker else ""
    head = TC + name + (CALL_ID + call_id if call_id else "") + marker + lead
    start = len(doc.text)

    def record() -> None:
        index = doc.index
        final = call_id or f"call_{index}"
        doc.call(name, name, raw, [start, start + len(head) + len(raw)], (final, final))

    return head + raw, len(head), len(raw), record


def add_v3(draw: st.DrawFn, doc: Doc, close: bool = True) -> None:
    """``[TOOL_CALLS] [{...}, {...}]``: envelopes in any key order, optional Nemo id."""
    dump = draw(dumpers())
    opened = doc.add(TC + draw(spaces) + "[")
    for k in range(draw(st.integers(1, 3))):
        # the first element's call opened at [TOOL_CALLS], later ones after the comma
        # (an element's island begins with the whitespace before its "{")
        island = opened
        if k:
            doc.add(draw(spaces) + ",")
            island = len(doc.text)
        doc.add(draw(spaces))
        name = draw(json_strings)
        raw = dump(draw(objects))
        arg_key = draw(st.sampled_from(["arguments", "parameters"]))
        members = [("name", dump(name)), (arg_key, raw)]
        call_id = draw(st.one_of(st.none(), call_ids))
        if call_id is not None:
            members.append(("id", json.dumps(call_id)))
        order = draw(st.permutations(members))
        colon = draw(st.sampled_from([":", ": ", " : "]))
        comma = draw(st.sampled_from([",", ", ", " ,\n "]))
        body = "{" + comma.join(f'"{key}"{colon}{value}' for key, value in order) + "}"
        keys = [key for key, _ in order]
        at = doc.add(body)
        index = doc.index
        # An id before the arguments is on every event (the start waits for it); one
        # after them reaches only the tool_call.
        early = call_id is not None and keys.index("id") < keys.index(arg_key)
        doc.call(
            name if keys.index("name") < keys.index(arg_key) else None,
            name,
            raw,
            [island, at + len(body)],
            (call_id if early and call_id else f"call_{index}", call_id or f"call_{index}"),
        )
    if close:
        doc.add(draw(spaces) + "]")


@st.composite
def documents(draw: st.DrawFn, tails: bool = True) -> Doc:
    doc = Doc()
    newline_guard = False
    opening = draw(st.integers(0, 5))
    if opening == 0:
        doc.prompt = "[/INST]" + THINK
        body = draw(reasonings)
        doc.add(body + END_THINK)
        doc.block("reasoning", body)
    elif opening == 1:  # Magistral 2506: plain-text <think> first, its newlines markup
        doc.prompt = draw(st.sampled_from([None, "[/INST]"]))
        body = draw(plain_reasonings)
        lead = draw(st.sampled_from(["", "", "\n", " "]))
        sep = draw(st.sampled_from(["", "\n", "\n\n"]))
        doc.add(lead + "<think>" + body + "</think>" + sep)
        doc.block("reasoning", body.strip("\n"))
        # </think> takes up to two newlines: text right after it must not add one
        newline_guard = sep != "\n\n"
    pending = ""
    for kind in [
        *draw(st.lists(st.sampled_from(["text", "think", "v11", "v3"]), max_size=6)),
        "end",
    ]:
        if kind == "text":
            pending += draw(texts)
            continue
        if pending:
            text = break_matches(pending, OPENERS)
            if newline_guard and text[:1] in ("\r", "\n"):
                text = "x" + text
            doc.add(text)
            doc.block("text", text)
            pending = ""
        newline_guard = False
        if kind == "think":
            body = draw(reasonings)
            doc.add(THINK + body + END_THINK)
            doc.block("reasoning", body)
        elif kind == "v11":
            text, _, _, record = v11_text(draw, doc)
            record()
            doc.add(text)
        elif kind == "v3":
            add_v3(draw, doc)
    if tails:
        doc.tail = draw(
            st.sampled_from(["none"] * 3 + ["open_think", "cut_v11", "cut_v3", "open_array"])
        )
    if doc.tail == "open_think":
        body = draw(reasonings)
        doc.add(THINK + body)
        doc.block("reasoning", body)
        doc.error("truncated", len(doc.text))
    elif doc.tail == "open_array":
        add_v3(draw, doc, close=False)
        doc.error("truncated", len(doc.text))
    elif doc.tail == "cut_v11":
        text, at, n, _ = v11_text(draw, doc)
        doc.add(text[: draw(st.integers(len(TC), at + n - 1))])
    elif doc.tail == "cut_v3":
        n = len(doc.events)
        opened = len(doc.text)
        add_v3(draw, doc, close=False)
        doc.text = doc.text[: draw(st.integers(opened + len(TC), len(doc.text) - 1))]
        # elements complete before the cut stay calls; the cut one never is one
        kept = doc.events[:n]
        for k in range(n, len(doc.events), 3):
            if doc.events[k + 2]["span"][1] <= len(doc.text):
                kept += doc.events[k : k + 3]
        doc.events = kept
        doc.calls = [e for e in kept if e["type"] == "tool_call"]
        doc.after_call = doc.after_call and len(kept) == n
    return doc


def check_oracle(doc: Doc, events: list[dict[str, Any]]) -> None:
    events = strip_messages(events)
    if doc.tail == "none":
        assert events == [*doc.events, doc.finish()]
    elif doc.tail in ("open_think", "open_array"):
        assert events == doc.events
    else:
        check_cut(events, doc.events)


@given(doc=documents(), data=st.data())
def test_oracle_events_and_earliest_completion(doc: Doc, data: st.DataObject) -> None:
    """Nothing lost, nothing added: every block, call and error of the document, with
    its offsets, whatever the chunking (str or UTF-8 bytes); each tool_call from the
    feed() that delivers its closing ``}``."""
    feed = partial(check_earliest_completion, doc.text, generation_prompt=doc.prompt)
    chunked_oracle(data, doc.text, feed, partial(check_oracle, doc))


@given(doc=documents())
def test_oracle_char_by_char_and_byte_by_byte(doc: Doc) -> None:
    check = partial(check_oracle, doc)
    whole_char_byte_oracle(FORMAT, doc.text, check, generation_prompt=doc.prompt)


def check_earliest_completion(text: str, chunks: list[Any], **options: Any) -> list[list[Any]]:
    """Each tool_call comes out of the feed() whose chunk holds its closing ``}``;
    returns the events of each feed() and of close()."""
    return earliest_completion(FORMAT, text, chunks, closing_brace, **options)


# -- the grammar-driven generator -------------------------------------------------------


def _generator_grammar() -> Lark:
    """``grammars/mistral.lark`` with one rewrite: a v11 call has a name (without
    one the body is read as an envelope, tested above)."""
    text = (resources.files("toolwire.grammars") / "mistral.lark").read_text("utf-8")
    return Lark(text.replace("NAME?", "NAME"), parser="lalr", lexer="contextual", start="start")


def _pieces(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Adjacent content pieces must not join into a marker: a piece that ends with a
    possible marker start gets a space."""

    def fix(s: str) -> str:
        k = s.rfind("[")
        return s + " " if k >= 0 and any(m.startswith(s[k:]) for m in (TC, THINK, END_THINK)) else s

    return strategy.map(fix)


@st.composite
def elements(draw: st.DrawFn) -> str:
    dump = draw(dumpers())
    members = [("name", dump(draw(json_strings))), ("arguments", dump(draw(objects)))]
    if draw(st.booleans()):
        members.append(("id", json.dumps(draw(call_ids))))
    order = draw(st.permutations(members))
    return draw(spaces) + "{" + ", ".join(f'"{k}": {v}' for k, v in order) + "}"


lark_documents = from_lark(
    _generator_grammar(),
    start="start",
    explicit={
        "TEXT": _pieces(texts),
        "REASONING": _pieces(reasonings),
        "PLAIN_REASONING": plain_reasonings.map(
            lambda s: s + " " if "</think>".startswith(s[s.rfind("<") :] or "x") else s
        ),
        "NAME": names,
        "CALL_ID": call_ids,
        "LAYOUT": st.sampled_from(list(JSON_WS)),
        "ARGS": st.builds(lambda d, o: d(o), dumpers(), objects),
        "ELEMENT": elements(),
        # the `{` that ends a name begins the arguments: ARGS holds it
        "LBRACE": st.just(""),
        "ARRAY_OPEN": st.sampled_from(["[", " [", "\n["]),
    },
)


def check_calls(text: str, events: list[Any]) -> None:
    """Per call: deltas concatenate to raw, raw is the input's text, arguments parse,
    one start before it."""
    for call in typed(events, "tool_call"):
        deltas = [e.text for e in typed(events, "tool_call_delta") if e.index == call.index]
        assert "".join(deltas) == call.raw
        a, b = call.span
        assert call.raw in text[a:b]
        assert call.arguments == json.loads(call.raw)
        starts = [e for e in typed(events, "tool_call_start") if e.index == call.index]
        assert len(starts) == 1 and starts[0].name in (None, call.name)
        assert events.index(starts[0]) < events.index(call)


@given(text=lark_documents, data=st.data())
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
        st.sampled_from([*FRAGMENTS, "add", '"name"', '"arguments"', ": ", "[{", "}]"]),
        st.sampled_from([v11("f", "{}"), v3({"name": "f", "arguments": {}}), TC + "f{"]),
        st.text(max_size=3),
    ),
    max_size=20,
).map("".join)


ARBITRARY_INPUT = ArbitraryInput(
    st.tuples(
        st.just(FORMAT),
        st.one_of(arbitrary_texts, documents().map(lambda d: d.text)),
        st.sampled_from([None, "[/INST]", "[/INST][THINK]"]).map(
            lambda p: {"generation_prompt": p}
        ),
    ),
    check_calls,
)
"""Arbitrary mistral input, checked by tests/test_guarantees.py."""
