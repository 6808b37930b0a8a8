"""``kimi-k2``: Kimi-K2-Instruct (0711, 0905), Kimi-K2-Thinking, Kimi-K2.5, Kimi-K2.6.

FORMATS.md sections 6.1 and 12.  Every delimiter is one special token; nothing is
put between them::

    <think>REASONING</think>CONTENT<|tool_calls_section_begin|><|tool_call_begin|>
    functions.NAME:IDX<|tool_call_argument_begin|>{...}<|tool_call_end|>
    <|tool_calls_section_end|>

Decisions (grammar: ``grammars/kimi_k2.lark``):

* **Ids and names.** The call header ``functions.NAME:IDX`` is the call's id, kept
  raw (also without the ``functions.`` prefix); the name is derived from it
  (``FormatSpec.name_from_id``): ``functions.`` removed, then cut at the *last*
  colon, so names may hold dots and colons (``functions.mcp:fs.read:3`` is
  ``mcp:fs.read``).  ``tool_call_start`` carries both, so it comes when the header
  is complete (at ``<|tool_call_argument_begin|>``).  Whitespace around the header is
  layout; ``<``, ``>`` or ``|`` in it are ``unexpected_text``.  A call with an empty
  header has no name: its body would have to be a ``{"name", "arguments"}``
  envelope, which Kimi never writes, so in practice it is an ``invalid_arguments``
  error, never a call without a name.
* **Arguments** are a JSON object (the JSON island and its hot path); ``tool_call``
  comes at its closing ``}`` (values final); ``<|tool_call_end|>`` closes the call.
  Only whitespace may follow the ``}``; anything else is an ``unexpected_text``
  error (the call has completed already).
* **Inside a section** anything between calls (whitespace, stray words) is dropped:
  never content.  A stray marker there (``</think>``, another section opener) is an
  ``unexpected_tag`` error.  An empty section yields no calls.  Text after the
  section is content.
* **Reasoning.** K2-Thinking interleaves reasoning and calls and writes whole
  sections inside ``<think>`` before ``</think>``: a section opener inside reasoning
  opens a real section (the token is special: the tokenizer maps its text to the
  token, so it is never text about a marker), and reasoning goes on after the
  section as a new reasoning block.  Other markers inside reasoning are reasoning
  text.  Reasoning and content are verbatim (the template adds no separators).
* **A section ends the reasoning at the end of the output.**  K2-Thinking writes its
  calls section inside ``<think>`` and stops there (``<|im_end|>``, stripped by the
  engine, follows; it never writes ``</think>``): an output that ends right after
  a section inside unclosed reasoning is complete, the calls stand and nothing is
  reported as truncated (finish ``tool_calls``).  Reasoning that goes on after the
  section and is then cut is still truncated reasoning (``truncated`` at
  ``close()``), as is an output cut inside the section.
* **Visible text is strict**: a stray marker in it (``</think>`` without an open
  block, ``<|tool_call_end|>``, ``<|tool_calls_section_end|>``,
  ``<|tool_call_argument_begin|>``) is an ``unexpected_tag`` error, never content
  (the special-token leakage engines show).
* **Missing section opener.** A ``<|tool_call_begin|>`` in text opens an implicit
  section that ``<|tool_calls_section_end|>`` closes; this is also where parsing
  restarts after an error inside a section, so its remaining calls survive.
* ``generation_prompt``: ``<|im_assistant|>assistant<|im_middle|>`` (K2-Instruct,
  K2-Thinking: content; the model writes ``<think>`` itself), ``…<|im_middle|><think>``
  (K2.5/K2.6 thinking: the output starts in reasoning) or
  ``…<|im_middle|><think></think>`` (thinking off: content).
* **Errors** (lenient mode) resynchronise at the next ``<think>``, section opener or
  ``<|tool_call_begin|>``, or just after the next ``<|tool_calls_section_end|>``.
"""

from __future__ import annotations

from ..engine.grammar import ContentSpec, FormatSpec
from ._common import WHITESPACE_LAYOUT, block_names, no_name


def name_from_id(call_id: str) -> str | None:
    """``functions.NAME:IDX`` (or ``NAME:IDX``) -> ``NAME``; None when empty."""
    name = call_id.removeprefix("functions.")
    head, colon, _ = name.rpartition(":")
    if colon:
        name = head
    return name.strip() or None


SPEC = FormatSpec(
    name="kimi-k2",
    grammar="kimi_k2.lark",
    description=(
        "<|tool_calls_section_begin|> sections, functions.NAME:IDX ids, JSON arguments; "
        "calls inside <think>"
    ),
    models="Kimi-K2-Instruct (0711, 0905), Kimi-K2-Thinking, Kimi-K2.5, Kimi-K2.6",
    content={
        "TEXT": ContentSpec("text", strict=True),
        "REASONING": ContentSpec("reasoning"),
        "ID": ContentSpec("id", allowed=r"[^<>|]"),
        "GAP": ContentSpec("layout", allowed=r"[\s\S]", strict=True),
        "TAIL": WHITESPACE_LAYOUT,
    },
    islands={"ARGS": "json_call"},
    call_openers={"CALL_BEGIN": no_name},
    envelope="envelope",
    name_from_id=name_from_id,
    resync_before=frozenset({"THINK_OPEN", "SECTION_BEGIN", "CALL_BEGIN"}),
    resync_after=frozenset({"SECTION_END"}),
    block_names=block_names(
        "TAIL",
        ID="call id (functions.NAME:IDX)",
        GAP="text between calls",
        ARGS="JSON arguments",
    ),
)
