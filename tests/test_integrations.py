"""toolwire.integrations against real Tinker types, with a scripted sampling client.

The client replays pre-written turns tokenized by the fixture BPEs: a call followed
by what an unstopped model writes (an invented result and answer), then an answer.
Like Tinker it honours ``SamplingParams.stop`` (cut after the first stop id or
string, the stop token kept in the ids) and ``max_tokens`` (``stop_reason``
``"length"``), and returns an ``APIFuture``-like object (``.result()``, awaitable)
holding a real ``tinker.types.SampleResponse``.  Nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Generator, Sequence
from typing import Any

import pytest

pytest.importorskip("tinker")
pytest.importorskip("tokenizers")

import tinker

import toolwire
from tests.tokenizer_fixtures import bpe_tokenizer
from toolwire.events import ToolCall
from toolwire.integrations import (
    AsyncTinkerSampler,
    StepResult,
    TinkerSampler,
    ToolEnv,
    num_turns,
    stop_condition,
    tinker_sampler,
    to_skyrl,
    to_tinker_datum,
    to_verl,
)
from toolwire.integrations.tinker import stop_list
from toolwire.loop.renderers import ToolResult, renderer
from toolwire.loop.stop import StopSequences
from toolwire.loop.token_loop import Trajectory

FORMATS = ["hermes", "harmony"]
INVENTED = "INVENTED-99"
REAL = "sunny-21.5"
PROMPTS = {
    "hermes": "<|im_start|>user\nWeather in Zürich?<|im_end|>\n<|im_start|>assistant\n",
    "harmony": "<|start|>user<|message|>Weather in Zürich?<|end|><|start|>assistant",
}
STOP_TOKEN = {"hermes": "</tool_call>", "harmony": "<|call|>"}


def invented(fmt: str) -> ToolResult:
    call = ToolCall(index=0, id="call_0", name="get_weather", arguments={}, raw="", span=(0, 0))
    return ToolResult(call=call, value=None, error=None, content=f'{{"sky": "{INVENTED}"}}')


def call_turn(fmt: str) -> str:
    """A call, then what a model that is not stopped writes: a result and an answer."""
    r = renderer(fmt)
    return (
        r.render_call("get_weather", {"city": "Zürich"})
        + r.end_of_turn
        + r.render_results([invented(fmt)])
        + r.render_answer(f"It is {INVENTED}.")
        + r.end_of_turn
    )


def answer_turn(fmt: str) -> str:
    r = renderer(fmt)
    return r.render_answer("It is sunny, 21.5 °C in Zürich 🙂.") + (r.end_of_turn or "")


class Weather:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, city: str) -> dict[str, Any]:
        self.calls.append(city)
        return {"sky": REAL, "city": city}


def tok_for(fmt: str) -> Any:
    return toolwire.as_tokenizer(bpe_tokenizer(fmt))


def logprob(turn: int, k: int) -> float:
    return -(turn + 1) - k / 1024


class Future:
    """What ``SamplingClient.sample`` returns: ``.result()``, or await it."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def result(self) -> Any:
        return self.value

    def __await__(self) -> Generator[Any, None, Any]:
        async def get() -> Any:
            await asyncio.sleep(0)
            return self.value

        return get().__await__()


