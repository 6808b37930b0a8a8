"""Lenient recovery: after an error, skip to the format's next resynchronisation
delimiter and restart the LALR parser there.

Theory of operation
-------------------
An error (``state.ParserCore._error``) is an ``Error`` event in lenient mode; in
strict mode it raises ``ParseError`` and the parser is poisoned (nothing else
happens here).  ``_recover`` then drops the broken structure: captures, the open
run, the island and the call; ``_resync`` searches the buffer for the first
resynchronisation delimiter (``FormatSpec.resync``) that matches (and that the
token gate, if any, allows), consumes everything before it, and restarts the LALR
parser either before it (delimiters in ``resync_before``, which start a structure)
or after it.  A possible prefix of one at the end of the buffer is held back like
any delimiter prefix, so where recovery resumes never depends on the chunking.
Inside a list, a broken element is skipped instead (``skipping.BodySkipper``,
driven by ``island_runner.py``) so that the next call of the same list parses.
"""

from __future__ import annotations

from ..events import (
    Event,
)
from .state import ParserCore

__all__ = ["Recovery"]


class Recovery(ParserCore):
    """Dropping a broken structure and resynchronising."""

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
