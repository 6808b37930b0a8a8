"""Skipping the rest of a broken call body, so the next call in the same list parses.

When a call inside a list (Mistral's ``[{...}, {...}]``, Llama 4's ``[f(...), g(...)]``)
is malformed, recovering at the next opening delimiter would lose the calls after it
in the same list.  Instead the driver skips to where the broken body ends: the
bracket that closes it, found by counting brackets outside quoted strings from the
body's first character.  That is a heuristic (the body is broken, after all), but a
deterministic one: it depends on the text only, never on the chunking, and it costs
one pass over the body.
"""

from __future__ import annotations

import re

__all__ = ["BodySkipper"]

_OPEN = frozenset("{[(")
_CLOSE = frozenset("}])")


class BodySkipper:
    """Finds the end of a bracketed body: feed text in order, get the index just past
    the bracket that closes the body, or -1."""

    __slots__ = ("_depth", "_escape", "_quote", "_quotes", "_special", "_started")

    def __init__(self, quotes: str, depth: int) -> None:
        self._quotes = quotes
        self._depth = depth
        """Open brackets; a body that starts inside one (Python's ``(``) starts at 1."""
        self._started = depth > 0
        self._quote = ""
        self._escape = False
        self._special = re.compile("[" + re.escape("{}[]()\\" + quotes) + "]").search

    def feed(self, text: str, start: int, end: int) -> int:
        i = start
        while i < end:
            if self._quote:
                if self._escape:
                    self._escape = False
                    i += 1
                    continue
                c = text[i]
                if c == "\\":
                    self._escape = True
                elif c == self._quote:
                    self._quote = ""
                i += 1
                continue
            m = self._special(text, i, end)
            if m is None:
                return -1
            i = m.start()
            c = text[i]
            i += 1
            if c in self._quotes:
                self._quote = c
            elif c in _OPEN:
                self._depth += 1
                self._started = True
            elif c in _CLOSE:
                self._depth -= 1
                if self._started and self._depth <= 0:
                    return i
        return -1
