"""The ``qwen3-coder`` format (FORMATS.md sections 3 and 12): readable examples, then
property tests over documents rendered the way the chat template renders them.

The generator (``documents()``) draws tool schemas and typed argument values, renders
each call as the template does (raw strings, ``tojson`` objects and arrays, Python or
JSON literals for scalars, the template's newlines or the compact layout, sometimes
without ``</parameter>`` or without ``<tool_call>``), surrounds the calls with content
and reasoning, and records what a correct parser returns: the oracle.  The properties
are DESIGN.md's guarantees: the oracle's result, chunk invariance over str and UTF-8
byte chunkings, earliest completion, nothing lost, and only ``ParseError`` from a
strict parser on arbitrary text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from conftest import chunkings, coalesce, run
from hypothesis import assume, given
from hypothesis import strategies as st

import toolwire
from tests.oracle import ArbitraryInput
from toolwire import (
    ErrorCode,
    Finish,
    ParseError,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
)

FORMAT = "qwen3-coder"
FORCED_OPEN = "<|im_start|>assistant\n<think>\n"
THINKING_OFF = "<|im_start|>assistant\n<think>\n\n</think>\n\n"

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "run_cmd",
            "parameters": {
                "type": "object",
                "properties": {
                    "cmd": {"type": "string"},
                    "timeout": {"type": "integer"},
                    "ratio": {"type": "number"},
                    "dry": {"type": "boolean"},
                    "cwd": {"type": ["string", "null"]},
                    "env": {"type": "object"},
                    "args": {"type": "array"},
                    "id": {"type": "string"},
                    "mode": {"enum": ["fast", "slow"]},
                    "limit": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                },
            },
        },
    },
    {"type": "function", "function": {"name": "ping", "parameters": {"type": "object"}}},
]


def call_block(name: str, params: list[tuple[str, str]], compact: bool = False) -> str:
    """A call as the template renders it (``params``: key, raw value text)."""
    if compact:
        body = "".join(f"<parameter={k}>{v}</parameter>" for k, v in params)
        return f"<tool_call><function={name}>{body}</function></tool_call>"
    body = "".join(f"<parameter={k}>\n{v}\n</parameter>\n" for k, v in params)
    return f"<tool_call>\n<function={name}>\n{body}</function>\n</tool_call>"


def calls(events: list[Any]) -> list[ToolCall]:
    return [e for e in events if isinstance(e, ToolCall)]


def visible(events: list[Any]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def thought(events: list[Any]) -> str:
    return "".join(e.text for e in events if isinstance(e, ReasoningDelta))


def errors(events: list[Any]) -> list[str]:
    return [e.code for e in events if e.type == "error"]


def args_of(src: str, **options: Any) -> dict[str, Any]:
    events = run(FORMAT, [src], tools=TOOLS, **options)
    assert errors(events) == []
    (call,) = calls(events)
    return call.arguments


def check_chunkings(src: str, **options: Any) -> list[Any]:
    """Events of the whole text, after checking char-by-char and byte-by-byte agree."""
    whole = run(FORMAT, [src], **options)
    assert coalesce(run(FORMAT, list(src), **options)) == coalesce(whole)
    data = src.encode("utf-8")
    one_byte = [data[i : i + 1] for i in range(len(data))]
    assert coalesce(run(FORMAT, one_byte, **options)) == coalesce(whole)
    return whole


# -- layouts -----------------------------------------------------------------------------------


def test_one_call_event_by_event() -> None:
    src = call_block("run_cmd", [("cmd", "ls -la"), ("timeout", "30")])
    end = src.index("</function>") + len("</function>")
    raw = "\n<parameter=cmd>\nls -la\n</parameter>\n<parameter=timeout>\n30\n</parameter>\n"
    events = run(FORMAT, [src], tools=TOOLS)
    assert events[0] == ToolCallStart(index=0, id="call_0", name="run_cmd")
    assert "".join(e.text for e in events if isinstance(e, ToolCallDelta)) == raw
    assert calls(events) == [
        ToolCall(
            index=0,
            id="call_0",
            name="run_cmd",
            arguments={"cmd": "ls -la", "timeout": 30},
            raw=raw,
            span=(0, end),
        )
    ]
    assert events[-1] == Finish(reason="tool_calls")


def test_compact_layout() -> None:
    src = call_block("run_cmd", [("cmd", "ls"), ("timeout", "5")], compact=True)
    assert args_of(src) == {"cmd": "ls", "timeout": 5}


def test_only_one_newline_on_each_side_is_markup() -> None:
    value = "\n  indented\n\nblank line above and a trailing newline\n"
    assert args_of(call_block("run_cmd", [("cmd", value)])) == {"cmd": value}


def test_spaces_and_newlines_between_tags() -> None:
    src = (
        "<tool_call>\n\n  <function=run_cmd>  \n <parameter=cmd>\nls\n</parameter>  \n"
        "\n</function> \n</tool_call>"
    )
    assert args_of(src) == {"cmd": "ls"}


def test_empty_arguments() -> None:
    events = check_chunkings("<tool_call>\n<function=ping>\n</function>\n</tool_call>")
    assert [(c.name, c.arguments, c.raw) for c in calls(events)] == [("ping", {}, "\n")]


# -- values: raw text with tags inside -----------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        'echo "</parameter>" > out.xml',
        "a</parameter>\nb",
        "first line\n</parameter> is data here\nlast",
        "</parameter>",
        "x\n</parameter>\nnot a tag",
        "<parameter=cmd> and </function> and </tool_call> mid-line",
    ],
)
def test_close_tags_inside_a_value_are_data(value: str) -> None:
    src = call_block("run_cmd", [("cmd", value), ("timeout", "1")])
    events = check_chunkings(src, tools=TOOLS)
    assert [c.arguments for c in calls(events)] == [{"cmd": value, "timeout": 1}]


def test_tool_call_text_inside_a_value_is_data() -> None:
    value = "<tool_call>\n<function=ping>\n<think>"
    src = call_block("run_cmd", [("cmd", value)]) + "\n" + call_block("ping", [])
    events = check_chunkings(src, tools=TOOLS)
    assert [(c.name, c.arguments) for c in calls(events)] == [
        ("run_cmd", {"cmd": value}),
        ("ping", {}),
    ]


def test_multi_line_json_values() -> None:
    env = '{\n  "PATH": "/bin",\n  "nested": {"k": [1, 2.5, null, true]}\n}'
    src = call_block("run_cmd", [("env", env), ("args", '[\n  "-l",\n  "-a"\n]')])
    assert args_of(src) == {
        "env": {"PATH": "/bin", "nested": {"k": [1, 2.5, None, True]}},
        "args": ["-l", "-a"],
    }


# -- typing by schema (FORMATS.md 0.1) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("dry", "cwd", "expected"),
    [
        ("True", "None", (True, None)),
        ("False", "None", (False, None)),
        ("true", "null", (True, None)),
        ("false", "null", (False, None)),
        ("true", "/tmp", (True, "/tmp")),
    ],
)
def test_python_and_json_literals(dry: str, cwd: str, expected: tuple[Any, Any]) -> None:
    got = args_of(call_block("run_cmd", [("dry", dry), ("cwd", cwd)]))
    assert (got["dry"], got["cwd"]) == expected


@pytest.mark.parametrize(
    "value", ["00917", "4_200", "3", "-1.5e3", "true", "None", '{"k": [1]}', "[1, 2]", " 7 "]
)
def test_numeric_and_json_looking_strings_stay_strings(value: str) -> None:
    assert args_of(call_block("run_cmd", [("id", value)])) == {"id": value}


def test_big_integers_are_exact() -> None:
    big = "123456789012345678901234567"
    got = args_of(
        call_block("run_cmd", [("timeout", big), ("ratio", "3e19"), ("limit", "-" + big)])
    )
    assert got == {"timeout": int(big), "ratio": 3e19, "limit": -int(big)}
    assert isinstance(got["timeout"], int) and got["timeout"] > 2**63


def test_untyped_values_are_kept_verbatim() -> None:
    """No schema for the key, or no tools at all: the text as written."""
    src = call_block("run_cmd", [("unknown_key", "42"), ("timeout", "42")])
    assert args_of(src) == {"unknown_key": "42", "timeout": 42}
    (call,) = calls(run(FORMAT, [src]))
    assert call.arguments == {"unknown_key": "42", "timeout": "42"}


def test_value_that_does_not_fit_its_schema_stays_a_string() -> None:
    assert args_of(call_block("run_cmd", [("timeout", "soon"), ("mode", "medium")])) == {
        "timeout": "soon",
        "mode": "medium",
    }


def test_empty_value_is_an_empty_string() -> None:
    src = call_block("run_cmd", [("cmd", ""), ("timeout", "1")])
    assert args_of(src) == {"cmd": "", "timeout": 1}


# -- missing tags -------------------------------------------------------------------------------


def test_missing_parameter_close() -> None:
    src = (
        "<tool_call>\n<function=run_cmd>\n<parameter=cmd>\nls\n"
        "<parameter=timeout>\n30\n</function>\n</tool_call>"
    )
    events = check_chunkings(src, tools=TOOLS)
    assert errors(events) == []
    assert [c.arguments for c in calls(events)] == [{"cmd": "ls", "timeout": 30}]


def test_missing_parameter_and_function_close() -> None:
    src = "<tool_call>\n<function=run_cmd>\n<parameter=cmd>\nls\n</tool_call>"
    (call,) = calls(check_chunkings(src, tools=TOOLS))
    assert call.arguments == {"cmd": "ls"}
    assert call.span == (0, len(src))


def test_missing_function_close() -> None:
    src = "<tool_call>\n<function=run_cmd>\n<parameter=cmd>\nls\n</parameter>\n</tool_call>"
    (call,) = calls(check_chunkings(src, tools=TOOLS))
    assert call.arguments == {"cmd": "ls"}
    assert call.span == (0, len(src))


def test_tags_mid_line_do_not_end_a_value_without_its_close() -> None:
    """Without ``</parameter>`` only a tag at the start of a line ends the value."""
    src = (
        "<tool_call>\n<function=run_cmd>\n<parameter=cmd>\nprint('<parameter=x>')\n"
        "</function>\n</tool_call>"
    )
    assert args_of(src) == {"cmd": "print('<parameter=x>')"}


# -- missing <tool_call>: outputs captured from real models ------------------------------------

BARE_TOOLS: list[dict[str, Any]] = [
    {"type": "function", "function": {"name": name, "parameters": {"properties": props}}}
    for name, props in {
        "special_function": {"arg1": {"type": "integer"}},
        "special_function_with_opt": {"arg1": {"type": "integer"}, "arg2": {"type": "integer"}},
        "Read": {"file_path": {"type": "string"}},
        "glob": {"pattern": {"type": "string"}},
        "list_files": {},
        "get_file_contents": {"file_name": {"type": "string"}},
        "a": {"x": {"type": "integer"}},
        "b": {"y": {"type": "integer"}},
    }.items()
]
SPECIAL = "<parameter=arg1>\n1\n</parameter>\n"
SPECIAL_OPT = "<parameter=arg1>\n1\n</parameter>\n<parameter=arg2>\n2\n</parameter>\n"

# (output, content, calls): Qwen3-Coder skipping the <tool_call> opener.
BARE_CASES: dict[str, tuple[str, str, list[tuple[str, dict[str, Any]]]]] = {
    # llama.cpp tests/test-chat.cpp, Qwen3-Coder block: "Some models skip the opening
    # <tool_call> and go straight to <function=>", with the closing </tool_call> kept.
    "llama.cpp: top level": (
        "<function=special_function>\n" + SPECIAL + "</function>\n</tool_call>",
        "",
        [("special_function", {"arg1": 1})],
    ),
    # llama.cpp, the same block: a sentence of prose first (llama.cpp keeps its "\n"
    # in the content; here it is the separator before a call, FORMATS.md 12).
    "llama.cpp: after prose": (
        "Let me call it.\n<function=special_function>\n" + SPECIAL + "</function>\n</tool_call>",
        "Let me call it.",
        [("special_function", {"arg1": 1})],
    ),
    # llama.cpp, the same block: "Only the first call may omit it, the rest keep the
    # </tool_call>\n<tool_call> separator".
    "llama.cpp: only the first call omits it": (
        "<function=special_function>\n"
        + SPECIAL
        + "</function>\n</tool_call>\n<tool_call>\n<function=special_function_with_opt>\n"
        + SPECIAL_OPT
        + "</function>\n</tool_call>",
        "",
        [("special_function", {"arg1": 1}), ("special_function_with_opt", {"arg1": 1, "arg2": 2})],
    ),
    # Ollama issue #16686 (qwen3-coder:30b behind Claude Code, deterministic for one
    # prompt): no opening <tool_call>, a trailing </tool_call>.
    "Ollama #16686: Read": (
        "<function=Read>\n<parameter=file_path>\n/path/to/the/file.md\n</parameter>\n"
        "</function>\n</tool_call>\n",
        "",
        [("Read", {"file_path": "/path/to/the/file.md"})],
    ),
    # Ollama issue #18530 (qwen3-coder:30b in OpenCode): a sentence of reasoning ending
    # in a blank line, then the call without its opener, closed by </tool_call>.
    "Ollama #18530: prose, blank line, call": (
        "I'll start by finding the Go files in the project.\n\n<function=glob>\n"
        "<parameter=pattern>\n**/*.go\n</parameter>\n</function>\n</tool_call>",
        "I'll start by finding the Go files in the project.",
        [("glob", {"pattern": "**/*.go"})],
    ),
    # Ollama issue #12751 (qwen3-coder, two tools): the reported content up to the
    # call it lost, a tool without parameters.
    "Ollama #12751: list_files": (
        "I'll help you explore the contents of each file in the current directory. First, "
        "I'll list all the files to see what we're working with, and then I'll examine "
        "each file's contents.\n\n<function=list_files>\n</function>\n</tool_call>",
        "I'll help you explore the contents of each file in the current directory. First, "
        "I'll list all the files to see what we're working with, and then I'll examine "
        "each file's contents.",
        [("list_files", {})],
    ),
    # The same report's follow-up shape: several opener-less calls in a row, each
    # closed by </tool_call>.
    "several in a row, each with </tool_call>": (
        "Reading both.\n\n<function=get_file_contents>\n<parameter=file_name>\na.txt\n"
        "</parameter>\n</function>\n</tool_call>\n<function=get_file_contents>\n"
        "<parameter=file_name>\nb.txt\n</parameter>\n</function>\n</tool_call>",
        "Reading both.",
        [
            ("get_file_contents", {"file_name": "a.txt"}),
            ("get_file_contents", {"file_name": "b.txt"}),
        ],
    ),
    # An engine's port of llama.cpp's Qwen3-Coder cases ("two calls in one region"):
    # several in a row, no </tool_call> at all.
    "several in a row, no </tool_call>": (
        "<function=a>\n<parameter=x>\n1\n</parameter>\n</function>\n"
        "<function=b>\n<parameter=y>\n2\n</parameter>\n</function>",
        "",
        [("a", {"x": 1}), ("b", {"y": 2})],
    ),
    "compact, glued to the prose and to each other": (
        "Ok.<function=a><parameter=x>1</parameter></function></tool_call>"
        "<function=b><parameter=y>2</parameter></function> and done.",
        "Ok. and done.",
        [("a", {"x": 1}), ("b", {"y": 2})],
    ),
}


def function_close_ends(src: str) -> list[int]:
    """Offsets just past each ``</function>``: where each call of ``BARE_CASES`` ends."""
    return [m.end() for m in re.finditer("</function>", src)]


def call_starts(src: str) -> list[int]:
    """Where each call of ``BARE_CASES`` starts: its ``<tool_call>`` if it has one,
    else its ``<function=``."""
    out = []
    for m in re.finditer("<function=", src):
        head = src[: m.start()].rstrip("\n")
        out.append(len(head) - len("<tool_call>") if head.endswith("<tool_call>") else m.start())
    return out


@pytest.mark.parametrize("case", list(BARE_CASES))
def test_missing_tool_call_opener_real_outputs(case: str) -> None:
    src, content, expected = BARE_CASES[case]
    events = check_chunkings(src, tools=BARE_TOOLS)
    assert errors(events) == []
    assert visible(events) == content  # no markup, no </tool_call> in the text
    got = calls(events)
    assert [(c.name, c.arguments) for c in got] == expected
    # Each call spans its <function=...> to its </function>, like a wrapped call's.
    assert [c.span for c in got] == list(
        zip(call_starts(src), function_close_ends(src), strict=True)
    )
    finish = "stop" if content.endswith("done.") else "tool_calls"
    assert events[-1] == Finish(reason=finish)
    # Earliest completion: fed one character at a time, each tool_call comes out of
    # the feed that delivers the ">" of its </function>.
    parser = toolwire.parser(FORMAT, tools=BARE_TOOLS)
    seen = [k + 1 for k, ch in enumerate(src) for _ in calls(parser.feed(ch))]
    assert not calls(parser.close())
    assert seen == function_close_ends(src)


def test_missing_tool_call_opener_text_after_the_call() -> None:
    src = "Running it.\n<function=run_cmd>\n<parameter=cmd>\nls\n</parameter>\n</function>\nDone."
    events = check_chunkings(src, tools=TOOLS)
    assert visible(events) == "Running it.Done."
    (call,) = calls(events)
    assert (call.name, call.arguments) == ("run_cmd", {"cmd": "ls"})
    assert call.span == (src.index("<function="), src.index("\nDone."))


@pytest.mark.parametrize("gap", ["", "\n", " \n\t", " " * 64])
def test_tool_call_close_after_a_bare_call_is_markup(gap: str) -> None:
    """The ``</tool_call>`` of the block the model never opened, after at most 64
    whitespace characters, is markup; the text after it is text."""
    call = "<function=ping>\n</function>"
    src = "Ping.\n" + call + gap + "</tool_call>\nPong."
    events = check_chunkings(src, tools=TOOLS)
    assert (visible(events), errors(events)) == ("Ping.Pong.", [])
    assert [c.span for c in calls(events)] == [(6, 6 + len(call))]


@pytest.mark.parametrize(
    ("after", "text"),
    [
        # Text first: top level again, where </tool_call> is text like any stray tag.
        (" ok </tool_call>", " ok </tool_call>"),
        ("\nok\n</tool_call>", "ok\n</tool_call>"),
        # Past 64 whitespace characters the tag is no longer the call's.
        (" " * 65 + "</tool_call>", " " * 65 + "</tool_call>"),
        # Only one </tool_call> belongs to the call.
        ("</tool_call></tool_call>", "</tool_call>"),
    ],
)
def test_tool_call_close_elsewhere_after_a_bare_call_is_text(after: str, text: str) -> None:
    src = "<function=ping>\n</function>" + after
    events = check_chunkings(src, tools=TOOLS)
    assert (visible(events), errors(events), len(calls(events))) == (text, [], 1)


@pytest.mark.parametrize(
    "src",
    [
        "Use <function=NAME> to call a tool, then </function>.",
        # An engine's port of llama.cpp's Qwen3-Coder cases: prose that mentions the tag.
        "call it with <function= to open the call",
        "the tag is <function=name> in this template",
        "<function=>\n</function>",  # no name: not a call head
        "Write <function=run_cmd>\nthen the parameters, then </function>\n</tool_call>.",
        "x <function=run_cmd>",
        "<function=run_cmd> <parameter",
    ],
)
def test_function_tag_mentioned_in_text_is_text(src: str) -> None:
    events = check_chunkings(src, tools=TOOLS)
    assert (visible(events), calls(events), errors(events)) == (src, [], [])


def test_function_tag_mentioned_then_a_bare_call() -> None:
    src = "The syntax is <function=NAME>; calling now.\n<function=ping>\n</function>"
    events = check_chunkings(src, tools=TOOLS)
    assert visible(events) == "The syntax is <function=NAME>; calling now."
    assert [c.name for c in calls(events)] == ["ping"]


@pytest.mark.parametrize(
    ("cut", "code"),
    [
        # continuedev/continue #13057 (qwen3-coder:30b on Ollama): the opener-less call
        # written without </parameter> nor </function>, then the end of the output.
        (
            "<function=create_new_file>\n<parameter=filepath> test.txt\n"
            "<parameter=contents> hello\n",
            "truncated",
        ),
        # An engine's port of llama.cpp's cases keeps these as calls ("function tag left
        # open"); a call whose syntax did not close is never reported (FORMATS.md 0).
        ("<function=f>\n<parameter=x>\n1\n</parameter>\n", "truncated"),
        ("<function=f>\n<parameter=x>\n1", "truncated"),
        # A tag cut short where only tags may follow: the input ended inside a
        # delimiter (the core's cut-delimiter rule), as for a wrapped call.
        ("<function=f>\n</function", "truncated"),
    ],
)
def test_bare_call_cut_by_the_end_is_an_error_never_a_call(cut: str, code: str) -> None:
    prose = 'I\'ll create a file called test.txt with the content "hello".'
    events = check_chunkings(prose + "\n\n" + cut)
    assert (visible(events), calls(events), errors(events)) == (prose, [], [code])


def test_input_may_end_after_function_close() -> None:
    """A client stopping generation at the ``tool_call`` event closes cleanly."""
    for tail in ("", "\n"):
        src = call_block("run_cmd", [("cmd", "ls")]).removesuffix("\n</tool_call>") + tail
        events = check_chunkings(src, tools=TOOLS)
        assert errors(events) == []
        assert [c.arguments for c in calls(events)] == [{"cmd": "ls"}]
        assert events[-1] == Finish(reason="tool_calls")


def test_several_functions_in_one_block() -> None:
    src = (
        "<tool_call>\n<function=ping>\n</function>\n"
        "<function=run_cmd>\n<parameter=cmd>\nls\n</parameter>\n</function>\n</tool_call>"
    )
    events = check_chunkings(src, tools=TOOLS)
    assert [(c.index, c.name, c.arguments) for c in calls(events)] == [
        (0, "ping", {}),
        (1, "run_cmd", {"cmd": "ls"}),
    ]


# -- content, reasoning, several calls ------------------------------------------------------------


def test_parallel_calls_with_content_before_and_after() -> None:
    src = (
        "Let me check both.\n\n"
        + call_block("run_cmd", [("cmd", "a")])
        + "\n"
        + call_block("run_cmd", [("cmd", "b")])
        + "\nBoth started."
    )
    events = check_chunkings(src, tools=TOOLS)
    assert visible(events) == "Let me check both.Both started."
    assert [(c.index, c.id, c.arguments) for c in calls(events)] == [
        (0, "call_0", {"cmd": "a"}),
        (1, "call_1", {"cmd": "b"}),
    ]
    assert errors(events) == []


def test_calls_glued_together_and_to_the_content() -> None:
    src = "Sure." + call_block("ping", []) + call_block("ping", [], compact=True)
    events = check_chunkings(src, tools=TOOLS)
    assert (visible(events), len(calls(events)), errors(events)) == ("Sure.", 2, [])


def test_reasoning_then_content_then_call() -> None:
    src = "<think>\nThe user wants a listing.\n</think>\n\nListing.\n\n" + call_block(
        "run_cmd", [("cmd", "ls")]
    )
    events = check_chunkings(src, tools=TOOLS)
    assert thought(events) == "The user wants a listing."
    assert visible(events) == "Listing."
    assert len(calls(events)) == 1


def test_forced_open_reasoning() -> None:
    src = "Plan: list files.\n</think>\n\n" + call_block("run_cmd", [("cmd", "ls")])
    events = check_chunkings(src, tools=TOOLS, generation_prompt=FORCED_OPEN)
    assert (thought(events), visible(events)) == ("Plan: list files.", "")
    assert [c.span for c in calls(events)] == [
        (src.index("<tool_call>"), src.index("</function>") + len("</function>"))
    ]


def test_thinking_disabled_prompt() -> None:
    src = "Hi.\n\n" + call_block("ping", [])
    events = check_chunkings(src, tools=TOOLS, generation_prompt=THINKING_OFF)
    assert (thought(events), visible(events), len(calls(events))) == ("", "Hi.", 1)


def test_call_inside_unclosed_reasoning() -> None:
    """Qwen3.5's most-reported failure: the call opens before ``</think>``."""
    src = "I should list the files.\n\n" + call_block("run_cmd", [("cmd", "ls")])
    events = check_chunkings(src, tools=TOOLS, generation_prompt=FORCED_OPEN)
    assert thought(events) == "I should list the files."
    assert [(c.name, c.arguments) for c in calls(events)] == [("run_cmd", {"cmd": "ls"})]
    assert errors(events) == []


