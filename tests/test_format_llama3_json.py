"""The ``llama3-json`` format (FORMATS.md sections 8.1 and 12; decisions in
``toolwire/formats/llama3_json.py``): Llama 3.1-3.3 JSON calls, bare or after
``<|python_tag|>``, several joined by ``;``.

Readable examples first, each checked whole, character by character and byte by byte:
``parameters`` and ``arguments``, ``"type": "function"``, pretty-printed calls, a bare
JSON answer that is not a call, text after a call, ``<|python_tag|>`` (with text before
it, repeated), built-in tool and code interpreter calls, double-encoded parameters,
calls joined by ``;`` with any spacing or by whitespace alone, stop tokens after
calls, the assistant header as generation prompt, truncation at every character,
unknown tools, strict mode and
error positions.  Then property tests: generated documents with their exact events
(``tests/oracle.py``), chunk invariance for str and bytes, earliest completion, and
documents derived from ``grammars/llama3_json.lark`` (``hypothesis.extra.lark``).

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
    check_truncated_at_end,
    chunk_holding,
    chunked_oracle,
    feed_each,
    position,
    strip_messages,
    summary,
    typed,
    whole_char_byte_oracle,
)
from tests.test_format_hermes import (
    check_calls,
    dumps,
    json_arguments,
    json_values,
    objects,
)
from toolwire import ParseError
from toolwire.formats.llama3_json import CODE_TOOL
from toolwire.registry import compiled
from toolwire.values.pylit import PyKwargsScanner

FORMAT = "llama3-json"
TAG = "<|python_tag|>"
HEADER = "<|start_header_id|>assistant<|end_header_id|>\n\n"
TOOLS = [
    {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
    for name in ("get_weather", "ping", "run_cmd")
]


def call(name: str, args: Any, key: str = "parameters", **extra: Any) -> str:
    """A call as the model writes it (``json.dumps`` spacing)."""
    return json.dumps({"name": name, key: args, **extra}, ensure_ascii=False)


def check(src: str, **options: Any) -> list[Any]:
    """Events of the whole text, after checking that char-by-char and byte-by-byte
    feeding give the same events."""
    whole = run(FORMAT, [src], **options)
    assert coalesce(run(FORMAT, list(src), **options)) == coalesce(whole)
    data = src.encode("utf-8")
    one = [data[i : i + 1] for i in range(len(data))]
    assert coalesce(run(FORMAT, one, **options)) == coalesce(whole)
    return whole


def errors(events: list[Any]) -> list[tuple[str, int]]:
    return [(e.code, e.offset) for e in typed(events, "error")]


def only_text(src: str) -> dict[str, Any]:
    return {"content": src, "reasoning": "", "calls": [], "errors": []}


# -- bare calls ------------------------------------------------------------------------------


def test_bare_call_exact_events() -> None:
    src = '{"name": "get_weather", "parameters": {"city": "Paris"}}'
    assert [e.to_json() for e in check(src)] == [
        {"type": "tool_call_start", "index": 0, "id": "call_0", "name": "get_weather"},
        {"type": "tool_call_delta", "index": 0, "id": "call_0", "text": '{"city": "Paris"}'},
        {
            "type": "tool_call",
            "index": 0,
            "id": "call_0",
            "name": "get_weather",
            "arguments": {"city": "Paris"},
            "raw": '{"city": "Paris"}',
            "span": [0, len(src)],
        },
        {"type": "finish", "reason": "tool_calls", "raw_reason": None, "usage": None},
    ]


def test_bare_call_is_withheld_until_its_closing_brace() -> None:
    """Until the object closes it may be an answer: nothing comes out before the feed
    that delivers its ``}``, then the start, the argument text and the call at once."""
    src = call("get_weather", {"city": "Paris"})
    outs = feed_each(FORMAT, list(src))
    assert all(out == [] for out in outs[:-2])
    assert [e.type for e in outs[-2]] == ["tool_call_start", "tool_call_delta", "tool_call"]


@pytest.mark.parametrize(
    "src",
    [
        call("get_weather", {"city": "Paris"}),
        call("get_weather", {"city": "Paris"}, key="arguments"),
        call("get_weather", {"city": "Paris"}, type="function"),
        '{"type": "function", "parameters": {"city": "Paris"}, "name": "get_weather"}',
        json.dumps({"name": "get_weather", "parameters": {"city": "Paris"}}, indent=4),
        '  \n{"name":"get_weather","parameters":{"city":"Paris"}}',
    ],
    ids=["parameters", "arguments", "type-last", "type-first", "pretty", "leading-space"],
)
def test_call_shapes(src: str) -> None:
    """The documented key, the ``arguments`` variant, ``"type": "function"``, any key
    order, Meta's indented example, whitespace before the object."""
    events = check(src)
    assert summary(events) == {
        "content": "",
        "reasoning": "",
        "calls": [("get_weather", {"city": "Paris"})],
        "errors": [],
    }
    (done,) = typed(events, "tool_call")
    assert json.loads(done.raw) == {"city": "Paris"}
    assert done.raw in src and done.span == (0, len(src))


@pytest.mark.parametrize(
    "answer",
    [
        '{"total": 3}',
        "{}",
        '{"k": 2} was the result',
        '{"name": "Bob"}',
        '{"name": "Bob", "age": 3}',
        '{"name": "f", "parameters": [1]}',
        '{"name": 3, "parameters": {}}',
        '{"name": "f", "parameters": {}, "id": 1}',
        '{"name": "f", "parameters": "[]"}',
        '{"name": "f", "parameters": "\\"{}\\""}',
        '{"a": }',
        '{"a" 1} broken',
        "{not json at all}",
        '{"total": 3}; {"name": "f", "parameters": {}}',
        "[1, 2]",
    ],
)
def test_json_answer_that_is_not_a_call_is_content(answer: str) -> None:
    """A call has a string ``name`` and an object ``parameters``/``arguments`` and
    nothing else; any other JSON (or broken JSON) at the start is the answer, verbatim,
    and so is all text after it."""
    assert summary(check(answer)) == only_text(answer)


