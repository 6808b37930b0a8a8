"""``qwen3-coder``: Qwen3-Coder (30B-A3B, 480B-A35B, Coder-Next), Qwen3.5, Qwen3.6, Qwen3.8.

FORMATS.md sections 3 and 12.  Calls are XML-ish markup with raw values::

    <tool_call>\\n<function=NAME>\\n<parameter=KEY>\\nVALUE\\n</parameter>\\n</function>\\n</tool_call>

Values are written raw (no quotes, no escaping); each is typed by the tool's JSON
schema from ``tools=`` (FORMATS.md 0.1, ``schema_typing.py``: Python and JSON literals
both accepted, integers exact at any size, a string schema keeps ``00917`` a string;
without a schema for the key the text is kept verbatim).  The grammar
(``grammars/qwen3_coder.lark``) decides every ambiguity; decisions:

* **Value markup.** Exactly one ``\\n`` after ``<parameter=KEY>`` and one before
  ``</parameter>`` belong to the delimiters; everything else between them is the
  value (leading indentation, blank lines, a trailing newline).  The compact layout
  ``<parameter=k>v</parameter>`` works too.
* **Where a value ends.** ``</parameter>`` closes a value only when the next tag
  follows it (``<parameter=``, ``</function`` or ``</tool_call``, after at most 64
  whitespace characters): a look-ahead in the delimiter, so the lexer holds
  ``</parameter>`` until it sees the next line.  A ``</parameter>`` followed by
  anything else is data, and so is every other tag inside a value (``<tool_call>``,
  ``<function=x>``, a ``<parameter=`` or ``</function>`` in the middle of a line).
* **Missing ``</parameter>``.** A ``<parameter=``, ``</function>`` or ``</tool_call>``
  at the start of a line ends the value (its preceding ``\\n`` is markup).  Requiring
  the line start keeps code that mentions the tags mid-line (common for a coder
  model) inside the value.
* **Missing ``</function>``.** ``</tool_call>`` completes the call.  A block may hold
  several functions (``<function=a>…</function><function=b>…</function>``): each is
  a call.
* **Missing ``<tool_call>``** (Qwen3-Coder's most-reported failure: Ollama issues
  #16686, #18530, #12751).  ``<function=NAME>`` opens a call, at the top level or after
  text, when ``<parameter=`` or ``</function>`` follows it (a bounded look-ahead);
  otherwise it is text (``<function=`` mentioned in prose, ``<function=NAME>`` with
  no call head after it).  Such a call completes at ``</function>``, as a wrapped one
  does (``tool_call`` in the feed with its ``>``; or at a ``</tool_call>`` met before
  it).  A ``</tool_call>`` right after that ``</function>`` (after at most 64
  whitespace characters) closes the block the model never opened: it is markup,
  never text, and it may be missing.  Anything else after ``</function>`` is
  top-level text again, where a later ``</tool_call>`` is text like any stray
  closing tag; several bare calls in a row, with or without ``</tool_call>``, are
  calls in order.
* **Missing ``</tool_call>`` at the end.** The call completes at ``</function>``
  (values are final there: ``tool_call`` is emitted in the feed that delivers its
  ``>``), so the input may end right after it: a client that stops generating at the
  ``tool_call`` event gets no error from ``close()``.  Elsewhere ``</tool_call>`` is
  required (only whitespace may follow ``</function>`` inside a block).
* **Reasoning** (Qwen3.5+): ``<think>`` … ``</think>``, minus the template's
  newlines; a forced-open prompt (``<|im_start|>assistant\\n<think>\\n``) is given as
  ``generation_prompt``.  Tags inside reasoning are reasoning text, except a
  ``<tool_call>`` followed by a call head (optional whitespace, ``<function=`` and a
  first name character): Qwen3.5's most-reported failure is a call opened inside
  unclosed reasoning, so that ``<tool_call>`` ends the reasoning and opens the call.
  A model that merely mentions ``<tool_call>`` while thinking keeps it as reasoning.
  A later stray ``</think>`` is text.
* **Content.** Text outside reasoning and calls, verbatim, except the template's
  separators: leading newlines of a run (after ``</think>``, between calls) and
  trailing whitespace directly before a call opener.  Tags at the top level that do
  not open a block (``</tool_call>``, ``</think>``, …) are text, as in ``hermes``.
* **Names** are the text between ``=`` and ``>``, surrounding whitespace removed;
  ``tools=`` makes a call to any other name an ``unknown_tool`` error (the core's).
* **Errors** (lenient mode) resynchronise at the next ``<tool_call>``, ``<think>`` or
  call-opening ``<function=``, or just after the next ``</tool_call>``.

``raw`` (and the ``tool_call_delta`` events) is the markup between ``<function=NAME>``
and the closing tag, as the model wrote it.

Pending in the core: an empty value (``<parameter=k>\\n\\n</parameter>``) should give
``""``; the driver adds an argument only when its value run delivered text, so such a
key is missing from ``arguments`` for now.
"""

from __future__ import annotations

import re

from ..engine.grammar import ContentSpec, FormatSpec
from ._common import block_names, no_name, text_before, think_reasoning

_NAME = re.compile(r"=([^<>\n]*)>")


def _name(tag: str) -> str:
    """``<function=NAME>`` / ``\\n<parameter=KEY>\\n`` -> ``NAME`` / ``KEY``."""
    m = _NAME.search(tag)
    return m.group(1).strip() if m else ""


SPEC = FormatSpec(
    name="qwen3-coder",
    grammar="qwen3_coder.lark",
    description="<tool_call><function=NAME><parameter=KEY> raw values typed by the tool schema",
    models="Qwen3-Coder (30B-A3B, 480B-A35B, Coder-Next), Qwen3.5, Qwen3.6, Qwen3.8",
    content={
        "TEXT": text_before("TOOL_OPEN", "BARE_FUNCTION", strip_leading="\n"),
        "REASONING": think_reasoning("THINK_CLOSE", "THINK_CALL"),
        "LAYOUT": ContentSpec("layout"),
        "VALUE": ContentSpec("value"),
    },
    islands={},
    call_openers={
        "TOOL_OPEN": no_name,
        "THINK_CALL": no_name,
        "FUNCTION_OPEN": _name,
        "BARE_FUNCTION": _name,
    },
    key_from={"PARAM_OPEN": _name, "PARAM_NEXT": _name},
    call_closers=frozenset(
        {"FUNCTION_CLOSE", "VALUE_FUNCTION_CLOSE", "TOOL_CLOSE", "VALUE_TOOL_CLOSE"}
    ),
    resync_before=frozenset({"THINK_OPEN", "TOOL_OPEN", "BARE_FUNCTION"}),
    resync_after=frozenset({"TOOL_CLOSE"}),
    block_names=block_names(
        "LAYOUT",
        VALUE="parameter value",
        THINK_CALL="<tool_call>",
        FUNCTION_OPEN="<function=NAME>",
        BARE_FUNCTION="<function=NAME>",
        PARAM_OPEN="<parameter=KEY>",
        PARAM_NEXT="<parameter=KEY>",
        PARAM_CLOSE="</parameter>",
        VALUE_FUNCTION_CLOSE="</function>",
        VALUE_TOOL_CLOSE="</tool_call>",
        BARE_TAIL="</tool_call>",
    ),
)
