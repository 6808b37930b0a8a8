"""Inputs the fuzzers found, kept so the bugs stay fixed (the one rule of fuzz/harness.py)."""

from __future__ import annotations

import pytest

import toolwire
from fuzz.harness import check

FOUND = [
    # Argument text before an invalid literal must be delivered whatever the chunking.
    b'<tool_call name="f">text </tool_call>',
    # A lone low surrogate escape split across chunks: the error offset is its last digit.
    b'<tool_call>"text ,\\\\ud83d\\ude00-0.5e3"</tool_call>',
    b']<{\r\n<tool_call\xc3\xa9"f"\\</tool_</analysis>[1"parameters"\xc3\xa9,,01"arguments"{\x00'
    b'</tool_call><tool_call name="f">text \x00"name">-0.5e3<</tool_]"arguments"\\u00e9""{,1null',
]


@pytest.mark.parametrize("data", FOUND)
def test_fuzz_regression(data: bytes) -> None:
    check(data, "tags")


def test_driver_runs_briefly() -> None:
    from fuzz.__main__ import main

    assert main(["--minutes", "0.05", "--seed", "3"]) == 0


@pytest.mark.parametrize("format", toolwire.formats())
def test_one_rule_holds_briefly_for_every_format(format: str) -> None:
    """The fuzz driver's generated and mutated inputs, for one second per format:
    parsed or reported, identical across splits, only ParseError in strict mode."""
    from fuzz.__main__ import main

    assert main(["--minutes", "0.015", "--format", format, "--seed", "5"]) == 0
