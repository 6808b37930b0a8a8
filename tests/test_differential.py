"""Differential checks against the peers a user would otherwise rely on.

* **SSE decoder** (``toolwire.framing.sse``) against ``httpx-sse``'s line and event decoders,
  on bodies both accept: the same events (type, data, last event id) in order and the
  same reconnection time.
* **JSON engine** (``toolwire.values.json_engine``) against ``jiter`` in strict mode
  (``allow_inf_nan=False``) and ``json.loads`` (NaN/Infinity refused): the same
  accept/reject decision on whole documents and the same values.
* **Provider accumulation**: the official SDKs' own accumulators on generated valid
  streams (``toolwire.testing.provider_streams``) served through their clients over
  an ``httpx.MockTransport`` — ``openai``'s ``ChatCompletionStreamState`` and
  ``anthropic``'s ``MessageStream`` — against ``toolwire.collect`` of the same body.

Each section skips when its peer is not installed (all are in the ``test`` extra).
The differences found, each a deliberate choice of toolwire (or a gap of the peer),
are pinned by the ``test_documented_*`` examples and listed in fuzz/README.md
("Differential checks"); everything else must agree.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import toolwire
from toolwire.framing.lines import FramingError
from toolwire.framing.sse import Frame, SseDecoder
from toolwire.testing import provider_streams
from toolwire.testing.streams import ProviderStream
from toolwire.values.json_engine import JsonScanner, JsonSyntaxError

FEW = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- (a) SSE: toolwire.framing.sse vs httpx-sse ------------------------------------------------


def _httpx_sse(body: bytes) -> tuple[list[tuple[str, str, str]], int | None]:
    """httpx-sse's events (type, data, id) and the last retry it read.  Events
    without any ``data`` line are left out: httpx-sse dispatches them when the block
    set an event type, id or retry, the spec (and toolwire) does not (see
    ``test_documented_sse_differences``)."""
    from httpx_sse._decoders import SSEDecoder, SSELineDecoder

    lines = SSELineDecoder()
    decoder = SSEDecoder()
    events: list[tuple[str, str, str]] = []
    retry = None
    text = body.decode("utf-8")
    for line in [*lines.decode(text), *lines.flush()]:
        had_data = bool(decoder._data)
        sse = decoder.decode(line)
        if sse is None:
            continue
        if sse.retry is not None:
            retry = sse.retry
        if had_data:
            events.append((sse.event, sse.data, sse.id))
    # The spec sets the reconnection time when the retry field is read; httpx-sse
    # reports it with the next dispatched event, so a pending one counts too.
    if decoder._retry is not None:
        retry = decoder._retry
    return events, retry


def _toolwire_sse(chunks: list[bytes]) -> tuple[list[tuple[str, str, str]], int | None, list[str]]:
    decoder = SseDecoder()
    out: list[Frame | FramingError] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    out.extend(decoder.close())
    frames = [(f.event, f.data, f.id) for f in out if isinstance(f, Frame)]
    errors = [e.code for e in out if isinstance(e, FramingError)]
    return frames, decoder.retry, errors


_VALUE = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=12
)
_FIELD = st.one_of(
    st.tuples(st.just("data"), _VALUE),
    st.tuples(st.just("data"), st.none()),  # "data" without a colon
    st.tuples(st.sampled_from(["event", "id"]), _VALUE),
    st.tuples(st.just("id"), st.just("a\x00b")),  # ignored: holds U+0000
    st.tuples(st.just("retry"), st.from_regex(r"[0-9]{0,7}|x1", fullmatch=True)),
    st.tuples(st.sampled_from(["", "comment"]), _VALUE),  # ":..." comment line
    st.tuples(st.sampled_from(["foo", "Data", "data "]), _VALUE),  # ignored fields
)


@st.composite
def sse_bodies(draw: st.DrawFn) -> bytes:
    """Event blocks of arbitrary field lines, CR / LF / CRLF line ends, optional
    space after the colon; valid UTF-8, no BOM, ending with a blank line."""
    out: list[str] = []
    for _ in range(draw(st.integers(0, 5))):
        for name, value in draw(st.lists(_FIELD, max_size=5)):
            end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
            if name in ("", "comment"):
                out.append(f":{value}{end}")
            elif value is None:
                out.append(f"{name}{end}")
            else:
                # Two spaces leave " 5" as a retry value: see the documented differences.
                spaces = ["", " "] if name == "retry" else ["", " ", "  "]
                space = draw(st.sampled_from(spaces))
                out.append(f"{name}:{space}{value}{end}")
        out.append(draw(st.sampled_from(["\n", "\r\n", "\r"])))
    return "".join(out).encode()


@FEW
@given(body=sse_bodies(), data=st.data())
def test_sse_decoder_agrees_with_httpx_sse(body: bytes, data: st.DataObject) -> None:
    pytest.importorskip("httpx_sse")
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(body) - 1)), max_size=8)))
    chunks = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True) if a < b]
    want, want_retry = _httpx_sse(body)
    got, retry, errors = _toolwire_sse(chunks)
    # The body ends with a blank line, but its last CR may pair with nothing: a block
    # cut off before a blank line is a "truncated" error (the spec drops it silently).
    assert set(errors) <= {"truncated"}, errors
    assert got == want
    assert retry == want_retry


def test_documented_sse_differences() -> None:
    """Where toolwire and httpx-sse 0.4 part, toolwire follows the WHATWG spec."""
    pytest.importorskip("httpx_sse")
    # 1. A block without data is not dispatched (spec: "if the data buffer is an
    #    empty string, set the event type buffer to the empty string and return");
    #    httpx-sse dispatches it when it set an event type, id or retry.
    body = b"event: ping\n\nid: 7\n\nretry: 5\n\ndata: x\n\n"
    assert _toolwire_sse([body])[0] == [("message", "x", "7")]
    from httpx_sse._decoders import SSEDecoder

    decoder = SSEDecoder()
    dispatched = [decoder.decode(line) for line in body.decode().split("\n")[:-1]]
    events = [(e.event, e.data, e.id, e.retry) for e in dispatched if e is not None]
    assert events == [
        ("ping", "", "", None),
        ("message", "", "7", None),
        ("message", "", "7", 5),
        ("message", "x", "7", None),
    ]
    # ... and once an id was set, every further blank line dispatches an empty event.
    assert decoder.decode("") is not None and decoder.decode("") is not None
    # 2. A leading UTF-8 BOM is dropped (spec); httpx-sse reads it as part of the
    #    first field name, which then is no "data" field: the event is lost.
    assert _toolwire_sse([b"\xef\xbb\xbfdata: a\n\n"])[0] == [("message", "a", "")]
    assert _httpx_sse(b"\xef\xbb\xbfdata: a\n\n")[0] == []
    # 3. retry takes ASCII digits only (spec); httpx-sse takes what int() takes.
    for value in ("+5", "-5", " 5", "\u0665", "1_0"):
        body = f"retry: {value}\ndata: a\n\n".encode()
        assert _toolwire_sse([body])[1] is None
        assert _httpx_sse(body)[1] is not None
    # 4. Bytes that are not UTF-8: toolwire reports invalid_utf8 and drops the event
    #    (nothing changed without a word); httpx decodes with U+FFFD.
    frames, _, errors = _toolwire_sse([b"data: \xff\n\ndata: ok\n\n"])
    assert frames == [("message", "ok", "")] and errors == ["invalid_utf8"]


# -- (b) JSON: toolwire.values.json_engine vs jiter (strict) and json.loads -------------------

_WS = " \t\n\r"


def _engine(text: str) -> tuple[str, Any]:
    """("ok", value) when the engine completes one value followed by whitespace only,
    else ("error", what)."""
    sc = JsonScanner(capture_keys=None)
    try:
        end = sc.feed(text, 0, len(text))
        if end < 0:
            if not sc.finish():
                return "error", "incomplete"
            end = len(text)
        value = sc.value()
    except JsonSyntaxError as exc:
        return "error", exc.code
    if text[end:].strip(_WS):
        return "error", "trailing"
    return "ok", value


def _loads(text: str) -> tuple[str, Any]:
    def no_constant(name: str) -> Any:
        raise ValueError(name)

    try:
        return "ok", json.loads(text, parse_constant=no_constant)
    except (ValueError, RecursionError) as exc:
        return "error", type(exc).__name__


def _jiter(text: str) -> tuple[str, Any]:
    import jiter

    try:
        return "ok", jiter.from_json(text.encode(), allow_inf_nan=False)
    except ValueError as exc:
        return "error", str(exc)


def _same(a: Any, b: Any) -> bool:
    """Equal values, NaN-free; -0.0 and 0.0 told apart; ints and floats kept apart."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return repr(a) == repr(b)
    return bool(a == b)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=8),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)
