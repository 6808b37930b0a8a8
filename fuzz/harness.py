"""The one rule every toolwire parser must keep, as a function of raw input bytes.

Any input, fed whole, byte by byte and at pseudo-random splits, either parses or
reports ``error`` events (strict mode: raises only ``ParseError``), and the events,
once adjacent deltas are merged, are identical across the splits.  Used by the
atheris harness, the long-running hypothesis driver and the regression tests.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable
from typing import Any

import toolwire
from toolwire.events import Event, ReasoningDelta, TextDelta, ToolCallDelta

_DELTAS = (TextDelta, ReasoningDelta, ToolCallDelta)


def coalesce(events: Iterable[Event]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for event in events:
        item = event.to_json()
        if (
            isinstance(event, _DELTAS)
            and out
            and out[-1]["type"] == item["type"]
            and out[-1]["id"] == item["id"]
        ):
            out[-1]["text"] += item["text"]
        else:
            out.append(item)
    return out


def _run(format: str, chunks: Iterable[bytes]) -> list[dict[str, Any]]:
    p = toolwire.parser(format)
    events: list[Event] = []
    for chunk in chunks:
        events.extend(p.feed(chunk))
    events.extend(p.close())
    return coalesce(events)


def check(data: bytes, format: str = "tags", seed: int = 0) -> None:
    """Raise AssertionError if ``data`` breaks the rule (any other exception escaping
    is a failure too)."""
    whole = _run(format, [data])
    assert _run(format, [data[i : i + 1] for i in range(len(data))]) == whole, (
        "byte-by-byte differs"
    )
    rng = random.Random(seed)
    cuts = (
        sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(0, 16))))
        if len(data) > 1
        else []
    )
    bounds = [0, *cuts, len(data)]
    pieces = [data[a:b] for a, b in itertools.pairwise(bounds)]
    assert _run(format, pieces) == whole, f"split at {cuts} differs"
    for event in whole:
        if event["type"] == "error":
            assert event["code"] in set(toolwire.ErrorCode) - {"internal_error"}, event
    strict = toolwire.parser(format, strict=True)
    try:
        strict.feed(data)
        strict.close()
    except toolwire.ParseError as exc:
        assert exc.code != "internal_error", exc
