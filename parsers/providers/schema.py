"""Reading a provider's payloads: typed field access that turns a payload off the
schema into one ``SchemaError`` (reported as ``invalid_event`` at its frame), and
the one-line summary of a provider's own error object.

Theory of operation
-------------------
Provider modules read JSON payloads field by field.  ``get_*`` return the field
when it has the expected JSON type, None when it is absent or null, and raise
``SchemaError`` otherwise, so a provider's ``_payload`` reads like the schema and
never checks types inline; ``ProviderParser`` catches the error per frame.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["SchemaError", "describe_error", "get_dict", "get_int", "get_list", "get_str"]


class SchemaError(Exception):
    """A payload that does not fit the provider's schema; reported as
    ``invalid_event`` at the frame."""


def get_str(obj: Mapping[str, Any], key: str) -> str | None:
    """``obj[key]`` if it is a string; None if absent or null; SchemaError otherwise."""
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise SchemaError(f"{key!r} is not a string")


def get_dict(obj: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    value = obj.get(key)
    if value is None or isinstance(value, dict):
        return value
    raise SchemaError(f"{key!r} is not an object")


def get_list(obj: Mapping[str, Any], key: str) -> list[Any] | None:
    value = obj.get(key)
    if value is None or isinstance(value, list):
        return value
    raise SchemaError(f"{key!r} is not an array")


def get_int(obj: Mapping[str, Any], key: str) -> int | None:
    value = obj.get(key)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise SchemaError(f"{key!r} is not an integer")


def describe_error(detail: Any) -> str:
    """A one-line summary of a provider's error object."""
    if isinstance(detail, dict):
        message = detail.get("message")
        kind = detail.get("type") or detail.get("code") or detail.get("status")
        if isinstance(message, str):
            return f"provider error ({kind}): {message}" if kind else f"provider error: {message}"
        return "provider error: " + json.dumps(detail, ensure_ascii=False)[:500]
    return f"provider error: {str(detail)[:500]}"