def test_json_values_are_never_retyped_by_the_schema() -> None:
    """Arguments are JSON, typed by the model: a schema saying ``integer`` leaves the
    string ``"7"`` a string (only raw-value formats are typed by the schema)."""
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "limit": {"type": "string"},
            "flag": {"type": "boolean"},
        },
    }
    tools = [{"type": "function", "function": {"name": "run_cmd", "parameters": schema}}]
    (done,) = typed(
        check(call("run_cmd", {"id": "7", "limit": 7, "flag": "true"}), tools=tools), "tool_call"
    )
    assert done.arguments == {"id": "7", "limit": 7, "flag": "true"}


def test_text_after_a_bare_call_is_content() -> None:
    """The call is final at its ``}`` (earliest completion), before what follows can
    be seen: ``{call} was sent`` is a call and the text ``" was sent"``."""
    src = call("ping", {}) + " was sent"
    events = check(src)
    assert summary(events) == {
        "content": " was sent",
        "reasoning": "",
        "calls": [("ping", {})],
        "errors": [],
    }
    assert typed(events, "finish")[0].reason == "stop"
    assert typed(check(call("ping", {}) + "\n"), "finish")[0].reason == "tool_calls"


@pytest.mark.parametrize("before", ["Result: ", "x", "Sure.\n\n", "```json\n"])
def test_json_after_text_is_text_without_python_tag(before: str) -> None:
    """Without ``<|python_tag|>`` the whole message is a call or content."""
    src = before + call("ping", {})
    assert summary(check(src)) == only_text(src)


@pytest.mark.parametrize("sep", ["\n", "\n\n", " ", "", "\r\n", " \n\t"])
@pytest.mark.parametrize("head", ["", TAG], ids=["bare", "tagged"])
def test_calls_separated_by_newlines_are_all_calls(sep: str, head: str) -> None:
    """``{...}\n{...}`` with no ``;`` (the project issue "Formats part 3": vLLM's
    llama3_json parser reports every object): each object is a call; the whitespace
    between them belongs to the next call's span, as at the start of a message.  The
    next object is withheld until it closes (it may be an answer), so its start and
    argument text come with it."""
    first, second = call("ping", {}), call("run_cmd", {"cmd": "ls"}, key="arguments")
    src = head + first + sep + second + sep + call("get_weather", {"city": "Paris"})
    events = check(src)
    assert summary(events) == {
        "content": "",
        "reasoning": "",
        "calls": [("ping", {}), ("run_cmd", {"cmd": "ls"}), ("get_weather", {"city": "Paris"})],
        "errors": [],
    }
    done = typed(events, "tool_call")
    at = len(head + first)
    assert done[1].span == (at, at + len(sep + second))
    assert [e.type for e in feed_each(FORMAT, [src[:-1], src[-1]])[1]] == [
        "tool_call_start",
        "tool_call_delta",
        "tool_call",
    ]


@pytest.mark.parametrize(
    "after",
    ['\n{"total": 3}', '\n{"name": "Bob"}', " {}", '\n{"a": } broken', "\n{x}"],
)
def test_an_object_after_a_call_that_is_not_a_call_is_text(after: str) -> None:
    """Like a message's first object, the next one is a call only if it is one."""
    src = call("ping", {}) + after
    assert summary(check(src)) == {
        "content": after,
        "reasoning": "",
        "calls": [("ping", {})],
        "errors": [],
    }
    assert summary(check(TAG + src))["content"] == after


def test_an_object_after_text_after_a_call_is_text() -> None:
    """Only whitespace may separate a call from the next: after text, ``{`` is text."""
    src = call("ping", {}) + " sent.\n" + call("run_cmd", {"cmd": "ls"})
    assert summary(check(src))["calls"] == [("ping", {})]


@pytest.mark.parametrize("stop", ["<|eom_id|>", "<|eot_id|>"])
def test_a_stop_token_after_calls_ends_them(stop: str) -> None:
    """Engines strip the stop token; one that reaches the parser right after calls
    is not text (and the finish reason stays ``tool_calls``).  Elsewhere it is text."""
    for src in (call("ping", {}) + stop, "Hi " + TAG + call("ping", {}) + stop):
        events = check(src)
        assert summary(events)["calls"] == [("ping", {})]
        assert stop not in summary(events)["content"]
        assert typed(events, "finish")[0].reason == "tool_calls"
    assert summary(check("Say " + stop))["content"] == "Say " + stop


# -- several calls ---------------------------------------------------------------------------


@pytest.mark.parametrize("sep", [";", "; ", " ; ", ";\n", "\n;\n", " ;\t"])
def test_semicolon_separated_calls(sep: str) -> None:
    """Llama 3.2 joins calls with ``;``, with or without spaces around it."""
    src = call("get_weather", {"city": "Paris"}) + sep + call("ping", {}, key="arguments")
    src += sep + call("run_cmd", {"cmd": "ls"})
    events = check(src)
    assert summary(events) == {
        "content": "",
        "reasoning": "",
        "calls": [("get_weather", {"city": "Paris"}), ("ping", {}), ("run_cmd", {"cmd": "ls"})],
        "errors": [],
    }
    assert [c.index for c in typed(events, "tool_call")] == [0, 1, 2]


@pytest.mark.parametrize("sep", [";", "; ", TAG, " " + TAG])
def test_python_tag_calls_joined_by_semicolon_or_repeated_tag(sep: str) -> None:
    src = TAG + call("get_weather", {"city": "Paris"}) + sep + call("ping", {})
    assert summary(check(src))["calls"] == [("get_weather", {"city": "Paris"}), ("ping", {})]


def test_whole_call_list_in_one_chunk() -> None:
    """vLLM emitted nothing when the whole call came in one delta."""
    src = call("ping", {}) + "; " + call("run_cmd", {"cmd": "ls"})
    parser = toolwire.parser(FORMAT)
    out = parser.feed(src)
    assert [c.name for c in typed(out, "tool_call")] == ["ping", "run_cmd"]
    assert typed(parser.close(), "finish")[0].reason == "tool_calls"


# -- <|python_tag|> -----------------------------------------------------------------------------


