"""Readable examples of the ``tags`` format (FORMATS.md section 1, README "Formats"):
what comes out, and when."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import coalesce, run

import toolwire
from tests.oracle import calls, content, reasoning
from toolwire import (
    Finish,
    ReasoningDelta,
    ReasoningEnd,
    ReasoningStart,
    TextDelta,
    TextEnd,
    TextStart,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
)

FORMAT = "tags"


def parse(data: Any, **options: Any) -> list[dict[str, Any]]:
    chunks = data if isinstance(data, list) else [data]
    return coalesce(run(FORMAT, chunks, **options))


# -- FORMATS.md section 1 ------------------------------------------------------------------


def test_reasoning_call_and_answer() -> None:
    src = (
        "<analysis>The user wants row 7.</analysis>\n"
        '<tool_call>{"name": "fetch_row", "arguments": {"id": 7}}</tool_call>\n'
        "<final_answer>Row 7 is ready.</final_answer>"
    )
    start = src.index("<tool_call>")
    end = src.index("}}") + 2
    assert run(FORMAT, [src]) == [
        ReasoningStart(id=0),
        ReasoningDelta(id=0, text="The user wants row 7."),
        ReasoningEnd(id=0),
        TextStart(id=1),
        TextDelta(id=1, text="\n"),
        TextEnd(id=1),
        ToolCallStart(index=0, id="call_0", name="fetch_row"),
        ToolCallDelta(index=0, id="call_0", text='{"id": 7}'),
        ToolCall(
            index=0,
            id="call_0",
            name="fetch_row",
            arguments={"id": 7},
            raw='{"id": 7}',
            span=(start, end),
        ),
        TextStart(id=2),
        TextDelta(id=2, text="\n"),
        TextEnd(id=2),
        TextStart(id=3),
        TextDelta(id=3, text="Row 7 is ready."),
        TextEnd(id=3),
        Finish(reason="stop"),  # the output went on after the call
    ]


@pytest.mark.parametrize(
    ("src", "name", "arguments", "raw"),
    [
        (
            '<tool_call>{"name": "fetch_row", "arguments": {"id": 7}}</tool_call>',
            "fetch_row",
            {"id": 7},
            '{"id": 7}',
        ),
        ('<tool_call>{"id": 7}</tool_call>', None, {"id": 7}, '{"id": 7}'),
        ('<tool_call name="fetch_row">{"id": 7}</tool_call>', "fetch_row", {"id": 7}, '{"id": 7}'),
        ('<tool_call>{"name": "ping", "parameters": {}}</tool_call>', "ping", {}, "{}"),
        (
            '<tool_call>{"arguments": {"id": 7}, "name": "fetch_row"}</tool_call>',
            "fetch_row",
            {"id": 7},
            '{"id": 7}',
        ),
        (
            '<tool_call>\n  {"name": "ping",\n   "arguments": {"host": "a"}}\n</tool_call>',
            "ping",
            {"host": "a"},
            '{"host": "a"}',
        ),
        (
            '<tool_call\n  name="ping"\n>\n{"host": "a"}\n</tool_call>',
            "ping",
            {"host": "a"},
            '{"host": "a"}',
        ),
    ],
    ids=["envelope", "bare", "named", "parameters", "name-last", "whitespace", "named-ws"],
)
def test_call_shapes(src: str, name: str | None, arguments: Any, raw: str) -> None:
    events = run(FORMAT, [src])
    (call,) = calls(events)
    assert (call.name, call.arguments, call.raw) == (name, arguments, raw)
    assert call.span == (0, src.rindex("}") + 1)
    assert events[-1] == Finish(reason="tool_calls")
    assert not [e for e in events if e.type == "error"]


def test_name_after_arguments_is_known_only_at_the_end() -> None:
    events = run(FORMAT, ['<tool_call>{"arguments": {"id": 7}, "name": "fetch_row"}</tool_call>'])
    assert events[0] == ToolCallStart(index=0, id="call_0", name=None)
    assert calls(events)[0].name == "fetch_row"


def test_bare_object_with_its_own_name_key_later() -> None:
    """The first key decides: here the body is the arguments, ``name`` one of them."""
    (call,) = calls(run(FORMAT, ['<tool_call>{"id": 7, "name": "x", "arguments": 1}</tool_call>']))
    assert call.name is None
    assert call.arguments == {"id": 7, "name": "x", "arguments": 1}


def test_named_tag_body_is_always_the_arguments() -> None:
    src = '<tool_call name="log">{"name": "n", "arguments": {"a": 1}}</tool_call>'
    (call,) = calls(run(FORMAT, [src]))
    assert call.name == "log"
    assert call.arguments == {"name": "n", "arguments": {"a": 1}}


def test_empty_arguments() -> None:
    (call,) = calls(run(FORMAT, ["<tool_call>{}</tool_call>"]))
    assert (call.name, call.arguments, call.raw) == (None, {}, "{}")


def test_text_outside_tags_is_visible_verbatim() -> None:
    src = "  Hello,\r\n<analysis>x</analysis>\n\n world  "
    events = run(FORMAT, [src])
    assert content(events) == "  Hello,\r\n\n\n world  "
    assert reasoning(events) == "x"


def test_empty_blocks_emit_nothing() -> None:
    assert parse("<analysis></analysis><final_answer></final_answer>") == [
        {"type": "finish", "reason": "stop", "raw_reason": None, "usage": None}
    ]


def test_block_ids_count_up_across_kinds() -> None:
    events = run(FORMAT, ["a<analysis>b</analysis>c<final_answer>d</final_answer>"])
    starts = [(type(e).__name__, e.id) for e in events if isinstance(e, TextStart | ReasoningStart)]
    assert starts == [("TextStart", 0), ("ReasoningStart", 1), ("TextStart", 2), ("TextStart", 3)]


def test_finish_reason() -> None:
    """``tool_calls`` when the output ends with calls (whitespace aside): text or
    reasoning after the last call means the model went on instead of waiting."""
    assert run(FORMAT, ["just text"])[-1] == Finish(reason="stop")
    assert run(FORMAT, [""]) == [Finish(reason="stop")]
    ends_with_calls = 'Let me look.<tool_call>{}</tool_call>\n<tool_call>{"a": 1}</tool_call>\n'
    assert run(FORMAT, [ends_with_calls])[-1] == Finish(reason="tool_calls")
    went_on = "<tool_call>{}</tool_call> The result is 42."
    assert run(FORMAT, [went_on])[-1] == Finish(reason="stop")
    reasoned_on = "<tool_call>{}</tool_call><analysis>hm</analysis>"
    assert run(FORMAT, [reasoned_on])[-1] == Finish(reason="stop")


@pytest.mark.parametrize(
    "chunks",
    [
        ["<tool_call>{}</tool_call>", " ", "abc"],
        ["<tool_call>{}</tool_call>\n", "abc"],
        ["<tool_call>{}</tool_call><final_answer>", " ", "42", "</final_answer>"],
        ["<tool_call>{}</tool_call><analysis>", "\n", "more thought", "</analysis>"],
    ],
)
def test_finish_reason_does_not_depend_on_the_chunking(chunks: list[str]) -> None:
    assert parse(chunks) == parse("".join(chunks))
    assert parse(chunks)[-1]["reason"] == "stop"


# -- tags mentioned where they are not tags ---------------------------------------------------


def test_markers_inside_reasoning_stay_reasoning() -> None:
    body = (
        'I could emit <tool_call>{"name": "x", "arguments": {}}</tool_call> here, '
        "then <final_answer>maybe</final_answer>, or <analysis> again; </tool_call>"
    )
    events = run(FORMAT, ["<analysis>" + body + "</analysis>"])
    assert reasoning(events) == body
    assert not calls(events)
    assert not [e for e in events if e.type in ("error", "tool_call_start", "text_delta")]


def test_markers_inside_final_answer_stay_text() -> None:
    body = "Use <tool_call> and </tool_call>; reasoning goes in <analysis></analysis>."
    events = run(FORMAT, ["<final_answer>" + body + "</final_answer>"])
    assert content(events) == body
    assert not [e for e in events if e.type in ("error", "tool_call_start")]


def test_markers_inside_json_strings_are_argument_text() -> None:
    args = '{"html": "</tool_call><analysis>}{", "n": "\\"}</tool_call>"}'
    src = "<tool_call>" + args + "</tool_call>after"
    events = run(FORMAT, [src])
    (call,) = calls(events)
    assert call.raw == args
    assert call.arguments == {"html": "</tool_call><analysis>}{", "n": '"}</tool_call>'}
    assert content(events) == "after"


def test_near_miss_tags_are_text() -> None:
    src = "<tool_calls> < analysis> <final-answer> <TOOL_CALL> <tool_call/> <analysis_> a<b"
    events = run(FORMAT, [src])
    assert parse(src) == [
        {"type": "text_start", "id": 0},
        {"type": "text_delta", "id": 0, "text": src},
        {"type": "text_end", "id": 0},
        {"type": "finish", "reason": "stop", "raw_reason": None, "usage": None},
    ]
    assert parse(list(src)) == coalesce(events)


# -- what comes out of each feed --------------------------------------------------------------


def test_text_that_cannot_become_a_tag_is_emitted_at_once() -> None:
    parser = toolwire.parser(FORMAT)
    assert parser.feed("a <b") == [TextStart(id=0), TextDelta(id=0, text="a <b")]
    assert parser.feed("> c <") == [TextDelta(id=0, text="> c ")]  # "<" may start a tag
    assert parser.feed("<") == [TextDelta(id=0, text="<")]  # "<<": the first cannot
    assert parser.close() == [TextDelta(id=0, text="<"), TextEnd(id=0), Finish(reason="stop")]


def test_possible_tag_prefix_is_held_then_released_as_text() -> None:
    parser = toolwire.parser(FORMAT)
    assert parser.feed("a <tool") == [TextStart(id=0), TextDelta(id=0, text="a ")]
    assert content(parser.feed("s are fun")) == "<tools are fun"
    assert parser.close() == [TextEnd(id=0), Finish(reason="stop")]


def test_possible_tag_prefix_is_held_then_becomes_a_tag() -> None:
    parser = toolwire.parser(FORMAT)
    assert parser.feed("a <tool") == [TextStart(id=0), TextDelta(id=0, text="a ")]
    assert parser.feed("_ca") == []
    assert parser.feed("ll>") == [TextEnd(id=0)]
    out = parser.feed('{"q": 1}')
    assert [type(e) for e in out] == [ToolCallStart, ToolCallDelta, ToolCall]
    assert parser.feed("</tool_call>") == []
    assert parser.close() == [Finish(reason="tool_calls")]


def test_closer_prefix_in_reasoning_is_held_only_while_it_can_be_the_closer() -> None:
    parser = toolwire.parser(FORMAT)
    assert reasoning(parser.feed("<analysis>x </anal")) == "x "
    assert reasoning(parser.feed("ogy")) == "</analogy"
    assert [type(e) for e in parser.feed("</analysis>")] == [ReasoningEnd]


def test_tool_call_comes_out_of_the_feed_with_its_closing_brace() -> None:
    parser = toolwire.parser(FORMAT)
    assert parser.feed('<tool_call>{"name": "ping", "arguments": {"host": "a"}') == [
        ToolCallStart(index=0, id="call_0", name="ping"),
        ToolCallDelta(index=0, id="call_0", text='{"host": "a"}'),
    ]
    (call,) = parser.feed("}")
    end = len('<tool_call>{"name": "ping", "arguments": {"host": "a"}}')
    assert call == ToolCall(
        index=0,
        id="call_0",
        name="ping",
        arguments={"host": "a"},
        raw='{"host": "a"}',
        span=(0, end),
    )
    assert parser.feed(" \n</tool_call>") == []
    assert parser.close() == [Finish(reason="tool_calls")]


def test_bare_call_completes_at_its_brace_even_if_the_closing_tag_never_comes() -> None:
    parser = toolwire.parser(FORMAT)
    out = parser.feed('<tool_call>{"a": [1, {"b": 2}]}')
    assert calls(out)[0].arguments == {"a": [1, {"b": 2}]}


def test_argument_text_streams_as_it_arrives() -> None:
    parser = toolwire.parser(FORMAT)
    assert parser.feed('<tool_call name="write">{"text": "Hel') == [
        ToolCallStart(index=0, id="call_0", name="write"),
        ToolCallDelta(index=0, id="call_0", text='{"text": "Hel'),
    ]
    assert parser.feed("lo, ") == [ToolCallDelta(index=0, id="call_0", text="lo, ")]
    assert parser.feed('wor\\"ld\\n') == [ToolCallDelta(index=0, id="call_0", text='wor\\"ld\\n')]
    out = parser.feed('"}</tool_call>')
    assert out[0] == ToolCallDelta(index=0, id="call_0", text='"}')
    assert calls(out)[0].arguments == {"text": 'Hello, wor"ld\n'}


def test_envelope_streams_only_the_arguments() -> None:
    parser = toolwire.parser(FORMAT)
    assert parser.feed('<tool_call>{"name": "wri') == []  # the shape is not known yet
    assert parser.feed('te", "arguments": {"te') == [
        ToolCallStart(index=0, id="call_0", name="write"),
        ToolCallDelta(index=0, id="call_0", text='{"te'),
    ]
    assert parser.feed('xt": "x"}') == [ToolCallDelta(index=0, id="call_0", text='xt": "x"}')]
    out = parser.feed("}</tool_call>")
    assert [type(e) for e in out] == [ToolCall]


def test_bare_arguments_with_a_later_arguments_key_stream_as_they_arrive() -> None:
    """A bare object may hold an ``arguments`` key of its own: what follows it is
    argument text too, delivered in the feed that brings it."""
    parser = toolwire.parser(FORMAT)
    out = parser.feed('<tool_call>{"a": 1, "arguments": {"x": 1}, "b": "lo')
    assert "".join(e.text for e in out if isinstance(e, ToolCallDelta)) == (
        '{"a": 1, "arguments": {"x": 1}, "b": "lo'
    )
    out = parser.feed('ng"}')
    assert [e for e in out if isinstance(e, ToolCallDelta)] == [
        ToolCallDelta(index=0, id="call_0", text='ng"}')
    ]
    assert calls(out)[0].raw == '{"a": 1, "arguments": {"x": 1}, "b": "long"}'


def test_several_calls_in_one_chunk() -> None:
    src = (
        'Let me check.<tool_call>{"name": "a", "arguments": {}}</tool_call>'
        '<tool_call name="b">{"k": [1]}</tool_call>\n'
        '<tool_call>{"z": null}</tool_call>Done.'
    )
    parser = toolwire.parser(FORMAT)
    out = parser.feed(src)
    assert [(c.index, c.id, c.name, c.arguments) for c in calls(out)] == [
        (0, "call_0", "a", {}),
        (1, "call_1", "b", {"k": [1]}),
        (2, "call_2", None, {"z": None}),
    ]
    assert content(out) == "Let me check.\nDone."
    assert parser.close()[-1] == Finish(reason="stop")


def test_feeding_nothing_changes_nothing() -> None:
    parser = toolwire.parser(FORMAT)
    assert parser.feed("") == []
    assert parser.feed(b"") == []
    parser.feed('<tool_call>{"a": "x')
    assert parser.feed("") == []
    parser.feed('"}</tool_call>')
    assert parser.feed("") == []
    assert parser.close() == [Finish(reason="tool_calls")]


def test_close_twice_and_feed_after_close() -> None:
    parser = toolwire.parser(FORMAT)
    parser.feed("x")
    assert parser.close()[-1] == Finish(reason="stop")
    assert parser.close() == []
    with pytest.raises(ValueError):
        parser.feed("y")


# -- realistic streams, whole and one character at a time ---------------------------------------

REALISTIC = (
    "<analysis>The user asks whether to take an umbrella in São Paulo tomorrow.\r\n"
    "I'll call get_weather; a <tool_call> written here is only a mention.</analysis>\n"
    '<tool_call>\n{"name": "get_weather", "arguments": {"location": {"city": "São Paulo", '
    '"country": "BR"}, "units": "metric", "note": "say \\"hi\\" </tool_call> 😀", '
    '"forecast": {"days": 2, "fields": ["temperature", "precipitation"]}, "p": -1.5e-3}}\n'
    "</tool_call>\n"
    '<tool_call name="get_time">{"tz": "America/Sao_Paulo"}</tool_call>'
    "<final_answer>Yes: 24 °C with an 80 % chance of rain after 15:00 — take an umbrella ☔."
    "</final_answer>\n"
)


def test_realistic_stream() -> None:
    events = run(FORMAT, [REALISTIC])
    assert not [e for e in events if e.type == "error"]
    weather, time = calls(events)
    assert weather.name == "get_weather"
    assert weather.arguments["location"] == {"city": "São Paulo", "country": "BR"}
    assert weather.arguments["note"] == 'say "hi" </tool_call> 😀'
    assert REALISTIC[weather.span[0] : weather.span[1]].startswith("<tool_call>\n{")
    assert (time.name, time.arguments) == ("get_time", {"tz": "America/Sao_Paulo"})
    assert "a <tool_call> written here" in reasoning(events)
    assert content(events).startswith("\n")
    assert content(events).endswith("take an umbrella ☔.\n")


def test_one_char_at_a_time_equals_the_whole() -> None:
    whole = parse(REALISTIC)
    assert parse(list(REALISTIC)) == whole
    data = REALISTIC.encode("utf-8")
    assert parse([data[i : i + 1] for i in range(len(data))]) == whole
    assert parse([data[i : i + 3] for i in range(0, len(data), 3)]) == whole


def test_one_char_at_a_time_equals_the_whole_with_errors() -> None:
    src = REALISTIC + (
        '<tool_call>{"a": 1,}</tool_call> </analysis> <tool_call>{"b": 2} x</tool_call>'
        "<analysis>cut"
    )
    whole = parse(src)
    assert [e["code"] for e in whole if e["type"] == "error"] == [
        "invalid_json",
        "unexpected_tag",
        "unexpected_text",
        "truncated",
    ]
    assert parse(list(src)) == whole


@pytest.mark.parametrize("name", ["weather.tags", "malformed.tags"])
def test_bundled_examples_are_chunk_invariant(name: str) -> None:
    path = Path(__file__).resolve().parents[1] / "examples" / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    data = path.read_bytes()
    whole = parse(data)
    assert parse([data[i : i + 1] for i in range(len(data))]) == whole
    assert all(e["code"] != "internal_error" for e in whole if e["type"] == "error")


# -- generation prompt ------------------------------------------------------------------------


def test_generation_prompt_starts_inside_reasoning() -> None:
    assert parse("abc</analysis>x", generation_prompt="<analysis>") == [
        {"type": "reasoning_start", "id": 0},
        {"type": "reasoning_delta", "id": 0, "text": "abc"},
        {"type": "reasoning_end", "id": 0},
        {"type": "text_start", "id": 1},
        {"type": "text_delta", "id": 1, "text": "x"},
        {"type": "text_end", "id": 1},
        {"type": "finish", "reason": "stop", "raw_reason": None, "usage": None},
    ]


def test_generation_prompt_offsets_count_from_the_output() -> None:
    src = 'abc</analysis><tool_call>{"a": 1}</tool_call>\n</final_answer>'
    events = run(FORMAT, [src], generation_prompt="<analysis>")
    assert calls(events)[0].span == (14, 33)
    (error,) = [e for e in events if e.type == "error"]
    assert (error.code, error.offset, error.line, error.column) == ("unexpected_tag", 46, 2, 1)


def test_generation_prompt_with_a_whole_template_tail() -> None:
    prompt = "<final_answer>done</final_answer>\n<analysis>"
    events = run(FORMAT, ["still thinking"], generation_prompt=prompt)
    assert reasoning(events) == "still thinking"
    assert events[0] == ReasoningStart(id=0)
    assert [e.code for e in events if e.type == "error"] == ["truncated"]


def test_generation_prompt_ending_with_a_named_call_tag_keeps_the_name() -> None:
    """A prompt that forces a tool (``<tool_call name="f">`` prefilled): the output is
    the body, which is then always the arguments, of a call named ``f``."""
    body = '{"name": "x", "arguments": {}}'
    events = run(FORMAT, [body + "</tool_call>"], generation_prompt='<tool_call name="f">')
    assert events[0] == ToolCallStart(index=0, id="call_0", name="f")
    (call,) = calls(events)
    assert (call.name, call.arguments, call.raw, call.span) == (
        "f",
        {"name": "x", "arguments": {}},
        body,
        (0, len(body)),
    )


def test_generation_prompt_ending_inside_a_tag() -> None:
    """A prompt tail cut inside ``<analysis>``: the output's ``>`` completes the tag."""
    events = run(FORMAT, [">abc</analysis>x"], generation_prompt="<analysis")
    assert (reasoning(events), content(events)) == ("abc", "x")
    assert not [e for e in events if e.type == "error"]


