# ruff: noqa: RUF001, RUF002  (the fullwidth bar U+FF5C is part of DeepSeek's tokens)
"""DeepSeek: ``deepseek-r1``, ``deepseek-v3``, ``deepseek-v3.1`` (FORMATS.md 5.1-5.3, 12).

One module, three specs, one grammar each (``grammars/deepseek_*.lark``).  The
fullwidth bar ``｜`` (U+FF5C) and ``▁`` (U+2581) are part of every special token.

Calls
-----
* V3 / R1: ``<｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\\n```json\\n{...}\\n```
  <｜tool▁call▁end｜>`` inside ``<｜tool▁calls▁begin｜>``...``<｜tool▁calls▁end｜>``.
  The type word (always ``function``) is checked only to be a lowercase word (or
  absent); the name and the opening fence line form one delimiter,
  ``<｜tool▁sep｜>NAME`` + optional spaces + ``\\n```json``, that names the call
  (``tool_call_start`` as soon as it is complete).  The fence lines are markup: the
  ``\\n`` after ```` ```json ```` is JSON whitespace, the closing fence line
  (whitespace and backticks) is dropped, and a missing closing fence is tolerated.
  A name followed by anything but the fence line is an ``unexpected_text`` error.
* V3.1: ``<｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{...}<｜tool▁call▁end｜>``, calls back
  to back.  The name is a capture ending at ``<｜tool▁sep｜>``; it may not hold
  whitespace, ``<``, ``>`` or ``｜`` (anything else there is an ``unexpected_text``
  error, so a marker never becomes part of a name).  A call with no name before the
  separator is read as an envelope ``{"name", "arguments"}``, which DeepSeek never
  writes: in practice an ``invalid_arguments`` error, never a call without a name.
* Misspelled section openers (V3 / R1).  R1 distills (Qwen 7B / 32B) write
  ``<｜tool_calls_begin｜>``, ``<｜tool calls begin｜>``, ``<｜tool\\_calls\\_begin｜>``
  (a literal backslash before each underscore) or ``<｜tool▁calls｜>`` instead of
  ``<｜tool▁calls▁begin｜>``: each opens the section, exactly llama.cpp's list
  (``common/chat.cpp``, the DeepSeek R1 handler, which llama.cpp also runs for V3
  templates, so ``deepseek-v3`` accepts them too).  The closers have no variants.
* The first call of a section may lack its ``<｜tool▁call▁begin｜>``
  (``<｜tool▁calls｜>function<｜tool▁sep｜>NAME...``: llama.cpp's test of that opener
  parses it to a call).  The opener, any variant, and the type word ``function``
  right before ``<｜tool▁sep｜>`` form one delimiter that opens the call (its span
  starts at the opener): the word ``function`` alone never becomes a delimiter, so
  text keeps its fast path.  Later calls need their ``<｜tool▁call▁begin｜>``.
* Whitespace between the calls of a section is layout (the template puts ``\\n``
  between V3 calls, nothing between V3.1 calls); any other text there is an error.
* ``tool_call`` comes at the ``}`` closing the arguments (values final); the call is
  closed by ``<｜tool▁call▁end｜>``.  A call cut anywhere before its ``}`` is a
  ``truncated`` error at ``close()``, never a call.
* A call outside any section (the section opener missing) is taken as a call and
  opens an implicit section that ``<｜tool▁calls▁end｜>`` closes; this is also where
  parsing restarts after an error inside a section, so the section's remaining calls
  survive a malformed one.

Text and reasoning
------------------
* Every delimiter contains a special token, so visible text is strict: a stray
  marker in it (``<｜tool▁call▁end｜>``, ``<｜tool▁calls▁end｜>``, a ``</think>`` with
  no open block, V3.1's ``<｜tool▁sep｜>``) is an ``unexpected_tag`` error, never
  content.  Markdown fences and the word ``function`` in text are text.  (In V3/R1
  ``<｜tool▁sep｜>`` is a delimiter only as the start of a call head, so a lone one
  in text stays text: making the fence line a delimiter of its own would turn every
  ```` ```json ```` in text into an error.)
* Delimiter variants are separate literals or content, never optional tails: the
  lexer takes the longest complete match, so a tail such as ``</think>\\n{0,2}`` or
  ``<｜tool▁call▁begin｜>(?:function)?`` could be cut at a chunk boundary.  Hence
  ``</think>``, ``</think>\\n`` and ``</think>\\n\\n`` (R1), and the type word as
  content.
* V3 and V3.1 content is verbatim (glued to the section opener).  R1 content loses
  the template's ``\\n\\n`` after ``</think>`` and trailing whitespace right before a
  calls section or a call (section 12).
* R1 reasoning drops its surrounding newlines (``<think>\\n`` ... ``\\n</think>``);
  V3.1 reasoning is verbatim.  Markers inside reasoning are reasoning text, except a
  calls section that opens with a well-formed call head
  (``<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>...``, a bounded look-ahead): models
  call from unclosed thinking (R1 distills with a forced-open ``<think>`` prompt), so
  that ends the reasoning and starts the section (any opener variant, with or
  without the first call's ``<｜tool▁call▁begin｜>``).
* ``generation_prompt``: R1 ``<｜Assistant｜><think>\\n`` (R1, distills: output starts
  in reasoning) or ``<｜Assistant｜>``; V3.1 ``<｜Assistant｜><think>`` (thinking) or
  ``<｜Assistant｜></think>`` (non-thinking, starts in content); V3 ``<｜Assistant｜>``.
  Without the forced-open prompt an R1 output that only closes its reasoning has a
  stray ``</think>`` (an error; the text before it is content).

V3 has no reasoning block: ``<think>`` in a V3 output is text.
"""