def test_tool_call_mentioned_in_reasoning_stays_reasoning() -> None:
    src = "Maybe a <tool_call> block with JSON?\n</think>\n\nNo tool needed."
    events = check_chunkings(src, tools=TOOLS, generation_prompt=FORCED_OPEN)
    assert thought(events) == "Maybe a <tool_call> block with JSON?"
    assert (visible(events), calls(events)) == ("No tool needed.", [])


# -- completion, truncation, errors --------------------------------------------------------------


def test_tool_call_comes_from_the_feed_with_the_last_character_of_function_close() -> None:
    src = call_block("run_cmd", [("cmd", "ls")])
    end = src.index("</function>") + len("</function>")
    parser = toolwire.parser(FORMAT, tools=TOOLS)
    assert not calls(parser.feed(src[: end - 1]))
    assert [c.arguments for c in calls(parser.feed(src[end - 1 : end]))] == [{"cmd": "ls"}]
    assert not calls(parser.feed(src[end:]) + parser.close())


@pytest.mark.parametrize(
    ("cut", "code"),
    [
        ("<tool_call>\n<function=run_cmd>\n<parameter=cmd>\nrm -rf /tmp/bu", "truncated"),
        ("<tool_call>\n<function=run_cmd>\n<parameter=cmd>\nrm -rf /tmp/build\n", "truncated"),
        ("<tool_call>\n<function=run_cmd>\n<parameter=cmd>\nrm\n</parameter>", "truncated"),
        ("<tool_call>\n<function=run_cmd>\n<parameter=cmd>\nrm\n</parameter>\n", "truncated"),
        ("<tool_call>\n<function=run_cmd>\n<parameter=cmd>\nrm\n</parameter>\n</func", "truncated"),
        ("<tool_call>\n<function=run_cmd>\n<parameter=cmd>\n", "truncated"),
        ("<tool_call>\n<function=run_cmd>\n", "truncated"),
        ("<tool_call>\n", "truncated"),
        # A tag cut short where only tags may follow: the input ended inside it (the
        # core's rule for a cut delimiter, not specific to this format).
        ("<tool_call>\n<function=run_c", "truncated"),
        (
            "<tool_call>\n<function=run_cmd>\n<parameter=cmd>\nrm\n</parameter>\n<parameter=ti",
            "truncated",
        ),
    ],
)
def test_truncated_call_is_an_error_never_a_call(cut: str, code: str) -> None:
    events = check_chunkings("Deleting.\n" + cut, tools=TOOLS)
    assert calls(events) == []
    assert errors(events) == [code]
    assert visible(events) == "Deleting."
    with pytest.raises(ParseError) as info:
        run(FORMAT, ["Deleting.\n" + cut], tools=TOOLS, strict=True)
    assert info.value.code == code


