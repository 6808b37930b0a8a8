# ruff: noqa: RUF001  (the fullwidth bar U+FF5C is part of DeepSeek's tokens)
"""Renderers: rendered calls parse back with the same parser; the closing markup the
loop appends completes the call without errors; the next turn's parser, primed with
the renderer's tail, reads an answer and a call; and the exact syntax per format."""

from __future__ import annotations

import keyword
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toolwire
from toolwire.events import Error, TextDelta, ToolCall
from toolwire.loop.renderers import ToolResult, renderer, renderer_formats

FORMATS = renderer_formats()


def test_every_text_format_has_a_renderer() -> None:
    text_formats = {f for f in toolwire.formats() if not toolwire.registry.is_provider(f)}
    assert set(FORMATS) == text_formats
    with pytest.raises(ValueError, match="provider streams"):
        renderer("anthropic")


_IDENT = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: not keyword.iskeyword(s)
)
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=6,
)
_TYPE = {
    type(None): "null",
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
}


def _schemas(name: str, arguments: dict[str, Any]) -> list[dict[str, Any]]:
    props = {k: {"type": _TYPE[type(v)]} for k, v in arguments.items()}
    params = {"type": "object", "properties": props}
    return [{"type": "function", "function": {"name": name, "parameters": params}}]


def _arguments(fmt: str) -> st.SearchStrategy[dict[str, Any]]:
    if fmt == "qwen3-coder":
        # Raw string values: the format cannot hold an empty value, a value that
        # starts or ends with markup whitespace, or tag text at a line start.
        chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="<\r\n")
        raw = st.text(chars, min_size=1, max_size=12).filter(lambda s: s.strip() == s)
        values = raw | _VALUES.filter(lambda v: not isinstance(v, str))
        return st.dictionaries(_IDENT, values, max_size=3)
    return st.dictionaries(_IDENT, _VALUES, max_size=4)


def _parse(fmt: str, text: str, **options: Any) -> list[Any]:
    return toolwire.parse(text, fmt, generation_prompt=renderer(fmt).prime, **options)


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=40)
@given(data=st.data())
def test_rendered_call_parses_back(fmt: str, data: st.DataObject) -> None:
    r = renderer(fmt)
    name = data.draw(_IDENT)
    arguments = data.draw(_arguments(fmt))
    schemas = _schemas(name, arguments)
    text = r.render_call(name, arguments)
    events = _parse(fmt, text, tools=schemas)
    assert not [e for e in events if isinstance(e, Error)], (text, events)
    [call] = [e for e in events if isinstance(e, ToolCall)]
    assert (call.name, call.arguments) == (name, arguments)
    # What the loop keeps (up to the completing character) plus what it appends to
    # close the turn is the call again, with nothing left over as text.
    kept = text[: call.span[1]]
    closed = kept + r.close_calls(kept)
    assert closed.endswith(r.end_of_turn)
    events = _parse(fmt, closed.removesuffix(r.end_of_turn), tools=schemas)
    assert [(e.name, e.arguments) for e in events if isinstance(e, ToolCall)] == [(name, arguments)]
    assert not [e for e in events if isinstance(e, Error | TextDelta)], events


def _result(name: str, content: str, id: str = "call_0") -> ToolResult:
    call = ToolCall(index=0, id=id, name=name, arguments={}, raw="{}", span=(0, 2))
    return ToolResult(call=call, value=None, error=None, content=content)


@pytest.mark.parametrize("fmt", FORMATS)
def test_next_turn_parses_after_results(fmt: str) -> None:
    """After the rendered results the next parser, primed with ``prime``, reads both
    an answer and another call from the model."""
    r = renderer(fmt)
    results = [_result("f", '{"a": 1}'), _result("g", "two")]
    rendered = r.render_results(results)
    assert rendered.endswith(r.generation_prompt)
    assert rendered.index('{"a": 1}') < rendered.index("two")  # call order
    events = _parse(fmt, r.render_answer("The answer is 42."))
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "The answer is 42."
    assert not [e for e in events if isinstance(e, Error)]
    events = _parse(fmt, r.render_call("f", {"x": 1}), tools=_schemas("f", {"x": 1}))
    assert [e.arguments for e in events if isinstance(e, ToolCall)] == [{"x": 1}]


GOLDEN = {
    "tags": (
        '<tool_call>{"name": "f", "arguments": {"x": 1}}</tool_call>',
        '</tool_call>\n<tool_result name="f" id="call_0">R</tool_result>\n',
    ),
    "hermes": (
        '<tool_call>\n{"name": "f", "arguments": {"x": 1}}\n</tool_call>',
        "\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\nR\n</tool_response>"
        "<|im_end|>\n<|im_start|>assistant\n",
    ),
    "qwen3-coder": (
        "<tool_call>\n<function=f>\n<parameter=x>\n1\n</parameter>\n</function>\n</tool_call>",
        "\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\nR\n</tool_response>\n"
        "<|im_end|>\n<|im_start|>assistant\n",
    ),
    "harmony": (
        '<|channel|>commentary to=functions.f <|constrain|>json<|message|>{"x": 1}<|call|>',
        "<|call|><|start|>functions.f to=assistant<|channel|>commentary<|message|>R<|end|>"
        "<|start|>assistant",
    ),
    "deepseek-v3": (
        "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n"
        '{"x": 1}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
        "\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜>"
        "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>R<｜tool▁output▁end｜><｜tool▁outputs▁end｜>",
    ),
    "deepseek-v3.1": (
        "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>f<｜tool▁sep｜>"
        '{"x": 1}<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
        "<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜>"
        "<｜tool▁output▁begin｜>R<｜tool▁output▁end｜>",
    ),
    "mistral": ('[TOOL_CALLS]f[ARGS]{"x": 1}', "</s>[TOOL_RESULTS]R[/TOOL_RESULTS]"),
    "llama3-json": (
        '{"name": "f", "parameters": {"x": 1}}',
        "<|eot_id|><|start_header_id|>ipython<|end_header_id|>\n\nR<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
    ),
    "llama4-pythonic": (
        "[f(x=1)]",
        "]<|eot|><|header_start|>ipython<|header_end|>\n\nR<|eot|>"
        "<|header_start|>assistant<|header_end|>\n\n",
    ),
}
GOLDEN["deepseek-r1"] = GOLDEN["deepseek-v3"]
for _fmt, _block in (("deepseek-v3.2", "function_calls"), ("deepseek-v4", "tool_calls")):
    GOLDEN[_fmt] = (
        f'\n\n<｜DSML｜{_block}>\n<｜DSML｜invoke name="f">\n<｜DSML｜parameter name="x" '
        f'string="false">1</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜{_block}>',
        f"\n</｜DSML｜{_block}><｜end▁of▁sentence｜><function_results>\n<result>R</result>\n"
        "</function_results>\n\n</think>",
    )
