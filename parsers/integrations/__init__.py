"""The token loop in RL stacks: Tinker samplers, a tinker-cookbook environment, and
the rollout records of verl, SkyRL and Tinker.

* ``TinkerSampler`` / ``AsyncTinkerSampler`` / ``tinker_sampler``: a Tinker
  ``SamplingClient`` as the sampler of ``toolwire.run_token_tool_loop``
  (``toolwire.integrations.tinker``).
* ``ToolEnv``: a tool-calling episode in tinker-cookbook's ``Env`` shape
  (``toolwire.integrations.cookbook``).
* ``to_verl``, ``to_skyrl``, ``to_tinker_datum``: a ``Trajectory`` as a trainer's
  record (``toolwire.integrations.rollout``).

Nothing here imports tinker (or any trainer) at import time: each library is
imported when a function needs it (``pip install 'toolwire[rl]'`` for tinker), and
everything else is duck-typed.
"""

from __future__ import annotations

from .cookbook import StepResult, ToolEnv
from .rollout import num_turns, to_skyrl, to_tinker_datum, to_verl
from .tinker import AsyncTinkerSampler, TinkerSampler, stop_condition, tinker_sampler

__all__ = [
    "AsyncTinkerSampler",
    "StepResult",
    "TinkerSampler",
    "ToolEnv",
    "num_turns",
    "stop_condition",
    "tinker_sampler",
    "to_skyrl",
    "to_tinker_datum",
    "to_verl",
]
