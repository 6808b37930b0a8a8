"""``toolwire demo``: the loop end to end on the scripted model, in every format."""

from __future__ import annotations

import io

import pytest

from toolwire import parse
from toolwire.cli import command as cli
from toolwire.cli.demo import (
    INVENTED_WORDS,
    SCHEMAS,
    TOOLS,
    ScriptedModel,
    calculate,
    demo_prompt,
    run,
    word_count,
)
from toolwire.loop.renderers import renderer, renderer_formats
from toolwire.loop.tool_loop import run_tool_loop

WORDS = word_count("notes.txt")["words"]


def test_tools_are_real_and_confined() -> None:
    assert word_count("notes.txt") == {"path": "notes.txt", "words": WORDS, "lines": 13}
    for bad in ("../README.md", "/etc/passwd", ".hidden"):
        with pytest.raises(ValueError, match="bundled"):
            word_count(bad)
    assert calculate("127 / 250") == {"expression": "127 / 250", "value": 0.508}
    assert calculate("-(2 ** 3) + 1")["value"] == -7
    for bad in ("__import__('os')", "x + 1", "2 ** 1000", "'a' * 3"):
        with pytest.raises(ValueError):
            calculate(bad)


@pytest.mark.parametrize("fmt", renderer_formats())
def test_loop_uses_real_results_in_every_format(fmt: str) -> None:
    model = ScriptedModel(fmt, chunk_size=3)
    result = run_tool_loop(model, demo_prompt(fmt), fmt, TOOLS, schemas=SCHEMAS)
    assert result.reason == "stop" and len(result.turns) == 3
    assert model.closed == 2  # both call turns were cut and their sampler closed
    assert all(p < s for p, s in zip(model.produced[:2], model.scripted[:2], strict=True))
    assert [r.call.name for r in result.results] == ["word_count", "calculate"]
    assert [r.error for r in result.results] == [None, None]
    pages = WORDS / 250
    assert result.answer == f"notes.txt has {WORDS} words: {pages:g} pages at 250 words per page."
    assert str(INVENTED_WORDS) not in result.transcript


@pytest.mark.parametrize("fmt", renderer_formats())
def test_atomic_generation_shows_the_invented_result(fmt: str) -> None:
    prompt = demo_prompt(fmt)
    whole = "".join(ScriptedModel(fmt)(prompt))
    events = parse(whole, fmt, tools=SCHEMAS, generation_prompt=renderer(fmt).prime)
    assert [e.type for e in events].count("tool_call") == 1
    shown = "".join(getattr(e, "text", "") for e in events)
    assert f"{INVENTED_WORDS} words" in shown


@pytest.mark.parametrize("fmt", ["tags", "harmony", "llama4-pythonic"])
def test_run_prints_both_views(fmt: str) -> None:
    out = io.StringIO()
    assert run(fmt, out) == 0
    text = out.getvalue()
    live, atomic = text.split("ATOMIC")
    assert "tool_result word_count" in live and "the sampler was closed" in live
    assert f"answer: notes.txt has {WORDS} words" in live
    assert str(INVENTED_WORDS) in atomic


def test_cli_demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "format hermes" in out and f"has {WORDS} words" in out
    assert cli.main(["demo", "--format", "mistral", "--chunk-size", "1"]) == 0
    assert "format mistral" in capsys.readouterr().out
    assert cli.main(["demo", "--format", "openai-chat"]) == 2
    assert cli.main(["demo", "--chunk-size", "0"]) == 2
