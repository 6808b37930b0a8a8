"""GLM: ``glm-4.5`` (GLM-4.5, 4.5-Air, 4.6) and ``glm-4.7`` (GLM-4.7, 4.7-Flash, GLM-5.x).

FORMATS.md sections 7, 0.1 and 12.  One syntax in two whitespace variants, one grammar
(``grammars/glm.lark``) and two specs that differ only in their names and models::

    4.5: \\n<think>R</think>\\nC\\n<tool_call>NAME\\n<arg_key>K</arg_key>\\n
         <arg_value>V</arg_value>\\n</tool_call>
    4.7: R</think>C<tool_call>NAME<arg_key>K</arg_key><arg_value>V</arg_value></tool_call>

Decisions:

* **Both variants in both parsers.** Any whitespace between elements outside
  ``<arg_value>`` is layout: the 4.5 newlines, the 4.7 nothing, mixed forms
  (``</arg_key><arg_value>`` adjacent in 4.5 output) and spaces instead of newlines
  (GLM-4.5-Air).  Other text there is an ``unexpected_text`` error.
* **Names.** The tool name follows ``<tool_call>`` directly and ends at the first
  whitespace character or ``<`` (``<arg_key>``, ``</tool_call>``); only whitespace
  may come between it and the first tag.  ``<tool_call>NAME`` is one delimiter, so
  ``tool_call_start`` comes with the character that ends the name.  A ``<tool_call>``
  not directly followed by a name character is the marker token opening a call that
  has no name (it takes a call index, like any broken call): an output cut right
  there (``max_tokens`` after the marker) is a ``truncated`` error at ``close()``,
  never text; anything else after it (whitespace, a tag) is an error at that
  character (``unexpected_text`` / ``unexpected_tag``).  The grammar's ``NAME``
  terminal, which is never lexed, is what keeps that call from going on.
* **Values** are raw (no quotes, no escaping, whitespace inside ``<arg_value>`` is
  data) and typed by the tool's schema with the shared ``schema_typing.py``
  (FORMATS.md 0.1, exactly as ``qwen3-coder``): ``3`` is an integer or the string
  ``"3"`` only by the schema, ``00917`` and ``4_200`` stay strings under a string
  schema, integers stay exact at any size; without a schema for the key the text is
  kept verbatim.  Keys lose surrounding whitespace.  An empty value is ``""``.
* **Where a value ends.** Only at ``</arg_value>``: every other marker inside a value
  is data, the call's own ``</tool_call>`` included, as are ``<tool_call>``,
  ``<arg_key>``, ``</arg_key>``, ``<arg_value>``, ``<think>``, ``</think>`` and the
  role tokens (GLM tokenizes marker text inside a value as the marker; only the
  nesting tells).  So a ``write_file`` whose content documents the format, or a
  patch to a GLM parser, round-trips, where the engines'
  ``<tool_call>(.*?)</tool_call>`` ends the value and the call at the first
  ``</tool_call>`` and leaks the rest into the content.  The price: a model that
  drops the last ``</arg_value>`` (which FORMATS.md 7 would rescue at
  ``</tool_call>``) has its value run to the end of the output, a ``truncated``
  error, as is any value cut by the end of input (FORMATS.md 0: never a call).  A
  ``</arg_value>`` inside a value is undecidable and ends it.
* **Completion.** Each value is final at its ``</arg_value>``, but another
  ``<arg_key>`` may follow, so the call completes (``tool_call``) at the ``>`` of
  ``</tool_call>``.  A call cut anywhere before, from the ``<tool_call>`` marker on,
  is a ``truncated`` error at ``close()``, never a call.  ``raw`` is the markup after
  the name, as written.
* **Whitespace of text and reasoning.** The templates ``.strip()`` reasoning and
  content, so every leading and trailing whitespace run of a text or reasoning run
  is separator: the ``\\n`` before ``<think>`` and after ``</think>``, before each
  ``<tool_call>``, between calls, and at the end of the output
  (``ContentSpec.strip_at_end``).  Whitespace inside is kept.
* **Reasoning** is ``<think>`` … ``</think>``; tags inside it are reasoning text.
  GLM-4.7/5.x with thinking on prefill ``<think>`` (``generation_prompt=
  "<|assistant|><think>"``): the output starts in reasoning and a truncated output
  is reasoning, never content.  Prompt tails: ``<|assistant|>`` and
  ``<|assistant|>\\n<think></think>`` (4.5/4.6), ``<|assistant|><think>`` and
  ``<|assistant|></think>`` (4.7/5.x).
* **Visible text is strict**: every delimiter is a single marker token, so a stray
  one in text (``</think>`` without the forced-open prompt, ``</tool_call>``,
  ``<arg_key>`` …) is an ``unexpected_tag`` error, never content.
* ``tools=`` makes a call to any other name an ``unknown_tool`` error; call indexes
  count the calls of the output in order.
* **Errors** (lenient mode) resynchronise at the next ``<tool_call>`` or ``<think>``,
  or just after the next ``</tool_call>``.
"""

from __future__ import annotations

from ..engine.grammar import ContentSpec, FormatSpec
from ._common import WHITESPACE, block_names, no_name

_WS = " \t\r\n"
_LAYOUT = ContentSpec("layout", allowed=WHITESPACE)


def _name(head: str) -> str:
    """``<tool_call>NAME`` -> ``NAME``."""
    return head[len("<tool_call>") :]


def _spec(name: str, description: str, models: str) -> FormatSpec:
    return FormatSpec(
        name=name,
        grammar="glm.lark",
        description=description,
        models=models,
        content={
            "TEXT": ContentSpec(
                "text", strict=True, strip_leading=_WS, strip_trailing=_WS, strip_at_end=True
            ),
            "REASONING": ContentSpec(
                "reasoning", strip_leading=_WS, strip_trailing=_WS, strip_at_end=True
            ),
            "KEY": ContentSpec("key", allowed="[^<>]"),
            "VALUE": ContentSpec("value"),
            "LEAD": _LAYOUT,
            "GAP": _LAYOUT,
            "PAD": _LAYOUT,
        },
        islands={},
        call_openers={"TOOL_HEAD": _name, "TOOL_OPEN": no_name},
        call_closers=frozenset({"TOOL_CLOSE"}),
        resync_before=frozenset({"THINK_OPEN", "TOOL_HEAD"}),
        resync_after=frozenset({"TOOL_CLOSE"}),
        block_names=block_names(
            "LEAD",
            "GAP",
            "PAD",
            TOOL_HEAD="<tool_call>NAME",
            TOOL_OPEN="<tool_call>",
            NAME="the tool name right after <tool_call>",
            KEY="argument key",
            VALUE="argument value",
        ),
    )


GLM_4_5 = _spec(
    "glm-4.5",
    "<tool_call>NAME <arg_key>/<arg_value> pairs (newline style), raw values typed by the "
    "tool schema",
    "GLM-4.5, GLM-4.5-Air, GLM-4.6",
)
GLM_4_7 = _spec(
    "glm-4.7",
    "<tool_call>NAME<arg_key>/<arg_value> pairs (compact style), raw values typed by the "
    "tool schema",
    "GLM-4.7, GLM-4.7-Flash, GLM-5.x",
)

SPECS = (GLM_4_5, GLM_4_7)
