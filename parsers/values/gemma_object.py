"""Gemma 4's object notation: the argument bodies of ``gemma4`` calls.

``<|tool_call>call:fetch_row{cols:[<|"|>x<|"|>],id:7,opts:{deep:true}}<tool_call|>``:
the body, from its ``{`` to the matching ``}``, is Gemma's own object notation, not
JSON.  ``GemmaObjectScanner`` validates that text as it arrives in pieces of any size,
builds the JSON value on the way, and reports the exact index of the ``}`` that
completes the object.  ``GemmaCallBody`` wraps it as an island kind (``gemma_object``)
for grammar-defined formats.

Theory of operation
-------------------
A state machine over a stack of open containers, like ``json_engine.JsonScanner``
and ``pylit.PyKwargsScanner``:

* whitespace, bare keys and digit runs are consumed with one compiled regex each;
  inside a string (where almost all argument text lives) one ``str.find`` for the
  closing ``<|"|>`` covers a whole chunk, and a chunk without ``<`` costs O(1) Python
  steps;
* a ``<|"|>`` split across chunks is matched with a counter of the characters seen
  so far: the marker has no border (no proper prefix is also a suffix), so a
  mismatch simply makes the matched characters string data and the current
  character is scanned again -- nothing is ever re-scanned twice;
* values are built as their last character is scanned (string pieces joined once,
  numbers converted once), so the total cost is linear whatever the chunking.

The language (everything else is ``invalid_arguments``)
-------------------------------------------------------
* Objects ``{key:value,...}``, ``{}`` empty; arrays ``[value,...]``; no trailing
  comma.  Whitespace (space, tab, CR, LF) may surround every token.
* Keys are bare (unquoted) text up to ``:`` -- spaces inside a key are part of it,
  whitespace around it is not -- made of any characters but ``: { } [ ] , < "`` and
  control characters (a tab or line break ends the key: only whitespace and ``:``
  may follow); or a ``<|"|>``-delimited string (the template's
  ``escape_keys`` form).  A key is never empty unless quoted.  A repeated key keeps
  the last value, as the JSON engine does.
* Strings are delimited by ``<|"|>`` on both sides and are raw: newlines, quotes,
  backslashes, ``,``, ``}``, marker text are data; there is no escape, so in text a
  string cannot contain ``<|"|>`` itself.  Parsed from token ids
  (``marker_gate``), a ``<|"|>`` written with ordinary ids is string data: only the
  special token's id closes a string.  An opening ``<|"|>`` is taken either way
  (where a value starts nothing else could begin with ``<``).
* Numbers are Python ``str()`` of an int or a float: the JSON number grammar
  (``-8``, ``0.25``, ``2e-07``, ``4e+22``); integers are exact at any length up to
  Python's int-conversion digit limit; a longer one, or a float that overflows
  (``1e999``), is ``limit_exceeded``.  ``inf``/``nan`` are errors.
* ``true``/``false``/``null``; ``None`` is read as null too (what Jinja prints for a
  Python ``None``).

Errors
------
``feed`` raises ``literals.JsonSyntaxError`` with code ``invalid_arguments`` or
``limit_exceeded`` (``max_depth`` at the bracket that opens one level too many,
``max_size`` at the first character over the limit, number limits at the character
after the number).  Its ``index`` is the first character at which the text stops
being a prefix of some valid object, and never depends on the chunking.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .literals import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_SIZE,
    JsonSyntaxError,
    ValueBuilder,
    describe,
    invalid,
    number_value,
)
from .scanned_body import ScannedCallBody

if TYPE_CHECKING:
    from .island_protocol import Island

__all__ = ["QUOTE", "GemmaCallBody", "GemmaObjectScanner"]

QUOTE = '<|"|>'
"""The string delimiter token, on both sides of a string."""

# Scanner states.  From _KEY_FIRST to _AFTER they skip whitespace before their token.
_OPEN = 0  # the body's first character: "{"
_KEY_FIRST = 1  # after "{": a key or "}"
_KEY = 2  # after "," in an object: a key
_COLON = 3  # after a quoted key (or a bare one and a tab or line break): ":"
_VALUE = 4  # after ":": a value
_ITEM_FIRST = 5  # after "[": a value or "]"
_ITEM = 6  # after "," in an array: a value
_AFTER = 7  # after a value: "," or the innermost container's closer
_BARE_KEY = 8  # inside a bare key
_MARK = 9  # inside an opening <|"|> (``_mark`` characters matched)
_STRING = 10
_STRING_END = 11  # inside a possible closing <|"|> (``_mark`` characters matched)
_NUMBER = 12
_WORD = 13
_DONE = 14

# Number automaton (the JSON number grammar).
_N_START = 0
_N_MINUS = 1
_N_ZERO = 2
_N_INT = 3
_N_DOT = 4
_N_FRAC = 5
_N_E = 6
_N_E_SIGN = 7
_N_EXP = 8
_N_RUNS = frozenset((_N_INT, _N_FRAC, _N_EXP))

_skip_ws = re.compile(r"[ \t\r\n]*").match
_key_run = re.compile(r'[^:{}\[\],<"\x00-\x1f\x7f]*').match
_digit_run = re.compile(r"[0-9]*").match
_marker_start = re.compile("<").search
_KEY_STOPS = frozenset(':{}[],"') | frozenset(chr(c) for c in (*range(0x20), 0x7F))
_DIGITS = frozenset("0123456789")
_LINE_WS = frozenset("\t\r\n")
_WORDS: dict[str, Any] = {"true": True, "false": False, "null": None, "None": None}
_WORD_PREFIXES = frozenset(w[:k] for w in _WORDS for k in range(1, len(w) + 1))
_WORD_STARTS = frozenset(w[0] for w in _WORDS)
_CLOSERS = {"{": "}", "[": "]"}


class GemmaObjectScanner(ValueBuilder):
    """Validate ``{key:value,...}`` incrementally and build its JSON value; see the
    module docstring.

    ``feed(text, start, end)`` consumes ``text[start:end]`` and returns the index just
    past the ``}`` that completes the object, or -1 when it needs more input.
    """

    __slots__ = ("_mark", "_num_state", "_word", "marker_gate", "result")

    AFTER_VALUE = _AFTER
    AFTER_KEY = _COLON
    STRING = _STRING

    def __init__(
        self, *, max_depth: int = DEFAULT_MAX_DEPTH, max_size: int = DEFAULT_MAX_SIZE
    ) -> None:
        # max_depth: the arguments object itself is level 1; max_size: both braces
        # included.  The value starts at the text's first character (value_start 0).
        super().__init__(max_depth, max_size, _OPEN)
        self.result: dict[str, Any] = {}
        """The arguments built so far (complete once ``finish()`` is True)."""
        self._stop = _marker_start  # only a "<" can begin the closing marker
        self._mark = 0
        self._num_state = _N_START
        self._word = ""
        self.marker_gate: Callable[[int], bool] | None = None
        """Token-aware parsing (``token_parser.py``): whether the ``<|"|>`` at this
        offset of ``raw()`` came from the special token's id.  A closing marker
        that did not is string data; None (text input): every marker counts."""

    # -- results ---------------------------------------------------------------

    def value(self) -> dict[str, Any]:
        """The arguments as a JSON object (a dict of JSON values)."""
        return self.result

    def finish(self) -> bool:
        """End of input: True if the object is complete (only its ``}`` completes it)."""
        return self.state == _DONE

    def expected(self) -> str:
        """What the scanner is waiting for, for truncation messages."""
        if self.state == _AFTER:
            return f"',' or {_CLOSERS[self._kinds[-1]]!r}"
        return _EXPECTED[self.state]

    # -- scanning --------------------------------------------------------------

    def _run(self, text: str, i: int, end: int, base: int, state: int) -> tuple[int, int, int]:
        parts = self._parts
        result = -1
        try:
            while i < end:
                if state == _STRING:
                    j = text.find(QUOTE, i, end)
                    if j >= 0:
                        gate = self.marker_gate
                        if gate is not None and not gate(base + j):
                            # Written with ordinary ids: string data (no border, so
                            # no marker starts inside it).
                            parts.append(text[i : j + len(QUOTE)])
                            i = j + len(QUOTE)
                            continue
                        if j > i:
                            parts.append(text[i:j])
                        i = j + len(QUOTE)
                        state = self._end_string()
                        continue
                    # No whole marker: hold the count of a marker prefix at the end.
                    k = text.rfind("<", max(i, end - len(QUOTE) + 1), end)
                    if k >= 0 and QUOTE.startswith(text[k:end]):
                        if k > i:
                            parts.append(text[i:k])
                        self._mark = end - k
                        state = _STRING_END
                    else:
                        parts.append(text[i:end])
                    i = end
                    break
                if state <= _AFTER:
                    if state != _OPEN:  # the body starts at its "{"
                        i = _skip_ws(text, i, end).end()  # type: ignore[union-attr]  # `*` always matches
                        if i >= end:
                            break
                    c = text[i]
                    if state == _AFTER:
                        kind = self._kinds[-1]
                        if c == ",":
                            i += 1
                            state = _KEY if kind == "{" else _ITEM
                        elif c == _CLOSERS[kind]:
                            i += 1
                            state = self._close()
                            if state == _DONE:
                                result = i
                                break
                        else:
                            raise invalid(
                                i, f"expected ',' or {_CLOSERS[kind]!r}, found {describe(c)}"
                            )
                        continue
                    if state == _OPEN:
                        if c != "{":
                            raise invalid(i, f"expected '{{', found {describe(c)}")
                        i += 1
                        state = self._push(c, i - 1)
                        continue
                    if state in (_KEY_FIRST, _KEY):
                        if c == "}" and state == _KEY_FIRST:
                            i += 1
                            state = self._close()
                            if state == _DONE:
                                result = i
                                break
                        elif c == "<":
                            self._in_key = True
                            self._mark = 0
                            state = _MARK
                        elif c in _KEY_STOPS:
                            what = "a key or '}'" if state == _KEY_FIRST else "a key"
                            raise invalid(i, f"expected {what}, found {describe(c)}")
                        else:
                            parts.clear()
                            state = _BARE_KEY
                        continue
                    if state == _COLON:
                        if c != ":":
                            raise invalid(i, f"expected ':' after the key, found {describe(c)}")
                        i += 1
                        state = _VALUE
                        continue
                    if state == _ITEM_FIRST and c == "]":
                        i += 1
                        state = self._close()
                        continue
                    # _VALUE, _ITEM_FIRST, _ITEM: a value starts here.
                    if c == "<":
                        self._in_key = False
                        self._mark = 0
                        state = _MARK
                    elif c == "{" or c == "[":
                        i += 1
                        state = self._push(c, i - 1)
                    elif c == "-" or c in _DIGITS:
                        parts.clear()
                        self._num_state = _N_START
                        state = _NUMBER
                    elif c in _WORD_STARTS:
                        self._word = ""
                        state = _WORD
                    else:
                        raise invalid(i, f"expected a value, found {describe(c)}")
                    continue
                if state == _BARE_KEY:
                    j = _key_run(text, i, end).end()  # type: ignore[union-attr]  # `*` always matches
                    if j > i:
                        parts.append(text[i:j])
                        i = j
                    if i >= end:
                        break
                    c = text[i]
                    if c != ":" and c not in _LINE_WS:
                        raise invalid(i, f"expected ':' after a key, found {describe(c)}")
                    key = "".join(parts).rstrip(" ")
                    parts.clear()
                    if not key:
                        raise invalid(i, "empty key")
                    self._keys[-1] = key
                    if c == ":":
                        i += 1
                        state = _VALUE
                    else:  # whitespace other than spaces ends the key: ":" must follow
                        state = _COLON
                    continue
                if state == _MARK:
                    m = self._mark
                    while i < end and m < len(QUOTE):
                        if text[i] != QUOTE[m]:
                            raise invalid(
                                i,
                                f"expected {QUOTE!r} (a string), found {describe(text[i])}",
                            )
                        m += 1
                        i += 1
                    self._mark = m
                    if m == len(QUOTE):
                        parts.clear()
                        state = _STRING
                    continue
                if state == _STRING_END:
                    m = self._mark
                    while i < end and m < len(QUOTE) and text[i] == QUOTE[m]:
                        m += 1
                        i += 1
                    if m == len(QUOTE):
                        gate = self.marker_gate
                        if gate is not None and not gate(base + i - len(QUOTE)):
                            parts.append(QUOTE)  # ordinary ids: string data
                            state = _STRING
                        else:
                            state = self._end_string()
                    elif i < end:
                        # Not the marker: what matched is data (the marker has no
                        # border, so the current character is scanned afresh).
                        parts.append(QUOTE[:m])
                        state = _STRING
                    else:
                        self._mark = m
                    continue
                if state == _NUMBER:
                    i, finished = self._number(text, i, end)
                    if finished:
                        state = self._end_value(self._number_value(i))
                    continue
                if state == _WORD:
                    word = self._word + text[i]
                    if word not in _WORD_PREFIXES:
                        raise invalid(i, f"expected a value, found the word {word!r}")
                    i += 1
                    if word in _WORDS:
                        state = self._end_value(_WORDS[word])
                    else:
                        self._word = word
                    continue
                raise AssertionError(f"unhandled scanner state {state}")  # pragma: no cover
        except JsonSyntaxError:
            self.state = state
            raise
        return i, state, result

    # -- tokens ----------------------------------------------------------------

    def _push(self, kind: str, index: int) -> int:
        if len(self._kinds) >= self.max_depth:
            self.too_deep(index)
        container: Any = self.result if not self._kinds else {} if kind == "{" else []
        self._kinds.append(kind)
        self._containers.append(container)
        self._keys.append("")
        return _KEY_FIRST if kind == "{" else _ITEM_FIRST

    def _close(self) -> int:
        """The innermost container closed: a value of its parent, or the end."""
        self._kinds.pop()
        self._keys.pop()
        value = self._containers.pop()
        if not self._kinds:
            return _DONE
        return self._end_value(value)

    def _number(self, text: str, i: int, end: int) -> tuple[int, bool]:
        """Advance the number automaton; (index, finished).  Finished means text[i] is
        the first character after the number (not consumed)."""
        st = self._num_state
        first = i
        finished = False
        while i < end:
            if st in _N_RUNS:
                j = _digit_run(text, i, end).end()  # type: ignore[union-attr]  # `*` always matches
                if j > i:
                    i = j
                    continue
            c = text[i]
            if st == _N_START:
                st = _N_MINUS if c == "-" else _N_ZERO if c == "0" else _N_INT
            elif st == _N_MINUS:
                if c not in _DIGITS:
                    raise invalid(i, f"expected a digit after '-', found {describe(c)}")
                st = _N_ZERO if c == "0" else _N_INT
            elif st in (_N_ZERO, _N_INT):
                if c == ".":
                    st = _N_DOT
                elif c == "e" or c == "E":
                    st = _N_E
                elif c in _DIGITS:
                    raise invalid(i, "leading zeros are not allowed in a number")
                else:
                    finished = True
                    break
            elif st == _N_FRAC:
                if c == "e" or c == "E":
                    st = _N_E
                else:
                    finished = True
                    break
            elif st == _N_EXP:
                finished = True
                break
            elif st == _N_E:
                if c == "+" or c == "-":
                    st = _N_E_SIGN
                elif c in _DIGITS:
                    st = _N_EXP
                else:
                    raise invalid(i, f"expected an exponent digit, found {describe(c)}")
            else:  # _N_DOT, _N_E_SIGN: a digit must follow
                if c not in _DIGITS:
                    raise invalid(i, f"expected a digit, found {describe(c)}")
                st = _N_FRAC if st == _N_DOT else _N_EXP
            i += 1
        if i > first:
            self._parts.append(text[first:i])
        self._num_state = st
        return i, finished

    def _number_value(self, index: int) -> int | float:
        """The finished number (``index``: the character after it, for errors)."""
        return number_value(self._token(), self._num_state in (_N_ZERO, _N_INT), index)


_EXPECTED = {
    _OPEN: "'{'",
    _KEY_FIRST: "a key or '}'",
    _KEY: "a key",
    _COLON: "':'",
    _VALUE: "a value",
    _ITEM_FIRST: "a value or ']'",
    _ITEM: "a value",
    _BARE_KEY: "':'",
    _MARK: f"the rest of {QUOTE!r}",
    _STRING: f"the closing {QUOTE!r} of a string",
    _STRING_END: f"the closing {QUOTE!r} of a string",
    _NUMBER: "more of a number",
    _WORD: "true, false or null",
    _DONE: "nothing",
}


class GemmaCallBody(ScannedCallBody[GemmaObjectScanner]):
    """The ``gemma_object`` island: one call's ``{key:value,...}`` body.

    Built as ``ISLAND_KINDS`` documents (``scanned_body`` says what is ignored).
    Argument text goes out as ``tool_call_delta`` events as it arrives, both braces
    included; it is also the ``raw`` of the ``tool_call``.
    """

    __slots__ = ()

    def new_scanner(self, max_depth: int, max_size: int) -> GemmaObjectScanner:
        return GemmaObjectScanner(max_depth=max_depth, max_size=max_size)


if TYPE_CHECKING:  # the island protocol, checked statically

    def _is_an_island(body: GemmaCallBody) -> Island:
        return body
