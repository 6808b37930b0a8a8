"""Google Gemini ``streamGenerateContent?alt=sse`` streams (Gemini API and Vertex AI).

Schema read: ``candidates[0].content.parts`` — ``text`` parts (``thought: true``
makes them reasoning), ``functionCall`` parts, ``executableCode`` (code Google runs:
a ``provider_tool_call`` named ``code_execution``) —, ``candidates[0].finishReason``,
the last ``usageMetadata``, ``promptFeedback.blockReason`` (a blocked prompt: finish
``content_filter``) and an in-band ``error`` object.  Gemini has no end marker:
``finish`` goes out at ``close()``, once the stream has given its finish reason.

Function calls come whole (``name`` + ``args`` object: the call completes in its
event, with ``json.dumps(args)`` as its raw text), or — Vertex's
``streamFunctionCallArguments`` — streamed: ``{name, willContinue: true}`` opens the
call, ``partialArgs`` entries (``jsonPath`` + ``stringValue``/``numberValue``/
``boolValue``/``nullValue``, strings continued while ``willContinue``) add to it, and a
``functionCall`` without a name or ``willContinue`` closes it.  ``PathWriter``
turns the entries into JSON text, fed to the JSON engine like any argument fragment.
Gemini sends no call id unless it sends ``id``: calls get ``call_<index>``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..framing.sse import Frame
from .base import ProviderParser
from .calls import ClientCall
from .schema import SchemaError, get_dict, get_int, get_list, get_str

__all__ = ["GeminiParser", "PathWriter"]

FINISH_REASONS = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "MALFORMED_FUNCTION_CALL": "error",
    "UNEXPECTED_TOOL_CALL": "error",
}
"""Raw ``finishReason`` -> normalised; anything else (``OTHER``, ``LANGUAGE``...) is
``other``."""


class GeminiParser(ProviderParser):
    name = "gemini"
    description = "Google Gemini / Vertex AI streamGenerateContent (alt=sse)"
    models = "Gemini (Gemini API and Vertex AI, incl. streamed function-call arguments)"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._stream: ClientCall | None = None
        self._writer = PathWriter()

    def _payload(self, payload: dict[str, Any], frame: Frame) -> None:
        if payload.get("error") is not None:
            self._provider_error(payload)
        self._set_usage(get_dict(payload, "usageMetadata"))
        feedback = get_dict(payload, "promptFeedback")
        blocked = get_str(feedback, "blockReason") if feedback else None
        if blocked:
            self._set_reason(blocked, "content_filter")
        for candidate in get_list(payload, "candidates") or ():
            if not isinstance(candidate, dict):
                raise SchemaError("a candidate is not an object")
            if (get_int(candidate, "index") or 0) != 0:
                continue
            content = get_dict(candidate, "content") or {}
            for part in get_list(content, "parts") or ():
                if not isinstance(part, dict):
                    raise SchemaError("a part is not an object")
                self._part(part)
            reason = get_str(candidate, "finishReason")
            if reason:
                normalised = FINISH_REASONS.get(reason, "other")
                self._set_reason(reason, normalised)
                cut = normalised == "length"
                if self._stream is not None:
                    self._close_stream(cut=cut)
                self._end_calls(cut=cut)

    def _part(self, part: dict[str, Any]) -> None:
        call = get_dict(part, "functionCall")
        if call is not None:
            self._function_call(call)
            return
        text = get_str(part, "text")
        if text:
            self._text("reasoning" if part.get("thought") is True else "text", text)
        code = get_dict(part, "executableCode")
        if code is not None:
            self._provider_call(None, "code_execution", code)

    def _function_call(self, fc: dict[str, Any]) -> None:
        name = get_str(fc, "name") or None
        more = fc.get("willContinue") is True
        partial = get_list(fc, "partialArgs")
        call = self._stream
        if call is None or name is not None:
            if call is not None:
                self._close_stream(cut=False)
            if name is None:
                raise SchemaError("a functionCall without a name")
            call = self._open_call(get_str(fc, "id"), name)
            args = get_dict(fc, "args")
            if args is not None:
                self._args(call, json.dumps(args, ensure_ascii=False))
            if partial is None and not more:
                self._end_call(call)
                return
            self._stream = call
            self._writer = PathWriter()
        for entry in partial or ():
            if not isinstance(entry, dict):
                raise SchemaError("a partialArgs entry is not an object")
            self._args(call, self._writer.add(entry))
        if not more:
            self._close_stream(cut=False)

    def _close_stream(self, *, cut: bool) -> None:
        call = self._stream
        self._stream = None
        if call is None:
            return
        if not cut:
            self._args(call, self._writer.finish())
        self._end_call(call, cut=cut)


_SEGMENT = re.compile(
    r"\.([^.\[\]'\"]+)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\[\"((?:[^\"\\]|\\.)*)\"\]"
)
_UNESCAPE = re.compile(r"\\(.)")


def parse_path(path: str) -> list[str | int]:
    """``$.a.b[0]['c d']`` -> ``["a", "b", 0, "c d"]``."""
    if not path.startswith("$"):
        raise SchemaError(f"jsonPath {path!r} does not start at '$'")
    segments: list[str | int] = []
    pos = 1
    while pos < len(path):
        m = _SEGMENT.match(path, pos)
        if m is None:
            raise SchemaError(f"jsonPath {path!r} cannot be read at character {pos}")
        if m.group(2) is not None:
            segments.append(int(m.group(2)))
        else:
            key = m.group(1) or m.group(3) or m.group(4) or ""
            segments.append(_UNESCAPE.sub(r"\1", key) if m.group(1) is None else key)
        pos = m.end()
    if not segments:
        raise SchemaError("a jsonPath that names no member of the arguments")
    return segments


def _escape(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


class PathWriter:
    """Writes the JSON text of an arguments object from ``partialArgs`` entries, in
    the order they arrive: each entry closes the containers the previous path opened
    and this one leaves, opens the ones it enters, and writes its value; a string
    with ``willContinue`` stays open for the next entry of the same path.  Entries
    are expected in document order (as Vertex sends them): going back into a closed
    container would need a second key, and is an error."""

    __slots__ = ("_closed", "_counts", "_kinds", "_path", "_started", "_string")

    def __init__(self) -> None:
        self._started = False
        self._path: list[str | int] = []
        self._kinds: list[str] = ["{"]
        self._counts: list[int] = [0]
        self._string: tuple[str | int, ...] | None = None
        self._closed: set[tuple[str | int, ...]] = set()

    def add(self, entry: dict[str, Any]) -> str:
        """The JSON text this entry adds.  All or nothing: an entry that does not fit
        leaves the writer as it was (its stacks never get out of step)."""
        # The stacks are as deep as the arguments' nesting: cheap to keep.  (Closed
        # containers are left as recorded: a broken call is reported anyway.)
        saved = (
            self._started,
            self._string,
            list(self._path),
            list(self._kinds),
            list(self._counts),
        )
        try:
            return self._add(entry)
        except SchemaError:
            self._started, self._string, self._path, self._kinds, self._counts = saved
            raise

    def _add(self, entry: dict[str, Any]) -> str:
        path = get_str(entry, "jsonPath")
        if path is None:
            raise SchemaError("a partialArgs entry without a jsonPath")
        segments = parse_path(path)
        more = entry.get("willContinue") is True
        out: list[str] = []
        if not self._started:
            self._started = True
            out.append("{")
        key = tuple(segments)
        if self._string is not None:
            if self._string == key and "stringValue" in entry:
                out.append(_escape(get_str(entry, "stringValue") or ""))
                if not more:
                    out.append('"')
                    self._string = None
                return "".join(out)
            out.append('"')
            self._string = None
        parent = segments[:-1]
        common = 0
        while (
            common < len(parent)
            and common < len(self._path)
            and self._path[common] == parent[common]
        ):
            common += 1
        while len(self._path) > common:
            self._closed.add(tuple(self._path))
            self._path.pop()
            self._counts.pop()
            out.append("}" if self._kinds.pop() == "{" else "]")
        for depth in range(common, len(parent)):
            segment = parent[depth]
            self._member(out, segment)
            child = segments[depth + 1]
            kind = "[" if isinstance(child, int) else "{"
            self._path.append(segment)
            if tuple(self._path) in self._closed:
                raise SchemaError(f"jsonPath {path!r} goes back into a closed container")
            self._kinds.append(kind)
            self._counts.append(0)
            out.append(kind)
        self._member(out, segments[-1])
        out.append(self._value(entry, key, more))
        return "".join(out)

    def _member(self, out: list[str], segment: str | int) -> None:
        kind = self._kinds[-1]
        if (kind == "[") != isinstance(segment, int):
            raise SchemaError(f"jsonPath segment {segment!r} does not fit its container")
        if self._counts[-1]:
            out.append(",")
        self._counts[-1] += 1
        if kind == "{":
            out.append(json.dumps(segment, ensure_ascii=False) + ":")

    def _value(self, entry: dict[str, Any], key: tuple[str | int, ...], more: bool) -> str:
        if "stringValue" in entry:
            text = '"' + _escape(get_str(entry, "stringValue") or "")
            if more:
                self._string = key
                return text
            return text + '"'
        if "numberValue" in entry:
            number = entry["numberValue"]
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise SchemaError("'numberValue' is not a number")
            return json.dumps(number)
        if "boolValue" in entry:
            flag = entry["boolValue"]
            if not isinstance(flag, bool):
                raise SchemaError("'boolValue' is not a boolean")
            return "true" if flag else "false"
        if "nullValue" in entry:
            return "null"
        raise SchemaError("a partialArgs entry without a value")

    def finish(self) -> str:
        """The text that closes the object ("" when nothing was written: no
        arguments, which the caller takes as ``{}``)."""
        if not self._started:
            return ""
        out = ['"'] if self._string is not None else []
        self._string = None
        out.extend("}" if kind == "{" else "]" for kind in reversed(self._kinds))
        self._kinds = ["{"]
        self._path = []
        self._counts = [0]
        return "".join(out)
