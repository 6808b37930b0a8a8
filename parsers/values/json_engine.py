"""The incremental JSON engine every format and provider hands argument text to.

Theory of operation
-------------------
``JsonScanner`` validates one JSON value (RFC 8259, strict) as its text arrives in
pieces of any size, and reports the exact index at which the top-level value
completes.  It never looks at a character twice:

* a state machine over a container stack decides what may come next; whitespace,
  digit runs and string bodies are consumed with one compiled regex each, so the
  Python-level cost is per token, not per character;
* inside a string, which is where almost all argument text lives, one ``search`` for
  the next quote, backslash or control character covers a whole chunk; a chunk with
  none of them is consumed in O(1) Python steps (the hot path of streaming);
* escapes, ``\\u`` sequences (surrogates must pair), numbers and literals are
  validated across chunk boundaries with a few bytes of state.

The text is kept as it arrived (``raw``); the value is built once, at completion, by
``json.loads`` (C speed), which the scan has already proven to be strict JSON.  Total
cost is linear in the text whatever the chunking.

Why not ijson: its C backend holds a top-level number until end of input, reports no
character offset for errors, and costs quadratic time when one long string is dripped
into it in small pieces; string bodies dominate argument text, so scanning them
ourselves is both faster and exact.

Documented outcomes: duplicate keys keep the last value (``json.loads``); unpaired
surrogate escapes (``"\\ud800"``) are ``invalid_json``; numbers are exact integers
of any length up to Python's 4300-digit conversion limit and floats otherwise, a
float that overflows (``1e999``) or a longer integer is ``limit_exceeded``.

Top-level members of an object are tracked (key, value span) so that formats whose
body is an envelope (``{"name": ..., "arguments": {...}}``) can pick the arguments
value out of the raw text without re-parsing it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .literals import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_SIZE,
    JOIN_EVERY,
    JsonSyntaxError,
    KeptText,
    describe,
    reject_float,
)

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_SIZE",
    "STRING_STATE",
    "JsonScanner",
    "JsonSyntaxError",
    "escaped_run",
    "string_stop",
]

# Scanner states.
_VALUE = 0  # a value must start here (after ws)
_ARRAY_FIRST = 1  # after "[": a value or "]"
_OBJECT_FIRST = 2  # after "{": a key or "}"
_OBJECT_KEY = 3  # after "," in an object: a key
_COLON = 4  # after a key: ":"
_AFTER = 5  # after a value inside a container: "," or the closer
_STRING = 6  # inside a string
_ESCAPE = 7  # after a backslash
_UNICODE = 8  # inside \uXXXX
_LOW_BACKSLASH = 9  # after a high surrogate escape: "\" of its low half
_LOW_U = 10  # after that backslash: "u"
_NUMBER = 11
_LITERAL = 12
_DONE = 13

_skip_ws = re.compile(r"[ \t\n\r]*").match
_string_stop = re.compile(r'["\\\x00-\x1f]').search
string_stop = _string_stop
"""``search`` for the next character that ends a plain run inside a string."""
escaped_run = re.compile(r'[^"\\\x00-\x1f]*(?:\\["\\/bfnrt][^"\\\x00-\x1f]*)*(\\)?').fullmatch
"""``fullmatch`` of text inside a string, outside an escape, that holds only plain
characters and complete simple escapes, possibly ending with the lone backslash of
the next escape (group 1).  ``\\u`` escapes are left to the scanner: they need
surrogate pairing."""
STRING_STATE = _STRING
_digits = re.compile(r"[0-9]*").match
_hex = re.compile(r"[0-9a-fA-F]{1,4}").match

_SIMPLE_ESCAPES = frozenset('"\\/bfnrt')
_LITERALS = {"t": "true", "f": "false", "n": "null"}
_DIGITS = frozenset("0123456789")
_NUMBER_END_OK = frozenset((2, 3, 5, 8))


class JsonScanner(KeptText):
    """Validate one JSON value incrementally; see the module docstring.

    ``feed(text, start, end)`` consumes ``text[start:end]`` and returns the index just
    past the character that completed the value, or -1 when it needs more input.
    """

    __slots__ = (
        "_capture_keys",
        "_capture_next",
        "_hex_digits",
        "_key_parts",
        "_literal",
        "_number_state",
        "_pending_high",
        "_string_member_key",
        "capture_end",
        "capture_start",
        "member_start",
        "members",
        "stack",
        "string_is_key",
    )

    def __init__(
        self,
        *,
        max_depth: int = DEFAULT_MAX_DEPTH,
        max_size: int = DEFAULT_MAX_SIZE,
        capture_keys: frozenset[str] | None = None,
    ) -> None:
        super().__init__(max_depth, max_size, _VALUE)
        self.stack: list[str] = []
        self.value_start = -1
        """Offset in ``raw`` of the value's first character."""
        self.members: list[tuple[str, int, int]] = []
        """Completed top-level members: (key, value start, value end) in ``raw``."""
        self.member_start = -1
        self.capture_start = -1
        """Offset in ``raw`` where the captured value starts (-1: not yet)."""
        self.capture_end = -1
        """Offset in ``raw`` just past the captured value (-1: not yet)."""
        # capture_keys None: capture the whole value; else the first top-level member
        # whose key is in the set.
        self._capture_keys = capture_keys
        self._capture_next = False
        self.string_is_key = False
        self._string_member_key = False
        self._key_parts: list[str] = []
        self._hex_digits = ""
        self._pending_high = False
        self._number_state = 0
        self._literal = ""

    # -- results ---------------------------------------------------------------

    def set_escape(self, pending: bool) -> None:
        """The driver's hot path consumed a trailing backslash (pending) or the
        character that completes it."""
        self.state = _ESCAPE if pending else _STRING

    @property
    def in_value_string(self) -> bool:
        """Inside a string that is a value, not a key."""
        return self.state == _STRING and not self.string_is_key

    @property
    def done(self) -> bool:
        return self.state == _DONE

    def value(self) -> Any:
        """The completed value, parsed once.  Raises JsonSyntaxError (index -1) for the
        documented numeric limits."""
        text = self.raw()[self.value_start :]
        try:
            return json.loads(text, parse_float=reject_float)
        except ValueError as exc:  # int digit limit, float overflow
            raise JsonSyntaxError("limit_exceeded", -1, str(exc)) from None

    def capture_whole(self) -> None:
        """From now on the captured value is the whole top-level value."""
        self._capture_keys = None
        self._capture_next = False
        self.capture_start = self.value_start
        self.capture_end = -1  # a member captured before the shape was known

    def finish(self) -> bool:
        """End of input: a top-level number completes here.  True if the value is
        complete."""
        if self.state == _NUMBER and not self.stack and self._number_state in _NUMBER_END_OK:
            self.state = _DONE
        return self.state == _DONE

    def expected(self) -> str:
        """What the scanner is waiting for, for truncation messages."""
        return {
            _VALUE: "a value",
            _ARRAY_FIRST: "a value or ']'",
            _OBJECT_FIRST: "a key or '}'",
            _OBJECT_KEY: "a key",
            _COLON: "':'",
            _AFTER: "',' or '" + ("}" if self.stack and self.stack[-1] == "{" else "]") + "'",
            _STRING: "the end of a string",
            _ESCAPE: "an escape",
            _UNICODE: "hex digits",
            _LOW_BACKSLASH: "a low surrogate escape",
            _LOW_U: "a low surrogate escape",
            _NUMBER: "more digits",
            _LITERAL: repr(self._literal),
            _DONE: "nothing",
        }[self.state]

    # -- scanning --------------------------------------------------------------

    def feed(self, text: str, start: int, end: int) -> int:
        if (
            self.state == _STRING
            and not self.string_is_key
            and _string_stop(text, start, end) is None
        ):
            # Hot path: a chunk wholly inside a string value.
            size = self.size + end - start
            if size > self.max_size:
                self.too_big(end - (size - self.max_size))
            self.append(text[start:end], size)
            return -1
        return self._scan(text, start, end)

    def append(self, piece: str, size: int) -> None:
        """Keep ``piece``, already validated as plain string characters; ``size`` is
        the new total."""
        pieces = self.pieces
        pieces.append(piece)
        self.size = size
        if len(pieces) > JOIN_EVERY:
            self.compact()

    def _scan(self, text: str, start: int, end: int) -> int:
        base = self.size - start  # raw offset of text index i is base + i
        given_end = end
        if base + end > self.max_size:
            end = max(start, self.max_size - base)
        i = start
        state = self.state
        stack = self.stack
        result = -1
        try:
            while i < end:
                if state == _STRING:
                    m = _string_stop(text, i, end)
                    if m is None:
                        if self.string_is_key and self._string_member_key:
                            self._key_parts.append(text[i:end])
                        i = end
                        break
                    j = m.start()
                    if self.string_is_key and self._string_member_key and j > i:
                        self._key_parts.append(text[i:j])
                    c = text[j]
                    if c == '"':
                        i = j + 1
                        if self.string_is_key:
                            if self._string_member_key:
                                self._end_member_key()
                            state = _COLON
                        else:
                            state = self._end_value(base + i)
                            if state == _DONE:
                                result = i
                                break
                    elif c == "\\":
                        if self.string_is_key and self._string_member_key:
                            self._key_parts.append("\\")
                        i = j + 1
                        state = _ESCAPE
                    else:
                        raise JsonSyntaxError(
                            "invalid_json", j, f"unescaped control character {describe(c)}"
                        )
                    continue
                if state == _ESCAPE:
                    c = text[i]
                    if c in _SIMPLE_ESCAPES:
                        self._key_char(c)
                        i += 1
                        state = _STRING
                    elif c == "u":
                        self._key_char(c)
                        i += 1
                        self._hex_digits = ""
                        state = _UNICODE
                    else:
                        raise JsonSyntaxError("invalid_json", i, f"invalid escape \\{c}")
                    continue
                if state == _UNICODE:
                    m2 = _hex(text, i, min(end, i + 4 - len(self._hex_digits)))
                    if m2 is None:
                        raise JsonSyntaxError(
                            "invalid_json", i, f"expected a hex digit, found {describe(text[i])}"
                        )
                    digits = m2.group()
                    self._key_char(digits)
                    self._hex_digits += digits
                    i = m2.end()
                    if len(self._hex_digits) < 4:
                        continue
                    code = int(self._hex_digits, 16)
                    if self._pending_high:
                        if not 0xDC00 <= code <= 0xDFFF:
                            raise JsonSyntaxError(
                                "invalid_json", i - 1, "unpaired surrogate escape"
                            )
                        self._pending_high = False
                        state = _STRING
                    elif 0xD800 <= code <= 0xDBFF:
                        self._pending_high = True
                        state = _LOW_BACKSLASH
                    elif 0xDC00 <= code <= 0xDFFF:
                        raise JsonSyntaxError("invalid_json", i - 1, "unpaired surrogate escape")
                    else:
                        state = _STRING
                    continue
                if state in (_LOW_BACKSLASH, _LOW_U):
                    want = "\\" if state == _LOW_BACKSLASH else "u"
                    if text[i] != want:
                        raise JsonSyntaxError("invalid_json", i, "unpaired surrogate escape")
                    self._key_char(want)
                    i += 1
                    if state == _LOW_BACKSLASH:
                        state = _LOW_U
                    else:
                        self._hex_digits = ""
                        state = _UNICODE
                    continue
                if state == _NUMBER:
                    i, finished = self._number(text, i, end)
                    if finished:
                        state = self._end_value(base + i)
                        if state == _DONE:
                            result = i
                            break
                    continue
                if state == _LITERAL:
                    literal = self._literal
                    c = text[i]
                    if c != literal[0]:
                        raise JsonSyntaxError(
                            "invalid_json", i, f"invalid literal: expected {literal[0]!r}"
                        )
                    i += 1
                    self._literal = literal = literal[1:]
                    if not literal:
                        state = self._end_value(base + i)
                        if state == _DONE:
                            result = i
                            break
                    continue
                # Structural states: skip whitespace first.
                i = _skip_ws(text, i, end).end()  # type: ignore[union-attr]  # `*` always matches
                if i >= end:
                    break
                c = text[i]
                if state == _AFTER:
                    top = stack[-1]
                    if c == ",":
                        state = _OBJECT_KEY if top == "{" else _VALUE
                        i += 1
                    elif (c == "}" and top == "{") or (c == "]" and top == "["):
                        stack.pop()
                        i += 1
                        state = self._end_value(base + i)
                        if state == _DONE:
                            result = i
                            break
                    else:
                        closer = "}" if top == "{" else "]"
                        raise JsonSyntaxError(
                            "invalid_json", i, f"expected ',' or {closer!r}, found {describe(c)}"
                        )
                    continue
                if state == _COLON:
                    if c != ":":
                        raise JsonSyntaxError(
                            "invalid_json", i, f"expected ':', found {describe(c)}"
                        )
                    i += 1
                    state = _VALUE
                    continue
                if state in (_OBJECT_FIRST, _OBJECT_KEY):
                    if c == '"':
                        i += 1
                        self.string_is_key = True
                        self._string_member_key = len(stack) == 1
                        if self._string_member_key:
                            self._key_parts.clear()
                        state = _STRING
                    elif c == "}" and state == _OBJECT_FIRST:
                        stack.pop()
                        i += 1
                        state = self._end_value(base + i)
                        if state == _DONE:
                            result = i
                            break
                    else:
                        what = "a key" if state == _OBJECT_KEY else "a key or '}'"
                        raise JsonSyntaxError(
                            "invalid_json", i, f"expected {what}, found {describe(c)}"
                        )
                    continue
                if state == _ARRAY_FIRST and c == "]":
                    stack.pop()
                    i += 1
                    state = self._end_value(base + i)
                    if state == _DONE:
                        result = i
                        break
                    continue
                # _VALUE or _ARRAY_FIRST with a value: start it.
                self._start_value(base + i)
                if c == "{" or c == "[":
                    if len(stack) >= self.max_depth:
                        self.too_deep(i)
                    stack.append(c)
                    state = _OBJECT_FIRST if c == "{" else _ARRAY_FIRST
                    i += 1
                elif c == '"':
                    self.string_is_key = False
                    state = _STRING
                    i += 1
                elif c == "-" or c in _DIGITS:
                    self._number_state = 0
                    state = _NUMBER
                elif c in _LITERALS:
                    self._literal = _LITERALS[c]
                    state = _LITERAL
                else:
                    raise JsonSyntaxError(
                        "invalid_json", i, f"expected a value, found {describe(c)}"
                    )
            if result < 0 and end < given_end:
                self.too_big(end)
        except JsonSyntaxError:
            self.state = state
            raise
        stop = result if result >= 0 else i
        if stop > start:
            self.pieces.append(text[start:stop])
        self.size = base + stop
        self.state = state
        return result

    def _key_char(self, c: str) -> None:
        if self.string_is_key and self._string_member_key:
            self._key_parts.append(c)

    def _number(self, text: str, i: int, end: int) -> tuple[int, bool]:
        """Advance the number automaton; (index, finished).  Finished means text[i] is
        the first character after the number."""
        st = self._number_state
        while i < end:
            c = text[i]
            if st == 3 or st == 5 or st == 8:
                i = _digits(text, i, end).end()  # type: ignore[union-attr]  # `*` always matches
                if i >= end:
                    break
                c = text[i]
                if st == 8:
                    self._number_state = st
                    return i, True
                if c == ".":
                    if st == 5:
                        self._number_state = st
                        return i, True
                    st = 4
                elif c in "eE":
                    st = 6
                else:
                    self._number_state = st
                    return i, True
            elif st == 0:
                if c == "-":
                    st = 1
                elif c == "0":
                    st = 2
                else:
                    st = 3
            elif st == 1:
                if c == "0":
                    st = 2
                elif c in _DIGITS:
                    st = 3
                else:
                    raise JsonSyntaxError(
                        "invalid_json", i, f"expected a digit, found {describe(c)}"
                    )
            elif st == 2:
                if c == ".":
                    st = 4
                elif c in "eE":
                    st = 6
                elif c in _DIGITS:
                    raise JsonSyntaxError("invalid_json", i, "leading zero in a number")
                else:
                    self._number_state = st
                    return i, True
            elif st == 4:
                if c not in _DIGITS:
                    raise JsonSyntaxError(
                        "invalid_json", i, f"expected a digit, found {describe(c)}"
                    )
                st = 5
            elif st == 6:
                if c in "+-":
                    st = 7
                elif c in _DIGITS:
                    st = 8
                else:
                    raise JsonSyntaxError(
                        "invalid_json", i, f"expected a digit, found {describe(c)}"
                    )
            else:  # st == 7
                if c not in _DIGITS:
                    raise JsonSyntaxError(
                        "invalid_json", i, f"expected a digit, found {describe(c)}"
                    )
                st = 8
            i += 1
        self._number_state = st
        return i, False

    def _start_value(self, offset: int) -> None:
        depth = len(self.stack)
        if depth == 0:
            self.value_start = offset
            if self._capture_keys is None:
                self.capture_start = offset
        elif depth == 1 and self.stack[0] == "{":
            self.member_start = offset
            if self._capture_next:
                self.capture_start = offset

    def _end_value(self, offset: int) -> int:
        """A value ended at raw ``offset``; the next state."""
        depth = len(self.stack)
        if depth == 0:
            if self._capture_keys is None:
                self.capture_end = offset
            return _DONE
        if depth == 1 and self.stack[0] == "{":
            self.members[-1] = (self.members[-1][0], self.member_start, offset)
            if self._capture_next:
                self._capture_next = False
                self.capture_end = offset
        return _AFTER

    def _end_member_key(self) -> None:
        encoded = "".join(self._key_parts)
        self._key_parts.clear()
        key: str = json.loads('"' + encoded + '"') if "\\" in encoded else encoded
        self.members.append((key, -1, -1))
        if self._capture_keys is not None and self.capture_start < 0 and key in self._capture_keys:
            self._capture_next = True