@pytest.mark.parametrize(
    ("cut", "tail"),
    [
        ("<tool_call>\n<function=run_c", "<function=run_c"),
        (
            "<tool_call>\n<function=run_cmd>\n<parameter=cmd>\nrm\n</parameter>\n<parameter=ti",
            "<parameter=ti",
        ),
        ("<tool_call>\n<function=run_cmd>\n<parameter=cmd>\nrm\n</param", "\n</param"),
        # ``</parameter>`` closes a value only before the next tag (its look-ahead): a
        # cut inside that tag leaves the closer undecided, so the cut starts at it.
        (
            "<tool_call>\n<function=run_cmd>\n<parameter=cmd>\nrm\n</parameter>\n</func",
            "\n</parameter>\n</func",
        ),
    ],
)
def test_a_cut_tag_is_truncated_where_it_starts(cut: str, tail: str) -> None:
    """The ``truncated`` error of a tag cut by the end of the output points at the
    tag's first character, whatever the chunking, in strict mode too."""
    src = "Deleting.\n" + cut
    events = check_chunkings(src, tools=TOOLS)
    (err,) = [e for e in events if e.type == "error"]
    assert (err.code, src[err.offset :]) == ("truncated", tail)
    with pytest.raises(ParseError) as info:
        run(FORMAT, [src], tools=TOOLS, strict=True)
    assert (info.value.code, info.value.offset) == ("truncated", err.offset)


