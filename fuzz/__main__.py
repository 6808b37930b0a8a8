"""Long-running fuzz driver: ``python -m fuzz --minutes N --format F|all [--seed S]``.

No extra dependency (atheris is for the coverage-guided harnesses).  Until the time
is up it draws inputs for the chosen target — a text format, a provider, ``json``
(the JSON engine), ``framing`` (the SSE and NDJSON decoders), ``tokens:F`` (the
token-level tool loop on format F, ``fuzz/tokens.py``) or ``tokens`` (every such F),
or ``all`` of them in turn — and checks the one rule of ``fuzz/harness.py`` on each:

* text formats: documents derived from the format's grammar and calls written by
  its renderer (``fuzz/generate.py``), then the same damaged by byte mutations and
  splices; with ``toolwire.testing.model_outputs`` available, hypothesis batches of
  its generated outputs too (shrunk on failure);
* the token loop: scripted turns (a renderer's call, then a grammar document, joined
  by ``\x1e``), and with ``toolwire.testing`` hypothesis batches of model outputs;
* every target: the seeds of ``python -m fuzz.seeds`` (the shared corpus included),
  mutated and spliced;
* one input in five runs with small limits (``limit_exceeded`` paths).

A failure prints the target, the input as a Python literal and the line to paste
into ``tests/test_fuzz_regressions.py``; exit status 1 (0 when none was found).

``python -m fuzz campaign ...`` is the coverage-guided campaign over every atheris
harness (``fuzz/campaign.py``).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from collections.abc import Callable
from functools import cache
from typing import Any

from fuzz.generate import document, encode_text, json_text, mutate, rendered_calls, splice
from fuzz.minimize import shrink
from fuzz.seeds import corpus_root, dictionary, seeds
from fuzz.targets import FAMILIES, Selected, decode, family_targets

Source = Callable[[random.Random], bytes]


def _family_of(target: str) -> str:
    for family in FAMILIES:
        if family != "tokens" and target in family_targets(family):
            return family
    known = [t for f in FAMILIES if f != "tokens" for t in family_targets(f)]
    extra = ", tokens, tokens:F" if "tokens" in FAMILIES else ""
    raise SystemExit(f"unknown format {target!r}; known: all{extra}, {', '.join(known)}")


def _chosen(spec: str) -> list[tuple[str, str]]:
    """(family, target) pairs of a ``--format`` value."""
    if spec == "all":
        return [(f, t) for f in FAMILIES for t in family_targets(f)]
    if spec == "tokens" or spec.startswith("tokens:"):
        if "tokens" not in FAMILIES:
            raise SystemExit("the tokens targets need the tokenizers package")
        targets = family_targets("tokens")
        name = spec.partition(":")[2]
        if name and name not in targets:
            raise SystemExit(f"unknown token-loop format {name!r}; known: {', '.join(targets)}")
        return [("tokens", t) for t in ([name] if name else targets)]
    return [(_family_of(spec), spec)]


@cache
def _family_seeds(family: str) -> list[Selected]:
    return [decode(family, data) for data in seeds(family, 4, corpus_root())]


class _Target:
    """One target's input sources."""

    def __init__(self, family: str, name: str) -> None:
        self.family = family
        self.name = name
        self.seeds = [s.document for s in _family_seeds(family) if s.target == name] or [b""]
        self.words = dictionary(family)
        self.base: list[Source] = [self._seed, self._mutated_seed]
        if family == "formats":
            self.base += [self._document, self._mutated_document]
        elif family == "tokens":
            self.base += [self._turns, self._mutated_turns]
        elif family == "json":
            self.base += [self._json, self._mutated_json]
        self.sources = [*self.base, self._spliced]

    def _seed(self, rng: random.Random) -> bytes:
        return rng.choice(self.seeds)

    def _mutated_seed(self, rng: random.Random) -> bytes:
        return mutate(rng.choice(self.seeds), rng, self.words)

    def _spliced(self, rng: random.Random) -> bytes:
        return splice(rng.choice(self.base)(rng), rng.choice(self.base)(rng), rng)

    def _document(self, rng: random.Random) -> bytes:
        return encode_text(document(self.name, rng))

    def _mutated_document(self, rng: random.Random) -> bytes:
        return mutate(self._document(rng), rng, self.words)

    def _turns(self, rng: random.Random) -> bytes:
        return encode_text(rendered_calls(self.name, rng) + "\x1e" + document(self.name, rng))

    def _mutated_turns(self, rng: random.Random) -> bytes:
        return mutate(self._turns(rng), rng, self.words)

    def _json(self, rng: random.Random) -> bytes:
        return encode_text(json_text(rng))

    def _mutated_json(self, rng: random.Random) -> bytes:
        return mutate(self._json(rng), rng, self.words)

    def next_input(self, rng: random.Random) -> Selected:
        data = rng.choice(self.sources)(rng)
        return Selected(self.family, self.name, data, rng.random() < 0.2)


