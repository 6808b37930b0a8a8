# ruff: noqa: RUF001  (the fullwidth bar U+FF5C is part of DeepSeek's tokens)
"""Which format a stream is in, from its first bytes (``toolwire.detect_format``).

Theory of operation
-------------------
A recorded stream or a dataset record seldom says its format, and parsing an OpenAI
SSE body as ``tags`` text reports it valid.  The start of a stream usually gives the
format away:

* **provider bodies** are framed: SSE lines (``data:``, ``event:``, ``id:``,
  ``retry:``, comments) or NDJSON objects.  The payload keys then tell the provider:
  ``choices`` (OpenAI Chat Completions and its copies), ``content_block_*`` /
  ``message_start`` events (Anthropic), ``response.*`` events (OpenAI Responses),
  ``candidates`` (Gemini), and NDJSON with ``done`` and ``message``/``response``
  (Ollama);
* **model output** carries its format's markers: harmony's channels, DeepSeek's
  fullwidth-bar tokens and DSML tags, Kimi's sections, Gemma's ``<|tool_call>``,
  GLM's ``<arg_key>``, Qwen3-Coder's ``<function=``, Mistral's ``[TOOL_CALLS]``,
  Llama's ``<|python_tag|>``, the ``tags`` elements, and failing all of these
  hermes' ``<tool_call>`` followed by JSON.  Formats that share markers are told
  apart by what only one of them writes (GLM 4.5's newline after the name;
  DeepSeek V3's ``function`` call type
  and fenced JSON, with ``<think>`` for R1); a head that fits two formats equally,
  or shows no marker (plain text, ``<think>`` alone), is ambiguous: ``None``.

Pure: it reads only the text it is given (no I/O), in one pass of a few searches.
"""

from __future__ import annotations

import json
import re

__all__ = ["detect_format"]

_SSE_FIELD = re.compile(rb"(?:data|event|id|retry)[ \t]*:|:")
_EVENT_NAME = re.compile(rb"^event:[ \t]*([A-Za-z_.]+)", re.MULTILINE)
_DATA_LINE = re.compile(rb"^data:[ \t]?(.*)$", re.MULTILINE)

_GLM_45 = re.compile(r"<tool_call>[^\n<>]{1,256}\n[ \t\r\n]*<arg_key>")
_GLM_47 = re.compile(r"<tool_call>[^\n<>]{1,256}<arg_key>")
_DEEPSEEK_V3_CALL = re.compile(r"<｜tool▁call▁begin｜>function<｜tool▁sep｜>|```json")
_LLAMA4_CALL = re.compile(r"\[[ \t\r\n]*[A-Za-z_][A-Za-z0-9_.]*\(")
_BARE_JSON_CALL = re.compile(r'\{[ \t\r\n]*"(?:name|type)"[ \t\r\n]*:')

# (format, markers): the first format with a marker in the head wins, so the more
# specific formats come first.  Families that share markers are decided after.
_MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("harmony", ("<|channel|>", "<|start|>", "<|message|>", "<|constrain|>")),
    ("deepseek-v3.2", ("<｜DSML｜function_calls>",)),
    ("deepseek-v4", ("<｜DSML｜tool_calls>", "<｜DSML｜calls>", "<｜DSML｜ ")),
    ("deepseek", ("<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>", "<｜tool▁sep｜>")),
    ("kimi-k2", ("<|tool_calls_section_begin|>", "<|tool_call_begin|>")),
    ("kimi-k3", ("<|open|>", "<|close|>")),
    ("gemma4", ("<|tool_call>", "<tool_call|>", "<channel|>")),
    ("glm", ("<arg_key>", "<arg_value>")),
    ("qwen3-coder", ("<function=", "<parameter=")),
    ("mistral", ("[TOOL_CALLS]", "[THINK]", "[/THINK]", "[ARGS]", "[CALL_ID]")),
    ("llama3-json", ("<|python_tag|>", "<|eom_id|>")),
    ("llama4-pythonic", ("<|python_start|>",)),
    ("tags", ("<analysis>", "</analysis>", "<final_answer>", "</final_answer>", "<tool_call name")),
)
_HERMES_CALL = re.compile(r"<tool_call>[ \t\r\n]*\{")
"""hermes: ``<tool_call>`` then JSON (Qwen3-Coder and GLM write ``<tool_call>`` too, then
their own markup)."""


def detect_format(head: str | bytes) -> str | None:
    """The format id of a stream that begins with ``head`` (a few KB is plenty), or
    None when the start does not tell (no marker, or markers of several formats)."""
    data = head if isinstance(head, bytes) else head.encode("utf-8", "surrogatepass")
    data = data.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if not data:
        return None
    provider = _provider(data)
    if provider is not None:
        return provider or None
    return _model(data.decode("utf-8", "replace"))


def _provider(data: bytes) -> str | None:
    """A provider id for a framed body; "" for a framed body of no known provider;
    None when the body is not framed (model output)."""
    if data[:1] == b"{":
        return _ndjson(data)
    if not _SSE_FIELD.match(data):
        return None
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")  # SSE's three line ends
    events = {m.group(1).decode() for m in _EVENT_NAME.finditer(data)}
    payloads = b"\n".join(m.group(1) for m in _DATA_LINE.finditer(data))
    if any(e.startswith("response.") for e in events) or b'"type":"response.' in payloads.replace(
        b" ", b""
    ):
        return "openai-responses"
    if events & {"message_start", "content_block_start", "content_block_delta", "ping"}:
        return "anthropic"
    compact = payloads.replace(b" ", b"")
    if b'"type":"message_start"' in compact or b'"type":"content_block_' in compact:
        return "anthropic"
    if b'"candidates":' in compact:
        return "gemini"
    if b'"choices":' in compact or b'"chat.completion.chunk"' in compact:
        return "openai-chat"
    return ""


def _ndjson(data: bytes) -> str | None:
    """Ollama's NDJSON, or None: a head starting with ``{`` that is not a framed body
    is model output (a bare JSON call)."""
    line = data.split(b"\n", 1)[0].strip()
    try:
        first = json.loads(line)
    except ValueError:
        first = None
    if isinstance(first, dict):
        if "done" in first and ("message" in first or "response" in first):
            return "ollama"
        if "choices" in first or "candidates" in first or ("type" in first and "model" in first):
            return ""  # a framed provider payload without SSE: no decoder reads it
        return None
    compact = line.replace(b" ", b"")
    if b'"done":' in compact and (b'"message":' in compact or b'"response":' in compact):
        return "ollama"
    return None


def _model(text: str) -> str | None:
    found = [fmt for fmt, markers in _MARKERS if any(m in text for m in markers)]
    if not found and _HERMES_CALL.search(text):
        found = ["hermes"]
    if "deepseek-v3.2" in found or "deepseek-v4" in found:
        found = [f for f in found if f != "deepseek"]
    if not found:
        stripped = text.lstrip()
        if _BARE_JSON_CALL.match(stripped):
            return "llama3-json"
        if _LLAMA4_CALL.search(stripped):  # a call list: ``[name(``
            return "llama4-pythonic"
        return None
    if len(found) > 1:
        return None
    fmt = found[0]
    if fmt == "deepseek":
        if _DEEPSEEK_V3_CALL.search(text):
            return "deepseek-r1" if "<think>" in text or "</think>" in text else "deepseek-v3"
        return "deepseek-v3.1"
    if fmt == "glm":
        if _GLM_45.search(text):
            return "glm-4.5"
        if _GLM_47.search(text):
            return "glm-4.7"
        return None
    return fmt
