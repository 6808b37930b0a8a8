"""The one rule for the token-level tool loop (``toolwire.run_token_tool_loop``).

A fuzz input of the ``tokens`` family is read in one of two ways (bit 7 of the
selector byte, ``Selected.small_limits``, picks the second; the token loop has no
limits of its own to make small):

* **text** (bit 7 clear): the document, as UTF-8 (undecodable bytes and U+FFFD
  dropped, see below), is what a scripted model writes, one turn per part between
  ``\\x1e`` bytes (at most ``MAX_TURNS``; after them the model writes nothing).  The
  turns are tokenized by the format's test tokenizer (``tests/tokenizer_fixtures.py``:
  a byte-level BPE trained on the format's own renderer output, its markers special
  ids) in three ways: naturally (``encode``), re-cut at pseudo-random byte
  boundaries (``sampled_ids``: a character may span ids, a call's completing
  character may share an id with what follows it), and one byte per id.  Checks:

  - any **grouping** of the streamed ids (one at a time or in random groups) gives
    the same trajectory: ids, mask, logprobs, turn ranges, text, events, calls,
    results, reason (only the count of ids seen after the cut may differ);
  - one byte per id (no id carries text past a call) gives exactly the text loop's
    transcript, calls and results on the same turns;
  - any **tokenization** gives the same calls, results, reason and number of turns,
    each turn's kept text is the one-byte-per-id kept text plus what the completing
    id carried past it (the overhang, a prefix of what the model wrote next), and
    the cut is at the completing id (without it the call would be incomplete);
  - a whole (atomic) sample of the natural ids gives the same calls and results;
  - every trajectory is aligned: the kept ids are the sampled ids as they came
    (token-exact), mask 1 / 0 and logprobs line up, each prompt is the previous one
    plus the kept and inserted ids, and the ids decode to ``Trajectory.text``.

  U+FFFD is dropped from the text because the detokenizer lets a real U+FFFD wait
  for up to ``DEFAULT_MAX_PENDING`` ids (it cannot tell it from an incomplete
  character), which moves the completing id by design; the ``ids`` reading covers it.

* **ids** (bit 7 set): the document is token ids, two little-endian bytes each,
  modulo the vocabulary (special ids included), one turn per part between ``\\x1e``
  bytes: arbitrary id streams, invalid UTF-8 and markers anywhere.  Checks: the
  grouping invariance and alignment above, for a streaming and an atomic sampler;
  no exception escapes (every id is in the vocabulary, so none is documented).

Tools echo their arguments (any name in ``TOOL_NAMES``; others are error results,
as are non-object arguments) and run inline (``timeout=None``), so a run is
deterministic.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import toolwire
from toolwire.loop.renderers import renderer, renderer_formats
from toolwire.loop.token_loop import TokenLoopEnd, Trajectory, run_token_tool_loop

__all__ = [
    "MAX_TURNS",
    "SEPARATOR",
    "TOOL_NAMES",
    "check_tokens",
    "encode_ids",
    "prompt_text",
    "token_formats",
]

SEPARATOR = b"\x1e"
"""Separates the scripted model's turns in a document."""
MAX_TURNS = 4
TOOL_NAMES = ("lookup", "f", "get_weather", "search", "run_code", "ping", "write_file", "x")


def _echo(**kwargs: Any) -> dict[str, Any]:
    return {"echo": kwargs}


TOOLS: Mapping[str, Any] = dict.fromkeys(TOOL_NAMES, _echo)


@cache
def token_formats() -> list[str]:
    """The formats with a renderer (the loop needs one) and a test tokenizer."""
    from tests.tokenizer_fixtures import FORMAT_MARKERS

    return [f for f in renderer_formats() if f in FORMAT_MARKERS]


@cache
def _tokenizer(fmt: str) -> Any:
    from tests.tokenizer_fixtures import bpe_tokenizer

    return bpe_tokenizer(fmt)


def prompt_text(fmt: str) -> str:
    """The first prompt: a user line and the format's assistant header."""
    return "User: what is in notes?\n" + str(renderer(fmt).generation_prompt)


def encode_ids(ids: Sequence[int]) -> bytes:
    """A document of the ``ids`` reading for one turn (two bytes per id)."""
    return b"".join((i & 0xFFFF).to_bytes(2, "little") for i in ids)


def _logprob(turn: int, k: int) -> float:
    return -(turn + 1) - k / 1024


@dataclass
class _Script:
    """A streaming sampler replaying id turns in groups (sizes from ``rng``, or one
    id at a time); records its prompts."""

    turns: list[list[int]]
    seed: int | None = None
    prompts: list[list[int]] = field(default_factory=list)

    def __call__(self, prompt_ids: list[int]) -> Iterator[list[tuple[int, float]]]:
        n = len(self.prompts)
        self.prompts.append(list(prompt_ids))
        ids = self.turns[n] if n < len(self.turns) else []
        pairs = [(t, _logprob(n, k)) for k, t in enumerate(ids)]
        rng = random.Random(None if self.seed is None else self.seed + n)
        at = 0
        while at < len(pairs):
            size = 1 if self.seed is None else rng.randint(1, 8)
            yield pairs[at : at + size]
            at += size


