"""What the grammar engine reads of an island: the ``Island`` protocols and their common fields.

An island is one call body that a grammar hands to a sub-parser -- the JSON engine,
a Python keyword list, Gemma's object notation, raw code -- which alone knows where
the body ends.  The protocols live with the value scanners that implement them, so
that a scanner never needs the engine; the engine (``engine/islands.py``, the
driver) programs against them without knowing which scanner it holds.

Every island kind is built the same way (``ISLAND_KINDS``: ``(mode, index=,
call_id=, name=, span_start=, started=, max_depth=, max_size=, **options)``);
``CallIsland`` takes the call's identity from those keywords, once for all kinds,
and ignores the options a kind does not read.
"""

from __future__ import annotations

from typing import Protocol

from ..events import Event, ToolCall

__all__ = ["CallIsland", "Island", "IslandScanner"]


class IslandScanner(Protocol):
    """What the driver reads of an island's sub-parser."""

    size: int
    """Characters consumed so far."""
    value_start: int
    """Offset (in the consumed text) of the value's first character."""

    def raw(self) -> str:
        """Everything consumed, as it arrived."""
        ...

    def finish(self) -> bool:
        """End of input: True if the value is complete."""
        ...

    def expected(self) -> str:
        """What the sub-parser waits for, for truncation messages."""
        ...


class Island(Protocol):
    """One call body handed to a sub-parser that says where it ends.

    ``feed`` returns the index just past the completing character, or -1, and raises
    ``JsonSyntaxError`` (the sub-parsers' one error type, index into ``text``) after
    delivering the argument text before the error.  ``streaming`` enables the driver's
    hot path and is only ever True for ``JsonCallBody``."""

    index: int
    id: str
    started: bool
    streaming: bool
    quiet: bool
    """Set by the driver for speculative islands: emit nothing, it reports the call."""
    scanner: IslandScanner

    def feed(self, text: str, start: int, end: int, out: list[Event]) -> int: ...

    def complete(self, span_end: int) -> ToolCall: ...


class CallIsland:
    """The fields every island kind carries: the call's identity and its flags."""

    __slots__ = ("builtin", "id", "index", "name", "quiet", "span_start", "started", "streaming")

    def __init__(
        self,
        *,
        index: int,
        call_id: str,
        name: str | None,
        span_start: int,
        started: bool,
        builtin: bool = False,
        **options: object,
    ) -> None:
        self.index = index
        self.id = call_id
        self.name = name
        self.span_start = span_start
        self.started = started
        """Whether tool_call_start was already emitted (by the opening markup)."""
        self.builtin = builtin
        """A call to a built-in tool: its events say so (where the kind reports it)."""
        self.streaming = False
        """The driver's JSON hot path applies (only ever for ``JsonCallBody``)."""
        self.quiet = False
        """Speculative: emit nothing while parsing (the driver reports the call)."""
