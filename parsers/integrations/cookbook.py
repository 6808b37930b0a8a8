"""A tool-calling environment in the shape of tinker-cookbook's RL ``Env``.

tinker-cookbook cannot be a dependency here (nor is it installed in toolwire's test
environment), so its protocol is duck-typed, as its rollout code only calls the two
methods: ``await env.initial_observation() -> (observation, stop_condition)`` and
``await env.step(action_ids) -> StepResult``.  ``StepResult`` below has the fields of
``tinker_cookbook.rl.types.StepResult`` in the same order (``reward``,
``episode_done``, ``next_observation``, ``next_stop_condition``, ``metrics``,
``logs``).  Code that checks ``isinstance(env, Env)`` can register the class:
``tinker_cookbook.rl.types.Env.register(ToolEnv)`` (``Env`` is an ABC).

Each ``step`` is one model turn of ``toolwire.TokenSession``: the action's ids are
read up to the cut after the first completed call (the ids after it that write the
closer, such as the kept ``</tool_call>`` stop token, are kept too; the rest are
dropped), the calls run, and the results and the next assistant header are
inserted.  The next observation is then::

    previous observation + kept action ids + inserted ids

so when no id was dropped it extends ``previous observation + action``, and the
cookbook merges the whole episode into one datum (its ``_is_prefix`` check), with
the inserted ids as observation (mask 0).  When ids past the cut were dropped
(the engine did not stop at the cut) the next observation does *not* extend
``observation + action``, and the cookbook starts a new datum there; sampling with
``stop_condition`` avoids that (Tinker stops at the call's closing token).

Observations are ``tinker.ModelInput`` when tinker can be imported, else plain
lists of ids.  The episode ends (``episode_done``) when a turn has no call (the
model answered), when ``max_steps`` turns were taken (the last results are inserted
anyway), or when a call was truncated (no tool runs).  ``reward(trajectory)``, if
given, is computed once, at the end (0.0 before); ``env.trajectory`` is the
rollout (``toolwire.Trajectory``) so far.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..loop.renderers import ToolResult
from ..loop.stop import StopAt
from ..loop.token_session import TokenSession
from ..loop.tool_loop import DEFAULT_MAX_STEPS
from ..loop.tools import DEFAULT_TIMEOUT, Tool, arun_tool
from ..loop.trajectory import AtomicSample, TokenLoopEnd, TokenReason, Trajectory
from .tinker import import_tinker, stop_condition, stop_list

__all__ = ["StepResult", "ToolEnv", "observation"]

Reward = Callable[[Trajectory], Any]
"""``reward(trajectory) -> float`` (or an awaitable of one)."""


@dataclass
class StepResult:
    """``tinker_cookbook.rl.types.StepResult``, field for field."""

    reward: float
    episode_done: bool
    next_observation: Any
    """``tinker.ModelInput`` (a list of ids without tinker)."""
    next_stop_condition: list[str] | list[int]
    metrics: dict[str, float | int] = field(default_factory=dict)
    logs: dict[str, str | int | float] = field(default_factory=dict)


def observation(ids: Sequence[int]) -> Any:
    """``tinker.ModelInput.from_ints(ids)``, or the list of ids without tinker."""
    try:
        tinker = import_tinker()
    except ImportError:
        return list(ids)
    return tinker.ModelInput.from_ints(list(ids))


class ToolEnv:
    """One episode of tool use, for tinker-cookbook's RL loop (see the module
    docstring).  Discard after one episode, as the cookbook does.

    ``prompt_ids``: the conversation rendered up to the assistant header.
    ``tools``, ``schemas``, ``max_steps``, ``timeout``: as for
    ``toolwire.run_token_tool_loop`` (async tools are awaited, plain ones run in a
    worker thread).  ``at``: where the stop condition stops the sampler (``"call"``
    or ``"turn"``, see ``toolwire.integrations.tinker.stop_condition``).
    ``max_tokens``: the sampler's token limit, if known: an action that long which
    does not end with a stop id counts as cut by the limit (``length``), since the
    cookbook's ``step`` is not told why sampling ended.

    ``stop_condition`` (returned with every observation) holds ids when each stop is
    one token of the tokenizer, else strings; it is empty for a format without stops
    (``tags`` with ``at="turn"``), which Tinker reads as "no stop, not even EOS".
    """

    def __init__(
        self,
        prompt_ids: Sequence[int],
        format: str,
        tools: Mapping[str, Tool],
        *,
        tokenizer: Any,
        schemas: Sequence[Mapping[str, Any]] | None = None,
        max_steps: int = DEFAULT_MAX_STEPS,
        timeout: float | None = DEFAULT_TIMEOUT,
        at: StopAt = "call",
        reward: Reward | None = None,
        generation_prompt: str | None = None,
        parallel_calls: bool = False,
        max_tokens: int | None = None,
    ) -> None:
        self.session = TokenSession(
            prompt_ids,
            format,
            tokenizer,
            schemas=schemas,
            generation_prompt=generation_prompt,
            max_steps=max_steps,
            parallel_calls=parallel_calls,
        )
        self.tools = tools
        self.timeout = timeout
        self.reward_fn = reward
        self.max_tokens = max_tokens
        self.stops = stop_condition(format, tokenizer=self.session.tokenizer, at=at)
        self.stop_condition: list[str] | list[int] = stop_list(self.stops) or []
        self.end: TokenLoopEnd | None = None
        self.reward = 0.0

    @property
    def done(self) -> bool:
        return self.end is not None

    @property
    def trajectory(self) -> Trajectory:
        """The rollout: the final one once the episode is over; before, the ids so
        far with ``reason="max_steps"`` (the episode was stopped from outside)."""
        if self.end is not None:
            return self.end.trajectory
        s = self.session
        return Trajectory(
            prompt_ids=list(s.prompt_ids),
            completion_ids=list(s.completion),
            mask=list(s.mask),
            logprobs=list(s.logprobs),
            turns=list(s.turns),
            reason="max_steps",
            text=s.tokenizer.decode(s.prompt_ids + s.completion),
            events=list(s.text.events),
            error=s.error,
        )

    async def initial_observation(self) -> tuple[Any, list[str] | list[int]]:
        return observation(self.session.ids), self.stop_condition

    def _stop_reason(self, ids: list[int]) -> str | None:
        """``length`` for an action cut by ``max_tokens``, else None (unknown: the
        session treats it as a sample that ended by itself)."""
        if not ids or self.max_tokens is None or len(ids) < self.max_tokens:
            return None
        stops = self.stops
        if stops.token_ids is not None and ids[-1] in stops.token_ids:
            return None
        text = self.session.tokenizer.decode(ids)
        if any(text.endswith(s) for s in stops.strings):
            return None
        return "length"

    async def step(
        self,
        action: Sequence[int],
        *,
        logprobs: Sequence[float | None] | None = None,
        stop_reason: str | None = None,
    ) -> StepResult:
        """One model turn: ``action`` is the sampled ids (``logprobs`` and the
        engine's ``stop_reason`` if the caller has them; the cookbook gives neither)."""
        if self.end is not None:
            raise RuntimeError("the episode is over: make a new ToolEnv")
        s = self.session
        ids = [int(t) for t in action]
        if logprobs is None:
            lps: list[float | None] = [None] * len(ids)
        else:
            lps = [None if lp is None else float(lp) for lp in logprobs]
            if len(lps) != len(ids):
                raise ValueError(f"{len(ids)} ids but {len(lps)} logprobs")
        reason = stop_reason if stop_reason is not None else self._stop_reason(ids)
        s.begin()
        s.take(AtomicSample(ids, lps, reason))
        end = s.end_turn()
        turn = s.turns[-1]
        outcome: TokenReason | None = s.outcome(end)
        results: list[ToolResult] = []
        if outcome is None:
            for call in s.calls:
                results.append(s.record(await arun_tool(call, self.tools, self.timeout)))
            s.add_results(results)
            if len(s.turns) >= s.max_steps:
                outcome = "max_steps"
        reward = 0.0
        logs: dict[str, str | int | float] = {}
        if outcome is not None:
            self.end = s.finish(outcome)
            logs["reason"] = outcome
            if self.reward_fn is not None:
                value = self.reward_fn(self.end.trajectory)
                if inspect.isawaitable(value):
                    value = await value
                reward = self.reward = float(value)
        if turn.turn.calls:
            logs["calls"] = ", ".join(str(call.name) for call in turn.turn.calls)
        if s.error is not None:
            logs["error"] = s.error.message
        metrics: dict[str, float | int] = {
            "calls": len(turn.turn.calls),
            "tool_errors": sum(1 for r in results if r.error is not None),
            "dropped_ids": turn.dropped,
            "kept_ids": len(turn.sampled),
            "inserted_ids": len(turn.inserted),
            "truncated": int(s.truncated),
        }
        return StepResult(
            reward=reward,
            episode_done=outcome is not None,
            next_observation=observation(s.ids),
            next_stop_condition=self.stop_condition,
            metrics=metrics,
            logs=logs,
        )
