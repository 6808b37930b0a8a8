"""The Python keyword-argument scanner (``toolwire.values.pylit.PyKwargsScanner``): the body of a
``llama4-pythonic`` call, ``name=literal, ...)``.

* generated Python values, rendered the ways models and Python write them (``repr``,
  JSON-style double quotes, triple quotes, raw strings, hex and ``_`` in numbers,
  random whitespace), fed in arbitrary chunkings: completion index, ``raw`` and the
  JSON value;
* acceptance exactly as Python's own parser (``ast``) plus the documented subset
  rules, on token soups of a small ASCII alphabet, and number literals against
  ``ast.literal_eval``;
* errors: exact indices for the documented cases, the same index under every
  chunking, the text before an error always a viable prefix.

These strategies are shared with ``test_format_llama4_pythonic.py``.
"""

from __future__ import annotations

import ast
import io
import json
import keyword
import math
import re
import string
import tokenize
import warnings
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import chunkings
from hypothesis import assume, given
from hypothesis import strategies as st

from toolwire.values.json_engine import JsonSyntaxError
from toolwire.values.pylit import PyKwargsScanner

# -- values and how they are written ----------------------------------------------------


def canonical(value: Any) -> str:
    """JSON text of a value: tells ``True`` from ``1`` and a tuple from a list apart
    only as JSON does."""
    return json.dumps(value, ensure_ascii=False, sort_keys=False)


def to_json(value: Any) -> Any:
    """The JSON value a Python literal stands for (tuples are arrays)."""
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


_SPECIAL_TEXT = [
    "'",
    '"',
    "\\",
    "\n",
    "\r",
    "\t",
    "\x00",
    "\x7f",
    "é",
    "日本",
    "😀",
    "\u2028",
    "''",
    "'''",
    '"""',
    ")",
    "]",
    "(",
    "[",
    ",",
    "=",
    "x=1",
    "\\n",
    "<|python_end|>",
]
py_strings = st.lists(
    st.one_of(st.text(max_size=5), st.sampled_from(_SPECIAL_TEXT)), max_size=4
).map("".join)
py_ints = st.one_of(st.integers(), st.integers(-(10**40), 10**40))
py_floats = st.floats(allow_nan=False, allow_infinity=False)
py_scalars = st.one_of(st.none(), st.booleans(), py_ints, py_floats, py_strings)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=3),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(py_strings, children, max_size=3),
    )


py_values = st.recursive(py_scalars, _containers, max_leaves=10)
arg_names = st.one_of(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
    st.sampled_from(["_page", "from", "class", "é", "城市", "x1", "_"]),
)
kwargs_dicts = st.dictionaries(arg_names, py_values, max_size=4)
ws = st.text(alphabet=" \t\n", max_size=2)


def _render_str(draw: st.DrawFn, s: str) -> str:
    style = draw(st.sampled_from(["repr", "json", "json_ascii", "triple", "raw", "u"]))
    if style == "json":
        # JSON escapes are Python escapes (json.dumps never writes "\/").
        return json.dumps(s, ensure_ascii=False)
    if style == "json_ascii":
        return json.dumps(s, ensure_ascii=True)  # astral characters as surrogate pairs
    if style == "triple" and "\\" not in s and "\r" not in s and "'" not in s:
        return "'''" + s + "'''"
    if style == "raw" and not re.search(r"[\\'\n\r]", s):
        return "r'" + s + "'"
    if style == "u":
        return "u" + repr(s)
    return repr(s)


def _render_int(draw: st.DrawFn, n: int) -> str:
    style = draw(st.sampled_from(["plain", "plus", "hex", "underscore", "spaced_sign"]))
    if style == "plus" and n >= 0:
        return "+" + str(n)
    if style == "hex" and n >= 0:
        return hex(n).upper().replace("0X", "0x")
    if style == "underscore":
        return f"{n:_}"
    if style == "spaced_sign" and n < 0:
        return "- " + str(-n)
    return str(n)


