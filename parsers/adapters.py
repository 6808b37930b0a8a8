"""Feed toolwire from the objects clients already hold, with no dependency on them.

* ``iter_events(chunks, format)`` / ``aiter_events(async_chunks, format)``: an
  iterable or async iterable of ``bytes``/``str`` chunks — e.g. ``httpx``'s
  ``response.iter_bytes()`` / ``aiter_bytes()`` on a streamed provider response, or
  any text stream of a model-native format.
* ``from_chunks(objects, provider)`` / ``afrom_chunks(...)``: decoded chunks — dicts,
  or SDK objects with ``model_dump()`` (pydantic v2: ``openai``'s
  ``ChatCompletionChunk`` and Responses events, ``anthropic``'s stream events,
  ``google-genai``'s ``GenerateContentResponse``, ``ollama``'s ``ChatResponse``) or
  ``to_dict()``.  Each is serialised and framed as the wire would carry it and fed
  through the same parser, so both paths give the same events; offsets then count
  bytes of that equivalent body.

All of them yield events as the parser emits them and close the parser at the end.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from typing import Any

from .events import Event
from .providers import PROVIDERS, ProviderParser

__all__ = ["afrom_chunks", "aiter_events", "from_chunks", "iter_events", "to_payload"]


def iter_events(chunks: Iterable[bytes | str], format: str, **options: Any) -> Iterator[Event]:
    """Events of a stream of byte or text chunks, ``close()`` included."""
    from . import parser

    p = parser(format, **options)
    for chunk in chunks:
        yield from p.feed(chunk)
    yield from p.close()


async def aiter_events(
    chunks: AsyncIterable[bytes | str], format: str, **options: Any
) -> AsyncIterator[Event]:
    """``iter_events`` for an async iterable (``httpx``'s ``aiter_bytes()``)."""
    from . import parser

    p = parser(format, **options)
    async for chunk in chunks:
        for event in p.feed(chunk):
            yield event
    for event in p.close():
        yield event


def from_chunks(objects: Iterable[Any], provider: str, **options: Any) -> Iterator[Event]:
    """Events of a provider's decoded chunks (dicts or SDK objects)."""
    p = _provider(provider, options)
    for obj in objects:
        payload = to_payload(obj, provider)
        if payload is not None:
            yield from p.feed_payload(payload)
    yield from p.close()


async def afrom_chunks(
    objects: AsyncIterable[Any], provider: str, **options: Any
) -> AsyncIterator[Event]:
    """``from_chunks`` for an async iterable (an SDK's ``AsyncStream``)."""
    p = _provider(provider, options)
    async for obj in objects:
        payload = to_payload(obj, provider)
        if payload is not None:
            for event in p.feed_payload(payload):
                yield event
    for event in p.close():
        yield event


def _provider(provider: str, options: dict[str, Any]) -> ProviderParser:
    cls = PROVIDERS.get(provider)
    if cls is None:
        raise ValueError(f"unknown provider {provider!r}; known: {', '.join(sorted(PROVIDERS))}")
    return cls(**options)


def to_payload(obj: Any, provider: str = "") -> Mapping[str, Any] | None:
    """The wire-shaped dict of a chunk object, or None for an object that carries no
    chunk (the ``openai`` chat helper's derived events, which repeat what the raw
    chunk it wraps already said)."""
    if isinstance(obj, Mapping):
        payload: Any = obj
    elif callable(getattr(obj, "model_dump", None)):
        try:
            # Wire names (camelCase for google-genai) and JSON types; absent fields
            # stay absent rather than null.
            payload = obj.model_dump(mode="json", by_alias=True, exclude_none=True)
        except TypeError:  # a model_dump without pydantic's keywords
            payload = obj.model_dump()
    elif callable(getattr(obj, "to_dict", None)):
        payload = obj.to_dict()
    else:
        raise TypeError(
            f"cannot read a {type(obj).__name__} as a chunk: pass dicts, or objects "
            "with model_dump() or to_dict()"
        )
    if not isinstance(payload, Mapping):
        raise TypeError(f"{type(obj).__name__} does not dump to a dict")
    if provider == "openai-chat" and isinstance(payload.get("type"), str):
        # openai's chat.completions.stream() helper: a "chunk" event wraps the raw
        # chunk; its other events ("content.delta", ...) are derived from it.
        chunk = payload.get("chunk")
        return chunk if payload["type"] == "chunk" and isinstance(chunk, Mapping) else None
    return payload
