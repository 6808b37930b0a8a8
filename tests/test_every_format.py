"""The guarantees every text format gets for free (grammars/README.md, "Tests that
come for free"): registering a format in ``parsers/registry.py`` puts it under these
property tests, with inputs built from its own grammar and renderer.

Inputs are soups of the format's own pieces: its literal delimiters, calls written by
its renderer (so real calls complete inside the soup), every prefix of those (cut calls,
split markers), and short runs of text rich in markup characters.  Over such inputs,
whatever their validity, each format must keep DESIGN.md's guarantees:

1. chunk invariance, for str and for bytes split anywhere (inside UTF-8 sequences too);
2. earliest completion: a ``tool_call`` comes out of the ``feed()`` whose chunk holds
   its completing character (``span[1] - 1``);
3. nothing lost: a call's ``tool_call_delta`` texts concatenate to its ``raw``, which is
   the input's own text inside the call's span; strict mode delivers every event before
   the first error;
6. clear errors: only documented codes, never ``internal_error``, with offsets inside
   the input and line/column matching the offset; strict mode raises ``ParseError`` at
   the lenient run's first error and nothing else escapes; an output cut anywhere is
   ``truncated`` or nothing, never another error, and a delimiter cut by the end of
   the input where it cannot be text is ``truncated`` at its start (the driver's rule,
   so it holds for every format).

Per-format test files add what only the format knows (the oracle of exact content and
separators, typing, pitfalls); bounded memory and linear time are measured by
tests/test_memory.py and benchmarks/.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toolwire
from tests.conftest import chunkings, coalesce, run
from tests.oracle import position
from toolwire.events import Event, Finish
from toolwire.loop.renderers import renderer, renderer_formats
from toolwire.registry import compiled, format_names, is_provider

TEXT_FORMATS = [f for f in format_names() if not is_provider(f)]
DOCUMENTED = {str(code) for code in toolwire.ErrorCode} - {"internal_error"}

CALLS: list[tuple[str, dict[str, Any]]] = [
    ("ping", {}),
    ("fetch_row", {"id": 7, "note": "a < b"}),
    ("get_weather", {"city": "Zürich", "days": [1, 2], "deep": {"x": None, "y": True}}),
]
TEXTS = ["hello", " ", "\n", "\n\n", "{", "}", '"', "<", ">", "</", "|", "[", "é", "😀", "\r\n"]


@cache
def pieces(fmt: str) -> tuple[list[str], list[str]]:
    """(whole pieces, fragments) of the format: literal delimiters and rendered calls,
    then every proper prefix of each."""
    literals = sorted(d.literal for d in compiled(fmt).delimiters.values() if d.literal is not None)
    rendered: list[str] = []
    if fmt in renderer_formats():
        r = renderer(fmt)
        rendered = [r.render_call(name, args) for name, args in CALLS]
        rendered.append(r.render_answer("done"))
    whole = [*literals, *rendered]
    fragments = sorted({p[:k] for p in whole for k in range(1, len(p))})
    return whole, fragments


def prime(fmt: str) -> dict[str, Any]:
    """The start state the renderer's calls are written in (harmony's header)."""
    if fmt in renderer_formats() and renderer(fmt).prime:
        return {"generation_prompt": renderer(fmt).prime}
    return {}


@st.composite
def soups(draw: st.DrawFn, fmt: str) -> str:
    whole, fragments = pieces(fmt)
    piece = st.one_of(
        st.sampled_from(whole),
        st.sampled_from(fragments) if fragments else st.sampled_from(whole),
        st.sampled_from(TEXTS),
        st.text(alphabet='ab <>/|{}[]":,=\n\\', max_size=4),
    )
    return "".join(draw(st.lists(piece, max_size=12)))


def feed_each(fmt: str, chunks: list[Any], **options: Any) -> list[list[Event]]:
    """The events of each feed(), then those of close()."""
    parser = toolwire.parser(fmt, **options)
    outs = [parser.feed(chunk) for chunk in chunks]
    outs.append(parser.close())
    return outs


def chunk_holding(chunks: list[str], index: int) -> int:
    """Which chunk holds character ``index``."""
    end = 0
    for k, chunk in enumerate(chunks):
        end += len(chunk)
        if index < end:
            return k
    raise AssertionError(f"character {index} is past the input")


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
@given(data=st.data())
def test_chunk_invariance(fmt: str, data: st.DataObject) -> None:
    text = data.draw(soups(fmt))
    options = prime(fmt)
    whole = coalesce(run(fmt, [text], **options))
    assert coalesce(run(fmt, data.draw(chunkings(text)), **options)) == whole
    assert coalesce(run(fmt, data.draw(chunkings(text.encode("utf-8"))), **options)) == whole


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
@given(data=st.data())
def test_earliest_completion_and_raw_text(fmt: str, data: st.DataObject) -> None:
    text = data.draw(soups(fmt))
    chunks = data.draw(chunkings(text))
    outs = feed_each(fmt, chunks, **prime(fmt))
    events = [e for out in outs for e in out]
    for k, out in enumerate(outs):
        for call in out:
            if not isinstance(call, toolwire.ToolCall):
                continue
            assert k < len(chunks), f"{call} came from close(), not from a feed()"
            assert k == chunk_holding(chunks, call.span[1] - 1), (text, call)
            deltas = [
                e.text
                for e in events
                if isinstance(e, toolwire.ToolCallDelta) and e.index == call.index
            ]
            assert "".join(deltas) == call.raw
            assert call.raw in text[call.span[0] : call.span[1]]


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
@given(data=st.data())
def test_clear_errors(fmt: str, data: st.DataObject) -> None:
    text = data.draw(soups(fmt))
    chunks = data.draw(chunkings(text))
    options = prime(fmt)
    events = run(fmt, chunks, **options)
    errors = [e for e in events if isinstance(e, toolwire.Error)]
    for e in errors:
        assert e.code in DOCUMENTED, e
        assert 0 <= e.offset <= len(text)
        assert (e.line, e.column) == position(text, e.offset)
    before_first = coalesce(events[: events.index(errors[0])] if errors else events)
    strict = toolwire.parser(fmt, strict=True, **options)
    got: list[Event] = []
    try:
        for chunk in chunks:
            got += strict.feed(chunk)
        got += strict.close()
    except toolwire.ParseError as exc:
        assert errors, exc
        assert (exc.code, exc.offset) == (errors[0].code, errors[0].offset)
        assert coalesce(got + list(exc.events)) == before_first
    else:
        assert not errors
        assert coalesce(got) == before_first


# -- outputs cut by the end of the input ---------------------------------------------------


def fullwidth(text: str) -> str:
    """DeepSeek's markers, written with ``|`` for their fullwidth bar (U+FF5C)."""
    return text.replace("|", "\uff5c")


