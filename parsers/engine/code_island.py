"""Raw-code islands: a call body that is source code, not a value, up to a stop marker.

Two formats end a call with code rather than arguments: harmony's ``python`` tool
(``harmony_code``: the code up to ``<|call|>`` or ``<|end|>``) and llama3-json's code
interpreter (``llama_code``: the code after ``<|python_tag|>`` up to ``<|eom_id|>`` or
``<|eot_id|>``).  One class reads both; a ``CodeRules`` says how each format differs.

Theory of operation
-------------------
* Each feed searches ``held + text`` once for the earliest closer (one compiled
  alternation).  Before it, everything is code; after a closer, nothing is taken.
* Without a closer, the longest tail that may still become one is held back (at
  most the longest closer less one character): it starts at the last ``<`` in that
  reach, since no closer holds a second ``<``.  So deltas never carry closer text and
  a closer split across chunks is still found; every character is searched a bounded
  number of times.
* ``raw()`` is everything consumed, as it arrived (lead, code, held text, closer),
  and the call's ``raw`` and ``arguments["code"]`` are the code alone.
* The size limit (``max_size``) counts either every character consumed, held text
  included (harmony: ``counts_held``), or only the code (llama3-json, where held text
  counts once it turns out to be code).  Either way the error index is the first
  character past the limit whatever the chunking: held text that an earlier feed
  took in and that lies past the limit goes back to the lexer (``pending``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..events import Event, ToolCall, ToolCallStart, tool_call_delta
from ..values.island_protocol import CallIsland
from ..values.literals import JOIN_EVERY, LIMIT, JsonSyntaxError
from .islands import CallError

if TYPE_CHECKING:
    from ..values.island_protocol import Island, IslandScanner

__all__ = ["CodeBody", "CodeRules"]


@dataclass(frozen=True, slots=True)
class CodeRules:
    """How one format's code body reads (see the module docstring)."""

    closers: tuple[str, ...]
    """What ends the code (consumed with it: it completes the call)."""
    expected: str
    """What the body waits for, for truncation messages."""
    counts_held: bool = False
    """The size limit counts held text and the closer too, not only the code."""
    held_is_code_at_end: bool = False
    """At the end of input a held tail is code (``flush``); else the input ended
    inside a closer and the call is truncated."""
    require_code: bool = False
    """Blank code is ``invalid_arguments`` (a ``CallError``) rather than a call."""
    what: str = "arguments"
    """What the size-limit message calls the text."""
    lead: re.Pattern[str] | None = None
    """Markup at the very start of the body that is not code (consumed)."""
    search: Any = field(init=False, repr=False, compare=False)
    reach: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = re.compile("|".join(map(re.escape, self.closers)))
        object.__setattr__(self, "search", pattern.search)
        object.__setattr__(self, "reach", max(map(len, self.closers)) - 1)

    def held_from(self, text: str) -> int:
        """Where the longest tail of ``text`` that may still become a closer begins
        (``len(text)`` when none)."""
        at = text.rfind("<", max(0, len(text) - self.reach))
        if at >= 0 and any(closer.startswith(text[at:]) for closer in self.closers):
            return at
        return len(text)