@dataclass
class _Atomic:
    """An atomic sampler: each turn whole, ``(ids, logprobs, "stop")``."""

    turns: list[list[int]]
    prompts: list[list[int]] = field(default_factory=list)

    def __call__(self, prompt_ids: list[int]) -> tuple[list[int], list[float], str]:
        n = len(self.prompts)
        self.prompts.append(list(prompt_ids))
        ids = self.turns[n] if n < len(self.turns) else []
        return ids, [_logprob(n, k) for k in range(len(ids))], "stop"


def _run(
    fmt: str, sampler: Any, schemas: Sequence[Mapping[str, Any]] | None, parallel: bool
) -> Trajectory:
    tok = _tokenizer(fmt)
    return run_token_tool_loop(
        sampler,
        tok.encode(prompt_text(fmt)).ids,
        fmt,
        TOOLS,
        tokenizer=tok,
        schemas=schemas,
        timeout=None,
        parallel_calls=parallel,
    )


def _summary(traj: Trajectory) -> tuple[Any, ...]:
    """Everything a trajectory says, bar the count of ids dropped after a cut (it
    depends on how many ids the last group held)."""
    turns = [
        (t.step, t.prompt_length, t.sampled, t.calls, t.closer, t.results, t.header)
        for t in traj.turns
    ]
    texts = [
        (t.stop_reason, t.turn.text, t.turn.appended, t.turn.calls, t.turn.results)
        for t in traj.turns
    ]
    events = [e for e in traj.events if not isinstance(e, TokenLoopEnd)]
    return (
        traj.prompt_ids,
        traj.completion_ids,
        traj.mask,
        traj.logprobs,
        turns,
        texts,
        traj.reason,
        traj.text,
        events,
        traj.error,
    )


def _aligned(
    fmt: str,
    traj: Trajectory,
    sampled: list[list[int]],
    prompts: list[list[int]],
    *,
    streamed: bool = True,
) -> None:
    """Token-exact kept ids, masks and logprobs in line, the prefix property, the ids
    decoding to the text, and (``streamed``: no atomic tail kept after the cut) the
    cut at the id that completes the turn's last call."""
    n = len(traj.completion_ids)
    assert len(traj.mask) == n and len(traj.logprobs) == n, "mask or logprobs misaligned"
    for step, turn in enumerate(traj.turns):
        kept = traj.completion_ids[turn.sampled.start : turn.sampled.stop]
        source = sampled[step] if step < len(sampled) else []
        assert kept == source[: len(kept)], f"turn {step + 1}: kept ids are not the sampled ids"
        for k, i in enumerate(turn.sampled):
            assert traj.mask[i] == 1, f"turn {step + 1}: a sampled id has mask 0"
            assert traj.logprobs[i] == _logprob(step, k), f"turn {step + 1}: logprob moved"
        assert turn.inserted.start == turn.sampled.stop, f"turn {step + 1}: gap before inserts"
        for i in turn.inserted:
            assert traj.mask[i] == 0 and traj.logprobs[i] == 0.0, "an inserted id has mask 1"
        assert turn.closer.stop == turn.results.start and turn.results.stop == turn.header.start
    covered = sum(len(t.sampled) + len(t.inserted) for t in traj.turns)
    assert covered == n, f"turn ranges cover {covered} of {n} completion ids"
    for step in range(1, len(prompts)):
        turn = traj.turns[step - 1]
        grown = traj.completion_ids[turn.sampled.start : turn.inserted.stop]
        assert prompts[step] == prompts[step - 1] + grown, f"prefix property broken at {step + 1}"
    assert not prompts or prompts[0] == traj.prompt_ids
    tok = _tokenizer(fmt)
    decoded = tok.decode(traj.prompt_ids + traj.completion_ids, skip_special_tokens=False)
    assert decoded == traj.text, "the ids do not decode to Trajectory.text"
    for step, turn in enumerate(traj.turns):
        if not streamed or not turn.turn.calls or traj.error is not None:
            continue
        # The cut is at the completing id: without it, the last call is incomplete.
        kept = traj.completion_ids[turn.sampled.start : turn.sampled.stop]
        without = tok.decode(kept[:-1], skip_special_tokens=False).rstrip("\ufffd")
        assert len(without) < turn.turn.calls[-1].span[1], (
            f"turn {step + 1} is cut after the id that completes its last call"
        )


def _calls(traj: Trajectory) -> list[tuple[Any, ...]]:
    return [(c.name, c.arguments, c.raw, c.span) for c in traj.calls]


def _results(traj: Trajectory) -> list[tuple[Any, ...]]:
    return [(r.call.name, r.value, r.error, r.content) for r in traj.results]


