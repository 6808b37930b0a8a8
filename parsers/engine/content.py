"""Content runs and delimiters as tokens of the LALR parser, and calls assembled
from markup.

Theory of operation
-------------------
Content reaches the LALR parser as one summary token per run, never as text, and
the token goes in before the run is lexed (``lexer.py``), so where a run ends is
decided in the state it leads to whatever the chunking.  ``_content`` delivers a run
by its ``ContentSpec`` kind: text and reasoning become deltas; layout is dropped;
captures (a name, an id, an argument key or a raw value) are collected, checked
against their limit before the position counter passes them so that an error is
located inside them whatever the chunking.  ``_delimiter`` feeds a matched
delimiter's token to Lark's interactive parser and applies what the format maps to
it: a call opener starts a ``PendingCall``, key and value delimiters add a typed
argument (``_add_value``: the schema or the opener's declared type decides), a call
closer completes the call (``_complete_call``: the ``tool_call`` event, the call
limit).  Formats add behaviour only through ``FormatSpec`` fields read here, never
through branches on a format's name.
"""

from __future__ import annotations

from lark import Token
from lark.exceptions import UnexpectedInput

from ..errors import ErrorCode
from ..events import (
    Event,
    ToolCall,
)
from .calls import DeclaredValueError, PendingCall
from .delimiters import Delimiter
from .grammar import LexState
from .recovery import Recovery

__all__ = ["ContentDriver"]


