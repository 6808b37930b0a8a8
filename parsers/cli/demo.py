"""``toolwire demo``: the tool loop end to end, without a model server.

A scripted model (``ScriptedModel``) plays a tool-using model in any text format:
asked how long a bundled file is, it calls ``word_count``, then ``calculate``, then
answers from the results it finds in its prompt.  Like a real model sampled without
a stop, it does not end its turn at a call: its script goes on with an *invented*
tool result (1200 words) and an answer built on it.  The demo runs it twice:

* **live**, through ``run_tool_loop``: each turn is cut at the call's completing
  character, the sampler is closed, the real tools run (``word_count`` reads the
  bundled ``notes.txt``; ``calculate`` evaluates arithmetic), their results are
  appended in the format's syntax, and the final answer uses the true numbers;
* **atomically**, the way a client that waits for the whole generation sees it: the
  first generation parsed at once, where the invented result is plain text after the
  call.

``toolwire demo --tokens`` runs the same model on token ids (``demo_tokens.py``).

Everything is deterministic (no clock, no randomness), so the tests run it.
"""

from __future__ import annotations

import ast
import json
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from importlib import resources
from typing import IO, TYPE_CHECKING, Any

from .. import parse
from ..events import (
    Error,
    Event,
    ReasoningDelta,
    ReasoningEnd,
    ReasoningStart,
    TextDelta,
    TextEnd,
    TextStart,
    ToolCall,
)
from ..loop.renderers import ToolResult, renderer
from ..loop.tool_loop import LoopEnd, TurnEnd, TurnStart, run_tool_loop

if TYPE_CHECKING:
    pass

__all__ = [
    "DEMO_FILE",
    "QUESTION",
    "SCHEMAS",
    "ScriptedModel",
    "calculate",
    "run",
    "word_count",
]

DEMO_FILE = "notes.txt"
QUESTION = f"How many words are in {DEMO_FILE}, and how many pages is that at 250 words per page?"
INVENTED_WORDS = 1200
"""The result the scripted model invents when nobody stops it."""
TOKEN_NOTE = " \u2014 counted, not guessed"
"""What the token demo's final answer adds: its dash (U+2014, three UTF-8 bytes) is
outside the demo vocabulary, so it spans three byte ids."""

SCHEMAS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "word_count",
            "description": "Count the words and lines of a bundled text file.",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string"}},
                "required": ["path"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "calculate",
            "description": "Evaluate an arithmetic expression (+ - * / ** and parentheses).",
            "parameters": {
                "type": "object",
                "properties": {"expression": {"type": "string"}},
                "required": ["expression"],
            },
        },
    },
]


# -- the tools -----------------------------------------------------------------------


def word_count(path: str) -> dict[str, Any]:
    """Words and lines of a file bundled with toolwire (``demo_data/``): a real file
    read, deterministic, and confined to that directory."""
    if "/" in path or "\\" in path or path.startswith("."):
        raise ValueError(f"only the bundled files can be read, not {path!r}")
    text = resources.files("toolwire.cli").joinpath("demo_data", path).read_text(encoding="utf-8")
    return {"path": path, "words": len(text.split()), "lines": text.count("\n")}


_OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def calculate(expression: str) -> dict[str, Any]:
    """Arithmetic on numbers only: the expression is parsed, never ``eval``'d."""

    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            left, right = value(node.left), value(node.right)
            if isinstance(node.op, ast.Pow) and abs(right) > 64:
                raise ValueError("exponent too large")
            return _OPERATORS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](value(node.operand))
        raise ValueError(f"not arithmetic: {ast.unparse(node)!r}")

    return {"expression": expression, "value": value(ast.parse(expression, mode="eval").body)}


TOOLS: dict[str, Callable[..., Any]] = {"word_count": word_count, "calculate": calculate}


# -- the scripted model ----------------------------------------------------------------

