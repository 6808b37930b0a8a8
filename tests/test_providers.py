"""Provider parsers, rule by rule: identity policy, completion, truncation, in-band
errors, provider-executed tools, strict mode, and Ollama's documented shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

import toolwire
from tests.conftest import run
from toolwire.events import (
    Error,
    Event,
    Finish,
    ProviderError,
    ProviderToolCall,
    ToolCall,
    ToolCallStart,
)
from toolwire.providers.base import SchemaError
from toolwire.providers.gemini import PathWriter, parse_path


def sse(*payloads: Any, events: bool = False) -> bytes:
    out = []
    for p in payloads:
        if isinstance(p, str):
            out.append(f"data: {p}\n\n")
            continue
        head = f"event: {p['type']}\n" if events else ""
        out.append(f"{head}data: {json.dumps(p)}\n\n")
    return "".join(out).encode()


def chat(
    delta: dict[str, Any] | None = None, finish: str | None = None, **top: Any
) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta or {}, "finish_reason": finish}
    return {"object": "chat.completion.chunk", "choices": [choice], **top}


def tc(
    index: int | None = None,
    id: str | None = None,
    name: str | None = None,
    args: str | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"function": {}}
    if index is not None:
        entry["index"] = index
    if id is not None:
        entry["id"] = id
    if name is not None:
        entry["function"]["name"] = name
    if args is not None:
        entry["function"]["arguments"] = args
    return entry


def of(events: list[Event], cls: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


# -- registry ------------------------------------------------------------------------


def test_registered() -> None:
    for name in ("openai-chat", "openai-responses", "anthropic", "gemini", "ollama"):
        assert name in toolwire.formats()
        info = toolwire.format_info(name)
        assert info.description and info.models
        assert isinstance(toolwire.parser(name), toolwire.ProviderParser)
    with pytest.raises(ValueError):
        toolwire.parser("openai-chat", generation_prompt="<x>")


# -- openai-chat: identity and completion --------------------------------------------


def test_call_completes_in_the_feed_with_its_closing_brace() -> None:
    p = toolwire.parser("openai-chat")
    first = p.feed(sse(chat({"tool_calls": [tc(0, "call_a", "f", '{"x": ')]})))
    assert [type(e).__name__ for e in first] == ["ToolCallStart", "ToolCallDelta"]
    done = p.feed(sse(chat({"tool_calls": [tc(0, args="1}")]})))
    call = of(done, ToolCall)[0]
    assert (call.id, call.name, call.arguments, call.raw) == ("call_a", "f", {"x": 1}, '{"x": 1}')
    assert p.message.tool_calls[0].arguments == {"x": 1}
    rest = p.feed(sse(chat(finish="tool_calls"), "[DONE]")) + p.close()
    assert of(rest, ToolCall) == []
    assert of(rest, Finish) == [Finish(reason="tool_calls", raw_reason="tool_calls")]


def test_parallel_calls_by_index_interleaved_and_merged_in_one_chunk() -> None:
    body = sse(
        chat({"tool_calls": [tc(0, "a", "f", '{"k"'), tc(1, "b", "g", "{")]}),
        chat({"tool_calls": [tc(1, "", "", '"z": 2'), tc(0, args=": 1"), tc(0, args="}")]}),
        chat({"tool_calls": [tc(1, args="}")]}, "tool_calls"),
    )
    m = toolwire.collect(run("openai-chat", [body]))
    assert [(c.id, c.name, c.arguments) for c in m.tool_calls] == [
        ("a", "f", {"k": 1}),
        ("b", "g", {"z": 2}),
    ]
    assert m.errors == () and m.finished  # no [DONE]: the finish reason is enough


def test_identity_by_id_then_position() -> None:
    body = sse(
        chat({"tool_calls": [tc(id="a", name="f", args="{")]}),
        chat({"tool_calls": [tc(id="b", name="g", args="{}")]}),
        chat({"tool_calls": [tc(id="a", args="}")]}),
        chat({"tool_calls": [tc(name="h", args='{"q"')]}),  # no index, no id: new (named)
        chat({"tool_calls": [tc(args=":0}")]}),  # no index, no id, no name: continues h
        chat(finish="tool_calls"),
        "[DONE]",
    )
    m = toolwire.collect(run("openai-chat", [body]))
    assert [(c.index, c.id, c.name, c.arguments) for c in m.tool_calls] == [
        (0, "a", "f", {}),
        (1, "b", "g", {}),
        (2, "call_2", "h", {"q": 0}),
    ]
    assert m.errors == ()


def test_index_reused_with_a_new_id_is_a_new_call() -> None:
    body = sse(
        chat({"tool_calls": [tc(0, "a", "f", "{}")]}),
        chat({"tool_calls": [tc(0, "b", "g", '{"y": []}')]}),
        chat(finish="tool_calls"),
        "[DONE]",
    )
    m = toolwire.collect(run("openai-chat", [body]))
    assert [(c.id, c.name) for c in m.tool_calls] == [("a", "f"), ("b", "g")]


def test_text_after_completion_is_an_error_never_a_second_call() -> None:
    body = sse(
        chat({"tool_calls": [tc(0, "a", "f", '{"x": 1}  ')]}),
        chat({"tool_calls": [tc(0, args=" \n")]}),  # whitespace: fine
        chat({"tool_calls": [tc(0, args='{"x": 2}')]}),
        chat(finish="tool_calls"),
        "[DONE]",
    )
    events = run("openai-chat", [body])
    assert len(of(events, ToolCall)) == 1
    assert [e.code for e in of(events, Error)] == ["unexpected_text"]
    assert of(events, Error)[0].offset == body.index(b"data:", body.index(b"data:", 1) + 1)


def test_length_cut_call_is_truncated_never_a_call() -> None:
    body = sse(
        chat({"tool_calls": [tc(0, "a", "f", '{"path": "/et')]}),
        chat(finish="length"),
        "[DONE]",
    )
    events = run("openai-chat", [body])
    m = toolwire.collect(events)
    assert m.tool_calls == ()
    assert [e.code for e in m.errors] == ["truncated"]
    assert '{"path": "/et' in m.errors[0].message
    assert m.incomplete_tool_calls[0].raw == '{"path": "/et'
    assert m.incomplete_tool_calls[0].preview == {"path": "/et"}
    assert (m.finish_reason, m.raw_finish_reason) == ("length", "length")


def test_empty_arguments_mean_empty_object_at_the_end_of_the_call() -> None:
    p = toolwire.parser("openai-chat")
    assert of(p.feed(sse(chat({"tool_calls": [tc(0, "a", "ping", "")]}))), ToolCall) == []
    call = of(p.feed(sse(chat(finish="tool_calls"))), ToolCall)[0]
    assert (call.arguments, call.raw) == ({}, "")


def test_invalid_arguments() -> None:
    body = sse(
        chat({"tool_calls": [tc(0, "a", "f", '{"x": tru')]}),
        chat({"tool_calls": [tc(0, args="e, }")]}),
        chat(finish="tool_calls"),
        "[DONE]",
    )
    m = toolwire.collect(run("openai-chat", [body]))
    assert [e.code for e in m.errors] == ["invalid_json"]
    assert "argument character 12" in m.errors[0].message
    body = sse(chat({"tool_calls": [tc(0, "a", "f", "[1]")]}), chat(finish="tool_calls"), "[DONE]")
    assert [e.code for e in toolwire.collect(run("openai-chat", [body])).errors] == [
        "invalid_arguments"
    ]


def test_reasoning_text_blocks_and_usage() -> None:
    body = sse(
        chat({"reasoning_content": "think", "reasoning": "think"}),
        chat({"reasoning": " more"}),
        chat({"content": "hi"}),
        chat({"reasoning_content": "again"}),
        chat({"content": [{"type": "text", "text": "!"}]}),
        chat(finish="stop"),
        {"choices": [], "usage": {"total_tokens": 3}},
        "[DONE]",
    )
    events = run("openai-chat", [body])
    kinds = [(e.type, getattr(e, "id", None)) for e in events if "delta" not in e.type]
    assert kinds == [
        ("reasoning_start", 0),
        ("reasoning_end", 0),
        ("text_start", 1),
        ("text_end", 1),
        ("reasoning_start", 2),
        ("reasoning_end", 2),
        ("text_start", 3),
        ("text_end", 3),
        ("finish", None),
    ]
    m = toolwire.collect(events)
    assert (m.reasoning, m.content, m.usage) == ("think moreagain", "hi!", {"total_tokens": 3})


def test_in_band_errors() -> None:
    body = sse(
        chat({"content": "par"}),
        {
            "error": {"message": "overloaded", "code": 502},
            "choices": [{"index": 0, "delta": {}, "finish_reason": "error"}],
        },
        "[DONE]",
    )
    m = toolwire.collect(run("openai-chat", [body]))
    assert [(e.code, e.detail) for e in m.errors if isinstance(e, ProviderError)] == [
        ("provider_error", {"message": "overloaded", "code": 502})
    ]
    assert (m.content, m.finish_reason) == ("par", "error")
    body = b'event: error\ndata: {"error": {"message": "boom"}}\n\n'
    events = run("openai-chat", [body])
    assert [e.type for e in events] == ["error"]  # a reported error is not a truncation


def test_protocol_errors_are_reported_and_skipped() -> None:
    body = sse(
        "not json",
        "[1]",
        chat({"content": 5}),
        chat({"content": "ok"}),
        chat(finish="stop"),
        "[DONE]",
        chat({"content": "late"}),
    )
    m = toolwire.collect(run("openai-chat", [body]))
    assert [e.code for e in m.errors] == ["invalid_event"] * 4
    assert m.content == "ok" and m.finish_reason == "stop"


def test_body_cut_off() -> None:
    body = sse(chat({"tool_calls": [tc(0, "a", "f", '{"x"')]}))
    events = run("openai-chat", [body + b"data: {"])
    errors = of(events, Error)
    assert [e.code for e in errors] == ["truncated", "truncated"]
    assert errors[-1].offset == len(body) + 7
    assert of(events, Finish) == []


def test_strict_mode_raises_and_poisons() -> None:
    p = toolwire.parser("openai-chat", strict=True)
    p.feed(sse(chat({"content": "a"})))
    with pytest.raises(toolwire.ParseError) as info:
        p.feed(sse(chat({"content": "b"})) + b"data: {oops}\n\n")
    assert info.value.code == "invalid_event"
    assert [e.type for e in info.value.events] == ["text_delta"]
    with pytest.raises(toolwire.ParseError):
        p.feed(b"")
    with pytest.raises(toolwire.ParseError):
        p.close()


def test_feed_after_close() -> None:
    p = toolwire.parser("anthropic")
    p.close()
    assert p.close() == []
    with pytest.raises(ValueError):
        p.feed(b"")


def test_limits() -> None:
    body = sse(chat({"tool_calls": [tc(0, "a", "f", '{"x": "' + "y" * 50 + '"}')]}))
    m = toolwire.collect(run("openai-chat", [body], max_argument_size=20))
    assert "limit_exceeded" in [e.code for e in m.errors]
    m = toolwire.collect(run("openai-chat", [body], max_line_size=40))
    assert [e.code for e in m.errors][:1] == ["limit_exceeded"]


# -- anthropic ----------------------------------------------------------------------


def anthropic_body(*blocks: dict[str, Any], stop: str = "tool_use") -> bytes:
    return sse(
        {"type": "message_start", "message": {"usage": {"input_tokens": 5, "output_tokens": 1}}},
        *blocks,
        {"type": "message_delta", "delta": {"stop_reason": stop}, "usage": {"output_tokens": 9}},
        {"type": "message_stop"},
        events=True,
    )


def block(
    index: int, kind: str, *deltas: str, stop: bool = True, **fields: Any
) -> list[dict[str, Any]]:
    start = {
        "type": "content_block_start",
        "index": index,
        "content_block": {"type": kind, **fields},
    }
    out = [start] + [
        {
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": "input_json_delta", "partial_json": d},
        }
        for d in deltas
    ]
    return out + ([{"type": "content_block_stop", "index": index}] if stop else [])


def test_anthropic_server_tools_are_provider_calls() -> None:
    body = anthropic_body(
        *block(
            0, "server_tool_use", '{"query": ', '"x"}', id="srvtoolu_1", name="web_search", input={}
        ),
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {
                "type": "web_search_tool_result",
                "tool_use_id": "srvtoolu_1",
                "content": [],
            },
        },
        {"type": "content_block_stop", "index": 1},
        *block(2, "tool_use", '{"a": 1}', id="toolu_1", name="f", input={}),
    )
    events = run("anthropic", [body])
    assert of(events, ProviderToolCall) == [
        ProviderToolCall(index=0, id="srvtoolu_1", name="web_search", arguments={"query": "x"})
    ]
    assert [(c.id, c.arguments) for c in of(events, ToolCall)] == [("toolu_1", {"a": 1})]
    m = toolwire.collect(events)
    assert m.usage == {"input_tokens": 5, "output_tokens": 9}
    assert (m.finish_reason, m.raw_finish_reason) == ("tool_calls", "tool_use")


def test_anthropic_max_tokens_cuts_the_open_call() -> None:
    body = anthropic_body(
        *block(0, "tool_use", '{"a": [1, ', stop=False, id="t", name="f", input={}),
        stop="max_tokens",
    )
    m = toolwire.collect(run("anthropic", [body]))
    assert m.tool_calls == () and [e.code for e in m.errors] == ["truncated"]
    assert m.finish_reason == "length"
    assert m.incomplete_tool_calls[0].preview == {"a": [1]}


def test_anthropic_whole_input_without_fragments() -> None:
    body = anthropic_body(*block(0, "tool_use", id="t", name="f", input={"k": "v"}))
    assert [c.arguments for c in of(run("anthropic", [body]), ToolCall)] == [{"k": "v"}]


def test_anthropic_error_event() -> None:
    body = sse(
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
        events=True,
    )
    (error,) = run("anthropic", [body])
    assert isinstance(error, ProviderError)
    assert error.detail == {"type": "overloaded_error", "message": "Overloaded"}
    assert "Overloaded" in error.message


# -- openai-responses ---------------------------------------------------------------


def test_responses_hosted_tools_and_done_only_items() -> None:
    body = sse(
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": {
                "type": "web_search_call",
                "id": "ws_1",
                "status": "completed",
                "action": {"type": "search", "query": "q"},
            },
        },
        {
            "type": "response.output_item.done",
            "output_index": 1,
            "item": {
                "type": "function_call",
                "id": "fc_1",
                "call_id": "call_1",
                "name": "f",
                "arguments": '{"x": 1}',
            },
        },
        {"type": "response.completed", "response": {"status": "completed", "usage": {"n": 1}}},
        events=True,
    )
    events = run("openai-responses", [body])
    assert of(events, ProviderToolCall) == [
        ProviderToolCall(
            index=0,
            id="ws_1",
            name="web_search",
            arguments={"action": {"type": "search", "query": "q"}},
        )
    ]
    assert [(c.id, c.arguments) for c in of(events, ToolCall)] == [("call_1", {"x": 1})]
    assert of(events, Finish)[0].usage == {"n": 1}


def test_responses_incomplete_cuts_the_call() -> None:
    item = {"type": "function_call", "id": "fc", "call_id": "c", "name": "f", "arguments": ""}
    body = sse(
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {"type": "response.function_call_arguments.delta", "output_index": 0, "delta": '{"a'},
        {
            "type": "response.incomplete",
            "response": {
                "status": "incomplete",
                "incomplete_details": {"reason": "max_output_tokens"},
            },
        },
        events=True,
    )
    m = toolwire.collect(run("openai-responses", [body]))
    assert m.tool_calls == () and [e.code for e in m.errors] == ["truncated"]
    assert (m.finish_reason, m.raw_finish_reason) == ("length", "max_output_tokens")


def test_responses_delta_for_unknown_item() -> None:
    body = sse(
        {"type": "response.function_call_arguments.delta", "output_index": 3, "delta": "{"},
        events=True,
    )
    assert [e.code for e in of(run("openai-responses", [body]), Error)] == [
        "invalid_event",
        "truncated",
    ]


# -- gemini ---------------------------------------------------------------------------


def gem(*parts: dict[str, Any], finish: str | None = None, **top: Any) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], **top}


def test_gemini_whole_calls_get_deterministic_ids() -> None:
    body = sse(
        gem(
            {"text": "plan", "thought": True},
            {"text": "ok"},
            {"functionCall": {"name": "a", "args": {"x": 1}}},
            {"functionCall": {"name": "b", "args": {}}},
            finish="STOP",
            usageMetadata={"totalTokenCount": 3},
        )
    )
    events = run("gemini", [body])
    assert [(c.id, c.name, c.arguments) for c in of(events, ToolCall)] == [
        ("call_0", "a", {"x": 1}),
        ("call_1", "b", {}),
    ]
    m = toolwire.collect(events)
    assert (m.reasoning, m.content, m.finish_reason) == ("plan", "ok", "tool_calls")
    assert m.usage == {"totalTokenCount": 3}


def test_gemini_streamed_call_cut_by_max_tokens() -> None:
    body = sse(
        gem({"functionCall": {"name": "f", "willContinue": True}}),
        gem(
            {
                "functionCall": {
                    "partialArgs": [
                        {"jsonPath": "$.city", "stringValue": "Par", "willContinue": True}
                    ],
                    "willContinue": True,
                }
            }
        ),
        gem(finish="MAX_TOKENS"),
    )
    m = toolwire.collect(run("gemini", [body]))
    assert m.tool_calls == () and [e.code for e in m.errors] == ["truncated"]
    assert m.incomplete_tool_calls[0].raw == '{"city":"Par'
    assert m.finish_reason == "length"


def test_gemini_blocked_prompt_and_error() -> None:
    body = sse({"promptFeedback": {"blockReason": "SAFETY"}})
    m = toolwire.collect(run("gemini", [body]))
    assert (m.finish_reason, m.raw_finish_reason) == ("content_filter", "SAFETY")
    body = sse({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}})
    m = toolwire.collect(run("gemini", [body]))
    assert [e.code for e in m.errors] == ["provider_error"] and not m.finished


def test_path_writer() -> None:
    w = PathWriter()
    text = (
        "".join(
            w.add(e)
            for e in [
                {"jsonPath": "$.a.b[0]", "numberValue": 1},
                {"jsonPath": "$.a.b[1]", "stringValue": "x", "willContinue": True},
                {"jsonPath": "$.a.b[1]", "stringValue": '"y'},
                {"jsonPath": "$['c d'].e", "boolValue": True},
                {"jsonPath": "$.f", "nullValue": None},
            ]
        )
        + w.finish()
    )
    assert json.loads(text) == {"a": {"b": [1, 'x"y']}, "c d": {"e": True}, "f": None}
    assert parse_path("$['it\\'s'][2].z") == ["it's", 2, "z"]
    w = PathWriter()
    w.add({"jsonPath": "$.a.x", "numberValue": 1})
    w.add({"jsonPath": "$.b", "numberValue": 2})
    with pytest.raises(SchemaError):
        w.add({"jsonPath": "$.a.y", "numberValue": 3})
    for bad in ("a.b", "$", "$.a[x]"):
        with pytest.raises(SchemaError):
            parse_path(bad)


# -- ollama (documented shapes; no recorded stream exists) -------------------------


def ndjson(*lines: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def test_ollama_chat_stream() -> None:
    body = ndjson(
        {
            "model": "qwen3",
            "created_at": "2025-01-01T00:00:00Z",
            "message": {"role": "assistant", "content": "", "thinking": "Let me"},
            "done": False,
        },
        {"model": "qwen3", "message": {"role": "assistant", "content": "Sure."}, "done": False},
        {
            "model": "qwen3",
            "message": {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"function": {"name": "get_weather", "arguments": {"city": "Tokyo"}}},
                    {"id": "call_z", "function": {"index": 1, "name": "get_time", "arguments": {}}},
                ],
            },
            "done": False,
        },
        {
            "model": "qwen3",
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "total_duration": 10,
            "load_duration": 1,
            "prompt_eval_count": 26,
            "prompt_eval_duration": 2,
            "eval_count": 298,
            "eval_duration": 7,
        },
    )
    events = run("ollama", [body])
    m = toolwire.collect(events)
    assert (m.reasoning, m.content) == ("Let me", "Sure.")
    assert [(c.id, c.name, c.arguments) for c in m.tool_calls] == [
        ("call_0", "get_weather", {"city": "Tokyo"}),
        ("call_z", "get_time", {}),
    ]
    assert (m.finish_reason, m.raw_finish_reason) == ("tool_calls", "stop")
    assert m.usage == {
        "total_duration": 10,
        "load_duration": 1,
        "prompt_eval_count": 26,
        "prompt_eval_duration": 2,
        "eval_count": 298,
        "eval_duration": 7,
    }
    assert m.errors == ()
    starts = of(events, ToolCallStart)
    assert [s.name for s in starts] == ["get_weather", "get_time"]


def test_ollama_generate_error_and_last_line() -> None:
    body = ndjson({"model": "m", "response": "Hi", "done": False})
    body += b'{"model": "m", "response": "!", "done": true, "done_reason": "length"}'
    m = toolwire.collect(run("ollama", [body]))
    assert (m.content, m.finish_reason) == ("Hi!", "length") and m.errors == ()
    m = toolwire.collect(run("ollama", [ndjson({"error": "model 'x' not found"})]))
    assert [(e.code, e.detail) for e in m.errors] == [
        ("provider_error", {"error": "model 'x' not found"})
    ]
    m = toolwire.collect(run("ollama", [ndjson({"response": "a", "done": False}) + b'{"resp']))
    assert [e.code for e in m.errors] == ["truncated", "truncated"]
