"""What each fuzz harness checks, and how one fuzz input names its target.

A harness covers a family: ``formats`` (every grammar-driven text format), ``providers``
(every provider stream), ``json`` (the JSON engine), ``framing`` (the SSE and NDJSON
decoders), ``check`` (the dataset checker and format detection), ``tokens`` (the
token-level tool loop on every format with a renderer and a
test tokenizer; present when ``tokenizers`` is installed).  One input of a harness is a
*selector byte* and a document:

* the selector's low bits, modulo the number of targets in the family, pick the
  target (the format, in the family's sorted order), unless the harness was started
  with a fixed target (``--format``), which then ignores them;
* its bit 7 asks for small limits (depth 4, 48-character arguments, short hold-back,
  lines and events), so that short inputs reach the ``limit_exceeded`` paths; in the
  ``tokens`` family (no limits) it asks for the document to be read as token ids
  rather than text (``fuzz/tokens.py``).

Keeping the selector in the input lets one corpus serve every target of a family and
lets the fuzzer mutate the choice like any other byte; ``encode`` / ``decode`` are the
two directions, and ``python -m fuzz.reproduce`` reads a crash file with ``decode``.
"""

from __future__ import annotations

import importlib.util
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import toolwire
from fuzz.engines import check_framing, check_json
from fuzz.harness import check, text_formats
from toolwire.registry import is_provider

__all__ = ["FAMILIES", "Selected", "decode", "encode", "family_targets", "run_input"]

FAMILIES: tuple[str, ...] = ("formats", "providers", "json", "framing", "check")
if importlib.util.find_spec("tokenizers") is not None:  # the token loop's test tokenizers
    FAMILIES += ("tokens",)
SMALL = 0x80

Check = Callable[[bytes, int, bool, "Tools"], None]
Tools = tuple[Mapping[str, Any], ...] | None


def family_targets(family: str) -> list[str]:
    """The targets of a family, in selector order."""
    if family == "formats":
        return text_formats()
    if family == "providers":
        return [f for f in toolwire.formats() if is_provider(f)]
    if family in ("json", "framing", "check"):
        return [family]
    if family == "tokens" and family in FAMILIES:
        from fuzz.tokens import token_formats

        return token_formats()
    raise ValueError(f"unknown fuzz family {family!r}; known: {', '.join(FAMILIES)}")


def _checker(family: str, target: str) -> Check:
    if family == "json":
        return lambda data, seed, small, _: check_json(data, seed, small_limits=small)
    if family == "framing":
        return lambda data, seed, small, _: check_framing(data, seed, small_limits=small)
    if family == "check":
        from fuzz.datasets import check_dataset

        return lambda data, seed, small, _: check_dataset(data, seed, field_mode=small)
    if family == "tokens":
        from fuzz.tokens import check_tokens

        return lambda data, seed, small, tools: check_tokens(
            data, target, seed, ids_mode=small, tools=tools
        )
    return lambda data, seed, small, tools: check(
        data, target, seed, small_limits=small, tools=tools
    )


@dataclass(frozen=True)
class Selected:
    """One decoded fuzz input."""

    family: str
    target: str
    document: bytes
    small_limits: bool
    tools: Tools = None
    """The tool list the input was generated for (text formats only)."""

    def run(self) -> None:
        """Check the rule (raises on a failure); the split seed comes from the
        document, so a crash file reproduces exactly."""
        seed = zlib.crc32(self.document)
        _checker(self.family, self.target)(self.document, seed, self.small_limits, self.tools)


def decode(family: str, data: bytes, fixed: str | None = None) -> Selected:
    """The target, limits and document of one fuzz input."""
    targets = family_targets(family)
    selector = data[0] if data else 0
    target = fixed if fixed is not None else targets[(selector & 0x7F) % len(targets)]
    return Selected(family, target, data[1:], bool(selector & SMALL))


def encode(family: str, target: str, document: bytes, *, small_limits: bool = False) -> bytes:
    """The fuzz input that ``decode`` reads back as (target, document)."""
    selector = family_targets(family).index(target) | (SMALL if small_limits else 0)
    return bytes([selector]) + document


def run_input(family: str, fixed: str | None = None) -> Callable[[bytes], None]:
    """The one-input function of a harness."""
    if fixed is not None and fixed not in family_targets(family):
        raise ValueError(f"{fixed!r} is not one of {family}: {', '.join(family_targets(family))}")

    def one_input(data: bytes) -> None:
        decode(family, data, fixed).run()

    return one_input
