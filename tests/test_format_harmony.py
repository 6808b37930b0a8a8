"""The ``harmony`` format (gpt-oss; FORMATS.md sections 4 and 12).

Examples for every header variant and each decision of ``toolwire.formats.harmony``,
then property tests over two generators:

* ``conversations()`` builds a stream message by message (every header variant,
  bodies full of marker text, closers present or stripped) and records the exact
  events it must produce: the oracle for "nothing lost";
* ``lark_streams`` derives streams from ``grammars/harmony.lark`` itself
  (``hypothesis.extra.lark.from_lark``) with explicit strategies for the declared
  terminals: used for chunk invariance and earliest completion.

The corpus cases (``../shared/corpus/models/harmony``) run in
``tests/test_corpus_models.py``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark, Token
from lark.exceptions import UnexpectedInput

import toolwire
from tests import oracle
from tests.conftest import chunkings, coalesce, run
from tests.oracle import ArbitraryInput, calls, chunk_holding, content, reasoning
from toolwire import (
    Error,
    Finish,
    ParseError,
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
from toolwire.registry import compiled

FORMAT = "harmony"
PROMPT = "<|start|>assistant"
TOOLS = [
    {"type": "function", "function": {"name": n, "parameters": {"type": "object"}}}
    for n in ("fetch_row", "ping")
]


def parse(data: str | list[Any], **options: Any) -> list[Any]:
    return run(FORMAT, data if isinstance(data, list) else [data], **options)


def errors(events: list[Any]) -> list[str]:
    return [e.code for e in events if isinstance(e, Error)]


def feed_each(chunks: list[Any], **options: Any) -> list[list[Any]]:
    """The events of every feed() (one list per chunk) and, last, of close()."""
    return oracle.feed_each(FORMAT, chunks, **options)


# -- FORMATS.md section 4: the spec's example -----------------------------------------


def test_spec_example_reasoning_then_call_without_the_stop_token() -> None:
    src = (
        "<|channel|>analysis<|message|>Need row 7.<|end|>"
        "<|start|>assistant<|channel|>commentary to=functions.fetch_row "
        '<|constrain|>json<|message|>{"id":7}'
    )
    start = src.index(" to=functions.")
    assert parse(src, generation_prompt=PROMPT) == [
        ReasoningStart(id=0),
        ReasoningDelta(id=0, text="Need row 7."),
        ReasoningEnd(id=0),
        ToolCallStart(index=0, id="call_0", name="fetch_row"),
        ToolCallDelta(index=0, id="call_0", text='{"id":7}'),
        ToolCall(
            index=0,
            id="call_0",
            name="fetch_row",
            arguments={"id": 7},
            raw='{"id":7}',
            span=(start, len(src)),
        ),
        Finish(reason="tool_calls"),
    ]


# -- header variants ---------------------------------------------------------------------

CTYPES = ["", " <|constrain|>json", "<|constrain|>json", " json", " code", " <|constrain|>"]
CHANNELS = ["commentary", "analysis", "final"]
OPENINGS = {
    # how the output begins -> the generation prompt it is given with
    "": PROMPT,
    "<|start|>assistant": None,
}


@pytest.mark.parametrize("opening", list(OPENINGS))
@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("ctype", CTYPES)
@pytest.mark.parametrize("in_role", [False, True], ids=["after-channel", "after-role"])
def test_every_header_variant_is_a_call(
    opening: str, channel: str, ctype: str, in_role: bool
) -> None:
    recipient = " to=functions.fetch_row"
    if in_role:
        header = f"{opening}{recipient}<|channel|>{channel}{ctype}<|message|>"
    else:
        header = f"{opening}<|channel|>{channel}{recipient}{ctype}<|message|>"
    src = header + '{"id": 7}'
    for data in (src, list(src), src + "<|call|>", src + "<|end|>"):
        events = parse(data, generation_prompt=OPENINGS[opening])
        assert errors(events) == []
        assert [(c.name, c.arguments, c.raw) for c in calls(events)] == [
            ("fetch_row", {"id": 7}, '{"id": 7}')
        ]
        assert calls(events)[0].span == (src.index(recipient), len(src))
        assert content(events) == reasoning(events) == ""


def test_header_without_prompt_may_start_inside_the_header() -> None:
    """Without ``generation_prompt`` the output may begin with ``<|start|>assistant``,
    a channel, or a recipient: all three are accepted."""
    for src in (
        "<|start|>assistant<|channel|>final<|message|>Hi",
        "<|channel|>final<|message|>Hi",
    ):
        assert content(parse(src)) == "Hi"
        assert errors(parse(src)) == []
    src = ' to=functions.ping<|channel|>commentary json<|message|>{"a": 1}'
    assert [c.name for c in calls(parse(src))] == ["ping"]


def test_start_is_optional_between_messages() -> None:
    """Models omit ``<|start|>assistant`` between messages: accepted silently."""
    src = (
        "<|channel|>analysis<|message|>a<|end|>"
        "<|channel|>commentary<|message|>b<|end|>"
        ' to=functions.ping<|channel|>commentary<|message|>{"x": 1}<|call|>'
        "<|channel|>final<|message|>c<|return|>"
    )
    events = parse(src, generation_prompt=PROMPT)
    assert errors(events) == []
    assert reasoning(events) == "a"
    assert content(events) == "bc"
    assert [c.arguments for c in calls(events)] == [{"x": 1}]


def test_name_is_everything_after_the_first_functions_prefix() -> None:
    src = "<|channel|>commentary to=functions.functions.x-y.z_1<|message|>{}"
    assert [c.name for c in calls(parse(src, generation_prompt=PROMPT))] == ["functions.x-y.z_1"]


def test_name_ends_at_the_next_special_token_not_later() -> None:
    """vLLM #32587: text parsing that ends the name too late yields
    ``fetch_row<|channel|>commentary``; here the name ends at ``<``."""
    src = ' to=functions.fetch_row<|channel|>commentary<|message|>{"id": 1}'
    assert [c.name for c in calls(parse(list(src), generation_prompt=PROMPT))] == ["fetch_row"]


def test_space_before_message() -> None:
    src = "<|channel|>commentary to=functions.ping <|message|>{}"
    assert [c.name for c in calls(parse(src, generation_prompt=PROMPT))] == ["ping"]


# -- channels -----------------------------------------------------------------------------


def test_channels_map_to_reasoning_and_text_blocks() -> None:
    src = (
        "<|channel|>analysis<|message|>think<|end|>"
        "<|start|>assistant<|channel|>commentary<|message|>Checking.<|end|>"
        "<|start|>assistant<|channel|>final<|message|>Done.<|return|>"
    )
    assert parse(src, generation_prompt=PROMPT) == [
        ReasoningStart(id=0),
        ReasoningDelta(id=0, text="think"),
        ReasoningEnd(id=0),
        TextStart(id=1),
        TextDelta(id=1, text="Checking."),
        TextEnd(id=1),
        TextStart(id=2),
        TextDelta(id=2, text="Done."),
        TextEnd(id=2),
        Finish(reason="stop"),
    ]


def test_preamble_then_call() -> None:
    """A commentary message without recipient is a user-visible preamble."""
    src = (
        "<|channel|>commentary<|message|>Let me look that up.<|end|>"
        '<|start|>assistant<|channel|>commentary to=functions.fetch_row json<|message|>{"id": 3}'
    )
    events = parse(src, generation_prompt=PROMPT)
    assert content(events) == "Let me look that up."
    assert [(c.name, c.arguments) for c in calls(events)] == [("fetch_row", {"id": 3})]
    assert errors(events) == []


def test_call_on_the_analysis_channel() -> None:
    src = (
        "<|channel|>analysis<|message|>hmm<|end|><|start|>assistant"
        '<|channel|>analysis to=functions.ping <|constrain|>json<|message|>{"host": "a"}'
    )
    events = parse(src, generation_prompt=PROMPT)
    assert reasoning(events) == "hmm"
    assert [(c.name, c.arguments) for c in calls(events)] == [("ping", {"host": "a"})]


def test_bodies_are_exact() -> None:
    """No template whitespace inside Harmony messages: nothing is trimmed."""
    src = (
        "<|channel|>analysis<|message|>\n  think \n<|end|>"
        "<|start|>assistant<|channel|>final<|message|>\n\n answer \n<|return|>"
    )
    events = parse(src, generation_prompt=PROMPT)
    assert reasoning(events) == "\n  think \n"
    assert content(events) == "\n\n answer \n"


def test_empty_bodies_are_absent() -> None:
    src = "<|channel|>analysis<|message|><|end|><|start|>assistant<|channel|>final<|message|>"
    assert parse(src, generation_prompt=PROMPT) == [Finish(reason="stop")]


def test_every_message_is_its_own_block() -> None:
    src = "<|channel|>analysis<|message|>a<|end|><|channel|>analysis<|message|>b<|end|>"
    events = parse(src, generation_prompt=PROMPT)
    assert [e.id for e in events if isinstance(e, ReasoningStart)] == [0, 1]


def test_final_message_cut_by_max_tokens_is_still_content() -> None:
    src = "<|channel|>analysis<|message|>a<|end|><|start|>assistant<|channel|>final<|message|>I am"
    events = parse(src, generation_prompt=PROMPT)
    assert (reasoning(events), content(events), errors(events)) == ("a", "I am", [])


def test_unknown_channel_is_an_error_and_the_message_is_dropped() -> None:
    src = (
        "<|channel|>analysys<|message|>lost<|end|><|start|>assistant<|channel|>final<|message|>kept"
    )
    events = parse(src, generation_prompt=PROMPT)
    assert errors(events) == ["unexpected_text"]
    assert content(events) == "kept"
    assert reasoning(events) == ""


# -- calls -----------------------------------------------------------------------------------


def test_call_then_final_when_stop_tokens_are_ignored() -> None:
    src = (
        "<|channel|>analysis<|message|>r<|end|>"
        "<|start|>assistant to=functions.ping<|channel|>commentary<|constrain|>json<|message|>"
        '{"a": 1}<|call|>'
        '<|start|>assistant<|channel|>commentary to=functions.fetch_row<|message|>{"id": 2}<|call|>'
        "<|start|>assistant<|channel|>final<|message|>Done<|return|>"
    )
    events = parse(src, generation_prompt=PROMPT)
    assert errors(events) == []
    assert [(c.index, c.id, c.name, c.arguments) for c in calls(events)] == [
        (0, "call_0", "ping", {"a": 1}),
        (1, "call_1", "fetch_row", {"id": 2}),
    ]
    assert content(events) == "Done"
    # the model went on after its calls instead of waiting for their results
    assert events[-1] == Finish(reason="stop")


def test_call_closed_by_end_or_followed_directly_by_the_next_message() -> None:
    for sep in ("<|end|>", "", " \n", "\n<|call|>"):
        src = (
            f'<|channel|>commentary to=functions.ping<|message|>{{"a": 1}}{sep}'
            "<|start|>assistant<|channel|>final<|message|>ok"
        )
        events = parse(src, generation_prompt=PROMPT)
        assert errors(events) == [], sep
        assert [c.arguments for c in calls(events)] == [{"a": 1}]
        assert content(events) == "ok"


def test_tool_call_comes_out_of_the_feed_with_the_closing_brace() -> None:
    head = '<|channel|>commentary to=functions.fetch_row <|constrain|>json<|message|>{"id": 7'
    parser = toolwire.parser(FORMAT, generation_prompt=PROMPT)
    first = parser.feed(head)
    assert [type(e) for e in first] == [ToolCallStart, ToolCallDelta]
    assert calls(first) == []
    second = parser.feed("}")
    assert [(c.name, c.arguments) for c in calls(second)] == [("fetch_row", {"id": 7})]
    assert parser.feed("<|call|>") == []
    assert parser.close() == [Finish(reason="tool_calls")]


def test_tool_call_start_comes_when_the_name_ends() -> None:
    parser = toolwire.parser(FORMAT, generation_prompt=PROMPT)
    assert parser.feed("<|channel|>commentary to=functions.fetch_r") == []
    assert parser.feed("ow") == []
    assert parser.feed("<|constrain|>json") == [
        ToolCallStart(index=0, id="call_0", name="fetch_row")
    ]


def test_argument_deltas_concatenate_to_raw() -> None:
    src = '<|channel|>commentary to=functions.ping<|message|>{"host": "a.b", "n": [1, 2]}'
    for chunks in ([src], list(src), [src[:60], src[60:70], src[70:]]):
        events = parse(chunks, generation_prompt=PROMPT)
        raw = "".join(e.text for e in events if isinstance(e, ToolCallDelta))
        assert raw == calls(events)[0].raw == '{"host": "a.b", "n": [1, 2]}'


def test_text_after_the_json_body_is_an_error_the_call_stands() -> None:
    src = (
        '<|channel|>commentary to=functions.ping<|message|>{"a": 1} trailing<|call|>'
        "<|start|>assistant<|channel|>final<|message|>ok"
    )
    events = parse(src, generation_prompt=PROMPT)
    assert [c.arguments for c in calls(events)] == [{"a": 1}]
    assert errors(events) == ["unexpected_text"]
    assert content(events) == "ok"


def test_invalid_json_body_is_an_error_and_parsing_goes_on() -> None:
    src = (
        "<|channel|>commentary to=functions.ping<|message|>{'a': 1}<|call|>"
        '<|start|>assistant<|channel|>commentary to=functions.ping<|message|>{"a": 2}<|call|>'
    )
    events = parse(src, generation_prompt=PROMPT)
    assert errors(events) == ["invalid_json"]
    assert [c.arguments for c in calls(events)] == [{"a": 2}]


def test_body_that_is_not_an_object_is_invalid_arguments() -> None:
    src = "<|channel|>commentary to=functions.ping<|message|>[1]<|call|>"
    events = parse(src, generation_prompt=PROMPT)
    assert errors(events) == ["invalid_arguments"]
    assert calls(events) == []


def test_unknown_tool_is_an_error_and_other_calls_survive() -> None:
    src = (
        '<|channel|>commentary to=functions.fetch_row<|message|>{"id": 1}<|call|>'
        "<|start|>assistant<|channel|>commentary to=functions.drop_table<|message|>"
        '{"t": "x"}<|call|>'
        '<|start|>assistant<|channel|>analysis to=functions.ping<|message|>{"h": "y"}<|call|>'
        "<|start|>assistant<|channel|>final<|message|>ok"
    )
    events = parse(src, generation_prompt=PROMPT, tools=TOOLS)
    errs = [e for e in events if isinstance(e, Error)]
    assert [e.code for e in errs] == ["unknown_tool"]
    assert errs[0].offset == src.index(" to=functions.drop_table")
    assert "drop_table" in errs[0].message
    assert [(c.index, c.name) for c in calls(events)] == [(0, "fetch_row"), (2, "ping")]
    assert content(events) == "ok"
    with pytest.raises(ParseError) as info:
        parse(src, generation_prompt=PROMPT, tools=TOOLS, strict=True)
    assert info.value.code == "unknown_tool"
    assert [c.name for c in calls(info.value.events)] == ["fetch_row"]


def test_second_recipient_is_an_error() -> None:
    src = (
        "<|start|>assistant to=functions.ping<|channel|>commentary to=functions.fetch_row"
        '<|message|>{"a": 1}'
    )
    events = parse(src)
    assert errors(events)
    assert calls(events) == []


# -- truncation -------------------------------------------------------------------------------

PRIOR = "<|channel|>analysis<|message|>Need row 7.<|end|>"
HEADER = (
    "<|start|>assistant<|channel|>commentary to=functions.fetch_row <|constrain|>json<|message|>"
)
BODY = '{"id": 7, "q": "a}<|call|>b", "n": [1, {"x": null}]}'


@pytest.mark.parametrize("cut", range(1, len(HEADER) + 1))
def test_truncation_inside_the_header_keeps_prior_analysis_and_reports_no_call(cut: int) -> None:
    src = PRIOR + HEADER[:cut]
    for data in (src, list(src)):
        events = parse(data, generation_prompt=PROMPT)
        assert reasoning(events) == "Need row 7."
        assert calls(events) == []
        errs = errors(events)
        assert len(errs) == 1
        # cut inside a special token: its start is text where only a delimiter may
        # stand; cut after one: the header is truncated.
        assert errs[0] in ("truncated", "unexpected_text")
        assert not any(isinstance(e, Finish) and e.reason == "tool_calls" for e in events)


@pytest.mark.parametrize("cut", range(len(BODY)))
def test_truncated_call_body_is_an_error_never_a_call(cut: int) -> None:
    src = PRIOR + HEADER + BODY[:cut]
    raw = src.encode("utf-8")
    for data in (src, list(src), [raw[i : i + 1] for i in range(len(raw))]):
        events = parse(data, generation_prompt=PROMPT)
        assert calls(events) == []
        assert errors(events) == ["truncated"]
        assert reasoning(events) == "Need row 7."
    with pytest.raises(ParseError) as info:
        parse(src, generation_prompt=PROMPT, strict=True)
    assert info.value.code == "truncated"


def test_the_whole_body_without_its_stop_token_is_a_call() -> None:
    events = parse(PRIOR + HEADER + BODY, generation_prompt=PROMPT)
    assert errors(events) == []
    assert calls(events)[0].arguments == json.loads(BODY)


# -- marker text inside bodies -----------------------------------------------------------------

MARKER_TEXT = (
    "see <|call|> and <|start|>assistant<|channel|>final<|message|>x "
    "<|constrain|>json to=functions.evil <|channel|>commentary <|return|>"
)


def test_markers_inside_analysis_are_reasoning() -> None:
    src = f"<|channel|>analysis<|message|>{MARKER_TEXT}<|end|>"
    for data in (src, list(src)):
        events = parse(data, generation_prompt=PROMPT)
        assert reasoning(events) == MARKER_TEXT
        assert errors(events) == calls(events) == []


def test_markers_inside_a_preamble_are_text() -> None:
    body = MARKER_TEXT.replace("<|return|>", "")
    src = f"<|channel|>commentary<|message|>{body}<|end|>"
    events = parse(list(src), generation_prompt=PROMPT)
    assert content(events) == body
    assert errors(events) == calls(events) == []


def test_markers_inside_final_are_text_until_return() -> None:
    body = MARKER_TEXT.replace("<|return|>", "<|retur")
    src = f"<|channel|>final<|message|>{body}<|return|>"
    events = parse(list(src), generation_prompt=PROMPT)
    assert content(events) == body
    assert errors(events) == calls(events) == []


def test_call_marker_inside_a_final_cut_by_the_stop_token_is_text() -> None:
    """``<|call|>`` is plain text in a message without recipient."""
    src = "<|channel|>final<|message|>Use <|call|> to call"
    events = parse(src, generation_prompt=PROMPT)
    assert content(events) == "Use <|call|> to call"


def test_markers_inside_json_strings_are_argument_text() -> None:
    args = {"s": "<|call|><|end|><|start|>assistant<|channel|>final<|message|>}", "t": "}"}
    raw = json.dumps(args)
    src = f"<|channel|>commentary to=functions.ping<|message|>{raw}<|call|>"
    for data in (src, list(src)):
        events = parse(data, generation_prompt=PROMPT)
        assert [(c.arguments, c.raw) for c in calls(events)] == [(args, raw)]
        assert errors(events) == []
        assert content(events) == reasoning(events) == ""


def test_final_body_that_looks_like_a_call_is_content() -> None:
    body = '{"name": "ping", "arguments": {}}'
    events = parse(f"<|channel|>final<|message|>{body}", generation_prompt=PROMPT)
    assert content(events) == body
    assert calls(events) == []


# -- recipients in other namespaces (FORMATS.md 4) -------------------------------------------


@pytest.mark.parametrize("in_role", [False, True], ids=["after-channel", "after-role"])
def test_a_namespaced_recipient_is_a_call_with_the_full_dotted_name(in_role: bool) -> None:
    """``to=math.sum``: a tool in another namespace of the developer's tools; engines
    report it as ``math.sum`` (openai-harmony's recipient, verbatim)."""
    recipient = " to=math.sum"
    if in_role:
        src = f'<|start|>assistant{recipient}<|channel|>commentary json<|message|>{{"a": [1, 2]}}'
    else:
        src = (
            f"<|start|>assistant<|channel|>commentary{recipient} <|constrain|>json"
            '<|message|>{"a": [1, 2]}'
        )
    for data in (src, list(src)):
        events = parse(data)
        assert errors(events) == []
        (call,) = calls(events)
        assert (call.name, call.arguments, call.builtin) == ("math.sum", {"a": [1, 2]}, False)
        assert call.span == (src.index(recipient), len(src))
        starts = [e for e in events if isinstance(e, ToolCallStart)]
        assert starts == [ToolCallStart(index=0, id="call_0", name="math.sum")]


def test_namespaced_names_keep_every_segment() -> None:
    for recipient, name in [
        ("to=functions.math.sum", "math.sum"),
        ("to=mcp.fs.read-file", "mcp.fs.read-file"),
        ("to=pythonic.run", "pythonic.run"),
        ("to=browser_x.search", "browser_x.search"),
        ("to=functions.browser.search", "browser.search"),
    ]:
        src = f"<|channel|>commentary {recipient}<|message|>{{}}"
        events = parse(src, generation_prompt=PROMPT)
        assert [(c.name, c.builtin) for c in calls(events)] == [(name, False)], recipient


def test_a_recipient_without_a_namespace_is_still_an_error() -> None:
    """A bare word is no harmony recipient (and ``to=functions.`` names nothing)."""
    for recipient in ("to=get_weather", "to=functions.", "to=math.", "to=.sum"):
        src = (
            f'<|channel|>commentary {recipient}<|message|>{{"a": 1}}<|call|>'
            "<|start|>assistant<|channel|>final<|message|>ok"
        )
        events = parse(src, generation_prompt=PROMPT)
        assert errors(events) == ["unexpected_text"], recipient
        assert calls(events) == []
        assert content(events) == "ok"


def test_namespaced_tools_are_checked_against_tools() -> None:
    src = '<|channel|>commentary to=math.sum<|message|>{"a": 1}'
    tools = [{"type": "function", "function": {"name": "math.sum", "parameters": {}}}]
    assert [c.name for c in calls(parse(src, generation_prompt=PROMPT, tools=tools))] == [
        "math.sum"
    ]
    assert errors(parse(src, generation_prompt=PROMPT, tools=TOOLS)) == ["unknown_tool"]


# -- built-in tools -----------------------------------------------------------------------------

# gpt-oss's reference client runs these itself (its browser and python tools): the
# message's recipient says which; the browser and container bodies are JSON.
BUILTINS = [
    (
        '<|channel|>analysis to=browser.search <|constrain|>json<|message|>{"query": "x"}<|call|>',
        "browser.search",
        {"query": "x"},
    ),
    (
        '<|start|>assistant to=browser.open<|channel|>analysis json<|message|>{"id": 1}<|call|>',
        "browser.open",
        {"id": 1},
    ),
    (
        '<|channel|>analysis to=browser.find code<|message|>{"pattern": "gpt"}',
        "browser.find",
        {"pattern": "gpt"},
    ),
    (
        "<|start|>assistant<|channel|>commentary to=container.exec"
        '<|message|>{"cmd": ["ls"]}<|call|>',
        "container.exec",
        {"cmd": ["ls"]},
    ),
    (
        "<|channel|>analysis to=python code<|message|>print(1)\n<|end|>",
        "python",
        {"code": "print(1)\n"},
    ),
    (
        "<|channel|>analysis to=python code<|message|>print(2)<|call|>",
        "python",
        {"code": "print(2)"},
    ),
    (
        "<|start|>assistant to=python<|channel|>analysis<|message|>1 + 1",
        "python",
        {"code": "1 + 1"},
    ),
]


@pytest.mark.parametrize(("builtin", "name", "arguments"), BUILTINS)
def test_builtin_recipient_is_a_builtin_call(builtin: str, name: str, arguments: Any) -> None:
    """Built-in tools (browser.*, python, container.*) are calls the client routes to
    its built-in implementations: ``builtin=True`` on the start and the call, the
    surrounding messages kept, no error."""
    before = "<|start|>assistant<|channel|>analysis<|message|>before<|end|>"
    src = before + builtin + "<|start|>assistant<|channel|>final<|message|>after"
    if name == "python" and not builtin.endswith(("<|end|>", "<|call|>")):
        src = before + builtin  # the closer stripped: the code ends with the output
    raw = src.encode("utf-8")
    for data in (src, list(src), [raw[i : i + 1] for i in range(len(raw))]):
        events = parse(data)
        assert errors(events) == []
        (call,) = calls(events)
        assert (call.name, call.arguments, call.builtin) == (name, arguments, True)
        assert call.span[0] == src.index(" to=")
        (start,) = [e for e in events if isinstance(e, ToolCallStart)]
        assert (start.name, start.builtin) == (name, True)
        deltas = "".join(e.text for e in events if isinstance(e, ToolCallDelta))
        assert deltas == call.raw
        assert reasoning(events) == "before"
        assert content(events) == ("" if src.endswith(builtin) else "after")
    strict = parse(src, strict=True)
    assert [c.name for c in calls(strict)] == [name]


def test_builtin_calls_are_exempt_from_tools() -> None:
    """``tools=`` lists the client's functions; built-ins are the model's own."""
    src = (
        '<|channel|>analysis to=browser.search<|message|>{"query": "q"}<|call|>'
        '<|start|>assistant<|channel|>commentary to=functions.fetch_row<|message|>{"id": 1}<|call|>'
        "<|start|>assistant<|channel|>commentary to=functions.nope<|message|>{}<|call|>"
        "<|start|>assistant<|channel|>analysis to=python code<|message|>2 ** 10"
    )
    events = parse(src, generation_prompt=PROMPT, tools=TOOLS)
    assert [(c.name, c.builtin) for c in calls(events)] == [
        ("browser.search", True),
        ("fetch_row", False),
        ("python", True),
    ]
    assert errors(events) == ["unknown_tool"]


def test_builtin_named_like_a_function_is_still_a_function() -> None:
    src = '<|channel|>commentary to=functions.python<|message|>{"code": "1"}'
    (call,) = calls(parse(src, generation_prompt=PROMPT))
    assert (call.name, call.builtin, call.arguments) == ("python", False, {"code": "1"})


def test_builtin_json_body_errors_like_a_function() -> None:
    bad = "<|channel|>analysis to=browser.search<|message|>{'q': 1}<|call|>"
    assert errors(parse(bad, generation_prompt=PROMPT)) == ["invalid_json"]
    cut = '<|channel|>analysis to=browser.search<|message|>{"q": '
    events = parse(cut, generation_prompt=PROMPT)
    assert (errors(events), calls(events)) == (["truncated"], [])


def test_builtin_header_cut_before_its_body_is_truncated() -> None:
    """No body at all (the output ends at ``<|message|>``) is a cut, not a call."""
    for cut in (
        "<|channel|>analysis to=python code<|message|>",
        "<|channel|>analysis to=python code",
        "<|channel|>analysis to=browser.search",
    ):
        events = parse(cut, generation_prompt=PROMPT)
        assert calls(events) == [] and errors(events) == ["truncated"], cut


# -- the python tool: raw code --------------------------------------------------------------------

CODE = 'import math\nprint(math.sqrt(2))  # a "<|channel|>" and {"json": 1} are code\n'


def test_python_body_is_raw_code_and_completes_at_its_closer() -> None:
    """The notebook code is the body verbatim; ``tool_call`` comes out of the feed
    with the closer's ``>``; the closer is neither code nor text."""
    head = "<|channel|>analysis to=python code<|message|>"
    parser = toolwire.parser(FORMAT, generation_prompt=PROMPT)
    first = parser.feed(head + CODE + "<|ca")
    assert [type(e) for e in first] == [ToolCallStart, ToolCallDelta]
    assert first[1].text == CODE  # "<|ca" is held: it may be the closer
    second = parser.feed("ll|>")
    (call,) = calls(second)
    assert call.arguments == {"code": CODE} and call.raw == CODE
    assert call.span == (len("<|channel|>analysis"), len(head + CODE + "<|call|>"))
    assert parser.close() == [Finish(reason="tool_calls")]


def test_python_body_cut_by_the_stripped_stop_token_completes_at_close() -> None:
    """The usual case: ``<|call|>`` is a stop token the engine strips, so the code ends
    with the output and the call comes out of ``close()`` (the text cannot tell this
    from a max_tokens cut: the engine's finish reason can)."""
    src = "<|channel|>analysis<|message|>Compute it.<|end|><|start|>assistant" + (
        "<|channel|>analysis to=python code<|message|>" + CODE + "<|ca"
    )
    outs = oracle.feed_each(FORMAT, [src], generation_prompt=PROMPT)
    assert calls(outs[0]) == []
    (call,) = calls(outs[1])
    assert call.arguments == {"code": CODE + "<|ca"}  # the held tail was code
    assert call.span[1] == len(src)
    deltas = "".join(e.text for out in outs for e in out if isinstance(e, ToolCallDelta))
    assert deltas == CODE + "<|ca"
    assert outs[1][-1] == Finish(reason="tool_calls")


def test_python_body_markers_other_than_its_closers_are_code() -> None:
    code = "s = '<|start|>assistant<|channel|>final<|message|><|return|>'\n"
    src = f"<|channel|>analysis to=python code<|message|>{code}<|call|>"
    (call,) = calls(parse(list(src), generation_prompt=PROMPT))
    assert call.arguments == {"code": code}


def test_python_body_ends_at_the_first_closer() -> None:
    """A literal ``<|end|>`` in the code cannot be told from the real one (the body is
    encoded with special tokens disallowed): the first one ends the code."""
    src = (
        "<|channel|>analysis to=python code<|message|>print('<|end|>')<|call|>"
        "<|start|>assistant<|channel|>final<|message|>ok"
    )
    events = parse(src, generation_prompt=PROMPT)
    assert [c.arguments for c in calls(events)] == [{"code": "print('"}]
    assert errors(events) == ["unexpected_text"]  # "')" where a message must start


def test_empty_python_body_with_its_closer_is_a_call() -> None:
    src = "<|channel|>analysis to=python<|message|><|call|>"
    (call,) = calls(parse(src, generation_prompt=PROMPT))
    assert (call.arguments, call.raw, call.span) == ({"code": ""}, "", (19, len(src)))


def test_python_code_over_the_argument_limit() -> None:
    head = "<|channel|>analysis to=python code<|message|>"
    src = head + "x" * 40 + "<|call|><|start|>assistant<|channel|>final<|message|>ok"
    for limit, expect in ((48, []), (47, ["limit_exceeded"])):  # the closer counts
        for data in (src, list(src)):
            events = parse(data, generation_prompt=PROMPT, max_argument_size=limit)
            assert errors(events) == expect, limit
            assert len(calls(events)) == (0 if expect else 1)
            assert content(events) == "ok"
            if expect:
                (err,) = [e for e in events if isinstance(e, Error)]
                assert err.offset == len(head) + limit


def test_builtin_calls_in_a_message_and_on_the_command_line(tmp_path: Any) -> None:
    """``collect`` keeps the flag on the stored call; ``--jsonl`` writes
    ``"builtin": true`` on the start and the call (and nothing for other calls)."""
    src = (
        '<|start|>assistant<|channel|>analysis to=browser.search<|message|>{"query": "q"}<|call|>'
        "<|start|>assistant<|channel|>commentary to=functions.ping<|message|>{}<|call|>"
    )
    message = toolwire.collect(parse(src))
    assert [(c.name, c.builtin) for c in message.tool_calls] == [
        ("browser.search", True),
        ("ping", False),
    ]
    as_json = message.to_json()["tool_calls"]
    assert as_json[0]["builtin"] is True and "builtin" not in as_json[1]
    path = tmp_path / "out.harmony"
    path.write_text(src, encoding="utf-8")
    import io
    from contextlib import redirect_stdout

    from toolwire.cli.command import main

    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(["validate", "--format", FORMAT, "--jsonl", str(path)]) == 0
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    flagged = [(e["type"], e.get("builtin")) for e in lines if e["type"].startswith("tool_call")]
    assert flagged == [
        ("tool_call_start", True),
        ("tool_call_delta", None),
        ("tool_call", True),
        ("tool_call_start", None),
        ("tool_call_delta", None),
        ("tool_call", None),
    ]
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(["validate", "--format", FORMAT, str(path)]) == 0
    assert re.search(
        r"^tool_call #0 browser\.search\(.*\) \[\d+:\d+\] builtin$", buf.getvalue(), re.M
    )
    assert re.search(r"^tool_call #1 ping\(\{\}\) \[\d+:\d+\]$", buf.getvalue(), re.M)


# -- recovery ------------------------------------------------------------------------------------


def test_stray_header_without_message_resyncs_at_the_next_start() -> None:
    src = "<|channel|>analysis<|start|>assistant<|channel|>final<|message|>ok<|return|>"
    events = parse(src, generation_prompt=PROMPT)
    assert errors(events) == ["unexpected_tag"]
    assert content(events) == "ok"


def test_stray_channel_inside_a_header_resyncs_there() -> None:
    src = "<|channel|>analysis<|channel|>final<|message|>ok"
    events = parse(src, generation_prompt=PROMPT)
    assert errors(events) == ["unexpected_tag"]
    assert content(events) == "ok"


def test_text_between_messages_is_an_error() -> None:
    src = "<|channel|>analysis<|message|>a<|end|>junk<|start|>assistant<|channel|>final<|message|>b"
    events = parse(src, generation_prompt=PROMPT)
    assert errors(events) == ["unexpected_text"]
    assert (reasoning(events), content(events)) == ("a", "b")


def test_garbled_recipient_drops_the_message() -> None:
    src = (
        "<|channel|>commentary to=functions.<|message|>{}<|call|>"
        "<|start|>assistant<|channel|>final<|message|>ok"
    )
    events = parse(src, generation_prompt=PROMPT)
    assert errors(events) == ["unexpected_text"]
    assert calls(events) == []
    assert content(events) == "ok"


def test_repeated_start_after_the_prompt_is_an_error() -> None:
    """The prompt already ended with ``<|start|>assistant``; a repeat is a stray."""
    events = parse("<|start|>assistant<|channel|>final<|message|>x", generation_prompt=PROMPT)
    assert errors(events) == ["unexpected_tag"]
    assert content(events) == "x"


def test_generation_prompt_offsets_count_the_output_only() -> None:
    src = 'x<|channel|>commentary to=functions.ping<|message|>{"a": 1}'
    events = parse(src[1:], generation_prompt=PROMPT)
    assert calls(events)[0].span == (src.index(" to=") - 1, len(src) - 1)
    err = parse("<|channel|>final<|start|>", generation_prompt=PROMPT)
    assert [(e.code, e.offset) for e in err if isinstance(e, Error)] == [("unexpected_text", 16)]


def test_a_run_never_changes_what_may_end_it() -> None:
    """Chunk invariance needs, for every content terminal, the same delimiters before
    and after its run's first token: otherwise how the text is cut decides which
    delimiter ends the run.  (LALR merges the lookaheads of shared helper rules, which
    is why the grammar never uses one content terminal in two places.)  Checked on
    every parser configuration reachable from the start state."""
    grammar = compiled(FORMAT)
    states = grammar.states
    todo = [grammar.lark.parse_interactive("")]
    seen: set[tuple[int, ...]] = set()
    checked = set()
    while todo:
        ip = todo.pop()
        key = tuple(ip.parser_state.state_stack)
        if key in seen or len(key) > 12:
            continue
        seen.add(key)
        lex = states[ip.parser_state.position]
        for terminal in lex.expected:
            if terminal == "$END":
                continue
            nxt = ip.copy()
            try:
                nxt.feed_token(Token(terminal, ""))
            except UnexpectedInput:
                continue  # a merged lookahead the stack rejects
            if terminal == lex.content:
                after = states[nxt.parser_state.position]
                assert after.content == terminal
                assert {d.name for d in after.delimiters} == {d.name for d in lex.delimiters}, (
                    terminal
                )
                checked.add(terminal)
            todo.append(nxt)
    assert checked == set(grammar.spec.content)


def test_finish_reason_is_chunk_invariant() -> None:
    """Text after the last call makes the finish reason ``stop``, also when that text
    starts with whitespace and goes on in later chunks (the text fast path)."""
    src = (
        "<|channel|>commentary to=functions.ping<|message|>{}"
        "<|start|>assistant<|channel|>final<|message|> ok"
    )
    assert parse(src, generation_prompt=PROMPT)[-1] == Finish(reason="stop")
    assert parse(list(src), generation_prompt=PROMPT)[-1] == Finish(reason="stop")


def test_registered() -> None:
    assert "harmony" in toolwire.formats()
    assert toolwire.format_info("harmony").models == "gpt-oss-20b, gpt-oss-120b"


# == property tests ================================================================================

END, RETURN, CALL = "<|end|>", "<|return|>", "<|call|>"
MARKERS = [
    "<|start|>",
    "<|start|>assistant",
    "<|channel|>",
    "<|channel|>analysis",
    "<|channel|>final",
    "<|channel|>commentary",
    "<|message|>",
    "<|constrain|>",
    "<|constrain|>json",
    CALL,
    END,
    RETURN,
    " to=functions.",
    " to=functions.ping",
    " to=browser.search",
    " json",
    "<|",
    "|>",
    "<|en",
    "<|ret",
    "<|st",
    "<",
    "|",
]
ODD = [
    "",
    " ",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "é",
    "日本",
    "😀",
    "\u2028",
    "\x00",
    "a",
    "hello",
    "{",
    "}",
    '"',
]
fragment = st.one_of(st.sampled_from(MARKERS + ODD), st.text(max_size=3))
marker_text = st.lists(fragment, max_size=8).map("".join)


def without(text: str, *closers: str) -> str:
    """``text`` with every occurrence of the closers broken (a space after ``<``)."""
    while True:
        hits = [i for c in closers if (i := text.find(c)) >= 0]
        if not hits:
            return text
        i = min(hits)
        text = text[: i + 1] + " " + text[i + 1 :]


def no_closer_suffix(text: str, *closers: str) -> str:
    """Content pieces may be adjacent: none ends with a proper prefix of a closer."""
    for c in closers:
        for k in range(1, len(c)):
            if text.endswith(c[:k]):
                return text + " "
    return text


reasoning_bodies = marker_text.map(lambda s: without(s, END))
preamble_bodies = marker_text.map(lambda s: without(s, END))
final_bodies = marker_text.map(lambda s: without(s, END, RETURN))
BUILTIN_RECIPIENTS = [
    " to=browser.search",
    " to=browser.open",
    "to=browser.find",
    " to=container.exec",
]
codes = marker_text.map(lambda s: without(s, CALL, END))
"""Python code bodies: marker-rich text without a closer (a closer ends the code)."""
names = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz_ABCXYZ0123456789-.:é日"),
    min_size=1,
    max_size=10,
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    marker_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
arguments = st.dictionaries(st.one_of(st.text(max_size=5), marker_text), json_values, max_size=4)


@st.composite
def dumps(draw: st.DrawFn, args: dict[str, Any]) -> str:
    indent = draw(st.sampled_from([None, None, 2]))
    separators = draw(st.sampled_from([None, (",", ":"), (", ", ": ")]))
    return json.dumps(args, indent=indent, separators=separators, ensure_ascii=draw(st.booleans()))


@dataclass
class Stream:
    """A generated stream and the coalesced events it must produce."""

    prompt: str | None
    text: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    blocks: int = 0
    calls: int = 0
    text_after_call: bool = False

    def add(self, piece: str) -> int:
        start = len(self.text)
        self.text += piece
        return start

    def block(self, kind: str, body: str) -> None:
        if body:
            if not body.isspace():
                self.text_after_call = True
            b = self.blocks
            self.blocks += 1
            self.events += [
                {"type": f"{kind}_start", "id": b},
                {"type": f"{kind}_delta", "id": b, "text": body},
                {"type": f"{kind}_end", "id": b},
            ]

    def call(
        self, name: str, args: Any, raw: str, span: tuple[int, int], builtin: bool = False
    ) -> None:
        k = self.calls
        self.calls += 1
        self.text_after_call = False
        cid = f"call_{k}"
        flag = {"builtin": True} if builtin else {}
        self.events.append({"type": "tool_call_start", "index": k, "id": cid, "name": name, **flag})
        if raw:  # an empty code body has no delta
            self.events.append({"type": "tool_call_delta", "index": k, "id": cid, "text": raw})
        self.events.append(
            {
                "type": "tool_call",
                "index": k,
                "id": cid,
                "name": name,
                "arguments": args,
                "raw": raw,
                "span": list(span),
                **flag,
            }
        )

    def finish(self) -> list[dict[str, Any]]:
        reason = "tool_calls" if self.calls and not self.text_after_call else "stop"
        return [
            *self.events,
            {"type": "finish", "reason": reason, "raw_reason": None, "usage": None},
        ]


@st.composite
def conversations(draw: st.DrawFn, max_messages: int = 5) -> Stream:
    """A well-formed stream: every header variant, marker-rich bodies, closers present
    or (for the last message, and after JSON bodies) stripped."""
    doc = Stream(prompt=draw(st.sampled_from([PROMPT, None])))
    kinds = draw(
        st.lists(
            st.sampled_from(["analysis", "preamble", "final", "call", "builtin", "python"]),
            # after the prompt, empty output ends inside a header (truncated)
            min_size=0 if doc.prompt is None else 1,
            max_size=max_messages,
        )
    )
    for n, kind in enumerate(kinds):
        last = n == len(kinds) - 1
        if n == 0 and doc.prompt is not None:
            opening = ""
        else:
            opening = draw(st.sampled_from([PROMPT, PROMPT, ""]))
        ctype = draw(st.sampled_from([*CTYPES, " <|constrain|>JSON"]))
        space = draw(st.sampled_from(["", "", " "])) if ctype == "" else ""
        if kind in ("analysis", "preamble", "final"):
            channel = {"analysis": "analysis", "preamble": "commentary", "final": "final"}[kind]
            doc.add(f"{opening}<|channel|>{channel}{ctype}{space}<|message|>")
            strategy = {
                "analysis": reasoning_bodies,
                "preamble": preamble_bodies,
                "final": final_bodies,
            }[kind]
            body = draw(strategy)
            doc.add(body)
            doc.block("reasoning" if kind == "analysis" else "text", body)
            closers = [END, RETURN] if kind == "final" else [END]
            if not last or draw(st.booleans()):
                doc.add(draw(st.sampled_from(closers)))
            continue
        channel = draw(st.sampled_from(CHANNELS))
        lead = draw(st.sampled_from(["", " ", "\t "]))
        if kind == "python":
            recipient = lead + "to=python"
            doc.add(opening)
            if draw(st.booleans()):
                start = doc.add(recipient)
                doc.add(f"<|channel|>{channel}")
            else:
                doc.add(f"<|channel|>{channel}")
                start = doc.add(recipient)
            doc.add(draw(st.sampled_from([" code", "", " <|constrain|>code"])) + "<|message|>")
            code = draw(codes)
            doc.add(code)
            # the stop token <|call|> stripped: only the last message can end so
            closer = "" if last and draw(st.booleans()) else draw(st.sampled_from([CALL, END]))
            if not code and not closer:  # no body at all: a cut header (tested above)
                closer = CALL
            end = doc.add(closer) + len(closer)
            doc.call("python", {"code": code}, code, (start, end), builtin=True)
            continue
        if kind == "builtin":
            recipient = draw(st.sampled_from(BUILTIN_RECIPIENTS))
            name = recipient.strip().removeprefix("to=")
            builtin = True
        else:
            name = draw(names)
            if draw(st.integers(0, 3)):
                recipient = lead + "to=functions." + name
            else:  # another namespace of the developer's tools: the full dotted name
                name = draw(st.sampled_from(["math.", "mcp.fs.", "a.b."])) + name.lstrip(".")
                name = name if not name.endswith(".") else name + "x"
                recipient = lead + "to=" + name
            builtin = False
        doc.add(opening)
        if draw(st.booleans()):
            start = doc.add(recipient)
            doc.add(f"<|channel|>{channel}")
        else:
            doc.add(f"<|channel|>{channel}")
            start = doc.add(recipient)
        doc.add(f"{ctype}{space}<|message|>")
        args = draw(arguments)
        raw = draw(dumps(args))
        doc.add(draw(st.sampled_from(["", "", " ", "\n"])))
        end = doc.add(raw) + len(raw)
        doc.call(name, json.loads(raw), raw, (start, end), builtin=builtin)
        closer = draw(st.sampled_from(["", CALL, END]))
        if closer:
            doc.add(draw(st.sampled_from(["", "", " ", "\n"])) + closer)
    return doc


def run_doc(doc: Stream, chunks: list[Any], **options: Any) -> list[dict[str, Any]]:
    return coalesce(run(FORMAT, chunks, generation_prompt=doc.prompt, **options))


# -- the grammar-driven generator --------------------------------------------------------------


def _piece(strategy: st.SearchStrategy[str], *closers: str) -> st.SearchStrategy[str]:
    return strategy.map(lambda s: no_closer_suffix(s, *closers))


def _args() -> st.SearchStrategy[str]:
    return arguments.flatmap(dumps)


words = st.text(alphabet="jsonJSONcode_-.", min_size=1, max_size=6)


def _grammar() -> Lark:
    """The grammar with a name required after a recipient: the recipients' look-ahead
    wants one (a name-less recipient is an error, tested above)."""
    text = (resources.files("toolwire.grammars") / "harmony.lark").read_text("utf-8")
    text = text.replace("NAME*", "NAME+")
    return Lark(text, parser="lalr", lexer="contextual", start="start")


lark_streams = from_lark(
    _grammar(),
    start="start",
    explicit={
        "REASONING": _piece(reasoning_bodies, END),
        "PREAMBLE": _piece(preamble_bodies, END),
        "TEXT": _piece(final_bodies, END, RETURN),
        "NAME": names,
        "ROLE_NAME": names,
        "TYPE_WORD": words,
        "LAYOUT": st.sampled_from(["\n", "\r\n", "\t", "\n\n"]),
        "ARGS": _args(),
        # Recipients (their look-aheads are beyond from_regex): the text up to the
        # name capture that follows, which is never empty and starts with no "<".
        "TO_FUNCTION": st.sampled_from([" to=functions.", "to=functions.", " \tto=functions."]),
        "TO_TOOL": st.sampled_from([" to=math.s", " to=mcp.fs.r", "to=x.y"]),
        "TO_BUILTIN": st.sampled_from(BUILTIN_RECIPIENTS),
        "TO_PYTHON": st.sampled_from([" to=python", "to=python", "\tto=python"]),
        # The island takes its closer with it; the code holds none.
        "CODE": st.tuples(codes, st.sampled_from([CALL, END])).map("".join),
    },
)

arbitrary_texts = st.lists(
    st.one_of(
        st.sampled_from(MARKERS + ODD),
        st.sampled_from(['{"a": 1}', "{", "}", "analysis", "final", "functions.x", "json"]),
        st.text(max_size=3),
    ),
    max_size=25,
).map("".join)

any_stream = st.one_of(conversations().map(lambda d: d.text), lark_streams, arbitrary_texts)


def _prompt_for(text: str) -> str | None:
    return None if not text or text.startswith("<|start|>") else PROMPT


# -- guarantee 1: chunk invariance -----------------------------------------------------------


@given(text=any_stream, data=st.data())
def test_chunk_invariance_str(text: str, data: st.DataObject) -> None:
    prompt = _prompt_for(text)
    whole = coalesce(run(FORMAT, [text], generation_prompt=prompt))
    chunks = data.draw(chunkings(text))
    assert coalesce(run(FORMAT, chunks, generation_prompt=prompt)) == whole


@given(text=any_stream, data=st.data())
def test_chunk_invariance_utf8_bytes(text: str, data: st.DataObject) -> None:
    prompt = _prompt_for(text)
    whole = coalesce(run(FORMAT, [text], generation_prompt=prompt))
    raw = text.encode("utf-8")
    chunks = data.draw(chunkings(raw))
    assert coalesce(run(FORMAT, chunks, generation_prompt=prompt)) == whole


@given(doc=conversations())
def test_chunk_invariance_one_char_and_one_byte_at_a_time(doc: Stream) -> None:
    whole = run_doc(doc, [doc.text])
    assert run_doc(doc, list(doc.text)) == whole
    raw = doc.text.encode("utf-8")
    assert run_doc(doc, [raw[i : i + 1] for i in range(len(raw))]) == whole


# -- guarantee 2: earliest completion ---------------------------------------------------------


def check_earliest_completion(text: str, chunks: list[Any], prompt: str | None) -> None:
    """Each tool_call comes out of the feed() whose chunk holds its closing ``}``
    (for bytes: that character's byte), never earlier and never later."""
    outs = feed_each(chunks, generation_prompt=prompt)
    for k, out in enumerate(outs):
        for call in calls(out):
            last = call.span[1] - 1
            assert re.match(r"[ \t]*to=[^\s<]", text[call.span[0] :]), (text, call)
            if call.name == "python" and call.builtin:
                # code: complete at its closer's ">", else at the end of the input
                if not text[: call.span[1]].endswith((CALL, END)):
                    assert call.span[1] == len(text) and k == len(chunks), (text, call)
                    continue
                assert text[last] == ">", (text, call)
            else:
                assert text[last] == "}", (text, call)
            first_k = chunk_holding(text, chunks, last)
            assert k == first_k, (
                f"tool_call for span {call.span} came out of "
                f"{'close()' if k == len(chunks) else f'feed #{k}'}; "
                f"its closing brace arrived in feed #{first_k}"
            )


@given(text=st.one_of(conversations().map(lambda d: d.text), lark_streams), data=st.data())
def test_earliest_completion(text: str, data: st.DataObject) -> None:
    prompt = _prompt_for(text)
    check_earliest_completion(text, data.draw(chunkings(text)), prompt)
    check_earliest_completion(text, data.draw(chunkings(text.encode("utf-8"))), prompt)


@given(doc=conversations())
def test_earliest_completion_char_by_char(doc: Stream) -> None:
    check_earliest_completion(doc.text, list(doc.text), doc.prompt)
    assert len(calls(parse(list(doc.text), generation_prompt=doc.prompt))) == doc.calls


# -- guarantee 3: nothing lost -------------------------------------------------------------------


@given(doc=conversations(), data=st.data())
def test_nothing_lost_exact_events(doc: Stream, data: st.DataObject) -> None:
    """Reasoning, text, calls (raw, arguments, spans) and the finish equal the
    oracle's, under any chunking."""
    expected = doc.finish()
    assert run_doc(doc, [doc.text]) == expected
    assert run_doc(doc, data.draw(chunkings(doc.text))) == expected
    assert run_doc(doc, data.draw(chunkings(doc.text.encode("utf-8")))) == expected


@given(text=lark_streams)
def test_grammar_streams_parse_as_the_grammar_says(text: str) -> None:
    """What the grammar derives the parser accepts, built-in calls included."""
    events = parse(text, generation_prompt=_prompt_for(text))
    assert errors(events) == [], text
    raw = "".join(e.text for e in events if isinstance(e, ToolCallDelta))
    assert raw == "".join(c.raw for c in calls(events))


@settings(max_examples=60)
@given(
    code=codes,
    closer=st.sampled_from(["", CALL, END, "<|ca", "<|en"]),
    limit=st.integers(1, 60),
    data=st.data(),
)
def test_code_bodies_any_chunking_and_limit(
    code: str, closer: str, limit: int, data: st.DataObject
) -> None:
    """Python code bodies, their closer present, stripped or cut, under any argument
    limit: the same events in every chunking (what goes out before a limit error
    never depends on the text after it), deltas concatenating to the code."""
    src = PRIOR + "<|start|>assistant<|channel|>analysis to=python code<|message|>" + code + closer
    whole = parse(src, generation_prompt=PROMPT, max_argument_size=limit)
    payload: Any = src.encode("utf-8") if data.draw(st.booleans()) else src
    chunks = data.draw(chunkings(payload))
    got = parse(chunks, generation_prompt=PROMPT, max_argument_size=limit)
    assert coalesce(got) == coalesce(whole)
    for call in calls(whole):
        assert call.arguments == {"code": code + ("" if closer in (CALL, END) else closer)}
        assert "".join(e.text for e in whole if isinstance(e, ToolCallDelta)) == call.raw
    errs = [e for e in whole if isinstance(e, Error)]
    body = src.index("<|message|>", len(PRIOR)) + len("<|message|>")
    if len(code + closer) > limit:  # the first error is the limit (then recovery)
        assert (errs[0].code, errs[0].offset) == ("limit_exceeded", body + limit)
        assert calls(whole) == []
    elif code + closer:
        assert errs == [] and len(calls(whole)) == 1


# -- guarantee 6: clear errors ---------------------------------------------------------------------


ARBITRARY_INPUT = ArbitraryInput(
    st.tuples(
        st.just(FORMAT),
        st.one_of(arbitrary_texts, lark_streams),
        st.sampled_from([None, PROMPT]).map(lambda p: {"generation_prompt": p, "tools": TOOLS}),
    )
)
"""Arbitrary harmony input, checked by tests/test_guarantees.py."""
