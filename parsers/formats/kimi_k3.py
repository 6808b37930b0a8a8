"""``kimi-k3``: Kimi-K3's "XTML" markup (FORMATS.md 6.2 and 12).

Control tokens ``<|open|>``, ``<|close|>``, ``<|sep|>`` frame elements whose names and
attributes are ordinary text; an assistant message is::

    <|open|>message role="assistant"<|sep|>
    <|open|>think<|sep|>REASONING<|close|>think<|sep|>
    <|open|>response<|sep|>CONTENT<|close|>response<|sep|>
    <|open|>tools<|sep|><|open|>call tool="fetch_row" index="1"<|sep|>
    <|open|>argument key="id" type="number"<|sep|>7<|close|>argument<|sep|>
    <|close|>call<|sep|><|close|>tools<|sep|><|close|>message<|sep|><|end_of_msg|>

all on one line (the template puts nothing between elements).  The grammar
(``grammars/kimi_k3.lark``) decides every ambiguity; decisions:

Values: typed by their ``type=`` attribute, not by the tool schema
--------------------------------------------------------------------
* The argument opener declares the value's type (``FormatSpec.value_type_from``, the
  core's mechanism shared with DSML): ``type="string"`` keeps the body verbatim (no
  escaping, whitespace is data); ``number``, ``boolean``, ``null``, ``object`` and
  ``array`` bodies are JSON text of that type (``number`` admits integers, exact at
  any size); any other type name is JSON text of any type; no ``type=`` declares
  nothing, and the tool schema types the value (FORMATS.md 0.1).
* The declaration wins over ``tools=``: the schema is not consulted for a declared
  value (``type="string"`` ``7`` stays ``"7"`` under an integer schema).  The model's
  markup says what it wrote; checking arguments against the schema is the tool's job.
* A JSON body that does not parse is an ``invalid_json`` error at its offending
  character; one of another JSON type than declared (``type="number"`` with
  ``"7"``) an ``invalid_arguments`` error at the body's first character.  Either
  drops the call; parsing resumes at the next call, and the other calls count.
* The whole-object form ``<|open|>json type="object"<|sep|>{…}<|close|>json<|sep|>``
  (rendered by the template; whether models write it is unverified) is a JSON body
  read by the JSON engine: the call completes at its closing ``}``, and its ``raw``
  is the JSON text.  The call opener and the json opener form one delimiter.
* In text, a value ends at the first ``<|close|>argument<|sep|>``: the encoder
  disallows special tokens in bodies, so a value may hold that text, but only token
  ids can tell (FORMATS.md 6.2).  Fed the ids (``toolwire.parser("kimi-k3",
  tokenizer=tok)``, ``token_parser.py``), the closer counts only where its
  ``<|close|>`` and ``<|sep|>`` are special ids, so such a value comes back whole.
  Other element text inside a value is data.

Calls
-----
* ``<|open|>call tool="NAME" index="N"<|sep|>``: the name is the ``tool`` attribute
  with ``&amp;`` and ``&quot;`` unescaped (keys too); ``index`` (1-based, per
  message) is not an id: calls keep ``call_<index>`` ids, 0-based over the stream.
* The call completes at the last ``>`` of ``<|close|>call<|sep|>``: ``tool_call``
  comes out of the feed that delivers it, and the input may end there (a client that
  stops generating at the event).  A call cut before it is a ``truncated`` error at
  ``close()``; earlier calls stay.
* A call outside a tools element opens an implicit one (this is also where parsing
  restarts after an error, so one broken call does not lose the next).
* Whitespace between calls and between arguments is tolerated and dropped; other
  text there is an ``unexpected_text`` error.

Text and reasoning
------------------
* Reasoning is the think element's body, content the response element's body, both
  verbatim (FORMATS.md 12: no separators).  Element names and ``<|sep|>`` are never
  content.  Whitespace between elements is dropped.
* A think or response element whose closer is missing ends at the next element
  opener (models skip ``<|close|>think<|sep|>`` and answer with
  ``<|open|>response<|sep|>``), at the message closer, or at the end of the input,
  without an error: a cut inside the think element is reasoning.
* ``generation_prompt``: ``<|open|>message role="assistant"<|sep|><|open|>think<|sep|>``
  (thinking, the default: the output starts in reasoning) or
  ``…<|open|>response<|sep|>`` (thinking off: starts in content).  Without a prompt
  the output may start with the message opener or any element; text before the
  first element is content, and a control-token element out of place there (a
  ``<|close|>think<|sep|>`` from a prompt-less thinking output) is an
  ``unexpected_tag`` error.
* The message closer and ``<|end_of_msg|>`` end the output; only whitespace may
  follow.
* Errors (lenient mode) resynchronise at the next message, think, response, tools
  or call opener, or just after the next ``<|close|>tools<|sep|>``.
"""

