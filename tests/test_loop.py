"""The tool loop against scripted samplers, in every format with a renderer.

A scripted sampler plays a model that never stops at its call: after the call it
goes on with an invented result and answer (``INVENTED``).  Whatever the chunking,
the loop must keep exactly the text up to the call's completing character, close the
sampler, and put the real result, never the invented one, into the transcript.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toolwire
from tests.conftest import chunkings, coalesce
from toolwire.events import Event, ToolCall
from toolwire.loop.renderers import ToolResult, renderer, renderer_formats
from toolwire.loop.tool_loop import LoopEnd, TurnEnd, TurnStart, iter_tool_loop, run_tool_loop

FORMATS = renderer_formats()
INVENTED = "INVENTED-RESULT"
ARGS: dict[str, Any] = {"path": "notes ü.txt", "limit": 3}
SCHEMAS = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string"}, "limit": {"type": "integer"}},
            },
        },
    }
]


def fake_result(name: str, arguments: dict[str, Any], content: str) -> ToolResult:
    call = ToolCall(index=0, id="call_0", name=name, arguments=arguments, raw="", span=(0, 0))
    return ToolResult(call=call, value=None, error=None, content=content)


def call_turn(fmt: str, name: str = "lookup", arguments: dict[str, Any] = ARGS) -> str:
    """A call followed by what an unstopped model writes: an invented result and an
    answer built on it."""
    r = renderer(fmt)
    return (
        r.render_call(name, arguments)
        + r.end_of_turn
        + r.render_results([fake_result(name, arguments, f'{{"v": "{INVENTED}"}}')])
        + r.render_answer(f"The answer is {INVENTED}.")
    )


class Sampler:
    """Plays ``turns`` in order, each cut into the chunks ``split`` gives; records what
    was produced and whether the iterator was closed early."""

    def __init__(
        self, turns: Sequence[str], split: Callable[[int, str], list[str]] | None = None
    ) -> None:
        self.turns = list(turns)
        self.split = split or (lambda step, text: [text[i : i + 5] for i in range(0, len(text), 5)])
        self.prompts: list[str] = []
        self.closed: list[bool] = []
        self.produced: list[str] = []

    def __call__(self, prompt: str) -> Iterator[str]:
        step = len(self.prompts)
        self.prompts.append(prompt)
        self.closed.append(False)
        self.produced.append("")
        text = self.turns[min(step, len(self.turns) - 1)]
        try:
            for chunk in self.split(step, text):
                self.produced[step] += chunk
                yield chunk
        except GeneratorExit:
            self.closed[step] = True
            raise


def first_call_end(fmt: str, text: str) -> int:
    end = toolwire.stop_at(
        toolwire.parse(text, fmt, tools=SCHEMAS, generation_prompt=renderer(fmt).prime)
    )
    assert end is not None
    return end


def echo(**arguments: Any) -> dict[str, Any]:
    return {"echo": arguments}


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=25)
@given(data=st.data())
def test_stop_exact_under_every_chunking(fmt: str, data: st.DataObject) -> None:
    r = renderer(fmt)
    turn1 = call_turn(fmt)
    turn2 = r.render_answer("Done.")
    chunks = data.draw(chunkings(turn1))
    sampler = Sampler([turn1, turn2], lambda step, text: chunks if step == 0 else [text])
    prompt = "PROMPT " + r.generation_prompt
    result = run_tool_loop(sampler, prompt, fmt, {"lookup": echo}, schemas=SCHEMAS)

    end = first_call_end(fmt, turn1)
    kept = turn1[:end]
    first, second = result.turns
    assert first.text == kept
    assert sampler.closed[0]  # the engine was told to stop
    consumed = sampler.produced[0]
    assert first.dropped == consumed[end:]
    assert len(consumed) - end < max(len(c) for c in chunks) + 1  # stopped in that chunk
    [res] = first.results
    assert res.error is None and res.value == {"echo": ARGS}
    assert first.calls[0].arguments == ARGS
    # The transcript holds the real result in the format's syntax, never the invented one.
    assert result.transcript == prompt + kept + r.continuation(kept, [res]) + turn2
    assert INVENTED not in result.transcript
    assert sampler.prompts[1] == prompt + kept + r.continuation(kept, [res])
    assert second.message.content == "Done."
    assert result.reason == "stop" and result.answer == "Done."
    # The events delivered for the kept output are the whole parse's, up to the call.
    whole = toolwire.parse(turn1, fmt, tools=SCHEMAS, generation_prompt=r.prime)
    upto = whole[: next(i for i, e in enumerate(whole) if isinstance(e, ToolCall)) + 1]
    assert coalesce(first.events) == coalesce(upto)


@pytest.mark.parametrize("fmt", FORMATS)
def test_loop_events_in_order(fmt: str) -> None:
    r = renderer(fmt)
    sampler = Sampler([call_turn(fmt), r.render_answer("ok")])
    events = list(
        iter_tool_loop(sampler, r.generation_prompt, fmt, {"lookup": echo}, schemas=SCHEMAS)
    )
    kinds = [
        type(e).__name__
        for e in events
        if not type(e).__name__.startswith(("Text", "Reasoning", "ToolCallStart", "ToolCallDelta"))
    ]
    assert kinds == [
        "TurnStart",
        "ToolCall",
        "TurnEnd",
        "ToolResult",
        "TurnStart",
        "Finish",
        "TurnEnd",
        "LoopEnd",
    ]
    assert isinstance(events[-1], LoopEnd)
    assert events[-1].result.events == events
    assert all("type" in e.to_json() for e in events)


def test_result_rendered_inline_hermes() -> None:
    """One concrete transcript, spelled out: what a Qwen model reads back."""
    call = '<tool_call>\n{"name": "lookup", "arguments": {"path": "a"}}'
    turn1 = call + "\n</tool_call><|im_end|>\nINVENTED"
    sampler = Sampler([turn1, "It has 3 lines."])
    result = run_tool_loop(
        sampler, "<|im_start|>assistant\n", "hermes", {"lookup": lambda path: {"lines": 3}}
    )
    assert result.transcript == (
        "<|im_start|>assistant\n"
        '<tool_call>\n{"name": "lookup", "arguments": {"path": "a"}}'
        "\n</tool_call><|im_end|>\n"
        '<|im_start|>user\n<tool_response>\n{"lines": 3}\n</tool_response><|im_end|>\n'
        "<|im_start|>assistant\n"
        "It has 3 lines."
    )


def test_harmony_first_turn_primed_from_prompt() -> None:
    """The prompt ends inside a header (``<|start|>assistant``): the first parser is
    primed with it, so the output's ``<|channel|>...`` is understood."""
    r = renderer("harmony")
    prompt = "<|start|>user<|message|>hi<|end|><|start|>assistant"
    sampler = Sampler([call_turn("harmony"), r.render_answer("bye")])
    result = run_tool_loop(sampler, prompt, "harmony", {"lookup": echo})
    assert [t.calls[0].name for t in result.turns[:1]] == ["lookup"]
    assert result.answer == "bye"
    assert result.turns[1].prompt.endswith("<|end|><|start|>assistant")


