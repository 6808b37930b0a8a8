"""Guarantee 6 (clear errors) and guarantee 1 (chunk invariance) over each format's
own arbitrary input, one property for every format.

tests/test_every_format.py draws inputs from what the registry knows of a format (its
delimiters and renderer); the format files know more: near-miss markers, values holding
every marker, prompt tails, the schemas their typing reads.  Each format file exports
that knowledge as one ``ARBITRARY_INPUT`` entry (tests/oracle.py's ``ArbitraryInput``:
its generator of ``(format, text, options)``, its checks of a call), and this file runs
the same property over all of them: lenient mode raises nothing and positions every
error exactly, strict mode raises only ``ParseError`` at the lenient run's first error
with every event before it, and any chunking of the str or of its UTF-8 bytes gives the
events of the whole input.
"""

from __future__ import annotations

from typing import Any

import pytest
import test_format_deepseek
import test_format_deepseek_dsml
import test_format_gemma4
import test_format_glm
import test_format_harmony
import test_format_hermes
import test_format_kimi_k2
import test_format_kimi_k3
import test_format_llama3_json
import test_format_llama4_pythonic
import test_format_mistral
import test_format_qwen3_coder
import test_tags_properties
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import chunkings, coalesce, run
from tests.oracle import ArbitraryInput, check_clear_errors

ARBITRARY_INPUTS: dict[str, ArbitraryInput] = {
    "tags": test_tags_properties.ARBITRARY_INPUT,
    "hermes": test_format_hermes.ARBITRARY_INPUT,
    "llama3-json": test_format_llama3_json.ARBITRARY_INPUT,
    "llama4-pythonic": test_format_llama4_pythonic.ARBITRARY_INPUT,
    "mistral": test_format_mistral.ARBITRARY_INPUT,
    "qwen3-coder": test_format_qwen3_coder.ARBITRARY_INPUT,
    "harmony": test_format_harmony.ARBITRARY_INPUT,
    "deepseek": test_format_deepseek.ARBITRARY_INPUT,
    "deepseek-dsml": test_format_deepseek_dsml.ARBITRARY_INPUT,
    "kimi-k2": test_format_kimi_k2.ARBITRARY_INPUT,
    "kimi-k3": test_format_kimi_k3.ARBITRARY_INPUT,
    "glm": test_format_glm.ARBITRARY_INPUT,
    "gemma4": test_format_gemma4.ARBITRARY_INPUT,
}
"""Per format family, its own generator of arbitrary input (the format files say why
their pieces are the ones that matter)."""


@pytest.mark.parametrize("family", list(ARBITRARY_INPUTS))
@given(data=st.data())
def test_arbitrary_input_clear_errors_and_chunk_invariance(
    family: str, data: st.DataObject
) -> None:
    entry = ARBITRARY_INPUTS[family]
    fmt, text, options = data.draw(entry.inputs, label="input")
    payload: Any = text.encode("utf-8") if data.draw(st.booleans(), label="bytes") else text
    chunks = data.draw(chunkings(payload), label="chunks")
    events = check_clear_errors(fmt, text, chunks, entry.check_calls, entry.normalise, **options)
    whole = coalesce(run(fmt, [text], **options))
    assert entry.normalise(coalesce(events)) == entry.normalise(whole)