@pytest.mark.parametrize("before", ["Some intro. ", "Let me check.\n\n", "", " "])
def test_text_then_python_tag_then_call(before: str) -> None:
    """Text before ``<|python_tag|>`` is content, verbatim (no template separator)."""
    src = before + TAG + call("get_weather", {"city": "Paris"})
    events = check(src)
    assert summary(events) == {
        "content": before,
        "reasoning": "",
        "calls": [("get_weather", {"city": "Paris"})],
        "errors": [],
    }
    assert typed(events, "tool_call")[0].span == (len(before) + len(TAG), len(src))


def test_python_tag_call_streams_its_arguments() -> None:
    """After ``<|python_tag|>`` the body must be a call: no need to withhold it."""
    src = TAG + call("run_cmd", {"cmd": "x" * 40})
    parser = toolwire.parser(FORMAT)
    out = parser.feed(src[: src.index("x") + 10])
    assert [e.type for e in out] == ["tool_call_start", "tool_call_delta"]
    assert out[1].text == '{"cmd": "' + "x" * 10


def test_python_tag_after_a_bare_call_and_text_after_calls() -> None:
    src = call("ping", {}) + TAG + call("ping", {}) + " Done."
    assert summary(check(src)) == {
        "content": " Done.",
        "reasoning": "",
        "calls": [("ping", {}), ("ping", {})],
        "errors": [],
    }


def test_python_tag_followed_by_an_answer_is_an_error() -> None:
    src = "Hi " + TAG + '{"total": 3}' + TAG + call("ping", {})
    events = check(src)
    assert errors(events) == [("invalid_arguments", src.index("{"))]
    assert summary(events)["calls"] == [("ping", {})]
    assert summary(events)["content"] == "Hi "


# Meta's Llama 3.1 prompt format (``Environment: ipython``, ``Tools: brave_search,
# wolfram_alpha``): built-in calls are ``<|python_tag|>NAME.call(query=...)`` and the
# code interpreter's call is raw Python after the tag, each ended by ``<|eom_id|>``;
# Meta's reference decoder (llama-models ``decode_assistant_message``) names the code
# tool ``code_interpreter`` with ``{"code": ...}``, llama.cpp's Llama 3.1 parser reads
# ``NAME.call(arg=value, ...)`` for the others.


@pytest.mark.parametrize(
    ("builtin", "name", "arguments"),
    [
        ('brave_search.call(query="weather Paris")', "brave_search", {"query": "weather Paris"}),
        ("wolfram_alpha.call(query='2+2')", "wolfram_alpha", {"query": "2+2"}),
        ('brave_search.call(query="it\'s \\"x\\"", count=3)', "brave_search", None),
    ],
)
@pytest.mark.parametrize("stop", ["", "<|eom_id|>"])
def test_builtin_tool_calls(builtin: str, name: str, arguments: Any, stop: str) -> None:
    """A call to the named built-in with its Python keyword arguments, complete at the
    ``)``; the stop token after it ends the message's calls.  Text before the tag
    stays text."""
    src = "Searching. " + TAG + builtin + stop
    events = check(src)
    (done,) = typed(events, "tool_call")
    expected = arguments if arguments is not None else {"query": 'it\'s "x"', "count": 3}
    assert (done.name, done.arguments) == (name, expected)
    assert done.span == (len("Searching. "), len("Searching. " + TAG + builtin))
    assert summary(events)["content"] == "Searching. "
    assert summary(events)["errors"] == []
    assert "".join(d.text for d in typed(events, "tool_call_delta")) == done.raw
    assert typed(events, "finish")[0].reason == "tool_calls"


def test_a_broken_builtin_call_is_an_error() -> None:
    """Positional arguments are not a built-in call: an error, and the next tag
    resynchronises."""
    src = TAG + 'brave_search.call("x")' + TAG + call("ping", {})
    events = check(src)
    assert [code for code, _ in errors(events)] == ["invalid_arguments"]
    assert summary(events)["calls"] == [("ping", {})]


CODE = 'import math\n\nprint("pi", math.pi)  # {"not": "json"} <|python_tag|>\n'


@pytest.mark.parametrize("stop", ["<|eom_id|>", "<|eot_id|>"])
def test_code_interpreter_call_ends_at_the_stop_token(stop: str) -> None:
    """Raw Python after the tag is a ``code_interpreter`` call with ``{"code": ...}``,
    verbatim (braces and marker text inside are code); it completes at the stop
    token's ``>``, which is not code."""
    src = "Let me compute.\n" + TAG + CODE + stop
    events = check(src)
    start = len("Let me compute.\n")
    assert [e.to_json() for e in events if e.type.startswith("tool_call")] == [
        {"type": "tool_call_start", "index": 0, "id": "call_0", "name": "code_interpreter"},
        {"type": "tool_call_delta", "index": 0, "id": "call_0", "text": CODE},
        {
            "type": "tool_call",
            "index": 0,
            "id": "call_0",
            "name": "code_interpreter",
            "arguments": {"code": CODE},
            "raw": CODE,
            "span": [start, len(src)],
        },
    ]
    outs = feed_each(FORMAT, [src[:-1], src[-1]])
    assert typed(outs[0], "tool_call") == [] and len(typed(outs[1], "tool_call")) == 1


def test_code_interpreter_call_ends_at_the_end_of_the_input() -> None:
    """Engines strip ``<|eom_id|>``: the code then ends with the input, and the call
    comes out of ``close()`` (it cannot be final earlier).  The code streams before."""
    src = TAG + "\n" + CODE
    parser = toolwire.parser(FORMAT)
    out = parser.feed(src)
    assert [e.type for e in out] == ["tool_call_start", "tool_call_delta"]
    assert out[1].text == CODE
    (done,) = typed(parser.close(), "tool_call")
    assert (done.name, done.arguments, done.span) == (
        "code_interpreter",
        {"code": CODE},
        (0, len(src)),
    )
    assert summary(check(src))["calls"] == [("code_interpreter", {"code": CODE})]


