"""The one rule for the stages under the parsers, each on its own: the JSON engine
(``toolwire.values.json_engine``) and the SSE / NDJSON decoders.

A stage that misbehaves under one chunking can be masked by the parser above it (a
provider drops a frame it cannot read anyway), so each is fuzzed bare:

* JSON engine: the outcome — completion index, raw text, value and top-level members,
  or error code and index, or what it still expects — is the same whole, one
  character at a time, at random splits and as windows of one string; a completed
  value is what ``json.loads`` reads from the same text, and a text ``json.loads``
  accepts strictly is completed by the engine (minus its documented refusals).
* decoders: the same frames and framing errors, positions included, in every
  chunking; no exception escapes.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Sequence
from functools import partial
from typing import Any

from fuzz.harness import same_across_chunkings
from toolwire.framing.lines import FramingError
from toolwire.framing.ndjson import NdjsonDecoder
from toolwire.framing.sse import Frame, SseDecoder
from toolwire.values.json_engine import JsonScanner, JsonSyntaxError

__all__ = ["check_framing", "check_json"]

_WS = " \t\n\r"
_SMALL_JSON = {"max_depth": 4, "max_size": 48}
_SMALL_FRAMING = {"max_line_size": 24, "max_event_size": 40}

JsonOutcome = tuple[Any, ...]


def _json_result(sc: JsonScanner, end: int) -> JsonOutcome:
    try:
        value: Any = ("value", sc.value())
    except JsonSyntaxError as exc:
        value = ("error", exc.code)
    return ("done", end, sc.raw(), value, list(sc.members), sc.capture_start, sc.capture_end)


def _feed_json(chunks: Sequence[str], limits: dict[str, int], keys: frozenset[str] | None) -> Any:
    sc = JsonScanner(capture_keys=keys, **limits)
    offset = 0
    for chunk in chunks:
        try:
            r = sc.feed(chunk, 0, len(chunk))
        except JsonSyntaxError as exc:
            assert 0 <= exc.index <= len(chunk), (exc.index, chunk)
            return ("error", exc.code, offset + exc.index)
        if r >= 0:
            assert 0 <= r <= len(chunk), (r, chunk)
            return _json_result(sc, offset + r)
        offset += len(chunk)
    if sc.finish():
        return _json_result(sc, offset)
    return ("incomplete", sc.expected(), offset)


def _feed_windows(text: str, cuts: Sequence[int], limits: dict[str, int]) -> Any:
    """The driver's way: windows ``feed(text, a, b)`` of one string."""
    sc = JsonScanner(capture_keys=None, **limits)
    bounds = [0, *cuts, len(text)]
    for a, b in itertools.pairwise(bounds):
        try:
            r = sc.feed(text, a, b)
        except JsonSyntaxError as exc:
            assert a <= exc.index <= b, (exc.index, a, b)
            return ("error", exc.code, exc.index)
        if r >= 0:
            assert a <= r <= b, (r, a, b)
            return _json_result(sc, r)
    if sc.finish():
        return _json_result(sc, len(text))
    return ("incomplete", sc.expected(), len(text))


def _strict_loads(text: str) -> Any:
    def no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=no_constant)


def check_json(data: bytes, seed: int = 0, *, small_limits: bool = False) -> None:
    """Assert the JSON engine's rule on ``data`` (decoded as UTF-8, undecodable bytes
    kept as lone surrogates: the engine reads text)."""
    text = data.decode("utf-8", "surrogateescape")
    limits = dict(_SMALL_JSON) if small_limits else {}
    result = same_across_chunkings(lambda c: _feed_json(c, limits, None), text, seed)
    keys = frozenset({"arguments", "parameters"})
    same_across_chunkings(lambda c: _feed_json(c, limits, keys), text, seed)
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(text)), min(len(text) - 1, 8))) if len(text) > 1 else []
    assert _feed_windows(text, cuts, limits) == result, f"windows at {cuts} differ"
    if result[0] == "done":
        end, raw, value = result[1], result[2], result[3]
        assert raw == text[:end], "raw text is not the input up to the completion"
        if value[0] == "value":
            assert _strict_loads(text[:end]) == value[1], "json.loads reads another value"
    elif not small_limits and (result[0] == "incomplete" or result[1] == "invalid_json"):
        try:
            accepted = _strict_loads(text)
        except (ValueError, RecursionError):
            return
        # json.loads accepts unpaired surrogate escapes; the engine documents refusing them.
        if "\\u" not in text:
            raise AssertionError(f"json.loads accepts what the engine rejects: {accepted!r}")


FramingOutcome = list[Frame | FramingError]


def _decode(
    make: type[SseDecoder] | type[NdjsonDecoder], limits: dict[str, int], chunks: Sequence[bytes]
) -> FramingOutcome:
    decoder = make(**limits)
    out: FramingOutcome = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    out.extend(decoder.close())
    return out


def check_framing(data: bytes, seed: int = 0, *, small_limits: bool = False) -> None:
    """Assert the SSE and NDJSON decoders' rule on ``data``."""
    sse_limits = dict(_SMALL_FRAMING) if small_limits else {}
    nd_limits = {"max_line_size": _SMALL_FRAMING["max_line_size"]} if small_limits else {}
    for make, limits in ((SseDecoder, sse_limits), (NdjsonDecoder, nd_limits)):
        out = same_across_chunkings(partial(_decode, make, limits), data, seed)
        last = 0
        for item in out:
            if isinstance(item, Frame):
                assert 0 <= item.start < item.end <= len(data), item
                assert item.start >= last, f"frames out of order: {item}"
                last = item.start
            else:
                assert 0 <= item.offset <= len(data), item
