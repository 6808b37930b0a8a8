"""``llama3-json``: Llama 3.1, 3.2, 3.3 JSON tool calls (FORMATS.md section 8.1).

Decisions (``grammars/llama3_json.lark`` makes the structural ones):

* A call is ``{"name": STRING, "parameters"|"arguments": OBJECT}`` (``"type":
  "function"`` allowed, any key order, pretty-printed or not); several calls are
  separated by ``;`` (spaces and newlines around it allowed), by whitespace alone
  (``{...}\\n{...}``, or nothing: ``{...}{...}``; vLLM reports every object), or each
  prefixed with ``<|python_tag|>``; text, then ``<|python_tag|>``, then calls is
  text + calls.  The text before ``<|python_tag|>`` is verbatim (section 12: no
  separators).  Double-encoded ``parameters`` (a JSON string holding an object) are
  decoded once (``raw`` and the deltas stay the string as written); a string holding
  anything else is not a call.
* A message that *starts* with ``{`` (after optional whitespace) is a call only if
  the object is one: the decision is possible only when the object closes, so its
  events are withheld until then (bounded by the object, never the stream), and the
  call's ``tool_call_start``, argument text and ``tool_call`` come together at its
  ``}``.  ``{"total": 3}``, ``{}`` or broken JSON is text, verbatim.  A message cut
  inside an object that has already shown call keys is a truncated call (an error),
  otherwise text.  ``{`` anywhere else in text (``Result: {...}``) is text.
* The same holds for an object that follows a call with only whitespace between
  (at most 64 characters, which belong to that call's span, as at the start of a
  message): it is withheld until it closes and is a call only if it is one
  (``{call}\\n{"total": 3}`` is a call and the text ``\\n{"total": 3}``).
  After text, ``{`` is text again.
* Text after a call is content, verbatim: the call is final at its ``}`` (FORMATS.md
  "values final at"), before what follows can be seen, so ``{...call...} was sent``
  is a call and the text `` was sent``.  A stop token (``<|eom_id|>``,
  ``<|eot_id|>``) right after calls ends them and is not text (engines normally strip
  it; the finish reason stays ``tool_calls``); elsewhere stop-token text is text.
* After ``<|python_tag|>`` the JSON must be a call: a JSON object of another shape is
  an ``invalid_arguments`` error.  After a ``;`` only a call may follow: anything else
  is an error at its first character.  A ``;`` or ``<|python_tag|>`` at the very end
  is a ``truncated`` error: a call was announced.
* **Built-in tools** (``Environment: ipython``; Meta's prompt format and reference
  decoder, llama.cpp's Llama 3.1 parser): ``<|python_tag|>brave_search.call(query=
  "...")`` and ``wolfram_alpha.call(...)`` are calls to those tools, their Python
  keyword arguments read by the ``python_kwargs`` island (as ``llama4-pythonic``),
  complete at the ``)``.  Any other non-blank text after the tag but ``{`` is Python
  code for the code interpreter: a call named ``code_interpreter`` (Meta's
  ``BuiltinTool.code_interpreter``) with arguments ``{"code": CODE}``, the code
  verbatim (``raw`` too) and streamed as it arrives.  The code ends at
  ``<|eom_id|>`` or ``<|eot_id|>``, whose ``>`` completes the call (never earlier: the
  code may go on until then); engines strip that stop token, so the end of the input
  completes it too (``tool_call`` from ``close()``).  A possible stop-token prefix at
  a chunk's end is held back (bounded), and output that ends inside one is
  ``truncated``; code with no text before the stop token is ``invalid_arguments``.
  A built-in or code call's span starts at its ``<|python_tag|>``; ``tools=``
  restricts these names like any other.  Code that starts with ``{`` is read as JSON.
* Spans: whitespace after ``;`` and ``<|python_tag|>`` (up to 64 characters) belongs
  to them, so a JSON call's span starts at its ``{``; at the start of a message and
  between calls joined by whitespace, the whitespace before ``{`` cannot be told
  from text yet and is part of the call's span.
* The assistant header ``<|start_header_id|>assistant<|end_header_id|>\\n\\n`` (the
  generation prompt) starts a message, so a prompt tail that ends with it leaves the
  parser where a bare call may begin.
* Errors (lenient mode) resynchronise at the next ``<|python_tag|>``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..engine.grammar import ContentSpec, FormatSpec
from ..engine.islands import ISLAND_KINDS, CallError
from ..events import Event, ToolCall, ToolCallDelta, tool_call_delta
from ..values.json_engine import JsonSyntaxError

if TYPE_CHECKING:
    from ..engine.islands import Island, IslandScanner

CODE_TOOL = "code_interpreter"
"""The code interpreter's tool name (Meta's reference decoder, ``BuiltinTool``)."""

_TAG = "<|python_tag|>"
_LEAD = re.compile(r"<\|python_tag\|>[ \t\r\n]*")
_STOP = re.compile(r"<\|eo[mt]_id\|>")
_STOPS = ("<|eom_id|>", "<|eot_id|>")
_LONGEST = len(_STOPS[0])


def _held_from(text: str) -> int:
    """Where the longest suffix of ``text`` that may still become a stop token
    begins (``len(text)`` when none): only that much is ever held back."""
    at = text.rfind("<", max(0, len(text) - _LONGEST + 1))
    if at >= 0 and any(stop.startswith(text[at:]) for stop in _STOPS):
        return at
    return len(text)


class CodeBody:
    """The code interpreter's island: Python source after ``<|python_tag|>``, verbatim,
    up to the stop token (which completes the call and is not code) or the end of the
    input.  A possible stop-token prefix at the end of a chunk (``<|eo``) is held back,
    so the code streams as ``tool_call_delta`` events and never shows marker text.

    It is its own scanner (``IslandScanner``): ``raw()`` is everything consumed, the
    stop token included; the call's ``raw`` and ``arguments["code"]`` are the code."""

    __slots__ = (
        "_code",
        "_code_size",
        "_held",
        "_pieces",
        "_stop",
        "id",
        "index",
        "max_size",
        "name",
        "quiet",
        "scanner",
        "size",
        "span_start",
        "started",
        "streaming",
        "value_start",
    )

    def __init__(
        self,
        mode: str,
        *,
        index: int,
        call_id: str,
        name: str | None,
        span_start: int,
        started: bool,
        max_depth: int,
        max_size: int,
        **options: object,
    ) -> None:
        self.index = index
        self.id = call_id
        self.name = name
        self.span_start = span_start
        self.started = started
        self.streaming = False
        self.quiet = False
        self.max_size = max_size
        self.size = 0
        self.value_start = 0
        self.scanner: IslandScanner = self
        self._pieces: list[str] = []
        self._code: list[str] = []
        self._code_size = 0
        self._held = ""
        self._stop = ""

    # -- IslandScanner -----------------------------------------------------------

    def raw(self) -> str:
        return "".join(self._pieces)

    def finish(self) -> bool:
        """End of input: the code is complete (engines strip the stop token), unless
        the input ends inside a possible stop token."""
        return not self._held or bool(self._stop)

    def expected(self) -> str:
        return "the rest of <|eom_id|> or <|eot_id|>"

    # -- Island -------------------------------------------------------------------

    def feed(self, text: str, start: int, end: int, out: list[Event]) -> int:
        """Consume ``text[start:end]``; the index just past the stop token's ``>``, or
        -1.  Raises JsonSyntaxError (``limit_exceeded``) at the first character of
        code past ``max_size``, after delivering the code before it."""
        first = start
        if not self.size:  # the first text is CODE_TAG's: the tag and its blanks are markup
            lead = _LEAD.match(text, start, end)
            if lead is not None:
                start = lead.end()
        held = self._held
        window = held + text[start:end]
        m = _STOP.search(window)
        code_end = m.start() if m is not None else _held_from(window)
        room = self.max_size - self._code_size
        if code_end > room:
            # The first character past the limit; when an earlier feed held it back
            # (a possible stop token that was not one), that held text goes back to
            # the lexer, so the error and what follows are the same in any chunking.
            before = window[:room]
            self._keep(before, out)
            if room < len(held):
                pending = held[room:]
                raw = self.raw()
                self._pieces[:] = [raw[: len(raw) - len(pending)]]
                self.size -= len(pending)
                raise JsonSyntaxError(
                    "limit_exceeded",
                    start,
                    f"arguments longer than {self.max_size} characters",
                    pending=pending,
                )
            raise JsonSyntaxError(
                "limit_exceeded",
                start + room - len(held),
                f"arguments longer than {self.max_size} characters",
            )
        self._keep(window[:code_end], out)
        if m is not None:
            done = start + m.end() - len(held)
            self._stop = m.group()
            self._held = ""
        else:
            done = end
            self._held = window[code_end:]
        self._pieces.append(text[first:done])
        self.size += done - first
        return done if m is not None else -1

    def fast_feed(self, chunk: str) -> ToolCallDelta | None:
        """The driver's island fast path: a chunk with no ``<`` (nothing held) is code."""
        if not chunk or self._held or "<" in chunk or self._code_size + len(chunk) > self.max_size:
            return None
        self._pieces.append(chunk)
        self._code.append(chunk)
        self._code_size += len(chunk)
        self.size += len(chunk)
        return tool_call_delta(self.index, self.id, chunk)

    def _keep(self, code: str, out: list[Event]) -> None:
        if code:
            self._code.append(code)
            self._code_size += len(code)
            if not self.quiet:
                out.append(tool_call_delta(self.index, self.id, code))

    def complete(self, span_end: int) -> ToolCall:
        """The finished call; CallError when no code came before the stop token."""
        code = "".join(self._code)
        if not code.strip():
            raise CallError("invalid_arguments", 0, "the code interpreter call holds no code")
        return ToolCall(
            index=self.index,
            id=self.id,
            name=self.name,
            arguments={"code": code},
            raw=code,
            span=(self.span_start, span_end),
        )


