"""``hermes``: Qwen2.5, Qwen3 (hybrid, Instruct-2507, Thinking-2507), QwQ, Hermes 2 Pro / 3.

FORMATS.md sections 2 and 12.  The template's separators are not message text: the
newlines just inside ``<think>``…``</think>``, the newlines that open the content
after it, and whitespace before a ``<tool_call>``.  Calls are JSON envelopes
(``name`` + ``arguments``/``parameters``, any key order).  Tags inside reasoning are
reasoning text.  A forced-open thinking prompt (``...<think>\\n``) is given as
``generation_prompt``.
"""

from __future__ import annotations

from ..grammar import ContentSpec, FormatSpec


def _no_name(tag: str) -> None:
    return None


SPEC = FormatSpec(
    name="hermes",
    grammar="hermes.lark",
    description="<think> reasoning, <tool_call> JSON envelopes",
    models="Qwen2.5, Qwen3 (hybrid, Instruct/Thinking-2507), QwQ, NousResearch Hermes 2 Pro / 3",
    content={
        "TEXT": ContentSpec(
            "text",
            strip_leading="\n",
            strip_trailing=" \t\r\n",
            strip_before=frozenset({"TOOL_OPEN"}),
        ),
        "REASONING": ContentSpec(
            "reasoning",
            strip_leading="\n",
            strip_trailing="\n",
            strip_before=frozenset({"THINK_CLOSE"}),
        ),
        "LAYOUT": ContentSpec("layout", strict=True),
    },
    islands={"ARGS": "json_call"},
    call_openers={"TOOL_OPEN": _no_name},
    envelope="envelope",
    resync_before=frozenset({"THINK_OPEN", "TOOL_OPEN"}),
    resync_after=frozenset({"TOOL_CLOSE"}),
    block_names={"LAYOUT": "whitespace", "ARGS": "JSON call envelope"},
)
