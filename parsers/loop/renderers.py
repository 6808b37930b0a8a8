# ruff: noqa: RUF001, RUF002  (the fullwidth bar U+FF5C is part of DeepSeek's tokens)
"""Tool calls and tool results written in each text format's own syntax.

The tool loop stops the model just past a call's completing character (``span[1]``),
so the call's closing markup (``</tool_call>``, ``<|call|>``, the end-of-turn token)
was never kept; then the tool's result must reach the model in the turn syntax its
chat template would have rendered.  A ``Renderer`` supplies the three pieces the loop
appends to the prompt, in order:

1. ``close_calls(text)``: the markup that ends the cut assistant turn (the call's
   closer, a section closer, the end-of-turn token);
2. ``render_results(results)``: one tool turn per result (hermes
   ``<tool_response>``, harmony ``functions.NAME to=assistant`` messages, ...);
3. ``generation_prompt``: the header of the next assistant turn (already the tail of
   ``render_results``).  ``prime`` is the part of that tail which changes the output
   parser's start state, passed as the next parser's ``generation_prompt``: only
   harmony's ``<|start|>assistant`` does (the output starts inside a header); for
   the others the tail is turn framing the parser never sees.

``render_call`` and ``render_answer`` write the model's side (a whole call, a final
answer) the way the format's template renders history; the tests check that every
rendered call parses back, with the same parser, to the same name and arguments, and
the scripted models of the demo and the tests are built from them.

The syntaxes follow the chat templates summarised in FORMATS.md (prompt side:
Qwen's ``<tool_response>`` user turns, Llama's ``ipython`` role, DeepSeek's
``<｜tool▁output▁begin｜>``, Mistral's ``[TOOL_RESULTS]``).  ``tags`` has no template:
its result syntax ``<tool_result name="NAME" id="ID">...</tool_result>`` is a project
decision, documented in the README.  Provider streams have no renderer: their
results go back through the provider's API as messages, not as text.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..events import Event, ToolCall

__all__ = ["Renderer", "ToolResult", "renderer", "renderer_formats"]


@dataclass(slots=True, kw_only=True)
class ToolResult(Event):
    """One executed call and its outcome: what the loop shows and renders."""

    type: ClassVar[str] = "tool_result"
    call: ToolCall
    """The call that was executed."""
    value: Any
    """What the tool returned (None when it failed)."""
    error: str | None
    """Why the call failed (exception, timeout, unknown tool), or None."""
    content: str
    """The text given to the model: a string value as is, any other value as JSON,
    an error as ``{"error": "..."}``."""

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "call": self.call.to_json(),
            "error": self.error,
            "content": self.content,
        }


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class Renderer:
    """The syntax of one text format's calls, turn ends and tool results."""

    format: ClassVar[str] = ""
    generation_prompt: ClassVar[str] = ""
    """The next assistant turn's header, the tail of ``render_results``."""
    prime: ClassVar[str | None] = None
    """What the next turn's parser is primed with (``generation_prompt=``), if the
    tail changes its start state."""
    end_of_turn: ClassVar[str] = ""
    """The stop token that ends ``close_calls`` (engines strip it from the output, so
    output parsers read it as text); empty where the closer is parsed markup."""

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        """A whole call as the model writes it (and the template renders it)."""
        raise NotImplementedError

    def render_answer(self, text: str) -> str:
        """A final answer as the model writes it: plain text in most formats."""
        return text

    def close_calls(self, text: str) -> str:
        """Markup that ends an assistant turn cut just past its last call.

        ``text`` is the turn's output as kept (up to the call's completing
        character), for formats whose closer depends on how the calls were opened.
        """
        raise NotImplementedError

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        """One result; ``position`` is its index among the results of the turn."""
        raise NotImplementedError

    def render_results(self, results: Sequence[ToolResult], *, text: str = "") -> str:
        """The tool turn(s) for one round of results, then ``generation_prompt``."""
        body = "".join(self.render_result(r, position=i, text=text) for i, r in enumerate(results))
        return self._wrap_results(body) + self.generation_prompt

    def _wrap_results(self, body: str) -> str:
        return body

    def continuation(self, text: str, results: Sequence[ToolResult]) -> str:
        """Everything the loop appends after the kept output of a call turn."""
        return self.close_calls(text) + self.render_results(results, text=text)


