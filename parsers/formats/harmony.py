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
* **Calls.** A ``to=functions.NAME`` recipient, after the role or after the channel
  (at most one), on any channel, makes the body the JSON arguments object; the name
  is the text after ``functions.`` up to whitespace or ``<`` (never empty).
  ``tool_call_start`` comes when the name ends (at the next delimiter),
  ``tool_call`` at the ``}`` that ends the JSON, whether or not ``<|call|>`` (the stop
  token, usually stripped) or ``<|end|>`` follows; the span runs from the recipient
  (its leading space included) to that ``}``.  Whitespace after the JSON is allowed; any
  other text there is an error.  Content types (`` <|constrain|>json``, a glued
  ``<|constrain|>json``, plain `` json``/`` code``, or none) are accepted on every
  header and ignored.
* **Built-in tools.** Recipients ``browser.*``, ``python`` and ``container.*`` address
  tools the serving side runs itself; they are not function calls.  Such a message
  is reported as one error at the first character after its ``<|message|>``
  (``unexpected_text``, or ``truncated`` if the output ends there) and dropped up to
  its closer; nothing of it reaches text, reasoning or calls.  (Reporting them as
  ``ProviderToolCall`` events would need a core mechanism: call openers whose calls
  the driver emits as provider calls, exempt from ``unknown_tool``.)
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
"""

from __future__ import annotations

from ..grammar import ContentSpec, FormatSpec

_WORD = r"[^\s<]"
"""One character of a recipient or a content type: they end at whitespace or ``<``."""


def _name_follows(recipient: str) -> None:
    """`` to=functions.`` opens the call; the name is the ``NAME`` capture after it."""
    return None


SPEC = FormatSpec(
    name="harmony",
    grammar="harmony.lark",
    description="gpt-oss channels (analysis, commentary, final), to=functions.NAME JSON calls",
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
        "TOOL_WORD": ContentSpec("layout", allowed=_WORD),
        "ROLE_WORD": ContentSpec("layout", allowed=_WORD),
        "LAYOUT": ContentSpec("layout", strict=True),
        # Never matches a character: a message to a built-in tool is always an error.
        "BUILTIN_BODY": ContentSpec("layout", allowed="(?!)"),
    },
    islands={"ARGS": "json_call"},
    call_openers={"TO_FUNCTION": _name_follows},
    envelope="arguments",
    resync_before=frozenset({"START", "CH_ANALYSIS", "CH_COMMENTARY", "CH_FINAL"}),
    resync_after=frozenset({"END", "CALL", "RETURN"}),
    block_names={
        "REASONING": "analysis text",
        "PREAMBLE": "message text",
        "TEXT": "message text",
        "LAYOUT": "whitespace",
        "ARGS": "JSON arguments",
        "BUILTIN_BODY": (
            "nothing: messages to built-in tools (browser.*, python, container.*) "
            "are not function calls"
        ),
        "NAME": "a tool name",
        "ROLE_NAME": "a tool name",
        "TYPE_WORD": "a content type",
        "TOOL_WORD": "a built-in tool name",
        "ROLE_WORD": "a built-in tool name",
        "TO_FUNCTION": "to=functions.",
        "TO_BUILTIN": "to=browser/python/container",
        "CONSTRAIN": "<|constrain|>",
        "CTYPE": "a content type (json, code)",
        "MESSAGE": "<|message|>",
    },
)
