"""The live ``parser.message`` of text-format parsers (opt-in with message=True)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import toolwire
from tests.conftest import chunkings

STREAM = (
    '<analysis>hm</analysis>Hi <tool_call>{"name": "f", "arguments": {"a": [1, "x"]}}'
    "</tool_call><final_answer>done</final_answer>"
)


def test_snapshot_mid_call_exposes_raw_and_preview() -> None:
    p = toolwire.parser("tags", message=True)
    p.feed(STREAM[: STREAM.index('"x"') + 2])
    snap = p.message
    assert (snap.content, snap.reasoning, snap.tool_calls) == ("Hi ", "hm", ())
    (open_call,) = snap.incomplete_tool_calls
    assert (open_call.name, open_call.raw) == ("f", '{"a": [1, "x')
    assert open_call.preview == {"a": [1, "x"]}


@given(st.data())
def test_final_message_is_chunk_invariant(data: st.DataObject) -> None:
    chunks = data.draw(chunkings(STREAM))
    p = toolwire.parser("tags", message=True)
    for chunk in chunks:
        p.feed(chunk)
    p.close()
    m = p.message
    assert (m.content, m.reasoning, m.finish_reason) == ("Hi done", "hm", "stop")
    assert [(c.name, c.arguments, c.raw) for c in m.tool_calls] == [
        ("f", {"a": [1, "x"]}, '{"a": [1, "x"]}')
    ]
    assert m == toolwire.collect(toolwire.parse(STREAM, "tags"))


def test_message_needs_opt_in() -> None:
    with pytest.raises(ValueError, match="message=True"):
        _ = toolwire.parser("tags").message
