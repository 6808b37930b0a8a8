"""The stream parser of every model-native format: ``feed(chunk) -> events`` and
``close() -> events``.

Theory of operation
-------------------
``StreamParser`` is the top of a stack of layers, each in a module of its own (see
``state.py`` for the stack): the lexer (``lexer.py``: hold-back and delimiter
search), the LALR driver (``content.py``: content runs and delimiters as tokens,
calls assembled from markup), call bodies handed to islands
(``island_runner.py``), and error recovery (``recovery.py``).  This module adds the
public face and the fast paths that skip the lexer when nothing can happen:

* a chunk wholly inside a string of the arguments being streamed (``_hot``: a JSON
  body with nothing held back) costs one or two regex calls and becomes one delta
  (no event while the body is speculative, ``quiet``: it is withheld until it proves
  to be a call); island kinds other than the JSON body may offer the same as a
  method ``fast_feed(chunk) -> list[Event] | None`` (the scanned bodies of Python
  calls and Gemma objects, and raw code, do);
* a chunk inside a raw value of a call assembled from markup (``<parameter=K>``,
  ``<arg_value>``) up to where a delimiter could start becomes one delta
  (``_value_find``);
* a text or reasoning chunk in which no delimiter of the current state can start
  becomes one delta (``_arm_text``).

``bytes`` are decoded incrementally (``framing.decoding``); an invalid byte is an
``invalid_utf8`` error at its offset.  ``_guard`` turns a ``RecursionError`` from
Lark into a ``limit_exceeded`` error, so no other exception escapes.  At the end of
input, ``_end`` flushes what was held back, reports an open call or structure as
``truncated``, and emits ``finish`` (``tool_calls`` when the output ends with
calls).  An island whose body may end at the end of input with text held back
(harmony's code body, which keeps a possible ``<|call|>`` prefix) may offer
``flush(out)``, called then to deliver it.  The parser's own tree building is
switched off, so memory is bounded by the hold-back and the largest open call,
never by the stream.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lark import Token
from lark.exceptions import UnexpectedInput

from ..errors import ErrorCode, ParseError
from ..events import (
    Event,
    Finish,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    _new,
)
from ..framing.decoding import InvalidBytes, Utf8Decoder
from ..message import Message
from ..positions import LineCounter
from ..values.json_engine import JsonSyntaxError
from ..values.json_engine import escaped_run as _escaped_run
from ..values.json_engine import string_stop as _string_stop
from .islands import ESCAPED_CHARS, Island, JsonCallBody
from .lexer import Lexer
from .state import DEFAULT_MAX_HOLDBACK, DelimiterGate

__all__ = ["DEFAULT_MAX_HOLDBACK", "DelimiterGate", "StreamParser"]

_CALL_KEYS = frozenset(("name", "arguments", "parameters"))
"""Top-level keys that make an envelope body a call (``islands.py``)."""


def _shows_call_keys(isl: Island) -> bool:
    """Whether a speculative body cut by the end of input had shown a call key
    (``{"name": "f", "par``: a truncated call) rather than being a JSON answer cut
    short (``{"total": ``: text)."""
    if getattr(isl, "kind", None) != "envelope":
        return False
    members = getattr(isl.scanner, "members", ())
    return any(member[0] in _CALL_KEYS for member in members)


class StreamParser(Lexer):
    """``feed(chunk) -> events`` / ``close() -> events`` for one grammar-defined format."""

    def feed(self, chunk: str | bytes) -> list[Event]:
        """Events for this chunk.  ``bytes`` are decoded as UTF-8 incrementally."""
        hot = self._hot
        if hot is not None and type(chunk) is str:
            # Hot path: the chunk lies inside a string of the arguments being streamed
            # (nothing held back) and holds only plain characters and simple escapes.
            # It is the common case of a long argument, so it costs one or two regex
            # calls and a few attribute operations; the scanner keeps the text and
            # its string/escape state is updated in place.
            if hot.plain:
                if _string_stop(chunk) is None and chunk:
                    toggle = False
                elif chunk and (m := _escaped_run(chunk)) is not None:
                    # Complete simple escapes; a lone backslash at the end opens one.
                    toggle = m.lastindex is not None
                else:
                    return self._feed_warm(hot, chunk)
            elif (
                hot.escape_pending
                and chunk
                and chunk[0] in ESCAPED_CHARS
                and (m := _escaped_run(chunk, 1)) is not None
            ):
                toggle = m.lastindex is None
            else:
                return self._feed_warm(hot, chunk)
            sc = hot.scanner
            size = sc.size + len(chunk)
            if size <= sc.max_size:
                sc.size = size
                pieces = sc.pieces
                pieces.append(chunk)
                if len(pieces) > 512:
                    sc.compact()
                if toggle:
                    hot.toggle_escape()
                if hot.quiet:
                    return []
                event = _new(ToolCallDelta)
                event.index = hot.index
                event.id = hot.id
                event.text = chunk
                return [event]
            return self._feed_warm(hot, chunk)
        fast = self._fast
        if fast is not None and type(chunk) is str:
            fast_events = fast(chunk)
            if fast_events is not None:
                return fast_events
        find = self._text_find
        if (
            find is not None
            and type(chunk) is str
            and chunk
            and (find(chunk) is None or self._content_end(find, chunk) == len(chunk))
            and chunk[-1] not in self._text_tail
        ):
            # Hot path for text and reasoning: nothing held back, a block is open and
            # no delimiter of the current state can start in this chunk.
            pos = self._pos  # LineCounter.advance, inlined
            newlines = chunk.count("\n")
            if newlines:
                pos.line += newlines
                pos.line_start = pos.offset + chunk.rindex("\n") + 1
            pos.offset += len(chunk)
            delta = _new(self._text_class)
            delta.id = self._text_block
            delta.text = chunk
            return [delta]
        vfind = self._value_find
        if vfind is not None and type(chunk) is str and chunk:
            # Hot path for raw values (``<parameter=K>VALUE``, ``<arg_value>``...):
            # up to where a delimiter could start, the text is the value's: captured,
            # added to the call's raw text and streamed as one delta, within limits.
            # A delimiter's prefix cut by the chunk's end is held, as the lexer holds
            # it, and the next chunk continues it here.
            held = self._buf
            text = held + chunk if held else chunk
            k = len(text) if vfind(text) is None else self._content_end(vfind, text)
            cap = self._call_cap
            raw_size = self._raw_size + k
            captured_size = self._captured_size + k
            if k > 0 and raw_size <= cap and captured_size <= cap:
                if k < len(text):
                    self._buf = text[k:]
                    text = text[:k]
                elif held:
                    self._buf = ""
                self._raw_size = raw_size
                self._captured_size = captured_size
                self._captured.append(text)
                call = self._value_call
                call.raw.append(text)  # type: ignore[union-attr]  # armed only with a raw list
                pos = self._pos  # LineCounter.advance, inlined
                newlines = text.count("\n")
                if newlines:
                    pos.line += newlines
                    pos.line_start = pos.offset + text.rindex("\n") + 1
                pos.offset += k
                event = _new(ToolCallDelta)
                event.index = call.index
                event.id = call.id
                event.text = text
                return [event]
        self._text_find = None
        self._value_find = None
        self._fast = None
        if self._failed is not None:
            raise self._failed
        if self._closed:
            raise ValueError("feed() after close()")
        out: list[Event] = []
        try:
            if isinstance(chunk, str):
                self._buf = self._buf + chunk if self._buf else chunk
                self._guard(out, False)
            else:
                self._feed_bytes(bytes(chunk), out, False)
        except ParseError as exc:
            if self._builder is not None:
                self._builder.extend(exc.events)
            raise
        if self._builder is not None:
            self._builder.extend(out)
            return out  # tracking keeps the hot paths off: every event reaches it
        isl = self._island
        if isinstance(isl, JsonCallBody) and (isl.streaming or isl.quiet) and not self._buf:
            self._hot = isl  # a quiet (speculative) body: the same path, no event
        else:
            self._hot = None
            if isl is not None and not self._buf:
                self._fast = getattr(isl, "fast_feed", None)
        self._arm_text()
        if self._text_find is None:
            self._arm_value()
        return out

    def _content_end(self, find: Callable[..., re.Match[str] | None], text: str) -> int:
        """Where content ends in ``text`` for the armed state, as the lexer would
        decide: ``len(text)`` when no delimiter can start in it (every ``find`` hit is
        followed by text no delimiter begins with), the start of a delimiter's prefix
        cut by the end of ``text`` (held), or -1 when the lexer must decide (a
        delimiter there, a hit beyond the hold-back window, a token gate)."""
        starts = self._starts
        if starts is None:
            return -1
        n = len(text)
        m = find(text)
        while m is not None:
            k = m.start()
            if n - k > self.max_holdback:
                return -1
            s = starts(text, k)
            if s is not None:
                return k if s.lastgroup == "cut" and self._gate is None else -1
            m = find(text, k + 1)
        return n

    def _arm_value(self) -> None:
        """Enable the raw-value hot path if the parser rests inside a value run of an
        assembled call whose raw text streams (the run's content token is in)."""
        self._value_find = None
        call = self._call
        if (
            call is None
            or not call.started
            or not call.raw
            or self._island is not None
            or self._skipper is not None
            or self._recovering
            or not self._run
        ):
            return
        ls = self._states[self._ip.parser_state.position]
        spec = ls.content_spec
        if spec is None or spec.kind != "value" or ls.find is None or ls.layout_ok is not None:
            return
        if self._capture_spec is not None and self._capture_spec is not spec:
            return
        self._capture_spec = spec
        self._value_find = ls.find
        self._starts = ls.starts
        self._value_call = call

    def _arm_text(self) -> None:
        """Enable the text hot path if the parser rests inside an open block."""
        self._text_find = None
        block = self._block
        if (
            block is None
            or self._buf
            or self._held_ws
            or self._island is not None
            or self._recovering
            or (self._completed and not self._text_after_call)  # finish reason decides
        ):
            return
        ls = self._states[self._ip.parser_state.position]
        spec = ls.content_spec
        if spec is None or spec.kind != block[0] or not self._run or ls.find is None:
            return
        self._text_find = ls.find
        self._starts = ls.starts
        self._text_tail = spec.strip_trailing  # such a chunk end must wait: not hot
        self._text_class = TextDelta if spec.kind == "text" else ReasoningDelta
        self._text_block = block[1]

    def _feed_warm(self, isl: JsonCallBody, chunk: str) -> list[Event]:
        """Inside the streamed arguments, a chunk the hot path did not take."""
        if not chunk:
            return []
        # Anything else inside the arguments goes straight to the island.
        out: list[Event] = []
        try:
            done = isl.feed(chunk, 0, len(chunk), out)
        except JsonSyntaxError as exc:
            self._hot = None
            self._buf = chunk
            self._guard_island_error(exc, out)
            return out
        if done >= 0:
            self._hot = None
            self._buf = chunk
            self._guard_island_done(done, out)
        elif not (isl.streaming or isl.quiet):
            self._hot = None
        return out

    def _guard_island_error(self, exc: JsonSyntaxError, out: list[Event]) -> None:
        """The hot path's island raised: report it as ``_process`` would, then go on
        with the rest of the buffer (``self._buf``)."""
        try:
            i = self._island_error(self._buf, 0, exc, out)
        except ParseError as err:
            err.events = out[:]
            self._failed = err
            self._island = None
            raise
        self._buf = self._buf[i:]
        self._guard(out, False)

    def _guard_island_done(self, done: int, out: list[Event]) -> None:
        try:
            self._finish_island(out, self._buf, done)
        except ParseError as err:
            err.events = out[:]
            self._failed = err
            self._island = None
            raise
        except RecursionError as exc:
            raise self._too_deep(exc, out) from exc
        self._buf = self._buf[done:]
        self._guard(out, False)

    def close(self) -> list[Event]:
        """End of input: flush what was held back, report truncation, finish."""
        try:
            out = self._close()
        except ParseError as exc:
            if self._builder is not None:
                self._builder.extend(exc.events)
            raise
        if self._builder is not None:
            self._builder.extend(out)
        return out

    @property
    def message(self) -> Message:
        """The message so far (content, reasoning, calls, open calls with a preview of
        their arguments).  Needs ``message=True`` at construction."""
        if self._builder is None:
            raise ValueError("create the parser with message=True to keep a live message")
        return self._builder.snapshot()

    def _close(self) -> list[Event]:
        if self._failed is not None:
            raise self._failed
        if self._closed:
            return []
        self._closed = True
        self._hot = None
        self._fast = None
        self._text_find = None
        self._value_find = None
        out: list[Event] = []
        if self._decoder is not None:
            self._feed_bytes(b"", out, True)
        self._at_end = True
        self._guard(out, True)
        self._guard_end(out)
        return out

    @property
    def offset(self) -> int:
        """Characters received so far (decoded characters for byte input)."""
        isl = self._island
        held = len(self._buf) + (isl.scanner.size if isl is not None else 0)
        return self._pos.offset + held

    def _feed_bytes(self, data: bytes, out: list[Event], final: bool) -> None:
        if self._decoder is None:
            self._decoder = Utf8Decoder()
        for piece in self._decoder.decode(data, final):
            if isinstance(piece, str):
                self._buf = self._buf + piece if self._buf else piece
                self._guard(out, False)
            else:
                self._invalid_bytes(piece, out)

    def _invalid_bytes(self, bad: InvalidBytes, out: list[Event]) -> None:
        # What was held can no longer be continued by the bytes that follow it.
        self._guard(out, True)
        if self._island is not None:
            self._abort_island()
            self._recover(out)
        offset = self.offset
        try:
            self._error(
                out,
                ErrorCode.INVALID_UTF8,
                f"invalid UTF-8 bytes {bad.data!r} ({bad.reason})",
                offset,
            )
        except ParseError as exc:  # strict: poisoned like any other error
            exc.events = out[:]
            self._failed = exc
            self._island = None
            self._hot = None
            raise

    def _guard(self, out: list[Event], final: bool) -> None:
        """Run the lexer; nothing but ParseError may escape."""
        try:
            self._process(out, final)
        except ParseError as exc:
            exc.events = out[:]
            self._failed = exc
            self._island = None
            self._hot = None
            raise
        except RecursionError as exc:
            raise self._too_deep(exc, out) from exc
        except MemoryError:  # pragma: no cover - resource exhaustion
            raise
        except Exception as exc:  # pragma: no cover - a bug; never let it escape raw
            raise ParseError(
                ErrorCode.INTERNAL_ERROR, f"internal error: {exc!r}", offset=self._pos.offset
            ) from exc

    def _guard_end(self, out: list[Event]) -> None:
        try:
            self._end(out)
        except ParseError as exc:
            exc.events = out[:]
            self._failed = exc
            raise
        except RecursionError as exc:
            raise self._too_deep(exc, out) from exc

    def _too_deep(self, exc: RecursionError, out: list[Event]) -> ParseError:
        """Input nested past Python's recursion limit in a decoder that no limit of
        ours stops first (``json.loads`` of arguments when ``max_depth`` is set above
        ~900, a value typed by the schema): raised even in lenient mode, like a bug,
        and poisoning, but with the code that says what happened."""
        err = ParseError(
            ErrorCode.LIMIT_EXCEEDED,
            f"input nested too deeply to decode: {exc}",
            offset=self._pos.offset,
            events=out[:],
        )
        self._failed = err
        self._island = None
        self._hot = None
        return err

    def _end(self, out: list[Event]) -> None:
        if self._cut:
            return  # reported where the cut delimiter starts
        isl = self._island
        if isl is not None:
            if isl.scanner.finish():
                flush = getattr(isl, "flush", None)
                if flush is not None:  # text it held back as a possible closer
                    flush(out)
                self._finish_island(out, "", 0)
            elif self._speculative and not _shows_call_keys(isl):
                self._not_a_call(isl.scanner.raw(), out)
            else:
                self._pos.advance(isl.scanner.raw())
                self._island = None
                self._error(
                    out,
                    ErrorCode.TRUNCATED,
                    f"the input ended inside a tool call's arguments (expected "
                    f"{isl.scanner.expected()})",
                    self._pos.offset,
                )
                return
        if self._held_spec.strip_at_end:
            self._held_ws = ""  # a separator at the end of the message (ContentSpec)
        self._end_run(None, out)
        if self._recovering:
            out.append(Finish(reason=self._finish_reason()))
            return
        ls = self._states[self._ip.parser_state.position]
        if not ls.accepts_end:
            expected = ", ".join(self._g.describe(t) for t in ls.expected)
            self._error(
                out,
                ErrorCode.TRUNCATED,
                f"the input ended inside a block (expected {expected})",
                self._pos.offset,
            )
            return
        try:
            self._ip.feed_eof(Token("$END", ""))  # type: ignore[no-untyped-call]
        except UnexpectedInput:  # LALR lookahead merging listed an end it rejects
            self._error(out, ErrorCode.TRUNCATED, "the input ended early", self._pos.offset)
            return
        out.append(Finish(reason=self._finish_reason()))

    def _prime(self, prompt: str) -> None:
        """Run the prompt's tail through the parser silently: the output starts in the
        state it leaves (inside reasoning, inside a tag, inside a call whose name the
        prompt forced), and offsets count the output only."""
        strict = self.strict
        self.strict = False
        self._buf = prompt
        self._process([], False)
        self.strict = strict
        held = self._buf  # a tag the prompt left unfinished: the output completes it
        self._island = None
        self._recovering = False
        self._block = None
        self._run = False
        self._run_text = False
        self._held_ws = ""
        self._pos = LineCounter()
        self._pos.offset = -len(held)
        self._next_block = 0
        call = self._call
        self._calls = 0
        if call is not None:  # e.g. a prefilled ``<tool_call name="f">``
            call.index, call.id, call.span_start, call.started = 0, "call_0", 0, False
            self._call_where = (1, 1)
            if call.raw is not None:
                call.raw.clear()
            self._calls = 1