_NUMBERS = st.from_regex(
    r"-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?", fullmatch=True
)


@st.composite
def json_texts(draw: st.DrawFn) -> str:
    """Valid documents (whitespace and escapes varied, odd numbers, duplicate keys),
    and the same with one character inserted, deleted or replaced."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        text = draw(_NUMBERS)
    elif kind == 1:  # duplicate keys: every peer keeps the last
        key = draw(st.text(max_size=3))
        text = f'{{"{json.dumps(key)[1:-1]}": 1, "{json.dumps(key)[1:-1]}": [2]}}'
    else:
        value = draw(_VALUES)
        text = json.dumps(
            value,
            ensure_ascii=draw(st.booleans()),
            indent=draw(st.sampled_from([None, 0, 2, "\t"])),
            separators=draw(st.sampled_from([None, (",", ":"), (" , ", " : ")])),
        )
    text = draw(st.sampled_from(["", " ", "\n", "\r\n\t"])) + text
    text += draw(st.sampled_from(["", " ", "\n"]))
    if draw(st.booleans()) and text:
        at = draw(st.integers(0, len(text)))
        odd = ["\\u", "\\ud800", "NaN", "Infinity", "01"]
        junk = draw(st.sampled_from([*'{}[]",:0-1.eE+ \\/utfnalsxé\x00\x1f', *odd]))
        how = draw(st.integers(0, 2))
        if how == 0:
            text = text[:at] + junk + text[at:]
        elif how == 1:
            text = text[:at] + text[at + 1 :]
        else:
            text = text[:at] + junk + text[at + 1 :]
    return text


def _documented_json_difference(text: str, engine: tuple[str, Any], peer: tuple[str, Any]) -> bool:
    """Where the engine parts from a peer on purpose (json_engine's docstring):

    * a float that overflows (``1e400``) is ``limit_exceeded`` for the engine, ``inf``
      for jiter and json.loads (``inf`` is no JSON value and cannot be sent back);
    * json.loads accepts unpaired UTF-16 surrogate escapes (``"\\ud800"``), giving a
      string Python cannot encode; the engine refuses them (``invalid_json``), as
      jiter does.
    """
    if engine == ("error", "limit_exceeded") and peer[0] == "ok":
        return "inf" in repr(peer[1])
    return "\\u" in text and peer[0] == "ok" and engine[0] == "error"


@settings(FEW, max_examples=400)
@given(text=json_texts())
def test_json_engine_agrees_with_jiter_and_json_loads(text: str) -> None:
    pytest.importorskip("jiter")
    engine = _engine(text)
    for name, peer in (("jiter", _jiter(text)), ("json.loads", _loads(text))):
        if engine[0] != peer[0] and _documented_json_difference(text, engine, peer):
            continue
        assert engine[0] == peer[0], f"engine {engine} / {name} {peer} on {text!r}"
        if engine[0] == "ok":
            assert _same(engine[1], peer[1]), f"engine {engine[1]!r} / {name} {peer[1]!r}"


def test_documented_json_differences() -> None:
    pytest.importorskip("jiter")
    # Unpaired surrogate escapes: json.loads accepts, engine and jiter refuse.
    for text in ('"\\ud800"', '"\\udc00\\ud800"', '["\\ude00"]'):
        assert _loads(text)[0] == "ok" and _engine(text)[0] == _jiter(text)[0] == "error"
    # A paired escape is one character for all three.
    assert _engine('"\\ud83d\\ude00"') == _loads('"\\ud83d\\ude00"') == ("ok", "\U0001f600")
    # Duplicate keys: the last wins everywhere (jiter can refuse them on request:
    # catch_duplicate_keys=True, which toolwire does not offer).
    assert _engine('{"a": 1, "a": 2}') == _jiter('{"a": 1, "a": 2}') == ("ok", {"a": 2})
    # Huge numbers: exact ints and underflow to 0.0 for all three; a float that
    # overflows is limit_exceeded for the engine, inf for jiter and json.loads.
    for text in ("123456789012345678901234567890", "-1e-400"):
        assert _same(_engine(text)[1], _loads(text)[1]) and _same(_engine(text)[1], _jiter(text)[1])
    for text in ("1e400", "[-1E999]"):
        assert _engine(text) == ("error", "limit_exceeded")
        assert "inf" in repr(_loads(text)[1]) and "inf" in repr(_jiter(text)[1])
    # NaN / Infinity: refused by the engine, by strict jiter and by json.loads here
    # (json.loads accepts them by default; jiter by default too).
    for text in ("NaN", "-Infinity", "[Infinity]"):
        assert _engine(text)[0] == _jiter(text)[0] == _loads(text)[0] == "error"
    # Depth: jiter refuses beyond its recursion limit (~200 levels) where the engine
    # and json.loads go on; the engine's own limit is max_depth.
    deep = "[" * 300 + "]" * 300
    assert _jiter(deep)[0] == "error" and _loads(deep)[0] == "ok"


# -- (c) provider accumulation: toolwire.collect vs the official SDKs -----------------


def _payloads(body: bytes) -> list[tuple[str, str]]:
    """(event type, data) of a generated body, read by httpx-sse (BOM removed first,
    see the SSE section) or as NDJSON."""
    from httpx_sse._decoders import SSEDecoder, SSELineDecoder

    text = body.decode("utf-8").removeprefix("\ufeff")
    lines, decoder = SSELineDecoder(), SSEDecoder()
    out = []
    for line in [*lines.decode(text), *lines.flush()]:
        sse = decoder.decode(line)
        if sse is not None and sse.data:
            out.append((sse.event, sse.data))
    return out


def _serve(body: bytes, package: str = "httpx") -> Any:
    """A client of ``package`` (the anthropic SDK is built on ``httpx2``) whose every
    request gets ``body`` as an event stream."""
    httpx = pytest.importorskip(package)

    def reply(request: Any) -> Any:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    return httpx.Client(transport=httpx.MockTransport(reply))


def _toolwire_message(stream: ProviderStream) -> toolwire.Message:
    message = toolwire.collect(toolwire.parse(stream.body, stream.provider))
    assert not message.errors, message.errors
    return message


def _openai_final(stream: ProviderStream) -> Any:
    openai = pytest.importorskip("openai")
    from openai.lib.streaming.chat import ChatCompletionStreamState

    canonical = b""
    for _, data in _payloads(stream.body):
        # The generated chunks omit what the API always sends and no accumulator reads.
        chunk = {"id": "chatcmpl-1", "created": 0, "model": "m", **json.loads(data)}
        canonical += b"data: " + json.dumps(chunk).encode() + b"\n\n"
    canonical += b"data: [DONE]\n\n"
    client = openai.OpenAI(
        api_key="test", base_url="http://peer.test/v1", http_client=_serve(canonical), max_retries=0
    )
    state = ChatCompletionStreamState()
    chunks = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    for chunk in chunks:
        state.handle_chunk(chunk)
    return state.get_final_completion()


@settings(FEW, max_examples=40)
@given(stream=provider_streams("openai-chat"))
def test_openai_chat_accumulation_agrees_with_the_openai_sdk(stream: ProviderStream) -> None:
    pytest.importorskip("httpx_sse")
    # The SDK needs parallel calls to first appear in index order (the API's order):
    # see test_documented_openai_difference.
    assume(_call_indexes(stream) == sorted(_call_indexes(stream)))
    final = _openai_final(stream)
    ours = _toolwire_message(stream)
    (choice,) = final.choices
    message = choice.message
    assert ours.content == (message.content or None)
    # The SDK keeps fields it does not model (reasoning_content) as they accumulate.
    assert ours.reasoning == (getattr(message, "reasoning_content", None) or None)
    theirs = [
        (c.id, c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls or []
    ]
    # toolwire lists calls as they complete; the SDK by their index (first appearance).
    assert sorted((c.id, c.name, json.dumps(c.arguments)) for c in ours.tool_calls) == sorted(
        (i, n, json.dumps(a)) for i, n, a in theirs
    )
    assert [c.raw for c in sorted(ours.tool_calls, key=lambda c: c.index)] == [
        c.function.arguments for c in message.tool_calls or []
    ]
    assert ours.raw_finish_reason == choice.finish_reason


def _call_indexes(stream: ProviderStream) -> list[int]:
    """The calls' ``index`` in the order they first appear (ids end with it)."""
    return [int(str(c.id).rsplit("_", 1)[1]) for c in stream.calls]


def test_documented_openai_difference() -> None:
    """Parallel calls whose indexes first appear out of order (2 before 1): toolwire
    collects all three; the SDK's accumulator fails (IndexError), as it appends a
    new call to the list and then looks it up by index.  The API numbers calls in
    the order it starts them, so only a proxy that reorders would send this."""
    pytest.importorskip("openai")
    pytest.importorskip("httpx_sse")

    def chunk(index: int) -> str:
        call = {"index": index, "id": f"call_{index}", "type": "function"}
        call["function"] = {"name": "f", "arguments": "{}"}
        delta = {"tool_calls": [call]}
        body = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}]}
        return f"data: {json.dumps(body)}\n\n"

    body = "".join(chunk(i) for i in (0, 2, 1)).encode()
    stream = ProviderStream("openai-chat", body, None, None, (), "stop", ())
    ours = toolwire.collect(toolwire.parse(body, "openai-chat"))
    assert sorted(c.id for c in ours.tool_calls) == ["call_0", "call_1", "call_2"]
    with pytest.raises(IndexError):
        _openai_final(stream)


