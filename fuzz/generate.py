# ruff: noqa: RUF001, RUF002  (DeepSeek's fullwidth bar U+FF5C is part of its tokens)
"""Documents generated from the grammars, and mutations of them.

The fuzzers need inputs that get deep into each format: a random byte string
almost never spells ``<｜tool▁call▁begin｜>``.  So a document is a random derivation
of the format's Lark grammar (``compiled(format).lark.rules``) in which

* a delimiter terminal becomes a string its pattern matches (``sample``: a small
  generator over the stdlib's regex parse tree; lookaheads are left to the symbols
  that follow, as in a real document);
* a content terminal becomes text of its kind: prose with near-miss delimiters,
  whitespace for layout, a word for a name, id or key;
* an island becomes JSON (a bare arguments object or a ``{"name", "arguments"}``
  envelope) or Python keyword arguments, valid or slightly broken;

plus calls written by the format's own renderer.  ``mutate`` then damages bytes the
way the coverage-guided fuzzers do (flips, inserts, deletions, truncation, splices).
Everything is drawn from one ``random.Random``, so a seed reproduces a document.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from functools import cache
from re import _constants as _C  # the stdlib's regex parser (3.11+)
from re import _parser as _P
from typing import Any

import toolwire
from toolwire.engine.grammar import CompiledGrammar
from toolwire.registry import compiled

__all__ = ["document", "json_text", "mutate", "rendered_calls", "sample", "splice"]

_POOL = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    " \t\n\r_-.,:;!?'\"`<>/\\[]{}()|=+*&%$#@~^"
    "é中😀｜▁\u2028\x00\x1f"
)
_WORDS = ["the", "weather", "get_weather", "f", "x", "Paris", "écrit", "中文", "😀", "call"]
_CATEGORY_CHARS = {
    _C.CATEGORY_DIGIT: "0123456789",
    _C.CATEGORY_SPACE: " \t\n\r\f\v",
    _C.CATEGORY_WORD: "abcXYZ019_é",
}


def _in_class(c: str, items: Sequence[tuple[Any, Any]]) -> bool:
    for op, av in items:
        if op is _C.LITERAL and c == chr(av):
            return True
        if op is _C.RANGE and av[0] <= ord(c) <= av[1]:
            return True
        if op is _C.CATEGORY:
            if av is _C.CATEGORY_DIGIT and c.isdigit():
                return True
            if av is _C.CATEGORY_SPACE and c.isspace():
                return True
            if av is _C.CATEGORY_WORD and (c.isalnum() or c == "_"):
                return True
            if av is _C.CATEGORY_NOT_SPACE and not c.isspace():
                return True
    return False


def _class_char(items: Sequence[tuple[Any, Any]], rng: random.Random) -> str:
    if items and items[0][0] is _C.NEGATE:
        rest = items[1:]
        choices = [c for c in _POOL if not _in_class(c, rest)]
        return rng.choice(choices) if choices else "x"
    op, av = rng.choice(list(items))
    if op is _C.LITERAL:
        return chr(av)
    if op is _C.RANGE:
        return chr(rng.randint(av[0], min(av[1], av[0] + 200)))
    if op is _C.CATEGORY and av in _CATEGORY_CHARS:
        return rng.choice(_CATEGORY_CHARS[av])
    choices = [c for c in _POOL if _in_class(c, [(op, av)])]
    return rng.choice(choices) if choices else "x"


def _sample_items(items: Any, rng: random.Random, out: list[str]) -> None:
    for op, av in items:
        if op is _C.LITERAL:
            out.append(chr(av))
        elif op is _C.NOT_LITERAL:
            out.append(rng.choice([c for c in _POOL if c != chr(av)]))
        elif op is _C.ANY:
            out.append(rng.choice(_POOL))
        elif op is _C.IN:
            out.append(_class_char(av, rng))
        elif op is _C.BRANCH:
            _sample_items(rng.choice(av[1]), rng, out)
        elif op is _C.SUBPATTERN:
            _sample_items(av[3], rng, out)
        elif op in (_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT):
            low, high, sub = av
            high = min(high, low + 3)
            for _ in range(rng.randint(low, high)):
                _sample_items(sub, rng, out)
        # AT, ASSERT, ASSERT_NOT, GROUPREF: nothing to write.


@cache
def _parsed(pattern: str) -> Any:
    return _P.parse(pattern)


def sample(pattern: str, rng: random.Random) -> str:
    """A string the regex ``pattern`` matches (lookaheads aside)."""
    out: list[str] = []
    _sample_items(_parsed(pattern), rng, out)
    return "".join(out)


# -- JSON and Python-literal islands -----------------------------------------------------

_STRINGS = [
    *("", "x", "Paris", "a\\nb", '\\"q\\"'),
    *("\\u00e9", "\\ud83d\\ude00", "é😀", "</tool_call>"),
]
_NUMBERS = ["0", "-1", "12", "2.5", "-0.5e3", "1E+2", "123456789012345678901234567890"]


def _json_value(rng: random.Random, depth: int) -> str:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return rng.choice(_NUMBERS)
    if kind == 1:
        return rng.choice(["true", "false", "null"])
    if kind < 5:
        return '"' + rng.choice(_STRINGS) + '"'
    if kind == 5:
        return "[" + ", ".join(_json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))) + "]"
    return _json_object(rng, depth + 1)


def _json_object(rng: random.Random, depth: int) -> str:
    keys = ["city", "path", "n", "content", "a b", "é"]
    members = [f'"{rng.choice(keys)}": {_json_value(rng, depth)}' for _ in range(rng.randint(0, 3))]
    return "{" + rng.choice([", ", ","]).join(members) + "}"


def json_text(rng: random.Random) -> str:
    """Call-body JSON: arguments, or a name/arguments envelope, sometimes broken."""
    args = _json_object(rng, 1)
    if rng.random() < 0.5:
        key = rng.choice(["arguments", "parameters"])
        text = f'{{"name": "{rng.choice(_WORDS[:4])}", "{key}": {args}}}'
    else:
        text = args
    if rng.random() < 0.2:  # broken: cut short, or a stray character inside
        cut = rng.randrange(len(text) + 1)
        text = text[:cut] + rng.choice(["", ",", "}", "'", "\\", "\n"])
    return text


def _python_kwargs(rng: random.Random) -> str:
    values = ["1", "-2.5", "'x'", '"Paris"', "True", "None", "[1, 'a']", "{'k': 2}", "(1,)"]
    keys = ["a", "city", "n"]
    pairs = [f"{rng.choice(keys)}={rng.choice(values)}" for _ in range(rng.randint(0, 3))]
    return ", ".join(pairs) + rng.choice([")", ")", ")", ""])


# -- grammar derivations -----------------------------------------------------------------


def _text(rng: random.Random, delimiters: Sequence[str]) -> str:
    parts = []
    for _ in range(rng.randint(1, 4)):
        r = rng.random()
        if r < 0.5:
            parts.append(rng.choice(_WORDS) + rng.choice([" ", "\n", "", "\r\n"]))
        elif r < 0.75 and delimiters:  # a near miss: a delimiter's prefix
            d = rng.choice(delimiters)
            parts.append(d[: rng.randrange(len(d) + 1)])
        else:
            parts.append(rng.choice(_POOL))
    return "".join(parts)


class _Walker:
    """Random derivations of one format's grammar; ``cost`` bounds their depth."""

    def __init__(self, grammar: CompiledGrammar) -> None:
        self.grammar = grammar
        self.rules: dict[str, list[list[tuple[str, bool]]]] = {}
        for rule in grammar.lark.rules:
            self.rules.setdefault(rule.origin.name, []).append(
                [(s.name, s.is_term) for s in rule.expansion]
            )
        self.cost = self._costs()
        self.samples = [d.literal for d in grammar.delimiters.values() if d.literal]

    def _costs(self) -> dict[str, int]:
        cost: dict[str, int] = {}
        changed = True
        while changed:
            changed = False
            for name, expansions in self.rules.items():
                for expansion in expansions:
                    total = 0
                    for sym, is_term in expansion:
                        if is_term:
                            total += 1
                        elif sym in cost:
                            total += cost[sym]
                        else:
                            break
                    else:
                        if total < cost.get(name, 1 << 30):
                            cost[name] = total
                            changed = True
        return cost

    def derive(self, rng: random.Random, budget: int) -> list[str]:
        out: list[str] = []
        stack: list[tuple[str, bool]] = [("start", False)]
        while stack:
            sym, is_term = stack.pop()
            if is_term:
                out.append(self.terminal(sym, rng, out))
                continue
            expansions = self.rules[sym]
            if budget <= 0:
                expansion = min(expansions, key=self._expansion_cost)
            else:
                expansion = rng.choice(expansions)
            budget -= len(expansion)
            stack.extend(reversed(expansion))
        return out

    def _expansion_cost(self, expansion: list[tuple[str, bool]]) -> int:
        return sum(1 if t else self.cost.get(s, 1 << 20) for s, t in expansion)

    def terminal(self, name: str, rng: random.Random, before: list[str]) -> str:
        spec = self.grammar.spec
        delimiter = self.grammar.delimiters.get(name)
        if delimiter is not None:
            if delimiter.literal is not None:
                return delimiter.literal
            return sample(delimiter.pattern, rng)
        island = spec.islands.get(name)
        if island is not None:
            if island == "python_kwargs":
                return _python_kwargs(rng)
            body = json_text(rng)
            if before and before[-1].endswith("{") and body.startswith("{"):
                body = body[1:]  # the opening brace was the delimiter's
            return body
        content = spec.content.get(name)
        if content is None:
            return _text(rng, self.samples)
        if content.kind in ("text", "reasoning", "value"):
            return _text(rng, self.samples)
        allowed = content.allowed or r"[ \t\r\n]"
        if content.kind == "layout":
            return sample(f"(?:{allowed}){{0,3}}", rng)
        return sample(f"(?:{allowed}){{1,8}}", rng)


