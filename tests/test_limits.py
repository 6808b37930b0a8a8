"""Every limit: at the limit the input passes, one over it is ``limit_exceeded`` at the
first character (or byte, or frame) beyond it; lenient parsers go on and later calls
survive, strict parsers raise ``ParseError`` with the same position.  The outcome does
not depend on the chunking."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import chunkings, coalesce, run
from hypothesis import given
from hypothesis import strategies as st
from oracle import position

import toolwire
from toolwire import ParseError, ToolCall
from toolwire.engine.driver import StreamParser
from toolwire.registry import compiled, is_provider
from toolwire.testing import provider_streams

TEXT = sorted(f for f in toolwire.renderer_formats() if not is_provider(f))
SEP = {"llama3-json": "<|python_tag|>"}
"""What goes between two calls: bare llama3-json calls resynchronise only at the tag."""
ENVELOPE = {"tags", "hermes", "llama3-json"}
"""Formats whose JSON body wraps the arguments in a ``{name, arguments}`` object: one
more nesting level counts."""


def doc_of(fmt: str, *calls: tuple[str, dict[str, Any]]) -> str:
    r = toolwire.renderer(fmt)
    return SEP.get(fmt, "").join(r.render_call(name, args) for name, args in calls)


def feeds(doc: str) -> list[list[Any]]:
    """Whole, one character at a time, three bytes at a time (splitting characters)."""
    data = doc.encode()
    return [[doc], list(doc), [data[i : i + 3] for i in range(0, len(data), 3)]]


def outcome(fmt: str, doc: str, **options: Any) -> list[Any]:
    """The events of ``doc``, checked to be the same under every feeding."""
    results = [run(fmt, chunks, **options) for chunks in feeds(doc)]
    first = coalesce(results[0])
    for other in results[1:]:
        assert coalesce(other) == first
    return results[0]


def calls(events: list[Any]) -> list[ToolCall]:
    return [e for e in events if isinstance(e, ToolCall)]


def errors(events: list[Any]) -> list[tuple[str, int, int, int]]:
    return [(e.code, e.offset, e.line, e.column) for e in events if e.type == "error"]


def limit_at(doc: str, offset: int) -> tuple[str, int, int, int]:
    return ("limit_exceeded", offset, *position(doc, offset))


def strict_error(fmt: str, data: str | bytes, **options: Any) -> ParseError:
    with pytest.raises(ParseError) as info:
        run(fmt, [data], strict=True, **options)
    return info.value


# -- text formats ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", TEXT)
def test_max_calls(fmt: str) -> None:
    doc = doc_of(fmt, ("f", {"a": 1}), ("g", {"b": "x"}), ("h", {"c": True}))
    free = calls(toolwire.parse(doc, fmt))
    assert [c.name for c in free] == ["f", "g", "h"]
    at = outcome(fmt, doc, max_calls=3)
    assert [c.name for c in calls(at)] == ["f", "g", "h"] and errors(at) == []
    over = outcome(fmt, doc, max_calls=2)
    assert [c.name for c in calls(over)] == ["f", "g"]
    # The third call is reported where it starts, and parsing goes on to the end.
    assert errors(over) == [limit_at(doc, free[2].span[0])]
    assert over[-1].type == "finish"
    exc = strict_error(fmt, doc, max_calls=2)
    assert (exc.code, exc.offset) == ("limit_exceeded", free[2].span[0])


def _argument_region(fmt: str, doc: str, call: ToolCall) -> tuple[int, int]:
    """(first character, size) of the text ``max_argument_size`` counts for ``call``:
    located by the error a one-character limit gives, then checked to hold the
    call's arguments."""
    errs = errors(toolwire.parse(doc, fmt, max_argument_size=1))
    assert errs and errs[0][0] == "limit_exceeded"
    base = errs[0][1] - 1
    start, end = call.span
    assert start <= base < end
    if compiled(fmt).spec.call_closers:  # markup assembled into raw text (qwen3-coder)
        assert doc.startswith(call.raw, base)
        return base, len(call.raw)
    assert call.raw.strip() in doc[base:end]
    return base, end - base


