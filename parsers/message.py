"""The message a stream adds up to: what a client stores after the stream, and the
live snapshot a UI shows while it runs.

``MessageBuilder`` consumes events one at a time, from any parser (text format or
provider), and ``snapshot()`` returns an immutable ``Message`` as it stands;
``collect(events)`` is the one-shot form.  Building is cheap per event (text is kept
as pieces, joined once per snapshot); anything costly is computed only on demand:
an open call's ``preview`` parses its partial arguments when it is read, never while
the stream runs.

Rules: ``content`` and ``reasoning`` are the concatenated deltas, or None when empty;
``tool_calls`` are the complete client calls in the order they started (parallel
calls may complete in another order), a call to one of the model's built-in tools
flagged ``builtin`` (the client runs it with its own implementation);
``incomplete_tool_calls`` are calls that started but are not complete — in a live
snapshot, calls still streaming; in a final message, calls cut off or abandoned by an
error (never to be run); ``finish_reason``/``raw_finish_reason``/``usage`` come from
the ``finish`` event (None until it arrives); ``errors`` are every ``error`` event.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .events import (
    Error,
    Event,
    Finish,
    ProviderError,
    ProviderToolCall,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
)

__all__ = ["Message", "MessageBuilder", "MessageToolCall", "PartialToolCall", "collect"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageToolCall:
    """A complete client tool call."""

    index: int
    id: str
    name: str | None
    arguments: Any
    """The parsed arguments."""
    raw: str
    """The argument text as the model wrote it ("" when the provider sent none)."""
    builtin: bool = False
    """A built-in tool of the model (gpt-oss ``browser.*``, ``python``): route it to
    the client's own implementation of that tool."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PartialToolCall:
    """A call that started but is not complete."""

    index: int
    id: str
    name: str | None
    raw: str
    """The argument text received so far."""
    builtin: bool = False

    @property
    def preview(self) -> Any:
        """A best-effort parse of ``raw`` (computed on every read: keep the result if
        you need it twice).  Incomplete strings are kept, incomplete numbers and
        literals dropped; None when nothing parses yet.  Uses jiter's partial mode
        when it is installed (``toolwire[preview]``), else a small fallback."""
        return partial_json(self.raw)


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    content: str | None = None
    reasoning: str | None = None
    tool_calls: tuple[MessageToolCall, ...] = ()
    provider_tool_calls: tuple[ProviderToolCall, ...] = ()
    """Tools the provider ran itself (web search, code execution): for display only."""
    incomplete_tool_calls: tuple[PartialToolCall, ...] = ()
    finish_reason: str | None = None
    """Normalised: stop, length, tool_calls, content_filter, error or other."""
    raw_finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    errors: tuple[Error, ...] = ()
    finished: bool = False
    """A ``finish`` event arrived: the stream ended normally."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {
            "content": self.content,
            "reasoning": self.reasoning,
            "tool_calls": [
                {
                    "index": c.index,
                    "id": c.id,
                    "name": c.name,
                    "arguments": c.arguments,
                    "raw": c.raw,
                    **_BUILTIN[c.builtin],
                }
                for c in self.tool_calls
            ],
            "provider_tool_calls": [c.to_json() for c in self.provider_tool_calls],
            "incomplete_tool_calls": [
                {"index": c.index, "id": c.id, "name": c.name, "raw": c.raw, **_BUILTIN[c.builtin]}
                for c in self.incomplete_tool_calls
            ],
            "finish_reason": self.finish_reason,
            "raw_finish_reason": self.raw_finish_reason,
            "usage": self.usage,
            "errors": [e.to_json() for e in self.errors],
        }


_BUILTIN: dict[bool, dict[str, bool]] = {False: {}, True: {"builtin": True}}
"""JSON: ``builtin`` only on built-in calls, as in the events' JSON."""


@dataclass(slots=True)
class _Open:
    index: int
    id: str
    name: str | None
    pieces: list[str] = field(default_factory=list)
    builtin: bool = False