@pytest.mark.parametrize(
    "code",
    ["brave = 1", "brave_search(q)", "wolfram_alpha.call", "x<|eo", "<b>"],
)
def test_code_that_looks_like_a_builtin_or_a_stop_token_is_code(code: str) -> None:
    """Only ``NAME.call(`` with a built-in's name is a built-in; a stop-token prefix
    that does not complete is code."""
    src = TAG + code + "\nprint(1)<|eom_id|>"
    (done,) = typed(check(src), "tool_call")
    assert done.arguments == {"code": code + "\nprint(1)"}


@pytest.mark.parametrize("cut", [1, 2, 4, 9])
def test_input_ending_inside_a_possible_stop_token_is_truncated(cut: int) -> None:
    """Code cannot end with part of a stop token: the input was cut inside it."""
    src = TAG + "print(1)" + "<|eom_id|>"[:cut]
    events = check(src)
    assert typed(events, "tool_call") == []
    assert errors(events) == [("truncated", len(src))]


def test_empty_code_is_an_error() -> None:
    src = TAG + "<|eom_id|>" + TAG + call("ping", {})
    events = check(src)
    assert errors(events) == [("invalid_arguments", 0)]  # the call's span starts at its tag
    assert summary(events)["calls"] == [("ping", {})]


def test_code_interpreter_with_tools_and_limits() -> None:
    """``tools=`` restricts names as for any call (list the built-ins you enabled);
    the code counts against ``max_argument_size``."""
    src = TAG + CODE + "<|eom_id|>"
    code_tool = {"type": "function", "function": {"name": "code_interpreter"}}
    assert summary(check(src, tools=[*TOOLS, code_tool]))["calls"] == [
        ("code_interpreter", {"code": CODE})
    ]
    assert errors(check(src, tools=TOOLS)) == [("unknown_tool", 0)]
    assert summary(check(src, max_argument_size=len(CODE)))["errors"] == []
    over = check(src, max_argument_size=len(CODE) - 1)
    assert errors(over) == [("limit_exceeded", len(TAG) + len(CODE) - 1)]
    assert "".join(d.text for d in typed(over, "tool_call_delta")) == CODE[:-1]


@pytest.mark.parametrize(
    "value",
    [TAG, ";", "}{", "; {", "<|eom_id|>", "<|eot_id|>", HEADER, '{"name": "x", "parameters": {}}'],
)
def test_marker_text_and_braces_inside_json_strings(value: str) -> None:
    for src in (
        call("run_cmd", {"cmd": value}) + ";" + call("ping", {}),
        TAG + call("run_cmd", {"cmd": value}) + ";" + call("ping", {}),
    ):
        assert summary(check(src)) == {
            "content": "",
            "reasoning": "",
            "calls": [("run_cmd", {"cmd": value}), ("ping", {})],
            "errors": [],
        }


def test_non_ascii_arguments_are_kept_as_written() -> None:
    """vLLM re-escaped ``ü`` as ``\\u00fc`` and then duplicated the arguments."""
    src = '{"name": "get_weather", "parameters": {"city": "Zürich 😀", "e": "\\u00fc"}}'
    (done,) = typed(check(src), "tool_call")
    assert done.arguments == {"city": "Zürich 😀", "e": "ü"}
    assert done.raw == '{"city": "Zürich 😀", "e": "\\u00fc"}'


@pytest.mark.parametrize("head", ["", "Checking. " + TAG], ids=["bare", "tagged"])
def test_double_encoded_parameters_are_decoded_once(head: str) -> None:
    """``"parameters": "{\\"city\\": ...}"`` (the object as a JSON string) is a call
    with the object as its arguments, bare or after ``<|python_tag|>``; ``raw`` and the
    argument text are the string as written.  A string holding anything else is not a
    call (an answer when bare, an error after the tag)."""
    literal = json.dumps(json.dumps({"city": "Paris"}))
    src = head + '{"name": "get_weather", "parameters": ' + literal + "}"
    events = check(src)
    (done,) = typed(events, "tool_call")
    assert (done.name, done.arguments, done.raw) == ("get_weather", {"city": "Paris"}, literal)
    assert "".join(d.text for d in typed(events, "tool_call_delta")) == literal
    assert summary(events)["errors"] == []
    not_object = head + '{"name": "get_weather", "parameters": "[1]"}'
    if head:
        assert errors(check(not_object)) == [("invalid_arguments", not_object.index('"[1]"'))]
    else:
        assert summary(check(not_object)) == only_text(not_object)


# -- the generation prompt ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prompt",
    [None, "", HEADER, "<|eot_id|>" + HEADER, "<|begin_of_text|>" + HEADER],
)
def test_assistant_header_prompt_starts_a_message(prompt: str | None) -> None:
    """The header is the generation prompt (start state: content, where a bare call
    may begin)."""
    src = call("ping", {}) + "; " + call("get_weather", {"city": "Paris"})
    events = check(src, generation_prompt=prompt)
    assert summary(events)["calls"] == [("ping", {}), ("get_weather", {"city": "Paris"})]
    assert typed(events, "tool_call")[0].span == (0, len(call("ping", {})))
    answer = '{"total": 3}'
    assert summary(check(answer, generation_prompt=prompt)) == only_text(answer)


def test_header_without_its_newlines_takes_them_from_the_output() -> None:
    src = "\n\n" + call("ping", {})
    events = check(src, generation_prompt=HEADER.rstrip("\n"))
    assert summary(events) == {
        "content": "",
        "reasoning": "",
        "calls": [("ping", {})],
        "errors": [],
    }
    assert typed(events, "tool_call")[0].span == (2, len(src))
    assert summary(check("Hello", generation_prompt=HEADER.rstrip("\n"))) == only_text("Hello")


# -- truncation ------------------------------------------------------------------------------

CUT = call("run_cmd", {"cmd": "rm -rf /tmp/build", "n": [1, {"k": True}]})
_SHOWN = CUT.index('"name"') + len('"name"')
"""From here on the cut object has shown a call key."""


@pytest.mark.parametrize("cut", range(_SHOWN, len(CUT)))
def test_cut_bare_call_is_an_error_never_a_call(cut: int) -> None:
    src = CUT[:cut]
    events = check(src)
    assert typed(events, "tool_call") == []
    assert errors(events) == [("truncated", len(src))]
    assert summary(events)["content"] == ""
    with pytest.raises(ParseError) as info:
        run(FORMAT, [src], strict=True)
    assert (info.value.code, info.value.offset) == ("truncated", len(src))


