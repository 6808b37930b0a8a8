"""Python number literals, read incrementally: the automaton behind ``pylit``'s numbers.

Theory of operation
-------------------
``PyNumber`` follows Python's integer and float literal grammar one character at a
time (``7``, ``0x1F``, ``0o17``, ``0b1``, ``1_000``, ``00``, ``1.``, ``.5``,
``2e-07``): runs of digits are taken by one regex match each, every other character
moves the automaton (``state``) to its next state, and the first character that
cannot continue the literal either ends it (``advance`` returns finished: that
character belongs to what follows) or is an error at its index (a leading zero
before another digit, an underscore not between digits, a base prefix with no
digit).  The text is kept in ``parts`` and converted once, by ``int(text, 0)`` or
``float``, when the number ends (``value``); an integer past Python's
int-conversion digit limit or a float that overflows is ``limit_exceeded`` at the
character after the number.  The sign is read by the scanner (``negative``).
"""

from __future__ import annotations

import re

from .json_engine import JsonSyntaxError, describe, fail

__all__ = ["PyNumber"]

_LIMIT = "limit_exceeded"

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

_DIGITS = frozenset("0123456789")
_digit_run = re.compile(r"[0-9]*").match
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

_N_AFTER_DIGIT = {
    _N_LEADZ_U: _N_LEADZ,
    _N_INT_U: _N_INT,
    _N_DOT: _N_FRAC,
    _N_FRAC_U: _N_FRAC,
    _N_EXP_SIGN: _N_EXP,
    _N_EXP_U: _N_EXP,
}
"""States that need one digit -> the state after it."""


class PyNumber:
    """One number literal in progress (reused: ``start`` resets it)."""

    __slots__ = ("base", "negative", "parts", "state")

    def __init__(self) -> None:
        self.state = _N_START
        self.base = 10
        self.negative = False
        self.parts: list[str] = []

    def start(self, *, negative: bool) -> None:
        """A number begins (its sign, if any, was read by the scanner)."""
        self.state = _N_START
        self.negative = negative
        self.parts.clear()

    def advance(self, text: str, i: int, end: int) -> tuple[int, bool]:
        """Advance the number automaton; (index, finished).  Finished means text[i] is
        the first character after the number (not consumed)."""
        st = self.state
        first = i
        finished = False
        while i < end:
            if st in _N_RUNS:
                i = _digit_run(text, i, end).end()  # type: ignore[union-attr]  # `*` always matches
                if i >= end:
                    break
            elif st == _N_BASE:
                i = _BASE_RUNS[self.base](text, i, end).end()  # type: ignore[union-attr]  # `*` always matches
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
                    self.base = _BASES[c]
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
                    raise fail(i, "leading zeros in a decimal integer are not allowed")
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
                    raise fail(i, f"expected an exponent digit, found {describe(c)}")
            elif st in (_N_BASE0, _N_BASE_U):
                if c in _BASE_DIGITS[self.base]:
                    st = _N_BASE
                elif c == "_" and st == _N_BASE0:
                    st = _N_BASE_U
                else:
                    raise fail(i, f"expected a base-{self.base} digit, found {describe(c)}")
            elif st == _N_ZERO_U:
                if c not in _DIGITS:
                    raise fail(i, f"expected a digit, found {describe(c)}")
                st = _N_ZERO if c == "0" else _N_LEADZ
            else:  # a digit must follow: "_", "." or an exponent sign
                if c not in _DIGITS:
                    raise fail(i, f"expected a digit, found {describe(c)}")
                st = _N_AFTER_DIGIT[st]
            i += 1
        if i > first:
            self.parts.append(text[first:i])
        self.state = st
        return i, finished

    def value(self, index: int) -> int | float:
        """The finished number (``index``: the character after it, for errors)."""
        st = self.state
        token = "".join(self.parts)
        self.parts.clear()
        value: int | float
        try:
            if st in _N_INTEGERS:
                value = int(token, 0)
            elif st in _N_FLOATS:
                value = float(token)
                if value in (float("inf"), float("-inf")):
                    raise ValueError(f"number {token[:40]!r} overflows a float")
            else:
                raise fail(index, f"incomplete number {token[:40]!r}")
        except ValueError as exc:  # int digit limit, float overflow
            raise JsonSyntaxError(_LIMIT, index, str(exc)) from None
        return -value if self.negative else value
