# ruff: noqa: RUF002  (the fullwidth bar U+FF5C is part of DeepSeek's markers)
"""A tiny built-in tokenizer for ``toolwire demo --tokens`` (no tokenizer library).

It follows the ``toolwire.Tokenizer`` protocol the way a real byte-level vocabulary
does, only smaller:

* ids 0-255 are the 256 bytes, so any text encodes and a character of two to four
  UTF-8 bytes outside the vocabulary spans as many ids (the incremental detokenizer
  emits it with the id that carries its last byte);
* then a small fixed vocabulary of common pieces (words of the demo, JSON
  punctuation, ``}}\\n``-like pieces that glue a call's completing brace to what
  follows it), matched greedily, longest first, over the UTF-8 bytes;
* then the format's markers (``<|im_end|>``, ``<｜tool▁sep｜>``, ``[TOOL_CALLS]``...),
  one special id each, as in the models' own vocabularies.

``encode`` maps a marker's text to its id and adds no BOS/EOS; ``decode`` writes
special ids as their text, never touches spaces, and turns an incomplete UTF-8
sequence into U+FFFD: the conventions ``toolwire.as_tokenizer`` documents.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ..formats.special_tokens import SPECIAL_TOKENS

__all__ = ["DEMO_MARKERS", "DEMO_PIECES", "DemoTokenizer"]

DEMO_MARKERS: dict[str, tuple[str, ...]] = SPECIAL_TOKENS
"""The single-token markers of each format (``toolwire.formats.special_tokens``), special ids
of that format's demo tokenizer."""

DEMO_PIECES: tuple[str, ...] = (
    # words of the demo's conversation
    "How",
    " many",
    " words",
    "words",
    " word",
    " count",
    " counted",
    " not",
    " guessed",
    " are",
    " in",
    " is",
    " that",
    " at",
    " per",
    " page",
    " pages",
    " has",
    " and",
    " how",
    " the",
    " of",
    " first",
    " now",
    " number",
    " need",
    "I",
    "notes",
    ".txt",
    "word_count",
    "calculate",
    "expression",
    "value",
    "path",
    "lines",
    "name",
    "arguments",
    "parameters",
    "function",
    "functions",
    "commentary",
    "analysis",
    "final",
    "assistant",
    "user",
    "tool",
    "response",
    "call",
    "message",
    "json",
    # markup and JSON punctuation
    "<tool_call>",
    "</tool_call>",
    "<final_answer>",
    "</final_answer>",
    "<tool_result",
    "</tool_result>",
    "<analysis>",
    "</analysis>",
    "<function=",
    "</function>",
    "<parameter=",
    "</parameter>",
    "=functions.",
    " to",
    '{"',
    '": "',
    '", "',
    '": ',
    ', "',
    '"}',
    '"}}',
    '"}}\n',
    '"}\n',
    "}\n",
    "}}",
    " /",
    "\n\n",
    " 250",
    "250",
    "127",
)
"""Pieces of more than one byte, matched greedily over the bytes (longest first);
none contains a character of more than one byte, so such characters stay split."""


class DemoTokenizer:
    """Byte ids, then ``DEMO_PIECES``, then ``markers`` as special ids (see the module
    docstring).  ``DemoTokenizer.for_format(name)`` takes the format's markers."""

    __slots__ = ("_longest", "_pieces", "_special", "_split", "markers", "vocabulary")

    def __init__(self, markers: Iterable[str] = ()) -> None:
        self.markers: tuple[str, ...] = tuple(dict.fromkeys(markers))
        self.vocabulary: list[bytes] = [bytes([b]) for b in range(256)]
        """The bytes each id writes (a marker's UTF-8 text for a special id)."""
        self.vocabulary += [piece.encode() for piece in DEMO_PIECES]
        self._pieces: dict[bytes, int] = {
            piece: i for i, piece in enumerate(self.vocabulary) if len(piece) > 1
        }
        self._longest = max(len(piece) for piece in self._pieces)
        self._special: dict[str, int] = {}
        for marker in self.markers:
            self._special[marker] = len(self.vocabulary)
            self.vocabulary.append(marker.encode())
        ordered = sorted(self.markers, key=len, reverse=True)
        self._split = re.compile("(" + "|".join(map(re.escape, ordered)) + ")") if ordered else None

    @classmethod
    def for_format(cls, format: str) -> DemoTokenizer:
        """The demo tokenizer of a text format (its markers special); ValueError for
        a format without a renderer."""
        if format not in DEMO_MARKERS:
            raise ValueError(f"no demo tokenizer for {format!r}")
        return cls(DEMO_MARKERS[format])

    @property
    def special_ids(self) -> frozenset[int]:
        return frozenset(self._special.values())

    def encode(self, text: str) -> list[int]:
        """Markers as their special ids, the text between them greedily as pieces and
        bytes; no BOS/EOS."""
        ids: list[int] = []
        parts = self._split.split(text) if self._split is not None else [text]
        for n, part in enumerate(parts):
            if n % 2:  # a marker (the split's captured group)
                ids.append(self._special[part])
            elif part:
                ids.extend(self._encode_bytes(part.encode()))
        return ids

    def _encode_bytes(self, data: bytes) -> list[int]:
        ids: list[int] = []
        pieces, longest = self._pieces, self._longest
        i, n = 0, len(data)
        while i < n:
            for size in range(min(longest, n - i), 1, -1):
                found = pieces.get(data[i : i + size])
                if found is not None:
                    ids.append(found)
                    i += size
                    break
            else:
                ids.append(data[i])
                i += 1
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        """Special ids as their text; an incomplete UTF-8 sequence as U+FFFD."""
        vocabulary = self.vocabulary
        return b"".join(vocabulary[i] for i in ids).decode("utf-8", errors="replace")

    def token_text(self, token: int) -> str:
        """One id for display: its text repr-escaped, or its bytes (``b'\\xe2'``) when
        they are not a whole character."""
        data = self.vocabulary[token]
        try:
            return repr(data.decode("utf-8"))
        except UnicodeDecodeError:
            return repr(data)

    def __len__(self) -> int:
        return len(self.vocabulary)

    def __repr__(self) -> str:
        return f"DemoTokenizer({len(self.vocabulary)} ids, {len(self.markers)} special)"
