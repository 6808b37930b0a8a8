# ruff: noqa: RUF002  (the fullwidth bar U+FF5C is part of DeepSeek's tokens)
"""Token-aware parsing: a marker is a delimiter only where a special-token id wrote it.

Kimi-K3's encoder writes argument bodies with special tokens disallowed, so a value
may hold the characters ``<|close|>argument<|sep|>`` as ordinary tokens while the
real closer is made of control tokens with the same text; the same holds for every
format whose markers are special tokens (Qwen's ``<tool_call>``, GLM's ``<arg_key>``,
harmony's ``<|call|>``, DeepSeek's ``<｜tool▁call▁begin｜>``, Gemma's ``<|"|>``).  The
text cannot tell them apart; the ids can.

Theory of operation
-------------------
* **Anchors** (``TokenAnchors``, computed once per format and tokenizer): every
  delimiter pattern is walked (the stdlib's regex parser, as ``delimiters.py``
  does); its literal runs are encoded with the tokenizer, and where the encoding
  holds a special id, that token's text becomes a capture group of an *anchored*
  copy of the pattern (``<|close|>argument<|sep|>`` becomes
  ``(<\\|close\\|>)argument(<\\|sep\\|>)``).  A delimiter without special text has no
  anchors and is matched as before.  Gemma's ``<|"|>`` (the object island's string
  marker) is an anchor when it is a special token.
* **Marks** (``SpecialMarks``): the character offsets, in the stream, at which an
  anchor id's text starts, recorded as the ids are decoded (``IncrementalDetokenizer``
  emits a special id's text whole, at the end of that id's piece).  It is the
  driver's ``DelimiterGate``: a match counts only if every anchor group starts at a
  mark of its own text, and a delimiter that begins with special text is not even
  held back at an offset without a mark.  Only offsets the lexer may still look at
  are kept (those in the held-back text, plus one marker's length for a marker an
  island is matching across chunks), so memory is bounded by the hold-back, not
  the stream.  Offsets before the first id (a generation prompt, text fed without
  ids) are trusted: their markers all count.
* **The parser** (``TokenStreamParser``): a ``StreamParser`` with the marks as its
  gate.  ``feed_ids(ids)`` decodes the ids itself; ``feed(text, ids=ids)`` takes an
  engine's text delta with the ids it decoded from (vLLM's ``delta_text`` and
  ``delta_token_ids``), decodes the ids only to place the marks, and checks that
  the text agrees with them; ``feed(text)`` is text without ids, whose markers all
  count (today's text behaviour).  Until the first ids arrive nothing is gated and
  the text hot paths run as in any parser.

The rule is one-sided: ordinary ids never make a delimiter, but a special id is not
forced to be one (a special token where the grammar expects value text stays text,
as it would in a text stream).
"""

from __future__ import annotations

import re
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from re import _constants as _sre_constants  # the stdlib's regex parser (3.11+)
from re import _parser as _sre_parse
from typing import Any

from ..events import Event
from ..framing.detokenize import DEFAULT_MAX_PENDING, IncrementalDetokenizer
from ..framing.tokenizer import Tokenizer, as_tokenizer
from ..values.gemma_object import QUOTE, GemmaObjectScanner
from .delimiters import Delimiter, _render_node
from .driver import StreamParser
from .grammar import CompiledGrammar
from .islands import Island

__all__ = ["SpecialMarks", "TokenAnchors", "TokenStreamParser", "token_anchors"]

_C = _sre_constants
_REPEATS = (_C.MAX_REPEAT, _C.MIN_REPEAT, getattr(_C, "POSSESSIVE_REPEAT", None))


@dataclass(frozen=True, slots=True)
class _Anchored:
    """One delimiter whose text holds special-token text."""

    match: Callable[..., re.Match[str] | None]
    """``match`` of the pattern with each special text as a capture group."""
    texts: tuple[str, ...]
    """The special text of group 1, 2, ..."""
    leading: str | None
    """The special text every match begins with, if any (checked before matching,
    so that such a delimiter is not even held back where no id wrote it)."""


