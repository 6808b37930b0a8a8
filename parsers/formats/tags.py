"""``tags``: toolwire's own tag language (FORMATS.md section 1).

Project decisions, documented in the README:

* text outside all tags is visible text, verbatim (whitespace between tags included);
* a ``<tool_call>`` body without a ``name`` attribute is an envelope when its first
  key is ``name``, ``arguments`` or ``parameters`` (and must then hold exactly
  ``name`` and one of the other two); any other body is the bare arguments object,
  with name null.  With ``name="..."`` on the tag the body is always the arguments.
* an envelope's arguments written as a JSON string holding a JSON object
  (double-encoded) are decoded once, as in ``hermes``: ``arguments`` is the object,
  ``raw`` and the deltas the string literal as written; a bare-arguments body that
  is a string is not decoded (an ``invalid_arguments`` error, as any non-object).
* a stray closing tag outside its block is ``unexpected_tag``; inside reasoning or an
  answer, tags other than the block's own closer are text (models write about tags).
"""

from __future__ import annotations

import html
import re

from ..engine.grammar import ContentSpec, FormatSpec
from ._common import WHITESPACE_LAYOUT, block_names, no_name

_NAME_ATTR = re.compile(r'name="([^"]*)"')


def _name_from_attribute(tag: str) -> str | None:
    m = _NAME_ATTR.search(tag)
    return html.unescape(m.group(1)) if m else None


SPEC = FormatSpec(
    name="tags",
    grammar="tags.lark",
    description="toolwire's generic tags: <analysis>, <tool_call>, <final_answer>",
    models="any model prompted with toolwire's tag instructions",
    content={
        "TEXT": ContentSpec("text", strict=True),
        "ANSWER": ContentSpec("text"),
        "REASONING": ContentSpec("reasoning"),
        "LAYOUT": WHITESPACE_LAYOUT,
    },
    islands={"ARGS": "json_call"},
    call_openers={"TOOL_OPEN": no_name, "TOOL_OPEN_NAMED": _name_from_attribute},
    envelope="auto",
    resync_before=frozenset({"ANALYSIS_OPEN", "FINAL_OPEN", "TOOL_OPEN", "TOOL_OPEN_NAMED"}),
    resync_after=frozenset({"TOOL_CLOSE"}),
    block_names=block_names(
        "LAYOUT",
        ANSWER="answer text",
        ARGS="JSON arguments",
        TOOL_OPEN_NAMED='<tool_call name="...">',
    ),
)