def test_unknown_tool_is_an_error_and_other_calls_survive() -> None:
    src = call_block("rm_everything", [("path", "/")]) + "\n" + call_block("ping", [])
    events = check_chunkings(src, tools=TOOLS)
    assert errors(events) == ["unknown_tool"]
    (err,) = [e for e in events if e.type == "error"]
    assert err.offset == 0
    assert [(c.index, c.name) for c in calls(events)] == [(1, "ping")]
    # Without tools= any name is accepted.
    assert [c.name for c in calls(run(FORMAT, [src]))] == ["rm_everything", "ping"]


def test_json_body_is_an_error_and_parsing_resumes() -> None:
    src = '<tool_call>\n{"name": "ping", "arguments": {}}\n</tool_call>\nThen: ' + call_block(
        "ping", []
    )
    events = check_chunkings(src, tools=TOOLS)
    assert errors(events) == ["unexpected_text"]
    assert visible(events) == "Then:"
    assert [c.name for c in calls(events)] == ["ping"]


def test_strict_mode_raises_at_the_first_error() -> None:
    parser = toolwire.parser(FORMAT, tools=TOOLS, strict=True)
    parser.feed("ok <tool_call>\n<function=ping>\n")
    with pytest.raises(ParseError) as info:
        parser.feed("garbage")
    assert info.value.code == ErrorCode.UNEXPECTED_TEXT
    offset = len("ok <tool_call>\n<function=ping>\n")
    assert (info.value.offset, info.value.line, info.value.column) == (offset, 3, 1)


