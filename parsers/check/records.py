"""What of a dataset record is checked: the streams a record holds.

Datasets come in two shapes.  Rollout logs and recorded traffic keep the raw model
output (or a provider body) in one field: ``--field output`` (a dotted path,
``sample.response``).  SFT datasets keep conversations as OpenAI-style ``messages``:
assistant turns with ``content`` (a string, or a list of text parts) and
``tool_calls`` whose ``function.arguments`` is a JSON string.  A record's streams are
listed with a label that says where each one is (``messages[3].content``), so an
error can be found in the record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["CallRecord", "TextStream", "field_value", "message_streams"]

_MISSING = object()


@dataclass(frozen=True, slots=True)
class TextStream:
    """Raw model output or a provider body, to parse with a format."""

    label: str
    text: str | bytes


@dataclass(frozen=True, slots=True)
class CallRecord:
    """A structured tool call of a ``messages`` record (already split out by whoever
    wrote the dataset): its arguments string is parsed strictly."""

    label: str
    name: Any
    arguments: Any


def field_value(record: Any, path: str) -> Any:
    """The value at a dotted ``path`` (``a.b.0.c``: keys, and indexes into lists);
    KeyError naming the first missing step."""
    value = record
    for step in path.split("."):
        if isinstance(value, Mapping) and step in value:
            value = value[step]
        elif isinstance(value, Sequence) and not isinstance(value, str | bytes) and step.isdigit():
            index = int(step)
            if index >= len(value):
                raise KeyError(f"no item {step} in {path!r}")
            value = value[index]
        else:
            raise KeyError(f"no {step!r} in {path!r}")
    return value


def message_streams(messages: Any, label: str = "messages") -> list[TextStream | CallRecord]:
    """The assistant turns of an OpenAI-style conversation: each turn's text content
    (to parse as model output when a format is given) and each structured call.
    ValueError when ``messages`` is not a list of message objects."""
    if not isinstance(messages, Sequence) or isinstance(messages, str | bytes):
        raise ValueError(f"{label} is not a list of messages")
    out: list[TextStream | CallRecord] = []
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise ValueError(f"{label}[{i}] is not a message object")
        if message.get("role") != "assistant":
            continue
        content = _text_content(message.get("content"))
        if content:
            out.append(TextStream(f"{label}[{i}].content", content))
        calls = message.get("tool_calls") or []
        if not isinstance(calls, Sequence) or isinstance(calls, str | bytes):
            raise ValueError(f"{label}[{i}].tool_calls is not a list")
        for k, call in enumerate(calls):
            where = f"{label}[{i}].tool_calls[{k}]"
            fn = call.get("function", _MISSING) if isinstance(call, Mapping) else _MISSING
            if not isinstance(fn, Mapping):
                raise ValueError(f"{where} has no function object")
            out.append(CallRecord(where, fn.get("name"), fn.get("arguments")))
    return out


def _text_content(content: Any) -> str:
    """A message's text: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence) and not isinstance(content, bytes):
        return "".join(
            part.get("text", "")
            for part in content
            if isinstance(part, Mapping) and part.get("type") == "text"
            and isinstance(part.get("text"), str)
        )  # fmt: skip
    return ""