class _Unsupported(Exception):
    """A construct the anchored copy cannot reproduce exactly: no anchors then."""


def _split_runs(run: str, tokenizer: Tokenizer, found: dict[int, str]) -> list[tuple[str, bool]]:
    """``run`` cut into (text, is special) by the tokenizer's own encoding: special
    text maps to its special id (the ``Tokenizer`` protocol), the rest is text."""
    special = tokenizer.special_ids
    ids = tokenizer.encode(run)
    out: list[tuple[str, bool]] = []
    pos = 0
    for token in ids:
        if token not in special:
            continue
        text = found.get(token)
        if text is None:
            text = tokenizer.decode([token])
        k = run.find(text, pos) if text else -1
        if k < 0:  # a decoder that does not give the text back: not an anchor
            continue
        found[token] = text
        if k > pos:
            out.append((run[pos:k], False))
        out.append((text, True))
        pos = k + len(text)
    if pos < len(run):
        out.append((run[pos:], False))
    return out


class _AnchorBuilder:
    """Renders a parsed delimiter pattern with special text in capture groups."""

    def __init__(self, tokenizer: Tokenizer, found: dict[int, str]) -> None:
        self.tokenizer = tokenizer
        self.found = found
        self.texts: list[str] = []
        self.leading: str | None = None

    def render(self, items: Any, top: bool = False) -> str:
        out: list[str] = []
        run: list[str] = []
        seq = [*items, (None, None)]
        i = 0
        while i < len(seq):
            op, av = seq[i]
            i += 1
            if op is _C.LITERAL:
                run.append(chr(av))
                continue
            if op is _C.BRANCH:
                # The literals around a branch belong to every alternative: the regex
                # parser factors a common prefix out ("<|tool" of DeepSeek's opener
                # and its misspelled variants), and a grammar may write a common
                # suffix outside the group.  Put both back in each
                # alternative, so a special token's text is one run.
                prefix = [(_C.LITERAL, ord(c)) for c in run]
                suffix: list[Any] = []
                while seq[i][0] is _C.LITERAL:
                    suffix.append(seq[i])
                    i += 1
                if prefix or suffix:
                    run = []
                    branches = [prefix + list(b) + suffix for b in av[1]]
                    out.append("(?:" + "|".join(self.render(b) for b in branches) + ")")
                    continue
            if run:
                for k, (text, special) in enumerate(
                    _split_runs("".join(run), self.tokenizer, self.found)
                ):
                    if special:
                        if top and not out and k == 0:
                            self.leading = text
                        self.texts.append(text)
                        out.append("(" + re.escape(text) + ")")
                    else:
                        out.append(re.escape(text))
                run = []
            if op is None:
                break
            out.append(self._node(op, av))
        return "".join(out)

    def _node(self, op: Any, av: Any) -> str:
        if op is _C.SUBPATTERN:
            if av[1] or av[2]:
                raise _Unsupported("inline flags")
            return "(?:" + self.render(av[-1]) + ")"
        if op is _C.BRANCH:
            return "(?:" + "|".join(self.render(b) for b in av[1]) + ")"
        if op in _REPEATS:
            lo, hi, sub = av
            upper = "" if hi is _C.MAXREPEAT else str(hi)
            mode = "?" if op is _C.MIN_REPEAT else "+" if op is not _C.MAX_REPEAT else ""
            return "(?:" + self.render(sub) + "){" + f"{lo},{upper}" + "}" + mode
        if op is _C.ASSERT or op is _C.ASSERT_NOT:
            direction, sub = av
            head = ("(?=" if direction == 1 else "(?<=") if op is _C.ASSERT else "(?!"
            if op is _C.ASSERT_NOT and direction != 1:
                head = "(?<!"
            return head + self.render(sub) + ")"
        try:
            return _render_node(op, av)
        except ValueError as exc:
            raise _Unsupported(str(exc)) from None