_ANTHROPIC_REASONS = {"end_turn": "stop", "tool_use": "tool_calls", "max_tokens": "length"}


def _uses_httpx2(sdk: Any) -> bool:
    import importlib

    return hasattr(importlib.import_module(f"{sdk.__name__}._base_client"), "httpx2")


def _anthropic_final(stream: ProviderStream) -> Any:
    anthropic = pytest.importorskip("anthropic")
    canonical = b""
    for _, data in _payloads(stream.body):
        payload = json.loads(data)
        if payload["type"] == "message_start":
            # The generated message_start holds only usage; the API sends the rest.
            payload["message"] = {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "m",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                **payload["message"],
            }
        # The SDK dispatches on the event: line, which the generated bodies sometimes
        # omit (toolwire reads the payload's type): it is always written here.
        event = f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n"
        canonical += event.encode()
    client = anthropic.Anthropic(
        api_key="test",
        base_url="http://peer.test",
        # Recent SDKs are built on httpx2 (and refuse httpx clients), older on httpx.
        http_client=_serve(canonical, "httpx2" if _uses_httpx2(anthropic) else "httpx"),
        max_retries=0,
    )
    with client.messages.stream(
        model="m", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
    ) as events:
        for _ in events:
            pass
        return events.get_final_message()


@settings(FEW, max_examples=40)
@given(stream=provider_streams("anthropic"))
def test_anthropic_accumulation_agrees_with_the_anthropic_sdk(stream: ProviderStream) -> None:
    pytest.importorskip("httpx_sse")
    final = _anthropic_final(stream)
    ours = _toolwire_message(stream)

    def joined(kind: str, attr: str) -> str | None:
        return "".join(getattr(b, attr) for b in final.content if b.type == kind) or None

    assert ours.content == joined("text", "text")
    assert ours.reasoning == joined("thinking", "thinking")
    theirs = [(b.id, b.name, b.input) for b in final.content if b.type == "tool_use"]
    assert [(c.id, c.name, c.arguments) for c in ours.tool_calls] == theirs
    assert ours.raw_finish_reason == final.stop_reason
    assert ours.finish_reason == _ANTHROPIC_REASONS[final.stop_reason]