class RuleBroken(Exception):
    """A generated input broke the rule (told apart from a generator's own errors)."""

    def __init__(self, selected: Selected, cause: Exception) -> None:
        super().__init__(f"{cause!r}")
        self.selected = selected
        self.cause = cause


def _generated(family: str, name: str) -> Callable[[], Any] | None:
    """The ``toolwire.testing`` strategy for a target (outputs of a text format,
    bodies of a provider), when that module provides one for it."""
    try:
        from toolwire import testing
    except ImportError:
        return None
    if family in ("formats", "tokens"):
        make = getattr(testing, "model_outputs", None)
        covered = getattr(testing, "generatable_formats", None)
        if make is None or (covered is not None and name not in covered()):
            return None
        return lambda: make(name, broken=None)
    if family == "providers":
        streams = getattr(testing, "provider_streams", None)
        return None if streams is None else lambda: streams(name)
    return None


def _hypothesis_batch(strategy: Any, target: _Target, examples: int) -> None:
    """Check ``examples`` inputs drawn by hypothesis; a failure is shrunk and raised
    as ``RuleBroken``."""
    from hypothesis import HealthCheck, Phase, given, settings

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(drawn: Any) -> None:
        body = getattr(drawn, "body", None)
        if body is None:  # a model output: its text and the tools it was written for
            body = encode_text(drawn.text)
        tools = getattr(drawn, "tools", None)
        selected = Selected(target.family, target.name, body, False, tools)
        try:
            selected.run()
        except Exception as exc:
            raise RuleBroken(selected, exc) from exc

    run()


def report(selected: Selected, runs: int, exc: BaseException) -> None:
    """The failure, its input shrunk, and the regression test entry."""
    limits = ", small_limits=True" if selected.small_limits else ""
    small = shrink(selected)
    print(
        f"FAILURE after {runs} inputs: {selected.family} {selected.target!r}{limits}\n"
        f"{''.join(traceback.format_exception(exc))}"
        f"input: {selected.document!r}\n"
        f"regression (add to FOUND in tests/test_fuzz_regressions.py): {small!r},",
        file=sys.stderr,
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["campaign"]:
        from fuzz.campaign import main as campaign

        return campaign(argv[1:])
    ap = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=1.0)
    ap.add_argument(
        "--format",
        default="all",
        help="a format id, json, framing, tokens[:F] (the token loop), or all (default)",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep-going", action="store_true", help="report every failure")
    ap.add_argument("--runs", type=int, help="stop after this many inputs (deterministic)")
    ap.add_argument(
        "--no-hypothesis",
        action="store_true",
        help="skip the toolwire.testing strategies (every input then follows from --seed)",
    )
    args = ap.parse_args(argv)
    targets = [_Target(family, name) for family, name in _chosen(args.format)]
    generated = {
        (t.family, t.name): None if args.no_hypothesis else _generated(t.family, t.name)
        for t in targets
    }
    rng = random.Random(args.seed)
    deadline = time.monotonic() + args.minutes * 60
    runs = failures = 0
    while time.monotonic() < deadline and (args.runs is None or runs < args.runs):
        target = targets[runs % len(targets)]
        make = generated.get((target.family, target.name))
        if make is not None and rng.random() < 0.02:
            try:
                _hypothesis_batch(make(), target, 10)
            except RuleBroken as exc:  # shrunk by hypothesis
                report(exc.selected, runs, exc.cause)
                failures += 1
                if not args.keep_going:
                    return 1
            except Exception as exc:  # the generator's own problem: stop using it
                print(f"note: generated {target.name} inputs unavailable: {exc!r}")
                generated[(target.family, target.name)] = None
        selected = target.next_input(rng)
        try:
            selected.run()
        except Exception as exc:  # every escape is a failure to report
            report(selected, runs, exc)
            failures += 1
            if not args.keep_going:
                return 1
        runs += 1
    print(f"{runs} inputs over {len(targets)} target(s), {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
