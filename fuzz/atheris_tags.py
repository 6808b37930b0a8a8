"""Coverage-guided fuzzing of the tags parser and JSON engine with atheris.

pip install atheris
python fuzz/atheris_tags.py fuzz/seeds/ -max_total_time=60
"""

from __future__ import annotations

import sys

import atheris  # type: ignore[import-not-found]

with atheris.instrument_imports():
    from fuzz.harness import check


def test_one_input(data: bytes) -> None:
    check(data, "tags", seed=len(data))


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
