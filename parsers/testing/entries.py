# ruff: noqa: RUF001  (the fullwidth bar U+FF5C is part of DeepSeek's tokens)
"""What ``model_outputs`` needs to know about each text format beyond its grammar
and renderer: a small entry per format.

The generator grammar is the format's own grammar with the rules that derive a tool
call replaced by one placeholder terminal, ``CALL``: a context-free generator cannot
keep a call's name, arguments and markup consistent, so each placeholder is filled
with a whole call written by the format's ``Renderer`` (``render_call``), whose name
and arguments are known.  Everything else (text, reasoning, answers, channels,
separators, where calls may stand) is derived from the grammar by
``hypothesis.extra.lark.from_lark``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = ["CALL", "ENTRIES", "JSON_INVALID", "FormatEntry"]

CALL = "TOOLWIRE_CALL"
"""The placeholder terminal a rewritten rule derives: one rendered call."""

JSON_INVALID = ("@", "tru", "nul", "01", "'x'", "[1,]", '"\\x"', "+1", ".5", "{,}", "-")
"""Argument values that are not JSON."""

PYTHON_INVALID = ("@", "'x", "[1,", "1 2", "{'a' 1}", "x y", "$")
"""Argument values that are not Python literals."""

GEMMA_INVALID = ("@", "{,}", "[1,,]", '<|"|>x', "'x'", "1 2", "{a}")
"""Argument values that are not Gemma 4 object notation."""


@dataclass(frozen=True)
class FormatEntry:
    """How to generate outputs of one text format."""

    rules: Mapping[str, str]
    """Rule name -> the expansion that replaces its definition; ``CALL`` stands for
    one call as ``render_call`` writes it (with the markup the rule derived)."""
    rewrites: tuple[tuple[str, str], ...] = ()
    """Further literal replacements in the grammar text (each must occur)."""
    opened_after: str = r"\{"
    """Regex: a rendered call cut anywhere after its first match (and before the
    completing character) is unambiguously an open, truncated call."""
    completes_at: str = "}"
    """The last occurrence of this text in a rendered call ends with the call's
    completing character."""
    invalid: tuple[str, ...] = JSON_INVALID
    """Replacements for one argument value that make the argument text invalid
    (empty: the format has no invalid argument text, e.g. raw values)."""
    missing_closer: bool = True
    """Whether dropping the completing character leaves a call that can never
    complete (markup follows it inside the call).  False where what follows a call
    could close it (Mistral, bare Llama 3 JSON)."""
    raw_values: str | None = None
    """Content terminal of raw argument values (text between markup, not a quoted
    string): every generated string is kept clear of that terminal's delimiters in
    the context ``raw_context``."""
    raw_context: str = ""
    """What follows a raw value in a rendered call."""
    schema_typed: bool = False
    """Values are typed by the tool schema alone (Qwen3-Coder): without one, every
    value is a string, so untyped values are generated as strings."""
    strings_without: str | None = None
    """Regex of text no string value may contain (a raw string's own delimiter)."""
    breakable: Callable[[str, str], bool] | None = None
    """``(kind, text before the call) -> bool``: whether a call there can be broken
    so that the parser must notice (None: every call)."""
    repeat: bool = True
    """Whether two derivations concatenated are one (the start rule is ``_item*``):
    a document is then one to three of them, which brings more calls per example
    than one derivation's short item lists."""
    explicit: Mapping[str, str] = field(default_factory=dict)
    """Terminal -> regex of its text, for declared terminals the generic strategies
    (by content kind) do not cover."""


_THINK_OR_CALL = f"_think_open (THINK_CLOSE | {CALL})"
"""Reasoning closed, or ended by a call that opens inside it."""

_DEEPSEEK_SECTION = (("     | implicit_section\n", ""),)
_DSML = FormatEntry(
    rules={"block": CALL, "think": _THINK_OR_CALL},
    rewrites=(
        ("start: _item* open_block?", "start: _item*"),
        ("     | implicit_block\n", ""),
    ),
    opened_after='">',
    completes_at="</｜DSML｜invoke>",
    # No invalid argument text: a string="false" value that is not JSON keeps the
    # call (as a string, with an error), so it breaks no call.
    invalid=(),
    raw_values="VALUE",
    raw_context="</｜DSML｜parameter>\n</｜DSML｜invoke>",
)


_GLM = FormatEntry(
    rules={"tool_call": CALL},
    opened_after=r"<tool_call>[^\s<>]+",
    completes_at="</tool_call>",
    invalid=(),
    raw_values="VALUE",
    raw_context="</arg_value>\n</tool_call>",
    schema_typed=True,
)


def _llama3_tagged(kind: str, before: str) -> bool:
    """A bare Llama 3 call is speculative: broken, it is a JSON answer (text), not an
    error.  Only a call after <|python_tag|> in the same message must be one."""
    return before.rfind("<|python_tag|>") > before.rfind("<|start_header_id|>")


ENTRIES: dict[str, FormatEntry] = {
    "tags": FormatEntry(
        # Calls as likely as everything else together (from_lark picks alternatives
        # uniformly).
        rules={
            "tool_call": CALL,
            "_item": "_other | tool_call\n_other: TEXT | analysis | final_answer",
        },
    ),
    "hermes": FormatEntry(
        rules={"tool_call": CALL, "think": _THINK_OR_CALL},
        rewrites=(("start: _item* open_call?", "start: _item*"),),
    ),
    "qwen3-coder": FormatEntry(
        rules={"tool_call": CALL, "think": _THINK_OR_CALL},
        rewrites=(
            ("start: _item* open_call?", "start: _item*"),
            ("     | bare_call\n", ""),
        ),
        opened_after="<tool_call>",
        completes_at="</function>",
        invalid=(),
        missing_closer=False,
        raw_values="VALUE",
        raw_context="\n</parameter>\n</function>\n</tool_call>",
        schema_typed=True,
    ),
    "harmony": FormatEntry(
        rules={
            "call": CALL,
            # Calls as likely as the other messages together.
            "_closed": "START? _done | START? call\n"
            "_done: analysis END | preamble END | final (END | RETURN)",
        },
        repeat=False,
    ),
    "deepseek-r1": FormatEntry(
        rules={"section": CALL},
        rewrites=(
            *_DEEPSEEK_SECTION,
            ("CALLS_BEGIN_IN_THINK _calls", CALL),
            (" | _bare_first _calls)", ")"),  # a call, glued to its opener: as above
        ),
    ),
    "deepseek-v3": FormatEntry(rules={"section": CALL}, rewrites=_DEEPSEEK_SECTION),
    "deepseek-v3.1": FormatEntry(
        rules={"section": CALL},
        rewrites=(*_DEEPSEEK_SECTION, ("CALLS_BEGIN_IN_THINK _calls", CALL)),
    ),
    "deepseek-v3.2": _DSML,
    "deepseek-v4": _DSML,
    "kimi-k2": FormatEntry(
        rules={"section": CALL, "think_section": CALL},
        rewrites=(
            ("start: _item* open_think?", "start: _item*"),
            ("     | implicit_section\n", ""),
        ),
    ),
    "glm-4.5": _GLM,
    "glm-4.7": _GLM,
    "kimi-k3": FormatEntry(
        rules={"tools": CALL},
        rewrites=(
            ("   | implicit_tools GAP*\n", ""),
            ("_tail: open_tools\n     | open_implicit\n     | ", "_tail: "),
        ),
        opened_after=r'index="1"<\|sep\|>',
        completes_at="<|close|>call<|sep|>",
        raw_values="VALUE",
        raw_context="<|close|>argument<|sep|><|close|>call<|sep|>",
        repeat=False,
    ),
    "gemma4": FormatEntry(
        rules={"call": CALL},
        rewrites=(
            ("start: _item* open_call?", "start: _item*"),
            ("TOOL_OPEN_IN_THOUGHT _call_body", CALL),
        ),
        invalid=GEMMA_INVALID,
        strings_without=r'<\|"\|>',
    ),
    "mistral": FormatEntry(rules={"_item_calls": CALL}, missing_closer=False),
    "llama3-json": FormatEntry(
        rules={},
        # Calls only as the renderer writes them: the objects joined by whitespace
        # alone (speculative after a tagged call too) and the built-in and code
        # calls are left to tests/test_format_llama3_json.py.
        rewrites=(
            ("\n    | NEXT BARE", ""),
            ("\n      | BUILTIN_TAG PYARGS _stop?\n      | CODE_TAG CODE_BODY", ""),
            ("LEAD BARE", CALL),
            ("LEAD TAGGED", CALL),
        ),
        missing_closer=False,
        repeat=False,
        breakable=_llama3_tagged,
    ),
    "llama4-pythonic": FormatEntry(
        rules={
            "call_list": CALL,
            "python_block": f"PY_START _ws_to_list? {CALL} _ws_to_end? PY_END",
        },
        opened_after=r"\(",
        completes_at=")",
        invalid=PYTHON_INVALID,
    ),
}
"""Format id -> its entry.  A format without one cannot be generated yet."""