class TokenAnchors:
    """Which delimiters of a format hold special-token text, for one tokenizer.

    Built once per format and tokenizer (``token_anchors`` caches it); every parser
    of that pair shares it."""

    __slots__ = ("delimiters", "ids", "longest", "quote")

    def __init__(self, grammar: CompiledGrammar, tokenizer: Any) -> None:
        tok = as_tokenizer(tokenizer)
        found: dict[int, str] = {}
        self.delimiters: dict[str, _Anchored] = {}
        """Delimiter name -> its anchored pattern (delimiters without special text
        are absent: every match of theirs counts)."""
        for name, d in grammar.delimiters.items():
            anchored = _anchor(d, tok, found)
            if anchored is not None:
                self.delimiters[name] = anchored
        self.quote = False
        """Whether the format's object island's ``<|"|>`` is a special token."""
        if "gemma_object" in grammar.spec.islands.values():
            self.quote = any(special for _t, special in _split_runs(QUOTE, tok, found))
        texts = {t for a in self.delimiters.values() for t in a.texts}
        if self.quote:
            texts.add(QUOTE)
        self.ids: dict[int, str] = {i: t for i, t in found.items() if t in texts}
        """Special id -> its text, for the ids whose text is an anchor."""
        self.longest = max((len(t) for t in texts), default=0)


_ANCHORS: OrderedDict[tuple[str, int], tuple[Any, TokenAnchors]] = OrderedDict()
_ANCHORS_KEPT = 16


def token_anchors(grammar: CompiledGrammar, tokenizer: Any) -> TokenAnchors:
    """``TokenAnchors`` of a format for a tokenizer, cached for the last few pairs
    (building them encodes every delimiter: ~1 ms, a parser costs microseconds).
    The cache holds the tokenizer object; special tokens added to it later are not
    seen, as ``as_tokenizer``'s adapters do not see them either."""
    key = (grammar.spec.name, id(tokenizer))
    hit = _ANCHORS.get(key)
    if hit is not None and hit[0] is tokenizer:
        _ANCHORS.move_to_end(key)
        return hit[1]
    anchors = TokenAnchors(grammar, tokenizer)
    _ANCHORS[key] = (tokenizer, anchors)
    while len(_ANCHORS) > _ANCHORS_KEPT:
        _ANCHORS.popitem(last=False)
    return anchors


def _anchor(d: Delimiter, tok: Tokenizer, found: dict[int, str]) -> _Anchored | None:
    builder = _AnchorBuilder(tok, found)
    try:
        pattern = builder.render(_sre_parse.parse(d.pattern), top=True)
    except _Unsupported:
        return None  # matched as in text
    if not builder.texts:
        return None
    return _Anchored(re.compile(pattern).match, tuple(builder.texts), builder.leading)