GOLDEN["kimi-k3"] = (
    "<|open|>response<|sep|><|close|>response<|sep|><|open|>tools<|sep|>"
    '<|open|>call tool="f" index="1"<|sep|><|open|>argument key="x" type="number"<|sep|>1'
    "<|close|>argument<|sep|><|close|>call<|sep|><|close|>tools<|sep|>",
    "<|close|>tools<|sep|><|close|>message<|sep|><|end_of_msg|>"
    '<|open|>message role="tool" index="1"<|sep|>R<|close|>message<|sep|><|end_of_msg|>'
    '<|open|>message role="assistant"<|sep|>',
)
GOLDEN["kimi-k2"] = (
    "<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>"
    '{"x": 1}<|tool_call_end|><|tool_calls_section_end|>',
    "<|tool_call_end|><|tool_calls_section_end|><|im_end|>"
    "<|im_system|>tool<|im_middle|>## Return of call_0\nR<|im_end|>"
    "<|im_assistant|>assistant<|im_middle|>",
)
GOLDEN["glm-4.5"] = (
    "<tool_call>f\n<arg_key>x</arg_key>\n<arg_value>1</arg_value>\n</tool_call>",
    "<|observation|>\n<tool_response>\nR\n</tool_response><|assistant|>",
)
GOLDEN["glm-4.7"] = (
    "<tool_call>f<arg_key>x</arg_key><arg_value>1</arg_value></tool_call>",
    "<|observation|><tool_response>R</tool_response><|assistant|></think>",
)

GOLDEN["gemma4"] = (
    "<|tool_call>call:f{x:1}<tool_call|>",
    '<tool_call|><|tool_response>response:f{value:<|"|>R<|"|>}<tool_response|>',
)


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden_syntax(fmt: str) -> None:
    r = renderer(fmt)
    call, continuation = GOLDEN[fmt]
    assert r.render_call("f", {"x": 1}) == call
    [parsed] = [e for e in _parse(fmt, call) if isinstance(e, ToolCall)]
    kept = call[: parsed.span[1]]
    assert r.continuation(kept, [_result("f", "R")]) == continuation


def test_several_results_in_one_turn() -> None:
    results = [_result("f", "1"), _result("g", "2")]
    assert renderer("hermes").render_results(results) == (
        "<|im_start|>user\n<tool_response>\n1\n</tool_response>\n<tool_response>\n2\n"
        "</tool_response><|im_end|>\n<|im_start|>assistant\n"
    )
    assert renderer("deepseek-v3").render_results(results) == (
        "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>1<｜tool▁output▁end｜>\n"
        "<｜tool▁output▁begin｜>2<｜tool▁output▁end｜><｜tool▁outputs▁end｜>"
    )


def test_mistral_array_style_and_llama4_python_block() -> None:
    m = renderer("mistral")
    kept = '[TOOL_CALLS] [{"name": "f", "arguments": {}, "id": "abc123def"}'
    assert m.close_calls(kept) == "]</s>"
    rendered = m.render_results([_result("f", "R", id="abc123def")], text=kept)
    assert rendered == '[TOOL_RESULTS]{"content": "R", "call_id": "abc123def"}[/TOOL_RESULTS]'
    events = toolwire.parse(kept + "]", "mistral")
    assert [e.id for e in events if isinstance(e, ToolCall)] == ["abc123def"]
    assert not [e for e in events if isinstance(e, Error)]
    l4 = renderer("llama4-pythonic")
    kept = "<|python_start|>[f(x=1)"
    assert l4.close_calls(kept) == "]<|python_end|><|eot|>"
    events = toolwire.parse(kept + "]<|python_end|>", "llama4-pythonic")
    assert [e.arguments for e in events if isinstance(e, ToolCall)] == [{"x": 1}]
    assert not [e for e in events if isinstance(e, Error | TextDelta)]


def test_tags_result_attributes_escaped() -> None:
    rendered = renderer("tags").render_results([_result('a"b', "R", id="c<d")])
    assert rendered == '\n<tool_result name="a&quot;b" id="c&lt;d">R</tool_result>\n'


def test_tool_result_to_json() -> None:
    res = _result("f", "R")
    assert res.to_json() == {
        "type": "tool_result",
        "call": res.call.to_json(),
        "error": None,
        "content": "R",
    }
