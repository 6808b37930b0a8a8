"""A format = a Lark grammar + a small mapping; this module compiles the pair.

The grammar (``grammars/<name>.lark``, loaded as a package resource) defines the
structure.  Its terminals are of three kinds, named by the format's ``FormatSpec``:

* **content** terminals (``%declare``d): text streamed out as deltas, or layout
  (whitespace that must match a pattern and is dropped);
* **island** terminals (``%declare``d): a span handed to a sub-parser that says where
  it ends (the JSON engine);
* **delimiters**: every other terminal, a literal or a short pattern.

For every LALR state we precompute what the incremental lexer needs: the delimiters
acceptable there, the content or island terminal acceptable there, one regex that
finds the next character where any of them could start, and which stray delimiters
are errors rather than text.  Lark's parse table gives the acceptable terminals of a
state; the lexer never calls ``accepts()`` on the hot path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

from lark import Lark

from .delimiters import Delimiter, first_char_regex, monotone, prefix_closure

__all__ = ["CompiledGrammar", "ContentSpec", "FormatSpec", "LexState"]

ContentKind = Literal["text", "reasoning", "layout", "name", "id", "key", "value"]


@dataclass(frozen=True)
class ContentSpec:
    """How one content terminal is treated."""

    kind: ContentKind
    """``text`` and ``reasoning`` become blocks of deltas; ``layout`` is dropped;
    ``name``, ``id`` and ``key`` are captured (bounded by the hold-back limit) and set
    the open call's tool name, call id, or the key of its next argument when the run
    ends; ``value`` is captured (bounded by the argument-size limit) as the raw value
    of that argument, typed by the tool's schema."""
    allowed: str | None = None
    """For layout and captures: regex of one allowed character (anything else is an
    error)."""
    strict: bool = False
    """True: delimiters of the format that are not acceptable here are reported as
    ``unexpected_tag`` instead of being taken as text."""
    strip_leading: str = ""
    """Characters dropped at the start of a run (template separators such as the
    newline after ``<think>``)."""
    strip_trailing: str = ""
    """Characters held at the end of a run and dropped if the run ends at one of
    ``strip_before`` (the newline before ``</think>``); otherwise delivered."""
    strip_before: frozenset[str] | None = None
    """Delimiters before which trailing characters are dropped (None: any)."""
    strip_at_end: bool = False
    """Trailing ``strip_trailing`` characters are dropped at the end of the input too
    (templates that strip the whole message, GLM's ``.strip()``)."""