@pytest.mark.parametrize("cut", range(len(TAG), len(TAG + CUT)))
def test_cut_tagged_call_is_an_error_never_a_call(cut: int) -> None:
    src = "Deleting. " + (TAG + CUT)[:cut]
    events = check(src)
    assert typed(events, "tool_call") == []
    assert errors(events) == [("truncated", len(src))]
    assert summary(events)["content"] == "Deleting. "


@pytest.mark.parametrize("cut", range(1, len(TAG)))
def test_cut_inside_the_python_tag_is_text(cut: int) -> None:
    src = "Deleting. " + TAG[:cut]
    assert summary(check(src)) == only_text(src)


ANSWER = '{\n  "total": 3,\n  "items": [{"name": "x", "parameters": {}}]\n}'


@pytest.mark.parametrize("cut", range(1, len(ANSWER)))
def test_cut_answer_that_never_showed_a_call_key_is_text(cut: int) -> None:
    """A JSON answer cut by the end of input (``max_tokens``) is text, verbatim, when
    none of its top-level keys is a call key (nested ones do not count)."""
    src = ANSWER[:cut]
    assert summary(check(src)) == only_text(src)
    assert summary(check(CUT[: _SHOWN - 1])) == only_text(CUT[: _SHOWN - 1])  # '{"name'


def test_cut_object_that_showed_a_call_key_is_a_truncated_call() -> None:
    """Once a top-level ``name``/``parameters``/``arguments`` key is complete the object
    may be a call: cut, it is an error and its text is withheld (never a half call)."""
    for src in (
        '{"name": "Bob", "age": ',
        '{"parameters": {"a": 1}',
        '{"type": "function", "name"',
    ):
        events = check(src)
        assert summary(events) == {
            "content": "",
            "reasoning": "",
            "calls": [],
            "errors": ["truncated"],
        }


@pytest.mark.parametrize(("end", "content"), [(";", ""), ("\n;", ""), (TAG, ""), (" " + TAG, " ")])
def test_an_announced_call_that_never_comes_is_truncated(end: str, content: str) -> None:
    src = call("ping", {}) + end
    events = check(src)
    assert summary(events)["calls"] == [("ping", {})]
    assert errors(events) == [("truncated", len(src))]
    assert summary(events)["content"] == content


def test_whitespace_after_a_semicolon_belongs_to_it() -> None:
    """Whitespace after ``;`` (and after ``<|python_tag|>``) is part of the separator,
    so a cut there is a truncation, the next call's span starts at its ``{``, and what
    stands there instead is reported at its own first character."""
    src = call("ping", {}) + "; \n"
    assert errors(check(src)) == [("truncated", len(src))]
    src = call("ping", {}) + "; " + TAG + call("ping", {})
    assert errors(check(src)) == [("unexpected_tag", src.index(TAG))]
    src = call("ping", {}) + " ;\n " + call("run_cmd", {}) + TAG + "\n" + call("ping", {})
    spans = [c.span for c in typed(check(src), "tool_call")]
    starts = [m.start() for m in re.finditer(r"\{\"name", src)]
    assert spans == [(a, a + len(call("ping", {}))) for a in starts[:1]] + [
        (starts[1], starts[1] + len(call("run_cmd", {}))),
        (starts[2], len(src)),
    ]


def test_calls_before_a_cut_one_stay() -> None:
    src = call("ping", {}) + "; " + CUT[:30]
    events = check(src)
    assert summary(events)["calls"] == [("ping", {})]
    assert errors(events) == [("truncated", len(src))]


# -- errors, unknown tools, strict mode ---------------------------------------------------------


@pytest.mark.parametrize("after", [" hello", ' {"total": 1}', " [1]"])
def test_only_a_call_may_follow_a_semicolon(after: str) -> None:
    """The error is at the first character after the ``;`` and its whitespace; parsing
    resumes at the next ``<|python_tag|>``."""
    src = call("ping", {}) + ";" + after + TAG + call("ping", {})
    events = check(src)
    offset = len(call("ping", {})) + 2
    assert errors(events) == [("unexpected_text", offset)]
    (err,) = typed(events, "error")
    assert (err.line, err.column) == position(src, offset)
    assert summary(events)["calls"] == [("ping", {}), ("ping", {})]


@pytest.mark.parametrize(
    ("body", "code", "at"),
    [
        ('{"name": "f", "parameters": {"a": }}', "invalid_json", 34),
        ('{"name": "f"}', "invalid_arguments", 0),
        ('{"name": "f", "parameters": [1]}', "invalid_arguments", 28),
        ('{"name": "f", "parameters": "[1]"}', "invalid_arguments", 28),  # not an object
    ],
)
def test_malformed_tagged_call_then_parsing_resumes(body: str, code: str, at: int) -> None:
    src = "Hi " + TAG + body + " junk " + TAG + call("ping", {})
    events = check(src)
    offset = len("Hi " + TAG) + at
    assert errors(events) == [(code, offset)]
    assert summary(events)["calls"] == [("ping", {})]
    assert summary(events)["content"] == "Hi "


@pytest.mark.parametrize("tagged", [False, True])
def test_unknown_tool_is_an_error_and_other_calls_survive(tagged: bool) -> None:
    head = TAG if tagged else ""
    src = head + call("get_weather", {"city": "Paris"}) + "; " + call("rm_everything", {})
    src += "; " + call("ping", {})
    events = check(src, tools=TOOLS)
    bad = src.index(call("rm_everything", {}))
    assert errors(events) == [("unknown_tool", bad)]
    assert [(c.index, c.name) for c in typed(events, "tool_call")] == [
        (0, "get_weather"),
        (2, "ping"),
    ]
    assert [c.name for c in typed(run(FORMAT, [src]), "tool_call")] == [
        "get_weather",
        "rm_everything",
        "ping",
    ]