class SpecialMarks:
    """Where anchor ids put their text, for the lexer's ``DelimiterGate``.

    ``arrive(text, special)`` before each piece of text goes to the parser: the
    piece ends with the text of the special id ``special`` when given.  Offsets are
    characters of the parser's input since it was built; everything before the
    first piece (a generation prompt's leftover) is trusted."""

    __slots__ = ("_limit", "_order", "_parser", "_starts", "_trusted", "anchors", "received")

    def __init__(self, parser: StreamParser, anchors: TokenAnchors) -> None:
        self.anchors = anchors
        self.received = 0
        """Characters the parser was given so far."""
        self._parser = parser
        self._limit = parser.max_holdback
        self._starts: dict[int, str] = {}
        self._order: deque[int] = deque()
        self._trusted: deque[list[int]] = deque([[-(1 << 62), 0]])
        """Ranges of text that came without ids: every marker in them counts."""

    def install(self) -> None:
        """Gate the parser from here on (once): the text it received so far came
        without ids and is trusted."""
        parser = self._parser
        if parser._gate is None:
            self.received = parser.offset
            self._trusted[-1][1] = self.received
            parser._gate = self

    # -- input ---------------------------------------------------------------------

    def arrive(self, text: str, special: str | None = None) -> None:
        """``text`` is next; it ends with the anchor text ``special`` if given."""
        self.prune()
        end = self.received + len(text)
        if special is not None and text.endswith(special):
            self.mark(end - len(special), special)
        self.received = end

    def mark(self, offset: int, text: str) -> None:
        """An anchor id's ``text`` starts at character ``offset`` of the input."""
        if offset not in self._starts:
            self._order.append(offset)
        self._starts[offset] = text

    def trust(self, text: str) -> None:
        """``text`` is next and came without ids: its markers all count."""
        self.prune()
        end = self.received + len(text)
        last = self._trusted[-1] if self._trusted else None
        if last is not None and last[1] >= self.received:
            last[1] = end
        else:
            self._trusted.append([self.received, end])
        self.received = end

    def prune(self) -> None:
        """Forget offsets the lexer can no longer look at: before the held-back
        text, less one marker's length (an island matching one across chunks)."""
        order, trusted = self._order, self._trusted
        if not order and len(trusted) < 2:
            return
        low = self.received - len(self._parser._buf) - self.anchors.longest
        starts = self._starts
        while order and order[0] < low:
            del starts[order.popleft()]
        while len(trusted) > 1 and trusted[0][1] <= low:
            trusted.popleft()

    def since(self, offset: int) -> list[tuple[int, str]]:
        """The marks at or after ``offset``, in order."""
        out: list[tuple[int, str]] = []
        for at in reversed(self._order):
            if at < offset:
                break
            out.append((at, self._starts[at]))
        out.reverse()
        return out

    # -- the gate ------------------------------------------------------------------

    def at(self, offset: int, text: str) -> bool:
        """Whether the special ``text`` at ``offset`` counts as a marker."""
        if self._starts.get(offset) == text:
            return True
        return any(a <= offset < b for a, b in self._trusted)

    def allows(self, d: Delimiter, buf: str, p: int, n: int) -> bool:
        """``DelimiterGate.allows``: every anchor of ``d`` at a mark of its text."""
        anchored = self.anchors.delimiters.get(d.name)
        if anchored is None:
            return True
        base = self.received - n
        if anchored.leading is not None and not self.at(base + p, anchored.leading):
            return False
        m = anchored.match(buf, p, p + self._limit)
        if m is None:
            return True  # a prefix: only its leading anchor can be judged yet
        for group, text in enumerate(anchored.texts, 1):
            start = m.start(group)
            if start >= 0 and not self.at(base + start, text):
                return False
        return True

    def island_opened(self, island: Island, offset: int) -> None:
        """``DelimiterGate.island_opened``: Gemma's object strings end only at a
        special ``<|"|>``."""
        scanner = getattr(island, "scanner", None)
        if self.anchors.quote and isinstance(scanner, GemmaObjectScanner):
            scanner.marker_gate = lambda raw: self.at(offset + raw, QUOTE)