# -- tool failures -------------------------------------------------------------------


def _one_call(fmt: str, tools: dict[str, Callable[..., Any]], **options: Any) -> ToolResult:
    r = renderer(fmt)
    sampler = Sampler([call_turn(fmt), r.render_answer("ok")])
    result = run_tool_loop(sampler, r.generation_prompt, fmt, tools, **options)
    [res] = result.results
    assert res.content in result.transcript and INVENTED not in result.transcript
    assert result.answer == "ok"  # the loop went on after the failure
    return res


def test_tool_exception_becomes_error_result() -> None:
    def broken(**kw: Any) -> None:
        raise ValueError("boom")

    res = _one_call("tags", {"lookup": broken})
    assert res.error == "ValueError: boom"
    assert res.content == '{"error": "ValueError: boom"}'


def test_exception_inline_without_timeout() -> None:
    def broken(**kw: Any) -> None:
        raise KeyError("k")

    assert _one_call("hermes", {"lookup": broken}, timeout=None).error == "KeyError: 'k'"


def test_unknown_tool_and_bad_arguments() -> None:
    res = _one_call("tags", {"other": echo})
    assert res.error is not None and "unknown tool 'lookup'" in res.error
    res = _one_call("tags", {"lookup": lambda path: path})  # no "limit" parameter
    assert res.error is not None and res.error.startswith("TypeError")


def test_timeout_becomes_error_result() -> None:
    release = threading.Event()

    def slow(**kw: Any) -> str:
        release.wait(10)
        return "late"

    try:
        res = _one_call("mistral", {"lookup": slow}, timeout=0.05)
    finally:
        release.set()
    assert res.error == "tool 'lookup' timed out after 0.05 s"