def render(draw: st.DrawFn, value: Any) -> str:
    """Python source for ``value``, in one of the ways a model may write it."""
    if isinstance(value, str):
        return _render_str(draw, value)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        return _render_int(draw, value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        items = [
            draw(ws) + render(draw, k) + draw(ws) + ":" + draw(ws) + render(draw, v) + draw(ws)
            for k, v in value.items()
        ]
        trailing = "," if items and draw(st.booleans()) else ""
        return "{" + ",".join(items) + trailing + draw(ws) + "}"
    items = [draw(ws) + render(draw, v) + draw(ws) for v in value]
    if isinstance(value, tuple):
        if len(items) == 1:
            return "(" + items[0] + "," + draw(ws) + ")"
        trailing = "," if items and draw(st.booleans()) else ""
        return "(" + ",".join(items) + trailing + draw(ws) + ")"
    trailing = "," if items and draw(st.booleans()) else ""
    if draw(st.integers(0, 9)) == 0:
        return "(" + draw(ws) + "[" + ",".join(items) + trailing + "]" + draw(ws) + ")"
    return "[" + ",".join(items) + trailing + draw(ws) + "]"


@dataclass
class Kwargs:
    text: str
    """The argument text, without the closing parenthesis."""
    value: dict[str, Any]
    """Its JSON value."""


@st.composite
def kwargs_texts(
    draw: st.DrawFn, dicts: st.SearchStrategy[dict[str, Any]] = kwargs_dicts
) -> Kwargs:
    value = draw(dicts)
    items = [
        draw(ws) + name + draw(ws) + "=" + draw(ws) + render(draw, v) + draw(ws)
        for name, v in value.items()
    ]
    trailing = "," if items and draw(st.booleans()) else ""
    return Kwargs(",".join(items) + trailing + draw(ws), to_json(value))


# -- feeding -----------------------------------------------------------------------------


@dataclass
class Outcome:
    done: int
    """Absolute index just past the closing ``)``, or -1."""
    error: tuple[str, int] | None
    """(code, absolute index) of the error."""
    scanner: PyKwargsScanner


def scan(chunks: list[str], **limits: Any) -> Outcome:
    sc = PyKwargsScanner(**limits)
    offset = 0
    for chunk in chunks:
        try:
            done = sc.feed(chunk, 0, len(chunk))
        except JsonSyntaxError as exc:
            assert 0 <= exc.index <= len(chunk)
            return Outcome(-1, (exc.code, offset + exc.index), sc)
        if done >= 0:
            return Outcome(offset + done, None, sc)
        offset += len(chunk)
    return Outcome(-1, None, sc)


def scan_text(text: str, **limits: Any) -> Outcome:
    return scan([text], **limits)


# -- generated arguments in arbitrary chunkings ------------------------------------------------


@given(
    args=kwargs_texts(), junk=st.sampled_from(["", ")", "]", ", g(x=1)]", "junk"]), data=st.data()
)
def test_generated_arguments_in_any_chunking(args: Kwargs, junk: str, data: st.DataObject) -> None:
    text = args.text + ")" + junk
    out = scan(data.draw(chunkings(text)))
    assert out.error is None
    assert out.done == len(args.text) + 1
    assert out.scanner.raw() == args.text + ")"
    assert out.scanner.finish()
    assert canonical(out.scanner.value()) == canonical(args.value)


@given(args=kwargs_texts())
def test_char_by_char_is_the_same(args: Kwargs) -> None:
    text = args.text + ")"
    out = scan(list(text))
    assert out.done == len(text)
    assert canonical(out.scanner.value()) == canonical(args.value)


@given(args=kwargs_texts(), data=st.data())
def test_every_proper_prefix_waits(args: Kwargs, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(args.text)))
    out = scan(data.draw(chunkings(args.text[:cut])))
    assert out.error is None and out.done == -1
    assert not out.scanner.finish()
    assert out.scanner.expected() != "nothing"
    assert out.scanner.size == cut