@dataclass(frozen=True)
class FormatSpec:
    """Everything a format adds to the core: its grammar file and this mapping."""

    name: str
    grammar: str
    """File name in the ``toolwire.grammars`` package."""
    description: str
    models: str
    """The model families the format covers (shown by ``toolwire formats``)."""
    content: Mapping[str, ContentSpec]
    islands: Mapping[str, str]
    """Island terminal -> island kind (``json_call``)."""
    call_openers: Mapping[str, Callable[[str], str | None]]
    """Delimiter terminals that open a tool call -> function giving the tool name from
    the delimiter's text (None when the name comes later)."""
    builtin_openers: frozenset[str] = frozenset()
    """Call openers that address a built-in tool of the model (gpt-oss
    ``to=browser.search``, ``to=python``): the call's ``tool_call_start`` and
    ``tool_call`` carry ``builtin=True`` (islands get ``builtin=``), and ``tools=``
    does not filter it (``unknown_tool``): the client lists its own tools there."""
    envelope: Literal["arguments", "envelope", "auto"] = "arguments"
    """How a JSON call body without a name from its delimiter is read."""
    envelope_id_key: str | None = None
    """An extra envelope key carrying the call id (Mistral Nemo's ``"id"``)."""
    key_from: Mapping[str, Callable[[str], str]] = field(default_factory=dict)
    """Delimiters that carry the key of the next argument (``<parameter=KEY>``)."""
    value_type_from: Mapping[str, Callable[[str], str | None]] = field(default_factory=dict)
    """Delimiters that open a value and declare its type (DSML ``string="true"``,
    Kimi K3 ``type="number"``) -> function giving the declared type from the
    delimiter's text: ``"string"`` (the raw text is the value, verbatim), ``"json"``
    (JSON text of any type), ``"json_or_raw"`` (JSON text; text that is not JSON is
    kept as the raw string, with an ``invalid_json`` error, and the call stands), a
    JSON type name (JSON text of that type: ``number`` admits integers), or None
    (nothing declared: the tool schema types the value).
    A declaration wins over the schema, which is not consulted for that value (the
    model's own markup says what it wrote).  JSON text that does not parse is an
    ``invalid_json`` error at its offending character, a parsed value of another
    type an ``invalid_arguments`` error at the value's start; either drops the call
    (``calls.declared_value``), except text that ``json_or_raw`` keeps."""
    speculative_islands: frozenset[str] = frozenset()
    """Islands that may turn out not to be a call (Llama's bare JSON: ``{"total": 3}``
    is an answer): their events are withheld until the body completes as a valid
    call; otherwise the text is content of the state before the island's lead."""
    envelope_extra_keys: frozenset[str] = frozenset()
    """Envelope keys that are allowed and ignored (Llama's ``"type": "function"``)."""
    defer_start: frozenset[str] = frozenset()
    """Call openers whose name is recorded without starting the call yet, because an
    id may follow (Mistral's ``NAME[CALL_ID]ID``): ``tool_call_start`` then carries
    the model's id, like every later event of the call."""
    skip_broken: frozenset[str] = frozenset()
    """Islands inside lists: after a syntax error the rest of the broken body is
    skipped (brackets counted outside strings) and parsing goes on with the next
    element, instead of restarting at the next resync delimiter."""
    island_lead: frozenset[str] = frozenset()
    """Delimiters whose text is the first text of the island that follows (a ``{``
    that both announces a JSON body and begins it)."""
    call_closers: frozenset[str] = frozenset()
    """Delimiters that complete a call assembled from ``key``/``value`` captures."""
    name_from_id: Callable[[str], str | None] | None = None
    """For formats whose call id carries the name (Kimi ``functions.NAME:IDX``): when an
    ``id`` capture ends, the model's id (stripped) becomes the call id and this gives
    the name from it, so ``tool_call_start`` carries both.  A blank id derives nothing
    (the call keeps ``call_<index>`` and has no name yet)."""
    resync_before: frozenset[str] = frozenset()
    """After an error, parsing restarts at the next of these delimiters (kept)."""
    resync_after: frozenset[str] = frozenset()
    """... or just after the next of these (consumed)."""
    block_names: Mapping[str, str] = field(default_factory=dict)
    """Human names of delimiters, for messages (``TOOL_OPEN`` -> ``<tool_call>``)."""


@dataclass(frozen=True, slots=True)
class LexState:
    """What the lexer needs in one LALR state."""

    delimiters: tuple[Delimiter, ...]
    """Acceptable delimiters."""
    strays: tuple[Delimiter, ...]
    """Delimiters recognised here only to be reported as errors (or to resync at)."""
    find: Callable[..., re.Match[str] | None] | None
    """``search(text, pos)`` for the next character where any of them may start."""
    starts: Callable[..., re.Match[str] | None] | None
    """``match(text, pos)``: one of them matches at ``pos``, or ``text[pos:]`` is a
    prefix of one (group ``cut``); a ``find`` hit that fails it is content (the hot
    paths' check)."""
    content: str | None
    """The acceptable content terminal, if any."""
    content_spec: ContentSpec | None
    layout_ok: Callable[..., re.Match[str] | None] | None
    """For layout content: ``fullmatch`` of allowed text."""
    island: str | None
    """The acceptable island terminal, if any."""
    accepts_end: bool
    expected: tuple[str, ...]
    """Acceptable terminal names, for messages."""


