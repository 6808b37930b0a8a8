"""Format ids -> their specs, compiled once per process on first use."""

from __future__ import annotations

from dataclasses import dataclass

from .formats import hermes, tags
from .grammar import CompiledGrammar, FormatSpec

__all__ = ["FormatInfo", "compiled", "format_info", "format_names"]

_SPECS: dict[str, FormatSpec] = {spec.name: spec for spec in (tags.SPEC, hermes.SPEC)}
_COMPILED: dict[str, CompiledGrammar] = {}


@dataclass(frozen=True, slots=True)
class FormatInfo:
    """What ``toolwire formats`` shows."""

    name: str
    description: str
    models: str


def format_names() -> list[str]:
    return sorted(_SPECS)


def format_info(name: str) -> FormatInfo:
    spec = _spec(name)
    return FormatInfo(spec.name, spec.description, spec.models)


def _spec(name: str) -> FormatSpec:
    try:
        return _SPECS[name]
    except KeyError:
        raise ValueError(
            f"unknown format {name!r}; known formats: {', '.join(format_names())}"
        ) from None


def compiled(name: str) -> CompiledGrammar:
    """The compiled grammar of a format (built on first use, then shared)."""
    grammar = _COMPILED.get(name)
    if grammar is None:
        grammar = _COMPILED[name] = CompiledGrammar(_spec(name))
    return grammar
