"""What every part of the stream parser shares: its state, its errors, and the
text and reasoning blocks it emits.

Theory of operation
-------------------
``StreamParser`` (``driver.py``) is one object assembled from layers, each a class in
a module of its own, each using only the layers below it:

``ParserCore`` (here) -> ``Recovery`` (``recovery.py``) -> ``ContentDriver``
(``content.py``) -> ``IslandRunner`` (``island_runner.py``) -> ``Lexer``
(``lexer.py``) -> ``StreamParser`` (``driver.py``).

Every layer reads and writes the fields set up here, so the hot paths pay no extra
call layer: a field is one attribute of one object.  This layer also owns the
output that every other layer produces: an ``Error`` event (or, in strict mode, the
``ParseError`` it raises), and the blocks of text and reasoning.  A block is a
maximal run of one kind with an id counted from 0; a run's leading separators are
dropped and its trailing ones wait for what ends the run (``_deliver``,
``_end_run``), at most ``max_holdback`` of them, so memory stays bounded and the
outcome does not depend on the chunking.

Positions come from one ``LineCounter`` fed the consumed text in order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from lark.parsers.lalr_interactive_parser import InteractiveParser
from lark.parsers.lalr_parser_state import ParseConf, ParserState

from ..errors import ParseError
from ..events import (
    Error,
    Event,
    ReasoningDelta,
    ReasoningEnd,
    ReasoningStart,
    TextDelta,
    TextEnd,
    TextStart,
    reasoning_delta,
    text_delta,
)
from ..framing.decoding import Utf8Decoder
from ..limits import DEFAULT_MAX_BUFFERED, DEFAULT_MAX_CALLS
from ..message import MessageBuilder
from ..positions import LineCounter
from ..values.json_engine import DEFAULT_MAX_DEPTH, DEFAULT_MAX_SIZE
from ..values.schema_check import ArgumentChecker
from ..values.schema_typing import ToolSchemas
from .calls import PendingCall
from .delimiters import Delimiter
from .grammar import CompiledGrammar, ContentSpec, LexState
from .islands import Island, JsonCallBody
from .skipping import BodySkipper

__all__ = ["DEFAULT_MAX_HOLDBACK", "DelimiterGate", "ParserCore"]

DEFAULT_MAX_HOLDBACK = 1024
"""Longest text kept back as a possible delimiter (characters).  Literal delimiters
are far shorter; the limit bounds pattern delimiters such as ``<tool_call name="...">``
whose attribute could otherwise grow without end."""


class DelimiterGate(Protocol):
    """The one hook of token-aware parsing (``token_parser.py``): which delimiter
    matches count, given where special-token ids put their text.  Without a gate
    every match counts (text carries no token information)."""

    def allows(self, d: Delimiter, buf: str, p: int, n: int) -> bool:
        """Whether ``d`` may match (or, for a prefix, still become a match) at
        ``buf[p]``; ``buf[:n]`` ends with the last character received."""
        ...

    def island_opened(self, island: Island, offset: int) -> None:
        """An island starts at character ``offset`` of the stream (sub-parsers whose
        closers are special tokens take the same rule)."""
        ...


class ParserCore:
    """The fields every layer of ``StreamParser`` reads, and the output they share."""

    def __init__(
        self,
        grammar: CompiledGrammar,
        *,
        strict: bool = False,
        tools: Sequence[Mapping[str, Any]] | None = None,
        generation_prompt: str | None = None,
        max_depth: int = DEFAULT_MAX_DEPTH,
        max_argument_size: int = DEFAULT_MAX_SIZE,
        max_holdback: int = DEFAULT_MAX_HOLDBACK,
        max_calls: int = DEFAULT_MAX_CALLS,
        max_buffered: int = DEFAULT_MAX_BUFFERED,
        message: bool = False,
        check_arguments: bool = False,
    ) -> None:
        self._g = grammar
        self._builder = MessageBuilder() if message else None
        """Collects the live ``message`` snapshot; off by default because it keeps the
        whole output (and costs the hot paths)."""
        self._states = grammar.states
        self._conf = ParseConf(grammar.parse_table, grammar.rule_callbacks, "start")  # type: ignore[arg-type]
        self.strict = strict
        self.max_depth = max_depth
        self.max_argument_size = max_argument_size
        self.max_calls = max_calls
        self.max_buffered = max_buffered
        # What may grow (an open call's text, held-back text) is capped by the
        # narrower of its own limit and the stream's whole budget.
        self.max_holdback = min(max_holdback, max_buffered)
        self._call_cap = min(max_argument_size, max_buffered)
        self._raw_size = 0
        """Characters of the assembling call's raw text (markup formats)."""
        self._ip = self._new_lalr()
        self._buf = ""
        self._pos = LineCounter()
        self._block: tuple[str, int] | None = None
        self._next_block = 0
        self._run = False
        self._island: Island | None = None
        self._hot: JsonCallBody | None = None
        """The island, while its arguments stream with nothing held back: the state
        in which ``feed`` takes its hot path."""
        self._fast: Callable[[str], list[Event] | None] | None = None
        """The open island's ``fast_feed``, while nothing is held back (other island
        kinds' hot path)."""
        self._text_find: Callable[..., re.Match[str] | None] | None = None
        self._value_find: Callable[..., re.Match[str] | None] | None = None
        """While a raw value of an assembled call streams (nothing held back): where a
        delimiter of the value's state could start (``feed``'s raw-value path)."""
        self._starts: Callable[..., re.Match[str] | None] | None = None
        """The armed state's ``LexState.starts`` (the hot paths' check of a hit)."""
        self._value_call = PendingCall(-1, 0, assemble=True)
        """The call whose value that path streams (a placeholder until armed)."""
        self._text_class: type[TextDelta] | type[ReasoningDelta] = TextDelta
        self._text_block = 0
        self._text_tail = ""
        self._island_term = ""
        self._island_offset = 0
        self._speculative = False
        self._skipper: BodySkipper | None = None
        """Skipping the rest of a broken body inside a list (``FormatSpec.skip_broken``)."""
        self._run_expected: tuple[str, ...] = ()
        self._call_where = (1, 1)
        """Line and column where the open call started (for errors reported later)."""
        self._lead_snapshot: tuple[InteractiveParser, LexState] | None = None
        self._call: PendingCall | None = None
        self._schemas = ToolSchemas(tools)
        self._checker = ArgumentChecker(tools) if check_arguments else None
        """Checks each completed call against its tool's schema (``check_arguments``)."""
        self._run_text = False
        """Whether the current run delivered text (leading separators are over)."""
        self._held_ws = ""
        """Trailing separator characters waiting for what ends the run."""
        self._held_spec = ContentSpec("text")
        self._captured: list[str] = []
        self._captured_size = 0
        self._capture_spec: ContentSpec | None = None
        self._calls = 0
        self._completed = 0
        self._text_after_call = False
        self._recovering = False
        self._failed: ParseError | None = None
        self._closed = False
        self._at_end = False
        """``close()`` is lexing what was held back: the input has ended (an invalid
        byte also flushes the hold-back, but more input follows it)."""
        self._cut = False
        """The input ended inside a delimiter, already reported as ``truncated``."""
        self._decoder: Utf8Decoder | None = None
        self._gate: DelimiterGate | None = None
        self._rewind = ""
        """Text an island held back past its error, to lex again (``JsonSyntaxError.pending``)."""
        """Set by a token-aware front end after priming (the prompt is text: its
        markers all count)."""
        if generation_prompt:
            self._prime(generation_prompt)

    # Two steps of a higher layer that this one starts: the stack is built once, so
    # these are filled in by the layer named, never left empty in a parser.

    def _prime(self, prompt: str) -> None:
        """Run the generation prompt's tail through the parser (``driver.py``)."""
        raise NotImplementedError

    def _add_value(
        self, call: PendingCall, text: str, before: str | None, out: list[Event]
    ) -> None:
        """Settle a raw value capture as an argument (``content.py``)."""
        raise NotImplementedError

    def _new_lalr(self) -> InteractiveParser:
        state: ParserState[Any] = ParserState(self._conf, None)  # type: ignore[arg-type]
        return InteractiveParser(None, state, None)  # type: ignore[arg-type]

    def _consume(self, buf: str, i: int, j: int) -> None:
        if j > i:
            self._pos.advance(buf[i:j])

    def _error(
        self,
        out: list[Event],
        code: str,
        message: str,
        offset: int,
        pending: str = "",
        where: tuple[int, int] | None = None,
    ) -> None:
        """Report an error at ``offset``: at or after the counter (``pending`` is the
        text from the counter on), or at a spot located earlier (``where``)."""
        line, column = where if where is not None else self._pos.locate(offset, pending)
        full = f"{message} at line {line} column {column}"
        if self.strict:
            raise ParseError(str(code), full, offset=offset, line=line, column=column)
        out.append(Error(code=str(code), message=full, offset=offset, line=line, column=column))

    def _deliver(self, spec: ContentSpec, text: str, out: list[Event]) -> None:
        """Text or reasoning of the current run, minus the format's separators: a
        leading run of ``strip_leading`` characters is dropped; a trailing run of
        ``strip_trailing`` characters waits for what ends the run (``_end_run``),
        at most ``max_holdback`` of them (the rest is text, so memory stays bounded
        and the outcome does not depend on the chunking)."""
        if spec.strip_leading and not self._run_text:
            text = text.lstrip(spec.strip_leading)
            if not text:
                return
        self._run_text = True  # past the leading separators, even if all of it waits
        if spec.strip_trailing:
            body = text.rstrip(spec.strip_trailing)
            tail = text[len(body) :]
            if body:
                text = self._held_ws + body
                self._held_ws = tail
            else:
                text = ""
                self._held_ws += tail
            self._held_spec = spec
            excess = len(self._held_ws) - self.max_holdback
            if excess > 0:
                text += self._held_ws[:excess]
                self._held_ws = self._held_ws[excess:]
            if not text:
                return
        self._emit(spec.kind, text, out)

    def _emit(self, kind: str, text: str, out: list[Event]) -> None:
        if not self._text_after_call and not text.isspace():
            self._text_after_call = True
        block = self._block
        if block is None or block[0] != kind:
            self._end_block(out)
            block = self._block = (kind, self._next_block)
            self._next_block += 1
            out.append(TextStart(id=block[1]) if kind == "text" else ReasoningStart(id=block[1]))
        if kind == "text":
            out.append(text_delta(block[1], text))
        else:
            out.append(reasoning_delta(block[1], text))

    def _end_block(self, out: list[Event]) -> None:
        block = self._block
        if block is not None:
            self._block = None
            out.append(TextEnd(id=block[1]) if block[0] == "text" else ReasoningEnd(id=block[1]))

    def _end_run(self, before: str | None, out: list[Event]) -> None:
        """A content run ends (at delimiter ``before``, or None for anything else):
        settle held separators and captures, close the block."""
        held = self._held_ws
        if held:
            self._held_ws = ""
            strip_before = self._held_spec.strip_before
            if before is None or (strip_before is not None and before not in strip_before):
                self._emit(self._held_spec.kind, held, out)
        spec = self._capture_spec
        if spec is not None:
            self._capture_spec = None
            text = "".join(self._captured)
            self._captured.clear()
            self._captured_size = 0
            call = self._call
            if call is not None:
                kind = spec.kind
                if kind == "name":
                    call.set_name(text.strip() or None, out)
                elif kind == "id":
                    model_id = text.strip()  # blank: keep call_<index>, derive nothing
                    call.id = model_id or call.id
                    derive = self._g.spec.name_from_id
                    call.set_name(derive(model_id) if derive and model_id else None, out)
                elif kind == "key":
                    call.key = text.strip()
                else:
                    self._add_value(call, text, before, out)
        self._end_block(out)
        self._run = False
        self._run_text = False
