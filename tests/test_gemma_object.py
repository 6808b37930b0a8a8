"""The Gemma 4 object-notation scanner on its own (``toolwire.values.gemma_object``).

Examples pin every value kind, bare and quoted keys, raw strings holding markup and
marker text, the error positions and the limits; property tests render generated
JSON values in the notation (with generated whitespace) and check the value, the
completing index and the raw text under generated chunkings, every truncation
point, and that an error's index is the first character no valid object continues.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import chunkings
from toolwire.values.gemma_object import QUOTE, GemmaObjectScanner
from toolwire.values.json_engine import JsonSyntaxError

Q = QUOTE


def scan(text: str, **limits: int) -> tuple[int, dict[str, Any], GemmaObjectScanner]:
    """Feed ``text`` whole: (completing index, value, scanner)."""
    sc = GemmaObjectScanner(**limits)
    done = sc.feed(text, 0, len(text))
    return done, sc.value(), sc


def scan_chunks(chunks: list[str], **limits: int) -> tuple[int, GemmaObjectScanner]:
    """Feed ``chunks`` in order until the object completes; the completing index is
    absolute (counted over all chunks).  Raises JsonSyntaxError with an absolute
    index."""
    sc = GemmaObjectScanner(**limits)
    base = 0
    for chunk in chunks:
        try:
            done = sc.feed(chunk, 0, len(chunk))
        except JsonSyntaxError as exc:
            raise JsonSyntaxError(exc.code, base + exc.index, exc.message) from None
        if done >= 0:
            return base + done, sc
        base += len(chunk)
    return -1, sc


def error_of(text: str, **limits: int) -> tuple[str, int]:
    with pytest.raises(JsonSyntaxError) as info:
        scan(text, **limits)
    return info.value.code, info.value.index


# -- examples -----------------------------------------------------------------------


def test_the_format_example() -> None:
    text = f"{{cols:[{Q}x{Q},{Q}y{Q}],id:7,opts:{{deep:true}}}}"
    done, value, sc = scan(text + "<tool_call|>")
    assert done == len(text)
    assert value == {"cols": ["x", "y"], "id": 7, "opts": {"deep": True}}
    assert sc.raw() == text
    assert sc.finish() and sc.size == len(text)


@pytest.mark.parametrize(
    ("written", "value"),
    [
        (f"{Q}Paris{Q}", "Paris"),
        (f"{Q}{Q}", ""),
        ("-8", -8),
        ("0", 0),
        ("0.25", 0.25),
        ("2e-07", 2e-07),
        ("4e+22", 4e22),
        ("1E5", 1e5),
        ("-0.5e3", -500.0),
        ("123456789012345678901234567890", 123456789012345678901234567890),
        ("true", True),
        ("false", False),
        ("null", None),
        ("None", None),
        ("[]", []),
        ("{}", {}),
        (f"[1,{Q}a{Q},[true],{{k:null}}]", [1, "a", [True], {"k": None}]),
    ],
)
def test_every_value_kind(written: str, value: Any) -> None:
    done, parsed, _ = scan(f"{{v:{written}}}")
    assert done == len(written) + 4
    assert parsed == {"v": value}
    assert type(parsed["v"]) is type(value)


def test_empty_object() -> None:
    assert scan("{}")[:2] == (2, {})
    assert scan("{ \n }")[:2] == (5, {})


def test_keys_with_spaces_and_quoted_keys() -> None:
    text = f"{{first name:{Q}Ann{Q}, last  name :{Q}Lee{Q},{Q}a:b, c{Q}:1,{Q}{Q}:2}}"
    assert scan(text)[1] == {"first name": "Ann", "last  name": "Lee", "a:b, c": 1, "": 2}


def test_nested_keys_are_bare_too() -> None:
    assert scan("{outer key:{inner key:[{deep key:1}]}}")[1] == {
        "outer key": {"inner key": [{"deep key": 1}]}
    }


def test_a_repeated_key_keeps_the_last_value() -> None:
    assert scan("{a:1,a:2}")[1] == {"a": 2}


def test_strings_are_raw() -> None:
    data = 'a, b} ]{ [ "quoted" \\n \\ \n\r\n\t<tool_call|><|tool_call>call:x{y:1}<|channel>'
    assert scan(f"{{s:{Q}{data}{Q}}}")[1] == {"s": data}


def test_braces_in_strings_in_arrays_of_objects() -> None:
    # llama.cpp returned such an array as a string.
    text = f"{{rows:[{{q:{Q}{{x}}{Q},r:{Q}}}]{Q}}},{{q:{Q}[{{{Q}}}]}}"
    assert scan(text)[1] == {"rows": [{"q": "{x}", "r": "}]"}, {"q": "[{"}]}


def test_many_strings_followed_by_a_string_array() -> None:
    # Ollama's placeholder scheme collided here.
    strings = ",".join(f"s{k}:{Q}v{k}{Q}" for k in range(12))
    text = f"{{{strings},tags:[{Q}a{Q},{Q}b{Q},{Q}c{Q}]}}"
    value = scan(text)[1]
    assert value["tags"] == ["a", "b", "c"]
    assert [value[f"s{k}"] for k in range(12)] == [f"v{k}" for k in range(12)]


def test_marker_prefixes_inside_strings() -> None:
    for data in ["<", "<|", '<|"', '<|"|', 'a<|"<|"b', '<|"|<|"|', "<<||>>"]:
        assert scan(f"{{s:{Q}{data}{Q}}}")[1] == {"s": data}, data


def test_whitespace_around_every_token() -> None:
    text = f"{{ a : 1 ,\n b :\t[ 1 , {Q}x{Q} ] , c : {{ }} }}"
    assert scan(text)[1] == {"a": 1, "b": [1, "x"], "c": {}}


@pytest.mark.parametrize(
    ("text", "code", "index"),
    [
        ("[1]", "invalid_arguments", 0),
        (" {}", "invalid_arguments", 0),
        ("{a 1}", "invalid_arguments", 4),  # "a 1" could be a key
        ("{a}", "invalid_arguments", 2),
        ("{:1}", "invalid_arguments", 1),
        ("{  :1}", "invalid_arguments", 3),
        ("{a,b:1}", "invalid_arguments", 2),
        ("{a:1,}", "invalid_arguments", 5),
        ("{a:1 b:2}", "invalid_arguments", 5),
        ("{a:[1,]}", "invalid_arguments", 6),
        ("{a:[1 2]}", "invalid_arguments", 6),
        ("{a:]}", "invalid_arguments", 3),
        ("{a:Paris}", "invalid_arguments", 3),
        ("{a:tru}", "invalid_arguments", 6),
        ("{a:truex}", "invalid_arguments", 7),
        ("{a:True}", "invalid_arguments", 3),
        ("{a:nan}", "invalid_arguments", 4),
        ("{a:inf}", "invalid_arguments", 3),
        ("{a:01}", "invalid_arguments", 4),
        ("{a:-}", "invalid_arguments", 4),
        ("{a:1.}", "invalid_arguments", 5),
        ("{a:.5}", "invalid_arguments", 3),
        ("{a:+1}", "invalid_arguments", 3),
        ("{a:1e}", "invalid_arguments", 5),
        ("{a:1e+}", "invalid_arguments", 6),
        ('{a:"x"}', "invalid_arguments", 3),
        ("{a:<x", "invalid_arguments", 4),
        ('{a:<|"x', "invalid_arguments", 6),
        ("{a:1]", "invalid_arguments", 4),
        ("{a:[1}", "invalid_arguments", 5),
        ('{"a":1}', "invalid_arguments", 1),
        ("{a\tb:1}", "invalid_arguments", 3),
        ("{a<b:1}", "invalid_arguments", 2),
        ("{a:1e999}", "limit_exceeded", 8),
        ("{a:-1e999,b:1}", "limit_exceeded", 9),
    ],
)
def test_errors_at_the_offending_character(text: str, code: str, index: int) -> None:
    assert error_of(text) == (code, index)
    # ... whatever the chunking: here one character at a time.
    with pytest.raises(JsonSyntaxError) as info:
        scan_chunks(list(text))
    assert (info.value.code, info.value.index) == (code, index)


def test_integer_digit_limit() -> None:
    digits = "9" * 5000
    assert error_of(f"{{a:{digits}}}") == ("limit_exceeded", 3 + len(digits))


def test_max_depth() -> None:
    text = "{a:{b:[{}]}}"
    assert scan(text, max_depth=4)[0] == len(text)
    assert error_of(text, max_depth=3) == ("limit_exceeded", 7)
    assert error_of("{}", max_depth=0) == ("limit_exceeded", 0)
    assert scan("{}", max_depth=1)[0] == 2


def test_max_size_counts_both_braces() -> None:
    text = f"{{s:{Q}{'x' * 50}{Q}}}"
    assert scan(text, max_size=len(text))[0] == len(text)
    assert error_of(text, max_size=len(text) - 1) == ("limit_exceeded", len(text) - 1)
    with pytest.raises(JsonSyntaxError) as info:
        scan_chunks(list(text), max_size=20)  # the hot path inside the string
    assert (info.value.code, info.value.index) == ("limit_exceeded", 20)


def test_an_error_before_the_size_limit_wins() -> None:
    assert error_of("{a:x" + "1" * 20, max_size=10) == ("invalid_arguments", 3)


def test_expected_for_truncation_messages() -> None:
    cases = {
        "{": "a key or '}'",
        "{a": "':'",
        "{a:": "a value",
        "{a:1": "more of a number",
        "{a:[1": "more of a number",
        "{a:[1,": "a value",
        "{a:[true": "',' or ']'",
        "{a:true": "',' or '}'",
        f"{{a:{Q}x": f"the closing {Q!r} of a string",
        "{a:<|": f"the rest of {Q!r}",
        "{a:tr": "true, false or null",
    }
    for text, expected in cases.items():
        done, _, sc = scan(text)
        assert done == -1 and not sc.finish()
        assert sc.expected() == expected, text


def test_dripped_string_is_not_rescanned() -> None:
    """One character per feed inside a long string: each feed costs O(1) (the hot
    path finds no ``<``), and the string is joined once at its end."""
    body = ("lorem ipsum <b> {x} " * 500)[:9000]
    text = f"{{s:{Q}{body}{Q}}}"
    done, sc = scan_chunks(list(text))
    assert done == len(text)
    assert sc.value() == {"s": body}
    assert sc.raw() == text


# -- properties -----------------------------------------------------------------------

_BARE = re.compile(
    r'[^\s:{}\[\],<"\x00-\x1f\x7f](?:[^:{}\[\],<"\x00-\x1f\x7f]*[^\s:{}\[\],<"\x00-\x1f\x7f])?'
)
_TEXT = st.text(alphabet=st.sampled_from(list("ab <|\">{}[],:\n\\'é😀")), max_size=12).filter(
    lambda s: Q not in s
)
_KEYS = st.one_of(
    st.from_regex(r"[a-z_][a-z0-9_]{0,6}( [a-z]{1,4})?", fullmatch=True),
    _TEXT,
)
_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=4),
    max_leaves=16,
)
_WS = st.sampled_from(["", "", "", " ", "\n", " \t", "\r\n"])


@st.composite
def written(draw: st.DrawFn, value: Any, top: bool = False) -> str:
    """``value`` in Gemma's notation, with generated whitespace and key quoting."""
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            quote = not _BARE.fullmatch(key) or draw(st.booleans())
            k = f"{Q}{key}{Q}" if quote else key
            items.append(
                draw(_WS) + k + draw(_WS) + ":" + draw(_WS) + draw(written(item)) + draw(_WS)
            )
        return "{" + ",".join(items) + (draw(_WS) if not items else "") + "}"
    if isinstance(value, list):
        inner = ",".join(draw(_WS) + draw(written(v)) + draw(_WS) for v in value)
        return "[" + (inner or draw(_WS)) + "]"
    if isinstance(value, str):
        return f"{Q}{value}{Q}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return draw(st.sampled_from(["null", "None"]))
    return str(value)


