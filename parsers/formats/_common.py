"""The vocabulary the format specs share: nameless call openers, the usual content
terminals and the human names of the usual terminals.

Theory of operation
-------------------
A format is a Lark grammar plus a declarative ``FormatSpec`` (``engine/grammar.py``).
The specs are tables, and most of what they hold is their own: markers, resync
points, the model's separators.  What recurs from one format to the next is small
and fixed, and lives here so that each spec lists only its own decisions:

* ``no_name``: a call opener whose text carries no tool name (``<tool_call>``; the
  name comes later, from the body or an id);
* ``think_reasoning`` / ``text_before``: the chat-template separators around a
  ``<think>`` block and before a call (a newline inside the block, whitespace before
  the call opener) are not message text;
* ``WHITESPACE`` / ``WHITESPACE_LAYOUT``: layout that may hold only whitespace;
* ``block_names``: how messages name the terminals every format calls ``TEXT``,
  ``REASONING`` and the whitespace runs, plus the format's own names.

These are values and plain functions, read once when a format is compiled: nothing
here is on the per-character path.
"""

from __future__ import annotations

from ..engine.grammar import ContentSpec

__all__ = [
    "WHITESPACE",
    "WHITESPACE_LAYOUT",
    "block_names",
    "no_name",
    "text_before",
    "think_reasoning",
]

WHITESPACE = r"[ \t\r\n]"
"""One character of layout that may only be whitespace."""

WHITESPACE_LAYOUT = ContentSpec("layout", allowed=WHITESPACE, strict=True)
"""Whitespace between structural markers; a marker that does not fit there is an
error, never text."""

_SEPARATOR = " \t\r\n"


def no_name(delimiter: str) -> None:
    """A call opener that does not carry the tool name (it comes later)."""
    return None


def think_reasoning(*closers: str) -> ContentSpec:
    """Reasoning inside ``<think>`` … ``</think>``: the newline just inside each end
    is the template's separator, dropped when the run ends at one of ``closers``."""
    return ContentSpec(
        "reasoning", strip_leading="\n", strip_trailing="\n", strip_before=frozenset(closers)
    )


def text_before(*openers: str, strip_leading: str = "", strict: bool = False) -> ContentSpec:
    """Content text whose trailing whitespace is the template's separator when a call
    opener (one of ``openers``) follows it, and text otherwise."""
    return ContentSpec(
        "text",
        strict=strict,
        strip_leading=strip_leading,
        strip_trailing=_SEPARATOR,
        strip_before=frozenset(openers),
    )


def block_names(*whitespace: str, **names: str) -> dict[str, str]:
    """Human names of terminals, for messages: ``TEXT`` is "text", ``REASONING``
    "reasoning text", each of ``whitespace`` "whitespace"; ``names`` adds the
    format's own (and may rename those)."""
    out = {"TEXT": "text", "REASONING": "reasoning text"}
    out.update(dict.fromkeys(whitespace, "whitespace"))
    out.update(names)
    return out
