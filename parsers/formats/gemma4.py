"""``gemma4``: Gemma 4 (E2B, E4B, 26B-A4B, 31B).

FORMATS.md sections 10 and 12.  Calls are
``<|tool_call>call:NAME{key:<|"|>text<|"|>,n:7}<tool_call|>``; the object is Gemma's
own notation, parsed by ``toolwire.values.gemma_object`` (its docstring lists the accepted
language: bare keys that may hold spaces, raw ``<|"|>`` strings, Python ``str()``
numbers).  Project decisions:

* Text before, between and after calls is content, verbatim: the template puts no
  separator there.
* Reasoning is ``<|channel>thought\\n`` … ``<channel|>``: the word ``thought`` and the
  newline after it are channel header (a missing newline is tolerated), and exactly
  one newline before ``<channel|>`` is separator; any other whitespace is
  reasoning.  Marker text inside reasoning is reasoning, except ``<|tool_call>``
  directly followed by ``call:`` (a bounded look-ahead), which ends an unclosed
  thought and opens a call (as vLLM reads it).
* ``call:`` then the name, verbatim: 1 to 256 letters, digits, ``_``, ``-``, ``.``
  (``call:`` and the name are one delimiter, so ``tool_call_start`` carries the
  name); then the object, whose ``{`` is its first character.  A name with other
  characters, an empty name (reported at ``call:``), or no object after the name
  (``call:f<tool_call|>``) is an error, never a call.
* The values are final at the ``}`` closing the object: the ``tool_call`` comes
  from that character; ``raw`` and the argument deltas are the object's text, both
  braces included.  ``<tool_call|>`` then closes the call (only whitespace may come
  between).  An input that ends right after the ``}`` is accepted: that is where a
  client stops the model.  An input that ends inside the name, a string or before
  the ``}`` is a ``truncated`` error, never a call.
* A missing ``<tool_call|>`` before the next ``<|tool_call>`` is reported
  (``unexpected_tag``) and the next call parses; the call before it stands.
* Every value is self-typed (strings are delimited): no schema typing.  An object
  that breaks the notation is ``invalid_arguments`` at its offending character.
* ``skip_special_tokens`` must be off: output whose markers an engine deleted
  (``call:f{a:1}``) is content, never guessed to be a call.
* A stray ``<channel|>`` or ``<tool_call|>`` in content is a marker, never text: it
  is dropped.  Other markers in content (``<|"|>``, the stop tokens ``<turn|>`` and
  ``<|tool_response>`` that an engine left in) are text.
* Start states (``generation_prompt=``): ``<|turn>model\\n`` and no prompt start in
  content; ``<|turn>model\\n<|channel>thought\\n<channel|>`` (thinking off, 26B/31B)
  starts in content after an empty thought; a prompt ending ``<|channel>thought\\n``
  starts inside reasoning.
* After an error inside a call, parsing resumes at the next ``<|tool_call>`` or
  ``<|channel>thought``, or just after the next ``<tool_call|>``.
"""

from __future__ import annotations

from ..engine.grammar import ContentSpec, FormatSpec
from ._common import block_names, no_name


def _name_of(head: str) -> str:
    return head.removeprefix("call:")


SPEC = FormatSpec(
    name="gemma4",
    grammar="gemma4.lark",
    description='<|channel>thought reasoning, <|tool_call>call:NAME{key:<|"|>v<|"|>} calls',
    models="Gemma 4 (E2B, E4B, 26B-A4B, 31B)",
    content={
        "TEXT": ContentSpec("text"),
        "REASONING": ContentSpec("reasoning"),
        "LAYOUT": ContentSpec("layout", strict=True),
    },
    islands={"ARGS": "gemma_object"},
    island_lead=frozenset({"OBJ_OPEN"}),
    call_openers={
        "TOOL_OPEN": no_name,
        "TOOL_OPEN_IN_THOUGHT": no_name,
        "CALL_HEAD": _name_of,
    },
    resync_before=frozenset({"TOOL_OPEN", "THOUGHT_OPEN"}),
    resync_after=frozenset({"TOOL_CLOSE"}),
    block_names=block_names(
        "LAYOUT",
        REASONING="reasoning",
        CALL_HEAD="call:NAME",
        ARGS="an argument object",
        THOUGHT_OPEN="<|channel>thought",
        THOUGHT_CLOSE="<channel|>",
        TOOL_OPEN_IN_THOUGHT="<|tool_call>",
        OBJ_OPEN="'{'",
    ),
)