if TYPE_CHECKING:  # the island protocol, checked statically

    def _is_an_island(body: CodeBody) -> Island:
        return body


ISLAND_KINDS.setdefault("llama_code", CodeBody)


def _no_name(text: str) -> None:
    return None


def _builtin_name(text: str) -> str:
    return text[len(_TAG) :].strip(" \t\r\n").split(".", 1)[0]


def _code_name(text: str) -> str:
    return CODE_TOOL


SPEC = FormatSpec(
    name="llama3-json",
    grammar="llama3_json.lark",
    description=(
        "bare JSON calls {name, parameters}, optional <|python_tag|>, ';' or newline "
        "separators; built-in tools"
    ),
    models="Llama 3.1, 3.2, 3.3 (and Llama 4 with the JSON tool prompt)",
    content={
        "TEXT": ContentSpec("text"),
    },
    islands={
        "BARE": "json_call",
        "TAGGED": "json_call",
        "PYARGS": "python_kwargs",
        "CODE_BODY": "llama_code",
    },
    call_openers={
        "LEAD": _no_name,
        "NEXT": _no_name,
        "BUILTIN_TAG": _builtin_name,
        "CODE_TAG": _code_name,
    },
    envelope="envelope",
    envelope_extra_keys=frozenset({"type"}),
    island_lead=frozenset({"LEAD", "NEXT", "CODE_TAG"}),
    speculative_islands=frozenset({"BARE"}),
    resync_before=frozenset({"PYTHON_TAG", "BUILTIN_TAG", "CODE_TAG"}),
    block_names={
        "LEAD": "{",
        "NEXT": "{",
        "SEMI": ";",
        "BARE": "JSON call",
        "TAGGED": "JSON call",
        "PYARGS": "keyword arguments",
        "CODE_BODY": "code",
        "CODE_TAG": "<|python_tag|> and code",
        "BUILTIN_TAG": "<|python_tag|>brave_search.call( or wolfram_alpha.call(",
        "HEADER": "assistant header",
        "HEADER_NL": "assistant header",
    },
)
