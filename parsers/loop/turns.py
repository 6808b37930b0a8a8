"""What the text tool loop reports and returns: its events, each turn's record and
the loop's result.

Theory of operation
-------------------
Apart from the parser's own events, a loop tells its caller when a model turn
starts (``TurnStart``, with the prompt it samples), where the turn was cut
(``TurnEnd``: the kept text, what was dropped after the cut, how many calls) and
that the loop is over (``LoopEnd``).  The same facts are kept as records: one
``Turn`` per model turn (kept text, events, calls, results, appended text) and the
``LoopResult`` (the transcript and every turn).  ``LoopOver`` is the shape both
loops end with: the token loop's ``TokenLoopEnd`` (``trajectory``) is one too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, TypeAlias, TypeVar

from ..events import Event, ToolCall
from ..message import Message, collect
from .renderer_base import ToolResult

__all__ = [
    "DEFAULT_MAX_STEPS",
    "LoopEnd",
    "LoopOver",
    "LoopResult",
    "StopReason",
    "Turn",
    "TurnEnd",
    "TurnStart",
]

DEFAULT_MAX_STEPS = 8
"""Model turns per loop: a model that calls tools forever is stopped (agent SDKs use
similar small defaults: the OpenAI Agents SDK's ``max_turns`` is 10)."""

StopReason: TypeAlias = Literal["stop", "max_steps"]


@dataclass(slots=True, kw_only=True)
class TurnStart(Event):
    """A model turn begins: ``prompt`` is what is sampled."""

    type: ClassVar[str] = "turn_start"
    step: int
    """1-based turn number."""
    prompt: str


@dataclass(slots=True, kw_only=True)
class TurnEnd(Event):
    """A model turn is over, cut at its last call or ended by the model."""

    type: ClassVar[str] = "turn_end"
    step: int
    reason: Literal["tool_calls", "stop"]
    """``tool_calls``: stopped at a completed call; ``stop``: the output ended."""
    text: str
    """The output kept: everything up to the completing character of the last call
    (all of it when the model stopped by itself)."""
    dropped: str
    """What the sampler produced after the cut and the loop discarded."""
    calls: int
    """Number of completed calls in the kept output."""


Reason = TypeVar("Reason", bound=str)


@dataclass(slots=True, kw_only=True)
class LoopOver(Event, Generic[Reason]):
    """The event that ends a loop: why and after how many turns; the subclass adds
    what the loop returns (shown by ``to_json`` as these two fields only)."""

    reason: Reason
    steps: int

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "reason": self.reason, "steps": self.steps}


@dataclass(slots=True, kw_only=True)
class LoopEnd(LoopOver[StopReason]):
    """The loop is over; ``result`` holds the transcript and every turn.  ``reason``:
    ``stop``, the last turn had no call; ``max_steps``, the turn limit was hit."""

    type: ClassVar[str] = "loop_end"
    result: LoopResult


@dataclass(slots=True)
class Turn:
    """One model turn as the loop saw it."""

    step: int
    prompt: str
    text: str = ""
    """The output kept (see ``TurnEnd.text``)."""
    dropped: str = ""
    events: list[Event] = field(default_factory=list)
    """The parser's events for the kept output, as delivered."""
    calls: list[ToolCall] = field(default_factory=list)
    results: list[ToolResult] = field(default_factory=list)
    appended: str = ""
    """What the loop appended after ``text``: closing markup, results, next header."""

    @property
    def message(self) -> Message:
        """The turn's content, reasoning and calls, collected from its events."""
        return collect(self.events)


@dataclass(slots=True)
class LoopResult:
    """Everything the loop did."""

    transcript: str
    """The initial prompt plus every kept output and everything appended."""
    turns: list[Turn]
    events: list[Event]
    """Every event delivered, in order (parser events and loop events)."""
    reason: StopReason

    @property
    def results(self) -> list[ToolResult]:
        return [r for turn in self.turns for r in turn.results]

    @property
    def answer(self) -> str:
        """The visible text of the last turn."""
        return (self.turns[-1].message.content or "") if self.turns else ""