@cache
def _walker(format: str) -> _Walker:
    return _Walker(compiled(format))


def rendered_calls(format: str, rng: random.Random) -> str:
    """One to three calls written by the format's renderer, closed as its turn ends
    ("" for formats without a renderer)."""
    try:
        renderer = toolwire.renderer(format)
    except ValueError:
        return ""
    text = ""
    for _ in range(rng.randint(1, 3)):
        args = json.loads(_json_object(rng, 1).replace("\\ud83d\\ude00", "x"))
        text += renderer.render_call(rng.choice(_WORDS[:4]), args)
    return text + renderer.close_calls(text)


def document(format: str, rng: random.Random, budget: int = 40) -> str:
    """A random document of a text format: grammar derivations and rendered calls."""
    walker = _walker(format)
    parts: list[str] = []
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.25:
            parts.append(rendered_calls(format, rng))
        else:
            parts.extend(walker.derive(rng, budget))
    return "".join(parts)


def delimiter_samples(format: str, rng: random.Random, each: int = 3) -> list[str]:
    """Strings each delimiter of the format matches (literals once, patterns ``each``
    times)."""
    out: list[str] = []
    for d in compiled(format).delimiters.values():
        if d.literal is not None:
            out.append(d.literal)
        else:
            out.extend(dict.fromkeys(sample(d.pattern, rng) for _ in range(each)))
    return out


