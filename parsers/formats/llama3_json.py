"""``llama3-json``: Llama 3.1, 3.2, 3.3 JSON tool calls (FORMATS.md section 8.1).

* A call is ``{"name": STRING, "parameters"|"arguments": OBJECT}`` (``"type":
  "function"`` allowed); several calls are separated by ``;`` or each prefixed with
  ``<|python_tag|>``; text, then ``<|python_tag|>``, then calls is text + calls.
* A message that *starts* with ``{`` is a call only if the object is one: the
  decision is possible only when the object closes, so its events are withheld until
  then (bounded by the object, never the stream); ``{"total": 3}`` or broken JSON is
  text, verbatim.  A message cut inside an object that has already shown call keys is
  a truncated call (an error), otherwise text.
* After ``<|python_tag|>`` the JSON must be a call: anything else is an error.
* Text after a call is content, verbatim.  Built-in tools
  (``brave_search.call(...)``) are not JSON: after ``<|python_tag|>`` they are an
  ``invalid_json`` error.
"""

from __future__ import annotations

from ..grammar import ContentSpec, FormatSpec


def _no_name(text: str) -> None:
    return None


SPEC = FormatSpec(
    name="llama3-json",
    grammar="llama3_json.lark",
    description="bare JSON calls {name, parameters}, optional <|python_tag|>, ';' separators",
    models="Llama 3.1, 3.2, 3.3 (and Llama 4 with the JSON tool prompt)",
    content={
        "TEXT": ContentSpec("text"),
    },
    islands={"BARE": "json_call", "TAGGED": "json_call"},
    call_openers={"LEAD": _no_name},
    envelope="envelope",
    envelope_extra_keys=frozenset({"type"}),
    island_lead=frozenset({"LEAD"}),
    speculative_islands=frozenset({"BARE"}),
    resync_before=frozenset({"PYTHON_TAG"}),
    block_names={"LEAD": "{", "SEMI": ";", "BARE": "JSON call", "TAGGED": "JSON call"},
)
