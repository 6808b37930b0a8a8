"""Python keyword-argument lists: the call bodies of ``llama4-pythonic``.

``[fetch_row(id=7, cols=['x', 'y']), ping()]``: each call's body, the text after its
``(`` up to and including the matching ``)``, is a list of ``name=literal`` pairs.
``PyKwargsScanner`` validates that text as it arrives in pieces of any size, builds
the JSON value of the arguments on the way (never ``eval``, never ``ast``), and
reports the exact index of the ``)`` that completes the call.  ``PyKwargsCallBody``
(``engine/scanned_islands.py``) wraps it as an island kind (``python_kwargs``).

Theory of operation
-------------------
The scanner is a state machine over a stack of open containers (the call itself,
lists, tuples, dicts), like ``json_engine.JsonScanner``, and shares its rules:

* whitespace, names, digit runs and string bodies are consumed with one compiled
  regex each, so the Python-level cost is per token, not per character; inside a
  string (where almost all argument text lives) one ``search`` for the next quote,
  backslash or line break covers a whole chunk, and a chunk with none of them costs
  O(1) Python steps;
* escapes, numbers, words and the closing quotes of a triple-quoted string are
  validated across chunk boundaries with a few fields of state;
* values are built as their last character is scanned (decoded string pieces are
  joined once, numbers converted once), so total cost is linear in the text whatever
  the chunking, and nothing is re-parsed at completion.

The language (a subset of Python's call syntax; everything else is an error)
---------------------------------------------------------------------------
* ``name=value`` pairs separated by commas, a trailing comma allowed, ``)`` ends the
  list; ``f()`` gives ``{}``.  Whitespace (space, tab, CR, LF, form feed) may surround
  every token, as inside Python parentheses.  No positional arguments, no ``*``/``**``
  unpacking, no comments, no backslash line continuations outside strings.
* Names: a letter or ``_``, then letters, digits or ``_`` (Unicode letters included,
  without Python's NFKC normalisation).  Python keywords are accepted as names
  (``from='a'``): a tool schema may have such a property and the text is unambiguous.
  A repeated name is an error, as in Python.
* Strings: ``'…'``, ``"…"``, triple-quoted ``'''…'''``/``\"\"\"…\"\"\"`` (line breaks
  allowed), optional prefix ``r``/``u`` (either case; ``b`` and ``f`` are errors).
  Escapes as Python: ``\\\\ \\' \\" \\a \\b \\f \\n \\r \\t \\v``, octal ``\\ooo``,
  ``\\xhh``, ``\\uhhhh``, ``\\Uhhhhhhhh``, ``\\N{name}``, backslash-newline (dropped);
  an unknown escape such as ``\\d`` keeps its backslash.  Two deliberate differences
  from Python: a surrogate pair written as two escapes (``\\ud83d\\ude00``, which
  JSON-trained models write) is one character, a lone surrogate escape is an error;
  and line breaks inside triple-quoted strings are kept verbatim (Python translates
  CR LF to LF).  Adjacent string literals (``'a' 'b'``) are not concatenated: error.
* Numbers: Python's integer and float literals (``7``, ``-3``, ``+1``, ``0x1F``,
  ``0o17``, ``0b1``, ``1_000``, ``00``, ``1.``, ``.5``, ``2e-07``), one optional sign.
  Integers are exact at any length up to Python's int-conversion digit limit;
  a longer one, or a float that overflows (``1e999``), is ``limit_exceeded``.
  Imaginary numbers are errors.
* ``True``/``False``/``None`` -> ``true``/``false``/``null``.
* Lists ``[…]`` and tuples ``(…,)`` become JSON arrays; ``(x)`` is just ``x`` (Python
  parentheses), ``()`` is ``[]``.  Dicts ``{…}`` need string keys (a repeated key keeps
  the last value, as Python and the JSON engine do); sets are errors.

Errors
------
``feed`` raises ``json_engine.JsonSyntaxError`` with code ``invalid_arguments`` (the
text is not such a list) or ``limit_exceeded`` (``max_depth``, ``max_size``, number
limits).  Its ``index`` is the first character at which the text stops being a prefix
of some valid argument list (``f(a=1 b`` -> the ``b``; ``f(x)`` -> the ``)``, since
``x`` could still become ``x=1``; a repeated name -> the character after it), with
three documented exceptions that need a whole token: a surrogate escape that cannot
pair is reported at the last hex digit of the escape that breaks the pair (as the
JSON engine does), an unknown ``\\N{…}`` name at its ``}``, and a number over a limit
at the character after it.  The index never depends on the chunking.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from .json_engine import DEFAULT_MAX_DEPTH, DEFAULT_MAX_SIZE, JsonSyntaxError, describe, fail
from .pylit_numbers import PyNumber

__all__ = ["PyKwargsScanner"]

_LIMIT = "limit_exceeded"

# Scanner states.
_ARG = 0  # an argument name or ")" (after "(" or ",")
_EQUALS = 1  # after a name: "="
_VALUE = 2  # a value must start (after "=" or ":")
_LIST_ITEM = 3  # after "[" or "," in a list: a value or "]"
_TUPLE_ITEM = 4  # after "(" or "," in a tuple: a value or ")"
_DICT_ITEM = 5  # after "{" or "," in a dict: a string key or "}"
_COLON = 6  # after a dict key: ":"
_AFTER = 7  # after a value: "," or the closer of the innermost container
# (States up to _AFTER skip whitespace before their token; the others are inside one.)
_NAME = 8  # inside an argument name
_WORD = 9  # True / False / None, or a string prefix (r, u)
_SIGN = 10  # after "+" or "-": a number
_NUMBER = 11
_OPEN1 = 12  # after an opening quote: a second one may follow
_OPEN2 = 13  # after two quotes: the empty string, or a third quote (triple-quoted)
_STRING = 14
_CLOSE_QUOTES = 15  # triple-quoted: inside a run of quotes that may close the string
_ESCAPE = 16  # after a backslash
_ESCAPE_CR = 17  # after a backslash and CR: an LF may follow (one line break)
_OCTAL = 18
_HEX = 19  # inside \xhh, \uhhhh or \Uhhhhhhhh
_NAMED = 20  # after \N: "{"
_NAMED_BODY = 21  # inside \N{...}
_LOW_BACKSLASH = 22  # after a high surrogate escape: "\" of its low half
_LOW_U = 23  # after that backslash: "u" or "U"
_DONE = 24


_skip_ws = re.compile(r"[ \t\n\r\f]*").match
_name_run = re.compile(r"\w*").match
_name_start = re.compile(r"[^\W\d]").match
_word_run = re.compile(r"[A-Za-z0-9_]*").match
_hex = re.compile(r"[0-9a-fA-F]{1,8}").match
_uname_run = re.compile(r"[A-Za-z0-9 \-]*").match
_STOPS: dict[tuple[str, bool], Callable[..., re.Match[str] | None]] = {
    ("'", False): re.compile(r"['\\\n\r]").search,
    ('"', False): re.compile(r'["\\\n\r]').search,
    ("'", True): re.compile(r"['\\]").search,
    ('"', True): re.compile(r'["\\]').search,
}
_DIGITS = frozenset("0123456789")
_OCT_DIGITS = frozenset("01234567")
_QUOTES = frozenset("'\"")
_WORD_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_SIMPLE_ESCAPES = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}
_HEX_LENGTH = {"x": 2, "u": 4, "U": 8}
_CONSTANTS: dict[str, Any] = {"True": True, "False": False, "None": None}
_STRING_PREFIXES = frozenset("rRuU")
_VALUE_WORDS = frozenset(w[:k] for w in (*_CONSTANTS, *_STRING_PREFIXES) for k in range(1, 6))
_KEY_WORDS = _STRING_PREFIXES
_CLOSERS = {"K": ")", "[": "]", "(": ")", "{": "}"}
_MAX_UNICODE_NAME = 128
"""Longest ``\\N{...}`` name accepted (the longest Unicode character name has 88
characters)."""
_JOIN_EVERY = 512


class PyKwargsScanner:
    """Validate ``name=literal, …)`` incrementally and build its JSON value; see the
    module docstring.

    ``feed(text, start, end)`` consumes ``text[start:end]`` and returns the index just
    past the ``)`` that completes the argument list, or -1 when it needs more input.
    """

    __slots__ = (
        "_blocks",
        "_containers",
        "_esc_digits",
        "_esc_kind",
        "_esc_value",
        "_high",
        "_in_key",
        "_keys",
        "_kinds",
        "_num",
        "_parts",
        "_qcount",
        "_quote",
        "_raw",
        "_stop",
        "_triple",
        "_word",
        "arguments",
        "max_depth",
        "max_size",
        "pieces",
        "size",
        "state",
        "value_start",
    )

    def __init__(
        self, *, max_depth: int = DEFAULT_MAX_DEPTH, max_size: int = DEFAULT_MAX_SIZE
    ) -> None:
        self.max_depth = max_depth
        """Nesting limit; the argument list itself is level 1, as a JSON arguments
        object is."""
        self.max_size = max_size
        """Largest text in characters, the closing ``)`` included."""
        self.state = _ARG
        self.size = 0
        """Characters consumed so far."""
        self.value_start = 0
        """Offset of the value's first character: the text starts with it."""
        self.arguments: dict[str, Any] = {}
        """The arguments built so far (complete once ``done``)."""
        self.pieces: list[str] = []
        self._blocks: list[str] = []
        # The open containers, innermost last: kind ("K" the call, "[", "(", "{"),
        # the container, and per kind the pending argument name ("K"), the pending
        # key ("{") or whether a comma was seen ("(": a tuple, not parentheses).
        self._kinds: list[str] = ["K"]
        self._containers: list[Any] = [self.arguments]
        self._keys: list[Any] = [None]
        self._parts: list[str] = []
        """Text of the token being scanned: a name, a number, a decoded string."""
        self._in_key = False
        self._quote = ""
        self._triple = False
        self._raw = False
        self._stop: Callable[..., re.Match[str] | None] | None = None
        self._qcount = 0
        self._esc_kind = ""
        self._esc_value = 0
        self._esc_digits = 0
        self._high = -1
        self._word = ""
        self._num = PyNumber()

    # -- results ---------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.state == _DONE

    def raw(self) -> str:
        """Everything consumed, as it arrived (the closing ``)`` included)."""
        if self.pieces:
            self._blocks.append("".join(self.pieces))
            self.pieces.clear()
        if len(self._blocks) > 1:
            self._blocks[:] = ["".join(self._blocks)]
        return self._blocks[0] if self._blocks else ""

    def value(self) -> dict[str, Any]:
        """The arguments as a JSON object (a dict of JSON values)."""
        return self.arguments

    def finish(self) -> bool:
        """End of input: True if the list is complete (only its ``)`` completes it)."""
        return self.state == _DONE

    def expected(self) -> str:
        """What the scanner is waiting for, for truncation messages."""
        state = self.state
        if state == _AFTER:
            return f"',' or {_CLOSERS[self._kinds[-1]]!r}"
        if state == _WORD:
            return "a string" if self._in_key else "True, False, None or a string"
        return _EXPECTED[state]

    # -- scanning --------------------------------------------------------------

    def feed(self, text: str, start: int, end: int) -> int:
        stop = self._stop
        if self.state == _STRING and stop is not None and stop(text, start, end) is None:
            # Hot path: a chunk wholly inside a string.
            size = self.size + end - start
            if size > self.max_size:
                self._too_big(end - (size - self.max_size))
            piece = text[start:end]
            self._parts.append(piece)
            self.pieces.append(piece)
            self.size = size
            if len(self.pieces) > _JOIN_EVERY:
                self._blocks.append("".join(self.pieces))
                self.pieces.clear()
            return -1
        return self._scan(text, start, end)

    def _too_big(self, index: int) -> None:
        raise JsonSyntaxError(_LIMIT, index, f"arguments longer than {self.max_size} characters")

    def _scan(self, text: str, start: int, end: int) -> int:
        base = self.size - start  # offset in raw() of text index i is base + i
        given_end = end
        if base + end > self.max_size:
            end = max(start, self.max_size - base)
        i = start
        state = self.state
        parts = self._parts
        result = -1
        try:
            while i < end:
                if state == _STRING:
                    stop = self._stop
                    assert stop is not None
                    m = stop(text, i, end)
                    if m is None:
                        parts.append(text[i:end])
                        i = end
                        break
                    j = m.start()
                    if j > i:
                        parts.append(text[i:j])
                    c = text[j]
                    if c == "\\":
                        i = j + 1
                        state = _ESCAPE
                    elif c == self._quote:
                        if self._triple:
                            i = j
                            self._qcount = 0
                            state = _CLOSE_QUOTES
                        else:
                            i = j + 1
                            state = self._end_string()
                    else:
                        raise fail(j, "a line break inside a string that is not triple-quoted")
                    continue
                if state <= _AFTER:
                    # Structural states: skip whitespace first.
                    i = _skip_ws(text, i, end).end()  # type: ignore[union-attr]  # `*` always matches
                    if i >= end:
                        break
                    c = text[i]
                    if state == _AFTER:
                        kind = self._kinds[-1]
                        if c == ",":
                            i += 1
                            if kind == "K":
                                state = _ARG
                            elif kind == "[":
                                state = _LIST_ITEM
                            elif kind == "{":
                                state = _DICT_ITEM
                            else:
                                self._keys[-1] = True
                                state = _TUPLE_ITEM
                        elif c == _CLOSERS[kind]:
                            i += 1
                            if kind == "K":
                                state = _DONE
                                result = i
                                break
                            state = self._close()
                        else:
                            raise fail(
                                i,
                                f"expected ',' or {_CLOSERS[kind]!r}, found {describe(c)}",
                            )
                        continue
                    if state == _ARG:
                        if c == ")":
                            i += 1
                            state = _DONE
                            result = i
                            break
                        if _name_start(c) is None:
                            raise fail(i, _not_a_name(c))
                        parts.clear()
                        state = _NAME
                        continue
                    if state == _EQUALS:
                        if c != "=":
                            raise fail(
                                i,
                                f"expected '=' after the argument name {self._keys[0]!r}, "
                                f"found {describe(c)} (positional arguments are not allowed)",
                            )
                        i += 1
                        state = _VALUE
                        continue
                    if state == _COLON:
                        if c != ":":
                            raise fail(i, f"expected ':', found {describe(c)}")
                        i += 1
                        state = _VALUE
                        continue
                    if state == _DICT_ITEM:
                        if c == "}":
                            i += 1
                            state = self._close()
                        elif c in _QUOTES:
                            self._in_key = True
                            self._open_string(c, False)
                            i += 1
                            state = _OPEN1
                        elif c in _STRING_PREFIXES:
                            self._in_key = True
                            self._word = ""
                            state = _WORD
                        else:
                            raise fail(i, f"expected a string key or '}}', found {describe(c)}")
                        continue
                    if (state == _LIST_ITEM and c == "]") or (state == _TUPLE_ITEM and c == ")"):
                        i += 1
                        state = self._close()
                        continue
                    # _VALUE, _LIST_ITEM, _TUPLE_ITEM: a value starts here.
                    if c in _QUOTES:
                        self._open_string(c, False)
                        i += 1
                        state = _OPEN1
                    elif c in _DIGITS or c == ".":
                        self._num.start(negative=False)
                        state = _NUMBER
                    elif c in _WORD_START:
                        self._word = ""
                        state = _WORD
                    elif c == "[" or c == "(" or c == "{":
                        if len(self._kinds) >= self.max_depth:
                            raise JsonSyntaxError(
                                _LIMIT, i, f"nesting deeper than {self.max_depth}"
                            )
                        self._kinds.append(c)
                        self._containers.append({} if c == "{" else [])
                        self._keys.append(False if c == "(" else None)
                        i += 1
                        state = _LIST_ITEM if c == "[" else _TUPLE_ITEM if c == "(" else _DICT_ITEM
                    elif c == "-" or c == "+":
                        self._num.negative = c == "-"
                        i += 1
                        state = _SIGN
                    else:
                        raise fail(i, f"expected a value, found {describe(c)}")
                    continue
                if state == _NAME:
                    j = _name_run(text, i, end).end()  # type: ignore[union-attr]  # `*` always matches
                    parts.append(text[i:j])
                    i = j
                    if i >= end:
                        break
                    name = "".join(parts)
                    parts.clear()
                    if name in self.arguments:
                        raise fail(i, f"argument {name!r} given twice")
                    self._keys[0] = name
                    state = _EQUALS
                    continue
                if state == _OPEN1:
                    if text[i] == self._quote:
                        i += 1
                        state = _OPEN2
                    else:
                        state = _STRING
                    continue
                if state == _OPEN2:
                    if text[i] == self._quote:
                        i += 1
                        self._triple = True
                        self._stop = _STOPS[(self._quote, True)]
                        state = _STRING
                    else:
                        state = self._end_string()
                    continue
                if state == _CLOSE_QUOTES:
                    q = self._quote
                    n = self._qcount
                    while i < end and n < 3 and text[i] == q:
                        n += 1
                        i += 1
                    if n == 3:
                        self._qcount = 0
                        state = self._end_string()
                    elif i < end:
                        parts.append(q * n)
                        self._qcount = 0
                        state = _STRING
                    else:
                        self._qcount = n
                    continue
                if state == _ESCAPE:
                    c = text[i]
                    i += 1
                    if self._raw:
                        parts.append("\\" + c)
                        state = _ESCAPE_CR if c == "\r" else _STRING
                        continue
                    simple = _SIMPLE_ESCAPES.get(c)
                    if simple is not None:
                        parts.append(simple)
                        state = _STRING
                    elif c == "\n":
                        state = _STRING  # a line continuation: dropped
                    elif c == "\r":
                        state = _ESCAPE_CR
                    elif c in _OCT_DIGITS:
                        self._esc_value = int(c)
                        self._esc_digits = 1
                        state = _OCTAL
                    elif c in _HEX_LENGTH:
                        self._esc_kind = c
                        self._esc_value = 0
                        self._esc_digits = 0
                        state = _HEX
                    elif c == "N":
                        state = _NAMED
                    else:
                        parts.append("\\" + c)  # unknown escape: kept, as Python does
                        state = _STRING
                    continue
                if state == _ESCAPE_CR:
                    if text[i] == "\n":
                        i += 1
                        if self._raw:
                            parts.append("\n")
                    state = _STRING
                    continue
                if state == _OCTAL:
                    c = text[i]
                    if c in _OCT_DIGITS:
                        i += 1
                        self._esc_value = self._esc_value * 8 + int(c)
                        self._esc_digits += 1
                        if self._esc_digits < 3:
                            continue
                    parts.append(chr(self._esc_value))
                    state = _STRING
                    continue
                if state == _HEX:
                    i, state = self._hex_digits(text, i, end)
                    continue
                if state == _NAMED:
                    if text[i] != "{":
                        raise fail(i, f"expected '{{' after \\N, found {describe(text[i])}")
                    i += 1
                    self._word = ""
                    state = _NAMED_BODY
                    continue
                if state == _NAMED_BODY:
                    j = _uname_run(text, i, end).end()  # type: ignore[union-attr]  # `*` always matches
                    room = _MAX_UNICODE_NAME - len(self._word)
                    if j - i > room:
                        raise fail(i + room, "character name in \\N{...} too long")
                    self._word += text[i:j]
                    i = j
                    if i >= end:
                        break
                    if text[i] != "}":
                        raise fail(i, f"invalid character {describe(text[i])} in a \\N{{...}} name")
                    try:
                        char = unicodedata.lookup(self._word)
                    except KeyError:
                        char = ""
                    if len(char) != 1:
                        raise fail(i, f"unknown Unicode character name {self._word!r}")
                    parts.append(char)
                    i += 1
                    state = _STRING
                    continue
                if state == _LOW_BACKSLASH:
                    if text[i] != "\\":
                        raise fail(i, "unpaired surrogate escape (expected its low half)")
                    i += 1
                    state = _LOW_U
                    continue
                if state == _LOW_U:
                    c = text[i]
                    if c != "u" and c != "U":
                        raise fail(i, "unpaired surrogate escape (expected its low half)")
                    i += 1
                    self._esc_kind = c
                    self._esc_value = 0
                    self._esc_digits = 0
                    state = _HEX
                    continue
                if state == _NUMBER:
                    i, finished = self._num.advance(text, i, end)
                    if finished:
                        state = self._end_value(self._num.value(i))
                    continue
                if state == _SIGN:
                    i = _skip_ws(text, i, end).end()  # type: ignore[union-attr]  # `*` always matches
                    if i >= end:
                        break
                    c = text[i]
                    if not (c in _DIGITS or c == "."):
                        raise fail(i, f"expected a number after the sign, found {describe(c)}")
                    self._num.start(negative=self._num.negative)
                    state = _NUMBER
                    continue
                if state == _WORD:
                    i, state = self._scan_word(text, i, end)
                    continue
                raise AssertionError(f"unhandled scanner state {state}")  # pragma: no cover
            if result < 0 and end < given_end:
                self._too_big(end)
        except JsonSyntaxError:
            self.state = state
            raise
        stop_at = result if result >= 0 else i
        if stop_at > start:
            self.pieces.append(text[start:stop_at])
            if len(self.pieces) > _JOIN_EVERY:
                self._blocks.append("".join(self.pieces))
                self.pieces.clear()
        self.size = base + stop_at
        self.state = state
        return result

    # -- tokens ----------------------------------------------------------------

    def _open_string(self, quote: str, raw: bool) -> None:
        self._quote = quote
        self._raw = raw
        self._triple = False
        self._stop = _STOPS[(quote, False)]
        self._parts.clear()

    def _end_string(self) -> int:
        value = "".join(self._parts)
        self._parts.clear()
        self._stop = None
        if self._in_key:
            self._in_key = False
            self._keys[-1] = value
            return _COLON
        return self._end_value(value)

    def _end_value(self, value: Any) -> int:
        """A value is complete: store it in the innermost container."""
        kind = self._kinds[-1]
        if kind == "[" or kind == "(":
            self._containers[-1].append(value)
        else:
            self._containers[-1][self._keys[-1]] = value
        return _AFTER

    def _close(self) -> int:
        """The innermost list, tuple or dict closed: it is a value of its parent."""
        kind = self._kinds.pop()
        value = self._containers.pop()
        had_comma = self._keys.pop()
        if kind == "(" and not had_comma and len(value) == 1:
            value = value[0]  # (x) is x: parentheses, not a tuple
        return self._end_value(value)

    def _scan_word(self, text: str, i: int, end: int) -> tuple[int, int]:
        """True / False / None, or the prefix of a string; (index, next state)."""
        j = _word_run(text, i, end).end()  # type: ignore[union-attr]  # `*` always matches
        if j > i:
            word = self._word
            valid = _KEY_WORDS if self._in_key else _VALUE_WORDS
            for k in range(i, j):  # at most six rounds: no valid word is longer than five
                word += text[k]
                if word not in valid:
                    what = "a string key" if self._in_key else "a value"
                    raise fail(k, f"expected {what}, found the name {word!r}")
            self._word = word
            i = j
        if i >= end:
            return i, _WORD
        c = text[i]
        word = self._word
        if word in _CONSTANTS and not self._in_key:
            return i, self._end_value(_CONSTANTS[word])
        if word in _STRING_PREFIXES and c in _QUOTES:
            self._open_string(c, word in "rR")
            return i + 1, _OPEN1
        if word in _STRING_PREFIXES:
            raise fail(i, f"expected a quote after the string prefix {word!r}, found {describe(c)}")
        raise fail(i, f"expected a value, found the incomplete name {word!r}")

    def _hex_digits(self, text: str, i: int, end: int) -> tuple[int, int]:
        """Digits of a \\x, \\u or \\U escape; (index, next state)."""
        kind = self._esc_kind
        length = _HEX_LENGTH[kind]
        m = _hex(text, i, min(end, i + length - self._esc_digits))
        if m is None:
            raise fail(i, f"expected a hex digit, found {describe(text[i])}")
        value = self._esc_value
        digits = self._esc_digits
        for k in range(i, m.end()):
            value = value * 16 + int(text[k], 16)
            digits += 1
            if kind == "U" and value << (4 * (8 - digits)) > 0x10FFFF:
                raise fail(k, "\\U escape beyond U+10FFFF")
        self._esc_value = value
        self._esc_digits = digits
        i = m.end()
        if digits < length:
            return i, _HEX
        if kind == "x":
            self._parts.append(chr(value))
            return i, _STRING
        high = self._high
        if high >= 0:
            if not 0xDC00 <= value <= 0xDFFF:
                raise fail(i - 1, "unpaired surrogate escape")
            self._high = -1
            self._parts.append(chr(0x10000 + ((high - 0xD800) << 10) + (value - 0xDC00)))
            return i, _STRING
        if 0xD800 <= value <= 0xDBFF:
            self._high = value
            return i, _LOW_BACKSLASH
        if 0xDC00 <= value <= 0xDFFF:
            raise fail(i - 1, "unpaired surrogate escape")
        self._parts.append(chr(value))
        return i, _STRING


_EXPECTED = {
    _ARG: "an argument name or ')'",
    _NAME: "'='",
    _EQUALS: "'='",
    _VALUE: "a value",
    _LIST_ITEM: "a value or ']'",
    _TUPLE_ITEM: "a value or ')'",
    _DICT_ITEM: "a string key or '}'",
    _COLON: "':'",
    _SIGN: "a number",
    _NUMBER: "more of a number",
    _OPEN1: "the end of a string",
    _OPEN2: "the end of a string",
    _STRING: "the end of a string",
    _CLOSE_QUOTES: "the end of a string",
    _ESCAPE: "an escape",
    _ESCAPE_CR: "the end of a string",
    _OCTAL: "the end of a string",
    _HEX: "hex digits",
    _NAMED: "'{'",
    _NAMED_BODY: "'}'",
    _LOW_BACKSLASH: "a low surrogate escape",
    _LOW_U: "a low surrogate escape",
    _DONE: "nothing",
}


def _not_a_name(c: str) -> str:
    if c == "*":
        return "argument unpacking (* or **) is not allowed"
    return (
        f"expected an argument name or ')', found {describe(c)} "
        "(only keyword arguments name=value are allowed)"
    )
