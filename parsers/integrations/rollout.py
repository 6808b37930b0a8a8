"""A ``toolwire.Trajectory`` in the records RL trainers take.

* ``to_verl``: the fields of verl's ``AgentLoopOutput`` (``prompt_ids``,
  ``response_ids``, ``response_mask``, ``response_logprobs``, ``num_turns``).
* ``to_skyrl``: SkyRL's ``GeneratorOutput`` (batched: one entry per trajectory).
* ``to_tinker_datum``: a ``tinker.Datum`` for Tinker's ``forward_backward``, laid
  out as tinker-cookbook's ``trajectory_to_data`` does it.

In every one the sampled ids have mask 1 and their logprobs, and the ids the loop
inserted (closers, tool results, headers) mask 0 and logprob 0.0.  Only
``to_tinker_datum`` needs tinker, imported when called.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..loop.token_loop import Trajectory
from .tinker import import_tinker

__all__ = ["num_turns", "to_skyrl", "to_tinker_datum", "to_verl"]


def num_turns(trajectory: Trajectory) -> int:
    """Turns as verl's tool agent loop counts them: the user's, one per model turn,
    one per round of tool results."""
    return 1 + len(trajectory.turns) + sum(1 for turn in trajectory.turns if turn.turn.results)


def to_verl(trajectory: Trajectory) -> dict[str, Any]:
    """The fields of verl's ``AgentLoopOutput``: ``Trajectory.to_record()`` plus
    ``num_turns`` (``AgentLoopOutput(**to_verl(t), metrics=...)``)."""
    record = trajectory.to_record()
    record["num_turns"] = num_turns(trajectory)
    return record


def to_skyrl(
    trajectory: Trajectory | Sequence[Trajectory],
    reward: float | Sequence[float] = 0.0,
) -> dict[str, Any]:
    """SkyRL's ``GeneratorOutput`` for one trajectory or a batch of them (every field
    is a list with one entry per trajectory).  ``reward``: one per trajectory, or one
    for all.  ``stop_reasons`` are ``Trajectory.reason`` (``stop``, ``length``,
    ``max_steps``); ``rollout_metrics`` is None."""
    batch = [trajectory] if isinstance(trajectory, Trajectory) else list(trajectory)
    if isinstance(reward, int | float):
        rewards = [float(reward)] * len(batch)
    else:
        rewards = [float(r) for r in reward]
        if len(rewards) != len(batch):
            raise ValueError(f"{len(batch)} trajectories but {len(rewards)} rewards")
    return {
        "prompt_token_ids": [list(t.prompt_ids) for t in batch],
        "response_ids": [list(t.completion_ids) for t in batch],
        "rewards": rewards,
        "loss_masks": [list(t.mask) for t in batch],
        "stop_reasons": [t.reason for t in batch],
        "rollout_metrics": None,
        "rollout_logprobs": [[0.0 if lp is None else lp for lp in t.logprobs] for t in batch],
    }


def to_tinker_datum(
    trajectory: Trajectory, *, advantage: float = 0.0, include_mask: bool = True
) -> Any:
    """The rollout as one ``tinker.Datum``: ``model_input`` is every id but the last;
    ``loss_fn_inputs`` are aligned with the targets (each position predicts the next
    id): ``target_tokens`` (the ids shifted by one), ``logprobs`` (the sampler's,
    0.0 where none), ``advantages`` (``advantage`` on sampled ids, 0.0 elsewhere) and
    ``mask`` (1.0 on sampled ids; 0.0 on the prompt and inserted ids).

    The importance-sampling losses take ``target_tokens``, ``logprobs`` and
    ``advantages``; tinker-cookbook keeps ``mask`` next to them and removes it before
    ``forward_backward``: ``include_mask=False`` leaves it out here."""
    tinker = import_tinker()
    ids = list(trajectory.prompt_ids) + list(trajectory.completion_ids)
    if len(ids) < 2:
        raise ValueError("a datum needs at least two ids")
    prompt = len(trajectory.prompt_ids)
    mask = [0.0] * prompt + [float(m) for m in trajectory.mask]
    logprobs = [0.0] * prompt + [0.0 if lp is None else lp for lp in trajectory.logprobs]
    n = len(ids) - 1

    def tensor(values: list[Any], dtype: str) -> Any:
        return tinker.TensorData(data=values, dtype=dtype, shape=[n])

    inputs = {
        "target_tokens": tensor(ids[1:], "int64"),
        "logprobs": tensor(logprobs[1:], "float32"),
        "advantages": tensor([advantage * m for m in mask[1:]], "float32"),
    }
    if include_mask:
        inputs["mask"] = tensor(mask[1:], "float32")
    return tinker.Datum(model_input=tinker.ModelInput.from_ints(ids[:-1]), loss_fn_inputs=inputs)
