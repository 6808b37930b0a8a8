"""What every provider parser shares: framing, blocks, tool calls, finish, errors.

Theory of operation
-------------------
Bytes go to a framing decoder (``sse.SseDecoder`` or ``ndjson.NdjsonDecoder``), which
returns whole frames with their byte positions.  Each frame's JSON payload goes to the
provider's ``_payload`` method, which only *reads the schema* and calls a handful of
operations defined here and, for client tool calls, in ``calls.py``:

* ``_text(kind, text)`` — reasoning or visible text.  A block is a maximal run of one
  kind: switching kind, or any tool-call event, ends the open block; block ids count
  from 0 in stream order.
* ``_open_call`` / ``_args`` / ``_end_call`` — a client tool call.  Argument fragments
  go through ``islands.JsonCallBody`` (the JSON engine the text formats use), so
  ``tool_call`` goes out in the frame that delivers the closing brace, with the
  arguments parsed once.  ``_end_call`` is the provider saying the call is over:
  empty argument text then means ``{}``; incomplete text is a ``truncated`` error
  carrying the partial text, never a call.  Text for a call after it completed is an
  error (whitespace aside), never a second call.
* ``_provider_call`` — a tool the provider ran itself (``provider_tool_call``).
* ``_set_reason`` / ``_set_usage`` / ``_finish`` — the finish reason (normalised by the
  provider's table), the provider's usage object, and the ``finish`` event, emitted at
  the provider's end marker or, failing one, at ``close()``.
* ``_provider_error`` — an error the provider reported in the stream.

Positions: every event a frame causes is attributed to that frame.  Error offsets
point at the frame's first byte (line, column 1); a tool call's span runs from the
first byte of the frame that opened it to just past the byte that completed the frame
that completed it.  End-of-stream errors point at the end of the body.  Offsets count
bytes of the raw body (a ``str`` chunk counts as its UTF-8 encoding).

Errors: lenient mode (the default) emits ``error`` events and goes on with the next
frame; strict mode raises ``ParseError`` at the first one and poisons the parser.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal

from ..errors import ErrorCode, ParseError
from ..events import (
    Error,
    Event,
    Finish,
    ProviderError,
    ReasoningEnd,
    ReasoningStart,
    TextEnd,
    TextStart,
    reasoning_delta,
    text_delta,
)
from ..framing.lines import FramingError
from ..framing.ndjson import NdjsonDecoder
from ..framing.sse import DEFAULT_MAX_EVENT_SIZE, DEFAULT_MAX_LINE_SIZE, Frame, SseDecoder
from ..limits import DEFAULT_MAX_BUFFERED, DEFAULT_MAX_CALLS
from ..message import Message, MessageBuilder
from ..values.json_engine import DEFAULT_MAX_DEPTH, DEFAULT_MAX_SIZE
from ..values.schema_check import ArgumentChecker
from .calls import ClientCall, ClientCalls
from .schema import SchemaError, describe_error

__all__ = ["ProviderParser"]



class ProviderParser(ClientCalls):
    """``feed(chunk) -> events`` / ``close() -> events`` for one provider's stream."""

    name: ClassVar[str]
    """The format id (``toolwire.parser(name)``)."""
    description: ClassVar[str]
    models: ClassVar[str]
    framing: ClassVar[Literal["sse", "ndjson"]] = "sse"
    event_names: ClassVar[bool] = False
    """The wire names each SSE event after its payload's ``type`` (``feed_payload``
    writes the ``event:`` line the real API would send)."""

    def __init__(
        self,
        *,
        strict: bool = False,
        max_depth: int = DEFAULT_MAX_DEPTH,
        max_argument_size: int = DEFAULT_MAX_SIZE,
        max_line_size: int = DEFAULT_MAX_LINE_SIZE,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        max_calls: int = DEFAULT_MAX_CALLS,
        max_buffered: int = DEFAULT_MAX_BUFFERED,
        message: bool = True,
        tools: Sequence[Mapping[str, Any]] | None = None,
        check_arguments: bool = False,
    ) -> None:
        self.strict = strict
        self.max_depth = max_depth
        self.max_argument_size = max_argument_size
        self.max_calls = max_calls
        self.max_buffered = max_buffered
        self._checker = ArgumentChecker(tools) if check_arguments else None
        """Checks each completed call against its tool's schema (``check_arguments``);
        ``tools`` serves only that here."""
        self._held = 0
        """Argument characters held by the open calls together (``max_buffered``)."""
        # The stream's whole budget also caps each buffer of the framing decoder.
        line_cap = min(max_line_size, max_buffered)
        self._decoder: SseDecoder | NdjsonDecoder = (
            SseDecoder(max_line_size=line_cap, max_event_size=min(max_event_size, max_buffered))
            if self.framing == "sse"
            else NdjsonDecoder(max_line_size=line_cap)
        )
        self._out: list[Event] = []
        self._frame: Frame | None = None
        self._block_kind: str | None = None
        self._block_id = 0
        self._next_block = 0
        self._live: dict[int, ClientCall] = {}
        """Open client calls by their index."""
        self._ncalls = 0
        self._nprovider = 0
        self._completed = 0
        self._raw_reason: str | None = None
        self._normalised: str | None = None
        self._usage: dict[str, Any] | None = None
        self._finished = False
        self._provider_failed = False
        self._failed: ParseError | None = None
        self._closed = False
        self._builder = MessageBuilder() if message else None
        """The live ``message``: it keeps everything so far (so it grows with the
        stream); ``message=False`` leaves memory to the limits."""
        self._scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
        """``json.loads`` without its two Python frames (one scanner per parser: the
        C scanner keeps a memo during a call)."""

    # -- public ------------------------------------------------------------------

    def feed(self, chunk: bytes | str) -> list[Event]:
        """Events for this chunk.  ``str`` chunks count as their UTF-8 bytes."""
        if self._failed is not None:
            raise self._failed
        if self._closed:
            raise ValueError("feed() after close()")
        data = chunk.encode("utf-8", "surrogatepass") if isinstance(chunk, str) else chunk
        out: list[Event] = []
        self._guard(out, False, bytes(data))
        return out

    def close(self) -> list[Event]:
        """End of the body: report what it cut off, emit ``finish`` if still due."""
        if self._failed is not None:
            raise self._failed
        if self._closed:
            return []
        self._closed = True
        out: list[Event] = []
        self._guard(out, True, b"")
        return out

    def feed_payload(self, payload: Mapping[str, Any], event: str | None = None) -> list[Event]:
        """Feed one decoded payload (a chunk dict) as the wire would carry it: framed
        and serialised, so it takes the one code path bytes take.  Offsets then count
        bytes of that equivalent body."""
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
        if self.framing == "ndjson":
            return self.feed(text + "\n")
        if event is None and self.event_names:
            kind = payload.get("type")
            event = kind if isinstance(kind, str) else None
        head = f"event: {event}\n" if event else ""
        return self.feed(f"{head}data: {text}\n\n")

    @property
    def message(self) -> Message:
        """The message so far (a live snapshot; see ``toolwire.message``)."""
        if self._builder is None:
            raise ValueError("create the parser with message=True to keep a live message")
        return self._builder.snapshot()

    @property
    def offset(self) -> int:
        """Bytes received so far."""
        return self._decoder.offset

    # -- driving -----------------------------------------------------------------

    def _poison(self, code: str, message: str, out: list[Event]) -> ParseError:
        """The error that ends this stream (every later call raises it again)."""
        err = ParseError(code, message, offset=self._decoder.offset, events=out)
        self._failed = err
        return err

    def _guard(self, out: list[Event], final: bool, data: bytes) -> None:
        """Decode and dispatch; nothing but ParseError may escape."""
        self._out = out
        try:
            items = self._decoder.close() if final else self._decoder.feed(data)
            for item in items:
                if type(item) is Frame:
                    self._dispatch(item)
                else:
                    assert isinstance(item, FramingError)
                    self._frame = None
                    self._emit_error(item.code, item.message, item.offset, item.line, item.column)
            if final:
                self._frame = None
                self._end_of_stream()
        except ParseError as exc:
            exc.events = out[:]
            self._failed = exc
            if self._builder is not None:
                self._builder.extend(out)
            raise
        except RecursionError as exc:
            # Input nested past Python's recursion limit in a decoder that no limit
            # of ours covers: raised and poisoning, with the code that says so.
            msg = f"input nested too deeply to decode: {exc}"
            raise self._poison(ErrorCode.LIMIT_EXCEEDED, msg, out) from exc
        except MemoryError:  # pragma: no cover - resource exhaustion
            raise
        except Exception as exc:  # pragma: no cover - a bug; never let it escape raw
            msg = f"internal error: {exc!r}"
            raise self._poison(ErrorCode.INTERNAL_ERROR, msg, out) from exc
        if self._builder is not None:
            self._builder.extend(out)

    def _dispatch(self, frame: Frame) -> None:
        self._frame = frame
        if frame.event == "error":
            # An SSE error frame (Groq, Anthropic, OpenAI): whatever its data holds.
            try:
                payload: Any = json.loads(frame.data)
            except (ValueError, RecursionError):
                payload = frame.data
            self._provider_error(payload)
            return
        if self._finished:
            self._error(ErrorCode.INVALID_EVENT, "an event after the end of the response")
            return
        if frame.data == "[DONE]":
            self._finish()
            return
        data = frame.data
        try:
            payload, end = self._scan(data, 0)
            if end != len(data):
                raise StopIteration(end)
        except (StopIteration, ValueError):
            payload = None  # json.loads decides, and words the error
        except RecursionError:
            # Nested past what Python's JSON decoder can hold (~1,000 levels).
            self._error(ErrorCode.LIMIT_EXCEEDED, "event data nested too deeply to decode")
            return
        try:
            if payload is None:
                payload = json.loads(data)
        except ValueError as exc:
            if not frame.terminated:
                self._error(ErrorCode.TRUNCATED, "the body ended inside a line of JSON")
            else:
                self._error(ErrorCode.INVALID_EVENT, f"event data is not JSON ({exc})")
            return
        if type(payload) is not dict:
            self._error(ErrorCode.INVALID_EVENT, "event data is not a JSON object")
            return
        try:
            self._payload(payload, frame)
        except SchemaError as exc:
            self._error(ErrorCode.INVALID_EVENT, str(exc))

    def _payload(self, payload: dict[str, Any], frame: Frame) -> None:
        """Map one payload onto the operations below (the provider's whole job)."""
        raise NotImplementedError

    # -- text blocks -------------------------------------------------------------

    def _text(self, kind: Literal["text", "reasoning"], text: str | None) -> None:
        if not text:
            return
        out = self._out
        if self._block_kind != kind:
            self._end_block()
            self._block_kind = kind
            self._block_id = self._next_block
            self._next_block += 1
            out.append(
                TextStart(id=self._block_id)
                if kind == "text"
                else ReasoningStart(id=self._block_id)
            )
        out.append(
            text_delta(self._block_id, text)
            if kind == "text"
            else reasoning_delta(self._block_id, text)
        )

    def _end_block(self) -> None:
        kind = self._block_kind
        if kind is not None:
            self._block_kind = None
            self._out.append(
                TextEnd(id=self._block_id) if kind == "text" else ReasoningEnd(id=self._block_id)
            )

    def _set_reason(self, raw: str | None, normalised: str) -> None:
        """The provider's finish reason (raw) and its normalised form."""
        self._raw_reason = raw
        self._normalised = normalised

    def _set_usage(self, usage: dict[str, Any] | None) -> None:
        if usage is not None:
            self._usage = usage

    def _finish(self) -> None:
        """The response is over: end what is open, emit ``finish``."""
        if self._finished:
            return
        self._end_block()
        self._end_calls(cut=self._normalised == "length")
        reason = self._normalised or "other"
        if reason == "stop" and self._completed:
            reason = "tool_calls"
        self._out.append(Finish(reason=reason, raw_reason=self._raw_reason, usage=self._usage))
        self._finished = True

    def _end_of_stream(self) -> None:
        """``close()``: finish if the provider gave its reason without an end marker;
        otherwise the body was cut off (unless the provider reported an error)."""
        if self._finished:
            return
        if self._normalised is not None:
            self._finish()
            return
        self._end_block()
        cut = bool(self._live)
        for call in list(self._live.values()):
            self._kill(call)
            self._error(
                ErrorCode.TRUNCATED,
                f"the body ended inside {call.label}; its incomplete arguments: "
                f"{call.body.scanner.raw()!r}",
            )
        if not cut and not self._provider_failed:
            self._error(ErrorCode.TRUNCATED, "the body ended before the response finished")

    # -- errors ------------------------------------------------------------------

    def _provider_error(self, payload: Any) -> None:
        """The provider reported an error; ``payload`` is its error object, or the
        event that carried it."""
        detail = payload
        if isinstance(payload, dict):
            inner = payload.get("error")
            if isinstance(inner, dict):
                detail = inner
            else:
                detail = {k: v for k, v in payload.items() if k not in ("type", "sequence_number")}
        self._provider_failed = True
        self._end_block()
        self._error(ErrorCode.PROVIDER_ERROR, describe_error(detail), detail=detail)

    def _error(self, code: str, message: str, *, detail: Any = None) -> None:
        frame = self._frame
        if frame is not None:
            offset, line, column = frame.start, frame.line, 1
        else:
            offset, line, column = self._decoder.position()
        self._emit_error(
            code, f"{message} at line {line} column {column}", offset, line, column, detail
        )

    def _emit_error(
        self,
        code: str,
        message: str,
        offset: int,
        line: int,
        column: int,
        detail: Any = None,
    ) -> None:
        if self.strict:
            raise ParseError(str(code), message, offset=offset, line=line, column=column)
        if code == ErrorCode.PROVIDER_ERROR:
            self._out.append(
                ProviderError(
                    code=str(code),
                    message=message,
                    offset=offset,
                    line=line,
                    column=column,
                    detail=detail,
                )
            )
        else:
            self._out.append(
                Error(code=str(code), message=message, offset=offset, line=line, column=column)
            )
