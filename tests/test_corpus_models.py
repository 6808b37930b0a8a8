"""Every case of the shared model-output corpus, whole, char by char, as UTF-8 bytes
one at a time, and under generated chunkings (../shared/corpus/models, SOURCES.md).

A format joins by adding its prompt tails to ``PROMPTS`` (what the corpus options
``reasoning_started`` / ``prompt_ends_in_header`` mean for it) once it is registered.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import toolwire
from tests.conftest import chunkings, coalesce, corpus_root, run
from toolwire.events import Error, Event, ReasoningDelta, TextDelta, ToolCall

PROMPTS: dict[str, dict[str, str]] = {
    "hermes": {"reasoning_started": "<|im_start|>assistant\n<think>\n"},
    "harmony": {"prompt_ends_in_header": "<|start|>assistant"},
    "llama3-json": {},
    "qwen3-coder": {"reasoning_started": "<|im_start|>assistant\n<think>\n"},
    "deepseek-r1": {"reasoning_started": "<\uff5cAssistant\uff5c><think>\n"},
    "deepseek-v3": {},
    "deepseek-v3.1": {"reasoning_started": "<\uff5cAssistant\uff5c><think>"},
    "mistral": {"reasoning_started": "[THINK]"},
}
"""Format -> corpus option -> the generation_prompt tail it stands for."""


def _cases() -> list[Path]:
    root = corpus_root()
    if root is None:
        return []
    return sorted(
        path
        for path in (root / "models").glob("*/*.json")
        if path.parent.name in PROMPTS and path.parent.name in toolwire.formats()
    )


CASES = _cases()


def _options(case: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    prompts = PROMPTS[case["format"]]
    for flag, tail in prompts.items():
        if case.get("options", {}).get(flag):
            options["generation_prompt"] = tail
    if case.get("tools"):
        options["tools"] = case["tools"]
    return options


def summary(events: list[Event]) -> dict[str, Any]:
    """What a client stores after the stream (content/reasoning None when empty)."""
    content = "".join(e.text for e in events if isinstance(e, TextDelta))
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    return {
        "content": content or None,
        "reasoning": reasoning or None,
        "tool_calls": [
            {"name": e.name, "arguments": e.arguments} for e in events if isinstance(e, ToolCall)
        ],
        "errors": [e.code for e in events if isinstance(e, Error)],
    }


def check_case(case: dict[str, Any], events: list[Event]) -> None:
    got = summary(events)
    expected = case["expected"]
    compare = case.get("compare", {})
    if compare.get("content") == "strip":
        strip = (got["content"] or "").strip() or None
        assert strip == ((expected["content"] or "").strip() or None)
    elif compare.get("content") != "ignore":
        assert got["content"] == expected["content"]
    assert got["reasoning"] == expected["reasoning"]
    calls = [{"name": c["name"], "arguments": c["arguments"]} for c in expected["tool_calls"]]
    assert got["tool_calls"] == calls
    options = case.get("options", {})
    if not (options.get("errors_allowed") or options.get("truncated")):
        assert got["errors"] == []
    ids = [c.get("id") for c in expected["tool_calls"]]
    if any(ids):
        assert [e.id for e in events if isinstance(e, ToolCall)] == ids


def _load(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text("utf-8")))


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_corpus_case_whole_and_char_by_char(path: Path) -> None:
    case = _load(path)
    options = _options(case)
    output: str = case["output"]
    whole = run(case["format"], [output], **options)
    check_case(case, whole)
    assert coalesce(run(case["format"], list(output), **options)) == coalesce(whole)
    data = output.encode("utf-8")
    one_byte = [data[i : i + 1] for i in range(len(data))]
    assert coalesce(run(case["format"], one_byte, **options)) == coalesce(whole)


@pytest.mark.skipif(not CASES, reason="shared corpus not found or no format registered")
@given(data=st.data())
def test_corpus_cases_under_generated_chunkings(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(CASES))
    case = _load(path)
    options = _options(case)
    output: str = case["output"]
    whole = coalesce(run(case["format"], [output], **options))
    as_bytes = data.draw(st.booleans())
    payload: Any = output.encode("utf-8") if as_bytes else output
    chunks = data.draw(chunkings(payload))
    assert coalesce(run(case["format"], chunks, **options)) == whole
