"""One counter turns consumed text into offsets, lines and columns.

Fed every piece of text the parser consumes, in order; asked for the position of any
character at or after the last newline it saw.  Lines and columns are 1-based and
count ``\\n`` only (a lone ``\\r`` does not start a line).
"""

from __future__ import annotations

__all__ = ["LineCounter"]


class LineCounter:
    __slots__ = ("line", "line_start", "offset")

    def __init__(self) -> None:
        self.offset = 0
        """Characters consumed so far (the offset of the next character)."""
        self.line = 1
        """Line of the next character."""
        self.line_start = 0
        """Offset of the first character of the current line."""

    def advance(self, text: str) -> None:
        """Account for ``text``, consumed right after everything before it."""
        newlines = text.count("\n")
        if newlines:
            self.line += newlines
            self.line_start = self.offset + text.rindex("\n") + 1
        self.offset += len(text)

    def locate(self, offset: int, pending: str = "") -> tuple[int, int]:
        """(line, column) of ``offset``; ``pending`` is unconsumed text starting at
        ``self.offset`` that may lie between the counter and ``offset``."""
        line, line_start = self.line, self.line_start
        if offset > self.offset and pending:
            gap = pending[: offset - self.offset]
            newlines = gap.count("\n")
            if newlines:
                line += newlines
                line_start = self.offset + gap.rindex("\n") + 1
        return line, offset - line_start + 1
