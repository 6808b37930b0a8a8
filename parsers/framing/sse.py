"""A sans-IO, byte-level Server-Sent Events decoder (WHATWG HTML, "event stream
interpretation").

``feed(bytes)`` returns the events whose blank line arrived in that chunk, in order,
with ``FramingError`` items where the input is broken; ``close()`` ends the body.
The rules, as the spec states them:

* lines end with CRLF, LF or CR (``lines.LineSplitter``); a leading UTF-8 BOM is
  dropped;
* a line starting with ``:`` is a comment; otherwise the field name runs up to the
  first ``:`` (the whole line if there is none) and one space after the colon is
  dropped from the value;
* ``data`` appends the value and an LF to the data buffer; ``event`` sets the event
  type; ``id`` sets the last event id unless the value holds U+0000; ``retry`` sets
  the reconnection time if the value is all ASCII digits; other fields are ignored;
* a blank line dispatches: with an empty data buffer nothing is dispatched (the type
  is reset); otherwise the final LF is removed and the event goes out with the type
  (``message`` when none was set) and the last event id.

Where the spec repairs or discards silently, this decoder reports instead, so that
nothing is lost without a word:

* the spec decodes with replacement characters; here a field line that is not UTF-8
  is an ``invalid_utf8`` error at its first bad byte, and the event it belongs to is
  dropped (part of it is missing); comment lines are ignored unread;
* the spec discards an event that the body's end cuts off before its blank line;
  here that is a ``truncated`` error at ``close()`` (the event is still not
  dispatched);
* a line longer than ``max_line_size``, or an event whose data grows beyond
  ``max_event_size``, is a ``limit_exceeded`` error, and its event is dropped.

Speed: a chunk without CR bytes takes a fast path between events: each event that is
one ``data:`` line and a blank line, both ending in LF, valid UTF-8 and within the
limits (what every provider sends, thousands of times per long tool call) becomes its
``Frame`` straight from the bytes; anything else goes through the line splitter and
the rules above, up to the next blank line.  Both give the same frames, positions and
errors under any chunking.

Offsets count bytes of the body (the BOM included), lines count line ends as above.
An event's ``start`` is its first field line, ``end`` is just past the first byte of
the line end of the blank line that dispatched it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ErrorCode
from .lines import BOM, FramingError, Line, LineDecoder, LineSplitter, invalid_utf8

__all__ = [
    "DEFAULT_MAX_EVENT_SIZE",
    "DEFAULT_MAX_LINE_SIZE",
    "Frame",
    "FramingError",
    "SseDecoder",
]

DEFAULT_MAX_LINE_SIZE = 64 * 1024 * 1024
"""Longest line, in bytes (64 MiB).  One ``data:`` line may carry a whole event, and
the largest real events repeat a whole response (OpenAI Responses'
``response.completed`` holds every output item and argument again), so this is four
times the default argument limit.  Go's ``bufio.Scanner`` default of 64 KiB is the
cautionary precedent: SSE clients built on it fail on long events."""

DEFAULT_MAX_EVENT_SIZE = 64 * 1024 * 1024
"""Largest data buffer of one event, in bytes (64 MiB), for the same reason; like
h11's ``max_incomplete_event_size`` it bounds what an unfinished event may hold."""



@dataclass(slots=True)
class Frame:
    """One framed payload: an SSE event, or an NDJSON line (event ``message``).
    Read-only by convention (not frozen: a frozen dataclass costs a microsecond to
    build, and a long argument streams as thousands of frames)."""

    event: str
    """The event type (``message`` when the stream set none)."""
    data: str
    """The data, lines joined by LF."""
    id: str
    """The last event id as it stood at dispatch ("" when none)."""
    start: int
    """Byte offset of the frame's first line."""
    end: int
    """Byte offset just past the byte that completed the frame."""
    line: int
    """1-based line number of ``start``."""
    terminated: bool = True
    """False for an NDJSON last line that the body's end cut off from its newline."""


