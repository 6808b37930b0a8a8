"""Samplers for the token loop on Tinker's ``SamplingClient``.

``TinkerSampler(client, max_tokens=...)`` is a ``sample(prompt_ids)`` callable for
``toolwire.run_token_tool_loop``: it sends the ids as ``tinker.ModelInput``, waits on
the ``APIFuture`` and returns the ``SampledSequence``, which the loop reads as one
whole sample (ids, logprobs, ``stop_reason``).  ``sampler.asample`` (or an
``AsyncTinkerSampler``) awaits the future instead, for ``arun_token_tool_loop``::

    client = service_client.create_sampling_client(base_model=...)
    sampler = tinker_sampler(client, "hermes", tokenizer=tok, max_tokens=1024)
    trajectory = toolwire.run_token_tool_loop(
        sampler, prompt_ids, "hermes", tools, tokenizer=tok
    )

Tinker is imported when a request is built, never at import time; the client is
duck-typed (anything with ``sample(prompt=, num_samples=, sampling_params=)``).

Stop sequences: an explicit ``stop`` list is the whole set Tinker stops at (``[]``
disables even EOS, ``None`` keeps the implicit EOS).  So ``tinker_sampler`` with
``at="call"`` sends the call's stops *and* the turn's (``<|im_end|>``...), as a turn
without a call must still end at its end-of-turn token rather than run to
``max_tokens`` (which the loop would report as ``length``).  Tinker keeps the stop
token in the sampled ids; the loop keeps it as sampled (mask 1) and does not insert
it again.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
from collections.abc import Sequence
from typing import Any

from ..loop.stop import StopAt, StopSequences, stop_sequences

__all__ = ["AsyncTinkerSampler", "TinkerSampler", "stop_condition", "tinker_sampler"]

Stop = StopSequences | str | Sequence[str] | Sequence[int] | None


def import_tinker() -> Any:
    """The ``tinker`` module (ImportError with a hint when it is not installed)."""
    try:
        return importlib.import_module("tinker")
    except ImportError as exc:
        raise ImportError(
            "toolwire.integrations needs tinker for this: pip install 'toolwire[rl]'"
        ) from exc


def stop_list(stop: Stop) -> list[str] | list[int] | None:
    """``stop`` as Tinker's ``SamplingParams.stop`` takes it: the ids of a
    ``StopSequences`` when each string is one token, else its strings (None when it
    has none, so that EOS still stops); a str or a list of str or of int as is."""
    if stop is None:
        return None
    if isinstance(stop, StopSequences):
        if not stop.strings:
            return None
        return list(stop.token_ids) if stop.token_ids is not None else list(stop.strings)
    if isinstance(stop, str):
        return [stop]
    items: list[Any] = list(stop)
    if all(isinstance(s, str) for s in items):
        return [str(s) for s in items]
    if all(isinstance(s, int) and not isinstance(s, bool) for s in items):
        return [int(s) for s in items]
    raise TypeError("stop must be strings or token ids, not a mix (Tinker takes one kind)")


def stop_condition(format: str, *, tokenizer: Any = None, at: StopAt = "call") -> StopSequences:
    """The stops to sample ``format`` with: ``toolwire.stop_sequences(format, at=at)``,
    with ``at="call"`` followed by the turn's own stops (see the module docstring;
    those already in the list are not repeated).  Ids when every string is one token
    of ``tokenizer``, else strings only."""
    first = stop_sequences(format, tokenizer=tokenizer, at=at)
    if at != "call":
        return first
    turn = stop_sequences(format, tokenizer=tokenizer, at="turn")
    strings = list(first.strings)
    ids = list(first.token_ids) if first.token_ids is not None else None
    for n, string in enumerate(turn.strings):
        if string in strings:
            continue
        strings.append(string)
        if ids is not None and turn.token_ids is not None:
            ids.append(turn.token_ids[n])
        else:
            ids = None
    return StopSequences(strings, ids)


def _first_sequence(response: Any) -> Any:
    sequences = getattr(response, "sequences", None)
    if sequences is None:
        return response  # already a sequence (a client that returns one)
    if not sequences:
        raise ValueError("Tinker returned a response without sequences")
    return sequences[0]


class TinkerSampler:
    """``sampler(prompt_ids) -> SampledSequence`` on a Tinker ``SamplingClient``.

    ``stop``: a ``toolwire.StopSequences`` (its ``token_ids`` when not None, else its
    ``strings``), a str, a list of str or a list of int (not mixed).  The other
    arguments are those of ``tinker.SamplingParams``.  ``sampler.asample`` is the
    async version (it awaits the ``APIFuture``).
    """

    def __init__(
        self,
        client: Any,
        *,
        max_tokens: int,
        stop: Stop = None,
        temperature: float = 1.0,
        top_p: float = 1.0,
        top_k: int = -1,
        seed: int | None = None,
    ) -> None:
        if max_tokens < 1:
            raise ValueError("max_tokens must be at least 1")
        self.client = client
        self.max_tokens = max_tokens
        self.stop = stop_list(stop)
        self.temperature = temperature
        self.top_p = top_p
        self.top_k = top_k
        self.seed = seed

    def sampling_params(self) -> Any:
        """The ``tinker.SamplingParams`` of every request."""
        return import_tinker().SamplingParams(
            max_tokens=self.max_tokens,
            stop=self.stop,
            temperature=self.temperature,
            top_p=self.top_p,
            top_k=self.top_k,
            seed=self.seed,
        )

    def request(self, prompt_ids: Sequence[int]) -> Any:
        """Send one request; returns what ``client.sample`` returns (an APIFuture)."""
        prompt = import_tinker().ModelInput.from_ints([int(i) for i in prompt_ids])
        return self.client.sample(
            prompt=prompt, num_samples=1, sampling_params=self.sampling_params()
        )

    def __call__(self, prompt_ids: list[int]) -> Any:
        future = self.request(prompt_ids)
        result = getattr(future, "result", None)
        response = result() if callable(result) else future
        return _first_sequence(response)

    async def asample(self, prompt_ids: list[int]) -> Any:
        """The sample, awaited (the APIFuture is awaitable; a future that is not is
        waited on in a worker thread)."""
        future = self.request(prompt_ids)
        if inspect.isawaitable(future):
            response = await future
        elif callable(getattr(future, "result", None)):
            response = await asyncio.to_thread(future.result)
        else:
            response = future
        return _first_sequence(response)


class AsyncTinkerSampler(TinkerSampler):
    """``await sampler(prompt_ids)``: ``TinkerSampler.asample`` as the call, for
    ``toolwire.arun_token_tool_loop``."""

    async def __call__(self, prompt_ids: list[int]) -> Any:
        return await self.asample(prompt_ids)


def tinker_sampler(
    client: Any,
    format: str,
    *,
    tokenizer: Any = None,
    at: StopAt = "call",
    max_tokens: int,
    **params: Any,
) -> TinkerSampler:
    """A ``TinkerSampler`` that stops where the token loop cuts ``format``: the stops
    of ``stop_condition(format, tokenizer=tokenizer, at=at)`` (ids when each is one
    token of ``tokenizer``).  ``params``: ``temperature``, ``top_p``, ``top_k``,
    ``seed``.  Use ``.asample`` with the async loop."""
    stop = stop_condition(format, tokenizer=tokenizer, at=at)
    return TinkerSampler(client, max_tokens=max_tokens, stop=stop, **params)
