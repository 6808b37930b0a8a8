"""``model_outputs``: text a model could write in a given format, generated from the
format's grammar, with the calls it must parse to, or deliberately broken.

Theory of operation
-------------------
1. The format's grammar is rewritten (``entries.py``): every rule that derives a tool
   call derives one placeholder terminal instead.
2. ``hypothesis.extra.lark.from_lark`` derives a document from it.  Declared content
   terminals get strategies by their kind in the format's spec (text, reasoning,
   layout); each drawn piece is wrapped in noncharacter markers, and each
   placeholder carries its drawn call (name and arguments) as JSON between markers.
3. The markers are taken out again: literal markup stays, each placeholder becomes
   ``Renderer.render_call(name, arguments)``, and content pieces are *repaired*: any
   delimiter the lexer would recognise where that content stands (a ``<think>``
   inside text, two pieces that join into a tag) loses its first character until
   none is left.  What remains parses to exactly the drawn calls.
4. A broken example breaks one call: cut inside it (``truncated``), one argument
   value replaced by text that is not a value (``invalid_arguments``), its
   completing character dropped (``missing_closer``) or its tool not in ``tools=``
   (``unknown_tool``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from hypothesis import assume
from hypothesis import strategies as st
from lark import Lark

from ..loop.renderers import renderer
from ..registry import compiled, is_provider
from ..values.schema_typing import ToolSchemas
from . import values
from .entries import CALL, ENTRIES, FormatEntry
from .values import MARKERS

__all__ = [
    "Breakage",
    "BreakageKind",
    "ExpectedCall",
    "ModelOutput",
    "generatable_formats",
    "model_outputs",
]

BreakageKind = Literal["truncated", "invalid_arguments", "missing_closer", "unknown_tool"]

_OPEN, _CLOSE, _CALL_OPEN, _CALL_CLOSE, _SEP = tuple(MARKERS)
_PIECES = re.compile(
    f"{_OPEN}([A-Z0-9_]+){_SEP}(.*?){_CLOSE}|{_CALL_OPEN}(.*?){_CALL_CLOSE}", re.DOTALL
)
_BROKEN_KEY = "zz_broken_value"
"""The key of the argument an ``invalid_arguments`` example breaks (longer than any
generated key, so it never collides)."""
_SENTINEL = "TOOLWIRE_SENTINEL_7f3a"
_SENTINEL_VALUE = re.compile(r"\[[^\[\]]{0,8}" + _SENTINEL + r"[^\[\]]{0,8}\]")
"""The written form of the one-element list ``[_SENTINEL]`` in any notation (JSON,
Python, Gemma's ``<|"|>`` strings): the value an ``invalid_arguments`` example
replaces, so the replacement stands exactly where a value stands."""


@dataclass(frozen=True, slots=True)
class ExpectedCall:
    """A call the output must parse to."""

    name: str
    arguments: dict[str, Any]
    id: str | None = None
    """The call id the stream carries, where the source has one (provider streams);
    None: not checked."""


@dataclass(frozen=True, slots=True)
class Breakage:
    """What is wrong with a broken output."""

    kind: BreakageKind
    call: int
    """Position of the broken call among the calls the output was written with."""
    name: str
    """The broken call's tool name."""
    detail: str
    """The text put in (invalid value, unknown name) or what was cut or dropped."""


@dataclass(frozen=True, slots=True)
class ModelOutput:
    """One generated output and what it must parse to."""

    format: str
    text: str
    calls: tuple[ExpectedCall, ...]
    """Valid: exactly the calls the parser must report, in order.  Broken: the
    well-formed calls written around the broken one (``calls[:broken.call]`` come
    before it); the broken call is never among them."""
    broken: Breakage | None = None
    tools: tuple[Mapping[str, Any], ...] | None = None
    """The ``tools=`` the output was generated for (pass them to the parser)."""

    @property
    def valid(self) -> bool:
        return self.broken is None


@dataclass(slots=True)
class _Piece:
    kind: Literal["markup", "content", "call"]
    text: str
    term: str = ""
    call: ExpectedCall | None = None


def model_outputs(
    format: str,
    tools: Sequence[Mapping[str, Any]] | None = None,
    *,
    broken: bool | None = False,
    kinds: Sequence[BreakageKind] | None = None,
) -> st.SearchStrategy[ModelOutput]:
    """A strategy for outputs of the text format ``format``, derived from its grammar.

    ``broken=False`` (default): well-formed outputs, which must parse with no error
    to exactly ``calls``.  ``broken=True``: one call is broken (``broken`` says
    how); the parser must report an error and never that call.  ``None``: either.
    ``tools``: OpenAI-style tool list; call names come from it and arguments follow
    each tool's parameter schema, and broken outputs may call an unknown tool.
    ``kinds`` restricts the breakages drawn.  ValueError for provider formats and
    formats not covered yet (see ``generatable_formats()``).
    """
    if is_provider(format):
        raise ValueError(f"{format!r} is a provider stream: use provider_streams()")
    entry = ENTRIES.get(format)
    if entry is None:
        raise ValueError(
            f"no model_outputs entry for format {format!r} yet; covered: "
            f"{', '.join(sorted(ENTRIES))}"
        )
    renderer(format)  # ValueError if the format has no renderer
    tool_list = tuple(tools) if tools is not None else None
    allowed = _breakages(entry, tool_list, kinds)
    if broken is not False and not allowed:
        raise ValueError(f"no breakage of {format!r} applies (kinds={kinds!r}, tools={tools!r})")
    return _outputs(format, entry, tool_list, broken, tuple(allowed))


def generatable_formats() -> list[str]:
    """Text formats ``model_outputs`` covers."""
    from ..registry import format_names

    return [f for f in format_names() if f in ENTRIES]


def _breakages(
    entry: FormatEntry,
    tools: tuple[Mapping[str, Any], ...] | None,
    kinds: Sequence[BreakageKind] | None,
) -> list[BreakageKind]:
    out: list[BreakageKind] = ["truncated"]
    if entry.invalid:
        out.append("invalid_arguments")
    if entry.missing_closer:
        out.append("missing_closer")
    if tools:
        out.append("unknown_tool")
    return [k for k in out if kinds is None or k in kinds]


# -- generation ----------------------------------------------------------------------


_RULE = r"^{name}[ \t]*:.*(?:\n[ \t]+\|.*)*"


@cache
def _generator(format: str) -> tuple[Lark, frozenset[str]]:
    """The rewritten grammar and the terminals it uses."""
    entry = ENTRIES[format]
    spec = compiled(format).spec
    text = resources.files("toolwire.grammars").joinpath(spec.grammar).read_text("utf-8")
    for name, body in entry.rules.items():
        pattern = _RULE.format(name=re.escape(name))
        text, n = re.subn(pattern, f"{name}: {body}", text, count=1, flags=re.M)
        if n != 1:
            raise ValueError(f"{spec.grammar}: no rule {name!r} to replace")
    for old, new in entry.rewrites:
        if old not in text:
            raise ValueError(f"{spec.grammar}: {old!r} not found (grammar changed?)")
        text = text.replace(old, new)
    lark = Lark(text + f"\n%declare {CALL}\n", parser="lalr", lexer="contextual", start="start")
    terminals, rules, _ignore = lark.grammar.compile(["start"], ())
    used = {t.name for t in terminals}
    for rule in rules:
        used |= {s.name for s in rule.expansion if s.is_term}
    return lark, frozenset(used)


@cache
def _content_finder(format: str, term: str) -> re.Pattern[str] | None:
    """One regex for every delimiter the lexer looks for where ``term`` is content."""
    grammar = compiled(format)
    found: dict[str, None] = {}
    for state in grammar.states.values():
        if state.content == term:
            for d in (*state.delimiters, *state.strays):
                found[d.pattern] = None
    return re.compile("|".join(f"(?:{p})" for p in found)) if found else None


def _wrap(term: str) -> Any:
    return lambda text: f"{_OPEN}{term}{_SEP}{text}{_CLOSE}"


def _content_strategy(format: str, term: str, entry: FormatEntry) -> st.SearchStrategy[str]:
    if term in entry.explicit:
        return st.from_regex(entry.explicit[term], fullmatch=True).map(_wrap(term))
    spec = compiled(format).spec.content.get(term)
    if spec is None:
        raise ValueError(f"{format}: no strategy for terminal {term} (add it to the entry)")
    if spec.kind in ("text", "reasoning"):
        return values.texts.map(_wrap(term))
    allowed = spec.allowed or r"[ \t\r\n]"
    return st.from_regex(f"(?:{allowed}){{1,4}}", fullmatch=True).map(_wrap(term))


def _strings(format: str, entry: FormatEntry) -> st.SearchStrategy[str]:
    """String values the format can write: raw values cleared of what would end them
    early in ``raw_context``, and of ``strings_without``."""
    finder = _content_finder(format, entry.raw_values) if entry.raw_values else None
    forbidden = re.compile(entry.strings_without) if entry.strings_without else None
    if finder is None and forbidden is None:
        return values.texts

    def clear(text: str) -> str:
        while forbidden is not None and (m := forbidden.search(text)) is not None:
            text = text[: m.start()] + text[m.start() + 1 :]
        while finder is not None:
            m = finder.search(text + entry.raw_context)
            if m is None or m.start() >= len(text):
                break
            text = text[: m.start()] + text[m.start() + 1 :]
        return text

    return values.texts.map(clear)


def _call_strategy(
    format: str, entry: FormatEntry, tools: tuple[Mapping[str, Any], ...] | None
) -> st.SearchStrategy[str]:
    strings = _strings(format, entry)
    untyped = strings if entry.schema_typed else None
    if tools:
        names = values.tool_names(tools)
        if not names:
            raise ValueError("tools= names no tool")

        def for_tool(name: str) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
            schema = values.tool_schema(tools, name)
            return st.tuples(
                st.just(name), values.arguments(schema, strings=strings, untyped=untyped)
            )

        calls = st.sampled_from(names).flatmap(for_tool)
    else:
        arguments = values.arguments(None, strings=strings, untyped=untyped)
        calls = st.tuples(values.names, arguments)
    return calls.map(lambda c: f"{_CALL_OPEN}{json.dumps(list(c))}{_CALL_CLOSE}")


@cache
def _documents(format: str, tools_json: str | None) -> st.SearchStrategy[str]:
    """The document strategy of a format (built once per format and tool list: from_lark
    compiles the grammar)."""
    # Imported here: hypothesis.extra.lark reads Unicode tables on import, which
    # hypothesis warns about when it happens while conftest files load.
    from hypothesis.extra.lark import from_lark

    tools = tuple(json.loads(tools_json)) if tools_json is not None else None
    entry = ENTRIES[format]
    lark, used = _generator(format)
    explicit: dict[str, st.SearchStrategy[str]] = {CALL: _call_strategy(format, entry, tools)}
    declared = set(compiled(format).spec.content) | set(compiled(format).spec.islands)
    for term in sorted(used & (declared | set(entry.explicit))):
        explicit[term] = _content_strategy(format, term, entry)
    return from_lark(lark, start="start", explicit=explicit)


def _pieces(format: str, document: str) -> list[_Piece] | None:
    """The marked document as pieces; None if generated markup contains a marker."""
    out: list[_Piece] = []
    pos = 0
    render = renderer(format).render_call
    for m in _PIECES.finditer(document):
        if m.start() > pos:
            out.append(_Piece("markup", document[pos : m.start()]))
        pos = m.end()
        if m.group(1) is not None:
            out.append(_Piece("content", m.group(2), term=m.group(1)))
        else:
            name, arguments = json.loads(m.group(3))
            out.append(_Piece("call", render(name, arguments), call=ExpectedCall(name, arguments)))
    if pos < len(document):
        out.append(_Piece("markup", document[pos:]))
    if any(c in p.text for p in out if p.kind == "markup" for c in MARKERS):
        return None
    return out


def _repair(format: str, pieces: list[_Piece]) -> None:
    """Delete the first character of every delimiter the lexer would find inside
    content, until there is none (each step shortens the document)."""
    while True:
        text = "".join(p.text for p in pieces)
        start = 0
        for piece in pieces:
            end = start + len(piece.text)
            finder = _content_finder(format, piece.term) if piece.kind == "content" else None
            m = finder.search(text, start) if finder is not None and end > start else None
            if m is not None and m.start() < end:
                k = m.start() - start
                piece.text = piece.text[:k] + piece.text[k + 1 :]
                break
            start = end
        else:
            return


def _expected(
    format: str, entry: FormatEntry, call: ExpectedCall, tools: Sequence[Mapping[str, Any]] | None
) -> ExpectedCall:
    """What a raw-value format gives back: untyped values are their text."""
    if not entry.schema_typed:
        return call
    schemas = ToolSchemas(tools)
    arguments = {
        k: schemas.type_value(call.name, k, v if isinstance(v, str) else json.dumps(v))
        for k, v in call.arguments.items()
    }
    return ExpectedCall(call.name, arguments)


@st.composite
def _outputs(
    draw: st.DrawFn,
    format: str,
    entry: FormatEntry,
    tools: tuple[Mapping[str, Any], ...] | None,
    broken: bool | None,
    kinds: tuple[BreakageKind, ...],
) -> ModelOutput:
    want_broken = draw(st.booleans()) if broken is None else broken
    documents = _documents(format, json.dumps(tools, sort_keys=True) if tools else None)
    pieces: list[_Piece] | None = None
    kind = draw(st.sampled_from(kinds)) if want_broken else None
    for _ in range(10):  # a broken output needs a call to break
        count = draw(st.integers(1, 3)) if entry.repeat else 1
        pieces = _pieces(format, "".join(draw(documents) for _ in range(count)))
        if pieces is not None and (kind is None or _breakable(entry, kind, pieces)):
            break
        pieces = None
    assume(pieces is not None)
    assert pieces is not None
    _repair(format, pieces)
    if kind is None:
        calls = [p.call for p in pieces if p.call is not None]
        return ModelOutput(
            format,
            "".join(p.text for p in pieces),
            tuple(_expected(format, entry, c, tools) for c in calls),
            tools=tools,
        )
    candidates = _breakable(entry, kind, pieces)
    target = draw(st.sampled_from(candidates))
    assert target.call is not None
    k = [p for p in pieces if p.call is not None].index(target)
    detail = _break(draw, format, entry, target, kind, tools)
    at = pieces.index(target)
    if kind == "truncated":
        pieces = pieces[: at + 1]
    expected = tuple(
        _expected(format, entry, p.call, tools)
        for p in pieces
        if p.call is not None and p is not target
    )
    return ModelOutput(
        format,
        "".join(p.text for p in pieces),
        expected,
        Breakage(kind, k, target.call.name, detail),
        tools,
    )


def _breakable(entry: FormatEntry, kind: BreakageKind, pieces: list[_Piece]) -> list[_Piece]:
    """The calls that can be broken with ``kind`` where they stand."""
    out = []
    before = ""
    for piece in pieces:
        if piece.call is not None and (entry.breakable is None or entry.breakable(kind, before)):
            out.append(piece)
        before += piece.text
    return out


def _break(
    draw: st.DrawFn,
    format: str,
    entry: FormatEntry,
    piece: _Piece,
    kind: BreakageKind,
    tools: Sequence[Mapping[str, Any]] | None,
) -> str:
    """Break the call of ``piece`` in place; returns the breakage's detail."""
    assert piece.call is not None
    render = renderer(format).render_call
    text = piece.text
    if kind == "truncated":
        opened = re.search(entry.opened_after, text)
        if opened is None:
            raise ValueError(f"{format}: {entry.opened_after!r} not in a rendered call {text!r}")
        start = opened.end()
        end = text.rindex(entry.completes_at) + len(entry.completes_at)
        cut = draw(st.integers(start, end - 1))
        piece.text = text[:cut]
        return f"cut after {text[:cut][-12:]!r}"
    if kind == "missing_closer":
        end = text.rindex(entry.completes_at) + len(entry.completes_at)
        piece.text = text[: end - 1] + text[end:]
        return f"dropped {text[end - 1]!r}"
    if kind == "unknown_tool":
        known = set(values.tool_names(tools or []))
        name = piece.call.name + "_unknown"
        while name in known:
            name += "_x"
        piece.text = render(name, piece.call.arguments)
        return name
    bad = draw(st.sampled_from(entry.invalid))
    items = list(piece.call.arguments.items())
    at = draw(st.integers(0, len(items)))
    arguments = dict([*items[:at], (_BROKEN_KEY, [_SENTINEL]), *items[at:]])
    written = render(piece.call.name, arguments)
    m = _SENTINEL_VALUE.search(written)
    if m is None:
        raise ValueError(f"{format}: cannot find the list value to break in {written!r}")
    piece.text = written[: m.start()] + bad + written[m.end() :]
    return bad