from __future__ import annotations

import re

from ..engine.grammar import ContentSpec, FormatSpec
from ._common import WHITESPACE_LAYOUT, block_names, no_name, text_before, think_reasoning

_HEAD_NAME = re.compile(r"<｜tool▁sep｜>([^\s｜<>]+)")


def _name_from_head(text: str) -> str | None:
    m = _HEAD_NAME.match(text)
    return m.group(1) if m else None


_TYPE = ContentSpec("layout", allowed="[a-z]")
_FENCE = ContentSpec("layout", allowed=r"[ \t\r\n`]", strict=True)
_BLOCK_NAMES = block_names(
    "LAYOUT",
    NAME="tool name",
    TYPE="call type (function)",
    FENCE="closing fence ```",
    ARGS="JSON arguments",
    CALL_BEGIN="<｜tool▁call▁begin｜>",
    CALL_HEAD="<｜tool▁sep｜>NAME\\n```json",
    THINK_CLOSE="</think>",
    THINK_CLOSE_NL="</think>",
    THINK_CLOSE_NL2="</think>",
    CALLS_BEGIN="<｜tool▁calls▁begin｜>",
    CALLS_BEGIN_IN_THINK="<｜tool▁calls▁begin｜>",
    CALLS_BEGIN_BARE="<｜tool▁calls▁begin｜>function",
)
_RESYNC_BEFORE = frozenset({"CALLS_BEGIN", "CALL_BEGIN"})
_V3_RESYNC_BEFORE = _RESYNC_BEFORE | {"CALLS_BEGIN_BARE"}
_RESYNC_AFTER = frozenset({"CALLS_END"})
_V3_CALLS = {"CALL_BEGIN": no_name, "CALLS_BEGIN_BARE": no_name, "CALL_HEAD": _name_from_head}

V3 = FormatSpec(
    name="deepseek-v3",
    grammar="deepseek_v3.lark",
    description="<｜tool▁calls▁begin｜> sections, function<｜tool▁sep｜>NAME ```json calls",
    models="DeepSeek V3, V3-0324",
    content={
        "TEXT": ContentSpec("text", strict=True),
        "LAYOUT": WHITESPACE_LAYOUT,
        "TYPE": _TYPE,
        "FENCE": _FENCE,
    },
    islands={"ARGS": "json_call"},
    call_openers=_V3_CALLS,
    resync_before=_V3_RESYNC_BEFORE,
    resync_after=_RESYNC_AFTER,
    block_names=_BLOCK_NAMES,
)

R1 = FormatSpec(
    name="deepseek-r1",
    grammar="deepseek_r1.lark",
    description="<think> reasoning, DeepSeek V3-style fenced calls in <｜tool▁calls▁begin｜>",
    models="DeepSeek R1, R1-0528, R1-Distill (Qwen, Llama)",
    content={
        "TEXT": text_before("CALLS_BEGIN", "CALLS_BEGIN_BARE", "CALL_BEGIN", strict=True),
        "REASONING": think_reasoning(
            "THINK_CLOSE",
            "THINK_CLOSE_NL",
            "THINK_CLOSE_NL2",
            "CALLS_BEGIN_IN_THINK",
            "CALLS_BEGIN_BARE",
        ),
        "LAYOUT": WHITESPACE_LAYOUT,
        "TYPE": _TYPE,
        "FENCE": _FENCE,
    },
    islands={"ARGS": "json_call"},
    call_openers=_V3_CALLS,
    resync_before=_V3_RESYNC_BEFORE | {"THINK_OPEN", "CALLS_BEGIN_IN_THINK"},
    resync_after=_RESYNC_AFTER,
    block_names=_BLOCK_NAMES,
)

V3_1 = FormatSpec(
    name="deepseek-v3.1",
    grammar="deepseek_v3_1.lark",
    description="<think> reasoning, <｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{json} calls",
    models="DeepSeek V3.1, V3.1-Terminus",
    content={
        "TEXT": ContentSpec("text", strict=True),
        "REASONING": ContentSpec("reasoning"),
        "NAME": ContentSpec("name", allowed=r"[^\s｜<>]"),
        "LAYOUT": WHITESPACE_LAYOUT,
    },
    islands={"ARGS": "json_call"},
    call_openers={"CALL_BEGIN": no_name},
    envelope="envelope",
    resync_before=_RESYNC_BEFORE | {"THINK_OPEN", "CALLS_BEGIN_IN_THINK"},
    resync_after=_RESYNC_AFTER,
    block_names=_BLOCK_NAMES,
)

SPECS = (R1, V3, V3_1)
