"""Delimiters: what the lexer must recognise, and which text may still become one.

A delimiter is a grammar terminal spelled as a literal (``"<analysis>"``) or a short
pattern (``/<tool_call\\s+name="[^"]*">/``).  The lexer must hold back a buffer tail
only while it can still grow into a delimiter.  Standard ``re`` has no partial
matching, so for every delimiter we derive a second regex, its *prefix closure*: it
fully matches exactly the prefixes of the strings the delimiter matches.  Testing a
tail is then one C-level ``fullmatch``.

The closure is built from the pattern's parse tree (``re._parser``, the stdlib's own
regex parser): P(a b) = P(a) | a P(b); P(x*) = x* P(x); a character class is optional.
A pattern may end with a lookahead ``(?=...)``: the lexer then holds the text until it
can see what follows (e.g. a closing tag that only counts before another tag).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from re import _constants as _sre_constants  # the stdlib's regex parser (3.11+)
from re import _parser as _sre_parse
from typing import Any

__all__ = ["Delimiter", "first_char_regex", "monotone", "prefix_closure"]

_C = _sre_constants
_CATEGORIES = {
    _C.CATEGORY_DIGIT: r"\d",
    _C.CATEGORY_NOT_DIGIT: r"\D",
    _C.CATEGORY_SPACE: r"\s",
    _C.CATEGORY_NOT_SPACE: r"\S",
    _C.CATEGORY_WORD: r"\w",
    _C.CATEGORY_NOT_WORD: r"\W",
}


def _class_item(op: Any, av: Any) -> str:
    if op is _C.LITERAL:
        return re.escape(chr(av))
    if op is _C.RANGE:
        return re.escape(chr(av[0])) + "-" + re.escape(chr(av[1]))
    if op is _C.CATEGORY:
        return _CATEGORIES[av]
    raise ValueError(f"unsupported item in a character class: {op}")


def _render(items: Any) -> str:
    """Regex text for a parsed sequence."""
    return "".join(_render_node(op, av) for op, av in items)


def _render_node(op: Any, av: Any) -> str:
    if op is _C.LITERAL:
        return re.escape(chr(av))
    if op is _C.NOT_LITERAL:
        return "[^" + re.escape(chr(av)) + "]"
    if op is _C.ANY:
        return "(?s:.)"
    if op is _C.IN:
        negate = bool(av) and av[0][0] is _C.NEGATE
        body = "".join(_class_item(o, a) for o, a in (av[1:] if negate else av))
        return "[" + ("^" if negate else "") + body + "]"
    if op is _C.SUBPATTERN:
        return "(?:" + _render(av[-1]) + ")"
    if op is _C.BRANCH:
        return "(?:" + "|".join(_render(b) for b in av[1]) + ")"
    if op in (_C.MAX_REPEAT, _C.MIN_REPEAT, getattr(_C, "POSSESSIVE_REPEAT", None)):
        lo, hi, sub = av
        upper = "" if hi is _C.MAXREPEAT else str(hi)
        return "(?:" + _render(sub) + "){" + f"{lo},{upper}" + "}"
    raise ValueError(f"unsupported regex construct in a delimiter: {op}")


def _prefix_seq(items: list[tuple[Any, Any]]) -> str:
    """Regex matching every prefix of the strings ``items`` matches.  A final
    lookahead counts as text: the lexer must see it before it can decide."""
    if not items:
        return ""
    (op, av), rest = items[0], items[1:]
    if op is _C.ASSERT:
        if rest or av[0] != 1:
            raise ValueError("only a final lookahead (?=...) is allowed in a delimiter")
        return _prefix_seq(list(av[1]))
    head = _prefix_node(op, av)
    if not rest:
        return head
    return "(?:" + head + "|" + _render_node(op, av) + _prefix_seq(rest) + ")"


def _prefix_node(op: Any, av: Any) -> str:
    if op in (_C.LITERAL, _C.NOT_LITERAL, _C.ANY, _C.IN):
        return "(?:" + _render_node(op, av) + ")?"
    if op is _C.SUBPATTERN:
        return "(?:" + _prefix_seq(list(av[-1])) + ")"
    if op is _C.BRANCH:
        return "(?:" + "|".join(_prefix_seq(list(b)) for b in av[1]) + ")"
    if op in (_C.MAX_REPEAT, _C.MIN_REPEAT, getattr(_C, "POSSESSIVE_REPEAT", None)):
        _lo, hi, sub = av
        if hi == 0:
            return ""
        upper = "" if hi is _C.MAXREPEAT else str(hi - 1)
        return (
            "(?:" + _render(sub) + "){" + f"0,{upper}" + "}" + "(?:" + _prefix_seq(list(sub)) + ")"
        )
    raise ValueError(f"unsupported regex construct in a delimiter: {op}")


def prefix_closure(pattern: str) -> str:
    """Regex text whose fullmatch accepts exactly the prefixes of ``pattern``'s strings."""
    return _prefix_seq(list(_sre_parse.parse(pattern)))


