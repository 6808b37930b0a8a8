"""The incremental lexer: the LALR parser's current state decides which delimiters
are looked for, and only a possible delimiter prefix is ever held back.

Theory of operation
-------------------
Chunks go into one buffer that holds only what cannot be decided yet.  ``_process``
looks up the LALR parser's current state (``LexState``, precomputed per state by
``grammar.py``) and then:

* if the state accepts an island (a call body), the text goes to the island's
  sub-parser (``island_runner.py``) until it reports the completing character;
* otherwise it searches for the next character where an acceptable delimiter could
  start (one compiled pattern per state).  Everything before it is content,
  emitted at once (``content.py``).  At that character ``_candidate`` decides:
  either a delimiter matches (its token goes to the LALR parser, which moves to the
  next state), or the rest of the buffer is a proper prefix of a delimiter (held
  back: the only text ever kept, at most ``max_holdback`` characters), or it is
  content too and the search goes on from the next character.

At ``close()`` the held text can no longer become its delimiter.  Where text,
reasoning, or layout that may end the input may stand, it is that content (a
marker's fragment at the end of a message is text); anywhere else the input ended
inside the delimiter: ``truncated`` at its first character, after the events of
everything before it (``_cut_short``), never ``unexpected_text``.

Token ids (``token_parser.py``) reach the lexer through one hook, a
``DelimiterGate``: where a delimiter's text holds a special token's text, a match
(or a prefix worth holding back) counts only if that token's id wrote the text
there.  The gate is consulted only at a possible delimiter start; without one
(text input) nothing changes.
"""

from __future__ import annotations

from lark import Token

from ..errors import ErrorCode
from ..events import (
    Event,
)
from .delimiters import Delimiter
from .grammar import LexState
from .island_runner import IslandRunner

__all__ = ["Lexer"]


class Lexer(IslandRunner):
    """The lexer loop over the buffer."""

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
                starts = ls.starts
                holdback = self.max_holdback
                j = i
                while True:
                    m = find(buf, j)
                    if m is None:
                        p = n
                        break
                    p = m.start()
                    if starts is not None and n - p <= holdback and starts(buf, p) is None:
                        # No delimiter matches here or begins with the rest of the
                        # buffer (one regex instead of two per delimiter): content.
                        j = p + 1
                        continue
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
