"""A tool call between its opening delimiter and its completion.

Formats with a JSON body hand the call to an island (``islands.py``) once its name
is known.  Formats that spell arguments as markup (``<parameter=KEY>VALUE``,
``<arg_key>``/``<arg_value>``) assemble them here: each ``key``/``value`` capture adds
one argument, typed by the tool's schema, and a closing delimiter completes the call.
The argument text is kept and streamed as the model wrote it (``raw``).
"""

from __future__ import annotations

from typing import Any

from .events import Event, ToolCall, ToolCallStart, tool_call_delta
from .schema_typing import ToolSchemas

__all__ = ["PendingCall"]


class PendingCall:
    __slots__ = ("arguments", "id", "index", "key", "name", "raw", "span_start", "started")

    def __init__(self, index: int, span_start: int, assemble: bool) -> None:
        self.index = index
        self.id = f"call_{index}"
        self.name: str | None = None
        self.span_start = span_start
        self.started = False
        """Whether tool_call_start was emitted."""
        self.arguments: dict[str, Any] = {}
        self.key: str | None = None
        """Key of the argument whose value comes next (markup formats)."""
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
        out.append(ToolCallStart(index=self.index, id=self.id, name=self.name))

    def add_raw(self, text: str, out: list[Event]) -> None:
        """Markup inside the call: kept and delivered as argument text."""
        if self.raw is not None and self.started and text:
            self.raw.append(text)
            out.append(tool_call_delta(self.index, self.id, text))

    def add_value(self, raw_value: str, schemas: ToolSchemas) -> None:
        key = self.key if self.key is not None else ""
        self.arguments[key] = schemas.type_value(self.name, key, raw_value)
        self.key = None

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
        )
