"""The async tool loop: async samplers closed with ``aclose()``, async tools awaited
under their timeout, concurrent calls gathered; same transcripts as the sync loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import chunkings
from tests.test_loop import ARGS, FORMATS, INVENTED, SCHEMAS, Sampler, call_turn, echo
from toolwire import adetokenize
from toolwire.events import Event
from toolwire.loop.renderers import ToolResult, renderer
from toolwire.loop.tool_loop import LoopEnd, aiter_tool_loop, arun_tool_loop, run_tool_loop


class AsyncSampler:
    """An async-generator sampler that records whether ``aclose()`` reached it."""

    def __init__(self, turns: list[str], chunks: list[str] | None = None) -> None:
        self.turns = turns
        self.chunks = chunks
        self.closed: list[bool] = []
        self.prompts: list[str] = []

    async def gen(self, step: int, text: str) -> AsyncIterator[str]:
        pieces = (
            self.chunks
            if step == 0 and self.chunks
            else [text[i : i + 4] for i in range(0, len(text), 4)]
        )
        try:
            for piece in pieces:
                await asyncio.sleep(0)
                yield piece
        except GeneratorExit:
            self.closed[step] = True
            raise

    def __call__(self, prompt: str) -> AsyncIterator[str]:
        step = len(self.prompts)
        self.prompts.append(prompt)
        self.closed.append(False)
        return self.gen(step, self.turns[min(step, len(self.turns) - 1)])


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=10)
@given(data=st.data())
def test_async_matches_sync(fmt: str, data: st.DataObject) -> None:
    r = renderer(fmt)
    turns = [call_turn(fmt), r.render_answer("Done.")]
    chunks = data.draw(chunkings(turns[0]))
    sync = run_tool_loop(
        Sampler(turns), r.generation_prompt, fmt, {"lookup": echo}, schemas=SCHEMAS
    )

    async def aecho(**arguments: Any) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"echo": arguments}

    sampler = AsyncSampler(turns, chunks)
    result = asyncio.run(
        arun_tool_loop(sampler, r.generation_prompt, fmt, {"lookup": aecho}, schemas=SCHEMAS)
    )
    assert sampler.closed[0]  # aclose() reached the generator at the stop
    assert result.transcript == sync.transcript
    assert INVENTED not in result.transcript
    assert result.answer == "Done."


def test_async_tool_timeout_error_and_plain_tool() -> None:
    async def slow(**kw: Any) -> None:
        await asyncio.sleep(10)

    async def broken(**kw: Any) -> None:
        raise RuntimeError("nope")

    def plain(**kw: Any) -> str:
        return "sync ok"

    r = renderer("hermes")
    for tool, expect in (
        (slow, (None, "tool 'lookup' timed out after 0.05 s")),
        (broken, (None, "RuntimeError: nope")),
        (plain, ("sync ok", None)),
    ):
        sampler = AsyncSampler([call_turn("hermes"), "fine"])
        result = asyncio.run(
            arun_tool_loop(
                sampler, "", "hermes", {"lookup": tool}, timeout=0.05 if tool is slow else 5
            )
        )
        [res] = result.results
        assert (res.value, res.error) == expect
        assert result.answer == "fine" and r.render_results([res]) in result.transcript


def test_async_concurrent_calls_and_order() -> None:
    """Both calls wait on a barrier: they finish only if gathered; results in call order."""
    r = renderer("tags")
    turn1 = (
        r.render_call("lookup", {"path": "a", "limit": 1})
        + r.render_call("lookup", {"path": "b", "limit": 2})
        + INVENTED
    )

    async def main() -> list[ToolResult]:
        barrier = asyncio.Barrier(2)

        async def meet(path: str, limit: int) -> str:
            await asyncio.wait_for(barrier.wait(), 2)
            return path

        sampler = AsyncSampler([turn1, "<final_answer>ok</final_answer>"])
        result = await arun_tool_loop(
            sampler, "", "tags", {"lookup": meet}, parallel_calls=True, concurrent=True
        )
        return result.results

    results = asyncio.run(main())
    assert [(res.value, res.error) for res in results] == [("a", None), ("b", None)]


def test_async_step_limit_and_sync_iterable_sampler() -> None:
    text = call_turn("mistral")
    closed: list[bool] = []

    def sample(prompt: str) -> Any:
        def gen() -> Any:
            try:
                yield from (text[i : i + 3] for i in range(0, len(text), 3))
            except GeneratorExit:
                closed.append(True)
                raise

        return gen()

    events: list[Event] = []

    async def on_event(event: Event) -> None:
        events.append(event)

    result = asyncio.run(
        arun_tool_loop(sample, "", "mistral", {"lookup": echo}, max_steps=2, on_event=on_event)
    )
    assert result.reason == "max_steps" and closed == [True, True]
    assert isinstance(events[-1], LoopEnd) and len(result.results) == 2


def test_async_consumer_stops_early() -> None:
    sampler = AsyncSampler([call_turn("tags")])

    async def main() -> None:
        loop = aiter_tool_loop(sampler, "", "tags", {"lookup": echo})
        async for _ in loop:
            break
        async for _ in loop:  # into the turn, then walk away
            break
        await loop.aclose()

    asyncio.run(main())
    assert sampler.closed == [True]


def test_async_token_sampler_cancelled_through_detokenizer() -> None:
    """A token-id engine wrapped by ``adetokenize``: the loop's stop reaches the engine."""
    text = call_turn("hermes")
    data = text.encode()
    vocab = {i: data[i : i + 3] for i in range(0, len(data), 3)}
    cancelled: list[bool] = []

    async def engine() -> AsyncIterator[int]:
        try:
            for token in vocab:
                yield token
        finally:
            cancelled.append(True)

    def decode(ids: Any) -> str:
        return b"".join(vocab[i] for i in ids).decode("utf-8", "replace")

    result = asyncio.run(
        arun_tool_loop(
            lambda prompt: adetokenize(engine(), decode),
            "",
            "hermes",
            {"lookup": echo},
            max_steps=1,
        )
    )
    assert cancelled == [True]
    assert result.turns[0].calls[0].arguments == ARGS
    assert INVENTED not in result.transcript