# -- generated documents with an oracle ---------------------------------------------------------

SCHEMA_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "nullable": {"type": ["string", "null"]},
    "object": {"type": "object"},
    "array": {"type": "array"},
    "enum": {"enum": ["a", "b"]},
    "maybe_int": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
    "untyped": {},
}

NEAR_MISSES = [
    "<",
    ">",
    "</",
    "\n",
    "\n\n",
    "  ",
    "\t",
    "\r",
    "<parameter=",
    "<parameter=k>",
    "</parameter>",
    "</parameter",
    "\n</parameter>",
    "</function>",
    "</function",
    "<function=",
    "<function=f>",
    "</tool_call>",
    "<tool_call>",
    "<tool_call",
    "<think>",
    "</think>",
    "<|im_end|>",
    "é",
    "日本",
    "😀",
    '"',
    "\\",
    "{",
    "}",
    "x",
    "hello world",
    "0",
    "True",
    "null",
]
fragment = st.one_of(st.sampled_from(NEAR_MISSES), st.text(max_size=5))
soup = st.lists(fragment, max_size=12).map("".join)

# What the parser treats as structure in each place; generated text is made free of it
# by breaking each match with a space after its "<".
_LINE_TAG = r"\n(?:<parameter=[^<>\n]{1,256}>|</function>|</tool_call>)"
_CLOSE_BEFORE_TAG = r"</parameter>(?=[ \t\r\n]{0,64}(?:<parameter=|</function|</tool_call))"
IN_VALUE = re.compile(f"{_LINE_TAG}|{_CLOSE_BEFORE_TAG}")
IN_VALUE_WITHOUT_CLOSE = re.compile(f"{_LINE_TAG}|{_CLOSE_BEFORE_TAG}|</parameter>[ \t\r\n]*$")
IN_TEXT = re.compile(
    r"<tool_call>|<think>|<function=[^<>\n]{1,256}>(?=[ \t\r\n]{0,64}(?:<parameter=|</function))"
)
IN_REASONING = re.compile(r"</think>|<tool_call>(?=[ \t\r\n]{0,64}<function=[^<>\n])")


