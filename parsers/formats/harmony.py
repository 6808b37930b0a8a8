"""``harmony``: gpt-oss-20b, gpt-oss-120b (FORMATS.md sections 4 and 12).

A message is ``<|start|>assistant[ to=R]<|channel|>C[ to=R][CTYPE]<|message|>BODY``
closed by ``<|end|>``, ``<|call|>`` or ``<|return|>``.  The grammar
(``grammars/harmony.lark``) spells channels and recipients as delimiters so that the
parser state after ``<|message|>`` says what the body is.  Decisions:

* **Start state.** The prompt normally ends with ``<|start|>assistant`` (give it as
  ``generation_prompt``); without it the output may begin with ``<|start|>assistant``
  or directly inside a header (``<|channel|>...`` or `` to=functions.NAME<|channel|>``),
  so both are accepted.  ``<|start|>assistant`` may be omitted before any message.
* **Channels.** ``analysis`` bodies are reasoning; ``final`` bodies and recipient-less
  ``commentary`` bodies (preambles) are text.  Each message is one block; bodies are
  exact (no trimming).  Other channel names are errors (``unexpected_text``).
* **Calls.**  A recipient, after the role or after the channel (at most one), on
  any channel, makes the message a call.  ``to=functions.NAME`` names the call by
  the text after ``functions.`` up to whitespace or ``<`` (never empty).  A
  recipient in another namespace of the developer's tools, ``to=NS.NAME``
  (``to=math.sum``), is a call named with the full dotted name, ``math.sum``, as
  openai-harmony gives it (the namespace is part of the tool's identity: a
  ``stats.sum`` is another tool).  A bare word (``to=get_weather``) or
  ``to=functions.`` alone is no recipient: ``unexpected_text``, the message
  dropped.  The body is the JSON arguments object; ``tool_call_start`` comes when
  the name ends (at the next delimiter), ``tool_call`` at the ``}`` that ends the
  JSON, whether or not ``<|call|>`` (the stop token, usually stripped) or
  ``<|end|>`` follows; the span runs from the recipient (its leading space
  included) to that ``}``.  Whitespace after the JSON is allowed; any other text
  there is an error.  Content types (`` <|constrain|>json``, a glued
  ``<|constrain|>json``, plain `` json``/`` code``, or none) are accepted on every
  header and ignored.
* **Built-in tools.**  ``browser.*`` (``search``, ``open``, ``find``),
  ``container.*`` (``exec``) and ``python`` are gpt-oss's built-in tools, declared in
  the system message, not in ``tools=``; the client runs them (the gpt-oss
  reference implementations, vLLM's built-in tool servers) and feeds the result
  back.  They are reported as ordinary calls named with the full recipient
  (``browser.search``, ``python``) whose ``tool_call_start`` and ``tool_call`` carry
  ``builtin=True`` (``FormatSpec.builtin_openers``): a loop stops at them and
  routes them to its built-in implementations; ``tools=`` does not filter them
  (never ``unknown_tool``).  Not ``provider_tool_call``: that is a tool the
  provider already ran, and nobody has run these yet.  ``tool_call_start`` comes
  at the recipient, which names the call.  A recipient in ``functions.``
  (``to=functions.python``) is the developer's function, never a built-in, and so
  is ``to=pythonic.run`` or a ``browser.`` name past 64 characters.
* **The python tool's body is raw code**, not JSON (content type ``code``; the
  body is what runs in the notebook).  Its arguments are ``{"code": BODY}`` (the
  shape of llama.cpp's raw-python calls and of the Responses API's
  ``code_interpreter_call.code``); ``raw`` and the ``tool_call_delta`` events are
  the code, verbatim (no trimming).  Marker text is code, except the body's
  closers: the code ends at the first ``<|call|>`` or ``<|end|>`` (at the text
  level a literal one in a string cannot be told from the real one, as for
  ``<|end|>`` in analysis text); the call is complete, and ``tool_call`` comes out,
  at that closer's ``>``.  When the closer was stripped (the stop token
  ``<|call|>``, the usual case), the code ends with the output: ``tool_call``
  comes out of ``close()``, with the code as it stands, and the span ends at the
  end of the input.  The text cannot tell that from a ``max_tokens`` cut inside
  the code: a client that knows the engine stopped for length must not run it.
  The code and its closer count against ``max_argument_size``.
* Built-in JSON bodies (``browser.*``, ``container.*``) are read like function
  arguments (an object; invalid JSON is ``invalid_json`` and drops the call).
* **Marker text in bodies.** Only the closers valid for the header end a body:
  ``<|end|>`` (and ``<|return|>`` for ``final``) for bodies without recipient, where
  ``<|call|>``, ``<|start|>``, ``<|channel|>``, ``<|message|>`` and ``<|constrain|>``
  are text; a JSON body ends at its value's last character, so markers inside JSON
  strings are argument text.  A literal ``<|end|>`` inside analysis text is
  undecidable at the text level and closes the message.
* **Recovery.** After an error (a garbled or unknown header, text between messages,
  invalid JSON) parsing restarts at the next ``<|start|>assistant`` or
  ``<|channel|>NAME``, or just after the next ``<|end|>``, ``<|call|>`` or
  ``<|return|>``: the broken message is dropped.  A delimiter that does not belong
  where it stands in a header (a second recipient, a second content type) is an
  error too, and the message is dropped.
* **Truncation.** Output cut inside a header is an error, never a call; earlier
  messages stand.  The code is ``truncated``, or ``unexpected_text`` when the cut
  falls inside a special token or recipient prefix (its beginning is then text where
  only a delimiter may stand); a cut inside the name still emits ``tool_call_start``
  with the name so far.  A body cut without its closer is complete reasoning or
  text, but a JSON body cut before its value ends is ``truncated``, never a call.
  A ``python`` message that ends at its ``<|message|>`` (no code at all, no closer)
  is ``truncated`` too; with any code, see above.
"""