class TokenStreamParser(StreamParser):
    """A ``StreamParser`` fed token ids: markers count only where special ids wrote
    them (see the module docstring).  Build it with ``toolwire.parser(format,
    tokenizer=tok)``.

    * ``feed_ids(ids)``: ids (an int or an iterable), decoded with the tokenizer's
      ``decode`` through ``IncrementalDetokenizer``; a character split across ids
      waits for its last id, so each event comes out of the feed holding the id
      that completes it.
    * ``feed(text, ids=ids)``: an engine's text delta and the ids it came from
      (vLLM: ``delta_text``, ``delta_token_ids``; the text decoded with special
      tokens kept).  The ids are decoded too, only to place the markers; a text
      that disagrees with them raises ``ValueError``.
    * ``feed(text)``: text without ids (a relay, a prefill): every marker in it
      counts, as in a text parser.  Before any ids, bytes are accepted too.
    * ``close()``: as for any parser; after ``feed_ids``, an incomplete character
      left at the end is decoded as it is (U+FFFD) first.

    Use one of the two id-carrying feeds for a stream: each keeps its own account of
    where the decoded text stands.  Ids are decoded without the prompt's context,
    which is exact for byte-level tokenizers.
    """

    def __init__(
        self,
        grammar: CompiledGrammar,
        tokenizer: Any,
        *,
        anchors: TokenAnchors | None = None,
        max_pending: int = DEFAULT_MAX_PENDING,
        **options: Any,
    ) -> None:
        super().__init__(grammar, **options)
        self.tokenizer: Tokenizer = as_tokenizer(tokenizer)
        self.anchors = anchors if anchors is not None else token_anchors(grammar, tokenizer)
        self._marks = SpecialMarks(self, self.anchors)
        self._detok = IncrementalDetokenizer(self.tokenizer.decode, max_pending=max_pending)
        self._decoded = 0
        """Characters the detokenizer emitted, on the input's scale (``feed(text,
        ids=)``: the engine's text may lag behind)."""
        self._parse_decoded = False
        """The decoded text is what is parsed (``feed_ids``): close() flushes it."""

    def feed_ids(self, ids: int | Iterable[int]) -> list[Event]:
        """Events for these ids (usually one, or a group that arrived together)."""
        self._parse_decoded = True
        if self._gate is None:
            self._install()
        marks = self._marks
        start = marks.received
        if type(ids) is int:  # one id: the common case, inlined
            text = self._detok.feed(ids)
            if not text:
                return []
            special = self.anchors.ids.get(ids)
            if special is not None and text.endswith(special):
                marks.mark(start + len(text) - len(special), special)
        else:
            text = self._decode(ids, start)
        self._decoded = start + len(text)
        return self._feed_marked(text)

    def feed(self, chunk: str | bytes, ids: int | Iterable[int] | None = None) -> list[Event]:
        """Events for a text chunk; ``ids``: the token ids it was decoded from."""
        marks = self._marks
        if ids is None:
            if self._gate is None:
                return super().feed(chunk)  # no ids yet: a text parser
            if not isinstance(chunk, str):
                raise TypeError("after token ids, text without ids must be str, not bytes")
            marks.trust(chunk)
            self._decoded = marks.received
            return super().feed(chunk)
        if not isinstance(chunk, str):
            raise TypeError(f"text with ids must be str, not {type(chunk).__name__}")
        self._parse_decoded = False
        self._install()
        start = marks.received
        self._decoded += len(self._decode(ids, self._decoded))
        for at, special in marks.since(start):
            piece = chunk[at - start : at - start + len(special)]
            if len(piece) == len(special) and piece != special:
                raise ValueError(
                    f"the text does not match its ids: {special!r} expected at offset "
                    f"{at}, found {piece!r} (decode with special tokens kept)"
                )
        return self._feed_marked(chunk)

    def close(self) -> list[Event]:
        """End of input (the ids' last incomplete character first, after ``feed_ids``)."""
        events: list[Event] = []
        if self._parse_decoded and not self._closed:
            self._parse_decoded = False
            rest = self._detok.close()
            if rest:
                events = self._feed_marked(rest)
        return events + super().close()

    def _install(self) -> None:
        if self._gate is None:
            self._marks.install()
            self._decoded = self._marks.received

    def _feed_marked(self, text: str) -> list[Event]:
        if not text:
            return []
        marks = self._marks
        marks.prune()
        marks.received += len(text)
        return StreamParser.feed(self, text)

    def _decode(self, ids: int | Iterable[int], offset: int) -> str:
        """Decode ids one by one (each character comes with the id that completes
        it), marking where anchor ids start; ``offset``: where the decoded text
        begins on the input's scale."""
        detok = self._detok
        anchor_ids = self.anchors.ids
        group: Iterable[Any] = ids if isinstance(ids, Iterable) else (ids,)  # numpy ints too
        pieces: list[str] = []
        at = offset
        for item in group:
            token = int(item)
            piece = detok.feed(token)
            if piece:
                pieces.append(piece)
                at += len(piece)
                special = anchor_ids.get(token)
                if special is not None and piece.endswith(special):
                    self._marks.mark(at - len(special), special)
        return "".join(pieces)