@pytest.mark.parametrize("fmt", TEXT)
def test_max_argument_size(fmt: str) -> None:
    doc = doc_of(fmt, ("f", {"a": "x" * 40, "n": [1, 2]}), ("g", {}))
    free = calls(toolwire.parse(doc, fmt))
    base, size = _argument_region(fmt, doc, free[0])
    at = outcome(fmt, doc, max_argument_size=size)
    assert [(c.name, c.arguments) for c in calls(at)] == [(c.name, c.arguments) for c in free]
    assert errors(at) == []
    over = outcome(fmt, doc, max_argument_size=size - 1)
    assert errors(over) == [limit_at(doc, base + size - 1)]
    assert [c.name for c in calls(over)] == ["g"]  # the next call survives
    exc = strict_error(fmt, doc, max_argument_size=size - 1)
    assert (exc.code, exc.offset) == ("limit_exceeded", base + size - 1)


DEPTH_FORMATS = [f for f in TEXT if not compiled(f).spec.call_closers]
"""Markup formats (qwen3-coder, DSML) write values as raw text typed by the schema,
not nested syntax (see test_hostile_input for deep JSON in a typed value)."""


@pytest.mark.parametrize("fmt", DEPTH_FORMATS)
def test_max_depth(fmt: str) -> None:
    k = 6
    nested: Any = 1
    for _ in range(k):
        nested = [nested]
    doc = doc_of(fmt, ("f", {"a": nested}), ("g", {}))
    depth = k + 1 + (fmt in ENVELOPE)  # the arguments object (and envelope) count
    at = outcome(fmt, doc, max_depth=depth)
    assert [c.arguments for c in calls(at)] == [{"a": nested}, {}] and errors(at) == []
    over = outcome(fmt, doc, max_depth=depth - 1)
    innermost = doc.index("[" * k) + k - 1
    assert errors(over) == [limit_at(doc, innermost)]
    assert [c.name for c in calls(over)] == ["g"]
    exc = strict_error(fmt, doc, max_depth=depth - 1)
    assert (exc.code, exc.offset) == ("limit_exceeded", innermost)


def _holdback_needed(fmt: str, doc: str) -> int:
    """The smallest ``max_holdback`` with which ``doc`` parses cleanly."""
    for h in range(1, 128):
        if not errors(toolwire.parse(doc, fmt, max_holdback=h)):
            return h
    raise AssertionError("no hold-back suffices")


@pytest.mark.parametrize("fmt", TEXT)
def test_max_holdback(fmt: str) -> None:
    doc = SEP.get(fmt, "") + doc_of(fmt, ("f", {"a": "xy"}))
    need = _holdback_needed(fmt, doc)
    assert need > 1  # a delimiter longer than one character must be waited for
    free = calls(toolwire.parse(doc, fmt))
    at = outcome(fmt, doc, max_holdback=need)
    assert [c.arguments for c in calls(at)] == [c.arguments for c in free]
    over = outcome(fmt, doc, max_holdback=need - 1)
    first = errors(over)[0]
    assert first[0] == "limit_exceeded"
    # It is reported at the start of a would-be delimiter: markup, never content.
    assert doc[first[1]] not in "xy"
    exc = strict_error(fmt, doc, max_holdback=need - 1)
    assert (exc.code, exc.offset) == ("limit_exceeded", first[1])


@pytest.mark.parametrize("name_size", [10, 200])
def test_pattern_delimiter_holdback_is_exact(name_size: int) -> None:
    """An attribute that keeps a tag open is held back at most ``max_holdback``
    characters: a tag of exactly that length is a tag, one more is an error at its
    start, and the text and calls after it survive."""
    name = "n" * name_size
    tag = f'<tool_call name="{name}">'
    doc = f'{tag}{{"a": 1}}</tool_call>ok<tool_call name="g">{{}}</tool_call>'
    at = outcome("tags", doc, max_holdback=len(tag))
    assert [c.name for c in calls(at)] == [name, "g"] and errors(at) == []
    over = outcome("tags", doc, max_holdback=len(tag) - 1)
    assert errors(over) == [limit_at(doc, 0)]
    assert [c.name for c in calls(over)] == ["g"]


@pytest.mark.parametrize("fmt", TEXT)
def test_max_buffered_caps_the_open_call_and_the_holdback(fmt: str) -> None:
    doc = doc_of(fmt, ("f", {"a": "x" * 40, "n": [1, 2]}), ("g", {}))
    free = calls(toolwire.parse(doc, fmt))
    _, size = _argument_region(fmt, doc, free[0])
    need = _holdback_needed(fmt, doc)
    for cap in (size, size - 1):
        if cap >= need:  # the argument cap is the binding one
            assert coalesce(outcome(fmt, doc, max_buffered=cap)) == coalesce(
                outcome(fmt, doc, max_argument_size=cap)
            )
    # Below the longest delimiter it binds the hold-back too.
    assert coalesce(outcome(fmt, doc, max_buffered=need - 1)) == coalesce(
        outcome(fmt, doc, max_holdback=need - 1, max_argument_size=need - 1)
    )


