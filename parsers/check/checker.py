"""Checking one dataset record: every stream it holds, with positions.

A stream field is parsed in its format (given, or detected from its start when the
format is ``auto``); every ``error`` event is a finding, located by offset, line and
column inside that field.  A structured call of a ``messages`` record is checked the
way a client would run it: the name must be a string (and one of the tools, when the
record or ``--tools`` lists them), ``arguments`` must be a JSON object text (parsed
strictly, located by the JSON decoder's position), and it must satisfy the tool's
JSON Schema.  The record's own ``tools`` (OpenAI style) win over ``--tools``.

Record-level problems that no parser reports have codes of their own:
``invalid_record`` (no such field, not a conversation, an unreadable line) and
``unknown_format`` (``auto`` could not tell the format of a stream field).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import parser as make_parser
from ..detect import detect_format
from ..errors import ErrorCode
from ..events import Error, ToolCall
from ..registry import is_provider
from ..values.schema_check import ArgumentChecker
from .records import CallRecord, TextStream, field_value, message_streams

__all__ = ["INVALID_RECORD", "UNKNOWN_FORMAT", "CheckOptions", "RecordResult", "check_record"]

_UNKNOWN = re.compile(r"call to unknown tool '([^']*)'")
"""The tool an ``unknown_tool`` error names (its message says it)."""

INVALID_RECORD = "invalid_record"
UNKNOWN_FORMAT = "unknown_format"
DETECT_HEAD = 8192
"""Characters (or bytes) of a stream that format detection reads."""
EXCERPT = 60
"""Characters of context an error example shows."""


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """How records are read and checked (the command's options)."""

    format: str = "auto"
    """A format id, or ``auto``: detected per stream field."""
    field: str | None = None
    """Dotted path of the field to check; None: the record's ``messages``."""
    tools: tuple[Mapping[str, Any], ...] = ()
    """Tools for records that list none of their own."""
    schema: bool = True
    """Check call arguments against the tools' JSON Schemas."""


@dataclass(slots=True)
class RecordResult:
    """One record's verdict: valid or not, its errors, the tools it called."""

    index: int
    valid: bool = True
    formats: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "record": self.index,
            "valid": self.valid,
            "formats": self.formats,
            "calls": self.calls,
            "errors": self.errors,
        }

    def add_error(
        self,
        code: str,
        message: str,
        where: str,
        *,
        offset: int | None = None,
        line: int | None = None,
        column: int | None = None,
        excerpt: str = "",
        tool: str | None = None,
    ) -> None:
        self.valid = False
        error: dict[str, Any] = {"code": str(code), "message": message, "where": where}
        if offset is not None:
            error.update(offset=offset, line=line, column=column)
        if excerpt:
            error["excerpt"] = excerpt
        if tool is not None:
            error["tool"] = tool
        self.errors.append(error)