def test_async_tool_in_sync_loop() -> None:
    async def atool(**kw: Any) -> dict[str, Any]:
        return {"async": kw}

    assert _one_call("llama3-json", {"lookup": atool}).value == {"async": ARGS}


def test_string_and_unserialisable_values() -> None:
    assert _one_call("tags", {"lookup": lambda **kw: "plain text"}).content == "plain text"
    obj = object()
    assert _one_call("tags", {"lookup": lambda **kw: {"o": obj}}).content == f'{{"o": "{obj}"}}'


# -- cancellation, limits, parallel calls --------------------------------------------


class ClosableIterator:
    """Not a generator: the loop must call its ``close()`` itself."""

    def __init__(self, chunks: list[str]) -> None:
        self.chunks = iter(chunks)
        self.closed = False

    def __iter__(self) -> ClosableIterator:
        return self

    def __next__(self) -> str:
        return next(self.chunks)

    def close(self) -> None:
        self.closed = True


def test_close_called_on_plain_iterator() -> None:
    text = call_turn("tags")
    iterators: list[ClosableIterator] = []

    def sample(prompt: str) -> ClosableIterator:
        chunks = [text] if not iterators else ["<final_answer>ok</final_answer>"]
        iterators.append(ClosableIterator(chunks))
        return iterators[-1]

    run_tool_loop(sample, "", "tags", {"lookup": echo})
    assert [it.closed for it in iterators] == [True, True]  # closed after the stop, and at the end


def test_consumer_stopping_early_closes_sampler() -> None:
    sampler = Sampler([call_turn("hermes")])
    loop = iter_tool_loop(sampler, "", "hermes", {"lookup": echo})
    for event in loop:
        if isinstance(event, TurnStart):
            next(loop)  # read one more event, then walk away mid-turn
            break
    loop.close()
    assert sampler.closed == [True]


@pytest.mark.parametrize("fmt", FORMATS)
def test_step_limit(fmt: str) -> None:
    sampler = Sampler([call_turn(fmt)])  # calls forever
    r = renderer(fmt)
    events: list[Event] = []
    result = run_tool_loop(
        sampler, "", fmt, {"lookup": echo}, max_steps=3, on_event=events.append, schemas=SCHEMAS
    )
    assert result.reason == "max_steps"
    assert len(result.turns) == 3 and len(result.results) == 3
    assert sampler.closed == [True, True, True]
    assert result.transcript.endswith(r.generation_prompt)  # ready to resume
    assert INVENTED not in result.transcript
    assert sum(isinstance(e, TurnEnd) for e in events) == 3


def test_invalid_options() -> None:
    with pytest.raises(ValueError, match="provider stream"):
        run_tool_loop(Sampler(["x"]), "", "openai-chat", {})
    with pytest.raises(ValueError, match="max_steps"):
        run_tool_loop(Sampler(["x"]), "", "tags", {}, max_steps=0)
    with pytest.raises(TypeError, match="str chunks"):
        run_tool_loop(lambda p: iter([b"bytes"]), "", "tags", {})  # type: ignore[list-item]


def test_no_call_stops_at_once() -> None:
    sampler = Sampler(["<analysis>hm</analysis>just text"])
    result = run_tool_loop(sampler, "", "tags", {"lookup": echo})
    assert result.reason == "stop" and len(result.turns) == 1
    assert result.answer == "just text" and result.turns[0].message.reasoning == "hm"
    assert sampler.closed == [False]  # read to its end


