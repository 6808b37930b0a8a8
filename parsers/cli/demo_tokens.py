"""``toolwire demo --tokens``: the demo's scripted model through the token-exact loop.

``run_tokens`` runs ``demo.ScriptedModel``'s script through ``run_token_tool_loop``,
the way an RL rollout does: the model samples token ids of a small built-in
tokenizer (``demo_tokenizer.py``: bytes, a few common pieces, the format's markers
as special ids), with *scripted* logprobs (``scripted_logprob``), and the trajectory
is printed id by id with its mask (1 sampled, 0 inserted by the loop), its logprob
and the part of the turn it belongs to (sampled text, a call, its overhang, the
inserted closer, results and header).  Deterministic, so the tests run it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from ..events import (
    ToolCall,
)
from ..loop.renderers import ToolResult

if TYPE_CHECKING:
    from ..loop.token_loop import TokenTurn, Trajectory
    from .demo_tokenizer import DemoTokenizer

from .demo import (
    QUESTION,
    SCHEMAS,
    TOKEN_NOTE,
    TOOLS,
    ScriptedModel,
    demo_prompt,
)

__all__ = ["ScriptedTokenModel", "run_tokens", "scripted_logprob"]


def scripted_logprob(k: int) -> float:
    """The fake logprob of the ``k``-th id (from 1) of a scripted sample: -0.1·k, so
    a reader can check that every kept id kept its own.  Scripted, not a model's."""
    return round(-0.1 * k, 1)


class ScriptedTokenModel:
    """``ScriptedModel`` as a streaming token sampler: ``model(prompt_ids)`` decodes
    the prompt, writes the script (its final answer with ``TOKEN_NOTE``), encodes it
    and yields ``(id, logprob)`` pairs in groups of ``chunk_size`` ids, with
    ``scripted_logprob`` logprobs; it records how far each generation got."""

    def __init__(self, format: str, tokenizer: DemoTokenizer, *, chunk_size: int = 7) -> None:
        self.model = ScriptedModel(format, answer_note=TOKEN_NOTE)
        self.tokenizer = tokenizer
        self.chunk_size = chunk_size
        self.generations = 0
        self.closed = 0
        """Generations whose iterator was closed before the script ended."""
        self.produced: list[int] = []
        """Ids yielded by each generation."""
        self.scripted: list[int] = []
        """Ids each generation would have yielded if read to the end."""

    def __call__(self, prompt_ids: list[int]) -> Iterator[list[tuple[int, float]]]:
        ids = self.tokenizer.encode(self.model.script(self.tokenizer.decode(prompt_ids)))
        pairs = [(token, scripted_logprob(k)) for k, token in enumerate(ids, start=1)]
        self.generations += 1
        self.produced.append(0)
        self.scripted.append(len(ids))
        return self._stream(pairs, len(self.produced) - 1)

    def _stream(
        self, pairs: list[tuple[int, float]], index: int
    ) -> Iterator[list[tuple[int, float]]]:
        try:
            for i in range(0, len(pairs), self.chunk_size):
                group = pairs[i : i + self.chunk_size]
                self.produced[index] += len(group)
                yield group
        except GeneratorExit:
            self.closed += 1
            raise


def _part(turn_index: int, index: int, trajectory: Trajectory) -> str:
    """Which range of its turn the completion id ``index`` is in."""
    turn = trajectory.turns[turn_index]
    if any(index in call for call in turn.calls):
        return "call"
    for name in ("sampled", "closer", "results", "header"):
        if index in getattr(turn, name):
            return name
    return "?"


def _overhangs(turn: TokenTurn, emitted: list[str]) -> dict[int, str]:
    """Per call's completing id, the text it writes past the call (``}\\n``'s
    newline), when any."""
    found: dict[int, str] = {}
    offset = 0
    start = turn.sampled.start
    ends = []
    for i in turn.sampled:
        offset += len(emitted[i])
        ends.append(offset)
    for call, ids in zip(turn.turn.calls, turn.calls, strict=False):
        last = ids.stop - 1
        if len(ids) and ends[last - start] > call.span[1]:
            text = turn.turn.text
            found[last] = text[call.span[1] : ends[last - start]]
    return found


def _span(r: range) -> str:
    return f"{r.start}:{r.stop}"


def _turn_line(turn_index: int, trajectory: Trajectory) -> str:
    turn = trajectory.turns[turn_index]
    parts = [f"sampled {_span(turn.sampled)}"]
    if turn.calls:
        parts[0] += " (call " + ", ".join(_span(c) for c in turn.calls) + ")"
    for name in ("closer", "results", "header"):
        r = getattr(turn, name)
        if len(r):
            parts.append(f"{name} {_span(r)}")
    return (
        f"-- turn {turn.step}: prompt {turn.prompt_length} ids; "
        + ", ".join(parts)
        + f"; {turn.dropped} dropped"
    )