def check_record(record: Any, index: int, options: CheckOptions) -> RecordResult:
    """Check one record; never raises for bad data (it becomes the result's errors)."""
    result = RecordResult(index)
    tools = record.get("tools") if isinstance(record, Mapping) else None
    if not isinstance(tools, Sequence) or isinstance(tools, str | bytes) or not tools:
        tools = options.tools
    tools = tuple(t for t in tools if isinstance(t, Mapping))
    try:
        streams = _streams(record, options)
    except (KeyError, ValueError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        result.add_error(INVALID_RECORD, str(message), options.field or "messages")
        return result
    checker = _checker(tools) if options.schema and tools else None
    for stream in streams:
        if isinstance(stream, CallRecord):
            _check_call(stream, tools, checker, result)
        else:
            _check_stream(stream, tools, checker, options, result)
    return result


def _streams(record: Any, options: CheckOptions) -> list[TextStream | CallRecord]:
    if not isinstance(record, Mapping):
        raise ValueError("the record is not a JSON object")
    if options.field is None:
        if "messages" not in record:
            raise KeyError("no 'messages' in the record (pass --field for a stream field)")
        return message_streams(record["messages"])
    value = field_value(record, options.field)
    if isinstance(value, str | bytes):
        return [TextStream(options.field, value)]
    if isinstance(value, Sequence):
        return message_streams(value, options.field)
    raise ValueError(f"{options.field!r} holds neither a stream nor a list of messages")


def _check_stream(
    stream: TextStream,
    tools: tuple[Mapping[str, Any], ...],
    checker: ArgumentChecker | None,
    options: CheckOptions,
    result: RecordResult,
) -> None:
    content = stream.label.endswith(".content")  # a conversation turn's text
    fmt = options.format
    if fmt == "auto":
        detected = detect_format(stream.text[:DETECT_HEAD])
        if detected is None:
            if not content:  # plain text in a conversation is just text
                result.add_error(
                    UNKNOWN_FORMAT,
                    "cannot tell the format from the start of the stream (pass --format)",
                    stream.label,
                )
            return
        fmt = detected
    if content and is_provider(fmt):
        return  # a conversation's text is model output, never a provider body
    if fmt not in result.formats:
        result.formats.append(fmt)
    text = stream.text
    if is_provider(fmt) and isinstance(text, str):
        text = text.encode("utf-8")  # provider offsets count bytes of the body
    p = make_parser(fmt, tools=list(tools) or None, check_arguments=checker is not None)
    events = [*p.feed(text), *p.close()]
    last_call: str | None = None  # a schema error follows its call's tool_call event
    for event in events:
        if isinstance(event, ToolCall):
            result.calls.append(event.name or "")
            last_call = event.name
            continue
        if isinstance(event, Error):
            tool = last_call if event.code == ErrorCode.INVALID_ARGUMENTS else None
            if event.code == ErrorCode.UNKNOWN_TOOL:
                named = _UNKNOWN.search(event.message)
                tool = named.group(1) if named else None
            result.add_error(
                event.code,
                event.message,
                stream.label,
                offset=event.offset,
                line=event.line,
                column=event.column,
                excerpt=_excerpt(text, event.offset),
                tool=tool,
            )
        last_call = None


def _check_call(
    call: CallRecord,
    tools: tuple[Mapping[str, Any], ...],
    checker: ArgumentChecker | None,
    result: RecordResult,
) -> None:
    name = call.name
    if not isinstance(name, str) or not name:
        result.add_error(ErrorCode.INVALID_ARGUMENTS, "the call has no name", call.label)
        return
    result.calls.append(name)
    names = {_tool_name(t) for t in tools} - {None}
    if names and name not in names:
        result.add_error(
            ErrorCode.UNKNOWN_TOOL, f"call to unknown tool {name!r}", call.label, tool=name
        )
        return
    arguments = call.arguments
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError as exc:
            pos = getattr(exc, "pos", None)
            result.add_error(
                ErrorCode.INVALID_JSON,
                f"arguments are not JSON: {getattr(exc, 'msg', exc)}",
                f"{call.label}.function.arguments",
                offset=pos,
                line=getattr(exc, "lineno", None),
                column=getattr(exc, "colno", None),
                excerpt=_excerpt(call.arguments, pos),
                tool=name,
            )
            return
    if not isinstance(arguments, dict):
        result.add_error(
            ErrorCode.INVALID_ARGUMENTS,
            f"arguments are {type(arguments).__name__}, not a JSON object",
            f"{call.label}.function.arguments",
            tool=name,
        )
        return
    problem = checker.problem(name, arguments) if checker is not None else None
    if problem is not None:
        result.add_error(
            ErrorCode.INVALID_ARGUMENTS, problem, f"{call.label}.function.arguments", tool=name
        )


def _tool_name(tool: Mapping[str, Any]) -> str | None:
    fn = tool.get("function", tool)
    name = fn.get("name") if isinstance(fn, Mapping) else None
    return name if isinstance(name, str) else None


_CHECKERS: dict[str, ArgumentChecker] = {}


def _checker(tools: tuple[Mapping[str, Any], ...]) -> ArgumentChecker | None:
    """One checker per distinct tool list (datasets repeat a few lists thousands of
    times), kept for the process; None when no tool has a name."""
    if not any(_tool_name(t) for t in tools):
        return None
    key = json.dumps(tools, sort_keys=True, default=str)
    checker = _CHECKERS.get(key)
    if checker is None:
        if len(_CHECKERS) >= 256:
            _CHECKERS.clear()
        checker = _CHECKERS[key] = ArgumentChecker(tools)
    return checker


def _excerpt(text: str | bytes, offset: int | None) -> str:
    """A short, one-line view of ``text`` around ``offset``."""
    if offset is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    start = max(0, offset - EXCERPT // 3)
    piece = text[start : start + EXCERPT]
    return ("…" if start else "") + piece.encode("unicode_escape").decode("ascii")