class MessageBuilder:
    """Feed it events (``feed``/``extend``); ``snapshot()`` is the message so far."""

    __slots__ = (
        "_calls",
        "_content",
        "_errors",
        "_finish",
        "_open",
        "_provider_calls",
        "_reasoning",
    )

    def __init__(self) -> None:
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self._calls: list[MessageToolCall] = []
        self._provider_calls: list[ProviderToolCall] = []
        self._open: dict[int, _Open] = {}
        self._errors: list[Error] = []
        self._finish: Finish | None = None

    def feed(self, event: Event) -> None:
        """Take one event into account."""
        cls = type(event)
        if cls is TextDelta:
            self._content.append(event.text)  # type: ignore[attr-defined]
        elif cls is ReasoningDelta:
            self._reasoning.append(event.text)  # type: ignore[attr-defined]
        elif cls is ToolCallDelta:
            assert isinstance(event, ToolCallDelta)
            call = self._open.get(event.index)
            if call is None:  # a delta without its start: open the call here
                call = self._open[event.index] = _Open(event.index, event.id, None)
            call.pieces.append(event.text)
        elif cls is ToolCallStart:
            assert isinstance(event, ToolCallStart)
            self._open[event.index] = _Open(
                event.index, event.id, event.name, builtin=event.builtin
            )
        elif cls is ToolCall:
            assert isinstance(event, ToolCall)
            self._open.pop(event.index, None)
            self._calls.append(
                MessageToolCall(
                    index=event.index,
                    id=event.id,
                    name=event.name,
                    arguments=event.arguments,
                    raw=event.raw,
                    builtin=event.builtin,
                )
            )
        elif cls is ProviderToolCall:
            assert isinstance(event, ProviderToolCall)
            self._provider_calls.append(event)
        elif cls is Finish:
            assert isinstance(event, Finish)
            self._finish = event
        elif isinstance(event, Error):
            self._errors.append(event)

    def extend(self, events: Iterable[Event]) -> None:
        for event in events:
            self.feed(event)

    def snapshot(self) -> Message:
        """The message as it stands (an immutable value)."""
        finish = self._finish
        return Message(
            content=_joined(self._content),
            reasoning=_joined(self._reasoning),
            tool_calls=tuple(sorted(self._calls, key=_by_index)),
            provider_tool_calls=tuple(self._provider_calls),
            incomplete_tool_calls=tuple(
                PartialToolCall(
                    index=c.index,
                    id=c.id,
                    name=c.name,
                    raw=_joined(c.pieces) or "",
                    builtin=c.builtin,
                )
                for c in self._open.values()
            ),
            finish_reason=finish.reason if finish else None,
            raw_finish_reason=finish.raw_reason if finish else None,
            usage=finish.usage if finish else None,
            errors=tuple(self._errors),
            finished=finish is not None,
        )


def _by_index(call: MessageToolCall) -> int:
    return call.index


def _joined(pieces: list[str]) -> str | None:
    """The pieces joined (kept joined, so the next snapshot starts from one string)."""
    if len(pieces) > 1:
        pieces[:] = ["".join(pieces)]
    return pieces[0] if pieces and pieces[0] else None


def collect(events: Iterable[Event]) -> Message:
    """The message a whole stream of events adds up to."""
    builder = MessageBuilder()
    builder.extend(events)
    return builder.snapshot()


def provider_errors(message: Message) -> list[ProviderError]:
    """The errors the provider itself reported (each carries its error object)."""
    return [e for e in message.errors if isinstance(e, ProviderError)]


# -- best-effort parse of partial JSON -------------------------------------------


def partial_json(raw: str) -> Any:
    """Parse the longest sensible prefix of a JSON text that may be cut anywhere."""
    if not raw.strip():
        return None
    try:
        import jiter
    except ImportError:
        return _fallback_partial(raw)
    try:
        return jiter.from_json(raw.encode("utf-8"), partial_mode="trailing-strings")
    except ValueError:
        return None


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|[{}\[\],:]|[^\s{}\[\],:"]+')


def _fallback_partial(raw: str) -> Any:
    """Without jiter: close what is open and drop what cannot be completed.

    Tokenise (strings possibly unterminated), then try the whole text with its open
    containers closed; on failure cut back to the previous structural token and try
    again.  Quadratic in the worst case, but only on demand and only for one call.
    """
    tokens = [m.group() for m in _TOKEN.finditer(raw)]
    for cut in range(len(tokens), 0, -1):
        head = tokens[:cut]
        last = head[-1]
        if last.startswith('"') and (len(last) == 1 or not _closed_string(last)):
            head[-1] = _close_string(last)
        text = _close_containers(head)
        if text is None:
            continue
        try:
            return json.loads(text)
        except ValueError:
            continue
    return None


def _closed_string(token: str) -> bool:
    """A string token whose final quote is not escaped."""
    if len(token) < 2 or not token.endswith('"'):
        return False
    backslashes = len(token) - 1 - len(token[:-1].rstrip("\\"))
    return backslashes % 2 == 0


def _close_string(token: str) -> str:
    body = token[1:]
    # Drop a dangling escape: an odd run of backslashes at the end starts one (with
    # perhaps an incomplete \\u sequence after it).
    m = _DANGLING.search(body)
    if m is not None and len(m.group(1)) % 2:
        body = body[: m.end(1) - 1]
    return '"' + body + '"'


_DANGLING = re.compile(r"(\\+)(u[0-9a-fA-F]{0,3})?$")


def _close_containers(tokens: list[str]) -> str | None:
    stack: list[str] = []
    for tok in tokens:
        if tok in ("{", "["):
            stack.append(tok)
        elif tok in ("}", "]"):
            if not stack:
                return None
            stack.pop()
    # A trailing comma, colon or key cannot be completed: drop it.
    while tokens and tokens[-1] in (",", ":"):
        tokens = tokens[:-1]
    if stack and stack[-1] == "{" and tokens and tokens[-1].startswith('"'):
        # A key without its value (after "{" or ","): drop it.
        prev = tokens[-2] if len(tokens) > 1 else ""
        if prev in ("{", ","):
            tokens = tokens[:-1]
            while tokens and tokens[-1] == ",":
                tokens = tokens[:-1]
    closers = "".join("}" if c == "{" else "]" for c in reversed(stack))
    return "".join(tokens) + closers
