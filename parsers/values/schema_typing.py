"""Typing raw argument values by the tool's JSON schema (FORMATS.md section 0.1).

Several formats write string values raw and other values as JSON text, so ``3`` may
be the integer 3 or the string "3": only the schema decides.  One implementation for
every raw-value format.  Lossless by default: without a schema for the key, or when
the schema allows only strings, the text is kept verbatim.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["JSON_TYPES", "ToolSchemas", "allowed_types", "type_value"]

_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_TYPE_ALIASES = {
    "float": "number",
    "double": "number",
    "int": "integer",
    "bool": "boolean",
    "str": "string",
    "dict": "object",
    "list": "array",
}
JSON_TYPES: dict[type, str] = {
    # a decoded JSON value's type -> its JSON Schema type name
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    type(None): "null",
    dict: "object",
    list: "array",
}


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        node: Any = root
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, Mapping) else {}
        return node if isinstance(node, Mapping) else {}
    return schema


def allowed_types(schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> set[str]:
    """Every JSON type the schema admits (``type``, ``anyOf``/``oneOf`` branches,
    ``enum``/``const`` values, ``$ref`` resolved).  Empty: unconstrained."""
    root = root if root is not None else schema
    schema = _resolve(schema, root)
    out: set[str] = set()
    declared = schema.get("type")
    for t in [declared] if isinstance(declared, str) else list(declared or []):
        out.add(_TYPE_ALIASES.get(t, t))
    for branch_key in ("anyOf", "oneOf"):
        for branch in schema.get(branch_key) or []:
            if isinstance(branch, Mapping):
                out |= allowed_types(branch, root)
    values = list(schema.get("enum") or [])
    if "const" in schema:
        values.append(schema["const"])
    for value in values:
        out.add(JSON_TYPES.get(type(value), "string"))
    return out


def type_value(raw: str, types: set[str]) -> Any:
    """The value of ``raw`` under the allowed ``types`` (section 0.1 order)."""
    if not types or types == {"string"}:
        return raw
    text = raw.strip()
    if "null" in types and text in ("null", "None"):
        return None
    if "boolean" in types and text in ("true", "false", "True", "False"):
        return text in ("true", "True")
    try:  # beyond Python's int digit limit, or a float that overflows: keep the text
        if "integer" in types and _INTEGER.fullmatch(text):
            return int(text)
        if "number" in types and _NUMBER.fullmatch(text):
            if _INTEGER.fullmatch(text):
                return int(text)
            number = float(text)
            if number not in (float("inf"), float("-inf")):
                return number
    except ValueError:
        pass
    if types & {"object", "array"}:
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, dict) and "object" in types:
            return value
        if isinstance(value, list) and "array" in types:
            return value
    return raw


class ToolSchemas:
    """The ``tools=`` list, indexed for typing: tool name -> parameter schemas."""

    def __init__(self, tools: Sequence[Mapping[str, Any]] | None) -> None:
        self._params: dict[str, tuple[Mapping[str, Any], Mapping[str, Any]]] = {}
        for tool in tools or []:
            fn = tool.get("function", tool)
            if not isinstance(fn, Mapping) or not isinstance(fn.get("name"), str):
                continue
            params = fn.get("parameters") or {}
            props = params.get("properties") or {} if isinstance(params, Mapping) else {}
            self._params[fn["name"]] = (props, params)

    @property
    def names(self) -> set[str]:
        return set(self._params)

    def type_value(self, tool: str | None, key: str, raw: str) -> Any:
        entry = self._params.get(tool or "")
        if entry is None:
            return raw
        props, root = entry
        schema = props.get(key)
        if not isinstance(schema, Mapping):
            return raw
        return type_value(raw, allowed_types(schema, root))
