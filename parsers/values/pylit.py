"""Python keyword-argument lists: the call bodies of ``llama4-pythonic``.

``[fetch_row(id=7, cols=['x', 'y']), ping()]``: each call's body, the text after its
``(`` up to and including the matching ``)``, is a list of ``name=literal`` pairs.
``PyKwargsScanner`` validates that text as it arrives in pieces of any size, builds
the JSON value of the arguments on the way (never ``eval``, never ``ast``), and
reports the exact index of the ``)`` that completes the call.  ``PyKwargsCallBody``
wraps it as an island kind (``python_kwargs``) for grammar-defined formats.

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
``feed`` raises ``literals.JsonSyntaxError`` with code ``invalid_arguments`` (the
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
from typing import TYPE_CHECKING, Any

from .literals import DEFAULT_MAX_DEPTH, DEFAULT_MAX_SIZE, JsonSyntaxError, describe, invalid
from .pylit_tokens import (
    _AFTER,
    _ARG,
    _CLOSE_QUOTES,
    _CLOSERS,
    _COLON,
    _DICT_ITEM,
    _DIGITS,
    _DONE,
    _EQUALS,
    _ESCAPE,
    _EXPECTED,
    _LIST_ITEM,
    _LOW_U,
    _N_START,
    _NAME,
    _NUMBER,
    _OPEN1,
    _OPEN2,
    _QUOTES,
    _SIGN,
    _STOPS,
    _STRING,
    _STRING_PREFIXES,
    _TUPLE_ITEM,
    _VALUE,
    _WORD,
    PyTokenScanner,
)
from .scanned_body import ScannedCallBody

if TYPE_CHECKING:
    from .island_protocol import Island

__all__ = ["PyKwargsCallBody", "PyKwargsScanner"]

_skip_ws = re.compile(r"[ \t\n\r\f]*").match
_name_run = re.compile(r"\w*").match
_name_start = re.compile(r"[^\W\d]").match
_WORD_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")


class PyKwargsScanner(PyTokenScanner):
    """Validate ``name=literal, …)`` incrementally and build its JSON value; see the
    module docstring.

    ``feed(text, start, end)`` consumes ``text[start:end]`` and returns the index just
    past the ``)`` that completes the argument list, or -1 when it needs more input.
    """

    __slots__ = ("arguments",)

    def __init__(
        self, *, max_depth: int = DEFAULT_MAX_DEPTH, max_size: int = DEFAULT_MAX_SIZE
    ) -> None:
        # max_depth: the argument list itself is level 1, as a JSON arguments object
        # is; max_size: the closing ``)`` included.  The value starts at the text's
        # first character (value_start 0).
        super().__init__(max_depth, max_size, _ARG)
        self.arguments: dict[str, Any] = {}
        """The arguments built so far (complete once ``done``)."""
        # The open containers, innermost last: kind ("K" the call, "[", "(", "{"),
        # the container, and per kind the pending argument name ("K"), the pending
        # key ("{") or whether a comma was seen ("(": a tuple, not parentheses).
        self._kinds.append("K")
        self._containers.append(self.arguments)
        self._keys.append(None)

    # -- results ---------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.state == _DONE

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

    def _run(self, text: str, i: int, end: int, base: int, state: int) -> tuple[int, int, int]:
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
                        raise invalid(j, "a line break inside a string that is not triple-quoted")
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
                            raise invalid(
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
                            raise invalid(i, _not_a_name(c))
                        parts.clear()
                        state = _NAME
                        continue
                    if state == _EQUALS:
                        if c != "=":
                            raise invalid(
                                i,
                                f"expected '=' after the argument name {self._keys[0]!r}, "
                                f"found {describe(c)} (positional arguments are not allowed)",
                            )
                        i += 1
                        state = _VALUE
                        continue
                    if state == _COLON:
                        if c != ":":
                            raise invalid(i, f"expected ':', found {describe(c)}")
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
                            raise invalid(i, f"expected a string key or '}}', found {describe(c)}")
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
                        self._negative = False
                        self._num_state = _N_START
                        parts.clear()
                        state = _NUMBER
                    elif c in _WORD_START:
                        self._word = ""
                        state = _WORD
                    elif c == "[" or c == "(" or c == "{":
                        if len(self._kinds) >= self.max_depth:
                            self.too_deep(i)
                        self._kinds.append(c)
                        self._containers.append({} if c == "{" else [])
                        self._keys.append(False if c == "(" else None)
                        i += 1
                        state = _LIST_ITEM if c == "[" else _TUPLE_ITEM if c == "(" else _DICT_ITEM
                    elif c == "-" or c == "+":
                        self._negative = c == "-"
                        i += 1
                        state = _SIGN
                    else:
                        raise invalid(i, f"expected a value, found {describe(c)}")
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
                        raise invalid(i, f"argument {name!r} given twice")
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
                if _ESCAPE <= state <= _LOW_U:
                    i, state = self._escape(text, i, end, state)
                    continue
                if state == _NUMBER:
                    i, finished = self._number(text, i, end)
                    if finished:
                        state = self._end_value(self._number_value(i))
                    continue
                if state == _SIGN:
                    i = _skip_ws(text, i, end).end()  # type: ignore[union-attr]  # `*` always matches
                    if i >= end:
                        break
                    c = text[i]
                    if not (c in _DIGITS or c == "."):
                        raise invalid(i, f"expected a number after the sign, found {describe(c)}")
                    self._num_state = _N_START
                    parts.clear()
                    state = _NUMBER
                    continue
                if state == _WORD:
                    i, state = self._scan_word(text, i, end)
                    continue
                raise AssertionError(f"unhandled scanner state {state}")  # pragma: no cover
        except JsonSyntaxError:
            self.state = state
            raise
        return i, state, result

    # -- tokens ----------------------------------------------------------------

    def _close(self) -> int:
        """The innermost list, tuple or dict closed: it is a value of its parent."""
        kind = self._kinds.pop()
        value = self._containers.pop()
        had_comma = self._keys.pop()
        if kind == "(" and not had_comma and len(value) == 1:
            value = value[0]  # (x) is x: parentheses, not a tuple
        return self._end_value(value)


def _not_a_name(c: str) -> str:
    if c == "*":
        return "argument unpacking (* or **) is not allowed"
    return (
        f"expected an argument name or ')', found {describe(c)} "
        "(only keyword arguments name=value are allowed)"
    )


class PyKwargsCallBody(ScannedCallBody[PyKwargsScanner]):
    """The ``python_kwargs`` island: one call's ``name=literal, …)`` body.

    Built as ``ISLAND_KINDS`` documents; ``mode`` and the JSON-envelope options
    (``id_key``, ``extra_keys``, any added later) are ignored: a Python call body is
    always the bare arguments and carries no id.  Argument text goes out
    as ``tool_call_delta`` events as it arrives; it is the text between the call's
    parentheses, exclusive of both (``id=7, cols=['x']``), which is also the
    ``raw`` of the ``tool_call``.  The closing ``)`` is consumed by the island (it is
    the completing character) but belongs to no delta.  ``streaming`` is always
    False: the driver's JSON hot path does not apply.  ``quiet`` (set by the driver
    for speculative islands) silences every event.
    """

    __slots__ = ()

    closer_length = 1  # the ")" completes the call but is no argument text

    def new_scanner(self, max_depth: int, max_size: int) -> PyKwargsScanner:
        return PyKwargsScanner(max_depth=max_depth, max_size=max_size)


if TYPE_CHECKING:  # the island protocol, checked statically

    def _is_an_island(body: PyKwargsCallBody) -> Island:
        return body
