"""Islands: a call body handed to a sub-parser that says exactly where it ends.

Theory of operation
-------------------
When the LALR parser reaches a state that accepts an island terminal, the lexer
calls ``_open_island``: the format's island kind (``ISLAND_KINDS``: the JSON
engine's ``JsonCallBody``, the Python keyword list and Gemma object bodies on
``values.scanned_body``, the raw code body of ``code_island.py``) is built with the
call's index, id and limits, and from then on ``_feed_island`` hands it the buffer.
The island streams ``tool_call_delta`` events itself and returns the index just past
the call's completing character; ``_finish_island`` then emits the ``tool_call``
(or, for a speculative island that turned out not to be a call, hands its text back
as content: ``_not_a_call``) and feeds the island's token to the LALR parser. An
island's error (``JsonSyntaxError``) is reported at its exact index
(``_island_error``); inside a list the rest of the broken element is skipped
(``_skip``) so that the next call parses. Island text is counted by the position
counter when the island ends (the island keeps it anyway), which keeps the per-chunk
cost of a streaming argument to a few attribute operations.
"""

from __future__ import annotations

from lark import Token

from ..errors import ErrorCode
from ..events import (
    Event,
    ToolCallStart,
    tool_call_delta,
)
from ..values.json_engine import JsonSyntaxError
from .calls import PendingCall
from .content import ContentDriver
from .islands import ISLAND_KINDS, CallError
from .skipping import BodySkipper

__all__ = ["IslandRunner"]

_SKIP_SHAPES = {"JsonCallBody": ('"', 0), "PyKwargsCallBody": ("\"'", 1)}
"""Island class -> (string quotes, bracket depth at its first character) for skipping
a broken body: a Python call body starts inside its ``(``."""


class IslandRunner(ContentDriver):
    """Opening, feeding and finishing the island of a call body."""

    def _open_island(self, term: str) -> None:
        call = self._call
        if call is None:
            call = PendingCall(self._calls, self._pos.offset, assemble=False)
            self._calls += 1
            self._call_where = self._pos.locate(self._pos.offset)
        self._call = None
        mode = "arguments" if call.name is not None else self._g.spec.envelope
        self._island = ISLAND_KINDS[self._g.spec.islands[term]](
            mode,
            index=call.index,
            call_id=call.id,
            name=call.name,
            span_start=call.span_start,
            started=call.started,
            max_depth=self.max_depth,
            max_size=self._call_cap,
            id_key=self._g.spec.envelope_id_key,
            extra_keys=self._g.spec.envelope_extra_keys,
            builtin=call.builtin,
        )
        self._island_term = term
        self._island_offset = self._pos.offset
        if self._gate is not None:
            self._gate.island_opened(self._island, self._island_offset)
        self._run = False
        self._speculative = term in self._g.spec.speculative_islands
        if self._speculative:
            self._island.quiet = True

    def _feed_island(self, buf: str, i: int, n: int, out: list[Event]) -> int:
        isl = self._island
        assert isl is not None
        try:
            done = isl.feed(buf, i, n, out)
        except JsonSyntaxError as exc:
            return self._island_error(buf, i, exc, out)
        if done < 0:
            return n
        self._finish_island(out, buf, done)
        return done

    def _island_error(self, buf: str, i: int, exc: JsonSyntaxError, out: list[Event]) -> int:
        isl = self._island
        assert isl is not None
        if self._speculative:
            if exc.code != ErrorCode.LIMIT_EXCEEDED:
                self._not_a_call(isl.scanner.raw() + buf[i : exc.index], out)
                return exc.index
            # Too big or deep to decide whether it is a call: a limit, never text.
            self._calls -= 1  # nothing of it went out
        self._pos.advance(isl.scanner.raw())
        self._consume(buf, i, exc.index)
        self._rewind = exc.pending
        code = exc.code
        self._island = None
        self._error(
            out,
            code,
            f"{'invalid JSON in tool call' if code == 'invalid_json' else 'tool call'}: "
            f"{exc.message}",
            self._pos.offset,
            buf[exc.index :],
        )
        term = self._island_term
        if term in self._g.spec.skip_broken and code != ErrorCode.LIMIT_EXCEEDED:
            # Inside a list: skip the rest of this body, go on with the next call.
            skipper = BodySkipper(*_SKIP_SHAPES.get(type(isl).__name__, ('"', 0)))
            consumed = isl.scanner.raw() + buf[i : exc.index]
            if skipper.feed(consumed, 0, len(consumed)) < 0:
                self._end_run(None, out)
                self._call = None
                self._skipper = skipper
                return exc.index
        self._recover(out)
        return exc.index

    def _skip(self, buf: str, i: int, n: int) -> int:
        """Drop text up to the end of a broken body, then resume after it."""
        skipper = self._skipper
        assert skipper is not None
        end = skipper.feed(buf, i, n)
        if end < 0:
            self._consume(buf, i, n)
            return n
        self._consume(buf, i, end)
        self._skipper = None
        self._ip.feed_token(Token(self._island_term, ""))
        return end

    def _finish_island(self, out: list[Event], buf: str, done: int) -> None:
        isl = self._island
        assert isl is not None
        if self._speculative:
            try:
                call = isl.complete(self._pos.offset + len(isl.scanner.raw()))
            except (CallError, JsonSyntaxError) as exc:
                if exc.code != ErrorCode.LIMIT_EXCEEDED:
                    self._not_a_call(isl.scanner.raw(), out)
                    return
                # A limit (a huge number) is reported as one, never taken for text;
                # nothing of the call went out, so it gives back its index.
                self._calls -= 1
                self._speculative = False
                self._finish_island(out, buf, done)
                return
            self._island = None
            self._pos.advance(isl.scanner.raw())
            self._ip.feed_token(Token(self._island_term, ""))
            # Withheld until the body proved to be a call: start and text in one go.
            out.append(
                ToolCallStart(index=call.index, id=call.id, name=call.name, builtin=call.builtin)
            )
            out.append(tool_call_delta(call.index, call.id, call.raw))
            self._complete_call(call, out)
            return
        self._island = None
        raw = isl.scanner.raw()
        try:
            call = isl.complete(self._pos.offset + len(raw))
        except (CallError, JsonSyntaxError) as exc:
            # Located before the counter moves past the body, which holds the spot.
            where = exc.raw_offset if isinstance(exc, CallError) else isl.scanner.value_start
            self._error(out, exc.code, exc.message, self._island_offset + where, raw)
            self._pos.advance(raw)
            if self._island_term in self._g.spec.skip_broken:
                # A well-formed body of the wrong shape in a list: the next one counts.
                self._call = None
                self._ip.feed_token(Token(self._island_term, ""))
                return
            self._recover(out)
            return
        self._pos.advance(raw)
        self._ip.feed_token(Token(self._island_term, ""))
        self._complete_call(call, out)

    def _not_a_call(self, text: str, out: list[Event]) -> None:
        """A speculative body is not a call: its text is content of the state before
        its leading delimiter, and lexing goes on after it."""
        self._island = None
        self._calls -= 1
        assert self._lead_snapshot is not None
        snapshot, ls = self._lead_snapshot
        self._ip = snapshot
        self._run = False
        if text:
            self._content(ls, text, 0, len(text), out)

    def _abort_island(self) -> None:
        isl = self._island
        if isl is not None:
            self._pos.advance(isl.scanner.raw())
            self._island = None