class ScriptedClient:
    """A ``SamplingClient`` replaying one scripted turn per request."""

    def __init__(self, fmt: str, turns: Sequence[str], future: bool = True) -> None:
        self.tok = tok_for(fmt)
        self.turns = [self.tok.encode(text) for text in turns]
        self.future = future
        self.prompts: list[list[int]] = []
        self.params: list[Any] = []
        self.returned: list[list[int]] = []

    def cut(self, ids: list[int], params: Any) -> tuple[list[int], str]:
        stop = params.stop
        stops = [stop] if isinstance(stop, str) else list(stop or [])
        out: list[int] = []
        for token in ids:
            if params.max_tokens is not None and len(out) >= params.max_tokens:
                return out, "length"
            out.append(token)
            if stops and isinstance(stops[0], int):
                if token in stops:
                    return out, "stop"
            elif any(s in self.tok.decode(out) for s in stops):
                return out, "stop"
        return out, "stop"  # the scripted text ends: EOS

    def sample(self, prompt: Any, num_samples: int, sampling_params: Any) -> Any:
        assert isinstance(prompt, tinker.ModelInput) and num_samples == 1
        assert isinstance(sampling_params, tinker.SamplingParams)
        n = len(self.prompts)
        self.prompts.append(prompt.to_ints())
        self.params.append(sampling_params)
        tokens, reason = self.cut(self.turns[n], sampling_params)
        self.returned.append(tokens)
        sequence = tinker.types.SampledSequence(
            stop_reason=reason,
            sequence_id=f"seq-{n}",
            _tokens_list=tokens,
            _logprobs_list=[logprob(n, k) for k in range(len(tokens))],
        )
        response = tinker.types.SampleResponse(sequences=[sequence])
        return Future(response) if self.future else response


def prompt_ids(fmt: str) -> list[int]:
    return tok_for(fmt).encode(PROMPTS[fmt])


def run(
    fmt: str, sampler: Any, client: ScriptedClient, **options: Any
) -> tuple[Trajectory, Weather]:
    weather = Weather()
    traj = toolwire.run_token_tool_loop(
        sampler, prompt_ids(fmt), fmt, {"get_weather": weather}, tokenizer=client.tok, **options
    )
    return traj, weather


def check_books(traj: Trajectory, client: ScriptedClient) -> None:
    """Sampled ids are the client's ids as returned (with their logprobs, mask 1);
    inserted ids have mask 0; each prompt extends the previous one by kept + inserted."""
    n = len(traj.completion_ids)
    assert len(traj.mask) == n == len(traj.logprobs)
    for step, turn in enumerate(traj.turns):
        kept = traj.completion_ids[turn.sampled.start : turn.sampled.stop]
        assert kept == client.returned[step][: len(kept)]
        for k, i in enumerate(turn.sampled):
            assert traj.mask[i] == 1 and traj.logprobs[i] == logprob(step, k)
        for i in turn.inserted:
            assert traj.mask[i] == 0 and traj.logprobs[i] == 0.0
    assert client.prompts[0] == traj.prompt_ids
    for step in range(1, len(client.prompts)):
        turn = traj.turns[step - 1]
        grown = traj.completion_ids[turn.sampled.start : turn.inserted.stop]
        assert client.prompts[step] == client.prompts[step - 1] + grown


# -- samplers -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_tinker_sampler_loop(fmt: str) -> None:
    client = ScriptedClient(fmt, [call_turn(fmt), answer_turn(fmt)])
    sampler = tinker_sampler(client, fmt, tokenizer=client.tok, max_tokens=500)
    traj, weather = run(fmt, sampler, client)
    assert weather.calls == ["Zürich"] and traj.reason == "stop"
    assert REAL in traj.text and INVENTED not in traj.text
    check_books(traj, client)
    # The engine stopped at the call's stop token and kept it: sampled, not inserted again.
    stop = STOP_TOKEN[fmt]
    stop_id = client.tok.encode(stop)[0]
    first = traj.turns[0]
    assert first.dropped == 0 and len(first.sampled) == len(client.returned[0])
    assert traj.completion_ids[first.sampled.stop - 1] == stop_id
    assert traj.mask[first.sampled.stop - 1] == 1
    assert stop_id not in traj.completion_ids[first.inserted.start : first.inserted.stop]
    assert traj.text.count(stop) == 1
    # Stop ids of the call and of the turn; max_tokens; one sample per request.
    params = client.params[0]
    assert params.max_tokens == 500
    turn_stops = toolwire.stop_sequences(fmt, tokenizer=client.tok, at="turn").token_ids or []
    assert params.stop[0] == stop_id and set(turn_stops) <= set(params.stop)
    assert traj.turns[1].stop_reason == "stop"