def break_matches(text: str, pattern: re.Pattern[str]) -> str:
    while (m := pattern.search(text)) is not None:
        k = text.index("<", m.start())
        text = text[: k + 1] + " " + text[k + 1 :]
    return text


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-.0123456789", min_size=1, max_size=10)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def typed_value(draw: st.DrawFn, kind: str) -> tuple[str, Any]:
    """(text as the template writes it, value the parser must return)."""
    py = draw(st.booleans())  # Python (Qwen3-Coder, Qwen3.5) or JSON (Coder-Next) literals
    if kind == "integer" or (kind == "maybe_int" and draw(st.booleans())):
        n = draw(st.integers(-(10**30), 10**30))
        return str(n), n
    if kind == "maybe_int" or (kind == "nullable" and draw(st.booleans())):
        return ("None" if py else "null"), None
    if kind == "number":
        x = draw(
            st.one_of(
                st.integers(-(10**20), 10**20), st.floats(allow_nan=False, allow_infinity=False)
            )
        )
        return repr(x), x
    if kind == "boolean":
        b = draw(st.booleans())
        return (str(b) if py else json.dumps(b)), b
    if kind in ("object", "array"):
        v: Any = (
            draw(st.dictionaries(st.text(max_size=4), json_values, max_size=3))
            if kind == "object"
            else draw(st.lists(json_values, max_size=3))
        )
        return json.dumps(v, indent=draw(st.sampled_from([None, 2]))), v
    if kind == "enum":
        e = draw(st.sampled_from(["a", "b"]))
        return e, e
    # string, nullable (its string branch), untyped: raw text, kept verbatim.
    s = draw(st.one_of(soup, st.sampled_from(["00917", "4_200", "42", "true", '{"k": 1}'])))
    if kind == "nullable":
        assume(s.strip() not in ("None", "null"))
    return s, s