def test_strict_mode_raises_at_the_first_error_and_stays_failed() -> None:
    parser = toolwire.parser(FORMAT, strict=True)
    assert summary(parser.feed("Hi " + TAG))["content"] == "Hi "
    with pytest.raises(ParseError) as info:
        parser.feed('{"name": "f", "parameters": {"a": tru}}')
    offset = len("Hi " + TAG + '{"name": "f", "parameters": {"a": tru')
    assert (info.value.code, info.value.offset, info.value.line, info.value.column) == (
        "invalid_json",
        offset,
        1,
        offset + 1,
    )
    with pytest.raises(ParseError):
        parser.feed("x")


def test_strict_mode_takes_answers_as_text() -> None:
    """A JSON answer is not an error, so strict mode accepts it."""
    for src in ('{"total": 3}', '{"a": } broken', call("ping", {}) + " and text"):
        assert coalesce(run(FORMAT, [src], strict=True)) == coalesce(run(FORMAT, [src]))


# -- the oracle generator ------------------------------------------------------------------------

FRAGMENTS = [
    TAG,
    "<|python_tag|",
    "<|",
    "|>",
    "<|eot_id|>",
    "<|eom_id|>",
    "{",
    "}",
    ";",
    '"',
    '{"name"',
    "{}",
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
]
raw_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=8).map(
    "".join
)
MARKERS = re.compile(re.escape(TAG) + "|" + re.escape(HEADER.rstrip("\n")))
STOPS = ("<|eom_id|>", "<|eot_id|>")
STOP_TOKENS = re.compile("|".join(re.escape(stop) for stop in STOPS))
stops = st.sampled_from(STOPS)
OPENS = re.compile(r"^(?:[ \t\r\n]*[{;]|<\|eo[mt]_id\|>)")
"""Text that would be a call's lead, a separator or a stop token where a call may
follow."""


def break_matches(text: str, pattern: re.Pattern[str]) -> str:
    while (m := pattern.search(text)) is not None:
        text = text[: m.start() + 1] + " " + text[m.start() + 1 :]
    return text


def plain(text: str) -> str:
    """Text free of markers that does not start like a call or a separator."""
    text = break_matches(text, MARKERS)
    return "x" + text if OPENS.match(text) else text


call_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_ABC0123-.é", min_size=1, max_size=10)
json_ws = st.sampled_from(["", "", " ", "\n", "\n  ", "\t"])
separators = st.sampled_from([";", "; ", " ; ", ";\n", "\n;\n"])


@st.composite
def bodies(draw: st.DrawFn) -> tuple[str, int, str, str, Any, bool]:
    """(call object, offset of the arguments in it, their raw text, name, arguments,
    whether the name comes before the arguments): any key order, ``parameters`` or
    ``arguments``, sometimes ``"type": "function"``, any JSON spacing."""
    name = draw(call_names)
    args = draw(objects)
    raw = draw(dumps(args))
    key = draw(st.sampled_from(["parameters", "parameters", "arguments"]))
    colon = draw(st.sampled_from([": ", ":", " : "]))
    comma = draw(st.sampled_from([", ", ",", ",\n  "]))
    members = [
        ("name", '"name"' + colon + json.dumps(name, ensure_ascii=draw(st.booleans()))),
        ("args", f'"{key}"' + colon + raw),
    ]
    if draw(st.booleans()):
        members.append(("type", '"type"' + colon + '"function"'))
    order = draw(st.permutations(members))
    text = "{" + draw(json_ws)
    at = -1
    for k, (what, member) in enumerate(order):
        if k:
            text += comma
        if what == "args":
            at = len(text) + len(member) - len(raw)
        text += member
    text += draw(json_ws) + "}"
    name_first = [w for w, _ in order].index("name") < [w for w, _ in order].index("args")
    return text, at, raw, name, args, name_first


