# ruff: noqa: RUF001, RUF002  (the fullwidth bar U+FF5C is part of DeepSeek's tokens)
"""DeepSeek DSML: ``deepseek-v3.2`` and ``deepseek-v4`` (FORMATS.md 5.4, 5.5, 12).

One module, two specs, one grammar each (``grammars/deepseek_v3_2.lark``,
``grammars/deepseek_v4.lark``: the same rules, V4's block names and V4.1's optional
space after the DSML piece).  A call is XML-like markup whose tag names carry the
``｜DSML｜`` piece (fullwidth bars)::

    \\n\\n<｜DSML｜function_calls>
    <｜DSML｜invoke name="fetch_row">
    <｜DSML｜parameter name="id" string="false">7</｜DSML｜parameter>
    <｜DSML｜parameter name="note" string="true">2 > 1
    </｜DSML｜parameter>
    </｜DSML｜invoke>
    </｜DSML｜function_calls>

V4 names the block ``<｜DSML｜tool_calls>``; V4.1 writes ``<｜DSML｜ calls>``,
``<｜DSML｜ invoke …>``, ``<｜DSML｜ parameter …>`` (a space after the DSML piece).
``deepseek-v4`` accepts all three spellings, tag by tag.

Values: typed by their tag, not by the tool schema
----------------------------------------------------
* The parameter tag declares the value's type (``FormatSpec.value_type_from``, the
  core's mechanism shared with ``kimi-k3``): ``string="true"`` keeps the raw text
  verbatim, whitespace included (leading spaces and a trailing newline are data:
  FORMATS.md 12 lists no markup whitespace); ``string="false"`` is JSON text of any
  type, parsed strictly (no ``NaN``; integers exact at any size).
* The declaration wins over ``tools=``: a ``string="true"`` value ``7`` stays the
  string ``"7"`` even where the schema says integer, and a ``string="false"`` value
  keeps the JSON type it was written in.  The model's own markup says what it
  wrote; checking arguments against the schema is the tool's job, not the parser's.
* ``string="false"`` text that is not JSON (``<…parameter name="path"
  string="false">/tmp/a.txt</…parameter>``: models put the attribute on bare words
  and paths) keeps the call, with that value as the raw string, verbatim (what
  SGLang's DSML detector does), and is reported: lenient mode emits an
  ``invalid_json`` error naming the parameter at the offending character (when
  the value's closer arrives, before the call's ``tool_call``); strict mode raises
  it there.  A user is better served by the call than by losing it: the value is
  exactly what the model wrote, the error says it was not the JSON it declared,
  and a tool that needs a number still rejects a string (FORMATS.md 0.1 keeps an
  untypable value as a flagged string the same way).  The core mechanism is the
  declared type ``json_or_raw`` (``calls.JSON_OR_RAW``).
* A parameter tag without ``string=`` (not what the encoder writes) declares
  nothing: the tool schema types its value (FORMATS.md 0.1, ``schema_typing.py``).
* An empty ``string="true"`` value is ``""``.

Where things end
----------------
* A value ends at the first ``</｜DSML｜parameter>``: a closer inside a value cannot
  be told from a real one (FORMATS.md 5.4); every other tag inside a value, an
  invoke or block tag included, is data.
* The call completes at the ``>`` of ``</｜DSML｜invoke>`` (its arguments are final
  there): ``tool_call`` comes out of the feed that delivers it.  The input may end
  right after it (a client that stops generating at the event); otherwise the block
  closes at ``</｜DSML｜function_calls>``.
* A self-closing ``<｜DSML｜invoke name="NAME"/>`` (SGLang reports V4 writing it for
  tools without arguments; DeepSeek's encoder never does) is a call with ``{}``, in
  strict mode too: it is unambiguous.
* An invoke whose body is a JSON object instead of parameter tags (what engines
  also accept: SGLang's "formats 2-4") is read by the JSON engine: the call
  completes at its closing ``}`` and ``raw`` is the JSON text.  Tags without the
  DSML piece (``<invoke …>``) are not calls: visible text mentions such tags.
* An invoke with the block opener missing opens an implicit block (closed by the
  block closer); this is also where parsing restarts after an error inside a
  block, so one broken invoke does not lose the others.
* Between tags only whitespace is allowed (``\\n`` in the encoder's layout); other
  text there is an ``unexpected_text`` error.

Text and reasoning
------------------
* Content is verbatim except the encoder's separator: the ``\\n\\n`` before the
  block (present even without content), and any trailing whitespace of the text
  right before a block or invoke opener (FORMATS.md 12).  Text after the block is
  content.  Every delimiter holds the DSML piece, so visible text is strict: a
  stray DSML tag (``</｜DSML｜invoke>``, a parameter tag, a ``</think>`` with no
  open block) is an ``unexpected_tag`` error, never content.
* Reasoning is verbatim (no separators).  ``generation_prompt``:
  ``<｜Assistant｜><think>`` (thinking, the default: the output starts in
  reasoning and holds only ``</think>``) or ``<｜Assistant｜></think>`` (starts in
  content); after tool results ``…</function_results>\\n\\n<think>`` or ``…</think>``.
  Tags inside reasoning are reasoning text, except a block opener followed by an
  invoke head (a bounded look-ahead): that ends the reasoning and opens the block.
  An output cut inside reasoning delivers its reasoning, then a ``truncated`` error
  at ``close()``, as in the other DeepSeek formats.

Names and keys are the ``name="…"`` attributes, verbatim (the encoder does not
escape them; a name holds no ``"`` or newline).  ``raw`` (and the
``tool_call_delta`` events) is the markup between the invoke's opening and closing
tags as the model wrote it.
"""

