"""Call bodies read by a value scanner other than the JSON engine: Python keyword
lists (``python_kwargs``, llama4-pythonic) and Gemma objects (``gemma_object``).

Theory of operation
-------------------
The scanner (``values.pylit.PyKwargsScanner``, ``values.gemma_object.
GemmaObjectScanner``) says where the body ends, with the exact index of its
completing character, and raises ``JsonSyntaxError`` at the first character that
cannot continue a valid body.  The island around it only turns that into events:
``tool_call_start`` before the first argument text (unless the opener emitted it),
each fed piece of the body as one ``tool_call_delta``, and the ``tool_call`` built
from the scanner's value and raw text.  The two kinds differ in one fact: whether
the completing character belongs to the arguments (a Gemma object's ``}``) or only
ends them (the ``)`` after a Python keyword list), which ``keeps_closer`` states.

Built as ``ISLAND_KINDS`` documents; ``mode`` and the JSON-envelope options are
ignored (the name came from the call's markup, the body is always the arguments,
and it carries no id).  ``streaming`` is always False: the driver's JSON hot path
does not apply; a kind whose scanner can take a chunk wholly inside a string at the
cost of a membership test offers ``fast_feed``, the driver's island fast path.
``quiet`` (set by the driver for speculative islands) silences every event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ..events import Event, ToolCall, ToolCallDelta, ToolCallStart, tool_call_delta
from ..values.gemma_object import GemmaObjectScanner
from ..values.json_engine import JsonSyntaxError
from ..values.pylit import PyKwargsScanner

if TYPE_CHECKING:
    from .islands import Island, IslandScanner

__all__ = ["GemmaCallBody", "PyKwargsCallBody", "ScannedCallBody"]


class ScannedCallBody:
    """One call body read by ``SCANNER``; subclasses name the scanner and say whether
    the completing character is part of the arguments."""

    SCANNER: ClassVar[type[PyKwargsScanner] | type[GemmaObjectScanner]]
    keeps_closer: ClassVar[bool]

    __slots__ = (
        "_scan",
        "id",
        "index",
        "name",
        "quiet",
        "scanner",
        "span_start",
        "started",
        "streaming",
    )

    def __init__(
        self,
        mode: str,
        *,
        index: int,
        call_id: str,
        name: str | None,
        span_start: int,
        started: bool,
        max_depth: int,
        max_size: int,
        **envelope_options: object,
    ) -> None:
        self.index = index
        self.id = call_id
        self.name = name
        self.span_start = span_start
        self.started = started
        """Whether tool_call_start was already emitted (by the call's markup)."""
        self.streaming = False
        self.quiet = False
        self._scan = self.SCANNER(max_depth=max_depth, max_size=max_size)
        self.scanner: IslandScanner = self._scan

    def feed(self, text: str, start: int, end: int, out: list[Event]) -> int:
        """Consume ``text[start:end]``; returns the index just past the completing
        character, or -1.  Raises JsonSyntaxError (index into ``text``) after
        delivering the argument text that precedes the error."""
        try:
            done = self._scan.feed(text, start, end)
        except JsonSyntaxError as exc:
            self._deliver(text, start, exc.index, out)
            raise
        if done < 0:
            self._deliver(text, start, end, out)
        else:
            self._deliver(text, start, done if self.keeps_closer else done - 1, out)
        return done

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
        sc = self._scan
        raw = sc.raw()
        return ToolCall(
            index=self.index,
            id=self.id,
            name=self.name,
            arguments=sc.value(),
            raw=raw if self.keeps_closer else raw[:-1],
            span=(self.span_start, span_end),
        )


class PyKwargsCallBody(ScannedCallBody):
    """The ``python_kwargs`` island: one call's ``name=literal, …)`` body.  Its
    argument text (the deltas and the ``raw``) is what stands between the call's
    parentheses (``id=7, cols=['x']``); the closing ``)`` completes the call but
    belongs to no delta."""

    __slots__ = ()
    SCANNER = PyKwargsScanner
    keeps_closer = False


class GemmaCallBody(ScannedCallBody):
    """The ``gemma_object`` island: one call's ``{key:value,...}`` body, both braces
    included in its argument text."""

    __slots__ = ()
    SCANNER = GemmaObjectScanner
    keeps_closer = True

    def fast_feed(self, chunk: str) -> ToolCallDelta | None:
        """The driver's island fast path: a chunk wholly inside a string becomes one
        delta at the cost of a membership test; None when ``feed`` must see it."""
        scan = self._scan
        assert isinstance(scan, GemmaObjectScanner)
        if not chunk or not scan.feed_plain(chunk):
            return None
        return tool_call_delta(self.index, self.id, chunk)


if TYPE_CHECKING:  # the island protocol, checked statically

    def _is_an_island(body: ScannedCallBody) -> Island:
        return body