from __future__ import annotations

import re

from ..engine.grammar import ContentSpec, FormatSpec
from ._common import block_names

_ATTR = re.compile(r' ([a-z_]+)="([^"\n]*)"')
_ENTITY = re.compile(r"&(amp|quot);")
_JSON_TYPES = frozenset({"number", "boolean", "null", "object", "array"})


def _attrs(tag: str) -> dict[str, str]:
    """Attributes in ``tag``, unescaped (``&amp;``, ``&quot;``); the first of a name
    wins (the call's, in a call opener joined with a json opener).  A value holds no
    ``"``, so scanning from the left never starts inside one, even when it holds
    ``<|sep|>`` text."""
    out: dict[str, str] = {}
    for k, v in _ATTR.findall(tag):
        out.setdefault(k, _ENTITY.sub(lambda m: "&" if m.group(1) == "amp" else '"', v))
    return out


def _tool(tag: str) -> str | None:
    return _attrs(tag).get("tool")


def _key(tag: str) -> str:
    return _attrs(tag).get("key", "")


def _declared(tag: str) -> str | None:
    """``string`` and the JSON type names as such; other names: any JSON; none: the
    schema decides."""
    kind = _attrs(tag).get("type")
    if kind is None:
        return None
    return kind if kind == "string" or kind in _JSON_TYPES else "json"


_ELEMENTS = {
    "MSG_OPEN": '<|open|>message role="assistant"<|sep|>',
    "MSG_CLOSE": "<|close|>message<|sep|>",
    "END": "<|end_of_msg|>",
    "CALL_OPEN": '<|open|>call tool="NAME" index="N"<|sep|>',
    "CALL_JSON_OPEN": '<|open|>call tool="NAME"<|sep|><|open|>json type="object"<|sep|>',
    "ARG_OPEN": '<|open|>argument key="KEY" type="TYPE"<|sep|>',
}

SPEC = FormatSpec(
    name="kimi-k3",
    grammar="kimi_k3.lark",
    description=(
        "<|open|>call tool=…<|sep|> / <|open|>argument key=… type=…<|sep|> elements, "
        "values raw or JSON by type="
    ),
    models="Kimi-K3",
    content={
        "TEXT": ContentSpec("text", strict=True),
        "CONTENT": ContentSpec("text"),
        "REASONING": ContentSpec("reasoning"),
        "GAP": ContentSpec("layout"),
        "PAD": ContentSpec("layout"),
        "APAD": ContentSpec("layout"),
        "VALUE": ContentSpec("value"),
    },
    islands={"ARGS": "json_call"},
    call_openers={"CALL_OPEN": _tool, "CALL_JSON_OPEN": _tool},
    key_from={"ARG_OPEN": _key},
    value_type_from={"ARG_OPEN": _declared},
    call_closers=frozenset({"CALL_CLOSE"}),
    resync_before=frozenset(
        {"MSG_OPEN", "THINK_OPEN", "RESP_OPEN", "TOOLS_OPEN", "CALL_OPEN", "CALL_JSON_OPEN"}
    ),
    resync_after=frozenset({"TOOLS_CLOSE"}),
    block_names=block_names(
        "GAP",
        "PAD",
        "APAD",
        CONTENT="response text",
        VALUE="argument value",
        ARGS="JSON arguments",
        **_ELEMENTS,
    ),
)
