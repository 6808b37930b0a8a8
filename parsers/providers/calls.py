"""Client tool calls of a provider stream, between their start and their end.

``ProviderParser`` (``base.py``) maps each payload onto a few operations; these are
the call ones.  ``_open_call`` emits ``tool_call_start``; argument fragments go
through ``islands.JsonCallBody`` (``_args``; ``_stream_args`` is its hot path for a
long argument inside a string), so ``tool_call`` goes out in the frame that delivers
the closing brace, with the arguments parsed once; ``_end_call`` is the provider
saying the call is over (empty text means ``{}``, incomplete text is ``truncated``).
Every open call's argument text counts against ``max_buffered``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..engine.islands import CallError, JsonCallBody
from ..errors import ErrorCode
from ..events import (
    Event,
    ProviderToolCall,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    _new,
)
from ..framing.sse import Frame
from ..values.json_engine import JsonSyntaxError
from ..values.schema_check import ArgumentChecker

__all__ = ["ClientCall", "ClientCalls"]

_WS = " \t\n\r"


@dataclass(slots=True)
class ClientCall:
    """A client call between its start and its end."""

    index: int
    body: JsonCallBody
    done: bool = False
    """``tool_call`` was emitted."""
    dead: bool = False
    """An error ended it; later text for it is ignored (the error said so)."""
    held: int = 0
    """Argument characters it holds, counted in the parser's ``max_buffered`` total."""

    @property
    def label(self) -> str:
        name = self.body.name
        return f"tool call {self.index}" + (f" ({name})" if name else "")


