"""The island around a value scanner that builds its own value (Python kwargs, Gemma objects).

Theory of operation
-------------------
Grammar-defined formats hand a call's body to an island (``island_protocol.Island``).
For the scanners that validate and build the arguments themselves
(``pylit.PyKwargsScanner``, ``gemma_object.GemmaObjectScanner``) the island is the
same thin wrapper: it feeds the scanner, turns the text the scanner accepted into
``tool_call_delta`` events (``tool_call_start`` before the first, unless the call's
markup already emitted it), and on completion builds the ``tool_call`` from the
scanner's value and raw text.  On an error it first delivers the argument text
before the offending character, so the deltas never depend on the chunking.

A subclass names its scanner (``new_scanner``) and how many characters at the end
of the body complete it without being argument text (``closer_length``: the ``)``
of a Python call, none for Gemma's braces).  ``mode`` and the JSON-envelope options
(``id_key``, ``extra_keys``, any added later) are accepted as ``ISLAND_KINDS``
documents and ignored: these bodies are always the bare arguments and carry no id.
``streaming`` is always False: the driver's JSON hot path does not apply, but
``fast_feed`` offers it a chunk that lies wholly inside a string.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, Protocol, TypeVar

from ..events import Event, ToolCall, ToolCallDelta, ToolCallStart, _new, tool_call_delta
from .island_protocol import CallIsland, IslandScanner
from .literals import JsonSyntaxError

__all__ = ["ScannedCallBody", "ValueScanner"]


class ValueScanner(IslandScanner, Protocol):
    """What the island reads of its scanner, beyond the driver's ``IslandScanner``."""

    def feed(self, text: str, start: int, end: int) -> int: ...

    def value(self) -> Any: ...

    def feed_plain(self, chunk: str) -> bool: ...


S = TypeVar("S", bound=ValueScanner)


class ScannedCallBody(CallIsland, Generic[S]):
    """One call's body read by a value scanner; see the module docstring."""

    __slots__ = ("scanner", "values")

    closer_length: ClassVar[int] = 0
    """Characters at the end of the body that complete it but are no argument text."""

    def __init__(self, mode: str, *, max_depth: int, max_size: int, **call: Any) -> None:
        super().__init__(**call)
        self.values: S = self.new_scanner(max_depth, max_size)
        self.scanner: IslandScanner = self.values

    def new_scanner(self, max_depth: int, max_size: int) -> S:
        """The scanner that reads this kind of body."""
        raise NotImplementedError

    def feed(self, text: str, start: int, end: int, out: list[Event]) -> int:
        """Consume ``text[start:end]``; returns the index just past the character that
        completes the body, or -1.  Raises JsonSyntaxError (index into ``text``) after
        delivering the argument text that precedes the error."""
        try:
            done = self.values.feed(text, start, end)
        except JsonSyntaxError as exc:
            self._deliver(text, start, exc.index, out)
            raise
        self._deliver(text, start, done - self.closer_length if done >= 0 else end, out)
        return done

    def fast_feed(self, chunk: str) -> list[Event] | None:
        """The driver's island fast path: a chunk wholly inside a string is taken at
        the cost of one search and becomes one delta (none while ``quiet``); None
        when ``feed`` must see it."""
        if not chunk or not (self.started or self.quiet) or not self.values.feed_plain(chunk):
            return None
        if self.quiet:
            return []
        event = _new(ToolCallDelta)  # tool_call_delta, inlined
        event.index = self.index
        event.id = self.id
        event.text = chunk
        return [event]

    def _deliver(self, text: str, start: int, stop: int, out: list[Event]) -> None:
        if self.quiet:
            return
        if not self.started:
            self.started = True
            out.append(ToolCallStart(index=self.index, id=self.id, name=self.name))
        if stop > start:
            out.append(tool_call_delta(self.index, self.id, text[start:stop]))

    def complete(self, span_end: int) -> ToolCall:
        """The finished call."""
        sc = self.values
        raw = sc.raw()
        return ToolCall(
            index=self.index,
            id=self.id,
            name=self.name,
            arguments=sc.value(),
            raw=raw[: len(raw) - self.closer_length],
            span=(self.span_start, span_end),
        )