class TagsRenderer(Renderer):
    """``tags``: results as ``<tool_result>`` elements right after the call (no turns:
    the format has no chat template, so the model simply continues)."""

    format = "tags"

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        return f"<tool_call>{_json({'name': name, 'arguments': arguments})}</tool_call>"

    def render_answer(self, text: str) -> str:
        return f"<final_answer>{text}</final_answer>"

    def close_calls(self, text: str) -> str:
        return "</tool_call>"

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        name = html.escape(result.call.name or "", quote=True)
        call_id = html.escape(result.call.id, quote=True)
        return f'\n<tool_result name="{name}" id="{call_id}">{result.content}</tool_result>'

    def _wrap_results(self, body: str) -> str:
        return body + "\n"


class HermesRenderer(Renderer):
    """``hermes`` (Qwen2.5/3 template): results are ``<tool_response>`` blocks, all of
    one round in one user turn."""

    format = "hermes"
    end_of_turn = "<|im_end|>\n"
    generation_prompt = "<|im_start|>assistant\n"

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        return f"<tool_call>\n{_json({'name': name, 'arguments': arguments})}\n</tool_call>"

    def close_calls(self, text: str) -> str:
        return "\n</tool_call><|im_end|>\n"

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        return f"\n<tool_response>\n{result.content}\n</tool_response>"

    def _wrap_results(self, body: str) -> str:
        return f"<|im_start|>user{body}<|im_end|>\n"


def _raw_value(value: Any) -> str:
    """qwen3-coder writes strings raw and everything else as JSON text."""
    return value if isinstance(value, str) else _json(value)


class Qwen3CoderRenderer(Renderer):
    """``qwen3-coder`` (Qwen3-Coder template): XML-ish calls with raw values; results
    are ``<tool_response>`` blocks in one user turn."""

    format = "qwen3-coder"
    end_of_turn = "<|im_end|>\n"
    generation_prompt = "<|im_start|>assistant\n"

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        params = "".join(
            f"<parameter={key}>\n{_raw_value(value)}\n</parameter>\n"
            for key, value in arguments.items()
        )
        return f"<tool_call>\n<function={name}>\n{params}</function>\n</tool_call>"

    def close_calls(self, text: str) -> str:
        # The call completes at the ">" of </function>: only the block closer is left.
        return "\n</tool_call><|im_end|>\n"

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        return f"<tool_response>\n{result.content}\n</tool_response>\n"

    def _wrap_results(self, body: str) -> str:
        return f"<|im_start|>user\n{body}<|im_end|>\n"


class HarmonyRenderer(Renderer):
    """``harmony`` (gpt-oss): a call ends with ``<|call|>``; each result is a message
    from ``functions.NAME`` to the assistant on the commentary channel."""

    format = "harmony"
    generation_prompt = "<|start|>assistant"
    prime = "<|start|>assistant"

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        # Written after the generation prompt "<|start|>assistant".
        return (
            f"<|channel|>commentary to=functions.{name} <|constrain|>json<|message|>"
            f"{_json(arguments)}<|call|>"
        )

    def render_answer(self, text: str) -> str:
        return f"<|channel|>final<|message|>{text}<|return|>"

    def close_calls(self, text: str) -> str:
        # A built-in python call completes at its own <|call|> (raw code has no
        # earlier end): nothing is left to close then.
        return "" if text.endswith("<|call|>") else "<|call|>"

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        # The result comes from the recipient: functions.NAME for the developer's
        # functions, the full name for built-ins (browser.search, python) and other
        # namespaces (math.sum).
        name = result.call.name or ""
        author = name if result.call.builtin or "." in name else f"functions.{name}"
        return (
            f"<|start|>{author} to=assistant<|channel|>commentary<|message|>{result.content}<|end|>"
        )


_V3_BEGIN = "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>"
_V3_END = "<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜>"


class DeepSeekV3Renderer(Renderer):
    """``deepseek-v3`` and ``deepseek-r1``: fenced JSON calls; results inside
    ``<｜tool▁outputs▁begin｜>``, after which the model continues (no new
    ``<｜Assistant｜>``)."""

    format = "deepseek-v3"
    end_of_turn = "<｜end▁of▁sentence｜>"

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        return (
            f"{_V3_BEGIN}function<｜tool▁sep｜>{name}\n```json\n{_json(arguments)}\n```"
            "<｜tool▁call▁end｜><｜tool▁calls▁end｜>"
        )

    def close_calls(self, text: str) -> str:
        return "\n```" + _V3_END

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        sep = "\n" if position else ""
        return f"{sep}<｜tool▁output▁begin｜>{result.content}<｜tool▁output▁end｜>"

    def _wrap_results(self, body: str) -> str:
        return f"<｜tool▁outputs▁begin｜>{body}<｜tool▁outputs▁end｜>"