# -- acceptance against Python's parser ---------------------------------------------------------


def _offset(src: str, lineno: int, col: int) -> int:
    """Character offset of (1-based line, 0-based column) in ASCII ``src``."""
    starts = [0] + [m.end() for m in re.finditer("\n", src)]
    return starts[lineno - 1] + col


def _convert(node: ast.AST, src: str) -> Any:
    """The JSON value of a literal in our subset; ValueError outside it."""
    if isinstance(node, ast.Constant):
        v = node.value
        if v is None or isinstance(v, bool | str):
            return v
        if type(v) is int:
            return v
        if type(v) is float and math.isfinite(v):
            return v
        raise ValueError("not a JSON constant")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = node.operand
        if not (isinstance(operand, ast.Constant) and type(operand.value) in (int, float)):
            raise ValueError("sign on a non-number")
        between = src[
            _offset(src, node.lineno, node.col_offset) + 1 : _offset(
                src, operand.lineno, operand.col_offset
            )
        ]
        if between.strip():
            raise ValueError("sign before parentheses")
        v = _convert(operand, src)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.List | ast.Tuple):
        return [_convert(e, src) for e in node.elts]
    if isinstance(node, ast.Dict):
        out = {}
        for k, v in zip(node.keys, node.values, strict=True):
            if not (isinstance(k, ast.Constant) and isinstance(k.value, str)):
                raise ValueError("dict key not a string")
            before = src[: _offset(src, k.lineno, k.col_offset)].rstrip()
            if not before.endswith(("{", ",")):
                raise ValueError("parenthesised key")
            out[k.value] = _convert(v, src)
        return out
    raise ValueError(f"not a literal: {type(node).__name__}")


def oracle(args_text: str) -> tuple[bool, Any]:
    """Whether ``f(`` + ``args_text`` is a call we accept, by Python's parser plus the
    documented subset rules, and its arguments."""
    src = "f(" + args_text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tree = ast.parse(src, mode="eval")
        except (SyntaxError, ValueError):
            return False, None
        call = tree.body
        if not (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "f"
            and not call.args
        ):
            return False, None
        names = [k.arg for k in call.keywords]
        if None in names or len(set(names)) != len(names):
            return False, None
        previous = None
        for tok in tokenize.generate_tokens(io.StringIO(src).readline):
            if tok.type in (tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER):
                continue
            if tok.type == tokenize.STRING and previous == tokenize.STRING:
                return False, None  # implicit concatenation: not in the subset
            previous = tok.type
        try:
            return True, {k.arg: _convert(k.value, src) for k in call.keywords}
        except ValueError:
            return False, None


SOUP_TOKENS = [
    "a",
    "b",
    "_c",
    "x",
    "e",
    "j",
    "=",
    "==",
    ",",
    " ",
    "\n",
    ")",
    ")",
    "(",
    "[",
    "]",
    "{",
    "}",
    ":",
    "0",
    "1",
    "7",
    ".",
    "-",
    "+",
    "_",
    "*",
    "'s'",
    '"t"',
    "''",
    "'",
    "'\\n'",
    "'\\x41'",
    "'\\d'",
    "'''u'''",
    "r'\\w'",
    "b'z'",
    "True",
    "None",
]
soups = st.lists(st.sampled_from(SOUP_TOKENS), max_size=14).map("".join)
_KEYWORD_NAME = re.compile(r"(?:^|[,(])\s*(?:True|None|False)\s*=(?!=)")


# Near-valid texts: small ASCII arguments with a few soup tokens inserted, deleted or
# replaced, so that acceptance is decided deep inside the structure.
_ascii_strings = st.text(alphabet=string.printable.replace("\r", ""), max_size=4)


def _ascii_containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=3),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(_ascii_strings, children, max_size=3),
    )


