"""``llama4-pythonic``: Llama 4 Scout/Maverick with Meta's pythonic tool prompt (also
Llama 3.2/3.3 prompted the same way).

FORMATS.md sections 8.2 and 12.  Calls are a Python list of keyword-argument calls,
``[fetch_row(id=7, cols=['x', 'y']), ping()]``, optionally wrapped in
``<|python_start|>``…``<|python_end|>``; text around a list is content, verbatim
(the format has no template separators).  Project decisions:

* A list is a call list only if its ``[`` is followed (after optional whitespace) by
  a name and ``(``: Markdown links ``[x](y)``, footnotes ``[1]`` and prose brackets are
  text.  Such a ``[`` anywhere in the text opens a call list, so Python code in prose
  (``d[len(x)]``) is read as a (malformed) call: an error, in lenient mode skipped up
  to the next ``]``.
* Names are Python identifiers, dotted paths allowed (``tools.search``), each part at
  most 64 characters; the name and its ``(`` are one delimiter, so ``tool_call_start``
  carries the name.  No space between the name and ``(``.
* Arguments are keyword-only Python literals, parsed by ``toolwire.values.pylit`` (its
  docstring lists the accepted language): never ``eval``.  ``raw`` and the argument
  deltas are the text between the parentheses; the ``tool_call`` comes at the call's
  ``)``, where its values are final, so a list cut before its ``]`` still reports the
  calls it completed (then a ``truncated`` error); a call cut before its ``)`` is an
  error, never a call.  An unfinished ``[name`` with no ``(`` at the end of the input
  is text.
* Whitespace (space, tab, CR, LF) is allowed around calls and commas inside a list, a
  trailing comma too (``[f(), ]``, as Python).  Inside ``<|python_start|>`` only a call
  list may appear.  A ``<|python_end|>`` outside one is dropped (a marker is never
  content).
* A malformed call inside a list is reported and skipped up to its closing ``)``
  (brackets counted outside strings: ``skip_broken``); the next call in the list still
  counts.  Other errors resynchronise after the next ``]`` or ``<|python_end|>``, or
  before the next call list or ``<|python_start|>``.
"""

from __future__ import annotations

from ..engine.grammar import ContentSpec, FormatSpec
from ._common import block_names


def _name_of(opener: str) -> str:
    return opener[:-1]


SPEC = FormatSpec(
    name="llama4-pythonic",
    grammar="llama4_pythonic.lark",
    description="[f(a=1), g()] Python-literal call lists, optional <|python_start|>",
    models="Llama 4 Scout / Maverick (pythonic prompt), Llama 3.2 / 3.3 prompted the same way",
    content={
        "TEXT": ContentSpec("text"),
        "LAYOUT": ContentSpec("layout", strict=True),
    },
    islands={"ARGS": "python_kwargs"},
    skip_broken=frozenset({"ARGS"}),
    call_openers={"CALL_OPEN": _name_of},
    resync_before=frozenset({"LIST_OPEN", "PY_START"}),
    resync_after=frozenset({"LIST_CLOSE", "PY_END"}),
    block_names=block_names(
        "LAYOUT",
        ARGS="keyword arguments",
        LIST_OPEN="'[' before a call",
        CALL_OPEN="a call NAME(",
        COMMA="','",
        LIST_CLOSE="']'",
    ),
)
