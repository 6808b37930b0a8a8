"""Format ids -> their specs, compiled once per process on first use."""

from __future__ import annotations

from dataclasses import dataclass

from .engine.grammar import CompiledGrammar, FormatSpec
from .engine.islands import ISLAND_KINDS
from .formats import (
    deepseek,
    deepseek_dsml,
    gemma4,
    glm,
    harmony,
    hermes,
    kimi_k2,
    kimi_k3,
    llama3_json,
    llama4_pythonic,
    mistral,
    qwen3_coder,
    tags,
)
from .providers import PROVIDERS
from .values.gemma_object import GemmaCallBody
from .values.pylit import PyKwargsCallBody

__all__ = ["FormatInfo", "compiled", "format_info", "format_names", "is_provider"]

_SPECS: dict[str, FormatSpec] = {
    spec.name: spec
    for spec in (
        tags.SPEC,
        hermes.SPEC,
        llama3_json.SPEC,
        harmony.SPEC,
        qwen3_coder.SPEC,
        *deepseek.SPECS,
        *deepseek_dsml.SPECS,
        kimi_k2.SPEC,
        kimi_k3.SPEC,
        *glm.SPECS,
        mistral.SPEC,
        llama4_pythonic.SPEC,
        gemma4.SPEC,
    )
}
_COMPILED: dict[str, CompiledGrammar] = {}

ISLAND_KINDS.setdefault("python_kwargs", PyKwargsCallBody)
ISLAND_KINDS.setdefault("gemma_object", GemmaCallBody)
"""Island kinds beyond the JSON engine register here rather than in ``islands.py``, so
that their modules need not import the module that names them."""


@dataclass(frozen=True, slots=True)
class FormatInfo:
    """What ``toolwire formats`` shows."""

    name: str
    description: str
    models: str


def format_names() -> list[str]:
    return sorted([*_SPECS, *PROVIDERS])


def is_provider(name: str) -> bool:
    """Whether ``name`` is a provider stream (SSE/NDJSON bytes) rather than a text format."""
    return name in PROVIDERS


def format_info(name: str) -> FormatInfo:
    provider = PROVIDERS.get(name)
    if provider is not None:
        return FormatInfo(provider.name, provider.description, provider.models)
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
