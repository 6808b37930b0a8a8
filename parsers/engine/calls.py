"""A tool call between its opening delimiter and its completion.

Formats with a JSON body hand the call to an island (``islands.py``) once its name
is known.  Formats that spell arguments as markup (``<parameter=KEY>VALUE``,
``<arg_key>``/``<arg_value>``) assemble them here: each ``key``/``value`` capture adds
one argument, typed by the tool's schema, and a closing delimiter completes the call.
The argument text is kept and streamed as the model wrote it (``raw``).
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import ErrorCode
from ..events import Event, ToolCall, ToolCallStart, tool_call_delta
from ..values.schema_typing import JSON_TYPES, ToolSchemas

__all__ = ["JSON_OR_RAW", "DeclaredValueError", "PendingCall", "declared_value"]

JSON_OR_RAW = "json_or_raw"
"""A declared type: JSON text, but text that is not JSON is kept as the raw string
(with an ``invalid_json`` error: ``DeclaredValueError.kept``) instead of dropping the
call.  DSML's ``string="false"``, which models also put on bare words and paths."""


class DeclaredValueError(ValueError):
    """A value does not match the type its opener declared (``FormatSpec.value_type_from``)."""

    def __init__(self, code: str, index: int, message: str, kept: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.index = index
        """Offending character, as an index into the raw value."""
        self.message = message
        self.kept = kept
        """The raw text was kept as the argument's value (``JSON_OR_RAW``): the error
        is reported, the call goes on."""


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def declared_value(raw: str, declared: str) -> Any:
    """The value of ``raw`` under its declared type: ``string`` keeps the text
    verbatim; anything else is strict JSON text (RFC 8259: no ``NaN``), of the
    declared JSON type unless ``json`` or ``json_or_raw`` (``number`` admits
    integers)."""
    if declared == "string":
        return raw
    if declared == JSON_OR_RAW:
        try:
            return declared_value(raw, "json")
        except DeclaredValueError as exc:
            exc.kept = True
            exc.message = f"not JSON ({exc.message}), kept as a string"
            raise
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise DeclaredValueError(ErrorCode.INVALID_JSON, exc.pos, exc.msg) from None
    except ValueError as exc:  # NaN/Infinity, or an integer past Python's digit limit
        raise DeclaredValueError(ErrorCode.INVALID_JSON, 0, str(exc)) from None
    got = JSON_TYPES[type(value)]
    if declared not in ("json", got) and not (declared == "number" and got == "integer"):
        start = len(raw) - len(raw.lstrip(" \t\r\n"))
        raise DeclaredValueError(
            ErrorCode.INVALID_ARGUMENTS, start, f"declared {declared}, the value is {got}"
        )
    return value


class PendingCall:
    __slots__ = (
        "arguments",
        "builtin",
        "declared",
        "id",
        "index",
        "key",
        "name",
        "raw",
        "span_start",
        "started",
        "value_at",
    )

    def __init__(self, index: int, span_start: int, assemble: bool) -> None:
        self.index = index
        self.id = f"call_{index}"
        self.name: str | None = None
        self.span_start = span_start
        self.started = False
        """Whether tool_call_start was emitted."""
        self.builtin = False
        """A call to a built-in tool (``FormatSpec.builtin_openers``)."""
        self.arguments: dict[str, Any] = {}
        self.key: str | None = None
        """Key of the argument whose value comes next (markup formats)."""
        self.declared: str | None = None
        """Type the next value's opener declared (``FormatSpec.value_type_from``)."""
        self.value_at = (0, 1, 1)
        """Offset, line and column where that value starts (for its errors)."""
        self.raw: list[str] | None = [] if assemble else None
        """Argument markup as written, for formats that assemble arguments; collection
        starts once the name is known."""

    def set_name(self, name: str | None, out: list[Event]) -> None:
        """The name is known (a delimiter or a capture gave it): start the call."""
        if name is not None and self.name is None:
            self.name = name
        if not self.started and self.name is not None:
            self.start(out)
        if self.raw is not None:
            self.raw.clear()

    def start(self, out: list[Event]) -> None:
        self.started = True
        out.append(
            ToolCallStart(index=self.index, id=self.id, name=self.name, builtin=self.builtin)
        )

    def add_raw(self, text: str, out: list[Event]) -> None:
        """Markup inside the call: kept and delivered as argument text."""
        if self.raw is not None and self.started and text:
            self.raw.append(text)
            out.append(tool_call_delta(self.index, self.id, text))

    def add_value(self, raw_value: str, schemas: ToolSchemas) -> None:
        """One argument: typed by its declared type if its opener gave one (raises
        ``DeclaredValueError`` when it does not match, after keeping the raw text if
        the declaration says so), else by the tool's schema."""
        key = self.key if self.key is not None else ""
        declared = self.declared
        self.key = self.declared = None
        if declared is not None:
            try:
                self.arguments[key] = declared_value(raw_value, declared)
            except DeclaredValueError as exc:
                if exc.kept:
                    self.arguments[key] = raw_value
                raise
        else:
            self.arguments[key] = schemas.type_value(self.name, key, raw_value)

    def complete(self, span_end: int, out: list[Event]) -> ToolCall:
        if not self.started:
            self.start(out)
        return ToolCall(
            index=self.index,
            id=self.id,
            name=self.name,
            arguments=self.arguments,
            raw="".join(self.raw or ()),
            span=(self.span_start, span_end),
            builtin=self.builtin,
        )
