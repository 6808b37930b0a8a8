"""The incremental JSON engine (``toolwire.values.json_engine.JsonScanner``).

Properties: exact completion index, raw text and value for generated documents in any
chunking; strict acceptance checked against ``json.loads`` as an oracle (minus the
documented differences); error index and code independent of the chunking.
Examples pin the exact error position of each kind of rejection and the limits.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from typing import Any

import pytest
from conftest import chunkings, split_at
from hypothesis import assume, given
from hypothesis import strategies as st

from toolwire.values.json_engine import JsonScanner, JsonSyntaxError

WS = " \t\n\r"

# -- the driver of the scanner under test ------------------------------------------------

Outcome = tuple[Any, ...]
"""("done", global completion index) | ("error", code, global index) | ("incomplete",)"""


def feed_pieces(chunks: Sequence[str], **limits: Any) -> tuple[Outcome, JsonScanner]:
    """Feed each chunk as its own string (as the driver does), then finish().

    The index a JsonSyntaxError carries must be an index into the chunk passed to
    ``feed`` (0 <= index <= len(chunk)); the outcome reports it as a global index."""
    sc = JsonScanner(**limits)
    offset = 0
    for k, chunk in enumerate(chunks):
        try:
            r = sc.feed(chunk, 0, len(chunk))
        except JsonSyntaxError as exc:
            assert 0 <= exc.index <= len(chunk), (
                f"error index {exc.index} is not an index into the chunk fed "
                f"({chunk!r}, chunk {k} of {chunks!r})"
            )
            return ("error", exc.code, offset + exc.index), sc
        if r >= 0:
            assert 0 <= r <= len(chunk)
            return ("done", offset + r), sc
        offset += len(chunk)
    if sc.finish():
        return ("done", offset), sc
    return ("incomplete",), sc


def feed_windows(text: str, cuts: Sequence[int], **limits: Any) -> tuple[Outcome, JsonScanner]:
    """Feed ``text`` as windows ``feed(text, a, b)`` of one string, then finish()."""
    sc = JsonScanner(**limits)
    bounds = [0, *cuts, len(text)]
    for a, b in itertools.pairwise(bounds):
        try:
            r = sc.feed(text, a, b)
        except JsonSyntaxError as exc:
            assert 0 <= exc.index <= len(text)
            return ("error", exc.code, exc.index), sc
        if r >= 0:
            assert a <= r <= b
            return ("done", r), sc
    if sc.finish():
        return ("done", len(text)), sc
    return ("incomplete",), sc


def cuts_of(chunks: Sequence[str]) -> list[int]:
    cuts, pos = [], 0
    for chunk in chunks[:-1]:
        pos += len(chunk)
        cuts.append(pos)
    return cuts


def scan_error(text: str, **limits: Any) -> JsonSyntaxError:
    sc = JsonScanner(**limits)
    with pytest.raises(JsonSyntaxError) as info:
        if sc.feed(text, 0, len(text)) < 0:
            sc.finish()
    return info.value


def assert_error_everywhere(text: str, code: str, index: int, **limits: Any) -> None:
    """Whole, one character at a time, and split at every single position: the same
    error, at ``index``."""
    want = ("error", code, index)
    assert feed_pieces([text], **limits)[0] == want
    assert feed_pieces(list(text), **limits)[0] == want
    assert feed_windows(text, list(range(1, len(text))), **limits)[0] == want
    for cut in range(1, len(text)):
        assert feed_pieces(split_at(text, [cut]), **limits)[0] == want, cut
        assert feed_windows(text, [cut], **limits)[0] == want, cut


# -- strategies ----------------------------------------------------------------------------

_SPECIAL_STRINGS = [
    '"',
    "\\",
    '\\"',
    "\\\\",
    "/",
    "\\u",
    "\\ud800",
    "\n",
    "\r",
    "\t",
    "\b",
    "\f",
    "\x00",
    "\x1f",
    "\x7f",
    "\u2028",
    "\ufeff",
    "é",
    "ß",
    "中文",
    "😀",
    "👍🏽",
    "\U0010ffff",
    "</tool_call>",
    "<tool_call>",
    '"}',
    "}}",
    "]",
    "{",
    "'",
    "NaN",
    "null",
]
json_strings = st.lists(
    st.one_of(st.text(max_size=6), st.sampled_from(_SPECIAL_STRINGS)), max_size=5
).map("".join)
json_ints = st.one_of(
    st.integers(),
    st.integers(-(10**100), 10**100),
    st.builds(lambda n, neg: (-1 if neg else 1) * int("9" * n), st.integers(1, 100), st.booleans()),
)
json_floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1e-7, 1e16, 1.5e300, -2.5e-300, 5e-324, 1.7976931348623157e308]),
)
json_scalars = st.one_of(st.none(), st.booleans(), json_ints, json_floats, json_strings)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=5), st.dictionaries(json_strings, children, max_size=5)
    )


json_values = st.recursive(
    json_scalars,
    _containers,
    max_leaves=25,
)
dump_options = st.fixed_dictionaries(
    {
        "ensure_ascii": st.booleans(),
        "indent": st.sampled_from([None, 0, 2, "\t"]),
        "separators": st.sampled_from([None, (",", ":"), (", ", ": "), (" ,\n", " :\t")]),
    }
)
leading_ws = st.text(alphabet=WS, max_size=3)


@st.composite
def documents(draw: st.DrawFn) -> tuple[Any, str]:
    value = draw(json_values)
    text = draw(leading_ws) + json.dumps(value, **draw(dump_options))
    return value, text


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# -- 1. generated documents -------------------------------------------------------------------


@given(documents(), st.data())
def test_documents_complete_exactly_at_their_end(doc: tuple[Any, str], data: st.DataObject) -> None:
    value, text = doc
    chunks = data.draw(chunkings(text), label="chunks")
    whole, sc_whole = feed_pieces([text])
    assert whole == ("done", len(text))
    assert sc_whole.raw() == text
    assert sc_whole.value() == json.loads(text) == value

    # Chunked: the feed that delivers the last character completes it (a number only
    # at finish()), with the same result.
    sc = JsonScanner()
    done_at = None
    for k, chunk in enumerate(chunks):
        r = sc.feed(chunk, 0, len(chunk))
        if r >= 0:
            done_at = k
            assert r == len(chunk)
            break
    if is_number(value):
        assert done_at is None
        assert not sc.done
        assert sc.finish()
    else:
        assert done_at == len(chunks) - 1
        assert sc.done
        assert sc.finish()  # idempotent once complete
    assert sc.raw() == text
    assert sc.value() == value

    windows, sc_w = feed_windows(text, cuts_of(chunks))
    assert windows == whole
    assert sc_w.raw() == text
    assert sc_w.value() == value


_GARBAGE = ["</tool_call>", "}}", "]", ",", " x", "\n</tool_call>\n", "<", '"', "{}", "  "]


@given(documents(), st.sampled_from(_GARBAGE), st.data())
def test_trailing_text_is_left_untouched(
    doc: tuple[Any, str], garbage: str, data: st.DataObject
) -> None:
    value, text = doc
    full = text + garbage
    chunks = data.draw(chunkings(full), label="chunks")
    for outcome, sc in (
        feed_pieces(chunks),
        feed_windows(full, cuts_of(chunks)),
        feed_pieces([full]),
    ):
        assert outcome == ("done", len(text))
        assert sc.raw() == text
        assert sc.value() == value


@given(json_values, st.data())
def test_chunk_position_of_completion(value: Any, data: st.DataObject) -> None:
    """Fed one chunk at a time, the value completes in the chunk holding its last
    character (its terminator for a top-level number), at the index just past it."""
    text = json.dumps(value) + "</tool_call>"
    end = len(json.dumps(value))
    chunks = data.draw(chunkings(text), label="chunks")
    sc = JsonScanner()
    pos = 0
    for chunk in chunks:
        r = sc.feed(chunk, 0, len(chunk))
        last_needed = end if is_number(value) else end - 1
        if pos <= last_needed < pos + len(chunk):
            assert r == end - pos
            break
        assert r == -1
        pos += len(chunk)
    else:
        pytest.fail("never completed")


# -- 2. strict acceptance against json.loads ---------------------------------------------------


class _Constant(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _Constant(name)


def _lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, list):
        return any(_lone_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(_lone_surrogate(k) or _lone_surrogate(v) for k, v in value.items())
    return False


def _has_inf(value: Any) -> bool:
    if isinstance(value, float):
        return math.isinf(value)
    if isinstance(value, list):
        return any(_has_inf(v) for v in value)
    if isinstance(value, dict):
        return any(_has_inf(v) for v in value.values())
    return False


def oracle(text: str) -> bool:
    """Strict RFC 8259 by json.loads, minus its documented leniencies (NaN/Infinity,
    unpaired surrogate escapes), which the scanner rejects."""
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except ValueError:
        return False
    return not _lone_surrogate(value)


def accepts(outcome: Outcome, text: str) -> bool:
    return outcome[0] == "done" and text[outcome[1] :].strip(WS) == ""


def check_against_oracle(text: str, chunks: list[str]) -> None:
    whole, sc = feed_pieces([text])
    ok = accepts(whole, text)
    assert ok == oracle(text), (text, whole)
    if ok:
        expected = json.loads(text)
        if _has_inf(expected):
            with pytest.raises(JsonSyntaxError) as info:
                sc.value()
            assert (info.value.code, info.value.index) == ("limit_exceeded", -1)
        else:
            assert sc.value() == expected
    if whole[0] == "error":
        assert 0 <= whole[2] <= len(text)
        assert whole[1] == "invalid_json"
    # Same outcome (error code and index, completion index) whatever the chunking.
    assert feed_pieces(chunks)[0] == whole
    assert feed_windows(text, cuts_of(chunks))[0] == whole
    assert feed_pieces(list(text))[0] == whole


# JSON syntax, letters of the literals and of NaN/Infinity, and a few others (U+0661 is
# a digit to Python's str.isdigit, never to JSON).
_ALPHABET = '{}[]",:0123456789-+.eE tfrunaels\\/u \n\t\rbINfiyAFdc\x00\x1fé😀\u0661x'
_TOKENS = [
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    " ",
    "\n",
    '"',
    '"a"',
    '""',
    '"\\n"',
    '"\\u00e9"',
    '"\\ud83d\\ude00"',
    '"\\ud800"',
    '"\\udc00"',
    '"\\ud800\\u0041"',
    '"\\x"',
    "\\",
    "0",
    "1",
    "-",
    "-0",
    "12",
    "1.5",
    "1e5",
    "1E+2",
    "2e-3",
    ".5",
    "1.",
    "01",
    "+1",
    "true",
    "false",
    "null",
    "tru",
    "nul",
    "NaN",
    "Infinity",
    "-Infinity",
    '"\t"',
    "é",
]


@given(st.data())
def test_oracle_on_arbitrary_text(data: st.DataObject) -> None:
    text = data.draw(st.text(alphabet=_ALPHABET, max_size=24), label="text")
    check_against_oracle(text, data.draw(chunkings(text), label="chunks"))


@given(st.data())
def test_oracle_on_token_soup(data: st.DataObject) -> None:
    text = "".join(data.draw(st.lists(st.sampled_from(_TOKENS), max_size=12), label="tokens"))
    check_against_oracle(text, data.draw(chunkings(text), label="chunks"))


@given(documents(), st.data())
def test_oracle_on_mutated_documents(doc: tuple[Any, str], data: st.DataObject) -> None:
    _, text = doc
    assume(text)
    pos = data.draw(st.integers(0, len(text) - 1), label="pos")
    kind = data.draw(st.sampled_from(["delete", "insert", "replace"]), label="kind")
    char = data.draw(st.sampled_from(_ALPHABET), label="char")
    if kind == "delete":
        mutated = text[:pos] + text[pos + 1 :]
    elif kind == "insert":
        mutated = text[:pos] + char + text[pos:]
    else:
        mutated = text[:pos] + char + text[pos + 1 :]
    check_against_oracle(mutated, data.draw(chunkings(mutated), label="chunks"))


@pytest.mark.parametrize(
    "text", ["NaN", "Infinity", "-Infinity", "[NaN]", '{"a":Infinity}', "[1,-Infinity]"]
)
def test_nan_and_infinity_are_rejected(text: str) -> None:
    json.loads(text)  # accepted by Python's json
    outcome = feed_pieces([text])[0]
    assert outcome[:2] == ("error", "invalid_json")
    assert text[outcome[2]] in "NI"


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ('"\\ud800"', 7),  # high surrogate, then the closing quote
        ('"\\udbff"', 7),
        ('"\\udc00"', 6),  # lone low surrogate: its last hex digit
        ('"\\udfff"', 6),
        ('"\\ud800x"', 7),
        ('"\\ud800\\n"', 8),  # a backslash, but not of a \u escape
        ('"\\ud800\\u0041"', 12),  # a \u escape that is not a low surrogate: its last digit
        ('"\\ud800\\ud800"', 12),
        ('{"\\udc00":1}', 7),  # in a key
        ('["\\ud83d\\ude00", "\\ude00"]', 23),
    ],
)
def test_unpaired_surrogate_escapes_are_rejected(text: str, index: int) -> None:
    json.loads(text)  # accepted by Python's json
    assert_error_everywhere(text, "invalid_json", index)


def test_paired_surrogate_escapes_are_accepted() -> None:
    text = '["\\ud83d\\ude00", {"\\uD83D\\uDE00": "\\udbff\\udfff"}]'
    for cut in range(len(text) + 1):
        outcome, sc = feed_pieces(split_at(text, [cut] if 0 < cut < len(text) else []))
        assert outcome == ("done", len(text))
        assert sc.value() == ["😀", {"😀": "\U0010ffff"}]


# -- 3. exact errors, limits and values ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ('{"a":1,}', 7),  # trailing comma in an object: the "}"
        ("[1,]", 3),  # trailing comma in an array: the "]"
        ("01", 1),  # leading zero: the second digit
        ("-01", 2),
        ("[00]", 2),
        ('{"a" 1}', 5),  # missing colon: the value
        ('"\\x"', 2),  # bad escape: the character after the backslash
        ('"\\U0041"', 2),
        ('"\\u00g0"', 5),  # bad hex digit
        ('"a\nb"', 2),  # raw control character in a string
        ('"\x00"', 1),
        ('{"a\tb":1}', 3),  # ... in a key
        ("NaN", 0),
        ("tru e", 3),
        ("nulL", 3),
        ("[1 2]", 3),
        ('{"a":1 "b":2}', 7),
        ("{1:2}", 1),  # keys are strings
        ("{'a':1}", 1),
        ("[,1]", 1),
        ("[1,,2]", 3),
        ("-a", 1),
        ("1.e3", 2),
        ("+1", 0),
        (".5", 0),
        ("[1}", 2),
        ('{"a":1]', 6),
        ("]", 0),
        ("\ufeff{}", 0),  # a BOM is not whitespace
        ("[1,\u00a0 2]", 3),  # nor is a no-break space
    ],
)
def test_error_index(text: str, index: int) -> None:
    assert_error_everywhere(text, "invalid_json", index)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  ",
        "{",
        '{"a"',
        '{"a":',
        '{"a":1',
        '{"a":1,',
        "[",
        "[1,",
        '"abc',
        '"\\',
        '"\\u12',
        '"\\ud800',
        '"\\ud800\\',
        '"\\ud800\\u',
        "tr",
        "-",
        "1.",
        "1e",
        "1e-",
        "[1",
    ],
)
def test_truncation_is_incomplete_not_an_error(text: str) -> None:
    assert feed_pieces([text])[0] == ("incomplete",)
    assert feed_pieces(list(text))[0] == ("incomplete",)
    sc = JsonScanner()
    sc.feed(text, 0, len(text))
    assert isinstance(sc.expected(), str) and sc.expected() != "nothing"


@pytest.mark.parametrize(
    ("text", "max_depth", "index"),
    [
        ("[[[[1]]]]", 3, 3),
        ("[[[1]]]", 3, None),
        ('{"a":[{"b":[1]}]}', 3, 11),
        ('{"a":[{"b":[1]}]}', 4, None),
        ("[" * 600 + "]" * 600, 512, 512),
        ("[" * 512 + "]" * 512, 512, None),
        ("[]", 0, 0),
        ('"[[[["', 1, None),  # brackets inside strings do not nest
    ],
)
def test_max_depth(text: str, max_depth: int, index: int | None) -> None:
    if index is None:
        outcome, sc = feed_pieces([text], max_depth=max_depth)
        assert outcome == ("done", len(text))
        assert sc.value() == json.loads(text)
        return
    assert feed_pieces([text], max_depth=max_depth)[0] == ("error", "limit_exceeded", index)
    assert feed_pieces(list(text), max_depth=max_depth)[0] == ("error", "limit_exceeded", index)
    assert scan_error(text, max_depth=max_depth).code == "limit_exceeded"


_SIZE_CASES = [
    '{"a":"' + "x" * 40 + '"}',  # the limit falls inside a long string value
    "[" + ",".join(["12345"] * 10) + "]",  # ... among numbers and commas
    '{"' + "k" * 40 + '":1}',  # ... inside a key
    '  ["\\n\\t\\u00e9", "' + "y" * 30 + '"]',  # ... after escapes, with leading whitespace
    "[" + " " * 40 + "]",  # ... in whitespace
]


@pytest.mark.parametrize("text", _SIZE_CASES)
@pytest.mark.parametrize("max_size", [1, 5, 13, 20, 30])
def test_max_size_whole_and_chunked(text: str, max_size: int) -> None:
    # The first character beyond the limit is the offending one, whatever the chunking.
    assert len(text) > max_size
    assert_error_everywhere(text, "limit_exceeded", max_size, max_size=max_size)


@given(st.sampled_from(_SIZE_CASES), st.integers(1, 45), st.data())
def test_max_size_in_any_chunking(text: str, max_size: int, data: st.DataObject) -> None:
    chunks = data.draw(chunkings(text), label="chunks")
    want = ("error", "limit_exceeded", max_size) if len(text) > max_size else ("done", len(text))
    assert feed_pieces(chunks, max_size=max_size)[0] == want
    assert feed_windows(text, cuts_of(chunks), max_size=max_size)[0] == want


@pytest.mark.parametrize("text", _SIZE_CASES)
def test_max_size_exactly_reached_is_accepted(text: str) -> None:
    for chunks in ([text], list(text)):
        outcome, sc = feed_pieces(chunks, max_size=len(text))
        assert outcome == ("done", len(text))
        assert sc.value() == json.loads(text)


def test_max_size_does_not_count_text_after_the_value() -> None:
    text = '{"a":1}' + "</tool_call>" * 5
    assert feed_pieces([text], max_size=7)[0] == ("done", 7)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a":1,"a":2}', {"a": 2}),
        ('{"a":{"x":1},"b":0,"a":[3]}', {"a": [3], "b": 0}),
        ('[{"k":"v","k":null}]', [{"k": None}]),
    ],
)
def test_duplicate_keys_keep_the_last(text: str, expected: Any) -> None:
    outcome, sc = feed_pieces(list(text))
    assert outcome == ("done", len(text))
    assert sc.value() == expected


def test_huge_int_within_the_limit_is_exact() -> None:
    digits = "9" * 4300
    for text in (digits, "-" + digits, "[" + digits + "]", '{"n":-' + digits + "}"):
        outcome, sc = feed_pieces(split_at(text, [1, 2, 100, 4000]))
        assert outcome == ("done", len(text))
        value = sc.value()
        n = (
            value
            if isinstance(value, int)
            else (value[0] if isinstance(value, list) else value["n"])
        )
        assert abs(n) == 10**4300 - 1


@pytest.mark.parametrize("text", ["1" * 4301, "[" + "2" * 5000 + "]", '{"a":-' + "3" * 4301 + "}"])
def test_int_beyond_the_digit_limit_is_limit_exceeded(text: str) -> None:
    outcome, sc = feed_pieces([text])
    assert outcome == ("done", len(text))  # syntactically fine
    with pytest.raises(JsonSyntaxError) as info:
        sc.value()
    assert (info.value.code, info.value.index) == ("limit_exceeded", -1)


@pytest.mark.parametrize(
    "text", ["1e999", "-1e999", "[1.5e400]", '{"x":-9e9999}', "1" * 400 + ".0"]
)
def test_float_overflow_is_limit_exceeded(text: str) -> None:
    outcome, sc = feed_pieces(list(text))
    assert outcome == ("done", len(text))
    with pytest.raises(JsonSyntaxError) as info:
        sc.value()
    assert (info.value.code, info.value.index) == ("limit_exceeded", -1)


@pytest.mark.parametrize("text", ["1e-999", "-0.0", "1E+308", "0e0", "123.456e-7"])
def test_float_underflow_and_edges_are_fine(text: str) -> None:
    outcome, sc = feed_pieces(list(text))
    assert outcome == ("done", len(text))
    assert sc.value() == json.loads(text)


@pytest.mark.parametrize("text", ["0", "-0", "123", "-7", "1.5", "1e5", "-2.5E-3", "  42", "\n0.0"])
def test_top_level_number_completes_only_at_finish(text: str) -> None:
    for chunks in ([text], list(text)):
        sc = JsonScanner()
        for chunk in chunks:
            assert sc.feed(chunk, 0, len(chunk)) == -1
        assert not sc.done
        assert sc.finish()
        assert sc.done
        assert sc.raw() == text
        assert sc.value() == json.loads(text)


@pytest.mark.parametrize(("text", "end"), [("1 ", 1), ("12}", 2), ("-0<", 2), ("1.5e3\n", 5)])
def test_top_level_number_completes_at_its_terminator(text: str, end: int) -> None:
    for chunks in ([text], list(text)):
        outcome, sc = feed_pieces(chunks)
        assert outcome == ("done", end)
        assert sc.raw() == text[:end]


@pytest.mark.parametrize("text", ["-", "1.", "1e", "1e+", "1.5e", "-0."])
def test_unfinished_top_level_number_does_not_finish(text: str) -> None:
    sc = JsonScanner()
    assert sc.feed(text, 0, len(text)) == -1
    assert not sc.finish()


def test_error_index_is_into_the_chunk_fed() -> None:
    """``JsonSyntaxError.index`` is an index into the text passed to ``feed``, also
    when the hex digits of an unpaired surrogate escape are split across feeds (it
    once pointed four characters back: a negative index into the chunk)."""
    sc = JsonScanner()
    assert sc.feed('"\\udc', 0, 5) == -1
    with pytest.raises(JsonSyntaxError) as info:
        sc.feed('00"', 0, 3)
    assert info.value.index == 1  # the last hex digit


# -- 4. linear-time smoke -------------------------------------------------------------------------


def test_megabyte_string_in_four_character_chunks() -> None:
    body = "abc😀" * (1 << 18)  # 1 Mi characters
    text = '{"s": "' + body + '"}'
    sc = JsonScanner()
    result = -1
    for i in range(0, len(text), 4):
        result = sc.feed(text[i : i + 4], 0, min(4, len(text) - i))
        if result >= 0:
            break
    assert i + result == len(text)
    assert sc.value() == {"s": body}


def test_megabyte_of_escapes_in_four_character_windows() -> None:
    body = 'ab\\n\\"\\u00e9' * (1 << 16)  # ~0.75 MB, escapes straddling every boundary
    text = '["' + body + '"]'
    sc = JsonScanner()
    result = -1
    for i in range(0, len(text), 4):
        result = sc.feed(text, i, min(i + 4, len(text)))
        if result >= 0:
            break
    assert result == len(text)
    assert sc.value() == json.loads(text)