class DeepSeekR1Renderer(DeepSeekV3Renderer):
    format = "deepseek-r1"


class DeepSeekV31Renderer(Renderer):
    """``deepseek-v3.1``: ``NAME<｜tool▁sep｜>{json}`` calls; each result is one
    ``<｜tool▁output▁begin｜>`` block, after which the model continues."""

    format = "deepseek-v3.1"
    end_of_turn = "<｜end▁of▁sentence｜>"

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        return (
            f"{_V3_BEGIN}{name}<｜tool▁sep｜>{_json(arguments)}"
            "<｜tool▁call▁end｜><｜tool▁calls▁end｜>"
        )

    def close_calls(self, text: str) -> str:
        return _V3_END

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        return f"<｜tool▁output▁begin｜>{result.content}<｜tool▁output▁end｜>"


_MISTRAL_ARRAY = re.compile(r"\[TOOL_CALLS\][ \t\r\n]{0,16}\[")


class MistralRenderer(Renderer):
    """``mistral``: v11+ calls ``[TOOL_CALLS]NAME[ARGS]{json}``; results
    ``[TOOL_RESULTS]...[/TOOL_RESULTS]`` after the turn's ``</s>``.  A turn written in
    the v3 array style is closed with ``]`` and gets v3 results, a JSON object with
    ``content`` and ``call_id``."""

    format = "mistral"
    end_of_turn = "</s>"

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        return f"[TOOL_CALLS]{name}[ARGS]{_json(arguments)}"

    @staticmethod
    def _array_style(text: str) -> bool:
        opener = text.rfind("[TOOL_CALLS]")
        return opener >= 0 and _MISTRAL_ARRAY.match(text, opener) is not None

    def close_calls(self, text: str) -> str:
        return ("]" if self._array_style(text) else "") + "</s>"

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        if self._array_style(text):
            body = _json({"content": result.content, "call_id": result.call.id})
        else:
            body = result.content
        return f"[TOOL_RESULTS]{body}[/TOOL_RESULTS]"


class Llama3JsonRenderer(Renderer):
    """``llama3-json`` (Llama 3.1-3.3 template): a JSON call ends the turn with
    ``<|eot_id|>``; each result is an ``ipython`` message."""

    format = "llama3-json"
    end_of_turn = "<|eot_id|>"
    generation_prompt = "<|start_header_id|>assistant<|end_header_id|>\n\n"

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        return _json({"name": name, "parameters": arguments})

    def close_calls(self, text: str) -> str:
        return "<|eot_id|>"

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        return f"<|start_header_id|>ipython<|end_header_id|>\n\n{result.content}<|eot_id|>"


class Llama4PythonicRenderer(Renderer):
    """``llama4-pythonic``: ``[name(k=literal)]`` call lists; the cut falls at a call's
    ``)``, so the list's ``]`` (and ``<|python_end|>`` when it was opened) is added;
    each result is an ``ipython`` message."""

    format = "llama4-pythonic"
    end_of_turn = "<|eot|>"
    generation_prompt = "<|header_start|>assistant<|header_end|>\n\n"

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        # repr() of JSON values (str, int, float, bool, None, list, dict) is exactly
        # the Python-literal language the format's argument parser reads.
        args = ", ".join(f"{key}={value!r}" for key, value in arguments.items())
        return f"[{name}({args})]"

    def close_calls(self, text: str) -> str:
        opened = text.rfind("<|python_start|>") > text.rfind("<|python_end|>")
        return "]" + ("<|python_end|>" if opened else "") + "<|eot|>"

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        return f"<|header_start|>ipython<|header_end|>\n\n{result.content}<|eot|>"


class KimiK2Renderer(Renderer):
    """``kimi-k2``: one section per call turn, ids ``functions.NAME:IDX`` counted over
    the conversation (this renderer's calls); each result is a ``tool`` message headed
    ``## Return of ID``."""

    format = "kimi-k2"
    end_of_turn = "<|im_end|>"
    generation_prompt = "<|im_assistant|>assistant<|im_middle|>"

    def __init__(self) -> None:
        self._next_id = 0

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        call_id = f"functions.{name}:{self._next_id}"
        self._next_id += 1
        return (
            f"<|tool_calls_section_begin|><|tool_call_begin|>{call_id}"
            f"<|tool_call_argument_begin|>{_json(arguments)}<|tool_call_end|>"
            "<|tool_calls_section_end|>"
        )

    def close_calls(self, text: str) -> str:
        # The call completes at its "}": the call, the section and the turn are open.
        return "<|tool_call_end|><|tool_calls_section_end|><|im_end|>"

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        return (
            f"<|im_system|>tool<|im_middle|>## Return of {result.call.id}\n"
            f"{result.content}<|im_end|>"
        )