# -- mutations ---------------------------------------------------------------------------


def mutate(data: bytes, rng: random.Random, dictionary: Sequence[bytes] = ()) -> bytes:
    """A few byte-level mutations: flip, insert, delete a run, insert a dictionary
    word, duplicate a run, truncate."""
    buf = bytearray(data)
    ops: list[Callable[[], None]] = []

    def flip() -> None:
        if buf:
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)

    def insert() -> None:
        buf.insert(rng.randrange(len(buf) + 1), rng.randrange(256))

    def delete() -> None:
        if buf:
            a = rng.randrange(len(buf))
            del buf[a : a + rng.randint(1, 8)]

    def word() -> None:
        if dictionary:
            at = rng.randrange(len(buf) + 1)
            buf[at:at] = rng.choice(dictionary)

    def duplicate() -> None:
        if buf:
            a = rng.randrange(len(buf))
            b = min(len(buf), a + rng.randint(1, 16))
            at = rng.randrange(len(buf) + 1)
            buf[at:at] = buf[a:b]

    def truncate() -> None:
        del buf[rng.randrange(len(buf) + 1) :]

    ops = [flip, insert, delete, word, word, duplicate, truncate]
    for _ in range(rng.randint(1, 4)):
        rng.choice(ops)()
    return bytes(buf)


def splice(a: bytes, b: bytes, rng: random.Random) -> bytes:
    """The head of one input and the tail of another."""
    return a[: rng.randrange(len(a) + 1)] + b[rng.randrange(len(b) + 1) :]


def encode_text(text: str) -> bytes:
    """UTF-8, lone surrogates kept as their (invalid) three bytes."""
    return text.encode("utf-8", "surrogatepass")