class CodeBody(CallIsland):
    """One code body, its own scanner (``IslandScanner``); see the module docstring.

    Built as ``ISLAND_KINDS`` documents, with ``rules`` bound by the format (the
    JSON-envelope options are ignored).  ``builtin`` goes on the call's events."""

    __slots__ = (
        "_closer",
        "_code",
        "_code_size",
        "_held",
        "_lead",
        "max_size",
        "rules",
        "scanner",
        "size",
        "value_start",
    )

    def __init__(
        self, mode: str, *, rules: CodeRules, max_depth: int, max_size: int, **call: Any
    ) -> None:
        super().__init__(**call)
        self.rules = rules
        self.max_size = max_size
        self.size = 0
        """Characters consumed: lead, code, held text and the closer."""
        self.value_start = 0
        self.scanner: IslandScanner = self
        self._lead = ""
        self._code: list[str] = []
        """The code delivered so far."""
        self._code_size = 0
        self._held = ""
        """A tail that may begin a closer: not code yet, not delivered."""
        self._closer = ""

    # -- IslandScanner -----------------------------------------------------------

    def raw(self) -> str:
        return self._lead + self.code() + self._held + self._closer

    def code(self) -> str:
        code = self._code
        if len(code) > 1:
            code[:] = ["".join(code)]
        return code[0] if code else ""

    def finish(self) -> bool:
        """End of input: the code is complete as it stands (engines strip the stop
        token), unless it ends inside a possible closer that is not code."""
        return self.rules.held_is_code_at_end or not self._held

    def expected(self) -> str:
        return self.rules.expected

    # -- Island ------------------------------------------------------------------

    def feed(self, text: str, start: int, end: int, out: list[Event]) -> int:
        """Consume ``text[start:end]``; the index just past a closer, or -1.  Raises
        ``JsonSyntaxError`` (``limit_exceeded``) at the first character past the size
        limit, having delivered the code before it."""
        rules = self.rules
        first = start
        if rules.lead is not None and not self.size:
            lead = rules.lead.match(text, start, end)
            if lead is not None:
                start = lead.end()
        held = self._held
        window = held + text[start:end] if held else text[start:end]
        m = rules.search(window)
        code_end = m.start() if m is not None else rules.held_from(window)
        # How far into the window the limit reaches: the whole of it (with a closer,
        # up to its end) when held text counts, else only the code.
        counted = code_end
        if rules.counts_held:
            counted = m.end() if m is not None else len(window)
        room = self.max_size - self._code_size
        if counted > room:
            self._over(window, room, start, out)
        self._deliver(window[:code_end], out)
        if m is not None:
            done = start + m.end() - len(held)
            self._closer = m.group()
            self._held = ""
        else:
            done = end
            self._held = window[code_end:]
        if start > first:
            self._lead = text[first:start]
        self.size += done - first
        return done if m is not None else -1

    def _over(self, window: str, room: int, start: int, out: list[Event]) -> None:
        """The size limit is crossed ``room`` characters into ``window``: deliver the
        code before it and raise."""
        held = self._held
        before = window[:room]
        if self.rules.counts_held:
            # What follows the limit must not decide a tail that may begin a closer.
            before = before[: self.rules.held_from(before)]
        if before and not self.quiet:
            out.append(tool_call_delta(self.index, self.id, before))
        message = f"{self.rules.what} longer than {self.max_size} characters"
        if room < len(held):
            # The first character past the limit was held back by an earlier feed:
            # it goes back to the lexer, so the error is the same in any chunking.
            pending = held[room:]
            self._held = held[:room]
            self.size -= len(pending)
            raise JsonSyntaxError(LIMIT, start, message, pending=pending)
        raise JsonSyntaxError(LIMIT, start + room - len(held), message)

    def fast_feed(self, chunk: str) -> list[Event] | None:
        """The driver's island fast path: a chunk with no ``<`` (nothing held) is code."""
        if not chunk or self._held or "<" in chunk or not self.started or self.quiet:
            return None
        size = self._code_size + len(chunk)
        if size > self.max_size:
            return None
        self._code_size = size
        self.size += len(chunk)
        code = self._code
        code.append(chunk)
        if len(code) > JOIN_EVERY:
            self.code()
        return [tool_call_delta(self.index, self.id, chunk)]

    def flush(self, out: list[Event]) -> None:
        """End of input: the held tail was code after all."""
        held, self._held = self._held, ""
        self._deliver(held, out)

    def _deliver(self, code: str, out: list[Event]) -> None:
        if not self.started:
            self.started = True
            if not self.quiet:
                out.append(
                    ToolCallStart(
                        index=self.index, id=self.id, name=self.name, builtin=self.builtin
                    )
                )
        if code:
            self._code.append(code)
            self._code_size += len(code)
            if len(self._code) > JOIN_EVERY:
                self.code()
            if not self.quiet:
                out.append(tool_call_delta(self.index, self.id, code))

    def complete(self, span_end: int) -> ToolCall:
        """The finished call; CallError for blank code where the rules require code."""
        code = self.code()
        if self.rules.require_code and not code.strip():
            raise CallError("invalid_arguments", 0, "the code interpreter call holds no code")
        return ToolCall(
            index=self.index,
            id=self.id,
            name=self.name,
            arguments={"code": code},
            raw=code,
            span=(self.span_start, span_end),
            builtin=self.builtin,
        )


if TYPE_CHECKING:  # the island protocol, checked statically

    def _is_an_island(body: CodeBody) -> Island:
        return body