_ascii_values = st.recursive(
    st.one_of(st.none(), st.booleans(), py_ints, py_floats, _ascii_strings),
    _ascii_containers,
    max_leaves=6,
)
_ascii_kwargs = st.dictionaries(
    st.from_regex(r"[a-z_][a-z0-9_]{0,3}", fullmatch=True).filter(
        lambda n: not keyword.iskeyword(n)  # Python refuses them as names; we do not
    ),
    _ascii_values,
    max_size=3,
)


@st.composite
def near_valid(draw: st.DrawFn) -> str:
    text = draw(kwargs_texts(_ascii_kwargs)).text + ")"
    for _ in range(draw(st.integers(0, 2))):
        k = draw(st.integers(0, len(text)))
        piece = draw(st.sampled_from(SOUP_TOKENS))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        if op == "insert":
            text = text[:k] + piece + text[k:]
        elif op == "delete":
            text = text[:k] + text[k + 1 :]
        else:
            text = text[:k] + piece + text[k + 1 :]
    return text


@given(soup=st.one_of(soups, near_valid()))
def test_acceptance_matches_python(soup: str) -> None:
    # Python forbids keywords as argument names; we accept them (documented).
    assume(not _KEYWORD_NAME.search(soup))
    whole = scan_text(soup)
    for j in [k + 1 for k, c in enumerate(soup) if c == ")"]:
        candidate = soup[:j]
        ok, value = oracle(candidate)
        out = scan_text(candidate)
        assert (out.done == j) == ok, (candidate, out.error)
        if ok:
            assert canonical(out.scanner.value()) == canonical(value)
            # The scanner stops at the first such ")": the whole soup agrees.
            assert whole.done <= j
    if whole.done >= 0:
        assert oracle(soup[: whole.done])[0]


NUMBER_CHARS = "0123456789._eExXoObBjJaf+-"


def _python_number(token: str) -> tuple[bool, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tree = ast.parse("f(a=" + token + ")", mode="eval")
            value = ast.literal_eval(tree.body.keywords[0].value)  # type: ignore[attr-defined]
        except (SyntaxError, ValueError, TypeError, AttributeError, IndexError):
            return False, None
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return True, value
    return False, None


@given(token=st.text(alphabet=NUMBER_CHARS, min_size=1, max_size=8))
def test_numbers_match_python(token: str) -> None:
    ok, value = _python_number(token)
    out = scan_text("a=" + token + ")")
    assert (out.done >= 0) == ok, out.error
    if ok:
        got = out.scanner.value()["a"]
        assert type(got) is type(value) and got == value
        assert math.copysign(1, got) == math.copysign(1, value)


# -- examples ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (")", {}),
        ("id=7, cols=['x', 'y'])", {"id": 7, "cols": ["x", "y"]}),
        ("_page=2)", {"_page": 2}),
        ("a=1,)", {"a": 1}),
        ("a = 1 ,\n b\t=\n'x' )", {"a": 1, "b": "x"}),
        (
            'q=\'it\\\'s\', r="say \\"hi\\"", s="it\'s")',
            {"q": "it's", "r": 'say "hi"', "s": "it's"},
        ),
        ("a=True, b=False, c=None)", {"a": True, "b": False, "c": None}),
        (
            "a=(1), b=(1,), c=(), d=(1, 2), e=((1)))",
            {"a": 1, "b": [1], "c": [], "d": [1, 2], "e": 1},
        ),
        ("d={'k': [1, (2, 3)], \"z\": None, 'k': 2})", {"d": {"k": 2, "z": None}}),
        ("n=123456789012345678901234567890)", {"n": 123456789012345678901234567890}),
        (
            "n=-0x1F, m=0o17, k=0b101, u=1_000, z=00, w=+5)",
            {"n": -31, "m": 15, "k": 5, "u": 1000, "z": 0, "w": 5},
        ),
        (
            "f=1.5e3, g=.5, h=5., i=2e-07, j=01.5, k=-0.0)",
            {"f": 1500.0, "g": 0.5, "h": 5.0, "i": 2e-07, "j": 1.5, "k": -0.0},
        ),
        ("s='''a\n''b''')", {"s": "a\n''b"}),
        ('s="""x"y""z""")', {"s": 'x"y""z'}),
        (
            "s=r'\\d+\\'', t=R\"\\n\", u=u'x', v=U'y')",
            {"s": "\\d+\\'", "t": "\\n", "u": "x", "v": "y"},
        ),
        ("s='\\N{BULLET}\\x41\\101\\u00e9\\U0001F600\\ud83d\\ude00\\0')", {"s": "•AAé😀😀\x00"}),
        ("s='\\d\\(\\é')", {"s": "\\d\\(\\é"}),
        ("s='a\\\nb', t='a\\\r\nb')", {"s": "ab", "t": "ab"}),
        ("s='''a\r\nb''')", {"s": "a\r\nb"}),
        ("from='x', class=1)", {"from": "x", "class": 1}),
        ("城市='北京')", {"城市": "北京"}),
    ],
)
def test_accepted_examples(text: str, value: dict[str, Any]) -> None:
    out = scan_text(text + " trailing)")
    assert out.error is None
    assert out.done == len(text)
    assert canonical(out.scanner.value()) == canonical(value)
    assert out.scanner.raw() == text
    assert scan(list(text)).done == out.done  # char by char