@pytest.mark.parametrize("fmt", FORMATS)
def test_parallel_calls_in_one_turn(fmt: str) -> None:
    r = renderer(fmt)
    calls = [("lookup", {"path": "a", "limit": 1}), ("lookup", {"path": "b", "limit": 2})]
    if fmt == "harmony":
        # One message per call; a model that ignores the <|call|> stop token goes on.
        body = r.render_call(*calls[0]) + "<|start|>assistant" + r.render_call(*calls[1])
    elif fmt == "llama4-pythonic":
        body = "[lookup(path='a', limit=1), lookup(path='b', limit=2)]"
    elif fmt == "llama3-json":
        body = r.render_call(*calls[0]) + "; " + r.render_call(*calls[1])
    elif fmt in ("deepseek-v3", "deepseek-r1", "deepseek-v3.1"):
        one, two = (r.render_call(*c) for c in calls)
        section_end, section_begin = "<｜tool▁calls▁end｜>", "<｜tool▁calls▁begin｜>"  # noqa: RUF001
        body = one.removesuffix(section_end) + "\n" + two.split(section_begin)[1]
    else:
        body = r.render_call(*calls[0]) + "\n" + r.render_call(*calls[1])
    turn1 = body + r.end_of_turn + f"{INVENTED} and more"
    order: list[str] = []

    def tool(path: str, limit: int) -> str:
        order.append(path)
        return path.upper()

    for parallel in (True, False):
        order.clear()
        sampler = Sampler([turn1, r.render_answer("ok")])
        result = run_tool_loop(
            sampler,
            r.generation_prompt,
            fmt,
            {"lookup": tool},
            schemas=SCHEMAS,
            parallel_calls=parallel,
        )
        first = result.turns[0]
        assert INVENTED not in result.transcript
        assert sampler.closed[0]
        if parallel:
            assert order == ["a", "b"]
            assert [c.arguments["path"] for c in first.calls] == ["a", "b"]
            assert first.text == turn1[: first.calls[1].span[1]]
        else:
            assert order == ["a"]
            assert first.text == turn1[: first.calls[0].span[1]]
        assert result.answer == "ok"


def test_concurrent_tools_run_together() -> None:
    """Two calls that each wait for the other: only concurrent execution finishes."""
    barrier = threading.Barrier(2, timeout=2)

    def meet(path: str, limit: int) -> str:
        barrier.wait()
        return path

    r = renderer("tags")
    turn1 = (
        r.render_call("lookup", {"path": "a", "limit": 1})
        + r.render_call("lookup", {"path": "b", "limit": 2})
        + INVENTED
    )
    sampler = Sampler([turn1, r.render_answer("ok")])
    result = run_tool_loop(
        sampler, "", "tags", {"lookup": meet}, parallel_calls=True, concurrent=True, timeout=5
    )
    assert [(res.value, res.error) for res in result.results] == [("a", None), ("b", None)]


# -- the stop predicate --------------------------------------------------------------


@settings(max_examples=60)
@given(data=st.data())
def test_stop_at_and_cut_index(data: st.DataObject) -> None:
    text = 'intro <tool_call name="f">{"a": "}"}</tool_call>' + INVENTED
    end = len('intro <tool_call name="f">{"a": "}"}')
    chunks = data.draw(chunkings(text))
    parser = toolwire.parser("tags")
    kept = ""
    for chunk in chunks:
        before = parser.offset
        stop = toolwire.stop_at(parser.feed(chunk))
        if stop is not None:
            kept += chunk[: toolwire.cut_index(before, chunk, stop)]
            break
        kept += chunk
    assert kept == text[:end]


def test_stop_at_without_call() -> None:
    assert toolwire.stop_at(toolwire.parse("no call", "tags")) is None
    assert toolwire.cut_index(10, "abc", 5) == 0 and toolwire.cut_index(0, "abc", 9) == 3


def test_harmony_builtin_and_namespaced_results() -> None:
    # A python call completes at its own <|call|> (nothing left to close); results
    # come from the recipient itself for built-ins and other namespaces.
    prompt = "<|start|>user<|message|>run<|end|><|start|>assistant"
    turns = [
        "<|channel|>commentary to=python<|message|>print(1+1)<|call|>INVENTED",
        '<|channel|>commentary to=math.sum <|constrain|>json<|message|>{"a":1}<|call|>',
        "<|channel|>final<|message|>2<|return|>",
    ]
    result = run_tool_loop(
        lambda p: iter([turns.pop(0)]),
        prompt,
        "harmony",
        {"python": lambda code: "2", "math.sum": lambda a: a + 1},
    )
    assert result.transcript == (
        prompt
        + "<|channel|>commentary to=python<|message|>print(1+1)<|call|>"
        + "<|start|>python to=assistant<|channel|>commentary<|message|>2<|end|><|start|>assistant"
        + '<|channel|>commentary to=math.sum <|constrain|>json<|message|>{"a":1}'
        + "<|call|><|start|>math.sum to=assistant<|channel|>commentary<|message|>2<|end|>"
        + "<|start|>assistant<|channel|>final<|message|>2<|return|>"
    )
    assert [r.call.builtin for r in result.results] == [True, False]