@given(st.data())
def test_limit_errors_are_chunk_invariant(data: st.DataObject) -> None:
    fmt = data.draw(st.sampled_from(TEXT))
    doc = doc_of(fmt, ("f", {"a": "x" * 30, "d": [[[1]]]}), ("g", {"b": "y"}), ("h", {}))
    option = data.draw(
        st.sampled_from(
            [
                {"max_calls": 1},
                {"max_argument_size": 25},
                {"max_depth": 2},
                {"max_holdback": 2},
                {"max_buffered": 30},
            ]
        )
    )
    whole = coalesce(run(fmt, [doc], **option))
    if fmt in DEPTH_FORMATS or "max_depth" not in option:
        assert any(e["code"] == "limit_exceeded" for e in whole if e["type"] == "error")
    chunks = data.draw(chunkings(doc))
    assert coalesce(run(fmt, chunks, **option)) == whole


# -- provider streams -----------------------------------------------------------------


def chat(delta: dict[str, Any] | None = None, finish: str | None = None) -> dict[str, Any]:
    return {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish}],
    }


def frag(index: int, args: str, name: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"index": index, "function": {"arguments": args}}
    if name is not None:
        entry.update(id=f"id{index}", type="function")
        entry["function"]["name"] = name
    return chat({"tool_calls": [entry]})


class Body:
    """An SSE body built event by event, remembering where each event starts."""

    def __init__(self) -> None:
        self.data = b""
        self.starts: list[int] = []

    def add(self, payload: dict[str, Any]) -> int:
        self.starts.append(len(self.data))
        self.data += f"data: {json.dumps(payload)}\n\n".encode()
        return len(self.starts) - 1

    def finish(self) -> bytes:
        self.add(chat(finish="tool_calls"))
        self.data += b"data: [DONE]\n\n"
        return self.data


def body_feeds(data: bytes) -> list[list[bytes]]:
    return [[data], [data[i : i + 7] for i in range(0, len(data), 7)]]


def provider_outcome(fmt: str, data: bytes, **options: Any) -> list[Any]:
    results = [run(fmt, chunks, **options) for chunks in body_feeds(data)]
    assert coalesce(results[1]) == coalesce(results[0])
    return results[0]


def frame_error(body: bytes, offset: int) -> tuple[str, int, int, int]:
    line = body.count(b"\n", 0, offset) + 1
    return ("limit_exceeded", offset, line, 1)


