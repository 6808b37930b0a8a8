"""Byte lines with their positions: the first stage of the SSE and NDJSON decoders.

Provider bodies are framed by lines, and a line end is always one of the ASCII bytes
CR or LF, which never occur inside a multi-byte UTF-8 sequence.  So the body is cut
into lines while still bytes, and each complete line is decoded on its own: a
character split across chunks simply waits in the partial line, and no incremental
codec is needed.

Line ends follow the framing's spec, never ``str.splitlines`` (which also breaks on
U+2028, U+0085 and friends):

* ``cr=True`` (SSE, WHATWG "event stream" grammar): CRLF, LF or a lone CR.  A CR ends
  its line at once; an LF right after it (possibly in the next chunk) belongs to the
  same line end and is swallowed.  This is the "trailing CR waits for LF" rule done
  without waiting: the line is delivered at the CR, so a blank line that ends with a
  CR at the end of a chunk dispatches its event in that very ``feed``.
* ``cr=False`` (NDJSON): LF only; a CR just before it is dropped from the line.

Positions: ``start`` is the byte offset of the line's first byte, ``end`` the offset
just past the first byte of its line end (the byte that completed it), ``number`` its
1-based line number.  A line longer than ``max_line_size`` is reported once, at the
first byte beyond the limit, and skipped up to its end, so memory stays bounded.  The
line end never counts toward the limit: with ``cr=False`` a CR that ends the bytes
received so far is not counted until the next byte shows whether it is the first
half of a CRLF (at ``close`` it is content), so the verdict does not depend on where
the chunks are cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["FramingError", "Line", "LineSplitter"]

_CR = 13
_LF = 10
_find_eol = re.compile(b"[\r\n]").search


@dataclass(slots=True)
class Line:
    """One line of the body, without its line end (read-only by convention: not
    frozen, since a frozen dataclass costs a microsecond to build)."""

    data: bytes
    start: int
    end: int
    number: int
    overflow: bool = False
    """The line exceeded the size limit: ``data`` is empty and ``end`` is the offset
    of the first byte beyond the limit (the line is skipped up to its end)."""
    terminated: bool = True
    """False for the unterminated last line, handed out by ``close``."""


@dataclass(frozen=True, slots=True)
class FramingError:
    """A framing-level problem (bad bytes, a limit, truncation) at a byte position."""

    code: str
    message: str
    offset: int
    line: int
    column: int

    @classmethod
    def in_line(cls, line: Line, code: str, message: str, at: int) -> FramingError:
        """An error ``at`` bytes into ``line`` (at its end if the line overflowed)."""
        offset = line.end if line.overflow else line.start + at
        column = offset - line.start + 1
        return cls(
            code, f"{message} at line {line.number} column {column}", offset, line.number, column
        )


class LineSplitter:
    """Cut byte chunks into lines; see the module docstring."""

    __slots__ = (
        "_cr",
        "_line_start",
        "_max",
        "_number",
        "_offset",
        "_partial",
        "_skip",
        "_skip_lf",
    )

    def __init__(self, *, cr: bool, max_line_size: int) -> None:
        self._cr = cr
        self._max = max_line_size
        self._partial = bytearray()
        self._offset = 0
        """Bytes received before the current chunk."""
        self._line_start = 0
        self._number = 1
        self._skip_lf = False
        """The last line ended with a CR: an LF right after it is part of that end."""
        self._skip = False
        """The current line overflowed: drop bytes up to its end."""

    @property
    def offset(self) -> int:
        """Bytes received so far."""
        return self._offset

    def position(self) -> tuple[int, int, int]:
        """(offset, line, column) of the end of the input received so far."""
        return self._offset, self._number, self._offset - self._line_start + 1

    def mark(self) -> tuple[int, int] | None:
        """(offset, line number) when the next byte starts a line -- nothing of a line
        is waiting, and no LF of a CRLF whose CR ended the last chunk may follow --;
        None otherwise."""
        if self._partial or self._skip_lf or self._skip:
            return None
        return self._offset, self._number

    def advance(self, size: int, lines: int) -> None:
        """Account for ``size`` bytes of ``lines`` whole LF-terminated lines that the
        caller read itself (only where ``mark()`` is not None): as if fed through
        here."""
        offset = self._offset + size
        self._offset = offset
        self._line_start = offset
        self._number += lines

    def feed(self, data: bytes) -> list[Line]:
        out: list[Line] = []
        n = len(data)
        pos = 0
        base = self._offset
        if self._skip_lf and n:
            self._skip_lf = False
            if data[0] == _LF:
                pos = 1
                self._line_start = base + 1
        cr = self._cr
        while pos < n:
            if cr:
                m = _find_eol(data, pos)
                j = -1 if m is None else m.start()
            else:
                j = data.find(b"\n", pos)
            if j < 0:
                self._keep(data, pos, n, base, out)
                break
            if self._skip:
                self._skip = False
            else:
                if self._partial:
                    self._partial += data[pos:j]
                    line = bytes(self._partial)
                    self._partial.clear()
                else:
                    line = data[pos:j]
                if not cr and line.endswith(b"\r"):
                    line = line[:-1]
                if len(line) > self._max:
                    # The whole line arrived in one piece: report it like a split one.
                    out.append(self._overflow())
                else:
                    out.append(Line(line, self._line_start, base + j + 1, self._number))
            nxt = j + 1
            if data[j] == _CR:
                if nxt < n:
                    if data[nxt] == _LF:
                        nxt += 1
                else:
                    self._skip_lf = True
            self._number += 1
            self._line_start = base + nxt
            pos = nxt
        self._offset = base + n
        return out

    def _keep(self, data: bytes, pos: int, n: int, base: int, out: list[Line]) -> None:
        """Keep the unterminated tail ``data[pos:n]`` for the next chunk."""
        if self._skip:
            return
        partial = self._partial
        partial += data[pos:n]
        size = len(partial)
        if not self._cr and partial[-1] == _CR:
            size -= 1  # an LF may follow in the next chunk: the CR is a line end then
        if size > self._max:
            partial.clear()
            out.append(self._overflow())
            self._skip = True

    def _overflow(self) -> Line:
        """The current line is too long: a marker at the first byte beyond the limit."""
        return Line(b"", self._line_start, self._line_start + self._max, self._number, True)

    def close(self) -> Line | None:
        """The unterminated last line, if any bytes of one are waiting."""
        if self._skip or not self._partial:
            return None
        line = bytes(self._partial)
        self._partial.clear()
        if len(line) > self._max:
            # A trailing CR (NDJSON) that no LF followed: it is content after all.
            return self._overflow()
        return Line(line, self._line_start, self._offset, self._number, terminated=False)


def invalid_utf8(exc: UnicodeDecodeError, skipped: int) -> tuple[str, int]:
    """The message of a line's bad UTF-8 and its index in the line (``skipped``: bytes
    dropped before the decoded part, a BOM)."""
    bad = exc.object[exc.start : exc.end]
    return f"invalid UTF-8 bytes {bad!r} ({exc.reason})", skipped + exc.start


BOM = b"\xef\xbb\xbf"
"""UTF-8's byte order mark, which a body may open with."""


class LineDecoder:
    """The base of the decoders that read a body line by line (SSE, NDJSON): the
    position of the input is the one their ``LineSplitter`` counts."""

    __slots__ = ("_first", "_lines")

    _lines: LineSplitter
    _first: bool
    """No line has been read yet (the body may open with a UTF-8 BOM)."""

    @property
    def offset(self) -> int:
        """Bytes received so far."""
        return self._lines.offset

    def position(self) -> tuple[int, int, int]:
        """(offset, line, column) of the end of the input received so far."""
        return self._lines.position()

    def _content(self, line: Line) -> tuple[bytes, int]:
        """The line's bytes without the body's BOM (on the first line only), and how
        many bytes that dropped; browsers and JSON Lines readers both ignore it."""
        raw = line.data
        if self._first:
            self._first = False
            if raw.startswith(BOM):
                return raw[3:], 3
        return raw, 0