class SseDecoder(LineDecoder):
    """``feed(bytes)`` / ``close()`` -> frames and framing errors; see the module
    docstring."""

    __slots__ = (
        "_data",
        "_max_event",
        "_max_line",
        "_poisoned",
        "_size",
        "_start",
        "_type",
        "last_event_id",
        "retry",
    )

    def __init__(
        self,
        *,
        max_line_size: int = DEFAULT_MAX_LINE_SIZE,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    ) -> None:
        self._lines = LineSplitter(cr=True, max_line_size=max_line_size)
        self._max_event = max_event_size
        self._max_line = max_line_size
        self._first = True
        self._data: list[str] = []
        self._size = 0
        self._type = ""
        self._start: Line | None = None
        """The block's first field line (for the frame's position)."""
        self._poisoned = False
        """A line of the current block was dropped: the block is not dispatched."""
        self.last_event_id = ""
        """The last event id buffer (it survives dispatch, as the spec says)."""
        self.retry: int | None = None
        """The reconnection time the stream last set, in milliseconds."""

    def feed(self, data: bytes) -> list[Frame | FramingError]:
        out: list[Frame | FramingError] = []
        lines = self._lines
        if b"\r" in data:  # CR line ends: the general path only
            for line in lines.feed(data):
                self._line(line, out)
            return out
        # Between events, whole ``[event: ...] data: ...`` events go out on the fast path; the
        # general path takes everything else, one event at a time (up to the next
        # blank line), so the fast path resumes at the next event.
        n = len(data)
        pos = 0
        while pos < n:
            mark = None if self._start is not None or self._first else lines.mark()
            if mark is not None:
                pos = self._fast(data, pos, mark, out)
                if pos >= n:
                    break
                stop = data.find(b"\n\n", pos)
                stop = n if stop < 0 else stop + 2
            elif data[pos] == 0x0A and lines.mark() is not None:
                stop = pos + 1  # the blank line of an event whose lines came before
            else:
                stop = data.find(b"\n\n", pos)
                stop = n if stop < 0 else stop + 2
            for line in lines.feed(data[pos:stop] if pos or stop < n else data):
                self._line(line, out)
            pos = stop
        return out

    def _fast(
        self, data: bytes, pos: int, mark: tuple[int, int], out: list[Frame | FramingError]
    ) -> int:
        """Dispatch the events at ``data[pos:]`` that are an optional ``event`` line,
        one ``data`` line and a blank line, all ending in LF, and valid within the
        limits (exactly what the general path would do with them); returns where the
        first other input starts."""
        n = len(data)
        offset, number = mark
        base = offset - pos
        first = number
        max_line = self._max_line
        max_event = self._max_event
        event_id = self.last_event_id
        i = pos
        while True:
            k = i
            kind = "message"
            if data.startswith(b"event:", i):
                j = data.find(b"\n", i)
                if j < 0 or j - i > max_line:
                    break
                start = i + 7 if data.startswith(b" ", i + 6) and i + 6 < j else i + 6
                try:
                    kind = data[start:j].decode("utf-8") or "message"
                except UnicodeDecodeError:
                    break
                k = j + 1
            if not data.startswith(b"data:", k):
                break
            j = data.find(b"\n", k)
            if j < 0 or j + 1 >= n or data[j + 1] != 0x0A or j - k > max_line:
                break
            start = k + 6 if data[k + 5] == 0x20 else k + 5
            if j - start + 1 > max_event:
                break
            try:
                text = data[start:j].decode("utf-8")
            except UnicodeDecodeError:
                break
            out.append(Frame(kind, text, event_id, base + i, base + j + 2, number))
            number += 3 if k > i else 2
            i = j + 2
        if i > pos:
            self._lines.advance(i - pos, number - first)
        return i

    def close(self) -> list[Frame | FramingError]:
        """End of the body: report an event cut off before its blank line."""
        out: list[Frame | FramingError] = []
        last = self._lines.close()
        if last is not None and self._first and last.data == BOM:
            last = None  # a body that is only a BOM is empty
        if last is not None or self._start is not None:
            offset, line, column = self._lines.position()
            out.append(
                FramingError(
                    ErrorCode.TRUNCATED,
                    "the body ended inside an event (no blank line after it); the "
                    f"incomplete event is discarded at line {line} column {column}",
                    offset,
                    line,
                    column,
                )
            )
        self._reset()
        return out

    def _line(self, line: Line, out: list[Frame | FramingError]) -> None:
        raw, skipped = self._content(line)
        if line.overflow:
            if self._start is None:
                self._start = line
            self._poison(line, out, ErrorCode.LIMIT_EXCEEDED, "line longer than the limit", 0)
            return
        if not raw:
            self._dispatch(line, out)
            return
        if raw[0] == 0x3A:  # ":" - a comment
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if self._start is None:
                self._start = line
            self._poison(line, out, ErrorCode.INVALID_UTF8, *invalid_utf8(exc, skipped))
            return
        if self._start is None:
            self._start = line
        name, colon, value = text.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            if self._poisoned:
                return
            # The value's bytes and its LF: the line less "data", ":" and one space.
            self._size += len(raw) - len(text) + len(value) + 1
            if self._size > self._max_event:
                self._data.clear()
                self._poison(line, out, ErrorCode.LIMIT_EXCEEDED, "event larger than the limit", 0)
                return
            self._data.append(value)
        elif name == "event":
            self._type = value
        elif name == "id":
            if "\0" not in value:
                self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry = int(value)

    def _poison(
        self, line: Line, out: list[Frame | FramingError], code: str, message: str, at: int
    ) -> None:
        out.append(FramingError.in_line(line, code, message, at))
        self._poisoned = True

    def _dispatch(self, blank: Line, out: list[Frame | FramingError]) -> None:
        start = self._start
        if self._data and not self._poisoned and start is not None:
            out.append(
                Frame(
                    self._type or "message",
                    "\n".join(self._data),
                    self.last_event_id,
                    start.start,
                    blank.end,
                    start.number,
                )
            )
        self._reset()

    def _reset(self) -> None:
        self._data = []
        self._size = 0
        self._type = ""
        self._start = None
        self._poisoned = False