class CompiledGrammar:
    """A loaded format: the Lark LALR tables plus one LexState per parser state."""

    def __init__(self, spec: FormatSpec) -> None:
        self.spec = spec
        text = resources.files("toolwire.grammars").joinpath(spec.grammar).read_text("utf-8")
        self.lark = Lark(text, parser="lalr", lexer="contextual", start="start")
        parser = self.lark.parser.parser.parser
        self.parse_table = parser.parse_table
        self.rules = parser.callbacks if hasattr(parser, "callbacks") else None
        declared = set(spec.content) | set(spec.islands)
        self.delimiters: dict[str, Delimiter] = {}
        for term in self.lark.terminals:
            if term.name in declared:
                continue
            pat = term.pattern
            if pat.type == "str":
                self.delimiters[term.name] = Delimiter.build(
                    term.name, re.escape(pat.value), pat.value
                )
            else:
                self.delimiters[term.name] = Delimiter.build(term.name, pat.to_regexp(), None)
        self.resync_delimiters = tuple(
            self.delimiters[n] for n in sorted(spec.resync_before | spec.resync_after)
        )
        self.resync_find = _finder(self.resync_delimiters)
        self.states: dict[int, LexState] = {
            state: self._lex_state(actions) for state, actions in self.parse_table.states.items()
        }
        self._check_content_runs()
        self.start_state: int = self.parse_table.start_states["start"]
        self.end_state: int = self.parse_table.end_states["start"]
        self.rule_callbacks = {rule: _drop for rule in self.lark.rules}

    def _lex_state(self, actions: Mapping[str, Any]) -> LexState:
        names = [t for t in actions if t.isupper() or t == "$END"]
        delimiters = tuple(self.delimiters[n] for n in names if n in self.delimiters)
        contents = [n for n in names if n in self.spec.content]
        islands = [n for n in names if n in self.spec.islands]
        if len(contents) > 1 or len(islands) > 1 or (contents and islands):
            raise ValueError(
                f"{self.spec.grammar}: a state accepts several content/island terminals "
                f"({contents + islands}); the lexer could not tell them apart"
            )
        content = contents[0] if contents else None
        cspec = self.spec.content[content] if content else None
        strays: tuple[Delimiter, ...] = ()
        if cspec is None or cspec.strict:
            strays = tuple(d for n, d in self.delimiters.items() if n not in names)
        layout_ok = None
        if cspec is not None and (cspec.kind == "layout" or cspec.allowed):
            allowed = cspec.allowed or r"[ \t\r\n]"
            layout_ok = re.compile("(?:" + allowed + ")*").fullmatch
        return LexState(
            delimiters=delimiters,
            strays=strays,
            find=_finder(delimiters + strays),
            starts=_starter(delimiters + strays),
            content=content,
            content_spec=cspec,
            layout_ok=layout_ok,
            island=islands[0] if islands else None,
            accepts_end="$END" in names,
            expected=tuple(sorted(names)),
        )

    def _check_content_runs(self) -> None:
        """A content run reaches the parser as one token, but may arrive over several
        chunks: the state after the token must accept the same content, or the rest of
        the run would be an error in one chunking and not another.  Grammars write
        ``X*`` for content, never ``X`` or ``X?``."""
        for state, actions in self.parse_table.states.items():
            content = self.states[state].content
            if content is None:
                continue
            action, target = actions[content]
            if action.name == "Shift" and self.states[target].content != content:
                raise ValueError(
                    f"{self.spec.grammar}: content {content} must be repeatable where it "
                    f"occurs (write {content}*): a run split across chunks would not parse"
                )

    def describe(self, terminal: str) -> str:
        """A terminal as a user would write it."""
        if terminal in self.spec.block_names:
            return self.spec.block_names[terminal]
        d = self.delimiters.get(terminal)
        if d is not None and d.literal is not None:
            return d.literal
        if terminal == "$END":
            return "end of input"
        return terminal


def _finder(
    delimiters: tuple[Delimiter, ...],
) -> Callable[..., re.Match[str] | None] | None:
    if not delimiters:
        return None
    firsts = dict.fromkeys(first_char_regex(d.pattern) for d in delimiters)
    return re.compile("|".join(firsts)).search


def _starter(
    delimiters: tuple[Delimiter, ...],
) -> Callable[..., re.Match[str] | None] | None:
    if not delimiters or not all(monotone(d.pattern) for d in delimiters):
        return None
    whole = "|".join(dict.fromkeys(f"(?:{d.pattern})" for d in delimiters))
    cut = "|".join(dict.fromkeys(f"(?:{prefix_closure(d.pattern)})" for d in delimiters))
    return re.compile(f"{whole}|(?P<cut>(?:{cut})\\Z)").match


def _drop(children: Any) -> None:
    """Rule callback: the driver maps terminals to events, so no tree is built and
    memory stays bounded however long the stream is."""
    return None