def same(a: Any, b: Any) -> bool:
    """Equal JSON values, with -0.0 == 0.0 told apart by sign and types kept."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


objects = st.dictionaries(_KEYS, _VALUES, max_size=5)


@given(data=st.data(), value=objects)
def test_generated_objects_under_any_chunking(data: st.DataObject, value: dict[str, Any]) -> None:
    text = data.draw(written(value))
    trailer = data.draw(st.sampled_from(["", "<tool_call|>", "}", "junk"]))
    chunks = data.draw(chunkings(text + trailer))
    done, sc = scan_chunks(chunks)
    assert done == len(text)
    assert same(sc.value(), value)
    assert sc.raw() == text
    assert sc.finish()


@given(data=st.data(), value=objects)
def test_every_truncation_point_waits(data: st.DataObject, value: dict[str, Any]) -> None:
    text = data.draw(written(value))
    cut = data.draw(st.integers(0, len(text) - 1))
    done, sc = scan_chunks(data.draw(chunkings(text[:cut])) if cut else [])
    assert done == -1
    assert not sc.finish()
    assert sc.expected()


@given(data=st.data(), value=objects)
def test_errors_are_first_offending_characters(data: st.DataObject, value: dict[str, Any]) -> None:
    text = data.draw(written(value))
    at = data.draw(st.integers(0, len(text)))
    junk = data.draw(st.sampled_from(list('x,:{}[]<|" 1-.e\n')))
    broken = text[:at] + junk + text[at:]
    try:
        whole = scan_chunks([broken])
    except JsonSyntaxError as exc:
        code, index = exc.code, exc.index
        # Whatever the chunking, the same error at the same character ...
        with pytest.raises(JsonSyntaxError) as info:
            scan_chunks(data.draw(chunkings(broken)))
        assert (info.value.code, info.value.index) == (code, index)
        # ... and everything before it is a valid prefix of some object.
        if code == "invalid_arguments":
            assert scan_chunks([broken[:index]])[0] == -1 if index else True
        return
    # Still valid (e.g. a space or a character inside a string): same completion.
    assert scan_chunks(data.draw(chunkings(broken)))[0] == whole[0]