def holds_object(value: Any) -> bool:
    """An object, or a string holding one (double-encoded arguments, decoded once)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return False
    return isinstance(value, dict)


def is_call(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    keys = set(value) - {"type"}
    arg = keys - {"name"}
    return (
        "name" in keys
        and isinstance(value["name"], str)
        and len(arg) == 1
        and arg <= {"parameters", "arguments"}
        and holds_object(value[next(iter(arg))])
    )


answers = st.one_of(
    st.sampled_from(
        [
            '{"total": 3}',
            "{}",
            '{"name": "Bob"}',
            '{"name": "f", "parameters": [1]}',
            '{"a": }',
            '{"a" 1}',
            "{x}",
            '{"k": "<|python_tag|>"}',
        ]
    ),
    st.dictionaries(st.sampled_from(["name", "parameters", "total", "a"]), json_values)
    .filter(lambda v: not is_call(v))
    .map(json.dumps),
)


cut_answers = st.dictionaries(st.sampled_from(["total", "a", "items", ""]), json_values, min_size=1)
"""Answers with no top-level call key: cut anywhere, still text."""


@dataclass(kw_only=True)
class Doc(OracleDoc):
    """A generated llama3-json output and the events it must give."""

    prompt: str | None = None


def add_call(draw: st.DrawFn, doc: Doc, lead: str, withheld: bool, in_span: bool) -> None:
    """``lead`` (whitespace before ``{``, part of the span if ``in_span``) and one call
    object."""
    start = doc.add(lead) if in_span else doc.add(lead) + len(lead)
    body, _, raw, name, args, name_first = draw(bodies())
    doc.add(body)
    index = doc.index
    doc.index += 1
    done = {
        "type": "tool_call",
        "index": index,
        "id": f"call_{index}",
        "name": name,
        "arguments": args,
        "raw": raw,
        "span": [start, len(doc.text)],
    }
    doc.events += [
        {
            "type": "tool_call_start",
            "index": index,
            "id": f"call_{index}",
            # A withheld (bare) call starts when it is complete, with its name.
            "name": name if withheld or name_first else None,
        },
        {"type": "tool_call_delta", "index": index, "id": f"call_{index}", "text": raw},
        done,
    ]
    doc.calls.append(done)
    doc.after_call = False


def add_calls(draw: st.DrawFn, doc: Doc, withheld: bool) -> None:
    """One or more calls joined by ``;``, by whitespace alone (the next object is
    withheld like a message's first), or (tagged) by ``<|python_tag|>`` (whitespace
    before a repeated tag is text, verbatim); then, sometimes, a stop token."""
    for k in range(draw(st.integers(1, 3))):
        lead = draw(st.sampled_from(["", "", " ", "\n", "\n\n"]))
        join = draw(st.sampled_from(["semi", "next", "tag"])) if k else "first"
        if join == "semi" or (join == "tag" and withheld):
            doc.add(draw(separators))
        elif join == "tag":
            ws = draw(st.sampled_from(["", " ", "\n"]))
            doc.add(ws)
            doc.block("text", ws)
            doc.add(TAG)
        # At the start of a message and between calls joined by whitespace, the
        # whitespace before "{" belongs to the call (after ";" and "<|python_tag|>"
        # it belongs to them).
        in_span = (withheld and k == 0) or join == "next"
        add_call(draw, doc, lead, withheld or join == "next", in_span=in_span)
    if draw(st.integers(0, 3)) == 0:
        doc.add(draw(stops))


def record_call(
    doc: Doc, name: str, arguments: Any, raw: str, start: int, deltas: list[str]
) -> None:
    """A built-in or code call: started with its name, its text in ``deltas``."""
    index = doc.index
    doc.index += 1
    ident = f"call_{index}"
    done = {
        "type": "tool_call",
        "index": index,
        "id": ident,
        "name": name,
        "arguments": arguments,
        "raw": raw,
        "span": [start, len(doc.text)],
    }
    doc.events.append({"type": "tool_call_start", "index": index, "id": ident, "name": name})
    doc.events += [
        {"type": "tool_call_delta", "index": index, "id": ident, "text": d} for d in deltas if d
    ]
    doc.events.append(done)
    doc.calls.append(done)
    doc.after_call = False


def add_builtin(draw: st.DrawFn, doc: Doc) -> None:
    """``<|python_tag|>brave_search.call(query="...")``, sometimes a stop token."""
    start = doc.add(TAG + draw(st.sampled_from(["", " ", "\n"])))
    name = draw(st.sampled_from(["brave_search", "wolfram_alpha"]))
    query = draw(st.text(max_size=8))
    raw = "query=" + json.dumps(query, ensure_ascii=draw(st.booleans()))
    doc.add(f"{name}.call({raw})")
    record_call(doc, name, {"query": query}, raw, start, [raw])
    if draw(st.booleans()):
        doc.add(draw(stops))


def code_text(draw: st.DrawFn, last: bool) -> str:
    """Code: no stop token inside, not blank (``str.strip``, as the parser decides), a
    first character that is neither an ASCII blank nor ``{`` nor the start of a
    built-in call; at the end of the input, not ending in what may
    be the start of a stop token."""
    code = break_matches(draw(raw_text), STOP_TOKENS)
    if not code.strip() or code[0] in "{ \t\r\n" or code.startswith(("brave_", "wolfram_")):
        code = "x" + code
    at = code.rfind("<")
    if last and at >= 0 and any(stop.startswith(code[at:]) for stop in STOPS):
        code += "x"
    return code


def add_code(draw: st.DrawFn, doc: Doc, last: bool = False) -> None:
    """``<|python_tag|>`` + code + a stop token (none when ``last``: the end of the
    input completes the call)."""
    start = doc.add(TAG + draw(st.sampled_from(["", " ", "\n"])))
    code = code_text(draw, last)
    doc.add(code + ("" if last else draw(stops)))
    record_call(doc, CODE_TOOL, {"code": code}, code, start, [code])


@st.composite
def documents(draw: st.DrawFn) -> Doc:
    """A message (bare calls, a JSON answer, or text) then text and ``<|python_tag|>``
    groups; ``tail``: "none", "cut_call" (cut inside a tagged call's JSON) or
    "announced" (a trailing ``;`` after a call, or ``<|python_tag|>``)."""
    doc = Doc(prompt=draw(st.sampled_from([None, HEADER, "<|eot_id|>" + HEADER])))
    start = draw(st.sampled_from(["bare", "answer", "text", "empty", "cut_answer"]))
    pending = ""  # content not yet recorded: consecutive pieces form one block
    guarded = True  # the pending run began where a call's lead or a ";" would count
    if start == "cut_answer":  # max_tokens inside a JSON answer: text, verbatim
        answer = draw(dumps(draw(cut_answers)))
        doc.add(answer[: draw(st.integers(1, len(answer) - 1))])
        doc.block("text", doc.text)
        return doc
    if start == "bare":
        add_calls(draw, doc, withheld=True)
    elif start == "answer":
        pending = draw(answers) + draw(st.sampled_from(["", " was the result", "\n"]))
        guarded = False
        doc.add(pending)
    for kind in draw(
        st.lists(st.sampled_from(["text", "tagged", "tagged", "builtin", "code"]), max_size=4)
    ):
        if kind == "text":
            piece = break_matches(draw(raw_text), MARKERS)
            if MARKERS.search(pending[-20:] + piece) or (guarded and OPENS.match(pending + piece)):
                piece = "x" + piece
            doc.add(piece)
            pending += piece
            continue
        doc.block("text", pending)
        pending = ""
        if kind == "builtin":
            add_builtin(draw, doc)
        elif kind == "code":
            add_code(draw, doc)
        else:
            doc.add(TAG)
            add_calls(draw, doc, withheld=False)
        guarded = True
    doc.tail = draw(st.sampled_from(["none", "none", "cut_call", "announced", "open_code"]))
    doc.block("text", pending)
    last_is_call = bool(doc.calls) and doc.text.endswith("}") and not pending
    if doc.tail == "open_code":  # the stop token stripped: the end completes the call
        add_code(draw, doc, last=True)
        doc.tail = "none"
    elif doc.tail == "announced":
        doc.add(draw(st.sampled_from([";", " ;", TAG])) if last_is_call else TAG)
        doc.error("truncated", len(doc.text))
    elif doc.tail == "cut_call":
        doc.add(TAG)
        saved = (list(doc.events), list(doc.calls), doc.index, doc.after_call)
        begin = len(doc.text)
        add_call(draw, doc, "", withheld=False, in_span=False)
        end = len(doc.text)
        doc.events, doc.calls, doc.index, doc.after_call = saved
        doc.text = doc.text[: draw(st.integers(begin + 1, end - 1))]
    return doc


def llama_arguments(done: Any) -> Any:
    """The arguments a call's ``raw`` stands for: JSON, a built-in's keyword arguments
    (the text inside its parentheses) or the code itself."""
    if done.name == CODE_TOOL and not done.raw.lstrip().startswith(("{", '"')):
        return {"code": done.raw}
    if done.name in ("brave_search", "wolfram_alpha") and "=" in done.raw:
        scanner = PyKwargsScanner()
        assert scanner.feed(done.raw + ")", 0, len(done.raw) + 1) == len(done.raw) + 1
        return scanner.value()
    return json_arguments(done)


def check_earliest_completion(text: str, chunks: list[Any], **options: Any) -> list[list[Any]]:
    """Each tool_call comes out of the feed() whose chunk holds its completing character
    (a JSON call's ``}``, a built-in's ``)``, the ``>`` of a code call's stop token), or
    out of close() for code that the end of the input completes; returns the events of
    each feed() and of close()."""
    outs = feed_each(FORMAT, chunks, **options)
    for k, out in enumerate(outs):
        for done in typed(out, "tool_call"):
            end = done.span[1]
            if done.name == CODE_TOOL and not text[:end].endswith(STOPS):
                assert end == len(text) and k == len(outs) - 1, (done, k)
                continue
            assert text[end - 1] in "})>"
            assert k == chunk_holding(text, chunks, end - 1), (done, k)
    return outs


def check_oracle(doc: Doc, events: list[dict[str, Any]]) -> None:
    events = strip_messages(events)
    if doc.tail == "none":
        assert events == [*doc.events, doc.finish()]
    elif doc.tail == "announced":
        assert events == doc.events
    else:
        check_truncated_at_end(events, doc.events, doc.text)


@given(doc=documents(), data=st.data())
def test_oracle_events_and_earliest_completion(doc: Doc, data: st.DataObject) -> None:
    """Every block, call and error of the document with its offsets, whatever the
    chunking (str or UTF-8 bytes); each tool_call from the feed() holding its ``}``."""
    feed = partial(check_earliest_completion, doc.text, generation_prompt=doc.prompt)
    chunked_oracle(data, doc.text, feed, partial(check_oracle, doc))


@given(doc=documents())
def test_oracle_whole_char_by_char_and_byte_by_byte(doc: Doc) -> None:
    check = partial(check_oracle, doc)
    whole_char_byte_oracle(FORMAT, doc.text, check, generation_prompt=doc.prompt)


# -- the grammar-driven generator ------------------------------------------------------------


def _pieces(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Adjacent text pieces must not join into a delimiter: a piece that ends with a
    possible delimiter start gets a space."""
    ds = list(compiled(FORMAT).delimiters.values())

    def fix(s: str) -> str:
        k = s.rfind("<")
        return s + " " if k >= 0 and any(d.prefix(s, k) for d in ds) else s

    return strategy.map(fix)


def _lark_documents() -> st.SearchStrategy[str]:
    grammar = (resources.files("toolwire.grammars") / "llama3_json.lark").read_text("utf-8")
    lark = Lark(grammar, parser="lalr", lexer="contextual", start="start")
    rest_of_call = bodies().map(lambda b: b[0][1:])  # LEAD supplies the "{"
    explicit = {
        "TEXT": _pieces(raw_text.map(plain)),
        "LEAD": st.sampled_from(["{", " {", "\n{", "\n\n{"]),
        "NEXT": st.sampled_from(["{", " {", "\n{", "\n\n{", "\r\n{"]),
        "SEMI": separators,
        "BARE": rest_of_call,
        "TAGGED": rest_of_call,
        "PYARGS": st.sampled_from(['query="weather in Paris")', "query='2+2')", "query='')"]),
        # CODE_TAG supplies the code's first character; the body never completes a
        # stop token with it, and ends with one (text may follow).
        "CODE_BODY": st.builds(
            lambda code, stop: "x" + break_matches(code, STOP_TOKENS) + stop, raw_text, stops
        ),
    }
    return from_lark(lark, start="start", explicit=explicit)


@given(text=_lark_documents(), data=st.data())
def test_grammar_documents(text: str, data: st.DataObject) -> None:
    """What the grammar derives parses without errors, the same under any chunking
    (str and bytes), with consistent calls completed at their ``}``."""
    events = run(FORMAT, [text])
    assert typed(events, "error") == [], text
    check_calls(text, events, llama_arguments)
    whole = coalesce(events)
    assert coalesce(run(FORMAT, data.draw(chunkings(text)))) == whole
    assert coalesce(run(FORMAT, data.draw(chunkings(text.encode("utf-8"))))) == whole
    check_earliest_completion(text, data.draw(chunkings(text)))


# -- arbitrary input: clear errors --------------------------------------------------------------

arbitrary_texts = st.lists(
    st.one_of(
        st.sampled_from(
            [*FRAGMENTS, HEADER, "; ", call("f", {}), call("g", {"a": 1}, "arguments")]
        ),
        st.sampled_from(['{"total": 3}', '{"name": "f", "parameters": ', "brave_search.call("]),
        st.sampled_from(["query='x')", "print(1)\n", "<|eom_id|>", "<|eo", "\n{", '"{}"']),
        st.text(max_size=3),
    ),
    max_size=20,
).map("".join)


def check_llama_calls(text: str, events: list[Any]) -> None:
    """hermes' call checks, with llama3-json's arguments (``parameters``)."""
    check_calls(text, events, llama_arguments)


ARBITRARY_INPUT = ArbitraryInput(
    st.tuples(
        st.just(FORMAT),
        st.one_of(arbitrary_texts, documents().map(lambda d: d.text)),
        st.fixed_dictionaries(
            {
                "generation_prompt": st.sampled_from([None, HEADER]),
                "tools": st.sampled_from([None, TOOLS]),
            }
        ),
    ),
    check_llama_calls,
)
"""Arbitrary llama3-json input, checked by tests/test_guarantees.py."""
