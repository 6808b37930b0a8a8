"""``toolwire.testing``: the public strategies and the invariance helper.

* every text format: generated valid outputs parse with no error to exactly the
  drawn calls, whole and under generated chunkings (str and bytes), with and
  without ``tools=``; broken ones give an error and never the broken call;
* every provider: generated bodies parse to the drawn message, the same under any
  chunking, each call completed in the feed holding its completing byte;
* ``chunkings`` reaches the splits it promises; ``assert_chunk_invariant`` fails a
  chunk-sensitive handler with a message naming the first difference, and passes
  correct ones;
* the README's example runs; ``import toolwire`` does not import hypothesis.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

import toolwire
from toolwire.events import Event, ToolCall
from toolwire.registry import is_provider
from toolwire.testing import (
    BreakageKind,
    ModelOutput,
    ProviderStream,
    Raised,
    assert_chunk_invariant,
    chunkings,
    coalesce,
    generatable_formats,
    interesting_cuts,
    model_outputs,
    provider_streams,
)

TEXT_FORMATS = [f for f in toolwire.formats() if not is_provider(f)]
PROVIDERS = [f for f in toolwire.formats() if is_provider(f)]
EXPECTED_FORMATS = {
    # Formats being added alongside this module: each is tested once registered.
    "deepseek-v3.2",
    "deepseek-v4",
    "kimi-k2",
    "kimi-k3",
    "glm-4.5",
    "glm-4.7",
    "gemma4",
}
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "parameters": {
                "type": "object",
                "properties": {
                    "path": {"type": "string"},
                    "limit": {"type": "integer"},
                    "ratio": {"type": "number"},
                    "follow": {"type": "boolean"},
                    "tags": {"type": "array"},
                    "opts": {"type": "object"},
                },
                "required": ["path"],
            },
        },
    },
    {"type": "function", "function": {"name": "ping", "parameters": {"type": "object"}}},
]


def covered(fmt: str) -> str:
    if fmt not in generatable_formats():
        pytest.skip(f"model_outputs has no entry for format {fmt!r} yet")
    return fmt


def run(fmt: str, chunks: list[Any], **options: Any) -> list[Event]:
    parser = toolwire.parser(fmt, **options)
    events: list[Event] = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    events.extend(parser.close())
    return events


def calls_of(events: list[Event]) -> list[tuple[str | None, Any]]:
    return [(e.name, e.arguments) for e in events if isinstance(e, ToolCall)]


def errors_of(events: list[Event]) -> list[dict[str, Any]]:
    return [e.to_json() for e in events if e.type == "error"]


def check_valid(out: ModelOutput, data: st.DataObject) -> None:
    options = {"tools": list(out.tools)} if out.tools else {}
    events = run(out.format, [out.text], **options)
    assert errors_of(events) == [], out.text
    assert calls_of(events) == [(c.name, c.arguments) for c in out.calls], out.text
    for payload in (out.text, out.text.encode("utf-8")):
        chunks = data.draw(chunkings(payload), label="chunks")
        assert_chunk_invariant(lambda: toolwire.parser(out.format, **options), payload, chunks)


def check_broken(out: ModelOutput, data: st.DataObject) -> None:
    assert out.broken is not None
    options = {"tools": list(out.tools)} if out.tools else {}
    events = run(out.format, [out.text], **options)
    errors = errors_of(events)
    assert errors, (out.broken, out.text)
    reported = calls_of(events)
    expected = [(c.name, c.arguments) for c in out.calls]
    before = expected[: out.broken.call]
    # Everything before the broken call is delivered; nothing else is reported but
    # well-formed calls, in order (the broken one never).
    assert reported[: len(before)] == before, (out.broken, out.text)
    rest = iter(expected[len(before) :])
    assert all(call in rest for call in reported[len(before) :]), (out.broken, out.text)
    codes = {e["code"] for e in errors}
    if out.broken.kind == "truncated":
        # A cut inside a partial delimiter (``<`` of a closer) may end as text where
        # only markup is allowed: reported as unexpected text rather than truncation.
        assert codes & {"truncated", "unexpected_text"}, (codes, out.text)
    if out.broken.kind == "unknown_tool":
        assert "unknown_tool" in codes, (codes, out.text)
    assert "internal_error" not in codes
    payload = out.text.encode("utf-8")
    chunks = data.draw(chunkings(payload), label="chunks")
    assert_chunk_invariant(lambda: toolwire.parser(out.format, **options), payload, chunks)


# -- model_outputs ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(EXPECTED_FORMATS))
def test_formats_added_alongside_are_covered(fmt: str) -> None:
    if fmt not in TEXT_FORMATS:
        pytest.skip(f"format {fmt!r} is not registered yet")
    assert fmt in generatable_formats()


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_valid_outputs_parse_to_their_calls(fmt: str) -> None:
    @given(out=model_outputs(covered(fmt)), data=st.data())
    def check(out: ModelOutput, data: st.DataObject) -> None:
        assert out.valid and out.format == fmt
        check_valid(out, data)

    check()


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_valid_outputs_with_tools(fmt: str) -> None:
    @given(out=model_outputs(covered(fmt), tools=TOOLS), data=st.data())
    def check(out: ModelOutput, data: st.DataObject) -> None:
        assert all(c.name in ("read_file", "ping") for c in out.calls)
        assert all("path" in c.arguments for c in out.calls if c.name == "read_file")
        check_valid(out, data)

    check()


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_broken_outputs_report_an_error_never_the_call(fmt: str) -> None:
    @given(out=model_outputs(covered(fmt), tools=TOOLS, broken=True), data=st.data())
    def check(out: ModelOutput, data: st.DataObject) -> None:
        check_broken(out, data)

    check()


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_every_breakage_kind_is_drawn(fmt: str) -> None:
    """Each kind the format supports is reachable (and tested by the test above)."""
    strategy = model_outputs(covered(fmt), tools=TOOLS, broken=True)
    kinds: list[BreakageKind] = ["truncated", "invalid_arguments", "missing_closer"]
    supported = {"truncated", "unknown_tool"}  # every format, given tools=
    for kind in kinds:
        try:
            model_outputs(fmt, broken=True, kinds=[kind])
        except ValueError:
            continue
        supported.add(kind)
    quick = settings(phases=[Phase.generate], max_examples=500, database=None)  # no shrinking
    for kind in supported:
        out = find(
            strategy, lambda o, k=kind: o.broken is not None and o.broken.kind == k, settings=quick
        )
        assert out.broken is not None and out.broken.name
    # Several calls in one output: drawn from valid outputs, where no breakage cuts
    # the output short after its first call (broken ones make this rare).
    valid = model_outputs(covered(fmt), tools=TOOLS)
    find(valid, lambda o: len(o.calls) >= 2, settings=quick)


def test_broken_none_draws_both() -> None:
    strategy = model_outputs("tags", broken=None)
    assert find(strategy, lambda o: o.valid).broken is None
    assert find(strategy, lambda o: not o.valid).broken is not None


def test_model_outputs_rejects_what_it_cannot_generate() -> None:
    with pytest.raises(ValueError, match="provider stream"):
        model_outputs("anthropic")
    with pytest.raises(ValueError, match="no model_outputs entry"):
        model_outputs("no-such-format")
    with pytest.raises(ValueError, match="no breakage"):
        model_outputs("tags", broken=True, kinds=["unknown_tool"])  # needs tools=


# -- provider_streams ------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_provider_streams_parse_to_their_message(provider: str) -> None:
    @given(stream=provider_streams(provider), data=st.data())
    def check(stream: ProviderStream, data: st.DataObject) -> None:
        chunks = data.draw(chunkings(stream.body), label="chunks")
        parser = toolwire.parser(provider)
        events: list[Event] = []
        fed = 0
        for chunk in chunks:
            out = parser.feed(chunk)
            fed += len(chunk)
            for event in out:
                if isinstance(event, ToolCall):
                    # Earliest completion: the feed that holds the completing byte.
                    done = stream.completions[event.index]  # calls may end out of order
                    assert fed - len(chunk) < done <= fed
            events.extend(out)
        events.extend(parser.close())
        assert errors_of(events) == []
        message = toolwire.collect(events)
        assert message.content == stream.content
        assert message.reasoning == stream.reasoning
        assert [(c.name, c.arguments) for c in message.tool_calls] == [
            (c.name, c.arguments) for c in stream.calls
        ]
        for got, want in zip(message.tool_calls, stream.calls, strict=True):
            assert want.id is None or got.id == want.id
        assert message.finish_reason == stream.finish_reason
        assert coalesce(events) == coalesce(run(provider, [stream.body]))

    check()


def test_provider_streams_rejects_unknown_providers() -> None:
    with pytest.raises(ValueError, match="no stream strategy"):
        provider_streams("tags")


# -- chunkings -------------------------------------------------------------------------

SAMPLE = "a<b>é中🙂\r\nz"


@pytest.mark.parametrize("payload", [SAMPLE, SAMPLE.encode("utf-8")])
def test_chunkings_reach_the_promised_splits(payload: str | bytes) -> None:
    strategy = chunkings(payload)

    def cut_at(pos: int) -> Any:
        return lambda chunks: pos in {sum(map(len, chunks[:i])) for i in range(1, len(chunks))}

    find(strategy, lambda c: c == [payload])
    find(strategy, lambda c: len(c) == len(payload))
    lt = SAMPLE.index("<") + 1 if isinstance(payload, str) else payload.index(b"<") + 1
    find(strategy, cut_at(lt))
    crlf = payload.index("\r\n" if isinstance(payload, str) else b"\r\n") + 1
    find(strategy, cut_at(crlf))
    if isinstance(payload, bytes):
        for char in ("é", "中", "🙂"):  # 2, 3 and 4 UTF-8 bytes: every inner cut
            at = payload.index(char.encode())
            for k in range(1, len(char.encode())):
                find(strategy, cut_at(at + k))


@given(payload=st.text() | st.binary(), data=st.data())
def test_chunkings_concatenate_to_the_input(payload: str | bytes, data: st.DataObject) -> None:
    chunks = data.draw(chunkings(payload, max_cuts=5))
    assert type(payload)().join(chunks) == payload
    assert all(chunks) or chunks == [payload]
    assert len(chunks) <= 6 or len(chunks) == len(payload)


def test_interesting_cuts() -> None:
    # After and before "<", inside CRLF, inside "é"; the end of the input is no cut.
    assert interesting_cuts("x<y\r\nzé".encode()) == [1, 2, 4, 7]
    assert interesting_cuts("x<y\r\nz>") == [1, 2, 4]


# -- assert_chunk_invariant ------------------------------------------------------------


class NaiveCallDetector:
    """Looks for a tag inside each chunk alone: misses one split across chunks."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def feed(self, chunk: str) -> list[str]:
        return ["call"] if "<tool_call>" in chunk else []

    def close(self) -> None:
        return None