def two_calls(args: str, pieces: int = 5) -> tuple[Body, int, int]:
    """Call f with ``args`` in ``pieces`` fragments, then call g with ``{}``; returns
    the body, the event of f's last fragment and of g's arguments."""
    body = Body()
    step = -(-len(args) // pieces)
    body.add(frag(0, "", name="f"))
    last = -1
    for i in range(0, len(args), step):
        last = body.add(frag(0, args[i : i + step]))
    body.add(frag(1, "", name="g"))
    g = body.add(frag(1, "{}"))
    return body, last, g


def test_provider_max_argument_size() -> None:
    args = json.dumps({"a": "x" * 40, "n": [1, 2]})
    body, last, _ = two_calls(args)
    data = body.finish()
    at = provider_outcome("openai-chat", data, max_argument_size=len(args))
    assert [c.name for c in calls(at)] == ["f", "g"] and errors(at) == []
    over = provider_outcome("openai-chat", data, max_argument_size=len(args) - 1)
    # The event whose fragment carries the first character beyond the limit.
    assert errors(over) == [frame_error(data, body.starts[last])]
    assert [c.name for c in calls(over)] == ["g"]
    exc = strict_error("openai-chat", data, max_argument_size=len(args) - 1)
    assert (exc.code, exc.offset) == ("limit_exceeded", body.starts[last])


def test_provider_max_depth() -> None:
    args = '{"a": [[[[1]]]]}'
    body = Body()
    body.add(frag(0, "", name="f"))
    body.add(frag(0, args[:8]))
    deep = body.add(frag(0, args[8:]))  # holds the fourth "["
    body.add(frag(1, "{}", name="g"))
    data = body.finish()
    at = provider_outcome("openai-chat", data, max_depth=5)
    assert [c.arguments for c in calls(at)] == [{"a": [[[[1]]]]}, {}]
    over = provider_outcome("openai-chat", data, max_depth=4)
    assert errors(over) == [frame_error(data, body.starts[deep])]
    assert [c.name for c in calls(over)] == ["g"]
    exc = strict_error("openai-chat", data, max_depth=4)
    assert (exc.code, exc.offset) == ("limit_exceeded", body.starts[deep])


def test_provider_max_calls() -> None:
    body = Body()
    ends = [body.add(frag(i, "{}", name=f"f{i}")) for i in range(3)]
    data = body.finish()
    at = provider_outcome("openai-chat", data, max_calls=3)
    assert len(calls(at)) == 3 and errors(at) == []
    over = provider_outcome("openai-chat", data, max_calls=2)
    assert [c.name for c in calls(over)] == ["f0", "f1"]
    assert errors(over) == [frame_error(data, body.starts[ends[2]])]
    assert over[-1].type == "finish"
    exc = strict_error("openai-chat", data, max_calls=2)
    assert (exc.code, exc.offset) == ("limit_exceeded", body.starts[ends[2]])


def test_provider_max_buffered_counts_open_calls_together() -> None:
    """Two calls streamed interleaved hold both their texts at once; each alone is
    within ``max_argument_size``, together they pass ``max_buffered``."""
    a = json.dumps({"a": "x" * 300})  # longer than an event's line, which it caps too
    b = json.dumps({"b": "y" * 300})
    body = Body()
    body.add(frag(0, "", name="f"))
    body.add(frag(1, "", name="g"))
    half = len(a) // 2
    body.add(frag(0, a[:half]))
    body.add(frag(1, b[:half]))
    peak_event = body.add(frag(0, a[half:]))  # f complete: both texts held
    body.add(frag(1, b[half:]))
    data = body.finish()
    peak = len(a) + half
    at = provider_outcome("openai-chat", data, max_buffered=peak)
    assert [c.name for c in calls(at)] == ["f", "g"] and errors(at) == []
    over = provider_outcome("openai-chat", data, max_buffered=peak - 1)
    assert errors(over) == [frame_error(data, body.starts[peak_event])]
    assert [c.name for c in calls(over)] == ["g"]  # f's text was released
    exc = strict_error("openai-chat", data, max_buffered=peak - 1)
    assert (exc.code, exc.offset) == ("limit_exceeded", body.starts[peak_event])


def _text_body(*texts: str) -> tuple[bytes, list[int]]:
    body = Body()
    for t in texts:
        body.add(chat({"content": t}))
    return body.finish(), body.starts


@pytest.mark.parametrize("option", ["max_line_size", "max_buffered"])
def test_sse_max_line_size(option: str) -> None:
    data, starts = _text_body("a", "b" * 50, "c")
    line = data[starts[1] :].split(b"\n", 1)[0]
    at = provider_outcome("openai-chat", data, **{option: len(line)})
    assert toolwire.collect(at).content == "a" + "b" * 50 + "c" and errors(at) == []
    over = provider_outcome("openai-chat", data, **{option: len(line) - 1})
    # At the first byte beyond the limit; the long event is dropped, the rest goes on.
    offset = starts[1] + len(line) - 1
    assert errors(over) == [("limit_exceeded", offset, 3, len(line))]
    assert toolwire.collect(over).content == "ac"
    exc = strict_error("openai-chat", data, **{option: len(line) - 1})
    assert (exc.code, exc.offset) == ("limit_exceeded", offset)


def test_sse_max_event_size() -> None:
    """An event's data (its lines' values, each with its LF) is bounded as a whole."""
    payload = json.dumps(chat({"content": "z" * 40}))
    cut = payload.index(",") + 1
    head, tail = payload[:cut], payload[cut:]
    event = f"data: {head}\ndata: {tail}\n\n".encode()
    first = b'data: {"object": "chat.completion.chunk", "choices": []}\n\n'
    data = first + event + b"data: [DONE]\n\n"
    size = len(head) + 1 + len(tail) + 1
    at = provider_outcome("openai-chat", data, max_event_size=size, max_line_size=1000)
    assert toolwire.collect(at).content == "z" * 40
    over = provider_outcome("openai-chat", data, max_event_size=size - 1)
    second_line = len(first) + len(f"data: {head}\n")
    assert errors(over) == [("limit_exceeded", second_line, 4, 1)]
    assert not toolwire.collect(over).content
    exc = strict_error("openai-chat", data, max_event_size=size - 1)
    assert (exc.code, exc.offset) == ("limit_exceeded", second_line)


def test_ndjson_max_line_size() -> None:
    def line(content: str, done: bool = False) -> bytes:
        obj: dict[str, Any] = {"model": "m", "message": {"role": "assistant", "content": content}}
        obj.update(done=done, **({"done_reason": "stop"} if done else {}))
        return json.dumps(obj).encode() + b"\n"

    lines = [line("a"), line("b" * 50), line("c"), line("", done=True)]
    data = b"".join(lines)
    size = max(len(x) for x in lines) - 1  # the longest line without its LF
    at = provider_outcome("ollama", data, max_line_size=size)
    assert toolwire.collect(at).content == "a" + "b" * 50 + "c" and errors(at) == []
    over = provider_outcome("ollama", data, max_line_size=size - 1)
    offset = len(lines[0]) + size - 1
    assert errors(over) == [("limit_exceeded", offset, 2, size)]
    assert toolwire.collect(over).content == "ac"
    exc = strict_error("ollama", data, max_line_size=size - 1)
    assert (exc.code, exc.offset) == ("limit_exceeded", offset)


def test_defaults_are_exported_and_documented() -> None:
    """Each option has a documented default that the factory uses."""
    p = toolwire.parser("tags")
    assert isinstance(p, StreamParser)
    assert p.max_calls == toolwire.DEFAULT_MAX_CALLS == 1024
    assert p.max_buffered == toolwire.DEFAULT_MAX_BUFFERED
    assert p.max_depth == toolwire.DEFAULT_MAX_DEPTH
    assert p.max_argument_size == toolwire.DEFAULT_MAX_SIZE
    assert p.max_holdback == toolwire.DEFAULT_MAX_HOLDBACK
    q = toolwire.parser("openai-chat")
    assert isinstance(q, toolwire.ProviderParser)
    defaults = (toolwire.DEFAULT_MAX_CALLS, toolwire.DEFAULT_MAX_BUFFERED)
    assert (q.max_calls, q.max_buffered) == defaults


PROVIDERS = ["openai-chat", "openai-responses", "anthropic", "gemini", "ollama"]


@given(st.data())
def test_provider_call_limits_on_generated_streams(data: st.DataObject) -> None:
    """Every provider, generated bodies: ``max_calls`` one below the number of calls
    refuses exactly one; ``max_argument_size`` one below the longest call's text
    refuses the longest calls only; at the limits everything passes."""
    provider = data.draw(st.sampled_from(PROVIDERS))
    stream = data.draw(provider_streams(provider).filter(lambda s: len(s.calls) > 0))
    body = stream.body
    free = run(provider, [body])
    done = calls(free)
    assert errors(free) == [] and len(done) == len(stream.calls)
    chunks = data.draw(chunkings(body))

    def both(**option: Any) -> list[Any]:
        whole = run(provider, [body], **option)
        assert coalesce(run(provider, chunks, **option)) == coalesce(whole)
        return whole

    k = len(done)
    assert len(calls(both(max_calls=k))) == k
    over = both(max_calls=k - 1)
    assert len(calls(over)) == k - 1
    assert [e[0] for e in errors(over)] == ["limit_exceeded"]
    longest = max(len(c.raw) for c in done)
    if longest > 0:
        assert len(calls(both(max_argument_size=longest))) == k
        over = both(max_argument_size=longest - 1)
        assert sorted(len(c.raw) for c in calls(over)) == sorted(
            len(c.raw) for c in done if len(c.raw) < longest
        )
        refused = sum(len(c.raw) == longest for c in done)
        assert [e[0] for e in errors(over)] == ["limit_exceeded"] * refused
        exc = strict_error(provider, body, max_argument_size=longest - 1)
        assert exc.code == "limit_exceeded"


def test_sse_max_event_size_on_one_line() -> None:
    """A one-line event (the SSE fast path) counts its value and LF the same way."""
    data, starts = _text_body("a", "b" * 50, "c")
    value = data[starts[1] :].split(b"\n", 1)[0][len(b"data: ") :]
    size = len(value) + 1
    at = provider_outcome("openai-chat", data, max_event_size=size)
    assert toolwire.collect(at).content == "a" + "b" * 50 + "c" and errors(at) == []
    over = provider_outcome("openai-chat", data, max_event_size=size - 1)
    assert errors(over) == [("limit_exceeded", starts[1], 3, 1)]
    assert toolwire.collect(over).content == "ac"