CUT_DELIMITERS: dict[str, tuple[str, str]] = {
    # format: (output up to a point where only a delimiter may stand, the fragment of
    # that delimiter the output ends with).  A generation stopped by max_tokens in the
    # middle of a marker or call head (FORMATS.md section 0 and "Truncation": output
    # ends inside a header or a name; hermes: SGLang and vLLM leaked the marker into
    # content; mistral: a stop right after [TOOL_CALLS] leaks nothing; kimi-k3: a cut
    # between a control token and <|sep|>).  Reported as text with a clean finish, a
    # cut call looks like a finished answer: NousResearch/hermes-agent#101899 stored a
    # GLM call cut mid-tag as assistant content with finish_reason=stop.
    "tags": ('<tool_call>{"name": "f", "arguments": {}}', "</tool_ca"),
    "hermes": ('<tool_call>\n{"name": "f", "arguments": {}}\n', "</tool_ca"),
    "qwen3-coder": ("<tool_call>\n", "<function=f"),
    "harmony": ("<|channel|>commentary to=functions.f", " <|constr"),
    # Whitespace after <|python_tag|> belongs to it up to 64 characters; a 65th can
    # only begin the call's ``{``.
    "llama3-json": ("<|python_tag|>" + " " * 64, " "),
    "llama4-pythonic": ("[f(a=1), ", "g"),
    "mistral": ("[TOOL_CALLS]", "get_w"),
    "deepseek-r1": (fullwidth("<|tool▁calls▁begin|>"), fullwidth("<|tool▁call▁be")),
    "deepseek-v3": (fullwidth("<|tool▁calls▁begin|>"), fullwidth("<|tool▁call▁be")),
    "deepseek-v3.1": (fullwidth("<|tool▁calls▁begin|>"), fullwidth("<|tool▁call▁be")),
    "deepseek-v3.2": (fullwidth("<|DSML|function_calls>\n"), fullwidth("<|DSML|inv")),
    "deepseek-v4": (fullwidth("<|DSML|tool_calls>\n"), fullwidth("<|DSML|inv")),
    "kimi-k2": ("<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0", "<|tool_call_arg"),
    "kimi-k3": ("<|open|>tools<|sep|>", '<|open|>call tool="f'),
    "glm-4.5": ("<tool_call>f\n", "</tool_ca"),
    "glm-4.7": ("<tool_call>f", "</tool_ca"),
    "gemma4": ("<|tool_call>", "call:"),
}


def test_every_format_has_a_cut_delimiter_example() -> None:
    assert sorted(CUT_DELIMITERS) == sorted(TEXT_FORMATS)