@pytest.mark.parametrize(
    ("text", "code", "at"),
    [
        ("x)", "invalid_arguments", ")"),  # positional: ")" where "=" could come
        ("1)", "invalid_arguments", "1)"),
        ("a=1 b=2)", "invalid_arguments", "b=2)"),
        ("a=1, a=2)", "invalid_arguments", "=2)"),  # the character after the repeated name
        ("a=1,,)", "invalid_arguments", ",)"),
        (",)", "invalid_arguments", ",)"),
        ("**k)", "invalid_arguments", "**k)"),
        ("a=[1,,2])", "invalid_arguments", ",2])"),
        ("a=Trux)", "invalid_arguments", "x)"),
        ("a=Tru)", "invalid_arguments", ")"),
        ("a=foo)", "invalid_arguments", "foo)"),
        ("a=Falsy)", "invalid_arguments", "y)"),  # "Fals" could still become False
        ("a=b'x')", "invalid_arguments", "b'x')"),
        ("a=f'x')", "invalid_arguments", "f'x')"),
        ("a=u)", "invalid_arguments", ")"),  # "u" could still begin u'...'
        ("a=rb'x')", "invalid_arguments", "b'x')"),
        ("a='a' 'b')", "invalid_arguments", "'b')"),
        ("a='a\nb')", "invalid_arguments", "\nb')"),
        ("a=07)", "invalid_arguments", ")"),
        ("a=1__0)", "invalid_arguments", "_0)"),
        ("a=1j)", "invalid_arguments", "j)"),
        ("a=0x)", "invalid_arguments", ")"),
        ("a=0b12)", "invalid_arguments", "2)"),
        ("a=--1)", "invalid_arguments", "-1)"),
        ("a=-(1))", "invalid_arguments", "(1))"),
        ("a={1: 2})", "invalid_arguments", "1: 2})"),
        ("a={'k'})", "invalid_arguments", "})"),
        ("a={('k'): 1})", "invalid_arguments", "('k'): 1})"),
        ("a=1 if x else 2)", "invalid_arguments", "if x else 2)"),
        ("a=[1][0])", "invalid_arguments", "[0])"),
        ("a=1 # note\n)", "invalid_arguments", "# note\n)"),
        ("a='\\x4g')", "invalid_arguments", "g')"),
        ("a='\\U00110000')", "invalid_arguments", "10000')"),  # checked per digit
        ("a='\\ud800x')", "invalid_arguments", "x')"),
        ("a='\\udc00')", "invalid_arguments", "0')"),  # lone surrogate: its last digit
        ("a='\\N{NO SUCH NAME}')", "invalid_arguments", "}')"),
        ("a='\\N[')", "invalid_arguments", "[')"),
        ("a=1e999)", "limit_exceeded", ")"),
        ("a=...)", "invalid_arguments", "..)"),  # "." could still begin .5
    ],
)
def test_rejected_examples(text: str, code: str, at: str) -> None:
    out = scan_text(text)
    assert out.error is not None, out.done
    assert out.error[0] == code
    assert text[out.error[1] :] == at
    # The same error whatever the chunking, and the text before it is a viable prefix.
    assert scan(list(text)).error == out.error
    before = scan_text(text[: out.error[1]])
    assert before.error is None and before.done == -1


