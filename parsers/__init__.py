"""toolwire: incremental, chunk-invariant parsing of LLM tool-calling output streams.

``toolwire.parser(format)`` returns a sans-IO push parser: ``feed(chunk)`` and
``close()`` return typed events (see ``toolwire.events``).  With ``tokenizer=`` it
also takes token ids (``feed_ids``, ``feed(text, ids=)``), and a marker counts only
where a special-token id wrote it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeAlias, TypedDict, Unpack, overload

from . import adapters, providers
from .detect import detect_format
from .engine.driver import DEFAULT_MAX_HOLDBACK, StreamParser
from .engine.token_parser import TokenStreamParser
from .errors import ErrorCode, ParseError
from .events import (
    Error,
    Event,
    Finish,
    ProviderError,
    ProviderToolCall,
    ReasoningDelta,
    ReasoningEnd,
    ReasoningStart,
    TextDelta,
    TextEnd,
    TextStart,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
)
from .formats.special_tokens import special_tokens
from .framing.detokenize import IncrementalDetokenizer, adetokenize, detokenize
from .framing.sse import DEFAULT_MAX_EVENT_SIZE, DEFAULT_MAX_LINE_SIZE
from .framing.tokenizer import Tokenizer, as_tokenizer
from .limits import DEFAULT_MAX_BUFFERED, DEFAULT_MAX_CALLS
from .loop.renderers import Renderer, ToolResult, renderer, renderer_formats
from .loop.stop import StopSequences, cut_index, stop_at, stop_sequences
from .loop.token_loop import (
    TokenLoopEnd,
    TokenSession,
    TokenTurn,
    Trajectory,
    aiter_token_tool_loop,
    arun_token_tool_loop,
    iter_token_tool_loop,
    run_token_tool_loop,
)
from .loop.tool_loop import (
    LoopEnd,
    LoopResult,
    Turn,
    TurnEnd,
    TurnStart,
    aiter_tool_loop,
    arun_tool_loop,
    iter_tool_loop,
    run_tool_loop,
)
from .message import Message, MessageBuilder, collect
from .providers import ProviderParser
from .registry import FormatInfo, compiled, format_info, format_names, is_provider
from .values.json_engine import DEFAULT_MAX_DEPTH, DEFAULT_MAX_SIZE

__all__ = [
    "DEFAULT_MAX_BUFFERED",
    "DEFAULT_MAX_CALLS",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_EVENT_SIZE",
    "DEFAULT_MAX_HOLDBACK",
    "DEFAULT_MAX_LINE_SIZE",
    "DEFAULT_MAX_SIZE",
    "Error",
    "ErrorCode",
    "Event",
    "Finish",
    "FormatInfo",
    "IncrementalDetokenizer",
    "LoopEnd",
    "LoopResult",
    "Message",
    "MessageBuilder",
    "ParseError",
    "Parser",
    "ParserOptions",
    "ProviderError",
    "ProviderParser",
    "ProviderToolCall",
    "ReasoningDelta",
    "ReasoningEnd",
    "ReasoningStart",
    "Renderer",
    "StopSequences",
    "TextDelta",
    "TextEnd",
    "TextStart",
    "TokenLoopEnd",
    "TokenSession",
    "TokenStreamParser",
    "TokenTurn",
    "Tokenizer",
    "ToolCall",
    "ToolCallDelta",
    "ToolCallStart",
    "ToolResult",
    "Trajectory",
    "Turn",
    "TurnEnd",
    "TurnStart",
    "adapters",
    "adetokenize",
    "aiter_token_tool_loop",
    "aiter_tool_loop",
    "arun_token_tool_loop",
    "arun_tool_loop",
    "as_tokenizer",
    "collect",
    "cut_index",
    "detect_format",
    "detokenize",
    "format_info",
    "formats",
    "iter_token_tool_loop",
    "iter_tool_loop",
    "parse",
    "parser",
    "renderer",
    "renderer_formats",
    "run_token_tool_loop",
    "run_tool_loop",
    "special_tokens",
    "stop_at",
    "stop_sequences",
]

__version__ = "0.1.0"

Parser: TypeAlias = StreamParser | ProviderParser
"""The push parser types returned by ``parser()``: text formats, provider streams."""


def formats() -> list[str]:
    """The format ids ``parser()`` accepts."""
    return format_names()


class ParserOptions(TypedDict, total=False):
    """The keyword options of ``parser()`` but ``tokenizer`` (documented there)."""

    tools: Sequence[Mapping[str, Any]] | None
    generation_prompt: str | None
    strict: bool
    max_depth: int
    max_argument_size: int
    max_holdback: int
    max_line_size: int
    max_event_size: int
    max_calls: int
    max_buffered: int
    message: bool | None
    check_arguments: bool


@overload
def parser(format: str, *, tokenizer: None = ..., **options: Unpack[ParserOptions]) -> Parser: ...


@overload
def parser(
    format: str, *, tokenizer: Any, **options: Unpack[ParserOptions]
) -> TokenStreamParser: ...


def parser(
    format: str,
    *,
    tools: Sequence[Mapping[str, Any]] | None = None,
    generation_prompt: str | None = None,
    strict: bool = False,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_argument_size: int = DEFAULT_MAX_SIZE,
    max_holdback: int = DEFAULT_MAX_HOLDBACK,
    max_line_size: int = DEFAULT_MAX_LINE_SIZE,
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    max_calls: int = DEFAULT_MAX_CALLS,
    max_buffered: int = DEFAULT_MAX_BUFFERED,
    message: bool | None = None,
    tokenizer: Any = None,
    check_arguments: bool = False,
) -> Parser:
    """A new push parser for ``format``.

    ``tools``: the OpenAI-style tool list (formats that type raw values by schema use
    it).  ``generation_prompt``: the tail of the prompt the model continues; the
    parser starts in the state it leaves and emits nothing for it.  ``strict``: raise
    ``ParseError`` at the first error instead of emitting ``error`` events.  Limits:
    nesting depth, argument size (characters) and hold-back (characters); exceeding
    one is a ``limit_exceeded`` error, as is a ``tool_call`` beyond ``max_calls`` or
    holding more than ``max_buffered`` at once (see the README's Limits table).
    ``message``: keep the live ``parser.message``
    snapshot (on by default for provider formats, where ``message=False`` turns it
    off so that memory no longer grows with the stream; off by default for text
    formats, where it keeps the whole output and turns off the fast paths).
    ``tokenizer``: a ``toolwire.Tokenizer`` or anything ``toolwire.as_tokenizer``
    takes; the parser (a ``TokenStreamParser``) then also takes token ids
    (``feed_ids(ids)``, ``feed(text, ids=ids)``) and treats a marker as a delimiter
    only where a special-token id wrote it (text markers written with ordinary ids
    are text, reasoning or argument data).  Text formats only.
    ``check_arguments``: check every completed call of a tool in ``tools`` against its
    JSON Schema; a broken rule is an ``invalid_arguments`` error right after the
    ``tool_call`` (needs the ``schema`` extra, jsonschema).

    Provider formats (``openai-chat``, ``anthropic``...) read the raw HTTP body (SSE
    or NDJSON bytes; offsets count bytes) and take two more limits, in bytes: the
    longest line and the largest event; ``generation_prompt`` and ``max_holdback`` do
    not apply to them, and ``tools`` serves only ``check_arguments``.
    """
    if is_provider(format):
        if generation_prompt:
            raise ValueError(f"generation_prompt does not apply to provider format {format!r}")
        if tokenizer is not None:
            raise ValueError(f"tokenizer does not apply to provider format {format!r}")
        return providers.PROVIDERS[format](
            strict=strict,
            max_depth=max_depth,
            max_argument_size=max_argument_size,
            max_line_size=max_line_size,
            max_event_size=max_event_size,
            max_calls=max_calls,
            max_buffered=max_buffered,
            message=message is not False,
            tools=tools,
            check_arguments=check_arguments,
        )
    text_options: dict[str, Any] = {
        "strict": strict,
        "tools": tools,
        "generation_prompt": generation_prompt,
        "max_depth": max_depth,
        "max_argument_size": max_argument_size,
        "max_holdback": max_holdback,
        "max_calls": max_calls,
        "max_buffered": max_buffered,
        "message": bool(message),
        "check_arguments": check_arguments,
    }
    if tokenizer is not None:
        return TokenStreamParser(compiled(format), tokenizer, **text_options)
    return StreamParser(compiled(format), **text_options)


def parse(data: str | bytes | Iterable[str | bytes], format: str, **options: Any) -> list[Event]:
    """All events of a whole text, or of an iterable of chunks, including ``close()``."""
    p = parser(format, **options)
    events: list[Event] = []
    if isinstance(data, str | bytes):
        events.extend(p.feed(data))
    else:
        for chunk in data:
            events.extend(p.feed(chunk))
    events.extend(p.close())
    return events
