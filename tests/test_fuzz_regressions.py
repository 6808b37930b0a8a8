"""Inputs the fuzzers found, kept so the bugs stay fixed (the one rule of
fuzz/harness.py), and short deterministic runs of the fuzz driver for every target.

A new entry is what ``python -m fuzz`` or ``python -m fuzz.reproduce`` prints
(see fuzz/README.md).  An entry whose bug is still open is marked ``xfail(strict)``
with what is wrong, so the test turns red the day it is fixed and the mark can go.
"""

from __future__ import annotations

import pytest

from fuzz.targets import FAMILIES, Selected, family_targets

FOUND = [
    # A record holding a lone surrogate escape: ijson cannot read it back from a JSON
    # array (UnicodeDecodeError), which must be reported as an unreadable array.
    Selected(
        "check",
        "check",
        b'{"output": "<tool_\\"arguments\\ud83d\\ude001}}\\n</tool_call>3d\\ude001}}'
        b'\\n</tool_call>"}',
        True,
    ),
    # Argument text before an invalid literal must be delivered whatever the chunking.
    Selected("formats", "tags", b'<tool_call name="f">text </tool_call>', False),
    # A lone low surrogate escape split across chunks: the error offset is its last digit.
    Selected("formats", "tags", b'<tool_call>"text ,\\\\ud83d\\ude00-0.5e3"</tool_call>', False),
    Selected(
        "formats",
        "tags",
        b']<{\r\n<tool_call\xc3\xa9"f"\\</tool_</analysis>[1"parameters"\xc3\xa9,,01"arguments"'
        b'{\x00</tool_call><tool_call name="f">text \x00"name">-0.5e3<</tool_]"arguments"'
        b'\\u00e9""{,1null',
        False,
    ),
    # A number ending at the offending character completes the envelope's name: the
    # call starts before the error whether that character comes alone or not.
    Selected("formats", "hermes", b'<tool_call>{"name":2g', False),
    Selected(
        "formats", "kimi-k2", b'<|tool_call_begin|><|tool_call_argument_begin|>{"name":2g', False
    ),
    # A parameter value past the argument cap: recovery starts at the first character
    # beyond it (here finding <think> / <tool_call>) whatever the chunking.
    Selected(
        "formats",
        "qwen3-coder",
        b"<function=z><parameter=\x1fU>\n\n<parameter=IUm%>weather\nthe\nParis<think>",
        True,
    ),
    Selected(
        "formats",
        "qwen3-coder",
        b"<function=d><parameter=[84>oo</func\n<parameter=X>\n</function><tool_call>",
        True,
    ),
    # A key capture past the hold-back limit: the raw delta stops at the limit.
    Selected("formats", "glm-4.5", b"<tool_call>B<arg_key>'y2h2fL\"af t*E-R'J/arg_key", True),
    # A line of exactly max_line_size bytes, then CRLF: NDJSON counted a CR that ended a
    # chunk as line content, so the line was over the limit when its CR came alone.
    Selected(
        "providers",
        "ollama",
        b'event: content_cbokl_type":"content_block_de"Hi",o"dne":false}etion_tokens"s.delta"'
        b'enCount": 2}}\r\n',
        True,
    ),
    Selected("framing", "framing", b"event: content_blo\x00\xef\xbb\xbfdb\r\n", True),
    # A llama3-json code body over the argument limit where a possible stop token held
    # back by an earlier feed lies past the limit: that text is lexed again.
    Selected(
        "formats",
        "llama3-json",
        b'<|python_tag|>E{"name": "weather", "parameters": {"n": {"n": "<|python_tag|>',
        True,
    ),
    # Campaign finding: an id run past its limit followed by a character the id cannot
    # hold, in one chunk: the valid part's limit error is where recovery starts (no
    # second error for the character after it, as when it arrives later).
    Selected("formats", "kimi-k2", b"<|tool_call_begin|>" + b"a" * 37 + b">", True),
]


@pytest.mark.parametrize("selected", FOUND, ids=lambda s: f"{s.target}-{s.document[:24]!r}")
def test_fuzz_regression(selected: Selected) -> None:
    selected.run()


TARGETS = [(family, target) for family in FAMILIES for target in family_targets(family)]


@pytest.mark.parametrize(
    ("family", "target"),
    TARGETS,
    ids=[f"tokens:{t}" if f == "tokens" else t for f, t in TARGETS],
)
def test_one_rule_holds_for_generated_and_mutated_inputs(family: str, target: str) -> None:
    """150 inputs of the fuzz driver (grammar documents, seeds, mutations, splices; one
    in five with small limits), the same every run: parsed or reported, identical
    across chunkings, only ParseError in strict mode.  The token loop (a dozen loop
    runs per input, ~20 ms): 12 inputs per format, one in five read as ids."""
    from fuzz.__main__ import main

    spec, runs = (f"tokens:{target}", "12") if family == "tokens" else (target, "150")
    assert main(["--runs", runs, "--format", spec, "--seed", "5", "--no-hypothesis"]) == 0
