"""The token-exact tool loop against real tokenizers trained in memory.

A scripted model writes, per turn, a call followed by what an unstopped model writes
(an invented result and an answer), as token ids of a byte-level BPE whose markers are
special ids.  The ids are re-cut at random byte boundaries (so a character spans ids
and a call's completing ``}`` may share an id with what follows it) and streamed in
random groups.  Whatever the cut and the grouping, the trajectory must keep the
sampled ids as they came up to the id that completes the call, insert only the real
result, decode to the text loop's transcript, and keep mask and logprobs aligned.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("tokenizers")

import toolwire
from tests.tokenizer_fixtures import BYTE_CHARS, bpe_tokenizer, sampled_ids
from toolwire.events import Error, ToolCall
from toolwire.loop.renderers import ToolResult, renderer, renderer_formats
from toolwire.loop.token_loop import Trajectory, run_token_tool_loop

CORE = ["tags", "hermes", "harmony", "qwen3-coder", "deepseek-v3.1"]
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
PROMPTS = {
    "hermes": "<|im_start|>user\nWhat is in notes?<|im_end|>\n<|im_start|>assistant\n",
    "qwen3-coder": "<|im_start|>user\nWhat is in notes?<|im_end|>\n<|im_start|>assistant\n",
    "harmony": "<|start|>user<|message|>What is in notes?<|end|><|start|>assistant",
}


def prompt_text(fmt: str) -> str:
    return PROMPTS.get(fmt, "User: what is in notes?\n" + renderer(fmt).generation_prompt)


def fake_result(name: str, arguments: dict[str, Any], content: str) -> ToolResult:
    call = ToolCall(index=0, id="call_0", name=name, arguments=arguments, raw="", span=(0, 0))
    return ToolResult(call=call, value=None, error=None, content=content)


def call_turn(fmt: str, arguments: dict[str, Any] = ARGS) -> str:
    r = renderer(fmt)
    # A bare JSON or Python-literal call is a call only at the start of the output.
    prose = "" if fmt in ("llama3-json", "llama4-pythonic") else "Let me look é.\n"
    return (
        prose
        + r.render_call("lookup", arguments)
        + r.end_of_turn
        + r.render_results([fake_result("lookup", arguments, f'{{"v": "{INVENTED}"}}')])
        + r.render_answer(f"The answer is {INVENTED}.")
    )


def answer_turn(fmt: str) -> str:
    r = renderer(fmt)
    return r.render_answer("Notes hold 3 lines, ünïcode 🙂.") + r.end_of_turn


def lookup(path: str, limit: int) -> dict[str, Any]:
    return {"path": path, "lines": limit}


# -- the scripted model (its ids: tokenizer_fixtures.sampled_ids) ---------------------


class Script:
    """A sampler replaying scripted turns as id streams (id, logprob) in groups;
    records the prompts it was given and whether each stream was closed."""

    def __init__(self, turns: list[list[int]], groups: Sequence[Sequence[int]] | None = None):
        self.turns = turns
        self.prompts: list[list[int]] = []
        self.closed: list[bool] = []
        self.groups = groups

    @staticmethod
    def logprob(turn: int, k: int) -> float:
        return -(turn + 1) - k / 1024

    def __call__(self, prompt_ids: list[int]) -> Iterator[list[tuple[int, float]]]:
        n = len(self.prompts)
        self.prompts.append(list(prompt_ids))
        ids = self.turns[n]
        pairs = [(t, self.logprob(n, k)) for k, t in enumerate(ids)]
        sizes = list(self.groups[n]) if self.groups else [1] * len(pairs)
        self.closed.append(False)
        return self._stream(n, pairs, sizes)

    def _stream(
        self, n: int, pairs: list[tuple[int, float]], sizes: list[int]
    ) -> Iterator[list[tuple[int, float]]]:
        try:
            at = 0
            for size in sizes:
                if at >= len(pairs):
                    break
                yield pairs[at : at + size]
                at += size
            if at < len(pairs):
                yield pairs[at:]
        finally:
            self.closed[n] = True


def text_transcript(fmt: str, turns: list[str], **options: Any) -> str:
    pending = list(turns)
    result = toolwire.run_tool_loop(
        lambda prompt: iter([pending.pop(0)]),
        prompt_text(fmt),
        fmt,
        {"lookup": lookup},
        schemas=SCHEMAS,
        **options,
    )
    return result.transcript


def check_alignment(traj: Trajectory, script: Script) -> None:
    n = len(traj.completion_ids)
    assert len(traj.mask) == n and len(traj.logprobs) == n
    for step, turn in enumerate(traj.turns):
        sampled = traj.completion_ids[turn.sampled.start : turn.sampled.stop]
        # Token-exact: the kept ids are the sampled ids as they came, never re-encoded.
        assert sampled == script.turns[step][: len(sampled)]
        for k, i in enumerate(turn.sampled):
            assert traj.mask[i] == 1
            assert traj.logprobs[i] == Script.logprob(step, k)
        assert turn.inserted.start == turn.sampled.stop
        for i in turn.inserted:
            assert traj.mask[i] == 0 and traj.logprobs[i] == 0.0
        assert turn.closer.stop == turn.results.start and turn.results.stop == turn.header.start
    covered = sum(len(t.sampled) + len(t.inserted) for t in traj.turns)
    assert covered == n
    # The prefix property: each prompt = previous prompt + kept ids + inserted ids.
    for step in range(1, len(script.prompts)):
        turn = traj.turns[step - 1]
        grown = traj.completion_ids[turn.sampled.start : turn.inserted.stop]
        assert script.prompts[step] == script.prompts[step - 1] + grown
    assert script.prompts[0] == traj.prompt_ids


@st.composite
def cuts_and_groups(draw: st.DrawFn, turns: list[str]) -> tuple[list[list[int]], list[list[int]]]:
    cuts = []
    for text in turns:
        size = len(text.encode())
        cuts.append(sorted(draw(st.sets(st.integers(1, max(1, size - 1)), max_size=size // 3))))
    groups = [draw(st.lists(st.integers(1, 6), max_size=40)) for _ in turns]
    return cuts, groups


def run(
    fmt: str, ids: list[list[int]], groups: Any = None, **options: Any
) -> tuple[Trajectory, Script]:
    tok = bpe_tokenizer(fmt)
    script = Script(ids, groups)
    traj = run_token_tool_loop(
        script,
        tok.encode(prompt_text(fmt)).ids,
        fmt,
        {"lookup": lookup},
        tokenizer=tok,
        schemas=SCHEMAS,
        **options,
    )
    return traj, script


@pytest.mark.parametrize("fmt", CORE)
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_any_tokenization_and_grouping(fmt: str, data: st.DataObject) -> None:
    tok = bpe_tokenizer(fmt)
    turns = [call_turn(fmt), answer_turn(fmt)]
    cuts, groups = data.draw(cuts_and_groups(turns))
    ids = [sampled_ids(tok, text, c) for text, c in zip(turns, cuts, strict=True)]
    traj, script = run(fmt, ids, groups)
    one_by_one, _ = run(fmt, ids)
    assert traj.completion_ids == one_by_one.completion_ids
    assert traj.mask == one_by_one.mask and traj.logprobs == one_by_one.logprobs
    check_alignment(traj, script)
    assert traj.reason == "stop" and len(traj.calls) == 1
    assert traj.calls[0].arguments == ARGS
    assert traj.text == text_transcript(fmt, turns)
    assert INVENTED not in traj.text and '"lines": 3' in traj.text
    assert script.closed == [True, True]
    first = traj.turns[0]
    # The cut is at the id that completes the call: without it the call is open.
    prompt = script.prompts[0]
    kept = traj.completion_ids[first.sampled.start : first.sampled.stop]
    base = len(tok.decode(prompt, skip_special_tokens=False))
    end = traj.calls[0].span[1]
    assert len(tok.decode(prompt + kept, skip_special_tokens=False)) - base >= end
    shorter = tok.decode(prompt + kept[:-1], skip_special_tokens=False)
    assert len(shorter.rstrip("\ufffd")) - base < end
    assert first.calls == [range(first.calls[0].start, first.sampled.stop)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_with_natural_ids(fmt: str) -> None:
    tok = bpe_tokenizer(fmt)
    turns = [call_turn(fmt), answer_turn(fmt)]
    ids = [tok.encode(t).ids for t in turns]
    traj, script = run(fmt, ids, [[3] * 400, [5] * 400])
    check_alignment(traj, script)
    assert traj.text == text_transcript(fmt, turns)
    assert INVENTED not in traj.text
    assert traj.results[0].value == {"path": ARGS["path"], "lines": 3}


@pytest.mark.parametrize("library", ["transformers", "tiktoken"])
@pytest.mark.parametrize("fmt", ["hermes", "harmony", "deepseek-v3.1"])
def test_other_tokenizer_libraries(library: str, fmt: str) -> None:
    pytest.importorskip(library)
    from tests import tokenizer_fixtures

    if library == "transformers":
        tok: Any = tokenizer_fixtures.transformers_tokenizer(fmt)
    else:
        tok = tokenizer_fixtures.tiktoken_encoding(fmt)
    wrapped = toolwire.as_tokenizer(tok)
    turns = [call_turn(fmt), answer_turn(fmt)]
    pending = [wrapped.encode(t) for t in turns]
    traj = run_token_tool_loop(
        lambda ids: iter(pending.pop(0)),
        wrapped.encode(prompt_text(fmt)),
        fmt,
        {"lookup": lookup},
        tokenizer=tok,
        schemas=SCHEMAS,
    )
    assert traj.text == text_transcript(fmt, turns)
    assert traj.reason == "stop" and len(traj.results) == 1


def test_overhang_token_is_kept_and_not_closed_twice() -> None:
    fmt = "hermes"
    tok = bpe_tokenizer(fmt)
    assert tok.token_to_id("}Ċ") is not None  # "}\n" is one id of this vocabulary
    turns = [call_turn(fmt), answer_turn(fmt)]
    ids = [tok.encode(t).ids for t in turns]
    traj, _ = run(fmt, ids)
    first = traj.turns[0]
    last = traj.completion_ids[first.sampled.stop - 1]
    assert tok.id_to_token(last) in ("}Ċ", "}}Ċ")  # the completing id carries "\n"
    closer = tok.decode(
        traj.completion_ids[first.closer.start : first.closer.stop], skip_special_tokens=False
    )
    assert closer == "</tool_call><|im_end|>\n"  # the overhang's "\n" is not inserted again
    assert traj.text.count("</tool_call>") == 1


def test_multibyte_character_split_at_the_cut() -> None:
    fmt = "tags"
    tok = bpe_tokenizer(fmt)
    args = {"path": "ü🙂"}
    turns = [call_turn(fmt, args), answer_turn(fmt)]
    text = turns[0]
    call_end = text.index("</tool_call>")
    # Cut every byte of the closing characters apart: "🙂" spans four ids, and the
    # ids before the completing "}" hold incomplete characters until it arrives.
    start = len(text[: text.index("🙂")].encode())
    cuts = list(range(start, len(text[: call_end + 3].encode())))
    ids = [sampled_ids(tok, text, cuts), tok.encode(turns[1]).ids]
    traj, script = run(fmt, ids)
    check_alignment(traj, script)
    assert traj.calls[0].arguments == args
    assert traj.text == text_transcript(fmt, turns)
    assert "\ufffd" not in traj.text


def ordinary_ids(tok: Any, text: str) -> list[int]:
    """``text`` written with special tokens disallowed (as Kimi-K3's encoder writes
    argument bodies): BPE pieces only, each marker cut after its first byte so that
    no merge spells it whole."""
    specials = [t.content for t in tok.get_added_tokens_decoder().values() if t.special]
    data = text.encode()
    cuts = sorted({0, len(data)} | {k + 1 for m in specials for k in _finds(data, m.encode())})
    ids = [
        t.id
        for a, b in itertools.pairwise(cuts)
        for t in tok.model.tokenize("".join(BYTE_CHARS[x] for x in data[a:b]))
    ]
    assert not set(ids) & {tok.token_to_id(m) for m in specials}
    return ids


def _finds(data: bytes, part: bytes) -> list[int]:
    out, at = [], data.find(part)
    while at >= 0:
        out.append(at)
        at = data.find(part, at + 1)
    return out


@pytest.mark.parametrize(
    ("fmt", "path"),
    [
        ("kimi-k3", "a<|close|>argument<|sep|><|close|>call<|sep|>b"),
        ("glm-4.7", "use </arg_value></tool_call> in docs"),
        ("gemma4", 'a<|"|>}<tool_call|>b'),
    ],
)
def test_marker_text_in_an_argument_does_not_cut_the_call(fmt: str, path: str) -> None:
    # The loop parses with the tokenizer's special ids: marker text the model wrote
    # with ordinary ids inside an argument is data (Kimi-K3's encoder writes bodies
    # with special tokens disallowed, FORMATS.md 6.2), where the text alone would
    # end the call at it.
    tok = bpe_tokenizer(fmt)
    args = {"path": path, "limit": 3}
    before, after = call_turn(fmt, {"path": "QPATHQ", "limit": 3}).split("QPATHQ")
    first = sampled_ids(tok, before) + ordinary_ids(tok, path) + sampled_ids(tok, after)
    ids = [first, tok.encode(answer_turn(fmt)).ids]
    traj, script = run(fmt, ids, [[2] * 400, [3] * 400])
    check_alignment(traj, script)
    assert traj.calls[0].arguments == args
    assert traj.results[0].value == {"path": path, "lines": 3}
    assert traj.reason == "stop" and INVENTED not in traj.text
    text = tok.decode(first, skip_special_tokens=False)
    as_text = toolwire.parse(text, fmt, tools=SCHEMAS)
    assert [e.arguments for e in as_text if isinstance(e, ToolCall)][:1] != [args]


def atomic(ids: list[list[int]], reasons: list[str]) -> Any:
    pending = list(zip(ids, reasons, strict=True))
    prompts: list[list[int]] = []

    def sample(prompt_ids: list[int]) -> tuple[list[int], list[float], str]:
        prompts.append(prompt_ids)
        turn, reason = pending.pop(0)
        return turn, [-0.25] * len(turn), reason

    return sample


def stop_cut(fmt: str, text: str, keep_stop: bool) -> str:
    stop = toolwire.stop_sequences(fmt).strings[0]
    at = text.index(stop)
    return text[: at + len(stop)] if keep_stop else text[:at]


@pytest.mark.parametrize("fmt", CORE)
@pytest.mark.parametrize("keep_stop", [True, False])
def test_atomic_sampler_stop_kept_or_stripped(fmt: str, keep_stop: bool) -> None:
    tok = bpe_tokenizer(fmt)
    turns = [call_turn(fmt), answer_turn(fmt)]
    first = stop_cut(fmt, turns[0], keep_stop)
    ids = [tok.encode(first).ids, tok.encode(turns[1]).ids]
    traj = run_token_tool_loop(
        atomic(ids, ["stop", "stop"]),
        tok.encode(prompt_text(fmt)).ids,
        fmt,
        {"lookup": lookup},
        tokenizer=tok,
        schemas=SCHEMAS,
    )
    assert traj.text == text_transcript(fmt, turns)
    turn = traj.turns[0]
    stop = toolwire.stop_sequences(fmt, tokenizer=tok)
    sampled = tok.decode(
        traj.completion_ids[turn.sampled.start : turn.sampled.stop], skip_special_tokens=False
    )
    inserted = tok.decode(
        traj.completion_ids[turn.closer.start : turn.closer.stop], skip_special_tokens=False
    )
    assert turn.turn.text == sampled  # the text turn holds exactly the kept ids' text
    if keep_stop:
        # The stop token the engine kept is sampled (mask 1) and not inserted again.
        assert sampled.endswith(stop.strings[0]) and stop.strings[0] not in inserted
        assert len(turn.sampled) == len(ids[0]) and turn.dropped == 0
    else:
        assert stop.strings[0] not in sampled
        assert (stop.strings[0] in inserted) == (stop.strings[0] in renderer(fmt).close_calls(""))
    assert traj.text.count(stop.strings[0]) == turns[0].count(stop.strings[0]) - (
        0 if fmt == "tags" else turns[0].count(stop.strings[0]) - 1
    )


@pytest.mark.parametrize("fmt", CORE)
def test_engine_appends_eos_after_stop(fmt: str) -> None:
    # SkyRL's behaviour: a stop string, then EOS; the EOS cannot follow the call
    # (the closer comes first), so it is dropped, never in the trajectory.
    tok = bpe_tokenizer(fmt)
    turns = [call_turn(fmt), answer_turn(fmt)]
    eos = toolwire.stop_sequences(fmt, at="turn").strings or ["<|endoftext|>"]
    first = tok.encode(stop_cut(fmt, turns[0], True)).ids + tok.encode(eos[0]).ids
    ids = [first, tok.encode(turns[1]).ids]
    traj = run_token_tool_loop(
        atomic(ids, ["stop", "stop"]),
        tok.encode(prompt_text(fmt)).ids,
        fmt,
        {"lookup": lookup},
        tokenizer=tok,
        schemas=SCHEMAS,
    )
    assert traj.text == text_transcript(fmt, turns)


@pytest.mark.parametrize("fmt", CORE)
def test_length_inside_a_call_runs_no_tool(fmt: str) -> None:
    tok = bpe_tokenizer(fmt)
    text = call_turn(fmt)
    ids = tok.encode(text[: text.index('"notes') + 4]).ids if '"notes' in text else []
    if not ids:
        ids = tok.encode(text[: text.index("notes") + 3]).ids
    ran: list[Any] = []
    traj = run_token_tool_loop(
        atomic([ids], ["length"]),
        tok.encode(prompt_text(fmt)).ids,
        fmt,
        {"lookup": lambda **kw: ran.append(kw)},
        tokenizer=tok,
        schemas=SCHEMAS,
    )
    assert ran == [] and traj.reason == "length"
    assert isinstance(traj.error, Error) and traj.error.code == "truncated"
    assert traj.completion_ids == ids and traj.mask == [1] * len(ids)
    assert traj.results == []


def test_length_after_an_answer_ends_with_length() -> None:
    fmt = "hermes"
    tok = bpe_tokenizer(fmt)
    ids = tok.encode("The answer is").ids
    traj = run_token_tool_loop(atomic([ids], ["length"]), [], fmt, {}, tokenizer=tok)
    assert traj.reason == "length" and traj.error is None and traj.completion_ids == ids


def test_tinker_like_sequence_object() -> None:
    fmt = "harmony"
    tok = bpe_tokenizer(fmt)

    class Sequence_:
        def __init__(self, tokens: list[int], reason: str) -> None:
            self.tokens, self.logprobs, self.stop_reason = tokens, [-1.0] * len(tokens), reason

    turns = [call_turn(fmt), answer_turn(fmt)]
    pending = [tok.encode(stop_cut(fmt, turns[0], True)).ids, tok.encode(turns[1]).ids]
    traj = run_token_tool_loop(
        lambda ids: Sequence_(pending.pop(0), "stop"),
        tok.encode(prompt_text(fmt)).ids,
        fmt,
        {"lookup": lookup},
        tokenizer=tok,
        schemas=SCHEMAS,
    )
    assert traj.text == text_transcript(fmt, turns)
    assert traj.logprobs[traj.turns[0].sampled.start] == -1.0


def parallel_turn(fmt: str) -> str:
    r = renderer(fmt)
    other = {"path": "b.txt", "limit": 1}
    if fmt in ("hermes", "qwen3-coder", "tags"):
        calls = r.render_call("lookup", ARGS) + "\n" + r.render_call("lookup", other)
    else:
        calls = r.render_call("lookup", ARGS) + r.render_call("lookup", other)
    return (
        calls
        + r.end_of_turn
        + r.render_results([fake_result("lookup", ARGS, INVENTED)])
        + r.render_answer(INVENTED)
    )


@pytest.mark.parametrize("fmt", ["hermes", "tags", "qwen3-coder"])
def test_parallel_calls(fmt: str) -> None:
    tok = bpe_tokenizer(fmt)
    turns = [parallel_turn(fmt), answer_turn(fmt)]
    ids = [tok.encode(t).ids for t in turns]
    traj, script = run(fmt, ids, parallel_calls=True)
    check_alignment(traj, script)
    assert [c.arguments["path"] for c in traj.calls] == [ARGS["path"], "b.txt"]
    assert len(traj.turns[0].calls) == 2 and len(traj.results) == 2
    assert traj.text == text_transcript(fmt, turns, parallel_calls=True)
    assert INVENTED not in traj.text


def test_eager_dispatch_starts_tools_while_the_model_writes() -> None:
    fmt = "hermes"
    tok = bpe_tokenizer(fmt)
    turns = [parallel_turn(fmt), answer_turn(fmt)]
    ids = [tok.encode(t).ids for t in turns]
    started = threading.Event()
    seen_before_end: list[bool] = []

    def slow_lookup(path: str, limit: int) -> dict[str, Any]:
        started.set()
        return lookup(path, limit)

    def sample(prompt_ids: list[int]) -> Iterator[int]:
        turn = ids.pop(0)
        if len(ids) == 1:  # the turn with two calls
            second = len(tok.encode(turns[0][: turns[0].index("<tool_call>", 5)]).ids)
            yield from turn[:second]
            # The first call is complete: its tool must already run.
            seen_before_end.append(started.wait(5.0))
            yield from turn[second:]
        else:
            yield from turn

    traj = run_token_tool_loop(
        sample,
        tok.encode(prompt_text(fmt)).ids,
        fmt,
        {"lookup": slow_lookup},
        tokenizer=tok,
        schemas=SCHEMAS,
        parallel_calls=True,
        concurrent=True,
    )
    assert seen_before_end == [True]
    assert [r.value["path"] for r in traj.results] == [ARGS["path"], "b.txt"]


@pytest.mark.parametrize("fmt", ["hermes", "harmony"])
def test_async_loop_matches_sync(fmt: str) -> None:
    tok = bpe_tokenizer(fmt)
    turns = [call_turn(fmt), answer_turn(fmt)]
    ids = [tok.encode(t).ids for t in turns]
    sync, _ = run(fmt, ids)

    async def alookup(path: str, limit: int) -> dict[str, Any]:
        await asyncio.sleep(0)
        return lookup(path, limit)

    def streaming() -> Any:
        pending = list(ids)

        async def sample(prompt_ids: list[int]) -> AsyncIterator[list[int]]:
            turn = pending.pop(0)
            for k in range(0, len(turn), 2):
                yield turn[k : k + 2]

        def wrapped(prompt_ids: list[int]) -> AsyncIterator[list[int]]:
            return sample(prompt_ids)

        return wrapped

    async def whole(prompt_ids: list[int]) -> tuple[list[int], None, str]:
        return pending.pop(0), None, "stop"

    pending = [tok.encode(stop_cut(fmt, turns[0], True)).ids, ids[1]]
    for sampler in (streaming(), whole):
        traj = asyncio.run(
            toolwire.arun_token_tool_loop(
                sampler,
                tok.encode(prompt_text(fmt)).ids,
                fmt,
                {"lookup": alookup},
                tokenizer=tok,
                schemas=SCHEMAS,
                concurrent=True,
            )
        )
        assert traj.text == sync.text
        assert traj.results[0].value == sync.results[0].value


def test_async_stream_error_cancels_running_tools() -> None:
    fmt = "hermes"
    tok = bpe_tokenizer(fmt)
    text = parallel_turn(fmt)
    first = tok.encode(text[: text.index("<tool_call>", 5)]).ids
    cancelled: list[bool] = []

    async def slow(path: str, limit: int) -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def sample(prompt_ids: list[int]) -> AsyncIterator[int]:
        for token in first:
            yield token
        await asyncio.sleep(0.01)  # the tool is running now
        raise ConnectionError("engine went away")

    async def main() -> None:
        with pytest.raises(ConnectionError):
            await toolwire.arun_token_tool_loop(
                sample,
                tok.encode(prompt_text(fmt)).ids,
                fmt,
                {"lookup": slow},
                tokenizer=tok,
                parallel_calls=True,
                concurrent=True,
            )
        await asyncio.sleep(0.01)

    asyncio.run(main())
    assert cancelled == [True]


def test_stop_sequences() -> None:
    tok = bpe_tokenizer("hermes")
    stops = toolwire.stop_sequences("hermes", tokenizer=tok)
    # The call's stop first, then the turn's own (an answer must still end).
    assert stops.strings == ["</tool_call>", "<|im_end|>", "<|endoftext|>"]
    assert stops.token_ids == [tok.token_to_id(s) for s in stops.strings]
    assert toolwire.stop_sequences("hermes", at="turn").strings[0] == "<|im_end|>"
    assert toolwire.stop_sequences("harmony").strings == ["<|call|>", "<|return|>", "<|endoftext|>"]
    assert toolwire.stop_sequences("mistral").strings == ["</s>"]  # as at="turn"
    # A stop made of several tokens gives strings only.
    assert toolwire.stop_sequences("kimi-k3", tokenizer=bpe_tokenizer("kimi-k3")).token_ids is None
    with pytest.raises(ValueError):
        toolwire.stop_sequences("openai-chat")
    for fmt in FORMATS:
        # Each call stop follows the completing character of a rendered call.
        call = renderer(fmt).render_call("lookup", ARGS)
        strings = toolwire.stop_sequences(fmt).strings
        text = call + renderer(fmt).end_of_turn
        # An engine stops at the earliest of its stop sequences (and strips it).
        cut = min((text.index(s) for s in strings if s in text), default=len(text))
        events = toolwire.parse(text[:cut], fmt)
        assert any(isinstance(e, ToolCall) for e in events), fmt


def test_to_record() -> None:
    fmt = "hermes"
    tok = bpe_tokenizer(fmt)
    turns = [call_turn(fmt), answer_turn(fmt)]
    traj, _ = run(fmt, [tok.encode(t).ids for t in turns])
    record = traj.to_record()
    assert record["prompt_ids"] == traj.prompt_ids
    assert record["response_ids"] == traj.completion_ids
    assert record["response_mask"] == traj.mask
    assert len(record["response_logprobs"]) == len(traj.completion_ids)


def test_sampler_shapes_are_checked() -> None:
    tok = bpe_tokenizer("hermes")
    with pytest.raises(TypeError):
        run_token_tool_loop(lambda ids: iter(["text"]), [], "hermes", {}, tokenizer=tok)
    with pytest.raises(TypeError):
        run_token_tool_loop(lambda ids: iter([1]), [], "hermes", {})
    with pytest.raises(ValueError):
        run_token_tool_loop(lambda ids: ([1, 2], [0.0], "stop"), [], "hermes", {}, tokenizer=tok)
