"""A sans-IO decoder for newline-delimited JSON bodies (Ollama's ``/api/chat`` and
``/api/generate`` streams).

Each LF ends a line (a CR just before it is dropped); a line holding only whitespace
is skipped; every other line is one frame, decoded as strict UTF-8.  It does not
parse the JSON: the provider parser does, so that a payload error is reported with
the provider's words.  A last line without its newline is handed out at ``close()``
with ``terminated=False``: the JSON Lines convention allows a missing final newline,
so whether it was cut off is for the payload to say.

Offsets count bytes of the body; a frame's ``end`` is just past its newline.
"""

from __future__ import annotations

from ..errors import ErrorCode
from .lines import FramingError, Line, LineDecoder, LineSplitter, invalid_utf8
from .sse import DEFAULT_MAX_LINE_SIZE, Frame

__all__ = ["NdjsonDecoder"]



class NdjsonDecoder(LineDecoder):
    """``feed(bytes)`` / ``close()`` -> frames and framing errors."""

    def __init__(self, *, max_line_size: int = DEFAULT_MAX_LINE_SIZE) -> None:
        self._lines = LineSplitter(cr=False, max_line_size=max_line_size)
        self._first = True

    def feed(self, data: bytes) -> list[Frame | FramingError]:
        out: list[Frame | FramingError] = []
        for line in self._lines.feed(data):
            self._line(line, out)
        return out

    def close(self) -> list[Frame | FramingError]:
        out: list[Frame | FramingError] = []
        last = self._lines.close()
        if last is not None:
            self._line(last, out)
        return out

    def _line(self, line: Line, out: list[Frame | FramingError]) -> None:
        raw, skipped = self._content(line)
        if line.overflow:
            self._error(line, out, ErrorCode.LIMIT_EXCEEDED, "line longer than the limit", 0)
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._error(line, out, ErrorCode.INVALID_UTF8, *invalid_utf8(exc, skipped))
            return
        if text.strip(" \t\r"):
            out.append(
                Frame("message", text, "", line.start, line.end, line.number, line.terminated)
            )

    def _error(
        self, line: Line, out: list[Frame | FramingError], code: str, message: str, at: int
    ) -> None:
        out.append(FramingError.in_line(line, code, message, at))
