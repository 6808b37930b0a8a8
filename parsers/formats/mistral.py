"""``mistral``: every ``mistral_common`` tokenizer version (FORMATS.md sections 9, 12).

* **v3 / v7** (Mistral 7B v0.3, Mixtral 8x22B, Nemo): ``[TOOL_CALLS]`` then a JSON
  array of ``{"name", "arguments"}`` envelopes (any key order; ``parameters`` is
  accepted for ``arguments``; double-encoded arguments are decoded once, as in
  ``hermes``).  Up to 16 whitespace characters may separate the marker from ``[``
  (SentencePiece models write ``[TOOL_CALLS] [``).  Nemo's ``"id"`` member (a
  string) becomes the call id; other calls' ids are ``call_<index>``.  The start
  waits for the id while it may still come before the arguments (a bounded
  look-ahead: the envelope's other members), so an id written before them is on
  every event of the call.  Each element is a call of its own: ``tool_call`` at its ``}``,
  the array itself closes at ``]``.
* **v11+** (Small 3.2, Magistral, Devstral, Ministral 3, Small 4 / Medium 3.5):
  ``[TOOL_CALLS]NAME[ARGS]{...}``, repeated with no separator.  The optional
  ``[CALL_ID]ID`` between the name and ``[ARGS]`` gives the call id.  With
  ``[ARGS]`` stripped (``skip_special_tokens``) the name ends at the ``{`` that
  starts the arguments.  ``tool_call`` at the arguments' ``}`` (nothing closes the
  call: ``</s>`` is the stop token).  The name is one pattern delimiter that ends
  where ``[ARGS]``, ``[CALL_ID]`` or ``{`` follows (``tool_call_start`` then); names
  and ids may not hold whitespace, brackets, braces, quotes or commas, so
  ``[TOOL_CALLS]`` followed by prose is an ``unexpected_text`` error, not a call.
* What follows ``[TOOL_CALLS]`` decides the shape: a ``[`` whose next non-blank
  character is ``{`` opens an array, a name a v11 call.  Both are delimiters, so the
  state after the marker holds no content and any other text there is an error
  whatever the chunking.
* ``[TOOL_CALLS]`` with no name, directly followed by an object, reads the object as
  an envelope (``[TOOL_CALLS]{"name": ..., "arguments": ...}``).
* **Reasoning** (v13): ``[THINK]`` ... ``[/THINK]``, verbatim; inside it every
  marker but ``[/THINK]`` is reasoning text.
* **Magistral 2506** (v11, no reasoning token) writes plain-text ``<think>\\n`` ...
  ``\\n</think>\\n\\n`` as its system prompt asks.  The format knows it by position,
  with no option: ``<think>`` opens reasoning only as the first thing of the output
  (after optional whitespace), where no other Mistral model writes it; anywhere
  else (after text, calls or a ``[THINK]`` block) it is text, so ``[THINK]`` models
  and models writing about tags are unchanged.  ``[/INST]`` is a delimiter in the
  start state only, so the usual prompt tail ``"[/INST]"`` leaves the parser at the
  output's start (a longer tail such as ``"[INST]q[/INST]"`` does not: it is text);
  a tail ending ``[/INST]<think>`` starts inside the reasoning.  Inside, only
  ``</think>`` ends it; newlines just inside the tags and up to two after
  ``</think>`` are template separators.  A separate format id would have made every
  Magistral 2506 user pick it by hand; a parser option the same, for no gain: the
  position is unambiguous.
* **Content** is verbatim, including the space SentencePiece models put before
  ``[TOOL_CALLS]``; text after calls is content.  ``mistral_common`` never maps
  marker text to control tokens, so text that merely looks like markup
  (``[ARGS]``, ``{``, ``]`` in prose) is text; only ``[TOOL_CALLS]`` and ``[THINK]``
  open structure.  Inside JSON strings nothing is a marker.
* **Truncation**: output that stops right after ``[TOOL_CALLS]``, inside a name or
  inside the arguments is an error (``truncated``; ``unexpected_text`` for a name or
  marker cut short), never a call, and no marker reaches the content.
* **Errors**: after a malformed call parsing restarts at the next ``[TOOL_CALLS]``
  or ``[THINK]``; inside a v3 array a malformed element is skipped up to its closing
  bracket (``skip_broken``) and the next element still counts.
* ``generation_prompt`` normally ends with ``[/INST]`` (start state: content); a
  prompt that ends with ``[THINK]`` starts inside reasoning.

Ids: ``[CALL_ID]`` is on every event of its call (the name waits for it,
``defer_start``).  Nemo's ``"id"`` after the arguments (the order of Nemo's template)
reaches only ``tool_call``: the start and the argument deltas went out with
``call_<index>``, since waiting would hold the whole arguments back; clients match a
call's events by ``index``.  Whether models generate ``[CALL_ID]`` at all is
unverified (FORMATS.md 13).
"""

from __future__ import annotations

from ..engine.grammar import ContentSpec, FormatSpec
from ._common import block_names, no_name, think_reasoning


def _name(text: str) -> str:
    return text


_WORD = r"[^\s\[\]{}\"'`,]"

SPEC = FormatSpec(
    name="mistral",
    grammar="mistral.lark",
    description="[TOOL_CALLS] JSON array (v3) or [TOOL_CALLS]NAME[ARGS]{json} (v11+), [THINK]",
    models=(
        "Mistral 7B v0.3, Mixtral 8x22B, Nemo, Small 3.x, Magistral, Ministral 3, "
        "Devstral, Small 4, Medium 3.5"
    ),
    content={
        "TEXT": ContentSpec("text"),
        "REASONING": ContentSpec("reasoning"),
        "PLAIN_REASONING": think_reasoning("PLAIN_THINK_CLOSE"),
        "CALL_ID": ContentSpec("id", allowed=_WORD),
        "LAYOUT": ContentSpec("layout"),
    },
    islands={"ARGS": "json_call", "ELEMENT": "json_call"},
    call_openers={"TOOL_CALLS": no_name, "NAME": _name},
    envelope="envelope",
    envelope_id_key="id",
    defer_start=frozenset({"NAME"}),
    island_lead=frozenset({"LBRACE"}),
    skip_broken=frozenset({"ELEMENT"}),
    resync_before=frozenset({"TOOL_CALLS", "THINK_OPEN"}),
    block_names=block_names(
        "LAYOUT",
        PLAIN_REASONING="reasoning text",
        PLAIN_THINK_OPEN="<think>",
        PLAIN_THINK_CLOSE="</think>",
        NAME="tool name",
        CALL_ID="call id",
        ARGS="JSON arguments",
        ELEMENT="JSON call",
        ARRAY_OPEN="[",
    ),
)