def _first(items: list[tuple[Any, Any]]) -> list[str]:
    out: list[str] = []
    for op, av in items:
        if op in (_C.LITERAL, _C.NOT_LITERAL, _C.ANY, _C.IN):
            out.append(_render_node(op, av))
            return out
        if op is _C.SUBPATTERN:
            out.extend(_first(list(av[-1])))
            return out
        if op is _C.BRANCH:
            for b in av[1]:
                out.extend(_first(list(b)))
            return out
        if op in (_C.MAX_REPEAT, _C.MIN_REPEAT, getattr(_C, "POSSESSIVE_REPEAT", None)):
            out.extend(_first(list(av[2])))
            if av[0] >= 1:
                return out
            continue
        raise ValueError(f"unsupported regex construct in a delimiter: {op}")
    raise ValueError("a delimiter must not match the empty string")


def monotone(pattern: str) -> bool:
    """Whether a match of ``pattern`` that stops short of the text's end (``endpos``)
    is still a match with more text after it: no negative lookaround, no anchor.
    The lexer's one-regex pre-check of a candidate relies on it."""

    def walk(items: Any) -> bool:
        for op, av in items:
            if op in (_C.ASSERT_NOT, _C.AT, _C.GROUPREF, _C.GROUPREF_EXISTS):
                return False
            if op is _C.BRANCH:
                inner = list(av[1])
            elif op is _C.SUBPATTERN:
                inner = [av[-1]]
            elif op is _C.ASSERT:
                inner = [av[1]]
            elif op in (_C.MAX_REPEAT, _C.MIN_REPEAT, getattr(_C, "POSSESSIVE_REPEAT", None)):
                inner = [av[2]]
            else:
                continue
            if not all(walk(sub) for sub in inner):
                return False
        return True

    return walk(_sre_parse.parse(pattern))


def first_char_regex(pattern: str) -> str:
    """Regex text matching one character that can start a match of ``pattern``."""
    return "|".join(dict.fromkeys(_first(list(_sre_parse.parse(pattern)))))


@dataclass(frozen=True, slots=True)
class Delimiter:
    """One delimiter terminal, compiled for the lexer."""

    name: str
    """The grammar terminal name."""
    pattern: str
    """Regex text of the delimiter (escaped literal or the grammar's pattern)."""
    literal: str | None
    open_ended: bool
    """A match could be extended by more text (the pattern ends with a repetition or
    a character class): a match that touches the buffer's end waits for more."""
    lookahead: bool
    """The pattern ends with a lookahead: once it matches, it is decided (the text it
    looked at is not part of the match)."""
    """The literal text, for literal delimiters."""
    match: Callable[..., re.Match[str] | None]
    """Compiled ``match`` of the delimiter itself."""
    prefix: Callable[..., re.Match[str] | None]
    """Compiled ``fullmatch`` of its prefix closure."""
    max_length: int | None
    """Longest possible match, None when unbounded (patterns with ``*``/``+``)."""

    @classmethod
    def build(cls, name: str, pattern: str, literal: str | None) -> Delimiter:
        parsed = _sre_parse.parse(pattern)
        lo, hi = parsed.getwidth()
        if lo == 0:
            raise ValueError(f"delimiter {name} can match the empty string")
        last = list(parsed)[-1][0]
        return cls(
            name=name,
            pattern=pattern,
            literal=literal,
            open_ended=literal is None and last not in (_C.LITERAL, _C.ASSERT),
            lookahead=last is _C.ASSERT,
            match=re.compile(pattern).match,
            prefix=re.compile(prefix_closure(pattern)).fullmatch,
            max_length=None if hi >= _C.MAXREPEAT else hi,
        )