def test_without_generation_prompt_the_closer_is_stray() -> None:
    events = run(FORMAT, ["abc</analysis>x"])
    assert content(events) == "abcx"
    assert [(e.code, e.offset) for e in events if e.type == "error"] == [("unexpected_tag", 3)]


# -- toolwire.parse ----------------------------------------------------------------------------


def _chunks() -> Iterator[bytes]:
    data = REALISTIC.encode("utf-8")
    for i in range(0, len(data), 5):
        yield data[i : i + 5]


def test_parse_accepts_str_bytes_and_iterables() -> None:
    expected = coalesce(toolwire.parse(REALISTIC, FORMAT))
    assert coalesce(toolwire.parse(REALISTIC.encode("utf-8"), FORMAT)) == expected
    assert coalesce(toolwire.parse(list(REALISTIC), FORMAT)) == expected
    assert coalesce(toolwire.parse(_chunks(), FORMAT)) == expected
    assert coalesce(toolwire.parse(iter([REALISTIC[:40], REALISTIC[40:]]), FORMAT)) == expected
    assert toolwire.parse([], FORMAT) == [Finish(reason="stop")]


def test_parse_passes_options() -> None:
    with pytest.raises(toolwire.ParseError):
        toolwire.parse("x </tool_call>", FORMAT, strict=True)
    events = toolwire.parse("x</analysis>", FORMAT, generation_prompt="<analysis>")
    assert reasoning(events) == "x"


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        toolwire.parser("no-such-format")
    assert FORMAT in toolwire.formats()


def test_events_serialise_with_snake_case_types() -> None:
    types = {e["type"] for e in parse(REALISTIC)}
    assert types == {
        "reasoning_start",
        "reasoning_delta",
        "reasoning_end",
        "text_start",
        "text_delta",
        "text_end",
        "tool_call_start",
        "tool_call_delta",
        "tool_call",
        "finish",
    }