class ContentDriver(Recovery):
    """Content runs, captures and delimiters into the LALR parser."""

    def _content(self, ls: LexState, buf: str, i: int, p: int, out: list[Event]) -> int:
        """Deliver buf[i:p] as content; -1, or the index of an offending character
        (after reporting it and entering recovery)."""
        spec = ls.content_spec
        ok = ls.layout_ok
        if spec is None or (ok is not None and not ok(buf, i, p)):
            bad = i
            if ok is not None:
                while bad < p and ok(buf, bad, bad + 1):
                    bad += 1
            if bad > i and spec is not None:  # the valid part is content as usual
                stop = self._content(ls, buf, i, bad, out)
                if stop >= 0:  # it broke a limit: recovery starts there, as it would
                    return stop  # had the offending character come in a later chunk
            else:
                self._consume(buf, i, bad)
            # What the run's first character could have been: the same whichever
            # chunk the run started in (its token may have moved the parser since).
            names = self._run_expected if self._run else ls.expected
            expected = ", ".join(self._g.describe(t) for t in names)
            self._error(
                out,
                ErrorCode.UNEXPECTED_TEXT,
                f"unexpected text starting with {buf[bad]!r} (expected {expected})",
                self._pos.offset,
                buf[bad:],
            )
            self._recover(out)
            return bad
        if not self._run:
            self._run = True
            self._ip.feed_token(Token(ls.content, ""))  # type: ignore[arg-type]
        text = buf[i:p]
        kind = spec.kind
        call = self._call
        if kind == "text" or kind == "reasoning":
            self._pos.advance(text)
            self._deliver(spec, text, out)
            if call is not None and self._add_raw(call, text, out, ""):
                return p
            return -1
        # Captures and markup are checked against their limits before the counter
        # passes them, so the error is located inside them whatever the chunking, and
        # recovery starts at the first character past the limit, as it does when that
        # character arrives in a chunk of its own.  The assembled raw text holds the
        # capture: its cap binds first.
        room = len(text) + 1  # characters before the raw text's cap, if it is collected
        if call is not None and call.started and call.raw is not None:
            room = self._call_cap - (self._raw_size if call.raw else 0)
        limit = self._call_cap if kind == "value" else self.max_holdback
        fits = len(text) if kind == "layout" else max(0, limit - self._captured_size)
        if fits < len(text) and fits < room:
            if call is not None:
                self._add_raw(call, text[:fits], out, buf[i:])
            self._error(
                out,
                ErrorCode.LIMIT_EXCEEDED,
                f"{kind} longer than {limit} characters",
                self._pos.offset + fits,
                buf[i:],
            )
            self._pos.advance(text[:fits])
            self._recover(out)
            return i + fits
        if call is not None and self._add_raw(call, text, out, buf[i:]):
            keep = max(0, min(room, len(text)))
            self._pos.advance(text[:keep])
            return i + keep
        if kind != "layout":
            self._captured.append(text)
            self._captured_size += len(text)
            self._capture_spec = spec
        self._pos.advance(text)
        return -1

    def _add_raw(self, call: PendingCall, text: str, out: list[Event], pending: str) -> bool:
        """Add ``text`` to an assembled call's raw text; past the argument cap only
        the text up to it goes out, then the error at the first character beyond
        (whatever the chunking), and True: recovering.  ``pending`` is the buffer
        from ``text`` on when the position counter has not passed it yet."""
        if not text or not call.started or call.raw is None:
            return False  # not collected
        size = (self._raw_size if call.raw else 0) + len(text)
        over = size - self._call_cap
        if over <= 0:
            self._raw_size = size
            call.add_raw(text, out)
            return False
        call.add_raw(text[: len(text) - over], out)
        self._error(
            out,
            ErrorCode.LIMIT_EXCEEDED,
            f"arguments longer than {self._call_cap} characters",
            self._pos.offset + (len(text) if pending else 0) - over,
            pending,
        )
        self._recover(out)
        return True

    def _add_value(
        self, call: PendingCall, text: str, before: str | None, out: list[Event]
    ) -> None:
        """One argument of an assembled call.  A value that breaks the type its opener
        declared (``FormatSpec.value_type_from``) is an error at its offending
        character and drops the call, unless the declaration kept its raw text
        (``json_or_raw``: the call goes on); it is reported only when a delimiter
        ended the value (otherwise the call is being cut or dropped anyway)."""
        key = call.key
        try:
            call.add_value(text, self._schemas)
        except DeclaredValueError as exc:
            if before is None:
                return
            offset, line, column = call.value_at
            head = text[: exc.index]
            if "\n" in head:
                line, column = line + head.count("\n"), exc.index - head.rindex("\n")
            else:
                column += exc.index
            self._error(
                out,
                exc.code,
                f"argument {key!r}: {exc.message}",
                offset + exc.index,
                where=(line, column),
            )
            if not exc.kept:
                self._recover(out)

    def _delimiter(
        self, ls: LexState, d: Delimiter, buf: str, p: int, end: int, out: list[Event]
    ) -> int:
        """Handle the delimiter buf[p:end]; returns where lexing goes on."""
        text = buf[p:end]
        spec = self._g.spec
        if d not in ls.delimiters:
            self._end_run(None, out)
            self._error(
                out,
                ErrorCode.UNEXPECTED_TAG,
                f"unexpected {text!r} (expected "
                + ", ".join(self._g.describe(t) for t in ls.expected)
                + ")",
                self._pos.offset,
                buf[p:],
            )
            if d.name in spec.resync_before:
                self._reset()
                return p
            self._pos.advance(text)
            if d.name in spec.resync_after:
                self._reset()
            return end
        call = self._call
        if (
            call is not None
            and call.key is not None
            and ls.content_spec is not None
            and ls.content_spec.kind == "value"
            and self._capture_spec is None
        ):
            self._add_value(call, "", d.name, out)  # the value's run was empty
        self._end_run(d.name, out)
        if self._recovering:  # the value just ended broke its declared type
            return p
        if d.name in spec.island_lead:
            # A speculative island may turn out to be text: keep where it began.
            self._lead_snapshot = (self._ip.copy(deepcopy_values=False), ls)  # type: ignore[no-untyped-call]
        try:
            self._ip.feed_token(Token(d.name, text))
        except UnexpectedInput:
            # LALR lookahead merging can list a terminal the stack then rejects.
            self._error(
                out, ErrorCode.UNEXPECTED_TAG, f"unexpected {text!r}", self._pos.offset, buf[p:]
            )
            self._pos.advance(text)
            self._recover(out)
            return end
        call = self._call
        opener = spec.call_openers.get(d.name)
        if opener is not None:
            if call is None:
                call = self._call = PendingCall(
                    self._calls, self._pos.offset, assemble=bool(spec.call_closers)
                )
                self._calls += 1
                self._call_where = self._pos.locate(self._pos.offset)
                call.builtin = d.name in spec.builtin_openers
            name = opener(text)
            if name is not None:
                if d.name in spec.defer_start:
                    call.name = name  # started by the id or by the arguments
                else:
                    call.set_name(name, out)
        elif call is not None:
            key_from = spec.key_from.get(d.name)
            if key_from is not None:
                call.key = key_from(text)
            declare = spec.value_type_from.get(d.name)
            if declare is not None:
                call.declared = declare(text)
                at = self._pos.offset + len(text)
                call.value_at = (at, *self._pos.locate(at, buf[p:]))
            if d.name not in spec.call_closers and self._add_raw(call, text, out, buf[p:]):
                self._pos.advance(text)
                return end
        if d.name in spec.island_lead:
            # The island that follows begins with this text: leave it in the buffer.
            return p
        self._pos.advance(text)
        if call is not None and d.name in spec.call_closers:
            self._call = None
            self._complete_call(call.complete(self._pos.offset, out), out)
        return end

    def _complete_call(self, event: ToolCall, out: list[Event]) -> None:
        """Report a finished call, unless ``tools=`` was given and does not name it (a
        built-in tool is never in ``tools=``: not checked)."""
        if self._completed >= self.max_calls:
            self._error(
                out,
                ErrorCode.LIMIT_EXCEEDED,
                f"more than {self.max_calls} tool calls (max_calls)",
                event.span[0],
                where=self._call_where,
            )
            return
        names = self._schemas.names
        if names and event.name not in names and not event.builtin:
            self._error(
                out,
                ErrorCode.UNKNOWN_TOOL,
                f"call to unknown tool {event.name!r}",
                event.span[0],
                where=self._call_where,
            )
            return
        self._completed += 1
        self._text_after_call = False
        out.append(event)
        if self._checker is not None:
            problem = self._checker.problem(event.name, event.arguments)
            if problem is not None:
                self._error(
                    out, ErrorCode.INVALID_ARGUMENTS, problem, event.span[0], where=self._call_where
                )