def run_tokens(format: str, out: IO[str], *, chunk_size: int = 7, jsonl: bool = False) -> int:
    """The demo in ``format`` through ``run_token_tool_loop``, printed id by id (one
    JSON object per line with ``jsonl``); returns the exit status (0)."""
    from ..framing.detokenize import IncrementalDetokenizer
    from ..loop.token_loop import run_token_tool_loop
    from .demo_tokenizer import DEMO_PIECES, DemoTokenizer

    tokenizer = DemoTokenizer.for_format(format)
    model = ScriptedTokenModel(format, tokenizer, chunk_size=chunk_size)
    prompt_ids = tokenizer.encode(demo_prompt(format))
    trajectory = run_token_tool_loop(
        model, prompt_ids, format, TOOLS, tokenizer=tokenizer, schemas=SCHEMAS
    )
    completion = trajectory.completion_ids
    sampled = sum(trajectory.mask)
    dropped = sum(turn.dropped for turn in trajectory.turns)
    answer = trajectory.turns[-1].turn.message.content or ""
    # The text each id makes final (empty for a byte that does not end a character).
    detok = IncrementalDetokenizer(tokenizer.decode, context=prompt_ids)
    emitted = [detok.feed(token) for token in completion]
    emitted[-1:] = [emitted[-1] + detok.close()] if emitted else []

    def emit(obj: dict[str, Any]) -> None:
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")

    if jsonl:
        emit(
            {
                "type": "prompt",
                "format": format,
                "tokenizer": repr(tokenizer),
                "ids": prompt_ids,
                "text": tokenizer.decode(prompt_ids),
                "logprobs": "scripted: -0.1*k for the k-th id of a sample",
            }
        )
    else:
        out.write(
            f"toolwire demo --tokens: format {format}, the scripted model sampled as token "
            f"ids, local tools {', '.join(TOOLS)}\n"
            f"tokenizer: {tokenizer!r} (built in: bytes, {len(DEMO_PIECES)} common pieces, "
            "the format's markers as special ids)\n"
            f"question: {QUESTION}\n"
            f"prompt: {len(prompt_ids)} ids {prompt_ids}\n"
            "logprobs are SCRIPTED (-0.1*k for the k-th id of a sample), not a model's; "
            "mask 1 = sampled, 0 = inserted by the loop; # = index in completion_ids\n"
        )
    for t, turn in enumerate(trajectory.turns):
        calls = turn.turn.calls
        results = turn.turn.results
        if jsonl:
            emit(
                {
                    "type": "turn",
                    "step": turn.step,
                    "prompt_length": turn.prompt_length,
                    **{
                        name: [getattr(turn, name).start, getattr(turn, name).stop]
                        for name in ("sampled", "closer", "results", "header")
                    },
                    "calls": [[c.start, c.stop] for c in turn.calls],
                    "dropped": turn.dropped,
                    "tool_calls": [{"name": c.name, "arguments": c.arguments} for c in calls],
                    "tool_results": [
                        {"name": r.call.name, "content": r.content, "error": r.error}
                        for r in results
                    ],
                }
            )
        else:
            out.write("\n" + _turn_line(t, trajectory) + "\n")
            out.write(f"  {'#':>5} {'id':>5}  mask  logprob  {'part':<8} token\n")
        end = turn.inserted.stop if len(turn.inserted) else turn.sampled.stop
        overhang = _overhangs(turn, emitted)
        for i in range(turn.sampled.start, end):
            token, mask, logprob = completion[i], trajectory.mask[i], trajectory.logprobs[i]
            part = _part(t, i, trajectory)
            if jsonl:
                emit(
                    {
                        "type": "token",
                        "turn": turn.step,
                        "index": i,
                        "id": token,
                        "piece": tokenizer.token_text(token),
                        "text": emitted[i],
                        "mask": mask,
                        "logprob": logprob,
                        "part": part,
                        "special": token in tokenizer.special_ids,
                    }
                )
                continue
            if i == turn.sampled.stop and (calls or turn.dropped):
                _token_events(out, model, turn.step, calls, results)
            piece = tokenizer.token_text(token)
            if token in tokenizer.special_ids:
                piece += "  special"
            elif piece.startswith("b") and emitted[i]:
                piece += f" -> {emitted[i]!r}"  # the byte that completes a character
            if i in overhang:
                piece += f"  (carries {overhang[i]!r} past the call)"
            lp = "n/a" if logprob is None else f"{logprob:.1f}"
            out.write(f"  {i:>5} {token:>5}  {mask:>4}  {lp:>7}  {part:<8} {piece}\n")
        if not jsonl and not len(turn.inserted):
            if calls:
                _token_events(out, model, turn.step, calls, results)
            else:
                out.write("  the model answered without a call\n")
    summary = (
        f"{len(trajectory.turns)} turns, reason {trajectory.reason}; prompt "
        f"{len(prompt_ids)} ids; completion {len(completion)} ids = {sampled} sampled "
        f"(mask 1) + {len(completion) - sampled} inserted (mask 0); {dropped} sampled ids "
        "dropped after the cuts"
    )
    if jsonl:
        emit(
            {
                "type": "summary",
                "reason": trajectory.reason,
                "turns": len(trajectory.turns),
                "prompt_ids": len(prompt_ids),
                "completion_ids": len(completion),
                "sampled": sampled,
                "inserted": len(completion) - sampled,
                "dropped": dropped,
                "answer": answer,
                "transcript": trajectory.text,
            }
        )
    else:
        out.write(
            f"\nsummary: {summary}\nanswer: {answer}\n"
            f"--- transcript: decode(prompt_ids + completion_ids), "
            f"{len(trajectory.text)} characters ---\n{trajectory.text}\n"
            "--- end of transcript ---\n"
        )
    out.flush()
    return 0


def _token_events(
    out: IO[str],
    model: ScriptedTokenModel,
    step: int,
    calls: list[ToolCall],
    results: list[ToolResult],
) -> None:
    """The cut, the calls and the results of a call turn, between its sampled and its
    inserted ids."""
    produced, scripted = model.produced[step - 1], model.scripted[step - 1]
    out.write(
        f"  cut: the sampler was closed after {produced} of the {scripted} ids it would "
        "have written\n"
    )
    for call in calls:
        args = json.dumps(call.arguments, ensure_ascii=False)
        out.write(f"  tool_call {call.name}({args})\n")
    for result in results:
        label = "tool_error" if result.error else "tool_result"
        out.write(f"  {label} {result.call.name} -> {result.content}\n")