class LineSplitter:
    """Buffers until a line end: correct under any chunking."""

    def __init__(self) -> None:
        self.buffer = ""

    def feed(self, chunk: str) -> list[str]:
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split("\n")
        return lines

    def close(self) -> list[str]:
        return [self.buffer] if self.buffer else []


TEXT = 'Hi.\n<tool_call>{"name": "f", "arguments": {"a": "é"}}</tool_call>\nbye'


def test_invariance_fails_a_chunk_sensitive_handler() -> None:
    split = [TEXT[:10], TEXT[10:]]
    with pytest.raises(AssertionError) as info:
        assert_chunk_invariant(NaiveCallDetector, TEXT, split)
    message = str(info.value)
    assert "first difference at output #0" in message
    assert "whole:   'call'" in message
    assert "chunked: <nothing: the output ends here>" in message


def test_invariance_finds_the_failing_split() -> None:
    """Among generated chunkings, one fails the naive handler: a tag split apart."""
    failing = find(
        chunkings(TEXT),
        lambda c: _fails(lambda: assert_chunk_invariant(NaiveCallDetector, TEXT, c)),
    )
    assert not any("<tool_call>" in chunk for chunk in failing)


@given(data=st.data())
def test_invariance_passes_correct_handlers(data: st.DataObject) -> None:
    chunks = data.draw(chunkings(TEXT))
    assert_chunk_invariant(LineSplitter, TEXT, chunks)
    assert_chunk_invariant(lambda: toolwire.parser("tags"), TEXT, chunks)
    raw = TEXT.encode()
    assert_chunk_invariant(lambda: toolwire.parser("tags"), raw, data.draw(chunkings(raw)))