def _outcome(traj: Trajectory) -> tuple[Any, ...]:
    return (_calls(traj), _results(traj), traj.reason, len(traj.turns))


def _streamed(
    fmt: str,
    ids: list[list[int]],
    seed: int,
    schemas: Sequence[Mapping[str, Any]] | None,
    parallel: bool,
) -> Trajectory:
    """Run one at a time and in random groups: the same trajectory (returned)."""
    one = _Script(ids)
    traj = _run(fmt, one, schemas, parallel)
    _aligned(fmt, traj, ids, one.prompts)
    grouped = _Script(ids, seed)
    other = _run(fmt, grouped, schemas, parallel)
    _aligned(fmt, other, ids, grouped.prompts)
    a, b = _summary(traj), _summary(other)
    names = ["prompt", "ids", "mask", "logprobs", "turns", "turn texts", "reason", "text"]
    names += ["events", "error"]
    for name, x, y in zip(names, a, b, strict=True):
        assert x == y, f"grouped ids change the trajectory's {name}:\n  {y!r}\n  {x!r}"
    return traj


def _turn_texts(data: bytes) -> list[str]:
    text = data.decode("utf-8", "ignore").replace("\ufffd", "")
    return text.split(SEPARATOR.decode())[:MAX_TURNS]


def _turn_ids(fmt: str, data: bytes) -> list[list[int]]:
    vocab = _tokenizer(fmt).get_vocab_size(with_added_tokens=True)
    turns = []
    for part in data.split(SEPARATOR)[:MAX_TURNS]:
        pairs = range(0, len(part) - 1, 2)
        turns.append([int.from_bytes(part[i : i + 2], "little") % vocab for i in pairs])
    return turns


def check_tokens(
    data: bytes,
    fmt: str,
    seed: int = 0,
    *,
    ids_mode: bool = False,
    tools: Sequence[Mapping[str, Any]] | None = None,
) -> None:
    """Assert the token loop's rule for ``fmt`` on one fuzz document (see the module
    docstring); ``tools``: the schemas the text was generated for, if any."""
    from tests.tokenizer_fixtures import sampled_ids

    rng = random.Random(seed)
    parallel = rng.random() < 0.5
    if ids_mode:
        ids = _turn_ids(fmt, data)
        _streamed(fmt, ids, seed, tools, parallel)
        atomic = _Atomic(ids)
        _aligned(fmt, _run(fmt, atomic, tools, parallel), ids, atomic.prompts, streamed=False)
        return
    tok = _tokenizer(fmt)
    turns = _turn_texts(data)
    natural = [tok.encode(t).ids for t in turns]
    finest = [sampled_ids(tok, t, range(1, len(t.encode()))) for t in turns]
    cut: list[list[int]] = []
    for t in turns:
        size = len(t.encode())
        n = min(size - 1, rng.randint(0, size // 2 + 1))
        cut.append(sorted(rng.sample(range(1, size), n)) if size > 1 else [])
    recut = [sampled_ids(tok, t, c) for t, c in zip(turns, cut, strict=True)]

    exact = _streamed(fmt, finest, seed, tools, parallel)
    pending = list(turns)
    text_loop = toolwire.run_tool_loop(
        lambda prompt: iter([pending.pop(0)] if pending else []),
        prompt_text(fmt),
        fmt,
        TOOLS,
        schemas=tools,
        timeout=None,
        parallel_calls=parallel,
    )
    assert exact.text == text_loop.transcript, (
        f"one byte per id differs from the text loop:\n  {exact.text!r}\n  {text_loop.transcript!r}"
    )
    text_calls = [(c.name, c.arguments, c.raw, c.span) for t in text_loop.turns for c in t.calls]
    assert _calls(exact) == text_calls, "the token loop's calls are not the text loop's"

    for name, ids in (("natural", natural), (f"cut at {cut}", recut)):
        traj = _streamed(fmt, ids, seed, tools, parallel)
        assert _outcome(traj) == _outcome(exact), (
            f"{name} ids change the outcome:\n  {_outcome(traj)!r}\n  {_outcome(exact)!r}"
        )
        for step, (turn, base) in enumerate(zip(traj.turns, exact.turns, strict=True)):
            kept, want = turn.turn.text, base.turn.text
            assert kept.startswith(want), f"{name}: turn {step + 1} kept {kept!r}, not {want!r}+"
            overhang = kept[len(want) :]
            written = turns[step] if step < len(turns) else ""
            assert written.startswith(want + overhang), (
                f"{name}: turn {step + 1} kept {overhang!r} past the cut, which the model "
                "did not write there"
            )
    atomic = _Atomic(natural)
    whole = _run(fmt, atomic, tools, parallel)
    _aligned(fmt, whole, natural, atomic.prompts, streamed=False)
    assert (_calls(whole), _results(whole)) == (_calls(exact), _results(exact)), (
        "an atomic sample changes the calls or results"
    )
