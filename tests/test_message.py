"""collect() and MessageBuilder: the stored message and the live snapshot."""

from __future__ import annotations

import json
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

import toolwire
from toolwire.events import (
    Error,
    Finish,
    ProviderToolCall,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
)
from toolwire.message import MessageBuilder, _fallback_partial, collect, partial_json


def test_collect() -> None:
    events = [
        ReasoningDelta(id=0, text="th"),
        ReasoningDelta(id=0, text="ink"),
        TextDelta(id=1, text="hi"),
        ToolCallStart(index=0, id="a", name="f"),
        ToolCallStart(index=1, id="b", name="g"),
        ToolCallDelta(index=1, id="b", text="{}"),
        ToolCall(index=1, id="b", name="g", arguments={}, raw="{}", span=(0, 1)),
        ToolCallDelta(index=0, id="a", text='{"x": 1}'),
        ToolCall(index=0, id="a", name="f", arguments={"x": 1}, raw='{"x": 1}', span=(0, 2)),
        ProviderToolCall(index=0, id="ws", name="web_search", arguments={}),
        Error(code="invalid_json", message="m", offset=1, line=1, column=2),
        Finish(reason="tool_calls", raw_reason="tool_use", usage={"n": 1}),
    ]
    m = collect(events)
    assert (m.content, m.reasoning) == ("hi", "think")
    assert [(c.index, c.id, c.arguments, c.raw) for c in m.tool_calls] == [
        (0, "a", {"x": 1}, '{"x": 1}'),
        (1, "b", {}, "{}"),
    ]
    assert m.provider_tool_calls == (events[9],)
    assert m.incomplete_tool_calls == ()
    assert (m.finish_reason, m.raw_finish_reason, m.usage, m.finished) == (
        "tool_calls",
        "tool_use",
        {"n": 1},
        True,
    )
    assert [e.code for e in m.errors] == ["invalid_json"]
    assert json.loads(json.dumps(m.to_json()))["tool_calls"][0]["raw"] == '{"x": 1}'


def test_builtin_calls_keep_their_flag() -> None:
    """A call to a built-in tool of the model (gpt-oss ``python``) is a client call
    with ``builtin``: stored, open or complete, and in JSON only when true."""
    events = [
        ToolCallStart(index=0, id="a", name="python", builtin=True),
        ToolCallDelta(index=0, id="a", text="print(1)"),
        ToolCallStart(index=1, id="b", name="f"),
    ]
    b = MessageBuilder()
    b.extend(events)
    live = b.snapshot()
    assert [(c.name, c.builtin) for c in live.incomplete_tool_calls] == [
        ("python", True),
        ("f", False),
    ]
    assert [c.get("builtin") for c in live.to_json()["incomplete_tool_calls"]] == [True, None]
    b.feed(
        ToolCall(
            index=0,
            id="a",
            name="python",
            arguments={"code": "print(1)"},
            raw="print(1)",
            span=(0, 9),
            builtin=True,
        )
    )
    b.feed(ToolCall(index=1, id="b", name="f", arguments={}, raw="{}", span=(9, 12)))
    m = b.snapshot()
    assert [(c.name, c.builtin) for c in m.tool_calls] == [("python", True), ("f", False)]
    stored = json.loads(json.dumps(m.to_json()))["tool_calls"]
    assert stored[0]["builtin"] is True and "builtin" not in stored[1]
    assert m.provider_tool_calls == ()  # nobody ran it yet: not a provider call
    # the events' own JSON follows the same rule
    assert events[0].to_json()["builtin"] is True and "builtin" not in events[2].to_json()


def test_empty_message() -> None:
    m = collect([])
    assert (m.content, m.reasoning, m.tool_calls, m.finish_reason, m.usage, m.finished) == (
        None,
        None,
        (),
        None,
        None,
        False,
    )
    assert collect([TextDelta(id=0, text="")]).content is None


def test_live_snapshot_of_a_provider_parser() -> None:
    p = toolwire.parser("openai-chat")
    chunk = {
        "choices": [
            {
                "index": 0,
                "delta": {
                    "content": "Let me check.",
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "c",
                            "function": {"name": "read", "arguments": '{"path": "/etc/ho'},
                        }
                    ],
                },
            }
        ]
    }
    p.feed(b"data: " + json.dumps(chunk).encode() + b"\n\n")
    m = p.message
    assert m.content == "Let me check." and not m.finished
    (open_call,) = m.incomplete_tool_calls
    assert (open_call.id, open_call.name, open_call.raw) == ("c", "read", '{"path": "/etc/ho')
    assert open_call.preview == {"path": "/etc/ho"}
    assert p.message == m  # snapshots are values


def test_builder_is_incremental() -> None:
    b = MessageBuilder()
    b.feed(TextDelta(id=0, text="a"))
    first = b.snapshot()
    b.feed(TextDelta(id=0, text="b"))
    assert (first.content, b.snapshot().content) == ("a", "ab")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", None),
        ("{", {}),
        ('{"a": "x', {"a": "x"}),
        ('{"a": [1, 2', {"a": [1, 2]}),
        ('{"a": 1, "b"', {"a": 1}),
        ('{"a": 1, "b":', {"a": 1}),
        ('{"a": "x\\', {"a": "x"}),
        ('{"a": "x\\u00', {"a": "x"}),
        ('{"a": "x\\\\', {"a": "x\\"}),
        ('{"a": {"b": tr', {"a": {}}),
        ('{"a": 1}', {"a": 1}),
    ],
)
def test_partial_json(raw: str, expected: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """jiter (when installed) and the fallback agree on what a prefix means."""
    assert partial_json(raw) == expected
    monkeypatch.setitem(sys.modules, "jiter", None)  # import jiter now fails: the fallback
    assert partial_json(raw) == expected


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
        ),
        max_leaves=8,
    ).filter(lambda v: isinstance(v, dict)),
    st.data(),
)
def test_fallback_never_fails_on_prefixes(value: object, data: st.DataObject) -> None:
    text = json.dumps(value)
    cut = data.draw(st.integers(0, len(text)))
    preview = _fallback_partial(text[:cut]) if text[:cut].strip() else None
    assert preview is None or isinstance(preview, dict)
    assert _fallback_partial(text) == value