def _fails(check: Any) -> bool:
    try:
        check()
    except AssertionError:
        return True
    return False


def test_invariance_with_a_callable_and_a_normalizer() -> None:
    # A callable handler returning its chunk: equal only once joined.
    with pytest.raises(AssertionError, match="output #0"):
        assert_chunk_invariant(lambda: lambda chunk: chunk, TEXT, [TEXT[:3], TEXT[3:]])
    assert_chunk_invariant(
        lambda: lambda chunk: chunk, TEXT, [TEXT[:3], TEXT[3:]], normalize="".join
    )


def test_invariance_counts_exceptions_as_output() -> None:
    class FailsOnSmallChunks:
        def feed(self, chunk: str) -> None:
            if len(chunk) < 4:
                raise ValueError("small chunk")

        def close(self) -> None:
            return None

    with pytest.raises(AssertionError, match="Raised"):
        assert_chunk_invariant(FailsOnSmallChunks, TEXT, [TEXT[:2], TEXT[2:]])
    assert Raised("ValueError", "x") == Raised("ValueError", "x")
    with pytest.raises(ValueError, match="concatenate"):
        assert_chunk_invariant(LineSplitter, TEXT, [TEXT[:3]])


def test_coalesce_merges_adjacent_deltas_of_one_block() -> None:
    events = run("tags", list("a<analysis>b</analysis>c"))
    merged = coalesce(events)
    assert [e["type"] for e in merged if e["type"].endswith("_delta")] == [
        "text_delta",
        "reasoning_delta",
        "text_delta",
    ]
    assert [e["text"] for e in merged if e["type"].endswith("_delta")] == ["a", "b", "c"]
    assert merged == coalesce(run("tags", ["a<analysis>b</analysis>c"]))


# -- packaging and README --------------------------------------------------------------


def test_import_toolwire_does_not_import_hypothesis() -> None:
    code = (
        "import sys, toolwire; "
        "assert 'hypothesis' not in sys.modules and 'toolwire.testing' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_readme_example_runs() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    section = readme.split("## Property-testing your own client", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert blocks, "the README section has no python example"
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(textwrap.dedent(blocks[0]), "README.md", "exec"), namespace)
    tests = [v for k, v in namespace.items() if k.startswith("test_") and callable(v)]
    assert tests, "the README example defines no test"
    for test in tests:
        test()
