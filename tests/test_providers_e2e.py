"""A real client end to end: a loopback HTTP server replays recorded Chat Completions
bodies of the corpus with realistic pacing (small writes at arbitrary byte
boundaries, each flushed, short sleeps), and

* the official ``openai`` SDK streams them: toolwire reads its ``ChatCompletionChunk``
  objects (``adapters.from_chunks`` / ``afrom_chunks``), also through the SDK's
  ``chat.completions.stream()`` helper;
* ``httpx`` streams the raw bytes (``iter_bytes`` / ``aiter_bytes``) into
  ``adapters.iter_events`` / ``aiter_events``, which must give exactly the events of
  the whole body, each tool call in the read that delivered its closing brace.

Every path must reach the corpus's expected message.  Skipped without ``openai`` and
``httpx`` (the ``test`` extra) or without the corpus."""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import toolwire
from tests.conftest import coalesce, run
from toolwire.adapters import afrom_chunks, aiter_events, from_chunks, iter_events
from toolwire.events import Error, Event, ToolCall

openai = pytest.importorskip("openai")
httpx = pytest.importorskip("httpx")

CASES = ["gpt-4o-parallel-tool-calls", "gpt-4o-single-tool-call", "gpt-4o-text-only"]
REQUEST = {
    "model": "gpt-4o-2024-08-06",
    "messages": [{"role": "user", "content": "What's the weather like in Edinburgh?"}],
    "stream": True,
    "stream_options": {"include_usage": True},
}


class _Replay(BaseHTTPRequestHandler):
    """``POST /<case>/v1/chat/completions`` answers with that case's recorded body,
    written in pieces of 1-97 bytes (seeded by the case), each flushed, with a
    short sleep after every few writes."""

    server: _Server
    disable_nagle_algorithm = True  # each small write goes out as it is made

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = json.loads(self.rfile.read(length) or b"{}")
        case = self.path.strip("/").split("/")[0]
        body = self.server.bodies.get(case)
        if body is None or not self.path.endswith("/chat/completions"):
            self.send_error(404)
            return
        self.server.requests.append(request)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        rng = random.Random(case)
        pos = 0
        writes = 0
        while pos < len(body):
            size = rng.randint(1, 97)
            self.wfile.write(body[pos : pos + size])
            self.wfile.flush()
            pos += size
            writes += 1
            if writes % 4 == 0:
                time.sleep(0.001)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Replay)
        self.bodies: dict[str, bytes] = {}
        self.requests: list[dict[str, Any]] = []


@pytest.fixture(scope="module")
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)


def _case(server: _Server, corpus: Path, case: str) -> tuple[str, bytes, dict[str, Any]]:
    """(base URL, recorded body, expected message) of a corpus case, now served."""
    base = corpus / "providers" / "openai-chat" / case
    sse = base.with_name(case + ".sse")
    if not sse.is_file():
        pytest.skip("provider corpus not found")
    body = sse.read_bytes()
    expected = json.loads(base.with_name(case + ".expected.json").read_text("utf-8"))
    server.bodies[case] = body
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}/{case}/v1", body, expected


def _check(events: list[Event], expected: dict[str, Any]) -> None:
    message = toolwire.collect(events)
    assert not [e for e in events if isinstance(e, Error)]
    assert message.content == expected["content"]
    assert message.reasoning == expected["reasoning"]
    calls = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in message.tool_calls]
    assert calls == expected["tool_calls"]
    assert message.raw_finish_reason == expected["finish_reason"]
    assert message.finish_reason == ("tool_calls" if expected["tool_calls"] else "stop")
    assert message.usage == expected["usage"]


