"""The base every value scanner stands on: its error, its limits, its kept text.

Theory of operation
-------------------
The three value scanners (``json_engine.JsonScanner``, ``pylit.PyKwargsScanner``,
``gemma_object.GemmaObjectScanner``) are state machines fed ``text[start:end]`` in
pieces of any size.  What they share lives here, so that each keeps only its
language:

* **One error type**, ``JsonSyntaxError``: a code (``invalid_json``,
  ``invalid_arguments``, ``limit_exceeded``) and the index of the first character at
  which the text stops being a prefix of a valid value.
* **The budget** (``KeptText``): ``max_size`` characters of text and ``max_depth``
  levels of nesting.  A feed that would cross the size limit is scanned only up to
  it (``room``) and then fails at the first character past it, so the error index
  never depends on the chunking.
* **The kept text** (``KeptText``): everything consumed, as it arrived, in a list of
  pieces joined every ``JOIN_EVERY`` pieces, so keeping text stays linear in time and
  compact in memory (one string per batch, not one object per chunk); ``raw()``
  joins it once.
* **Values built as they are scanned** (``ValueBuilder``, for the two scanners that
  build their value rather than hand it to ``json.loads``): a stack of open
  containers, the token text in ``_parts``, and the numeric conversion with the
  documented limits (``number_value``: exact integers up to Python's digit limit,
  floats that do not overflow).

None of this sits inside a per-character loop: the scanners call it once per token
or once per feed, and keep their own hot paths inline.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar, NoReturn

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_SIZE",
    "INVALID",
    "JOIN_EVERY",
    "LIMIT",
    "JsonSyntaxError",
    "KeptText",
    "ValueBuilder",
    "describe",
    "invalid",
    "number_value",
    "reject_float",
]

DEFAULT_MAX_DEPTH = 512
"""Nesting limit.  serde_json and jiter stop at 128, Python's json at its recursion
limit (~1000); tool arguments are shallow, so 512 rejects only hostile input."""

DEFAULT_MAX_SIZE = 16 * 1024 * 1024
"""Largest argument text in characters (16 Mi): far above any real tool call, small
enough that a runaway generation cannot exhaust a server's memory."""

INVALID = "invalid_arguments"
LIMIT = "limit_exceeded"
JOIN_EVERY = 512
"""Kept pieces before they are joined (bounded list overhead)."""


class JsonSyntaxError(Exception):
    """Raised by the scanner; ``index`` is the offending character's index in the text
    passed to ``feed`` (or the end of input for truncation)."""

    def __init__(self, code: str, index: int, message: str, *, pending: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.index = index
        self.message = message
        self.pending = pending
        """Text an island took in earlier feeds (held back) that lies past the error
        and must be lexed again; ``index`` is then the start of the current text."""


def describe(c: str) -> str:
    """A character as an error message shows it."""
    return repr(c) if c.isprintable() else f"U+{ord(c):04X}"


def invalid(index: int, message: str) -> JsonSyntaxError:
    """An ``invalid_arguments`` error at ``index``."""
    return JsonSyntaxError(INVALID, index, message)


def reject_float(text: str) -> float:
    """``float(text)``; ValueError when it overflows (``1e999``)."""
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:40]!r} overflows a float")
    return value


def number_value(token: str, integer: bool, index: int, base: int = 10) -> int | float:
    """A finished number token as a JSON number; ``limit_exceeded`` at ``index`` (the
    character after the number) past Python's int digit limit or a float's range."""
    try:
        return int(token, base) if integer else reject_float(token)
    except ValueError as exc:
        raise JsonSyntaxError(LIMIT, index, str(exc)) from None


class KeptText:
    """The text consumed so far, as it arrived, and the size and depth budget."""

    __slots__ = ("_blocks", "max_depth", "max_size", "pieces", "size", "state", "value_start")

    def __init__(self, max_depth: int, max_size: int, state: int) -> None:
        self.max_depth = max_depth
        self.max_size = max_size
        self.state = state
        self.size = 0
        """Characters consumed so far."""
        self.value_start = 0
        """Offset in ``raw()`` of the value's first character."""
        self.pieces: list[str] = []
        self._blocks: list[str] = []

    def raw(self) -> str:
        """Everything consumed, as it arrived."""
        if self.pieces:
            self._blocks.append("".join(self.pieces))
            self.pieces.clear()
        if len(self._blocks) > 1:
            self._blocks[:] = ["".join(self._blocks)]
        return self._blocks[0] if self._blocks else ""

    def keep(self, piece: str) -> None:
        """Keep ``piece`` (already scanned)."""
        pieces = self.pieces
        pieces.append(piece)
        if len(pieces) > JOIN_EVERY:
            self.compact()

    def compact(self) -> None:
        """Join the kept pieces: keeping text stays linear, and compact in memory
        (one string per batch rather than one object per chunk)."""
        self._blocks.append("".join(self.pieces))
        self.pieces.clear()

    def too_big(self, index: int) -> NoReturn:
        """Fail at ``index``, the first character past ``max_size``."""
        raise JsonSyntaxError(LIMIT, index, f"arguments longer than {self.max_size} characters")

    def too_deep(self, index: int) -> NoReturn:
        """Fail at ``index``, the bracket that opens one level past ``max_depth``."""
        raise JsonSyntaxError(LIMIT, index, f"nesting deeper than {self.max_depth}")