_PROMPTS: dict[str, tuple[str, str]] = {
    "tags": (
        "Answer the user. To use a tool, write "
        '<tool_call>{"name": ..., "arguments": {...}}</tool_call>; '
        "put your final answer in <final_answer>.\nUser: ",
        "\n",
    ),
    "hermes": ("<|im_start|>user\n", "<|im_end|>\n<|im_start|>assistant\n"),
    "qwen3-coder": ("<|im_start|>user\n", "<|im_end|>\n<|im_start|>assistant\n"),
    "harmony": ("<|start|>user<|message|>", "<|end|><|start|>assistant"),
    "deepseek-v3": ("<｜User｜>", "<｜Assistant｜>"),  # noqa: RUF001
    "deepseek-r1": ("<｜User｜>", "<｜Assistant｜>"),  # noqa: RUF001
    "deepseek-v3.1": ("<｜User｜>", "<｜Assistant｜></think>"),  # noqa: RUF001
    "mistral": ("[INST]", "[/INST]"),
    "llama3-json": (
        "<|start_header_id|>user<|end_header_id|>\n\n",
        "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    ),
    "llama4-pythonic": (
        "<|header_start|>user<|header_end|>\n\n",
        "<|eot|><|header_start|>assistant<|header_end|>\n\n",
    ),
    "deepseek-v3.2": ("<｜User｜>", "<｜Assistant｜></think>"),  # noqa: RUF001
    "deepseek-v4": ("<｜User｜>", "<｜Assistant｜></think>"),  # noqa: RUF001
    "kimi-k2": (
        "<|im_user|>user<|im_middle|>",
        "<|im_end|><|im_assistant|>assistant<|im_middle|>",
    ),
    "kimi-k3": (
        '<|open|>message role="user"<|sep|>',
        '<|close|>message<|sep|><|end_of_msg|><|open|>message role="assistant"<|sep|>',
    ),
    "glm-4.5": ("<|user|>\n", "<|assistant|>\n<think></think>"),
    "glm-4.7": ("<|user|>", "<|assistant|></think>"),
    "gemma4": ("<|turn>user\n", "<turn|>\n<|turn>model\n"),
}
"""A user turn and the assistant header, per format (tool declarations left out)."""

_THOUGHTS: dict[str, tuple[str, str]] = {
    "tags": ("<analysis>", "</analysis>\n"),
    "hermes": ("<think>\n", "\n</think>\n\n"),
    "qwen3-coder": ("<think>\n", "\n</think>\n\n"),
    "deepseek-r1": ("<think>\n", "\n</think>\n\n"),
    "harmony": ("<|channel|>analysis<|message|>", "<|end|><|start|>assistant"),
    "mistral": ("[THINK]", "[/THINK]"),
}
"""How each format writes a short reasoning block before a call (formats without
reasoning get none)."""


def demo_prompt(format: str) -> str:
    """The demo's question, in the format's user turn and assistant header."""
    before, after = _PROMPTS[format]
    return before + QUESTION + after


def _last(pattern: str, text: str) -> str | None:
    found = re.findall(pattern, text)
    return found[-1] if found else None


class ScriptedModel:
    """A deterministic stand-in for a model: ``model(prompt)`` yields the next turn in
    chunks of ``chunk_size`` characters, and records how far it got.

    The turn depends on the results already in the prompt (none: count the words; a
    word count: compute the pages; both: answer), and every call turn continues past
    the call with an invented result and answer, as a model does when not stopped.
    """

    def __init__(self, format: str, *, chunk_size: int = 7, answer_note: str = "") -> None:
        self.format = format
        self.answer_note = answer_note
        """Inserted before the final period of the answer built on real results."""
        self.renderer = renderer(format)
        self.chunk_size = chunk_size
        self.generations = 0
        self.closed = 0
        """Generations whose iterator was closed before the script ended."""
        self.produced: list[int] = []
        """Characters yielded by each generation."""
        self.scripted: list[int] = []
        """Characters each generation would have yielded if read to the end."""

    def script(self, prompt: str) -> str:
        """The whole text the model would write after ``prompt`` if never stopped."""
        r = self.renderer
        words = _last(r'"words": (\d+)', prompt)
        value = _last(r'"value": ([-0-9.e+]+)', prompt)
        if words is None:
            thought = f"I need the word count of {DEMO_FILE} first."
            call = ("word_count", {"path": DEMO_FILE})
            invented: dict[str, Any] = {"path": DEMO_FILE, "words": INVENTED_WORDS, "lines": 40}
            answer = f"{DEMO_FILE} has {INVENTED_WORDS} words: 4.8 pages at 250 words per page."
        elif value is None:
            thought = f"{words} words; now the number of pages."
            call = ("calculate", {"expression": f"{words} / 250"})
            invented = {"expression": f"{words} / 250", "value": 4.8}
            answer = f"{DEMO_FILE} has {words} words: 4.8 pages at 250 words per page."
        else:
            return r.render_answer(
                f"{DEMO_FILE} has {words} words: {float(value):g} pages at 250 words per "
                f"page{self.answer_note}."
            )
        opener, closer = _THOUGHTS.get(self.format, ("", ""))
        lead = opener + thought + closer if opener else ""
        name, arguments = call
        fake_call = ToolCall(
            index=0, id="call_0", name=name, arguments=arguments, raw="", span=(0, 0)
        )
        fake = ToolResult(call=fake_call, value=invented, error=None, content=json.dumps(invented))
        return (
            lead
            + r.render_call(*call)
            + r.end_of_turn
            + r.render_results([fake])
            + r.render_answer(answer)
        )

    def __call__(self, prompt: str) -> Iterator[str]:
        text = self.script(prompt)
        self.generations += 1
        self.produced.append(0)
        self.scripted.append(len(text))
        index = len(self.produced) - 1
        try:
            for i in range(0, len(text), self.chunk_size):
                chunk = text[i : i + self.chunk_size]
                self.produced[index] += len(chunk)
                yield chunk
        except GeneratorExit:
            self.closed += 1
            raise


# -- the command ---------------------------------------------------------------------

_ESCAPES = {c: f"\\x{c:02x}" for c in range(0x20)} | {ord("\n"): "\\n", ord("\t"): "\\t"}


class _Printer:
    """One line per block, call, result and turn; block text written as it arrives."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.open = False

    def line(self, text: str) -> None:
        self.end_block()
        self.out.write(text + "\n")

    def end_block(self) -> None:
        if self.open:
            self.out.write("\n")
            self.open = False

    def show(self, event: Event, model: ScriptedModel | None = None) -> None:
        match event:
            case ReasoningStart():
                self.end_block()
                self.out.write("  reasoning: ")
                self.open = True
            case TextStart():
                self.end_block()
                self.out.write("  text: ")
                self.open = True
            case ReasoningDelta(text=text) | TextDelta(text=text):
                self.out.write(text.translate(_ESCAPES))
            case ReasoningEnd() | TextEnd():
                self.end_block()
            case ToolCall(name=name, arguments=arguments, span=(start, end)):
                args = json.dumps(arguments, ensure_ascii=False)
                self.line(f"  tool_call {name}({args})  [characters {start}:{end}]")
            case ToolResult(call=call, content=content, error=error):
                label = "tool_error" if error else "tool_result"
                self.line(f"  {label} {call.name} -> {content}")
            case Error(code=code, message=message):
                self.line(f"  error {code}: {message}")
            case TurnStart(step=step):
                self.line(f"-- turn {step}")
            case TurnEnd(reason="tool_calls", step=step, text=text, dropped=dropped):
                said = f"stop at character {len(text)}"
                if model is not None and step <= len(model.produced):
                    said += (
                        f": the sampler was closed after {model.produced[step - 1]} of the "
                        f"{model.scripted[step - 1]} characters it would have written"
                    )
                self.line(f"  {said} ({len(dropped)} dropped from its last chunk)")
            case TurnEnd(reason="stop"):
                self.line("  the model answered without a call")
            case LoopEnd():
                self.end_block()
            case _:
                pass
        self.out.flush()


def run(format: str, out: IO[str], *, chunk_size: int = 7) -> int:
    """The demo in ``format``; returns the exit status (0)."""
    model = ScriptedModel(format, chunk_size=chunk_size)
    prompt = demo_prompt(format)
    tools: Mapping[str, Callable[..., Any]] = TOOLS
    out.write(
        f"toolwire demo: format {format}, a scripted model, local tools "
        f"{', '.join(tools)}\nquestion: {QUESTION}\n\n"
    )
    out.write("LIVE: the tool loop stops the model at each completed call\n")
    printer = _Printer(out)
    result = run_tool_loop(
        model,
        prompt,
        format,
        tools,
        schemas=SCHEMAS,
        on_event=lambda event: printer.show(event, model),
    )
    printer.end_block()
    live_answer = result.answer
    out.write(
        f"answer: {live_answer}\n({len(result.turns)} turns, {model.closed} generations "
        f"cut at a call; transcript {len(result.transcript)} characters)\n\n"
    )

    out.write("ATOMIC: the same first generation, sampled to the end and parsed at once\n")
    whole = "".join(ScriptedModel(format)(prompt))
    atomic = parse(whole, format, tools=SCHEMAS, generation_prompt=renderer(format).prime)
    printer = _Printer(out)
    for event in atomic:
        printer.show(event)
    printer.end_block()
    out.write(
        f"\nThe unstopped model wrote the call, then invented its result ({INVENTED_WORDS} "
        f"words) and answered from it; the loop ran the tool instead:\n  {live_answer}\n"
    )
    out.flush()
    return 0
