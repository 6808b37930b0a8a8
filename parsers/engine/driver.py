"""The incremental lexer and LALR driver shared by every model-native format.

Theory of operation
-------------------
Chunks go into one buffer that holds only what cannot be decided yet.  The lexer
looks up the LALR parser's current state (``LexState``, precomputed per state by
``grammar.py``) and then:

* if the state accepts an island (a call's JSON body), the text goes to the island's
  sub-parser until it reports the completing character;
* otherwise it searches for the next character where an acceptable delimiter could
  start.  Everything before it is content, emitted at once as a delta.  At that
  character either a delimiter matches (its token goes to the LALR parser, which
  moves to the next state), or the rest of the buffer is a proper prefix of a
  delimiter (held back: the only text ever kept), or it is content too and the
  search goes on from the next character.

At ``close()`` the held text can no longer become its delimiter.  Where text,
reasoning, or layout that may end the input may stand, it is that content (a marker's
fragment at the end of a message is text); anywhere else the input ended inside the
delimiter: ``truncated`` at its first character, after the events of everything
before it (``_cut_short``), never ``unexpected_text``.

Content reaches the LALR parser as one summary token per run, never as text, and
the token goes in before the run is lexed, so where a run ends is decided in the
state it leads to whatever the chunking.  The parser's own tree building is switched
off, so memory is bounded by the hold-back and the largest open call, never by the
stream.  Formats add behaviour only through ``FormatSpec``: captures (names, ids,
argument keys and raw values), separator stripping, call assembly from markup
(values typed by the schema, or by the type their opener declares), island kinds
(JSON, Python literals), speculative islands, list elements skipped when broken.

Two fast paths skip the lexer when nothing can happen: a chunk wholly inside a
string of the arguments being streamed, and a text or reasoning chunk in which no
delimiter of the current state can start.  Island kinds other than the JSON body
may offer the first one as a method ``fast_feed(chunk) -> Event | None``: the
island takes the chunk whole and returns its one delta, or None to let the lexer
see it (``gemma_object`` does, for a chunk inside a string).  An island whose body
may end at the end of input with text held back (harmony's code body, which keeps
a possible ``<|call|>`` prefix) may offer ``flush(out)``, called then to deliver it.

Positions come from one ``LineCounter`` fed the consumed text in order.  Island text
is counted when the island ends (the island keeps it anyway), which keeps the
per-chunk cost of a streaming argument to a few attribute operations.

Token ids (``token_parser.py``) reach the lexer through one hook, a
``DelimiterGate``: where a delimiter's text holds a special token's text, a match
(or a prefix worth holding back) counts only if that token's id wrote the text
there; islands whose closers are special tokens are told where they open.  The gate
is consulted only at a possible delimiter start; without one (text input) nothing
changes.

Errors (lenient mode) become ``Error`` events; the driver then skips to the format's
next resynchronisation delimiter and restarts the LALR parser there (or, inside a
list, past the broken element).  In strict mode
the first error raises ``ParseError`` and poisons the parser.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from lark import Token
from lark.exceptions import UnexpectedInput
from lark.parsers.lalr_interactive_parser import InteractiveParser
from lark.parsers.lalr_parser_state import ParseConf, ParserState

from ..errors import ErrorCode, ParseError
from ..events import (
    Error,
    Event,
    Finish,
    ReasoningDelta,
    ReasoningEnd,
    ReasoningStart,
    TextDelta,
    TextEnd,
    TextStart,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    _new,
    reasoning_delta,
    text_delta,
    tool_call_delta,
)
from ..framing.decoding import InvalidBytes, Utf8Decoder
from ..limits import DEFAULT_MAX_BUFFERED, DEFAULT_MAX_CALLS
from ..message import Message, MessageBuilder
from ..positions import LineCounter
from ..values.json_engine import DEFAULT_MAX_DEPTH, DEFAULT_MAX_SIZE, JsonSyntaxError
from ..values.json_engine import escaped_run as _escaped_run
from ..values.json_engine import string_stop as _string_stop
from ..values.schema_typing import ToolSchemas
from .calls import DeclaredValueError, PendingCall
from .delimiters import Delimiter
from .grammar import CompiledGrammar, ContentSpec, LexState
from .islands import ISLAND_KINDS, CallError, Island, JsonCallBody
from .skipping import BodySkipper

__all__ = ["DEFAULT_MAX_HOLDBACK", "DelimiterGate", "StreamParser"]

_ESCAPED_CHARS = frozenset('"\\/bfnrt')
"""Characters after a backslash that the hot path completes (not ``u``: a ``\\u``
escape needs the scanner's surrogate pairing)."""

_SKIP_SHAPES = {"JsonCallBody": ('"', 0), "PyKwargsCallBody": ("\"'", 1)}
"""Island class -> (string quotes, bracket depth at its first character) for skipping
a broken body: a Python call body starts inside its ``(``."""

DEFAULT_MAX_HOLDBACK = 1024
"""Longest text kept back as a possible delimiter (characters).  Literal delimiters
are far shorter; the limit bounds pattern delimiters such as ``<tool_call name="...">``
whose attribute could otherwise grow without end."""


_CALL_KEYS = frozenset(("name", "arguments", "parameters"))
"""Top-level keys that make an envelope body a call (``islands.py``)."""


class DelimiterGate(Protocol):
    """The one hook of token-aware parsing (``token_parser.py``): which delimiter
    matches count, given where special-token ids put their text.  Without a gate
    every match counts (text carries no token information)."""

    def allows(self, d: Delimiter, buf: str, p: int, n: int) -> bool:
        """Whether ``d`` may match (or, for a prefix, still become a match) at
        ``buf[p]``; ``buf[:n]`` ends with the last character received."""
        ...

    def island_opened(self, island: Island, offset: int) -> None:
        """An island starts at character ``offset`` of the stream (sub-parsers whose
        closers are special tokens take the same rule)."""
        ...


def _shows_call_keys(isl: Island) -> bool:
    """Whether a speculative body cut by the end of input had shown a call key
    (``{"name": "f", "par``: a truncated call) rather than being a JSON answer cut
    short (``{"total": ``: text)."""
    if getattr(isl, "kind", None) != "envelope":
        return False
    members = getattr(isl.scanner, "members", ())
    return any(member[0] in _CALL_KEYS for member in members)


class StreamParser:
    """``feed(chunk) -> events`` / ``close() -> events`` for one grammar-defined format."""

    def __init__(
        self,
        grammar: CompiledGrammar,
        *,
        strict: bool = False,
        tools: Sequence[Mapping[str, Any]] | None = None,
        generation_prompt: str | None = None,
        max_depth: int = DEFAULT_MAX_DEPTH,
        max_argument_size: int = DEFAULT_MAX_SIZE,
        max_holdback: int = DEFAULT_MAX_HOLDBACK,
        max_calls: int = DEFAULT_MAX_CALLS,
        max_buffered: int = DEFAULT_MAX_BUFFERED,
        message: bool = False,
    ) -> None:
        self._g = grammar
        self._builder = MessageBuilder() if message else None
        """Collects the live ``message`` snapshot; off by default because it keeps the
        whole output (and costs the hot paths)."""
        self._states = grammar.states
        self._conf = ParseConf(grammar.parse_table, grammar.rule_callbacks, "start")  # type: ignore[arg-type]
        self.strict = strict
        self.max_depth = max_depth
        self.max_argument_size = max_argument_size
        self.max_calls = max_calls
        self.max_buffered = max_buffered
        # What may grow (an open call's text, held-back text) is capped by the
        # narrower of its own limit and the stream's whole budget.
        self.max_holdback = min(max_holdback, max_buffered)
        self._call_cap = min(max_argument_size, max_buffered)
        self._raw_size = 0
        """Characters of the assembling call's raw text (markup formats)."""
        self._ip = self._new_lalr()
        self._buf = ""
        self._pos = LineCounter()
        self._block: tuple[str, int] | None = None
        self._next_block = 0
        self._run = False
        self._island: Island | None = None
        self._hot: JsonCallBody | None = None
        """The island, while its arguments stream with nothing held back: the state
        in which ``feed`` takes its hot path."""
        self._fast: Callable[[str], Event | None] | None = None
        """The open island's ``fast_feed``, while nothing is held back (other island
        kinds' hot path)."""
        self._text_find: Callable[..., re.Match[str] | None] | None = None
        self._text_class: type[TextDelta] | type[ReasoningDelta] = TextDelta
        self._text_block = 0
        self._text_tail = ""
        self._island_term = ""
        self._island_offset = 0
        self._speculative = False
        self._skipper: BodySkipper | None = None
        """Skipping the rest of a broken body inside a list (``FormatSpec.skip_broken``)."""
        self._run_expected: tuple[str, ...] = ()
        self._call_where = (1, 1)
        """Line and column where the open call started (for errors reported later)."""
        self._lead_snapshot: tuple[InteractiveParser, LexState] | None = None
        self._call: PendingCall | None = None
        self._schemas = ToolSchemas(tools)
        self._run_text = False
        """Whether the current run delivered text (leading separators are over)."""
        self._held_ws = ""
        """Trailing separator characters waiting for what ends the run."""
        self._held_spec = ContentSpec("text")
        self._captured: list[str] = []
        self._captured_size = 0
        self._capture_spec: ContentSpec | None = None
        self._calls = 0
        self._completed = 0
        self._text_after_call = False
        self._recovering = False
        self._failed: ParseError | None = None
        self._closed = False
        self._at_end = False
        """``close()`` is lexing what was held back: the input has ended (an invalid
        byte also flushes the hold-back, but more input follows it)."""
        self._cut = False
        """The input ended inside a delimiter, already reported as ``truncated``."""
        self._decoder: Utf8Decoder | None = None
        self._gate: DelimiterGate | None = None
        self._rewind = ""
        """Text an island held back past its error, to lex again (``JsonSyntaxError.pending``)."""
        """Set by a token-aware front end after priming (the prompt is text: its
        markers all count)."""
        if generation_prompt:
            self._prime(generation_prompt)

    # -- public ------------------------------------------------------------------

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
                and chunk[0] in _ESCAPED_CHARS
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
                event = _new(ToolCallDelta)
                event.index = hot.index
                event.id = hot.id
                event.text = chunk
                return [event]
            return self._feed_warm(hot, chunk)
        fast = self._fast
        if fast is not None and type(chunk) is str:
            fast_event = fast(chunk)
            if fast_event is not None:
                return [fast_event]
        find = self._text_find
        if (
            find is not None
            and type(chunk) is str
            and chunk
            and find(chunk) is None
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
        self._text_find = None
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
        if isinstance(isl, JsonCallBody) and isl.streaming and not isl.quiet and not self._buf:
            self._hot = isl
        else:
            self._hot = None
            if isl is not None and not isl.quiet and not self._buf:
                self._fast = getattr(isl, "fast_feed", None)
        self._arm_text()
        return out

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
        elif not isl.streaming:
            self._hot = None
        return out

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

    # -- input -------------------------------------------------------------------

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

    # -- the lexer loop ------------------------------------------------------------

    def _process(self, out: list[Event], final: bool) -> None:
        buf = self._buf
        n = len(buf)
        i = 0
        while i < n:
            if self._island is not None:
                i = self._feed_island(buf, i, n, out)
                if self._rewind:  # held text past an island's error is lexed again
                    buf = self._rewind + buf[i:]
                    n = len(buf)
                    i = 0
                    self._rewind = ""
                continue
            if self._skipper is not None:
                i = self._skip(buf, i, n)
                continue
            if self._recovering:
                i = self._resync(buf, i, n, final, out)
                if self._recovering:
                    break
                continue
            ls = self._states[self._ip.parser_state.position]
            if ls.island is not None:
                self._open_island(ls.island)
                continue
            # Find where content stops: a delimiter, a held prefix, or the end.
            p = n
            verdict: tuple[Delimiter, int] | str | None = None
            find = ls.find
            if find is not None:
                j = i
                while True:
                    m = find(buf, j)
                    if m is None:
                        p = n
                        break
                    p = m.start()
                    verdict = self._candidate(ls, buf, p, n, final)
                    if verdict is not None:
                        break
                    j = p + 1
            if i < p:
                if not self._run and ls.content is not None:
                    # A run starts: its token goes to the parser first, and the run is
                    # lexed in the state that follows (which may end it differently),
                    # so the outcome cannot depend on where a chunk ends.
                    self._run = True
                    self._run_expected = ls.expected
                    self._ip.feed_token(Token(ls.content, ""))
                    continue
                bad = self._content(ls, buf, i, p, out)
                if bad >= 0:
                    i = bad
                    continue
                i = p
            if verdict is None or verdict == "hold":
                break
            if verdict == "cut":
                self._cut_short(ls, buf[p:], out)
                i = n
                break
            if verdict == "limit":
                self._error(
                    out,
                    ErrorCode.LIMIT_EXCEEDED,
                    f"possible delimiter longer than {self.max_holdback} characters",
                    self._pos.offset,
                    buf[p:],
                )
                self._recover(out)
                # Resynchronise after its first character: a resync delimiter that
                # matches at p inside the window (a shorter one, or a longer one cut
                # by the window) would lead straight back here.
                self._pos.advance(buf[p])
                i = p + 1
                continue
            assert not isinstance(verdict, str)
            i = self._delimiter(ls, verdict[0], buf, p, verdict[1], out)
        self._buf = buf[i:] if i < n else ""

    def _candidate(
        self, ls: LexState, buf: str, p: int, n: int, final: bool
    ) -> tuple[Delimiter, int] | str | None:
        """At a possible delimiter start: (delimiter, end), "hold", "limit", "cut" (the
        input ended inside a delimiter where it cannot be content) or None."""
        limit = p + self.max_holdback
        best: tuple[Delimiter, int] | None = None
        gate = self._gate
        for d in ls.delimiters + ls.strays:
            m = d.match(buf, p, limit)
            if (
                m is not None
                and (best is None or m.end() > best[1])
                and (gate is None or gate.allows(d, buf, p, n))
            ):
                best = (d, m.end())
        if best is not None:
            # A longer delimiter (or a longer match of an open-ended one) may still
            # come with the next chunk: wait, so the longest match wins whatever the
            # chunking.
            if not final and n - p <= self.max_holdback and self._may_grow(ls, buf, p, n):
                return "hold"
            if n > limit and any(d.prefix(buf, p, limit + 1) for d in ls.delimiters + ls.strays):
                # A longer delimiter may run past the hold-back window (GLM's
                # ``<tool_call>NAME`` beyond a bare ``<tool_call>``): the shorter match
                # must not win just because the window cut the longer one.
                return "limit"
            return best
        window = min(n, limit + 1)
        viable = any(
            d.prefix(buf, p, window) and (gate is None or gate.allows(d, buf, p, n))
            for d in ls.delimiters + ls.strays
        )
        if not viable:
            return None
        if window > limit:
            return "limit"
        if window == n:
            if not final:
                return "hold"
            # The input ended inside a delimiter.  A prefix of strays only is an error
            # whatever would have followed, so it stays what the lexer makes of it.
            if (
                self._at_end
                and not self._may_be_content(ls, buf, p, n)
                and any(
                    d.prefix(buf, p, n) and (gate is None or gate.allows(d, buf, p, n))
                    for d in ls.delimiters
                )
            ):
                return "cut"
        return None

    @staticmethod
    def _may_be_content(ls: LexState, buf: str, p: int, n: int) -> bool:
        """Whether a delimiter's prefix left at the end of the input is content here.

        Text and reasoning that admit it keep it (a marker's fragment at the end of a
        message is text; reasoning cut short is reasoning), and so does layout that
        admits it where the input may end (whitespace after a call that could have
        begun a separator).  Anywhere else only a delimiter could stand there (layout
        in an unfinished block, captures of a call's name, key or value that the cut
        leaves unfinished anyway): the input ended inside the delimiter."""
        spec = ls.content_spec
        if spec is None or spec.kind not in ("text", "reasoning", "layout"):
            return False
        if spec.kind == "layout" and not ls.accepts_end:
            return False
        ok = ls.layout_ok
        return ok is None or ok(buf, p, n) is not None

    def _may_grow(self, ls: LexState, buf: str, p: int, n: int) -> bool:
        """Whether the text from ``p`` to the buffer's end could still become a longer
        delimiter match than what is there now."""
        gate = self._gate
        for d in ls.delimiters + ls.strays:
            if d.prefix(buf, p, n) and (gate is None or gate.allows(d, buf, p, n)):
                m = d.match(buf, p)
                if m is None:
                    return True
                if m.end() == n and d.open_ended:
                    return True
                if m.end() != n and not d.lookahead:
                    return True
        return False

    def _cut_short(self, ls: LexState, tail: str, out: list[Event]) -> None:
        """The input ended inside a delimiter (``tail``, a proper prefix of one) where
        it cannot be content: ``truncated`` at the delimiter's start, after the events
        of everything before it (the open run ends as at the end of the input); no
        finish follows."""
        if self._held_spec.strip_at_end:
            self._held_ws = ""
        self._end_run(None, out)
        self._cut = True
        names = [d.name for d in ls.delimiters if d.prefix(tail)]
        shown = tail if len(tail) <= 40 else tail[:40] + "..."
        expected = ", ".join(self._g.describe(t) for t in sorted(names))
        self._error(
            out,
            ErrorCode.TRUNCATED,
            f"the input ended inside a delimiter {shown!r} (expected {expected})",
            self._pos.offset,
            tail,
        )
        self._pos.advance(tail)

    # -- content, delimiters, blocks -------------------------------------------------

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

    def _deliver(self, spec: ContentSpec, text: str, out: list[Event]) -> None:
        """Text or reasoning of the current run, minus the format's separators: a
        leading run of ``strip_leading`` characters is dropped; a trailing run of
        ``strip_trailing`` characters waits for what ends the run (``_end_run``),
        at most ``max_holdback`` of them (the rest is text, so memory stays bounded
        and the outcome does not depend on the chunking)."""
        if spec.strip_leading and not self._run_text:
            text = text.lstrip(spec.strip_leading)
            if not text:
                return
        self._run_text = True  # past the leading separators, even if all of it waits
        if spec.strip_trailing:
            body = text.rstrip(spec.strip_trailing)
            tail = text[len(body) :]
            if body:
                text = self._held_ws + body
                self._held_ws = tail
            else:
                text = ""
                self._held_ws += tail
            self._held_spec = spec
            excess = len(self._held_ws) - self.max_holdback
            if excess > 0:
                text += self._held_ws[:excess]
                self._held_ws = self._held_ws[excess:]
            if not text:
                return
        self._emit(spec.kind, text, out)

    def _emit(self, kind: str, text: str, out: list[Event]) -> None:
        if not self._text_after_call and not text.isspace():
            self._text_after_call = True
        block = self._block
        if block is None or block[0] != kind:
            self._end_block(out)
            block = self._block = (kind, self._next_block)
            self._next_block += 1
            out.append(TextStart(id=block[1]) if kind == "text" else ReasoningStart(id=block[1]))
        if kind == "text":
            out.append(text_delta(block[1], text))
        else:
            out.append(reasoning_delta(block[1], text))

    def _end_block(self, out: list[Event]) -> None:
        block = self._block
        if block is not None:
            self._block = None
            out.append(TextEnd(id=block[1]) if block[0] == "text" else ReasoningEnd(id=block[1]))

    def _end_run(self, before: str | None, out: list[Event]) -> None:
        """A content run ends (at delimiter ``before``, or None for anything else):
        settle held separators and captures, close the block."""
        held = self._held_ws
        if held:
            self._held_ws = ""
            strip_before = self._held_spec.strip_before
            if before is None or (strip_before is not None and before not in strip_before):
                self._emit(self._held_spec.kind, held, out)
        spec = self._capture_spec
        if spec is not None:
            self._capture_spec = None
            text = "".join(self._captured)
            self._captured.clear()
            self._captured_size = 0
            call = self._call
            if call is not None:
                kind = spec.kind
                if kind == "name":
                    call.set_name(text.strip() or None, out)
                elif kind == "id":
                    model_id = text.strip()  # blank: keep call_<index>, derive nothing
                    call.id = model_id or call.id
                    derive = self._g.spec.name_from_id
                    call.set_name(derive(model_id) if derive and model_id else None, out)
                elif kind == "key":
                    call.key = text.strip()
                else:
                    self._add_value(call, text, before, out)
        self._end_block(out)
        self._run = False
        self._run_text = False

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

    def _consume(self, buf: str, i: int, j: int) -> None:
        if j > i:
            self._pos.advance(buf[i:j])

    # -- islands -----------------------------------------------------------------

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

    # -- errors and recovery ---------------------------------------------------------

    def _error(
        self,
        out: list[Event],
        code: str,
        message: str,
        offset: int,
        pending: str = "",
        where: tuple[int, int] | None = None,
    ) -> None:
        """Report an error at ``offset``: at or after the counter (``pending`` is the
        text from the counter on), or at a spot located earlier (``where``)."""
        line, column = where if where is not None else self._pos.locate(offset, pending)
        full = f"{message} at line {line} column {column}"
        if self.strict:
            raise ParseError(str(code), full, offset=offset, line=line, column=column)
        out.append(Error(code=str(code), message=full, offset=offset, line=line, column=column))

    def _recover(self, out: list[Event]) -> None:
        """Drop the broken structure and skip to the next resync delimiter."""
        self._capture_spec = None
        self._captured.clear()
        self._captured_size = 0
        self._end_run(None, out)
        self._island = None
        self._call = None
        self._run = False
        self._recovering = True

    def _reset(self) -> None:
        self._skipper = None
        self._ip = self._new_lalr()
        self._run = False
        self._recovering = False
        self._call = None

    def _resync(self, buf: str, i: int, n: int, final: bool, out: list[Event]) -> int:
        """Skip to the next resync delimiter; returns where lexing goes on."""
        g = self._g
        find = g.resync_find
        gate = self._gate
        j = i
        while find is not None:
            m = find(buf, j)
            if m is None:
                break
            p = m.start()
            for d in g.resync_delimiters:
                mm = d.match(buf, p, p + self.max_holdback)
                if mm is not None and (gate is None or gate.allows(d, buf, p, n)):
                    self._consume(buf, i, p)
                    self._reset()
                    if d.name in g.spec.resync_before:
                        return p
                    end: int = mm.end()
                    self._pos.advance(buf[p:end])
                    return end
            if (
                not final
                and any(
                    d.prefix(buf, p, n) and (gate is None or gate.allows(d, buf, p, n))
                    for d in g.resync_delimiters
                )
                and n - p <= self.max_holdback
            ):
                self._consume(buf, i, p)
                return p
            j = p + 1
        self._consume(buf, i, n)
        return n

    def _finish_reason(self) -> str:
        """``tool_calls`` when the output ends with calls (text or reasoning after the
        last call means the model went on instead of waiting for the results)."""
        return "tool_calls" if self._completed and not self._text_after_call else "stop"

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

    # -- setup ---------------------------------------------------------------------

    def _new_lalr(self) -> InteractiveParser:
        state: ParserState[Any] = ParserState(self._conf, None)  # type: ignore[arg-type]
        return InteractiveParser(None, state, None)  # type: ignore[arg-type]

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