class ValueBuilder(KeptText):
    """A scanner that builds its JSON value as it goes (see the module docstring).

    ``_kinds``/``_containers``/``_keys`` are the open containers, innermost last: a
    kind (``[`` and ``(`` are arrays, anything else an object), the container, and
    the key of an object's next value.  ``_parts`` holds the text of the token being
    scanned; ``_in_key`` says a string being scanned is an object key.  ``feed`` is
    the hot path for a chunk inside a string and the frame of every other."""

    __slots__ = ("_containers", "_in_key", "_keys", "_kinds", "_parts", "_stop")

    AFTER_VALUE: ClassVar[int]
    """The state after a value: a separator or the innermost closer."""
    AFTER_KEY: ClassVar[int]
    """The state after a string key: its ``:``."""
    STRING: ClassVar[int]
    """The state inside a string, where ``_stop`` (a ``search``) finds the next
    character that may end the string or start an escape; None: no hot path."""

    def __init__(self, max_depth: int, max_size: int, state: int) -> None:
        super().__init__(max_depth, max_size, state)
        self._kinds: list[str] = []
        self._containers: list[Any] = []
        self._keys: list[Any] = []
        self._parts: list[str] = []
        self._in_key = False
        self._stop: Callable[..., re.Match[str] | None] | None = None

    def feed(self, text: str, start: int, end: int) -> int:
        """Consume ``text[start:end]``; the index just past the character that
        completes the value, or -1 when more input is needed."""
        stop = self._stop
        if self.state == self.STRING and stop is not None and stop(text, start, end) is None:
            # Hot path: the chunk lies wholly inside a string (nothing in it can end
            # the string or start an escape): one search, no per-character work.
            size = self.size + end - start
            if size > self.max_size:
                self.too_big(end - (size - self.max_size))
            piece = text[start:end]
            self._parts.append(piece)
            pieces = self.pieces
            pieces.append(piece)
            if len(pieces) > JOIN_EVERY:
                self.compact()
            self.size = size
            return -1
        # Any other feed: the scanner's own loop (``_run``) over the text up to the
        # size budget, then the limit error if the budget cut it short, else keep
        # what it consumed.  Inline here, so a chunk costs two calls as before.
        base = self.size - start  # offset in raw() of text index i is base + i
        limit = end
        if base + end > self.max_size:
            limit = max(start, self.max_size - base)
        i, state, result = self._run(text, start, limit, base, self.state)
        if result < 0 and limit < end:
            self.state = state
            self.too_big(limit)
        done = result if result >= 0 else i
        if done > start:
            pieces = self.pieces
            pieces.append(text[start:done])
            if len(pieces) > JOIN_EVERY:
                self.compact()
        self.size = base + done
        self.state = state
        return result

    def feed_plain(self, chunk: str) -> bool:
        """Take ``chunk`` whole if it lies inside a string and nothing in it can end
        the string or start an escape (the driver's island fast path); False: it
        needs ``feed`` (which also reports a size limit at its exact character)."""
        stop = self._stop
        if stop is None:
            return False
        text = chunk
        state = self.state
        if state != self.STRING or stop(chunk) is not None:
            escaped = self._escaped(chunk, state)
            if escaped is None:
                return False
            text, state = escaped
        size = self.size + len(chunk)
        if size > self.max_size:
            return False
        self.size = size
        self.state = state
        self._parts.append(text)
        pieces = self.pieces  # self.keep(chunk), inlined
        pieces.append(chunk)
        if len(pieces) > JOIN_EVERY:
            self.compact()
        return True

    def _escaped(self, chunk: str, state: int) -> tuple[str, int] | None:
        """For a chunk inside a string (``state``: in it, or in an escape) made of plain
        characters and escapes that cannot end the string: its text and the state
        after it (a scanner may decode such escapes at once); None: ``feed`` must
        read it."""
        return None

    def _run(self, text: str, i: int, end: int, base: int, state: int) -> tuple[int, int, int]:
        """Scan ``text[i:end]`` from ``state`` (``base + i`` is the offset in ``raw()``):
        (index reached, state there, index just past the completing character or -1).
        On an error, ``self.state`` is the state it happened in."""
        raise NotImplementedError

    def _end_string(self) -> int:
        value = "".join(self._parts)
        self._parts.clear()
        if self._in_key:
            self._in_key = False
            self._keys[-1] = value
            return self.AFTER_KEY
        return self._end_value(value)

    def _end_value(self, value: Any) -> int:
        """A value is complete: store it in the innermost container."""
        kind = self._kinds[-1]
        if kind == "[" or kind == "(":
            self._containers[-1].append(value)
        else:
            self._containers[-1][self._keys[-1]] = value
        return self.AFTER_VALUE

    def _token(self) -> str:
        """The token scanned so far, taken out of ``_parts``."""
        token = "".join(self._parts)
        self._parts.clear()
        return token
