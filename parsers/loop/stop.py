# ruff: noqa: RUF001  (the fullwidth bar U+FF5C is part of DeepSeek's tokens)
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

The tool loop (``toolwire.loop.tool_loop``) does exactly this; the helpers are public so that
a client with its own loop (an RL rollout sampler, an SDK) gets the same cut.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from ..events import Event, ToolCall

__all__ = ["STOP_NOTES", "StopSequences", "cut_index", "stop_at", "stop_sequences"]


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


StopAt = Literal["call", "turn"]

_CALL_STOPS: dict[str, tuple[str, ...]] = {
    # Each string comes after the character that completes a call, so an engine that
    # strips it still leaves a complete call; where no marker follows a single call,
    # "call" falls back to the turn's stops (noted in STOP_NOTES).
    "tags": ("</tool_call>",),
    "hermes": ("</tool_call>",),
    "qwen3-coder": ("</tool_call>",),
    "harmony": ("<|call|>",),
    "deepseek-v3": ("<｜tool▁call▁end｜>",),
    "deepseek-r1": ("<｜tool▁call▁end｜>",),
    "deepseek-v3.1": ("<｜tool▁call▁end｜>",),
    "deepseek-v3.2": ("</｜DSML｜function_calls>",),
    "deepseek-v4": ("</｜DSML｜tool_calls>",),
    "kimi-k2": ("<|tool_call_end|>",),
    "kimi-k3": ("<|close|>tools<|sep|>",),
    "glm-4.5": ("<|observation|>",),
    "glm-4.7": ("<|observation|>",),
    "gemma4": ("<tool_call|>",),
}

_TURN_STOPS: dict[str, tuple[str, ...]] = {
    "tags": (),
    "hermes": ("<|im_end|>", "<|endoftext|>"),
    "qwen3-coder": ("<|im_end|>", "<|endoftext|>"),
    "harmony": ("<|return|>", "<|call|>", "<|endoftext|>"),
    "deepseek-v3": ("<｜end▁of▁sentence｜>",),
    "deepseek-r1": ("<｜end▁of▁sentence｜>",),
    "deepseek-v3.1": ("<｜end▁of▁sentence｜>",),
    "deepseek-v3.2": ("<｜end▁of▁sentence｜>",),
    "deepseek-v4": ("<｜end▁of▁sentence｜>",),
    "kimi-k2": ("<|im_end|>",),
    "kimi-k3": ("<|end_of_msg|>",),
    "glm-4.5": ("<|observation|>", "<|user|>", "<|endoftext|>"),
    "glm-4.7": ("<|observation|>", "<|user|>", "<|endoftext|>"),
    "gemma4": ("<turn|>", "<|tool_response>", "<eos>"),
    "mistral": ("</s>",),
    "llama3-json": ("<|eom_id|>", "<|eot_id|>"),
    "llama4-pythonic": ("<|eom|>", "<|eot|>"),
}

STOP_NOTES: dict[str, str] = {
    "qwen3-coder": "stops after the tool_call block; the call completes at </function>",
    "harmony": "<|call|> ends every call message; a later call needs the next turn",
    "deepseek-v3": "stops after the first call; later calls of the section are given up",
    "deepseek-r1": "stops after the first call; later calls of the section are given up",
    "deepseek-v3.1": "stops after the first call; later calls of the section are given up",
    "deepseek-v3.2": "stops after the DSML block: every invoke of the block is kept",
    "deepseek-v4": "stops after the DSML block: every invoke of the block is kept",
    "kimi-k2": "stops after the first call; later calls of the section are given up",
    "kimi-k3": "stops after the tools element: every call of the element is kept",
    "glm-4.5": "<|observation|> follows all calls of a turn: every call is kept",
    "glm-4.7": "<|observation|> follows all calls of a turn: every call is kept",
    "mistral": "no marker follows a call but the next [TOOL_CALLS] or </s>: as at='turn'",
    "llama3-json": "calls end the turn (<|eom_id|>/<|eot_id|>): as at='turn'",
    "llama4-pythonic": "the list ends the turn (<|eom|>/<|eot|>): as at='turn'",
}
"""What ``at="call"`` gives up, per format (the others lose later parallel calls)."""


@dataclass(frozen=True, slots=True)
class StopSequences:
    """Where an engine should stop: as strings, and as ids where each string is one
    token of the tokenizer (engines such as Tinker take either, not a mix)."""

    strings: list[str]
    token_ids: list[int] | None
    """One id per string when every string is a single token, else None."""


def stop_sequences(format: str, *, tokenizer: Any = None, at: StopAt = "call") -> StopSequences:
    """The stop sequences that end a sample right after its first call
    (``at="call"``: the call stops first, then the turn's own; see ``STOP_NOTES`` for
    what that gives up) or at the end of the model's turn (``at="turn"``).  The token
    loop handles both an engine that keeps the stop token in its ids and one that
    strips it."""
    from ..registry import format_names, is_provider

    if is_provider(format) or format not in format_names():
        raise ValueError(f"no stop sequences for {format!r}: a text format is needed")
    if at not in ("call", "turn"):
        raise ValueError(f"at must be 'call' or 'turn', not {at!r}")
    turn = _TURN_STOPS.get(format, ())
    # The turn's own stops stay in the "call" list: engines such as Tinker stop only
    # at the listed sequences, so an answer without a call must still end.
    call = _CALL_STOPS.get(format, ()) if at == "call" else ()
    strings = list(dict.fromkeys((*call, *turn)))
    token_ids: list[int] | None = None
    if tokenizer is not None and strings:
        from ..framing.tokenizer import as_tokenizer

        tok = as_tokenizer(tokenizer)
        encoded = [tok.encode(s) for s in strings]
        if all(len(ids) == 1 for ids in encoded):
            token_ids = [ids[0] for ids in encoded]
    return StopSequences(strings, token_ids)
