"""The stop predicate: where a token loop must stop generating.

A parser reports a tool call in the very ``feed()`` that delivers its completing
character, and the call's ``span[1]`` is the offset just past that character (in
characters of the decoded output for text formats).  That is all a sampler needs to
stop exactly there, even in the middle of a chunk::

    before = parser.offset              # characters received before this chunk
    events = parser.feed(chunk)
    end = toolwire.stop_at(events)
    if end is not None:
        keep = chunk[: end - before]    # what the model wrote up to the call
        ...                             # the rest of the chunk is dropped
        generator.close()               # let the engine cancel

The tool loop (``toolwire.loop``) does exactly this; the helpers are public so that
a client with its own loop (an RL rollout sampler, an SDK) gets the same cut.
"""

from __future__ import annotations

from collections.abc import Iterable

from .events import Event, ToolCall

__all__ = ["cut_index", "stop_at"]


def stop_at(events: Iterable[Event]) -> int | None:
    """The output offset just past the first completed tool call among ``events``,
    or None when none completed: the point where generation should stop."""
    for event in events:
        if isinstance(event, ToolCall):
            return event.span[1]
    return None


def cut_index(offset_before: int, chunk: str, end: int) -> int:
    """Index in ``chunk`` at which to cut, given the parser's ``offset`` before the
    chunk was fed and a call's ``span[1]``.

    The index is clamped to the chunk: a call reported in this feed always ends in
    it (the earliest-completion guarantee), but a cut computed for an earlier call
    (parallel calls) may lie before it, and the caller then cuts its own record of
    the output instead.
    """
    return max(0, min(len(chunk), end - offset_before))