from __future__ import annotations

import re

from ..engine.calls import JSON_OR_RAW
from ..engine.grammar import ContentSpec, FormatSpec
from ._common import block_names, text_before

_NAME = re.compile(r'name="([^"\n]*)"')
_STRING = re.compile(r'string="(true|false)"')
_CALL_STARTS = ("BLOCK_OPEN", "INVOKE_OPEN", "INVOKE_SELF", "INVOKE_JSON")
"""Where a call starts: whitespace before one is separator, and parsing resumes there."""


def _name(tag: str) -> str:
    """``<｜DSML｜invoke name="NAME">`` / ``<｜DSML｜parameter name="KEY" …>`` -> the name."""
    m = _NAME.search(tag)
    return m.group(1) if m else ""


def _declared(tag: str) -> str | None:
    """``string="true"``: a raw string; ``string="false"``: JSON text (kept raw, with
    an error, when it is not JSON); absent: the schema decides."""
    m = _STRING.search(tag)
    if m is None:
        return None
    return "string" if m.group(1) == "true" else JSON_OR_RAW


def _spec(name: str, grammar: str, block: str, models: str) -> FormatSpec:
    return FormatSpec(
        name=name,
        grammar=grammar,
        description=(
            f"DSML <｜DSML｜{block}> / invoke / parameter markup, values raw or JSON "
            'by string="true|false"'
        ),
        models=models,
        content={
            "TEXT": text_before(*_CALL_STARTS, strict=True),
            "REASONING": ContentSpec("reasoning"),
            "LAYOUT": ContentSpec("layout"),
            "PAD": ContentSpec("layout"),
            "JPAD": ContentSpec("layout"),
            "VALUE": ContentSpec("value"),
        },
        islands={"ARGS": "json_call"},
        call_openers={"INVOKE_OPEN": _name, "INVOKE_SELF": _name, "INVOKE_JSON": _name},
        key_from={"PARAM_OPEN": _name},
        value_type_from={"PARAM_OPEN": _declared},
        call_closers=frozenset({"INVOKE_CLOSE", "INVOKE_SELF"}),
        resync_before=frozenset(_CALL_STARTS),
        resync_after=frozenset({"BLOCK_CLOSE"}),
        block_names=block_names(
            "LAYOUT",
            "PAD",
            "JPAD",
            ARGS="JSON arguments",
            VALUE="parameter value",
            BLOCK_OPEN=f"<｜DSML｜{block}>",
            BLOCK_IN_THINK=f"<｜DSML｜{block}>",
            BLOCK_CLOSE=f"</｜DSML｜{block}>",
            INVOKE_OPEN='<｜DSML｜invoke name="NAME">',
            INVOKE_SELF='<｜DSML｜invoke name="NAME"/>',
            INVOKE_JSON='<｜DSML｜invoke name="NAME">{',
            INVOKE_CLOSE="</｜DSML｜invoke>",
            PARAM_OPEN='<｜DSML｜parameter name="KEY" string="true|false">',
            PARAM_CLOSE="</｜DSML｜parameter>",
        ),
    )


SPECS = (
    _spec(
        "deepseek-v3.2",
        "deepseek_v3_2.lark",
        "function_calls",
        "DeepSeek V3.2, V3.2-Exp, V3.2-Speciale",
    ),
    _spec(
        "deepseek-v4",
        "deepseek_v4.lark",
        "tool_calls",
        "DeepSeek V4-Flash, V4-Pro, V4.1 (spaced tags)",
    ),
)