class _Reads:
    """Wraps a byte iterator: counts the reads and the bytes received so far."""

    def __init__(self) -> None:
        self.count = 0
        self.before = 0
        self.received = 0

    def wrap(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.count += 1
            self.before, self.received = self.received, self.received + len(chunk)
            yield chunk

    async def awrap(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async for chunk in chunks:
            self.count += 1
            self.before, self.received = self.received, self.received + len(chunk)
            yield chunk


def _check_raw(events: list[Event], body: bytes, reads: _Reads, expected: dict[str, Any]) -> None:
    _check(events, expected)
    assert reads.received == len(body)
    assert reads.count > 1, "the server's pacing should reach the client in several reads"
    # The same events as the whole body, offsets included.
    assert coalesce(events) == coalesce(run("openai-chat", [body]))


@pytest.mark.parametrize("case", CASES)
def test_openai_sdk_chunks(server: _Server, corpus: Path, case: str) -> None:
    url, _, expected = _case(server, corpus, case)
    client = openai.OpenAI(api_key="sk-test", base_url=url, max_retries=0, timeout=10)
    with client:
        stream = client.chat.completions.create(**REQUEST)
        chunks: list[Any] = []

        def tee() -> Iterator[Any]:
            for chunk in stream:
                assert isinstance(chunk, openai.types.chat.ChatCompletionChunk)
                chunks.append(chunk)
                yield chunk

        events = list(from_chunks(tee(), "openai-chat"))
    assert len(chunks) == len(_data_lines(server.bodies[case])) - 1  # all but [DONE]
    _check(events, expected)
    assert server.requests[-1]["stream"] is True


@pytest.mark.parametrize("case", CASES)
def test_openai_sdk_stream_helper(server: _Server, corpus: Path, case: str) -> None:
    """``chat.completions.stream()``: its "chunk" events carry the raw chunks; the
    events it derives from them are skipped."""
    url, _, expected = _case(server, corpus, case)
    client = openai.OpenAI(api_key="sk-test", base_url=url, max_retries=0, timeout=10)
    request = {k: v for k, v in REQUEST.items() if k != "stream"}
    with client, client.chat.completions.stream(**request) as stream:
        events = list(from_chunks(stream, "openai-chat"))
    _check(events, expected)


@pytest.mark.parametrize("case", CASES)
def test_openai_async_sdk_chunks(server: _Server, corpus: Path, case: str) -> None:
    url, _, expected = _case(server, corpus, case)

    async def main() -> list[Event]:
        client = openai.AsyncOpenAI(api_key="sk-test", base_url=url, max_retries=0, timeout=10)
        async with client:
            stream = await client.chat.completions.create(**REQUEST)
            return [e async for e in afrom_chunks(stream, "openai-chat")]

    _check(asyncio.run(main()), expected)


@pytest.mark.parametrize("case", CASES)
def test_httpx_raw_bytes(server: _Server, corpus: Path, case: str) -> None:
    url, body, expected = _case(server, corpus, case)
    reads = _Reads()
    events: list[Event] = []
    with httpx.stream("POST", url + "/chat/completions", json=REQUEST, timeout=10) as response:
        assert response.status_code == 200
        for event in iter_events(reads.wrap(response.iter_bytes()), "openai-chat"):
            if isinstance(event, ToolCall):
                # Earliest completion: in the read that delivered its closing brace.
                assert reads.before < event.span[1] <= reads.received
            events.append(event)
    _check_raw(events, body, reads, expected)


@pytest.mark.parametrize("case", CASES)
def test_httpx_async_raw_bytes(server: _Server, corpus: Path, case: str) -> None:
    url, body, expected = _case(server, corpus, case)
    reads = _Reads()

    async def main() -> list[Event]:
        events: list[Event] = []
        async with (
            httpx.AsyncClient(timeout=10) as client,
            client.stream("POST", url + "/chat/completions", json=REQUEST) as response,
        ):
            assert response.status_code == 200
            async for event in aiter_events(reads.awrap(response.aiter_bytes()), "openai-chat"):
                if isinstance(event, ToolCall):
                    assert reads.before < event.span[1] <= reads.received
                events.append(event)
        return events

    _check_raw(asyncio.run(main()), body, reads, expected)


def _data_lines(body: bytes) -> list[bytes]:
    return [line for line in body.splitlines() if line.startswith(b"data:")]