@pytest.mark.parametrize("fmt", FORMATS)
def test_sampler_without_stop_drops_the_invented_result(fmt: str) -> None:
    client = ScriptedClient(fmt, [call_turn(fmt), answer_turn(fmt)])
    traj, weather = run(fmt, TinkerSampler(client, max_tokens=500), client)
    assert client.params[0].stop is None
    assert weather.calls == ["Zürich"] and REAL in traj.text and INVENTED not in traj.text
    assert traj.turns[0].dropped > 0
    check_books(traj, client)


@pytest.mark.parametrize("fmt", FORMATS)
def test_max_tokens_inside_a_call_is_length(fmt: str) -> None:
    client = ScriptedClient(fmt, [call_turn(fmt)])
    prefix = client.tok.encode(call_turn(fmt).split("Zür")[0])
    sampler = tinker_sampler(client, fmt, tokenizer=client.tok, max_tokens=len(prefix))
    traj, weather = run(fmt, sampler, client)
    assert weather.calls == [] and traj.reason == "length" and traj.error is not None
    assert traj.completion_ids == prefix and traj.mask == [1] * len(prefix)
    assert len(client.prompts) == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_async_samplers(fmt: str) -> None:
    turns = [call_turn(fmt), answer_turn(fmt)]
    sync_client = ScriptedClient(fmt, turns)
    expected, _ = run(
        fmt,
        tinker_sampler(sync_client, fmt, tokenizer=sync_client.tok, max_tokens=500),
        sync_client,
    )
    stop = stop_condition(fmt, tokenizer=sync_client.tok)

    async def go(make: Any, future: bool = True) -> Trajectory:
        client = ScriptedClient(fmt, turns, future=future)
        traj = await toolwire.arun_token_tool_loop(
            make(client), prompt_ids(fmt), fmt, {"get_weather": Weather()}, tokenizer=client.tok
        )
        check_books(traj, client)
        return traj

    for make, future in [
        (lambda c: AsyncTinkerSampler(c, max_tokens=500, stop=stop), True),
        (lambda c: TinkerSampler(c, max_tokens=500, stop=stop).asample, True),
        (lambda c: AsyncTinkerSampler(c, max_tokens=500, stop=stop), False),
    ]:
        traj = asyncio.run(go(make, future))
        assert traj.completion_ids == expected.completion_ids
        assert traj.mask == expected.mask and traj.logprobs == expected.logprobs
        assert traj.text == expected.text and traj.reason == "stop"


def test_client_returning_the_response_itself() -> None:
    fmt = "hermes"
    client = ScriptedClient(fmt, [call_turn(fmt), answer_turn(fmt)], future=False)
    traj, weather = run(
        fmt, tinker_sampler(client, fmt, tokenizer=client.tok, max_tokens=500), client
    )
    assert weather.calls == ["Zürich"] and REAL in traj.text


def test_stop_list_and_condition() -> None:
    tok = tok_for("hermes")
    assert stop_list(None) is None
    assert stop_list(StopSequences(["a", "b"], [3, 4])) == [3, 4]
    assert stop_list(StopSequences(["a", "b"], None)) == ["a", "b"]
    assert stop_list(StopSequences([], None)) is None  # keeps the implicit EOS
    assert stop_list("x") == ["x"] and stop_list([1, 2]) == [1, 2] and stop_list([]) == []
    with pytest.raises(TypeError):
        stop_list(["a", 1])  # type: ignore[list-item]
    ids = [tok.encode(s)[0] for s in ("</tool_call>", "<|im_end|>", "<|endoftext|>")]
    assert stop_condition("hermes", tokenizer=tok) == StopSequences(
        ["</tool_call>", "<|im_end|>", "<|endoftext|>"], ids
    )
    assert stop_condition("hermes").token_ids is None
    assert stop_condition("hermes", tokenizer=tok, at="turn") == toolwire.stop_sequences(
        "hermes", tokenizer=tok, at="turn"
    )
    harmony = stop_condition("harmony")
    assert harmony.strings[0] == "<|call|>" and harmony.strings.count("<|call|>") == 1
    params = TinkerSampler(object(), max_tokens=3, stop=harmony, seed=7).sampling_params()
    assert isinstance(params, tinker.SamplingParams)
    assert params.stop == harmony.strings and params.seed == 7 and params.top_k == -1


