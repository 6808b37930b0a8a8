"""``hermes``: Qwen2.5, Qwen3 (hybrid, Instruct-2507, Thinking-2507), QwQ, Hermes 2 Pro / 3.

FORMATS.md sections 2 and 12.  Output shape::

    <think>\\nREASONING\\n</think>\\n\\nCONTENT\\n
    <tool_call>\\n{"name": ..., "arguments": {...}}\\n</tool_call>

Decisions (``grammars/hermes.lark`` makes the structural ones):

* **Calls** are JSON envelopes: ``name`` plus ``arguments`` or ``parameters``, in any
  key order, nothing else (another key, a non-string name or non-object arguments is
  an ``invalid_arguments`` error).  **Double-encoded arguments** (a JSON string holding
  a JSON object, ``"arguments": "{\\"id\\": 7}"``: Granite 4, vLLM PR #54964) are
  decoded once: ``arguments`` is the object, ``raw`` and the argument deltas are the
  string literal as written (streamed as it arrives); a string holding anything else
  stays ``invalid_arguments``.  No warning event exists: ``raw`` starting with ``"``
  is the sign.  When the
  name comes first ``tool_call_start`` carries it; when the arguments come first the
  start has ``name=None`` and the ``tool_call`` event has the name.  The envelope's
  ``}`` completes the call (``tool_call`` in the feed that delivers it); only
  whitespace may follow before ``</tool_call>``, and ``</tool_call>`` may be missing
  at the very end of the input (a client that stops generating at the ``tool_call``
  event closes cleanly).  Marker text inside JSON strings is data: the close is
  looked for only after the JSON value.  Anything else inside the tags is an
  ``invalid_json`` / ``unexpected_text`` error; parsing resumes after the next
  ``</tool_call>`` (or at the next ``<tool_call>``/``<think>``).
* **Reasoning**: ``<think>`` … ``</think>``; a forced-open prompt
  (``<|im_start|>assistant\\n<think>\\n``, Thinking-2507/QwQ) is given as
  ``generation_prompt``, and reasoning cut by the end of input is still reasoning (plus
  a ``truncated`` error).  Tags inside reasoning are reasoning text, except a
  ``<tool_call>`` followed by a call head (whitespace, ``{``, whitespace and an envelope
  key, a bounded look-ahead): models open calls inside unclosed thinking, so that
  ``<tool_call>`` ends the reasoning and opens the call.  A model that merely mentions
  ``<tool_call>`` while thinking keeps it as reasoning.
* **Separators** (section 12): newlines just inside ``<think>``…``</think>`` (or before
  a ``<tool_call>`` that ends reasoning), the newlines that open any content run (after
  ``</think>``, between calls), and whitespace right before a ``<tool_call>`` are not
  message text.  Everything else is verbatim.
* **Stray tags** at the top level (``</think>`` without an open block, ``</tool_call>``)
  are text, as in ``qwen3-coder``: the model's own text about its tags stays visible.
"""

from __future__ import annotations

from ..engine.grammar import ContentSpec, FormatSpec
from ._common import block_names, no_name, text_before, think_reasoning

SPEC = FormatSpec(
    name="hermes",
    grammar="hermes.lark",
    description="<think> reasoning, <tool_call> JSON envelopes",
    models="Qwen2.5, Qwen3 (hybrid, Instruct/Thinking-2507), QwQ, NousResearch Hermes 2 Pro / 3",
    content={
        "TEXT": text_before("TOOL_OPEN", strip_leading="\n"),
        "REASONING": think_reasoning("THINK_CLOSE", "THINK_CALL"),
        "LAYOUT": ContentSpec("layout", strict=True),
    },
    islands={"ARGS": "json_call"},
    call_openers={"TOOL_OPEN": no_name, "THINK_CALL": no_name},
    envelope="envelope",
    resync_before=frozenset({"THINK_OPEN", "TOOL_OPEN"}),
    resync_after=frozenset({"TOOL_CLOSE"}),
    block_names=block_names("LAYOUT", ARGS="JSON call envelope", THINK_CALL="<tool_call>"),
)