def without_end(events: list[Event]) -> list[dict[str, Any]]:
    """Coalesced events without the last one (the finish or the error that ends a
    stream) and without error messages."""
    ends = bool(events) and isinstance(events[-1], Finish | toolwire.Error)
    out = coalesce(events[:-1] if ends else events)
    return [{k: v for k, v in e.items() if k != "message"} for e in out]


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
@settings(max_examples=10)
@given(data=st.data())
def test_a_cut_delimiter_is_truncated_at_its_start(fmt: str, data: st.DataObject) -> None:
    """The input ends inside a delimiter where no text may stand: ``truncated`` at the
    delimiter's first character (never ``unexpected_text``), after the events the
    output up to there makes; whatever the chunking, and in strict mode too."""
    before, cut = CUT_DELIMITERS[fmt]
    src = before + cut
    options = prime(fmt)
    whole = run(fmt, [src], **options)
    errors = [(e.code, e.offset) for e in whole if isinstance(e, toolwire.Error)]
    assert errors == [("truncated", len(before))]
    assert whole[-1] == next(e for e in whole if isinstance(e, toolwire.Error))
    assert without_end(whole) == without_end(run(fmt, [before], **options))
    assert coalesce(run(fmt, data.draw(chunkings(src)), **options)) == coalesce(whole)
    assert coalesce(run(fmt, data.draw(chunkings(src.encode("utf-8"))), **options)) == coalesce(
        whole
    )
    strict = toolwire.parser(fmt, strict=True, **options)
    with pytest.raises(toolwire.ParseError) as info:
        for chunk in data.draw(chunkings(src)):
            strict.feed(chunk)
        strict.close()
    assert (info.value.code, info.value.offset) == ("truncated", len(before))


@st.composite
def valid_outputs(draw: st.DrawFn, fmt: str) -> str:
    """One to three of the format's rendered calls and answers, in any order."""
    r = renderer(fmt)
    parts = [r.render_call(name, args) for name, args in CALLS] + [r.render_answer("done")]
    return "".join(draw(st.lists(st.sampled_from(parts), min_size=1, max_size=3)))


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
@settings(max_examples=25)
@given(data=st.data())
def test_an_output_cut_anywhere_is_truncated_or_nothing(fmt: str, data: st.DataObject) -> None:
    """A well-formed output cut at any character (max_tokens) gives no error but
    ``truncated``.  When that error lies before the cut, the text from it is a proper
    prefix of one of the format's delimiters (the cut delimiter starts there), and the
    events before it are those of the output cut at that point, unless that shorter
    output itself ends inside a delimiter whose look-ahead the longer one settled
    (qwen3-coder's ``</parameter>`` counts only before the next tag)."""
    full = data.draw(valid_outputs(fmt))
    options = prime(fmt)
    assert not [e for e in run(fmt, [full], **options) if isinstance(e, toolwire.Error)]
    k = data.draw(st.integers(0, len(full)))
    src = full[:k]
    events = run(fmt, [src], **options)
    assert coalesce(run(fmt, data.draw(chunkings(src)), **options)) == coalesce(events)
    errors = [e for e in events if isinstance(e, toolwire.Error)]
    assert [e.code for e in errors] in ([], ["truncated"]), (src, errors)
    if errors and errors[0].offset < k:
        at = errors[0].offset
        delimiters = compiled(fmt).delimiters.values()
        assert any(d.prefix(src, at, k) for d in delimiters), (src, at)
        shorter = run(fmt, [src[:at]], **options)
        cut_there = [e.offset for e in shorter if isinstance(e, toolwire.Error)]
        if cut_there in ([], [at]):
            assert without_end(events) == without_end(shorter), (src, at)


@pytest.mark.parametrize(
    ("fmt", "before", "cut"),
    [
        ("tags", "so ", "<tool_ca"),
        ("hermes", "Deleting.\n", "<tool_ca"),
        ("hermes", "<think>\nhm ", "</thi"),
        ("qwen3-coder", "Let me check. ", "<tool_c"),
        ("kimi-k2", "Sure. ", "<|tool_calls_sec"),
        ("deepseek-v3", "Sure. ", fullwidth("<|tool▁calls▁be")),
        ("llama3-json", '{"name": "f", "parameters": {}} then ', "<|python_ta"),
    ],
)
def test_a_cut_delimiter_where_text_may_stand_is_text(fmt: str, before: str, cut: str) -> None:
    """Where text (or reasoning) may stand, a marker's fragment at the end of the output
    is text: it never became a marker (what the engines' streaming parsers deliver)."""
    events = run(fmt, [before + cut])
    delivered = "".join(
        e.text for e in events if isinstance(e, toolwire.TextDelta | toolwire.ReasoningDelta)
    )
    assert delivered.endswith(cut)
    assert not [e for e in events if isinstance(e, toolwire.Error) and e.code != "truncated"]