def test_nothing_heavy_at_import() -> None:
    code = (
        "import sys, toolwire.integrations, toolwire.integrations.cookbook;"
        "heavy = [m for m in ('tinker', 'numpy', 'torch', 'transformers') if m in sys.modules];"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- the tinker-cookbook environment -----------------------------------------------


def ints(observation: Any) -> list[int]:
    assert isinstance(observation, tinker.ModelInput)
    return list(observation.to_ints())


def merged_data(pairs: list[tuple[list[int], list[int]]]) -> int:
    """How many datums tinker-cookbook's ``trajectory_to_data`` makes of these
    (observation, action) pairs: a new one whenever an observation does not extend
    the previous observation + action."""
    count, full = 0, None
    for ob, ac in pairs:
        if full is None or ob[: len(full)] != full:
            count += 1
            full = list(ob)
        else:
            full = full + ob[len(full) :]
        full = full + ac
    return count


def episode(env: ToolEnv, client: ScriptedClient, *, stop: bool = True) -> list[Any]:
    async def go() -> list[Any]:
        ob, condition = await env.initial_observation()
        params = tinker.SamplingParams(max_tokens=500, stop=condition if stop else None)
        steps: list[Any] = [(ob, condition)]
        while True:
            future = client.sample(prompt=ob, num_samples=1, sampling_params=params)
            action = list((await future).sequences[0].tokens)
            result = await env.step(action)
            steps.append((action, result))
            if result.episode_done:
                return steps
            ob = result.next_observation

    return asyncio.run(go())


@pytest.mark.parametrize("fmt", FORMATS)
def test_tool_env_episode(fmt: str) -> None:
    client = ScriptedClient(fmt, [call_turn(fmt), answer_turn(fmt)])
    weather = Weather()
    env = ToolEnv(
        prompt_ids(fmt),
        fmt,
        {"get_weather": weather},
        tokenizer=client.tok,
        reward=lambda traj: 1.0 if REAL in traj.text else 0.0,
    )
    steps = episode(env, client)
    (ob0, condition), (a1, r1), (a2, r2) = steps
    assert ints(ob0) == prompt_ids(fmt)
    assert condition == stop_condition(fmt, tokenizer=client.tok).token_ids
    assert isinstance(r1, StepResult) and list(vars(r1)) == [
        "reward",
        "episode_done",
        "next_observation",
        "next_stop_condition",
        "metrics",
        "logs",
    ]
    # The prefix property: nothing dropped, so each observation extends ob + action.
    ob1, ob2 = ints(r1.next_observation), ints(r2.next_observation)
    start = len(ints(ob0)) + len(a1)
    assert ob1[:start] == ints(ob0) + a1 and len(ob1) > start
    assert ob2 == ob1 + a2
    assert merged_data([(ints(ob0), a1), (ob1, a2)]) == 1
    assert (r1.episode_done, r1.reward) == (False, 0.0)
    assert (r2.episode_done, r2.reward) == (True, 1.0) and env.reward == 1.0
    assert r1.metrics["calls"] == 1 and r1.metrics["dropped_ids"] == 0
    assert r1.metrics["tool_errors"] == 0 and r1.metrics["inserted_ids"] > 0
    assert r2.metrics["calls"] == 0 and r2.metrics["inserted_ids"] == 0
    assert r2.logs["reason"] == "stop" and r1.logs["calls"] == "get_weather"
    assert weather.calls == ["Zürich"]
    traj = env.trajectory
    assert traj.prompt_ids + traj.completion_ids == ob2
    assert traj.reason == "stop" and REAL in traj.text and INVENTED not in traj.text
    assert traj.mask.count(1) == len(a1) + len(a2)
    with pytest.raises(RuntimeError):
        asyncio.run(env.step(a2))


def test_tool_env_dropped_ids_break_the_prefix() -> None:
    fmt = "hermes"
    client = ScriptedClient(fmt, [call_turn(fmt), answer_turn(fmt)])
    env = ToolEnv(prompt_ids(fmt), fmt, {"get_weather": Weather()}, tokenizer=client.tok)
    (ob0, _), (a1, r1), (a2, _r2) = episode(env, client, stop=False)
    kept = env.trajectory.turns[0].sampled
    inserted = env.trajectory.turns[0].inserted
    traj = env.trajectory
    assert r1.metrics["dropped_ids"] == len(a1) - len(kept) > 0
    ob1 = ints(r1.next_observation)
    assert ob1 == ints(ob0) + a1[: len(kept)] + traj.completion_ids[inserted.start : inserted.stop]
    assert ob1[: len(ints(ob0)) + len(a1)] != ints(ob0) + a1
    assert merged_data([(ints(ob0), a1), (ob1, a2)]) == 2
    assert INVENTED not in traj.text and REAL in traj.text


def test_tool_env_step_limit_and_errors() -> None:
    fmt = "hermes"
    client = ScriptedClient(fmt, [call_turn(fmt), answer_turn(fmt)])

    def broken(city: str) -> str:
        raise RuntimeError("down")

    env = ToolEnv(prompt_ids(fmt), fmt, {"get_weather": broken}, tokenizer=client.tok, max_steps=1)
    (_ob0, _), (_a1, r1) = episode(env, client)
    assert r1.episode_done and r1.logs["reason"] == "max_steps"
    assert r1.metrics["tool_errors"] == 1 and r1.metrics["inserted_ids"] > 0
    # The last results are inserted anyway: the observation ends with the next header.
    assert env.trajectory.text.endswith("<|im_start|>assistant\n")


def test_tool_env_truncated_call() -> None:
    fmt = "harmony"
    client = ScriptedClient(fmt, [call_turn(fmt)])
    prefix = client.tok.encode(call_turn(fmt).split("Zür")[0])
    weather = Weather()
    env = ToolEnv(
        prompt_ids(fmt),
        fmt,
        {"get_weather": weather},
        tokenizer=client.tok,
        max_tokens=len(prefix),
        reward=lambda traj: -1.0,
    )
    result = asyncio.run(env.step(prefix))
    assert result.episode_done and result.reward == -1.0
    assert result.metrics["truncated"] == 1 and result.logs["reason"] == "length"
    assert weather.calls == [] and env.trajectory.reason == "length"
    assert ints(result.next_observation) == prompt_ids(fmt) + prefix


def test_tool_env_trajectory_so_far() -> None:
    fmt = "hermes"
    client = ScriptedClient(fmt, [call_turn(fmt)])
    env = ToolEnv(prompt_ids(fmt), fmt, {"get_weather": Weather()}, tokenizer=client.tok)
    action = client.cut(client.turns[0], tinker.SamplingParams(stop=env.stop_condition))[0]
    result = asyncio.run(env.step(action, logprobs=[-0.5] * len(action)))
    assert not result.episode_done and not env.done
    traj = env.trajectory
    assert traj.prompt_ids + traj.completion_ids == ints(result.next_observation)
    assert traj.logprobs[: len(action)] == [-0.5] * len(action)


def test_observations_without_tinker(monkeypatch: pytest.MonkeyPatch) -> None:
    import toolwire.integrations.cookbook as cookbook

    def missing() -> Any:
        raise ImportError("no tinker")

    monkeypatch.setattr(cookbook, "import_tinker", missing)
    fmt = "hermes"
    client = ScriptedClient(fmt, [call_turn(fmt)])
    env = ToolEnv(prompt_ids(fmt), fmt, {"get_weather": Weather()}, tokenizer=client.tok)
    ob, _ = asyncio.run(env.initial_observation())
    assert ob == prompt_ids(fmt)
    action = client.cut(client.turns[0], tinker.SamplingParams(stop=env.stop_condition))[0]
    result = asyncio.run(env.step(action))
    assert result.next_observation == ob + env.trajectory.completion_ids


# -- trainer records -------------------------------------------------------------------


def a_trajectory(fmt: str = "hermes") -> Trajectory:
    client = ScriptedClient(fmt, [call_turn(fmt), answer_turn(fmt)])
    traj, _ = run(fmt, tinker_sampler(client, fmt, tokenizer=client.tok, max_tokens=500), client)
    return traj


def test_to_verl() -> None:
    traj = a_trajectory()
    record = to_verl(traj)
    assert set(record) == {
        "prompt_ids",
        "response_ids",
        "response_mask",
        "response_logprobs",
        "num_turns",
    }
    n = len(record["response_ids"])
    assert n == len(record["response_mask"]) == len(record["response_logprobs"]) > 0
    assert record["prompt_ids"] + record["response_ids"] == traj.prompt_ids + traj.completion_ids
    assert record["response_mask"] == traj.mask
    assert record["num_turns"] == num_turns(traj) == 4  # user, call, results, answer
    for m, lp in zip(record["response_mask"], record["response_logprobs"], strict=True):
        assert (lp == 0.0) if m == 0 else (lp < 0)


def test_to_skyrl() -> None:
    traj = a_trajectory()
    out = to_skyrl(traj, reward=1.5)
    assert set(out) >= {
        "prompt_token_ids",
        "response_ids",
        "loss_masks",
        "rollout_logprobs",
        "stop_reasons",
        "rewards",
    }
    assert out["prompt_token_ids"] == [traj.prompt_ids]
    assert out["response_ids"] == [traj.completion_ids] and out["loss_masks"] == [traj.mask]
    assert len(out["rollout_logprobs"][0]) == len(out["response_ids"][0])
    assert out["stop_reasons"] == ["stop"] and out["rewards"] == [1.5]
    other = a_trajectory("harmony")
    batch = to_skyrl([traj, other], reward=[1.0, 0.0])
    assert batch["rewards"] == [1.0, 0.0] and len(batch["response_ids"]) == 2
    for ids, mask, lps in zip(
        batch["response_ids"], batch["loss_masks"], batch["rollout_logprobs"], strict=True
    ):
        assert len(ids) == len(mask) == len(lps)
    assert to_skyrl([traj, other])["rewards"] == [0.0, 0.0]
    with pytest.raises(ValueError):
        to_skyrl([traj], reward=[1.0, 2.0])


def test_to_tinker_datum() -> None:
    traj = a_trajectory()
    ids = traj.prompt_ids + traj.completion_ids
    n = len(ids) - 1
    datum = to_tinker_datum(traj)
    assert isinstance(datum, tinker.Datum)
    assert datum.model_input.to_ints() == ids[:-1] and datum.model_input.length == n
    inputs = datum.loss_fn_inputs
    assert set(inputs) == {"target_tokens", "logprobs", "advantages", "mask"}
    for value in inputs.values():
        assert isinstance(value, tinker.TensorData) and value.shape == [n]
    assert inputs["target_tokens"].dtype == "int64" and inputs["target_tokens"].data == ids[1:]
    p = len(traj.prompt_ids)
    mask = inputs["mask"].data
    assert mask == [float(m) for m in ([0] * p + traj.mask)[1:]]
    # Position i predicts ids[i + 1]: its mask and logprob are those of that id.
    for i, m in enumerate(mask):
        j = i + 1 - p  # index in the completion
        assert m == (traj.mask[j] if j >= 0 else 0)
        expected = traj.logprobs[j] if j >= 0 and traj.mask[j] else 0.0
        assert inputs["logprobs"].data[i] == pytest.approx(expected)
    assert inputs["advantages"].data == [0.0] * n
    scored = to_tinker_datum(traj, advantage=2.0, include_mask=False)
    assert set(scored.loss_fn_inputs) == {"target_tokens", "logprobs", "advantages"}
    assert scored.loss_fn_inputs["advantages"].data == [2.0 * m for m in mask]
    with pytest.raises(ValueError):
        to_tinker_datum(
            Trajectory([1], [], [], [], [], "stop", "", []),
        )
