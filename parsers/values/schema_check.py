"""Checking a completed call's arguments against its tool's JSON Schema.

A call can be well-formed and still wrong for its tool: a missing required argument,
a string where the schema wants an integer, a value outside an enum.  Datasets of
tool-calling conversations are full of such calls, and a client that runs the tool
finds out too late.  With ``check_arguments=True`` (and ``tools=``) a parser checks
every completed call of a tool it knows against that tool's ``parameters`` schema and
reports the first broken rule as an ``invalid_arguments`` error right after the
``tool_call`` (which still carries the arguments): the JSON path of the offending
value and the rule it breaks.

Validation is ``jsonschema``'s (an optional extra, ``pip install 'toolwire[schema]'``),
which implements every draft a tool list may declare; each tool's validator is built
once, on its first call.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["ArgumentChecker", "json_path"]


def json_path(parts: Sequence[Any]) -> str:
    """A JSON path (``$.a[0].b``) from a sequence of keys and indexes."""
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


class ArgumentChecker:
    """The ``tools=`` list's parameter schemas, as validators built on first use."""

    def __init__(self, tools: Sequence[Mapping[str, Any]] | None) -> None:
        try:
            jsonschema = importlib.import_module("jsonschema")
        except ImportError as exc:  # pragma: no cover - the extra is installed in CI
            raise ImportError(
                "check_arguments=True needs jsonschema: pip install 'toolwire[schema]'"
            ) from exc
        self._jsonschema: Any = jsonschema
        self._schemas: dict[str, Mapping[str, Any]] = {}
        for tool in tools or []:
            fn = tool.get("function", tool)
            if isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
                params = fn.get("parameters")
                self._schemas[fn["name"]] = params if isinstance(params, Mapping) else {}
        if not self._schemas:
            raise ValueError("check_arguments=True needs tools= naming at least one tool")
        self._validators: dict[str, Any] = {}

    def problem(self, name: str | None, arguments: Any) -> str | None:
        """What is wrong with ``arguments`` for tool ``name`` (the first broken rule,
        by path, and how many more there are), or None: valid, or not a tool of the
        list (that is ``unknown_tool``'s business)."""
        schema = self._schemas.get(name or "")
        if schema is None:
            return None
        validator = self._validators.get(name or "")
        if validator is None:
            cls = self._jsonschema.validators.validator_for(schema)
            validator = self._validators[name or ""] = cls(schema)
        errors = sorted(validator.iter_errors(arguments), key=lambda e: list(map(str, e.path)))
        if not errors:
            return None
        first = errors[0]
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        return (
            f"arguments of {name!r} break the tool's schema at {json_path(first.path)}: "
            f"{first.message} (rule {first.validator!r}){more}"
        )