from __future__ import annotations

from functools import partial

from ..engine.code_island import CodeBody, CodeRules
from ..engine.grammar import ContentSpec, FormatSpec
from ..engine.islands import ISLAND_KINDS

_WORD = r"[^\s<]"
"""One character of a recipient or a content type: they end at whitespace or ``<``."""


def _name_follows(recipient: str) -> None:
    """`` to=functions.`` / `` to=`` opens the call; the name is the capture after it."""
    return None


def _builtin_name(recipient: str) -> str:
    """`` to=browser.search`` -> ``browser.search``."""
    return recipient.strip(" \t").removeprefix("to=")


CODE_RULES = CodeRules(
    ("<|call|>", "<|end|>"), "<|call|>", counts_held=True, held_is_code_at_end=True, what="code"
)
"""The python tool's raw-code body: code up to ``<|call|>`` or ``<|end|>``; held text
and the closer count against ``max_argument_size``; a tail held back as a possible
closer is code at the end of input (the stop token was stripped)."""

ISLAND_KINDS.setdefault("harmony_code", partial(CodeBody, rules=CODE_RULES))
"""Registered here: only this format's grammar names it."""


SPEC = FormatSpec(
    name="harmony",
    grammar="harmony.lark",
    description=(
        "gpt-oss channels (analysis, commentary, final), to=functions.NAME JSON calls, "
        "built-in browser / python / container calls"
    ),
    models="gpt-oss-20b, gpt-oss-120b",
    content={
        "REASONING": ContentSpec("reasoning"),
        "PREAMBLE": ContentSpec("text"),
        "TEXT": ContentSpec("text"),
        # Not strict: a delimiter that does not fit after a name or a type word is an
        # invalid character there, so the header is dropped (recovery), not skipped.
        "NAME": ContentSpec("name", allowed=_WORD),
        "ROLE_NAME": ContentSpec("name", allowed=_WORD),
        "TYPE_WORD": ContentSpec("layout", allowed=_WORD),
        "LAYOUT": ContentSpec("layout", strict=True),
    },
    islands={"ARGS": "json_call", "CODE": "harmony_code"},
    call_openers={
        "TO_FUNCTION": _name_follows,
        "TO_TOOL": _name_follows,
        "TO_BUILTIN": _builtin_name,
        "TO_PYTHON": _builtin_name,
    },
    builtin_openers=frozenset({"TO_BUILTIN", "TO_PYTHON"}),
    envelope="arguments",
    resync_before=frozenset({"START", "CH_ANALYSIS", "CH_COMMENTARY", "CH_FINAL"}),
    resync_after=frozenset({"END", "CALL", "RETURN"}),
    block_names={
        "REASONING": "analysis text",
        "PREAMBLE": "message text",
        "TEXT": "message text",
        "LAYOUT": "whitespace",
        "ARGS": "JSON arguments",
        "CODE": "python code",
        "NAME": "a tool name",
        "ROLE_NAME": "a tool name",
        "TYPE_WORD": "a content type",
        "TO_FUNCTION": "to=functions.",
        "TO_TOOL": "to=NAMESPACE.",
        "TO_BUILTIN": "to=browser.* / container.*",
        "TO_PYTHON": "to=python",
        "CONSTRAIN": "<|constrain|>",
        "CTYPE": "a content type (json, code)",
        "MESSAGE": "<|message|>",
    },
)