def test_big_integers_are_exact_and_the_digit_limit_is_a_limit() -> None:
    big = "9" * 4000
    assert scan_text(f"a={big})").scanner.value() == {"a": int(big)}
    out = scan_text(f"a={'9' * 5000}, b=1)")
    assert out.error == ("limit_exceeded", len("a=") + 5000)


def test_depth_limit() -> None:
    assert scan_text("a=[[1]])", max_depth=3).done == 8
    out = scan_text("a=[[[1]]])", max_depth=3)
    assert out.error == ("limit_exceeded", 4)
    assert scan_text("a={'k': (1,)})", max_depth=2).error == ("limit_exceeded", 8)


def test_size_limit_counts_the_closing_parenthesis() -> None:
    assert scan_text("a='xyz')", max_size=8).done == 8
    assert scan_text("a='xyz')", max_size=7).error == ("limit_exceeded", 7)
    # In the string hot path too.
    assert scan(["a='", "xyzw", "')"], max_size=6).error == ("limit_exceeded", 6)


def test_expected_describes_the_state() -> None:
    cases = {
        "": "an argument name or ')'",
        "a": "'='",
        "a=": "a value",
        "a=[": "a value or ']'",
        "a=(": "a value or ')'",
        "a={": "a string key or '}'",
        "a={'k'": "':'",
        "a=1": "more of a number",
        "a=1 ": "',' or ')'",
        "a=[1 ": "',' or ']'",
        "a='x": "the end of a string",
        "a='\\": "an escape",
        "a='\\x4": "hex digits",
        "a=Tr": "True, False, None or a string",
    }
    for text, expected in cases.items():
        out = scan_text(text)
        assert out.error is None and out.done == -1, text
        assert out.scanner.expected() == expected, text


# -- errors do not depend on the chunking -------------------------------------------------------

MUTATIONS = [*"'\"\\()[]{},:=.-+_ \n", "0", "x", "é", "True", "'''", "\\u", "\\N{", "#"]


@st.composite
def mutated_texts(draw: st.DrawFn) -> str:
    text = draw(kwargs_texts()).text + ")"
    for _ in range(draw(st.integers(1, 3))):
        k = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(MUTATIONS))
        if op == "insert":
            text = text[:k] + piece + text[k:]
        elif op == "delete":
            text = text[:k] + text[k + 1 :]
        else:
            text = text[:k] + piece + text[k + 1 :]
    return text


@given(
    text=st.one_of(mutated_texts(), soups, st.text(alphabet=string.printable, max_size=20)),
    data=st.data(),
)
def test_outcome_is_chunk_invariant(text: str, data: st.DataObject) -> None:
    whole = scan_text(text)
    split = scan(data.draw(chunkings(text)))
    assert (split.done, split.error) == (whole.done, whole.error)
    if whole.done >= 0:
        assert canonical(split.scanner.value()) == canonical(whole.scanner.value())
        assert split.scanner.raw() == whole.scanner.raw()
    if whole.error is not None:
        before = scan_text(text[: whole.error[1]])
        assert before.error is None and before.done == -1
