"""The JSON body of one tool call: bare arguments, an envelope, or either.

A format says how a call body reads (``FormatSpec.envelope``):

* ``arguments`` — the body is the arguments object (the name came from a delimiter);
* ``envelope`` — the body is ``{"name": STRING, "arguments": OBJECT}`` (``parameters``
  accepted for ``arguments``), in any key order;
* ``auto`` (the ``tags`` format) — decided by the body's first key, so that it is
  known early enough to stream: a first key ``name``, ``arguments`` or ``parameters``
  makes an envelope; any other first key (or ``{}``) a bare arguments object.

Argument text is delivered as ``tool_call_delta`` events while it arrives, sliced out
of the envelope without re-parsing, and ``tool_call_start`` precedes the first delta:
it is emitted as soon as the name is known or the argument text begins.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from ..events import Event, ToolCall, ToolCallStart, tool_call_delta
from ..values.island_protocol import CallIsland, Island, IslandScanner
from ..values.json_engine import (
    STRING_STATE,
    JsonScanner,
    JsonSyntaxError,
    escaped_run,
    string_stop,
)
from ..values.literals import JOIN_EVERY

__all__ = ["ISLAND_KINDS", "CallError", "Island", "IslandScanner", "JsonCallBody"]

ESCAPED_CHARS = frozenset('"\\/bfnrt')
"""Characters after a backslash that the string hot paths complete (not ``u``: a
``\\u`` escape needs the scanner's surrogate pairing)."""

_ARGUMENT_KEYS = frozenset(("arguments", "parameters"))
_ENVELOPE_KEYS = frozenset(("name", "arguments", "parameters"))


class CallError(Exception):
    """A call body that is valid JSON of the wrong shape.  ``raw_offset`` is relative
    to the start of the body's text."""

    def __init__(self, code: str, raw_offset: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.raw_offset = raw_offset
        self.message = message


class JsonCallBody(CallIsland):
    """Feeds one call body through the JSON engine and turns it into call events."""

    __slots__ = (
        "emitted",
        "escape_pending",
        "extra_keys",
        "id_key",
        "kind",
        "plain",
        "scanner",
    )

    def __init__(
        self,
        mode: Literal["arguments", "envelope", "auto"],
        *,
        max_depth: int,
        max_size: int,
        id_key: str | None = None,
        extra_keys: frozenset[str] = frozenset(),
        **call: Any,
    ) -> None:
        super().__init__(**call)
        self.id_key = id_key
        """An extra envelope key that carries the call id (e.g. Mistral's ``id``)."""
        self.extra_keys = extra_keys
        """Envelope keys allowed and ignored."""
        self.kind: str | None = "arguments" if mode == "arguments" else None
        """"arguments" or "envelope" once decided; None while undecided."""
        if mode == "envelope":
            self.kind = "envelope"
        capture = None if self.kind == "arguments" else _ARGUMENT_KEYS
        self.scanner = JsonScanner(max_depth=max_depth, max_size=max_size, capture_keys=capture)
        self.emitted = 0
        """Offset in the body's raw text up to which argument text was delivered."""
        self.streaming = False
        """Inside the arguments with everything so far delivered: whatever the next
        chunk holds up to the arguments' end goes out as one delta."""
        self.plain = False
        """Streaming and inside a string value: plain characters can go straight out
        (the driver's hot path)."""
        self.escape_pending = False
        """Streaming, inside a string value, right after a backslash."""

    def feed(self, text: str, start: int, end: int, out: list[Event]) -> int:
        """Consume ``text[start:end]``; returns the index just past the completing
        character, or -1.  Raises JsonSyntaxError (index into ``text``) after
        delivering the argument text that precedes the error."""
        sc = self.scanner
        before = sc.size
        if self.streaming:
            self.emitted = before  # the driver's hot path delivered everything so far
        if self.quiet:
            out = []
        try:
            done = sc.feed(text, start, end)
        except JsonSyntaxError as exc:
            # Even at this feed's first character: the offending character may have
            # ended a value (a number) that completes the envelope's name.
            if exc.index >= start:
                self._deliver(text, start, before, before + exc.index - start, False, out)
            self.streaming = self.plain = self.escape_pending = False
            raise
        if self.streaming and done < 0 and sc.capture_end < 0:
            if end > start:
                out.append(tool_call_delta(self.index, self.id, text[start:end]))
            self.emitted = sc.size
            self.plain = sc.state == STRING_STATE and not sc.string_is_key
            self.escape_pending = False
            return -1
        self._deliver(text, start, before, sc.size, done >= 0, out)
        self.streaming = (
            self.started
            and sc.capture_start >= 0
            and sc.capture_end < 0
            and self.emitted == sc.size
        )
        self.plain = (
            (self.streaming or self.quiet) and sc.state == STRING_STATE and not sc.string_is_key
        )
        self.escape_pending = False
        return done

    def _deliver(
        self, text: str, start: int, before: int, upto: int, complete: bool, out: list[Event]
    ) -> None:
        """Emit the start and the argument text consumed up to raw offset ``upto``
        (``text[start]`` is at raw offset ``before``).  Everything here depends on
        text positions only, so any chunking gives the same events."""
        sc = self.scanner
        if self.kind is None or (self.kind == "envelope" and not self.started):
            self._decide(complete, out, text, start, before, upto)
        cap = sc.capture_start
        if cap < 0:
            return
        hi = sc.capture_end if 0 <= sc.capture_end <= upto else upto
        lo = self.emitted if self.emitted > cap else cap
        if hi > lo:
            if not self.started:
                self._start(out)
            piece = self._slice(text, start, before, upto, lo, hi)
            out.append(tool_call_delta(self.index, self.id, piece))
            self.emitted = hi

    def stream_plain(self, text: str) -> bool:
        """The string hot path outside the driver (provider streams): while ``plain``
        (or right after a backslash), ``text`` made of plain characters and complete
        simple escapes is kept without a scan, the escape state updated; False,
        having done nothing, when ``feed`` must read it."""
        if self.plain:
            if string_stop(text) is None:
                toggle = False
            elif (m := escaped_run(text)) is not None:
                toggle = m.lastindex is not None
            else:
                return False
        elif (
            self.escape_pending
            and text
            and text[0] in ESCAPED_CHARS
            and (m := escaped_run(text, 1)) is not None
        ):
            toggle = m.lastindex is None
        else:
            return False
        sc = self.scanner
        size = sc.size + len(text)
        if size > sc.max_size:
            return False
        sc.size = size  # sc.append, inlined
        pieces = sc.pieces
        pieces.append(text)
        if len(pieces) > JOIN_EVERY:
            sc.compact()
        if toggle:
            self.toggle_escape()
        return True

    def toggle_escape(self) -> None:
        """The hot path moved into or out of an escape inside a string value."""
        pending = not self.escape_pending
        self.escape_pending = pending
        self.plain = not pending
        self.scanner.set_escape(pending)

    def _slice(self, text: str, start: int, before: int, upto: int, lo: int, hi: int) -> str:
        """Raw body text [lo, hi): from this feed's text, or the kept text plus this
        feed's (not kept yet when an error cut the feed short)."""
        if lo >= before:
            return text[start + lo - before : start + hi - before]
        raw = self.scanner.raw()
        if len(raw) < hi:
            raw += text[start : start + upto - before]
        return raw[lo:hi]

    def _start(self, out: list[Event]) -> None:
        self.started = True
        out.append(
            ToolCallStart(index=self.index, id=self.id, name=self.name, builtin=self.builtin)
        )

    def _decide(
        self, complete: bool, out: list[Event], text: str, start: int, before: int, upto: int
    ) -> None:
        sc = self.scanner
        members = sc.members
        if self.kind is None:
            if members:
                if members[0][0] in _ENVELOPE_KEYS:
                    self.kind = "envelope"
                else:
                    self.kind = "arguments"
                    sc.capture_whole()
                    if complete:
                        sc.capture_end = sc.size
            elif complete:
                self.kind = "arguments"
                sc.capture_whole()
                sc.capture_end = sc.size
        if self.kind == "envelope" and not self.started:
            # The start carries the name, and the id (``id_key``), only if they came
            # before the arguments: decided by text positions, so it does not depend
            # on the chunking.  With an id key the start waits for the id until the
            # arguments begin (a bounded look-ahead: the envelope's other members).
            cap = sc.capture_start
            named = identified = False
            for key, lo, hi in members:
                if hi < 0 or (cap >= 0 and hi > cap):
                    continue
                if key == "name" or (key == self.id_key and key is not None):
                    value = json.loads(self._slice(text, start, before, upto, lo, hi))
                    if key == "name" and not named:  # a duplicate is an error later
                        named = True
                        if isinstance(value, str):
                            self.name = value
                    elif key != "name" and not identified:
                        identified = True
                        if isinstance(value, str):
                            self.id = value
            if named and (identified or self.id_key is None or cap >= 0 or complete):
                self._start(out)

    def complete(self, span_end: int) -> ToolCall:
        """The finished call.  Raises CallError for a wrong shape, JsonSyntaxError for
        the engine's numeric limits."""
        sc = self.scanner
        value: Any = sc.value()
        raw_all = sc.raw()
        if self.kind == "envelope":
            keys = [m[0] for m in sc.members if m[0] != self.id_key and m[0] not in self.extra_keys]
            arg_keys = [k for k in keys if k in _ARGUMENT_KEYS]
            if sorted(keys) != sorted(["name", *arg_keys]) or len(arg_keys) != 1:
                raise CallError(
                    "invalid_arguments",
                    sc.value_start,
                    "a call envelope must have exactly the keys 'name' and 'arguments' "
                    f"(or 'parameters'); found {keys}",
                )
            if not isinstance(value["name"], str):
                raise CallError(
                    "invalid_arguments", sc.value_start, "the call's name is not a string"
                )
            self.name = value["name"]
            arguments = value[arg_keys[0]]
            if isinstance(arguments, str):
                # Double-encoded (Granite 4, some Qwen and Llama outputs): decoded
                # once; ``raw`` stays the string literal as the model wrote it.
                arguments = _decode_object(arguments, sc.max_depth, sc.max_size)
            if self.id_key is not None and isinstance(value.get(self.id_key), str):
                self.id = value[self.id_key]
        else:
            arguments = value
        if not isinstance(arguments, dict):
            start = sc.capture_start if sc.capture_start >= 0 else sc.value_start
            what = (
                "a JSON string that does not hold a JSON object"
                if isinstance(arguments, str)
                else "not a JSON object"
            )
            raise CallError("invalid_arguments", start, f"the call's arguments are {what}")
        raw = raw_all[sc.capture_start : sc.capture_end]
        return ToolCall(
            index=self.index,
            id=self.id,
            name=self.name,
            arguments=arguments,
            raw=raw,
            span=(self.span_start, span_end),
            builtin=self.builtin,
        )


def _decode_object(text: str, max_depth: int, max_size: int) -> Any:
    """The object a double-encoded arguments string holds, or the string itself when
    it holds anything else (strict JSON within the engine's limits; decoded once, so
    a string inside the string stays a string)."""
    if text.lstrip(" \t\r\n")[:1] != "{":
        return text
    scanner = JsonScanner(max_depth=max_depth, max_size=max_size)
    try:
        end = scanner.feed(text, 0, len(text))
        if end < 0 or text[end:].strip(" \t\r\n"):
            return text
        return scanner.value()
    except JsonSyntaxError:
        return text


ISLAND_KINDS: dict[str, Any] = {"json_call": JsonCallBody}
"""Island kinds a FormatSpec may name -> the class that parses them.  Each is built
with ``(mode, index=, call_id=, name=, span_start=, started=, max_depth=, max_size=,
**options)`` -- it must accept (and may ignore) further keyword options such as the
envelope's ``id_key`` and ``extra_keys``, and ``builtin`` (which an island used by a
``FormatSpec.builtin_openers`` format puts on its events) -- and implements
``Island``."""