class Glm45Renderer(Renderer):
    """``glm-4.5`` (GLM-4.5/4.6 template): ``<tool_call>NAME`` with one
    ``<arg_key>``/``<arg_value>`` pair per line, raw strings and JSON for the rest; the
    call completes at ``</tool_call>``, so nothing closes the turn but the
    ``<|observation|>`` that opens the tool turn, with one ``<tool_response>`` per
    result."""

    format = "glm-4.5"
    generation_prompt = "<|assistant|>"
    sep = "\n"
    """The template's newline between elements (none in the compact style)."""

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        sep = self.sep
        pairs = "".join(
            f"{sep}<arg_key>{key}</arg_key>{sep}<arg_value>{_raw_value(value)}</arg_value>"
            for key, value in arguments.items()
        )
        return f"<tool_call>{name}{pairs}{sep}</tool_call>"

    def close_calls(self, text: str) -> str:
        return ""

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        sep = self.sep
        return f"{sep}<tool_response>{sep}{result.content}{sep}</tool_response>"

    def _wrap_results(self, body: str) -> str:
        return "<|observation|>" + body


class Glm47Renderer(Glm45Renderer):
    """``glm-4.7`` (GLM-4.7/5.x template): the compact style; the next turn is opened
    with thinking off (``</think>``), so the output starts in content."""

    format = "glm-4.7"
    generation_prompt = "<|assistant|></think>"
    sep = ""


class DeepSeekV32Renderer(Renderer):
    """``deepseek-v3.2`` (DeepSeek's ``encoding_dsv32``): a DSML block after ``\\n\\n``,
    strings raw with ``string="true"``, other values JSON with ``string="false"``;
    the results in one ``<function_results>`` block, then the next turn in
    non-thinking mode (``</think>``: the output starts in content)."""

    format = "deepseek-v3.2"
    block = "function_calls"
    end_of_turn = "<｜end▁of▁sentence｜>"
    generation_prompt = "\n\n</think>"

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        params = "".join(
            f'<｜DSML｜parameter name="{key}" string="true">{value}</｜DSML｜parameter>\n'
            if isinstance(value, str)
            else f'<｜DSML｜parameter name="{key}" string="false">{_json(value)}'
            "</｜DSML｜parameter>\n"
            for key, value in arguments.items()
        )
        return (
            f'\n\n<｜DSML｜{self.block}>\n<｜DSML｜invoke name="{name}">\n'
            f"{params or chr(10)}</｜DSML｜invoke>\n</｜DSML｜{self.block}>"
        )

    def close_calls(self, text: str) -> str:
        # The call completes at the ">" of the invoke closer: the block is still open.
        return f"\n</｜DSML｜{self.block}>{self.end_of_turn}"

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        return f"<result>{result.content}</result>\n"

    def _wrap_results(self, body: str) -> str:
        return f"<function_results>\n{body}</function_results>"


class DeepSeekV4Renderer(DeepSeekV32Renderer):
    """``deepseek-v4``: V3.2's DSML with the block named ``tool_calls``."""

    format = "deepseek-v4"
    block = "tool_calls"


def _gemma_value(value: Any) -> str:
    """A value in Gemma 4's object notation, as its template's ``format_argument``
    writes it: raw ``<|"|>`` strings, bare keys sorted case-insensitively (Jinja's
    ``dictsort``), numbers as Python ``str()``."""
    if isinstance(value, str):
        return f'<|"|>{value}<|"|>'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: str(kv[0]).lower())
        return "{" + ",".join(f"{_gemma_key(k)}:{_gemma_value(v)}" for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_gemma_value(v) for v in value) + "]"
    return str(value)


_GEMMA_KEY_CHAR = r':{}\[\],<"\x00-\x1f\x7f'
_GEMMA_BARE_KEY = re.compile(
    rf"[^\s{_GEMMA_KEY_CHAR}](?:[^{_GEMMA_KEY_CHAR}]*[^\s{_GEMMA_KEY_CHAR}])?"
)


def _gemma_key(key: Any) -> str:
    """Bare, as the template writes keys; a key bare text cannot hold (empty, with
    surrounding spaces or ``:`` and the like) in ``<|"|>``, the template's
    ``escape_keys`` form."""
    key = str(key)
    return key if _GEMMA_BARE_KEY.fullmatch(key) else f'<|"|>{key}<|"|>'