@dataclass
class Doc:
    text: str
    prompt: str | None
    tools: list[dict[str, Any]]
    content: str
    reasoning: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    """name, arguments, raw, span."""
    tail: str = ""
    """The text after the last call."""


@st.composite
def call_markup(
    draw: st.DrawFn, name: str, kinds: dict[str, str], start: int, bare: bool
) -> tuple[str, dict[str, Any]]:
    """One call as the template renders it, with the variations models produce: the
    compact layout, a missing ``</parameter>``, a missing ``<tool_call>`` (with or
    without the ``</tool_call>`` after ``</function>``)."""
    keys = draw(st.lists(st.sampled_from(sorted(kinds)), unique=True, max_size=4)) if kinds else []
    compact = draw(st.booleans())
    head = "" if bare else ("<tool_call>" if compact else "<tool_call>\n")
    head += f"<function={name}>"
    raw = "" if compact else "\n"
    closer = "</function>"
    arguments: dict[str, Any] = {}
    for i, key in enumerate(keys):
        text, value = draw(typed_value(kinds[key]))
        unclosed = not compact and draw(st.booleans())
        broken = break_matches(text, IN_VALUE_WITHOUT_CLOSE if unclosed else IN_VALUE)
        if broken != text:
            assume(isinstance(value, str))
            text = value = broken
        if not text:
            text = value = "x"  # an empty value is a core gap (see the xfail above)
        # Compact values cannot start or end with a newline (it would be markup).
        tight = compact and not (text.startswith("\n") or text.endswith("\n"))
        if tight:
            raw += f"<parameter={key}>{text}</parameter>"
        elif unclosed:
            raw += f"<parameter={key}>\n{text}"
        else:
            raw += f"<parameter={key}>\n{text}\n</parameter>" + ("" if compact else "\n")
        arguments[key] = value
        if unclosed:
            if i == len(keys) - 1:
                closer = "\n</function>"  # the value's last newline is markup
            else:
                raw += "\n"  # the next "<parameter=" starts a line
    markup = head + raw + closer
    end = start + len(markup)
    if not bare:
        markup += "</tool_call>" if compact else "\n</tool_call>"
    else:
        # The </tool_call> of the block the model never opened: missing, or markup.
        markup += draw(
            st.sampled_from(["", "", "</tool_call>", "\n</tool_call>", " \n\t</tool_call>"])
        )
    return markup, {"name": name, "arguments": arguments, "raw": raw, "span": (start, end)}


BARE_TAIL = re.compile(r"[ \t\r\n]{0,64}</tool_call>")
"""What the parser takes as the ``</tool_call>`` of an opener-less call right after
its ``</function>``."""


def after_open_bare_call(text: str) -> str:
    """Text following a bare call that has no ``</tool_call>``, cleared of one at its
    start (which would be the call's markup, not text)."""
    while (m := BARE_TAIL.match(text)) is not None:
        k = text.index("<", m.start())
        text = text[: k + 1] + " " + text[k + 1 :]
    return text


def expected_text(segment: str, before_call: bool) -> str:
    """FORMATS.md 12: leading newlines of a run and whitespace before a call opener
    are template separators."""
    segment = segment.lstrip("\n")
    return segment.rstrip(" \t\r\n") if before_call else segment


@st.composite
def documents(draw: st.DrawFn) -> Doc:
    """A generated model output and its oracle."""
    kinds: dict[str, dict[str, str]] = {}
    for tool_name in draw(st.lists(names, min_size=1, max_size=3, unique=True)):
        keys = draw(st.lists(names, max_size=5, unique=True))
        kinds[tool_name] = {k: draw(st.sampled_from(sorted(SCHEMA_TYPES))) for k in keys}
    tools = [
        {
            "type": "function",
            "function": {
                "name": tool_name,
                "parameters": {
                    "type": "object",
                    "properties": {k: SCHEMA_TYPES[kind] for k, kind in props.items()},
                },
            },
        }
        for tool_name, props in kinds.items()
    ]
    mode = draw(st.sampled_from(["plain", "think", "forced", "forced-call", "off"]))
    prompt = {"forced": FORCED_OPEN, "forced-call": FORCED_OPEN, "off": THINKING_OFF}.get(mode)
    text = ""
    reasoning = ""
    if mode in ("think", "forced", "forced-call"):
        r = break_matches(draw(soup), IN_REASONING)
        text += ("<think>\n" if mode == "think" else "") + r
        if mode == "forced-call":
            # The call opens inside the unclosed reasoning, which ends there.
            text += draw(st.sampled_from(["\n\n", "\n", ""]))
            reasoning = r.lstrip("\n").rstrip("\n")
        else:
            text += "\n</think>\n\n"
            reasoning = r.strip("\n")
    content = ""
    calls_: list[dict[str, Any]] = []
    open_bare = False  # the last call is bare, without its </tool_call>
    for i in range(draw(st.integers(1 if mode == "forced-call" else 0, 3))):
        in_reasoning = mode == "forced-call" and i == 0
        if not in_reasoning:
            # Content before the call: the template puts "\n\n" after content, "\n"
            # between calls; models also glue them.
            seg = break_matches(draw(soup), IN_TEXT)
            piece = ("\n" if i else "") + seg + draw(st.sampled_from(["\n\n", "\n", ""]))
            if open_bare:
                piece = after_open_bare_call(piece)
            text += piece
            content += expected_text(piece, before_call=True)
        bare = not in_reasoning and draw(st.integers(0, 3)) == 0
        name = draw(st.sampled_from(sorted(kinds)))
        markup, call = draw(call_markup(name, kinds[name], len(text), bare))
        text += markup
        calls_.append(call)
        open_bare = bare and not markup.endswith("</tool_call>")
    tail = break_matches(draw(soup), IN_TEXT)
    if calls_ and tail:
        tail = "\n" + tail
    if open_bare:
        tail = after_open_bare_call(tail)
    text += tail
    content += expected_text(tail, before_call=False)
    return Doc(text, prompt, tools, content, reasoning, calls_, tail)


