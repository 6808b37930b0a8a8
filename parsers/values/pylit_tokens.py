"""Inside one token of a Python literal: strings and their escapes, numbers, words.

The second half of ``pylit`` (its module docstring states the language and the
errors): ``PyKwargsScanner`` scans the structure (argument names, ``=``, commas,
containers) and hands a token's characters here once it knows which kind of token
has started.  ``PyTokenScanner`` holds the few fields that carry a token across
chunk boundaries and the state numbers both halves share.

Theory of operation
-------------------
* Strings: one compiled ``search`` per quote kind (``_STOPS``) finds the next quote,
  backslash or (outside triple quotes) line break, so a string body costs one regex
  call per chunk; escapes are decoded here one escape at a time (``_escape``), with
  ``\\x``/``\\u``/``\\U`` digits counted across chunks and surrogate pairs joined.
* Numbers: an automaton over Python's numeric literal grammar (imaginary excluded)
  whose digit runs are consumed by one regex each; the token's text is converted
  once, at its end, by ``literals.number_value`` (the documented limits).
* Words: ``True``/``False``/``None`` and the string prefixes ``r``/``u`` are matched
  against a set of valid prefixes, so an invalid name fails at its first wrong
  character.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from .literals import ValueBuilder, describe, invalid, number_value

__all__ = ["PyTokenScanner"]

# Scanner states (shared with ``pylit``).
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

# Number automaton states (Python's numeric literal grammar, imaginary excluded).
_N_START = 0
_N_ZERO = 1  # "0", "00", "0_0": an integer, or the start of a float / based integer
_N_ZERO_U = 2
_N_LEADZ = 3  # "01": only valid if it becomes a float ("01.5", "01e3")
_N_LEADZ_U = 4
_N_INT = 5
_N_INT_U = 6
_N_DOT = 7  # a leading "."
_N_FRAC0 = 8  # "1."
_N_FRAC = 9
_N_FRAC_U = 10
_N_EXP0 = 11  # after "e"
_N_EXP_SIGN = 12
_N_EXP = 13
_N_EXP_U = 14
_N_BASE0 = 15  # after "0x" / "0o" / "0b"
_N_BASE_U = 16
_N_BASE = 17
_N_INTEGERS = frozenset((_N_ZERO, _N_INT, _N_BASE))
_N_FLOATS = frozenset((_N_FRAC0, _N_FRAC, _N_EXP))
_N_RUNS = frozenset((_N_LEADZ, _N_INT, _N_FRAC, _N_EXP))

_word_run = re.compile(r"[A-Za-z0-9_]*").match
_digit_run = re.compile(r"[0-9]*").match
_hex = re.compile(r"[0-9a-fA-F]{1,8}").match
_uname_run = re.compile(r"[A-Za-z0-9 \-]*").match
_BASE_RUNS = {
    16: re.compile(r"[0-9a-fA-F]*").match,
    8: re.compile(r"[0-7]*").match,
    2: re.compile(r"[01]*").match,
}
_BASE_DIGITS = {
    16: frozenset("0123456789abcdefABCDEF"),
    8: frozenset("01234567"),
    2: frozenset("01"),
}
_BASES = {"x": 16, "X": 16, "o": 8, "O": 8, "b": 2, "B": 2}
_STOPS: dict[tuple[str, bool], Callable[..., re.Match[str] | None]] = {
    ("'", False): re.compile(r"['\\\n\r]").search,
    ('"', False): re.compile(r'["\\\n\r]').search,
    ("'", True): re.compile(r"['\\]").search,
    ('"', True): re.compile(r'["\\]').search,
}
_DIGITS = frozenset("0123456789")
_OCT_DIGITS = frozenset("01234567")
_QUOTES = frozenset("'\"")
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
_UNESCAPE = re.compile(r"\\(.)").sub
_ESCAPED_RUNS = {
    _STOPS[(quote, triple)]: re.compile(
        rf"([^{quote}\\{'' if triple else chr(10) + chr(13)}]*"
        rf"(?:\\[\\'\"abfnrtv][^{quote}\\{'' if triple else chr(10) + chr(13)}]*)*)"
        r"(\\?)"
    ).fullmatch
    for quote, triple in _STOPS
}
"""Per string kind (by its ``_stop``): ``fullmatch`` of text made of plain characters
and complete simple escapes (group 1), then at most a backslash that opens an escape
(group 2): ``feed_plain`` decodes such a chunk at once."""


def _simple_escape(m: re.Match[str]) -> str:
    return _SIMPLE_ESCAPES[m.group(1)]


_HEX_LENGTH = {"x": 2, "u": 4, "U": 8}
_CONSTANTS: dict[str, Any] = {"True": True, "False": False, "None": None}
_STRING_PREFIXES = frozenset("rRuU")
_VALUE_WORDS = frozenset(w[:k] for w in (*_CONSTANTS, *_STRING_PREFIXES) for k in range(1, 6))
_KEY_WORDS = _STRING_PREFIXES
_CLOSERS = {"K": ")", "[": "]", "(": ")", "{": "}"}
_MAX_UNICODE_NAME = 128
"""Longest ``\\N{...}`` name accepted (the longest Unicode character name has 88
characters)."""


class PyTokenScanner(ValueBuilder):
    """The token-level state of a Python-literal scanner; see the module docstring."""

    __slots__ = (
        "_base",
        "_esc_digits",
        "_esc_kind",
        "_esc_value",
        "_high",
        "_negative",
        "_num_state",
        "_qcount",
        "_quote",
        "_raw",
        "_triple",
        "_word",
    )

    AFTER_VALUE = _AFTER
    AFTER_KEY = _COLON
    STRING = _STRING

    def __init__(self, max_depth: int, max_size: int, state: int) -> None:
        super().__init__(max_depth, max_size, state)
        self._quote = ""
        self._triple = False
        self._raw = False
        self._qcount = 0
        self._esc_kind = ""
        self._esc_value = 0
        self._esc_digits = 0
        self._high = -1
        self._word = ""
        self._num_state = _N_START
        self._negative = False
        self._base = 10

    def _escaped(self, chunk: str, state: int) -> tuple[str, int] | None:
        if self._raw or self._stop is None:
            return None
        lead = ""
        if state == _ESCAPE:  # the escape a backslash at the end of the last chunk opened
            simple = _SIMPLE_ESCAPES.get(chunk[0])
            if simple is None:
                return None
            lead, chunk = simple, chunk[1:]
        elif state != _STRING:
            return None
        m = _ESCAPED_RUNS[self._stop](chunk)
        if m is None:
            return None
        text = lead + _UNESCAPE(_simple_escape, m.group(1))
        return text, _ESCAPE if m.group(2) else _STRING

    def _open_string(self, quote: str, raw: bool) -> None:
        self._quote = quote
        self._raw = raw
        self._triple = False
        self._stop = _STOPS[(quote, False)]
        self._parts.clear()

    def _escape(self, text: str, i: int, end: int, state: int) -> tuple[int, int]:
        """One step inside an escape (``_ESCAPE`` to ``_LOW_U``); (index, next state)."""
        parts = self._parts
        if state == _ESCAPE:
            c = text[i]
            i += 1
            if self._raw:
                parts.append("\\" + c)
                state = _ESCAPE_CR if c == "\r" else _STRING
                return i, state
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
            return i, state
        if state == _ESCAPE_CR:
            if text[i] == "\n":
                i += 1
                if self._raw:
                    parts.append("\n")
            state = _STRING
            return i, state
        if state == _OCTAL:
            c = text[i]
            if c in _OCT_DIGITS:
                i += 1
                self._esc_value = self._esc_value * 8 + int(c)
                self._esc_digits += 1
                if self._esc_digits < 3:
                    return i, state
            parts.append(chr(self._esc_value))
            state = _STRING
            return i, state
        if state == _HEX:
            return self._hex_digits(text, i, end)
        if state == _NAMED:
            if text[i] != "{":
                raise invalid(i, f"expected '{{' after \\N, found {describe(text[i])}")
            i += 1
            self._word = ""
            state = _NAMED_BODY
            return i, state
        if state == _NAMED_BODY:
            j = _uname_run(text, i, end).end()  # type: ignore[union-attr]  # `*` always matches
            room = _MAX_UNICODE_NAME - len(self._word)
            if j - i > room:
                raise invalid(i + room, "character name in \\N{...} too long")
            self._word += text[i:j]
            i = j
            if i >= end:
                return i, state
            if text[i] != "}":
                raise invalid(i, f"invalid character {describe(text[i])} in a \\N{{...}} name")
            try:
                char = unicodedata.lookup(self._word)
            except KeyError:
                char = ""
            if len(char) != 1:
                raise invalid(i, f"unknown Unicode character name {self._word!r}")
            parts.append(char)
            i += 1
            state = _STRING
            return i, state
        if state == _LOW_BACKSLASH:
            if text[i] != "\\":
                raise invalid(i, "unpaired surrogate escape (expected its low half)")
            i += 1
            state = _LOW_U
            return i, state
        if state == _LOW_U:
            c = text[i]
            if c != "u" and c != "U":
                raise invalid(i, "unpaired surrogate escape (expected its low half)")
            i += 1
            self._esc_kind = c
            self._esc_value = 0
            self._esc_digits = 0
            state = _HEX
            return i, state
        raise AssertionError(f"not an escape state {state}")  # pragma: no cover

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
                    raise invalid(k, f"expected {what}, found the name {word!r}")
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
            raise invalid(
                i, f"expected a quote after the string prefix {word!r}, found {describe(c)}"
            )
        raise invalid(i, f"expected a value, found the incomplete name {word!r}")

    def _hex_digits(self, text: str, i: int, end: int) -> tuple[int, int]:
        """Digits of a \\x, \\u or \\U escape; (index, next state)."""
        kind = self._esc_kind
        length = _HEX_LENGTH[kind]
        m = _hex(text, i, min(end, i + length - self._esc_digits))
        if m is None:
            raise invalid(i, f"expected a hex digit, found {describe(text[i])}")
        value = self._esc_value
        digits = self._esc_digits
        for k in range(i, m.end()):
            value = value * 16 + int(text[k], 16)
            digits += 1
            if kind == "U" and value << (4 * (8 - digits)) > 0x10FFFF:
                raise invalid(k, "\\U escape beyond U+10FFFF")
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
                raise invalid(i - 1, "unpaired surrogate escape")
            self._high = -1
            self._parts.append(chr(0x10000 + ((high - 0xD800) << 10) + (value - 0xDC00)))
            return i, _STRING
        if 0xD800 <= value <= 0xDBFF:
            self._high = value
            return i, _LOW_BACKSLASH
        if 0xDC00 <= value <= 0xDFFF:
            raise invalid(i - 1, "unpaired surrogate escape")
        self._parts.append(chr(value))
        return i, _STRING

    def _number(self, text: str, i: int, end: int) -> tuple[int, bool]:
        """Advance the number automaton; (index, finished).  Finished means text[i] is
        the first character after the number (not consumed)."""
        st = self._num_state
        first = i
        finished = False
        while i < end:
            if st in _N_RUNS:
                i = _digit_run(text, i, end).end()  # type: ignore[union-attr]  # `*` always matches
                if i >= end:
                    break
            elif st == _N_BASE:
                i = _BASE_RUNS[self._base](text, i, end).end()  # type: ignore[union-attr]  # `*` always matches
                if i >= end:
                    break
            c = text[i]
            if st == _N_START:
                st = _N_ZERO if c == "0" else _N_DOT if c == "." else _N_INT
            elif st == _N_ZERO:
                if c == "0":
                    pass
                elif c == "_":
                    st = _N_ZERO_U
                elif c in _DIGITS:
                    st = _N_LEADZ
                elif c in _BASES:
                    self._base = _BASES[c]
                    st = _N_BASE0
                elif c == ".":
                    st = _N_FRAC0
                elif c == "e" or c == "E":
                    st = _N_EXP0
                else:
                    finished = True
                    break
            elif st == _N_LEADZ:
                if c == "_":
                    st = _N_LEADZ_U
                elif c == ".":
                    st = _N_FRAC0
                elif c == "e" or c == "E":
                    st = _N_EXP0
                else:
                    raise invalid(i, "leading zeros in a decimal integer are not allowed")
            elif st == _N_INT:
                if c == "_":
                    st = _N_INT_U
                elif c == ".":
                    st = _N_FRAC0
                elif c == "e" or c == "E":
                    st = _N_EXP0
                else:
                    finished = True
                    break
            elif st == _N_FRAC0:
                if c in _DIGITS:
                    st = _N_FRAC
                elif c == "e" or c == "E":
                    st = _N_EXP0
                else:
                    finished = True
                    break
            elif st == _N_FRAC:
                if c == "_":
                    st = _N_FRAC_U
                elif c == "e" or c == "E":
                    st = _N_EXP0
                else:
                    finished = True
                    break
            elif st == _N_EXP:
                if c == "_":
                    st = _N_EXP_U
                else:
                    finished = True
                    break
            elif st == _N_BASE:
                if c == "_":
                    st = _N_BASE_U
                else:
                    finished = True
                    break
            elif st == _N_EXP0:
                if c == "+" or c == "-":
                    st = _N_EXP_SIGN
                elif c in _DIGITS:
                    st = _N_EXP
                else:
                    raise invalid(i, f"expected an exponent digit, found {describe(c)}")
            elif st in (_N_BASE0, _N_BASE_U):
                if c in _BASE_DIGITS[self._base]:
                    st = _N_BASE
                elif c == "_" and st == _N_BASE0:
                    st = _N_BASE_U
                else:
                    raise invalid(i, f"expected a base-{self._base} digit, found {describe(c)}")
            elif st == _N_ZERO_U:
                if c not in _DIGITS:
                    raise invalid(i, f"expected a digit, found {describe(c)}")
                st = _N_ZERO if c == "0" else _N_LEADZ
            else:  # a digit must follow: "_", "." or an exponent sign
                if c not in _DIGITS:
                    raise invalid(i, f"expected a digit, found {describe(c)}")
                st = _N_AFTER_DIGIT[st]
            i += 1
        if i > first:
            self._parts.append(text[first:i])
        self._num_state = st
        return i, finished

    def _number_value(self, index: int) -> int | float:
        """The finished number (``index``: the character after it, for errors)."""
        st = self._num_state
        token = self._token()
        if st not in _N_INTEGERS and st not in _N_FLOATS:
            raise invalid(index, f"incomplete number {token[:40]!r}")
        value = number_value(token, st in _N_INTEGERS, index, 0)
        return -value if self._negative else value


_N_AFTER_DIGIT = {
    _N_LEADZ_U: _N_LEADZ,
    _N_INT_U: _N_INT,
    _N_DOT: _N_FRAC,
    _N_FRAC_U: _N_FRAC,
    _N_EXP_SIGN: _N_EXP,
    _N_EXP_U: _N_EXP,
}
"""States that need one digit -> the state after it."""

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
