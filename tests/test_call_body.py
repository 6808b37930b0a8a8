"""The JSON body of a ``tags`` tool call (``toolwire.engine.islands.JsonCallBody``), through the
public parser.

Envelope rules (README, ``tags``): without a ``name`` attribute a body whose first key is
``name``, ``arguments`` or ``parameters`` is an envelope and must hold exactly ``name``
(a string) and one of ``arguments``/``parameters`` (an object); any other body (or
``{}``) is the bare arguments object with name None; with ``name="..."`` on the tag the
body is always the arguments.  The call is complete at the ``}`` closing the body.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import chunkings, coalesce, run, split_at
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import toolwire
from toolwire.events import Error, Event, Finish, ToolCall, ToolCallDelta, ToolCallStart
from toolwire.values.json_engine import JsonScanner, JsonSyntaxError

ENVELOPE_KEYS = ("name", "arguments", "parameters")
CLOSE = "</tool_call>"

# -- strategies ------------------------------------------------------------------------------

_SPECIAL = [
    '"',
    "\\",
    "\n",
    "\t",
    "\x00",
    "é",
    "😀",
    "</tool_call>",
    "<tool_call>",
    "}",
    "{",
    "name",
]
json_strings = st.lists(st.one_of(st.text(max_size=5), st.sampled_from(_SPECIAL)), max_size=4).map(
    "".join
)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=3), st.dictionaries(json_strings, children, max_size=3)
    )


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        json_strings,
    ),
    _containers,
    max_leaves=12,
)
arg_objects = st.dictionaries(
    st.one_of(json_strings, st.sampled_from(ENVELOPE_KEYS)), json_values, max_size=4
)
bare_objects = arg_objects.filter(lambda d: not d or next(iter(d)) not in ENVELOPE_KEYS)
names = json_strings
attr_names = st.text(alphabet=string.ascii_letters + string.digits + "_.-", min_size=1, max_size=12)
ws = st.text(alphabet=" \t\r\n", max_size=2)
dump_options = st.fixed_dictionaries(
    {
        "ensure_ascii": st.booleans(),
        "indent": st.sampled_from([None, 0, 2]),
        "separators": st.sampled_from([None, (",", ":"), (", ", ": ")]),
    }
)
prefixes = st.sampled_from(["", "Let me check.\n", "é😀 ", "<analysis>think</analysis>", "a<b "])
suffixes = st.sampled_from(["", "\n", "Done.", "<final_answer>ok</final_answer>"])


@dataclass
class Case:
    text: str
    call_start: int
    """Offset of ``<tool_call``."""
    close: int
    """Offset of the ``}`` that closes the body."""
    body_start: int
    name: str | None
    start_name: str | None
    """The name ``tool_call_start`` carries (known before any argument text)."""
    arguments: Any
    raw: str
    raw_start: int
    """Offset of ``raw`` in ``text``."""
    deliver_from: int
    """From this offset on, the body's shape is known and argument text goes out as
    it arrives: everything of ``raw`` received so far has been delivered."""


def _assemble(draw: st.DrawFn, opener: str, body: str) -> tuple[str, int, int, int]:
    prefix, lead, trail, suffix = draw(prefixes), draw(ws), draw(ws), draw(suffixes)
    head = prefix + opener + lead
    text = head + body + trail + CLOSE + suffix
    return text, len(prefix), len(head) + len(body) - 1, len(head)


def _envelope_at(draw: st.DrawFn, members: list[tuple[str, str]]) -> tuple[str, list[int]]:
    """``{"k": v, ...}`` from already-serialised values, with generated whitespace, and
    the offset of each value in it."""
    body = "{" + draw(ws)
    offsets = []
    for i, (key, value) in enumerate(members):
        if i:
            body += draw(ws) + "," + draw(ws)
        body += json.dumps(key) + draw(ws) + ":" + draw(ws)
        offsets.append(len(body))
        body += value
    return body + draw(ws) + "}", offsets


def _envelope(draw: st.DrawFn, members: list[tuple[str, str]]) -> str:
    return _envelope_at(draw, members)[0]


def _first_key_end(raw: str) -> int:
    """Offset in ``raw`` (an object) just past its first key, or its length if empty."""
    i = 1
    while raw[i] in " \t\r\n":
        i += 1
    if raw[i] == "}":
        return len(raw)
    return json.decoder.scanstring(raw, i + 1)[1]  # type: ignore[attr-defined,no-any-return]


@st.composite
def calls(draw: st.DrawFn) -> Case:
    shape = draw(st.sampled_from(["bare", "name_first", "arguments_first", "named_tag"]))
    opts = draw(dump_options)
    if shape == "named_tag":
        attr = draw(attr_names)
        opener = draw(st.sampled_from(['<tool_call name="{}">', '<tool_call  name="{}" >']))
        arguments = draw(
            st.one_of(
                arg_objects,
                # an envelope-shaped body is still the arguments under a named tag
                st.builds(lambda n, a: {"name": n, "arguments": a}, names, arg_objects),
            )
        )
        raw = json.dumps(arguments, **opts)
        text, start, close, body_start = _assemble(draw, opener.format(attr), raw)
        return Case(
            text, start, close, body_start, attr, attr, arguments, raw, body_start, body_start
        )
    if shape == "bare":
        arguments = draw(bare_objects)
        raw = json.dumps(arguments, **opts)
        text, start, close, body_start = _assemble(draw, "<tool_call>", raw)
        decided = body_start + _first_key_end(raw)
        return Case(text, start, close, body_start, None, None, arguments, raw, body_start, decided)
    name = draw(names)
    arguments = draw(arg_objects)
    raw = json.dumps(arguments, **opts)
    key = draw(st.sampled_from(["arguments", "parameters"]))
    name_member = ("name", json.dumps(name, ensure_ascii=draw(st.booleans())))
    args_member = (key, raw)
    members = [name_member, args_member]
    if shape == "arguments_first":
        members.reverse()
    body, offsets = _envelope_at(draw, members)
    text, start, close, body_start = _assemble(draw, "<tool_call>", body)
    start_name = name if shape == "name_first" else None
    raw_start = body_start + offsets[members.index(args_member)]
    assert text[raw_start : raw_start + len(raw)] == raw
    return Case(
        text, start, close, body_start, name, start_name, arguments, raw, raw_start, raw_start
    )


def as_chunks(draw_data: st.DataObject, text: str, encoded: bool) -> list[Any]:
    data = text.encode() if encoded else text
    return draw_data.draw(chunkings(data), label="bytes chunks" if encoded else "chunks")


# -- checks -------------------------------------------------------------------------------------


def check_call(case: Case, events: list[Event]) -> None:
    assert [e for e in events if isinstance(e, Error)] == []
    calls_ = [e for e in events if isinstance(e, ToolCall)]
    assert len(calls_) == 1
    call = calls_[0]
    assert call.index == 0
    assert call.name == case.name
    assert call.arguments == case.arguments
    assert call.raw == case.raw
    assert call.span == (case.call_start, case.close + 1)

    positions = {id(e): i for i, e in enumerate(events)}
    starts = [e for e in events if isinstance(e, ToolCallStart)]
    assert len(starts) == 1
    assert (starts[0].index, starts[0].id, starts[0].name) == (0, call.id, case.start_name)
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    assert all((d.index, d.id) == (0, call.id) for d in deltas)
    assert "".join(d.text for d in deltas) == case.raw
    assert all(d.text for d in deltas)
    assert deltas, "the argument text is never empty"
    assert positions[id(starts[0])] < positions[id(deltas[0])]
    assert positions[id(deltas[-1])] < positions[id(call)]
    # "tool_calls" when the output ends with the call; text after it means the model
    # went on, so the stream finished normally ("stop").
    after = case.text[case.close + 1 :].split("</tool_call>", 1)[-1]
    expected_reason = "stop" if after.strip() else "tool_calls"
    assert isinstance(events[-1], Finish) and events[-1].reason == expected_reason


@given(calls(), st.data())
def test_calls_in_any_chunking(case: Case, data: st.DataObject) -> None:
    whole = run("tags", [case.text])
    check_call(case, whole)
    reference = coalesce(whole)
    for encoded in (False, True):
        events = run("tags", as_chunks(data, case.text, encoded))
        check_call(case, events)
        assert coalesce(events) == reference
    assert coalesce(toolwire.parse(case.text, "tags")) == reference
    assert coalesce(toolwire.parse(case.text.encode(), "tags")) == reference


def _containing(chunks: list[Any], pos: int) -> int:
    offset = 0
    for k, chunk in enumerate(chunks):
        if offset <= pos < offset + len(chunk):
            return k
        offset += len(chunk)
    raise AssertionError("position beyond the input")


@given(calls(), st.data())
def test_tool_call_comes_from_the_feed_that_delivers_the_closing_brace(
    case: Case, data: st.DataObject
) -> None:
    for encoded in (False, True):
        chunks = as_chunks(data, case.text, encoded)
        pos = len(case.text[: case.close].encode()) if encoded else case.close
        expected = _containing(chunks, pos)
        parser = toolwire.parser("tags")
        per_feed = [parser.feed(chunk) for chunk in chunks]
        tail = parser.close()
        assert not any(isinstance(e, ToolCall) for e in tail)
        got = [k for k, evs in enumerate(per_feed) if any(isinstance(e, ToolCall) for e in evs)]
        assert got == [expected], (chunks, expected)
        call = next(e for e in per_feed[expected] if isinstance(e, ToolCall))
        assert call.span == (case.call_start, case.close + 1)
        # Nothing of the call came after it within that feed but its own end.
        assert not any(
            isinstance(e, ToolCallDelta | ToolCallStart)
            for e in per_feed[expected][per_feed[expected].index(call) :]
        )


@given(calls(), st.data())
def test_argument_text_goes_out_as_it_arrives(case: Case, data: st.DataObject) -> None:
    """Once the body's shape is known, each feed delivers all argument text received
    so far: nothing is held back until the call completes."""
    chunks = as_chunks(data, case.text, False)
    parser = toolwire.parser("tags")
    delivered = ""
    received = 0
    for chunk in chunks:
        delivered += "".join(e.text for e in parser.feed(chunk) if isinstance(e, ToolCallDelta))
        received += len(chunk)
        assert case.raw.startswith(delivered)
        if received >= case.deliver_from:
            want = case.raw[: max(0, min(len(case.raw), received - case.raw_start))]
            assert delivered == want, (received, chunks)
        else:
            assert delivered == ""


def test_bare_body_with_a_later_arguments_key_streams() -> None:
    """The first key makes it a bare body; a top-level "arguments" member seen in the
    same feed must not cut the argument text short until the call completes."""
    parser = toolwire.parser("tags")
    chunks = ['<tool_call>{"q": 1, "arguments": 2,', ' "z": ', "3", "}</tool_call>"]
    per_feed = [
        [e.text for e in parser.feed(chunk) if isinstance(e, ToolCallDelta)] for chunk in chunks
    ]
    assert per_feed == [['{"q": 1, "arguments": 2,'], [' "z": '], ["3"], ["}"]]


@given(calls())
def test_tool_call_one_character_at_a_time(case: Case) -> None:
    parser = toolwire.parser("tags")
    got = [
        k for k, ch in enumerate(case.text) if any(isinstance(e, ToolCall) for e in parser.feed(ch))
    ]
    assert got == [case.close]


# -- envelope rules, examples ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "name", "arguments", "raw"),
    [
        ("{}", None, {}, "{}"),
        ('{"city": "Paris"}', None, {"city": "Paris"}, '{"city": "Paris"}'),
        ('{"name": "f", "arguments": {"x": 1}}', "f", {"x": 1}, '{"x": 1}'),
        ('{"arguments": {"x": 1}, "name": "f"}', "f", {"x": 1}, '{"x": 1}'),
        ('{"name": "f", "parameters": {}}', "f", {}, "{}"),
        ('{"parameters":{"a":[1,{}]},"name":""}', "", {"a": [1, {}]}, '{"a":[1,{}]}'),
        ('{"n\\u0061me": "f", "arguments": {}}', "f", {}, "{}"),  # an escaped first key
        (
            '{"Name": "f", "arguments": {}}',
            None,
            {"Name": "f", "arguments": {}},
            '{"Name": "f", "arguments": {}}',
        ),
        # a later "name" key does not make an envelope: the first key decides
        (
            '{"q": 1, "name": "f", "arguments": {}}',
            None,
            {"q": 1, "name": "f", "arguments": {}},
            '{"q": 1, "name": "f", "arguments": {}}',
        ),
        (
            '{"name": "f", "arguments": {"name": "g", "arguments": {}}}',
            "f",
            {"name": "g", "arguments": {}},
            '{"name": "g", "arguments": {}}',
        ),
        ('  {"name":"f","arguments":{}}\n', "f", {}, "{}"),
    ],
)
def test_unnamed_body(body: str, name: str | None, arguments: Any, raw: str) -> None:
    text = "<tool_call>" + body + CLOSE
    for chunks in ([text], list(text), list(text.encode())):
        chunks = [bytes([c]) if isinstance(c, int) else c for c in chunks]
        events = run("tags", chunks)
        assert [e for e in events if isinstance(e, Error)] == []
        (call,) = [e for e in events if isinstance(e, ToolCall)]
        assert (call.name, call.arguments, call.raw) == (name, arguments, raw)
        assert call.span == (0, len("<tool_call>") + len(body.rstrip()))
        assert "".join(e.text for e in events if isinstance(e, ToolCallDelta)) == raw


@pytest.mark.parametrize(
    "body",
    ['{"name": "g", "arguments": {"x": 1}}', '{"arguments": {}}', '{"name": 5}', "{}", '{"a": []}'],
)
def test_named_tag_body_is_always_the_arguments(body: str) -> None:
    text = '<tool_call name="tool">' + body + CLOSE
    for chunks in ([text], list(text)):
        events = run("tags", chunks)
        assert [e for e in events if isinstance(e, Error)] == []
        (call,) = [e for e in events if isinstance(e, ToolCall)]
        assert (call.name, call.arguments, call.raw) == ("tool", json.loads(body), body)
        assert isinstance(events[0], ToolCallStart) and events[0].name == "tool"


# -- invalid envelopes ---------------------------------------------------------------------------

_NON_STRINGS = st.sampled_from(["5", "null", "true", "[]", '["f"]', '{"name": "f"}', "1.5"])
_NON_OBJECTS = st.sampled_from(
    # strings that do not hold a JSON object stay errors (one that does is decoded)
    ["[]", "[1]", '"[]"', '"{x}"', '"\\"{}\\""', '"{} x"', "null", "0", "false", "-1e3"]
)


@st.composite
def bad_envelopes(draw: st.DrawFn) -> tuple[str, str]:
    """(kind, body) of an envelope (first key name/arguments/parameters) of the wrong
    shape."""
    kind = draw(
        st.sampled_from(
            [
                "no_arguments",
                "no_name",
                "both",
                "extra",
                "name_type",
                "arguments_type",
                "duplicate_name",
                "duplicate_arguments",
            ]
        )
    )
    name = ("name", json.dumps(draw(names)))
    key = draw(st.sampled_from(["arguments", "parameters"]))
    args = (key, json.dumps(draw(arg_objects)))
    if kind == "no_arguments":
        members = [name]
    elif kind == "no_name":
        members = [args]
    elif kind == "both":
        other = "parameters" if key == "arguments" else "arguments"
        members = [name, args, (other, json.dumps(draw(arg_objects)))]
    elif kind == "extra":
        extra_key = draw(json_strings.filter(lambda k: k not in ENVELOPE_KEYS))
        members = [name, args, (extra_key, json.dumps(draw(json_values)))]
    elif kind == "name_type":
        members = [("name", draw(_NON_STRINGS)), args]
    elif kind == "arguments_type":
        members = [name, (key, draw(_NON_OBJECTS))]
    elif kind == "duplicate_name":
        members = [name, args, ("name", json.dumps(draw(names)))]
    else:
        members = [args, name, (key, json.dumps(draw(arg_objects)))]
    members = list(draw(st.permutations(members)))
    if members[0][0] not in ENVELOPE_KEYS:  # keep it an envelope: an envelope key first
        first = next(i for i, m in enumerate(members) if m[0] in ENVELOPE_KEYS)
        members.insert(0, members.pop(first))
    return kind, _envelope(draw, members)


def check_invalid_shape(text: str, body_start: int, body_end: int, chunks: list[Any]) -> None:
    events = run("tags", chunks)
    errors = [e for e in events if isinstance(e, Error)]
    assert [e.code for e in errors] == ["invalid_arguments"], errors
    assert body_start <= errors[0].offset < body_end
    calls_ = [e for e in events if isinstance(e, ToolCall)]
    # Only the valid call that follows the bad one is reported: parsing resumed.
    assert [(c.index, c.name, c.arguments) for c in calls_] == [(1, "ok", {"v": 1})]
    assert coalesce(events) == coalesce(run("tags", [text]))


FOLLOW = '\n<tool_call name="ok">{"v": 1}</tool_call>'


@given(bad_envelopes(), st.data())
def test_invalid_envelopes_are_invalid_arguments(bad: tuple[str, str], data: st.DataObject) -> None:
    _, body = bad
    head = "Calling.<tool_call>" + data.draw(ws, label="lead")
    text = head + body + CLOSE + FOLLOW
    body_end = len(head) + len(body)
    for encoded in (False, True):
        check_invalid_shape(text, len(head), body_end, as_chunks(data, text, encoded))


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "f"}',
        '{"arguments": {}}',
        '{"parameters": {"a": 1}}',
        '{"name": "f", "arguments": {}, "parameters": {}}',
        '{"name": "f", "arguments": {}, "x": 1}',
        '{"name": "f", "arguments": [1]}',
        '{"name": "f", "arguments": "[1]"}',  # a string holding an array
        '{"name": "f", "arguments": "\\"{}\\""}',  # a string holding a string: decoded once
        '{"name": "f", "arguments": null}',
        '{"name": 1, "arguments": {}}',
        '{"name": null, "arguments": {}}',
        '{"name": "f", "name": "g", "arguments": {}}',
        '{"arguments": {}, "name": "f", "arguments": {}}',
    ],
)
def test_invalid_envelope_examples(body: str) -> None:
    head = "<tool_call>"
    text = head + body + CLOSE + FOLLOW
    for chunks in ([text], list(text), split_at(text, [len(head) + len(body) - 1])):
        check_invalid_shape(text, len(head), len(head) + len(body), chunks)


@pytest.mark.parametrize("opener", ["<tool_call>", '<tool_call name="f">'])
@pytest.mark.parametrize("body", ["[]", "[1, 2]", '"x"', "1", "-0.5", "null", "true"])
def test_non_object_body_is_invalid_arguments(opener: str, body: str) -> None:
    text = opener + body + CLOSE + FOLLOW
    for chunks in ([text], list(text)):
        check_invalid_shape(text, len(opener), len(opener) + len(body) + 1, chunks)


# -- errors inside the body ----------------------------------------------------------------------


def _rejects(body: str) -> bool:
    sc = JsonScanner()
    try:
        done = sc.feed(body, 0, len(body))
    except JsonSyntaxError:
        return True
    return done < 0 and not sc.finish()


@settings(report_multiple_bugs=False)  # a known failure shrinks fast
@given(calls(), st.data())
def test_invalid_json_body_events_do_not_depend_on_chunking(
    case: Case, data: st.DataObject
) -> None:
    """Guarantee 1 for a body that is not JSON: the same events whatever the chunking."""
    body = case.text[case.body_start : case.close + 1]
    pos = data.draw(st.integers(0, len(body) - 1), label="pos")
    char = data.draw(st.sampled_from('x,:}]"\\\x00 1'), label="char")
    bad_body = body[:pos] + char + body[pos + 1 :]
    assume(_rejects(bad_body))
    text = case.text[: case.body_start] + bad_body + case.text[case.close + 1 :]
    reference = coalesce(run("tags", [text]))
    assert [e["type"] for e in reference].count("error") >= 1
    assert coalesce(run("tags", as_chunks(data, text, False))) == reference


def _summary(events: list[Event]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for e in coalesce(events):
        if e["type"] == "tool_call_start":
            out.append(("start", e["name"]))
        elif e["type"] == "tool_call_delta":
            out.append(("delta", e["text"]))
        elif e["type"] == "error":
            out.append(("error", e["code"], e["offset"]))
        else:
            out.append((e["type"],))
    return out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '<tool_call>{"a":x}</tool_call>',
            [("start", None), ("delta", '{"a":'), ("error", "invalid_json", 16)],
        ),
        # the name member completes in the same feed as the error
        (
            '<tool_call>{"name":"f","arguments":x}</tool_call>',
            [("start", "f"), ("error", "invalid_json", 35)],
        ),
        ('<tool_call>{"name":"f",x}</tool_call>', [("start", "f"), ("error", "invalid_json", 23)]),
        ('<tool_call>{"name":"f"x</tool_call>', [("start", "f"), ("error", "invalid_json", 22)]),
        (
            '<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo",}}</tool_call>',
            [
                ("start", "get_weather"),
                ("delta", '{"city": "Oslo",'),
                ("error", "invalid_json", 64),
            ],
        ),
        (
            '<tool_call>{"arguments": {"a": 1,}, "name": "f"}</tool_call>',
            [("start", None), ("delta", '{"a": 1,'), ("error", "invalid_json", 33)],
        ),
        (
            '<tool_call>{"q": [1,]}</tool_call>',
            [("start", None), ("delta", '{"q": [1,'), ("error", "invalid_json", 20)],
        ),
        ('<tool_call>{"na\\x": 1}</tool_call>', [("error", "invalid_json", 16)]),
        # a bare body with a later top-level "arguments" key, all in one feed
        (
            '<tool_call>{"q": 1, "arguments": 2, x}</tool_call>',
            [
                ("start", None),
                ("delta", '{"q": 1, "arguments": 2, '),
                ("error", "invalid_json", 36),
            ],
        ),
    ],
)
def test_invalid_json_body_events(text: str, expected: list[tuple[Any, ...]]) -> None:
    """Lenient mode: the start and the argument text before the error, the error at
    the offending character, then finish -- whatever the chunking, and no exception."""
    expected = [*expected, ("finish",)]
    chunkings_ = [[text], list(text), list(text.encode())]
    chunkings_ += [split_at(text, [cut]) for cut in range(1, len(text))]
    for chunks in chunkings_:
        chunks = [bytes([c]) if isinstance(c, int) else c for c in chunks]
        assert _summary(run("tags", chunks)) == expected, chunks


def test_error_offset_of_a_split_surrogate_escape() -> None:
    """A lone low-surrogate escape is invalid_json at its last hex digit (offset 22)
    whatever the chunking (a split inside the digits once moved it)."""
    text = '<tool_call>{"a":"\\udc00"}</tool_call>'
    assert text[18:23] == "udc00"
    whole = [e for e in run("tags", [text]) if isinstance(e, Error)]
    assert [(e.code, e.offset) for e in whole] == [("invalid_json", 22)]
    for cut in range(12, 25):
        split = [e for e in run("tags", split_at(text, [cut])) if isinstance(e, Error)]
        assert [(e.code, e.offset) for e in split] == [("invalid_json", 22)], cut
