"""Long-running hypothesis fuzz driver: ``python -m fuzz --minutes N [--format tags]``.

Generates documents from the format's grammar (with adversarial text and JSON),
mutates them (byte flips, insertions, truncations) and checks the one rule of
``fuzz/harness.py`` on each, until the time is up.  Failures are printed with the
input as a Python literal, ready to become a regression test.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from fuzz.harness import check

FRAGMENTS = [
    "<analysis>",
    "</analysis>",
    "<final_answer>",
    "</final_answer>",
    "<tool_call>",
    "</tool_call>",
    '<tool_call name="f">',
    "<tool_call",
    "</tool_",
    "<",
    ">",
    "{",
    "}",
    "[",
    "]",
    '"',
    "\\",
    ":",
    ",",
    '"name"',
    '"arguments"',
    '"parameters"',
    '"f"',
    "1",
    "-0.5e3",
    "true",
    "null",
    " ",
    "\n",
    "\r\n",
    "é",
    "😀",
    "\\u00e9",
    "\\ud83d\\ude00",
    "text ",
    "01",
    "NaN",
    "\x00",
    "\x1f",
]


def generate(rng: random.Random) -> bytes:
    text = "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(0, 40)))
    data = bytearray(text.encode("utf-8", "surrogatepass"))
    for _ in range(rng.randint(0, 3)):
        op = rng.randrange(3)
        if op == 0 and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif op == 1:
            data.insert(rng.randrange(len(data) + 1), rng.randrange(256))
        elif data:
            del data[rng.randrange(len(data)) :]
    return bytes(data)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fuzz")
    ap.add_argument("--minutes", type=float, default=1.0)
    ap.add_argument("--format", default="tags")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    deadline = time.monotonic() + args.minutes * 60
    runs = 0
    while time.monotonic() < deadline:
        data = generate(rng)
        try:
            check(data, args.format, seed=runs)
        except Exception as exc:  # report every failure, with the input
            print(f"FAILURE after {runs} inputs: {exc!r}\ninput: {data!r}", file=sys.stderr)
            return 1
        runs += 1
    print(f"{runs} inputs, no failure")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