class Gemma4Renderer(Renderer):
    """``gemma4``: ``<|tool_call>call:NAME{...}<tool_call|>``; the cut falls at the
    object's ``}``, so ``<tool_call|>`` is added.  Results stay in the model's turn as
    ``<|tool_response>response:NAME{value:<|"|>...<|"|>}<tool_response|>`` and the
    model goes on in the same turn (no new header)."""

    format = "gemma4"

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        return f"<|tool_call>call:{name}{_gemma_value(arguments)}<tool_call|>"

    def close_calls(self, text: str) -> str:
        return "<tool_call|>"

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        name = result.call.name or ""
        return (
            f"<|tool_response>response:{name}{{value:{_gemma_value(result.content)}}}"
            "<tool_response|>"
        )


_K3_TYPES = {bool: "boolean", int: "number", float: "number", type(None): "null"}


def _k3_attr(text: str) -> str:
    """An XTML attribute value: ``&`` and ``"`` escaped, as the K3 encoder does."""
    return text.replace("&", "&amp;").replace('"', "&quot;")


def _k3_argument(key: str, value: Any) -> str:
    """One argument element: strings raw, other values JSON text with their type."""
    if isinstance(value, str):
        kind, body = "string", value
    else:
        kind = _K3_TYPES.get(type(value)) or ("object" if isinstance(value, dict) else "array")
        body = _json(value)
    head = f'<|open|>argument key="{_k3_attr(key)}" type="{kind}"<|sep|>'
    return f"{head}{body}<|close|>argument<|sep|>"


class KimiK3Renderer(Renderer):
    """``kimi-k3``: an empty response element, then a tools element with one call;
    ``type="string"`` arguments raw, others JSON.  Each result is a ``tool`` message
    (its element layout after the call is not established: FORMATS.md 6.2 gives
    the assistant side only); the next turn starts with the assistant message
    opener, and the model writes its think or response element itself."""

    format = "kimi-k3"
    end_of_turn = "<|end_of_msg|>"
    generation_prompt = '<|open|>message role="assistant"<|sep|>'

    def render_call(self, name: str, arguments: Mapping[str, Any]) -> str:
        args = "".join(_k3_argument(key, value) for key, value in arguments.items())
        return (
            "<|open|>response<|sep|><|close|>response<|sep|><|open|>tools<|sep|>"
            f'<|open|>call tool="{_k3_attr(name)}" index="1"<|sep|>{args}'
            "<|close|>call<|sep|><|close|>tools<|sep|>"
        )

    def render_answer(self, text: str) -> str:
        return f"<|open|>response<|sep|>{text}<|close|>response<|sep|>"

    def close_calls(self, text: str) -> str:
        # The call completes at the last ">" of <|close|>call<|sep|>.
        return "<|close|>tools<|sep|><|close|>message<|sep|>" + self.end_of_turn

    def render_result(self, result: ToolResult, *, position: int, text: str) -> str:
        return (
            f'<|open|>message role="tool" index="{position + 1}"<|sep|>{result.content}'
            "<|close|>message<|sep|><|end_of_msg|>"
        )


_RENDERERS: dict[str, type[Renderer]] = {
    cls.format: cls
    for cls in (
        TagsRenderer,
        HermesRenderer,
        Qwen3CoderRenderer,
        HarmonyRenderer,
        DeepSeekV3Renderer,
        DeepSeekR1Renderer,
        DeepSeekV31Renderer,
        MistralRenderer,
        Llama3JsonRenderer,
        Llama4PythonicRenderer,
        DeepSeekV32Renderer,
        DeepSeekV4Renderer,
        KimiK3Renderer,
        KimiK2Renderer,
        Glm45Renderer,
        Glm47Renderer,
        Gemma4Renderer,
    )
}


def renderer_formats() -> list[str]:
    """The registered format ids that have a renderer (the tool loop's formats)."""
    from ..registry import format_names

    known = set(format_names())
    return sorted(name for name in _RENDERERS if name in known)


def renderer(format: str) -> Renderer:
    """The renderer of a text format; ValueError for provider formats and unknown ids."""
    try:
        return _RENDERERS[format]()
    except KeyError:
        raise ValueError(
            f"no tool-result renderer for format {format!r} (provider streams send "
            f"results through their API); formats with one: {', '.join(renderer_formats())}"
        ) from None