def options(doc: Doc, **extra: Any) -> dict[str, Any]:
    return {"tools": doc.tools, "generation_prompt": doc.prompt, **extra}


@given(documents())
def test_generated_documents_parse_to_the_oracle(doc: Doc) -> None:
    events = run(FORMAT, [doc.text], **options(doc))
    assert errors(events) == []
    assert visible(events) == doc.content
    assert thought(events) == doc.reasoning
    got = [
        {"name": c.name, "arguments": c.arguments, "raw": c.raw, "span": c.span}
        for c in calls(events)
    ]
    assert got == doc.calls
    # "tool_calls" when the output ends with calls (text after them: the model went on).
    ends_with_calls = doc.calls and not expected_text(doc.tail, before_call=False).strip()
    assert events[-1] == Finish(reason="tool_calls" if ends_with_calls else "stop")
    # Nothing lost: the argument deltas of each call concatenate to its raw text.
    for call in calls(events):
        deltas = [e.text for e in events if isinstance(e, ToolCallDelta) and e.index == call.index]
        assert "".join(deltas) == call.raw
    starts = [e for e in events if isinstance(e, ToolCallStart)]
    assert [(s.index, s.name) for s in starts] == [(c.index, c.name) for c in calls(events)]


@given(documents(), st.data())
def test_chunk_invariance(doc: Doc, data: st.DataObject) -> None:
    whole = coalesce(run(FORMAT, [doc.text], **options(doc)))
    as_bytes = data.draw(st.booleans())
    payload: Any = doc.text.encode("utf-8") if as_bytes else doc.text
    chunks = data.draw(chunkings(payload))
    assert coalesce(run(FORMAT, chunks, **options(doc))) == whole


@given(documents(), st.data())
def test_earliest_completion(doc: Doc, data: st.DataObject) -> None:
    """Each tool_call comes out of the feed that delivers the last character of its
    ``</function>`` (or ``</tool_call>`` where that is the closer), never earlier or later."""
    chunks = data.draw(chunkings(doc.text))
    parser = toolwire.parser(FORMAT, **options(doc))
    seen: list[tuple[int, int]] = []  # (call index, end offset of the chunk that emitted it)
    offset = 0
    for chunk in chunks:
        offset += len(chunk)
        seen += [(c.index, offset) for c in calls(parser.feed(chunk))]
    assert not calls(parser.close())
    ends = [0]
    for chunk in chunks:
        ends.append(ends[-1] + len(chunk))
    expected = []
    for index, call in enumerate(doc.calls):
        last = call["span"][1] - 1
        expected.append((index, next(e for e in ends if e > last)))
    assert seen == expected


TAGS = [
    "<tool_call>\n<function=run_cmd>\n",
    "<function=ping>\n",
    "<parameter=cmd>\n",
    "<parameter=timeout>",
    "\n</parameter>\n",
    "</function>\n</tool_call>",
    "</function>",
    "\n</think>\n\n",
]
tag_soup = st.lists(st.one_of(fragment, st.sampled_from(TAGS)), max_size=20).map("".join)


def without_layout_before_errors(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Coalesced events minus the whitespace ending a call's argument text right before
    an error: the core drops that layout when it reaches the error in the same feed,
    and delivers it when a chunk ended there (see the xfail below)."""
    out: list[dict[str, Any]] = []
    for event in events:
        if event["type"] == "error" and out and out[-1]["type"] == "tool_call_delta":
            out[-1] = {**out[-1], "text": out[-1]["text"].rstrip(" \t\r\n")}
            if not out[-1]["text"]:
                out.pop()
        out.append(event)
    return out


def test_layout_before_an_error_is_delivered_whatever_the_chunking() -> None:
    src = "<tool_call>\n<function=ping>\n<<"
    assert coalesce(run(FORMAT, [src])) == coalesce(run(FORMAT, [src[:-2], src[-2:]]))


ARBITRARY_INPUT = ArbitraryInput(
    st.tuples(
        st.just(FORMAT),
        tag_soup,
        st.fixed_dictionaries(
            {
                "generation_prompt": st.sampled_from([None, FORCED_OPEN]),
                "tools": st.sampled_from([None, TOOLS]),
            }
        ),
    ),
    normalise=without_layout_before_errors,
)
"""Arbitrary qwen3-coder input, checked by tests/test_guarantees.py."""