class ClientCalls:
    """The call operations of ``ProviderParser`` (its state is set up there)."""

    max_depth: int
    max_argument_size: int
    max_calls: int
    max_buffered: int
    _held: int
    _out: list[Event]
    _frame: Frame | None
    _block_kind: str | None
    _live: dict[int, ClientCall]
    _ncalls: int
    _nprovider: int
    _completed: int
    _checker: ArgumentChecker | None

    def _end_block(self) -> None:
        raise NotImplementedError

    def _error(self, code: str, message: str, *, detail: Any = None) -> None:
        raise NotImplementedError

    @property
    def offset(self) -> int:
        raise NotImplementedError

    def _open_call(self, call_id: str | None, name: str | None) -> ClientCall:
        """A new client call: ``tool_call_start`` now, with the name if known."""
        self._end_block()
        index = self._ncalls
        self._ncalls += 1
        cid = call_id or f"call_{index}"
        frame = self._frame
        body = JsonCallBody(
            "arguments",
            index=index,
            call_id=cid,
            name=name or None,
            span_start=frame.start if frame is not None else self.offset,
            started=True,
            max_depth=self.max_depth,
            max_size=self.max_argument_size,
        )
        call = self._live[index] = ClientCall(index, body)
        self._out.append(ToolCallStart(index=index, id=cid, name=name or None))
        return call

    def _name(self, call: ClientCall, name: str | None) -> None:
        """A name seen on a continuation: fills a missing one; empty ones are ignored."""
        if name and call.body.name is None:
            call.body.name = name
        elif name and name != call.body.name:
            self._error(
                ErrorCode.INVALID_EVENT,
                f"{call.label} renamed to {name!r} on a continuation",
            )

    def _stream_args(self, call: ClientCall, text: str) -> None:
        """Argument text for ``call`` on the hot path of a long argument: inside a
        string, plain text and complete escapes go straight to the scanner and out
        as one delta; anything else, or anything near a limit, through ``_args``."""
        n = len(text)
        body = call.body
        if (
            not n
            or call.done
            or call.dead
            or self._held + n > self.max_buffered
            or not body.stream_plain(text)
        ):
            self._args(call, text)
            return
        call.held += n
        self._held += n
        if self._block_kind is not None:
            self._end_block()
        event = _new(ToolCallDelta)  # tool_call_delta, inlined
        event.index = call.index
        event.id = body.id
        event.text = text
        self._out.append(event)

    def _args(self, call: ClientCall, text: str | None) -> None:
        """Argument text for ``call``."""
        if not text:
            return
        if call.done:
            if text.strip(_WS):
                self._error(
                    ErrorCode.UNEXPECTED_TEXT,
                    f"argument text {text[:40]!r} for {call.label} after its JSON was complete",
                )
            return
        if call.dead:
            return
        self._end_block()
        body = call.body
        before = body.scanner.size
        try:
            done = body.feed(text, 0, len(text), self._out)
        except JsonSyntaxError as exc:
            self._kill(call)
            self._error(
                exc.code,
                f"{exc.message} in the arguments of {call.label}, argument character "
                f"{before + exc.index}",
            )
            return
        grown = body.scanner.size - call.held
        call.held += grown
        self._held += grown
        if self._held > self.max_buffered:
            self._kill(call)
            self._error(
                ErrorCode.LIMIT_EXCEEDED,
                f"open tool calls hold more than {self.max_buffered} argument characters "
                f"(max_buffered) at {call.label}",
            )
            return
        if done >= 0:
            self._complete(call)
            rest = text[done:]
            if rest.strip(_WS):
                self._error(
                    ErrorCode.UNEXPECTED_TEXT,
                    f"argument text {rest[:40]!r} for {call.label} after its JSON was complete",
                )

    def _complete(self, call: ClientCall) -> None:
        frame = self._frame
        end = frame.end if frame is not None else self.offset
        try:
            event = call.body.complete(end)
        except (CallError, JsonSyntaxError) as exc:
            self._kill(call)
            self._error(exc.code, f"{exc.message} ({call.label})")
            return
        self._done(call, event)

    def _done(self, call: ClientCall, event: ToolCall) -> None:
        if self._completed >= self.max_calls:
            self._kill(call)
            self._error(
                ErrorCode.LIMIT_EXCEEDED,
                f"more than {self.max_calls} tool calls (max_calls) at {call.label}",
            )
            return
        call.done = True
        self._release(call)
        self._completed += 1
        self._out.append(event)
        if self._checker is not None:
            problem = self._checker.problem(event.name, event.arguments)
            if problem is not None:
                self._error(ErrorCode.INVALID_ARGUMENTS, problem)

    def _kill(self, call: ClientCall) -> None:
        call.dead = True
        self._release(call)

    def _release(self, call: ClientCall) -> None:
        """``call`` is over: it no longer holds text."""
        self._live.pop(call.index, None)
        self._held -= call.held
        call.held = 0

    def _end_call(self, call: ClientCall, *, cut: bool = False) -> None:
        """The provider says ``call`` is over (``cut``: by the length limit)."""
        if call.done or call.dead:
            return
        sc = call.body.scanner
        if sc.value_start < 0 and not cut:
            # No argument text at all: the call takes no arguments.
            frame = self._frame
            end = frame.end if frame is not None else self.offset
            body = call.body
            self._done(
                call,
                ToolCall(
                    index=call.index,
                    id=body.id,
                    name=body.name,
                    arguments={},
                    raw="",
                    span=(body.span_start, end),
                ),
            )
            return
        if not cut and sc.finish():
            self._complete(call)  # a bare top-level number: the wrong shape, reported
            return
        self._kill(call)
        why = "by the length limit" if cut else "by the end of the call"
        self._error(
            ErrorCode.TRUNCATED,
            f"{call.label} was cut off {why} with incomplete arguments {sc.raw()!r} "
            f"(expected {sc.expected()})",
        )

    def _end_calls(self, *, cut: bool = False) -> None:
        """Every open call is over."""
        for call in list(self._live.values()):
            self._end_call(call, cut=cut)

    # -- provider-executed tools -------------------------------------------------

    def _provider_call(self, call_id: str | None, name: str | None, arguments: Any) -> None:
        self._end_block()
        index = self._nprovider
        self._nprovider += 1
        self._out.append(
            ProviderToolCall(
                index=index,
                id=call_id or f"provider_call_{index}",
                name=name,
                arguments=arguments,
            )
        )

    # -- finish ------------------------------------------------------------------
