"""The event vocabulary: what every parser emits, whatever the format or provider.

Events are slotted, keyword-only dataclasses under one base, built complete and
never changed afterwards: values, compared by value.  They are not ``frozen``: a
frozen dataclass is built through ``object.__setattr__`` per field, measured at about
twice the construction cost of a plain slotted one in CPython 3.11, and a long
argument streamed in 4-character chunks builds one delta event per chunk, which makes
that cost a third of the parser's whole per-chunk budget (``benchmarks/``).  Treat
them as immutable.  Each has ``to_json()`` whose ``type`` is the snake_case name used
by the CLI's ``--jsonl`` output.

Blocks (reasoning, text) are numbered in stream order: ``id`` is the block number,
shared by the start, delta and end events of one block.  Tool calls carry ``index``
(0-based position among the stream's calls) and ``id`` (the provider's call id, or a
deterministic ``call_<index>`` where the format has none).

Offsets (``span``, ``Error.offset``) count characters of the decoded text for text
formats and bytes of the raw body for provider streams.

Built-in tools: a model may call a tool of its own training rather than one of the
client's (gpt-oss's ``browser.search``, ``python``, ``container.exec``).  Such a call
is an ordinary ``tool_call_start`` / ``tool_call_delta`` / ``tool_call`` sequence
whose start and completed events carry ``builtin=True``: the client runs it with its
own implementation of that tool (the stream waits for its result like any call's).
That differs from ``provider_tool_call``, a tool the provider already ran.  In JSON,
``"builtin": true`` appears only on such calls (absent means false).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

__all__ = [
    "Error",
    "Event",
    "Finish",
    "ProviderError",
    "ProviderToolCall",
    "ReasoningDelta",
    "ReasoningEnd",
    "ReasoningStart",
    "TextDelta",
    "TextEnd",
    "TextStart",
    "ToolCall",
    "ToolCallDelta",
    "ToolCallStart",
]


@dataclass(slots=True, kw_only=True)
class Event:
    """Base of every event; ``type`` is the snake_case name in JSON output."""

    type: ClassVar[str] = "event"

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict: ``{"type": ..., <fields>}``."""
        out: dict[str, Any] = {"type": self.type}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


@dataclass(slots=True, kw_only=True)
class _BlockEvent(Event):
    """An event of a text or reasoning block."""

    id: int
    """Block number in the stream (0-based, shared by text and reasoning blocks)."""


@dataclass(slots=True, kw_only=True)
class _BlockDelta(_BlockEvent):
    text: str
    """The block's text, verbatim."""


@dataclass(slots=True, kw_only=True)
class ReasoningStart(_BlockEvent):
    type: ClassVar[str] = "reasoning_start"


@dataclass(slots=True, kw_only=True)
class ReasoningDelta(_BlockDelta):
    type: ClassVar[str] = "reasoning_delta"


@dataclass(slots=True, kw_only=True)
class ReasoningEnd(_BlockEvent):
    type: ClassVar[str] = "reasoning_end"


@dataclass(slots=True, kw_only=True)
class TextStart(_BlockEvent):
    type: ClassVar[str] = "text_start"


@dataclass(slots=True, kw_only=True)
class TextDelta(_BlockDelta):
    type: ClassVar[str] = "text_delta"


@dataclass(slots=True, kw_only=True)
class TextEnd(_BlockEvent):
    type: ClassVar[str] = "text_end"


@dataclass(slots=True, kw_only=True)
class ToolCallStart(Event):
    type: ClassVar[str] = "tool_call_start"
    index: int
    """Position of the call among the stream's calls (0-based)."""
    id: str
    """The call id: the provider's, or ``call_<index>`` where the format has none."""
    name: str | None
    """The tool name, or None when it is not known yet (it arrives later)."""
    builtin: bool = False
    """A built-in tool of the model (gpt-oss ``browser.*``, ``python``,
    ``container.*``), to route to the client's own implementation of it."""

    def to_json(self) -> dict[str, Any]:
        return _without_false_builtin(Event.to_json(self))


@dataclass(slots=True, kw_only=True)
class ToolCallDelta(Event):
    type: ClassVar[str] = "tool_call_delta"
    index: int
    id: str
    text: str
    """Raw argument text as it arrived; the deltas of a call concatenate to its ``raw``."""


@dataclass(slots=True, kw_only=True)
class ToolCall(Event):
    type: ClassVar[str] = "tool_call"
    index: int
    id: str
    name: str | None
    """The tool name; None only for a bare-arguments call whose format gives no name."""
    arguments: Any
    """The parsed arguments (a dict for every format shipped)."""
    raw: str
    """The argument text exactly as the model wrote it."""
    span: tuple[int, int]
    """[start, end) offsets of the call in the input; ``end`` is just past the
    character that completed it."""
    builtin: bool = False
    """A built-in tool of the model (see ``ToolCallStart.builtin``)."""

    def to_json(self) -> dict[str, Any]:
        return _without_false_builtin(Event.to_json(self))


@dataclass(slots=True, kw_only=True)
class ProviderToolCall(Event):
    type: ClassVar[str] = "provider_tool_call"
    index: int
    id: str
    name: str | None
    arguments: Any
    """A tool the provider runs itself (web search, code execution): never for the client."""


@dataclass(slots=True, kw_only=True)
class Finish(Event):
    type: ClassVar[str] = "finish"
    reason: str
    """Normalised: stop, length, tool_calls, content_filter, error or other."""
    raw_reason: str | None = None
    """The source's own finish value, where it gives one."""
    usage: dict[str, Any] | None = None
    """The source's usage object as it stood at the end, or None."""


@dataclass(slots=True, kw_only=True)
class Error(Event):
    type: ClassVar[str] = "error"
    code: str
    """One of the codes in ``toolwire.ErrorCode``."""
    message: str
    offset: int | None
    """0-based offset of the offending character (None when unknown)."""
    line: int | None
    """1-based line of the offending character."""
    column: int | None
    """1-based column of the offending character."""


@dataclass(slots=True, kw_only=True)
class ProviderError(Error):
    """An error the provider reported inside the stream (an SSE ``event: error``, an
    ``error`` object in a chunk, a failed response): code ``provider_error``."""

    detail: Any
    """The provider's own error object, as it sent it."""


def _without_false_builtin(out: dict[str, Any]) -> dict[str, Any]:
    """``builtin`` is written only when true, so the JSON of every other call stays as
    it always was."""
    if not out["builtin"]:
        del out["builtin"]
    return out


_new = object.__new__


def tool_call_delta(index: int, id: str, text: str) -> ToolCallDelta:
    """Build a ToolCallDelta without keyword-argument parsing (hot paths)."""
    event: ToolCallDelta = _new(ToolCallDelta)
    event.index = index
    event.id = id
    event.text = text
    return event


def text_delta(id: int, text: str) -> TextDelta:
    """Build a TextDelta without keyword-argument parsing (hot paths)."""
    event: TextDelta = _new(TextDelta)
    event.id = id
    event.text = text
    return event


def reasoning_delta(id: int, text: str) -> ReasoningDelta:
    """Build a ReasoningDelta without keyword-argument parsing (hot paths)."""
    event: ReasoningDelta = _new(ReasoningDelta)
    event.id = id
    event.text = text
    return event
