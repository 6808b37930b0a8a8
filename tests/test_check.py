"""Dataset validation: schema checks in the parser, per-record checks, the summary,
``toolwire check`` (JSONL, JSON arrays, Parquet, --jobs, --report, exit codes) and
``validate --format auto``."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import toolwire
from tests.conftest import corpus_root
from toolwire.check import CheckOptions, Summary, check_record
from toolwire.cli import main
from toolwire.cli.check import check_records
from toolwire.events import Error, ToolCall

pytest.importorskip("jsonschema")

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "days": {"type": "integer", "minimum": 1},
                },
                "required": ["city"],
            },
        },
    }
]


def conversation(arguments: str, name: str = "get_weather", tools: Any = TOOLS) -> dict[str, Any]:
    call = {"id": "c1", "type": "function", "function": {"name": name, "arguments": arguments}}
    record: dict[str, Any] = {
        "messages": [
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        ]
    }
    if tools is not None:
        record["tools"] = tools
    return record


# -- check_arguments in the parsers ----------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ('{"city": "Paris"}', None),
        ('{"city": "Paris", "days": 2}', None),
        ('{"days": 2}', "at $: 'city' is a required property (rule 'required')"),
        ('{"city": 7}', "at $.city: 7 is not of type 'string' (rule 'type')"),
        ('{"city": "x", "days": 0}', "at $.days: 0 is less than the minimum of 1 (rule 'minimum')"),
    ],
)
def test_check_arguments_reports_the_path_and_rule_after_the_call(
    arguments: str, problem: str | None
) -> None:
    text = f'<tool_call>{{"name": "get_weather", "arguments": {arguments}}}</tool_call>'
    events = toolwire.parse(text, "hermes", tools=TOOLS, check_arguments=True)
    kinds = [e.type for e in events]
    call = next(e for e in events if isinstance(e, ToolCall))
    assert call.arguments == json.loads(arguments)  # the call still carries them
    errors = [e for e in events if isinstance(e, Error)]
    if problem is None:
        assert not errors
        return
    assert [e.code for e in errors] == ["invalid_arguments"]
    assert problem in errors[0].message
    assert kinds.index("error") == kinds.index("tool_call") + 1
    assert (errors[0].offset, errors[0].line, errors[0].column) == (0, 1, 1)
    # Strict mode raises that error, with the call among the events before it.
    p = toolwire.parser("hermes", tools=TOOLS, check_arguments=True, strict=True)
    with pytest.raises(toolwire.ParseError) as info:
        p.feed(text)
    assert info.value.code == "invalid_arguments"
    assert any(isinstance(e, ToolCall) for e in info.value.events)


def test_check_arguments_in_a_provider_stream() -> None:
    p = toolwire.parser("openai-chat", tools=TOOLS, check_arguments=True)
    head = {"index": 0, "id": "c1", "type": "function"}
    events = []
    for delta, finish in [
        ({"tool_calls": [{**head, "function": {"name": "get_weather", "arguments": ""}}]}, None),
        ({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": 1}'}}]}, None),
        ({}, "tool_calls"),
    ]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        events += p.feed_payload({"choices": [choice]})
    events += p.close()
    errors = [e for e in events if isinstance(e, Error)]
    assert [e.code for e in errors] == ["invalid_arguments"]
    assert "$.city" in errors[0].message


def test_check_arguments_needs_tools() -> None:
    with pytest.raises(ValueError, match="needs tools"):
        toolwire.parser("hermes", check_arguments=True)


# -- one record ----------------------------------------------------------------------


def test_a_valid_conversation() -> None:
    result = check_record(conversation('{"city": "Paris"}'), 0, CheckOptions())
    assert result.valid and result.errors == [] and result.calls == ["get_weather"]


def test_arguments_that_are_not_json_are_located() -> None:
    arguments = '{"city":\n "Paris",, }'
    result = check_record(conversation(arguments), 3, CheckOptions())
    [error] = result.errors
    try:
        json.loads(arguments)
    except json.JSONDecodeError as exc:
        expected = (exc.pos, exc.lineno, exc.colno)
    assert (error["offset"], error["line"], error["column"]) == expected
    assert error["code"] == "invalid_json"
    assert error["where"] == "messages[1].tool_calls[0].function.arguments"
    assert error["tool"] == "get_weather"


@pytest.mark.parametrize(
    ("record", "code", "fragment"),
    [
        (conversation('{"city": 3}'), "invalid_arguments", "$.city"),
        (conversation('{"city": "x"}', name="get_time"), "unknown_tool", "get_time"),
        (conversation("[1, 2]"), "invalid_arguments", "not a JSON object"),
        (conversation('{"city": "x"}', name=""), "invalid_arguments", "no name"),
        ({"messages": "hello"}, "invalid_record", "not a list"),
        ({"prompt": "x"}, "invalid_record", "no 'messages'"),
        ([1, 2], "invalid_record", "not a JSON object"),
    ],
)
def test_record_errors(record: Any, code: str, fragment: str) -> None:
    result = check_record(record, 0, CheckOptions())
    assert not result.valid
    assert [e["code"] for e in result.errors] == [code]
    assert fragment in result.errors[0]["message"]


def test_the_record_tools_win_over_the_given_ones() -> None:
    other = [{"type": "function", "function": {"name": "get_time", "parameters": {}}}]
    record = conversation('{"city": "x"}')
    assert check_record(record, 0, CheckOptions(tools=tuple(other))).valid
    del record["tools"]
    result = check_record(record, 0, CheckOptions(tools=tuple(other)))
    assert [e["code"] for e in result.errors] == ["unknown_tool"]
    assert check_record(record, 0, CheckOptions()).valid  # no tools: not checked


def test_a_stream_field_is_parsed_in_its_detected_format() -> None:
    output = '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"'
    record = {"sample": {"outputs": [{"text": output}]}}
    result = check_record(record, 0, CheckOptions(field="sample.outputs.0.text"))
    assert result.formats == ["hermes"]
    [error] = result.errors
    assert error["code"] == "truncated"
    assert error["offset"] == len(output) and error["line"] == 1
    assert error["where"] == "sample.outputs.0.text"
    missing = check_record(record, 0, CheckOptions(field="sample.outputs.1.text"))
    assert [e["code"] for e in missing.errors] == ["invalid_record"]
    plain = check_record({"o": "just prose"}, 0, CheckOptions(field="o"))
    assert [e["code"] for e in plain.errors] == ["unknown_format"]
    given_format = check_record({"o": "just prose"}, 0, CheckOptions(field="o", format="hermes"))
    assert given_format.valid


def test_assistant_text_is_parsed_when_a_format_is_given() -> None:
    text = '<tool_call>{"name": "get_weather", "arguments": {"city": 5}}</tool_call>'
    record = {"messages": [{"role": "assistant", "content": text}], "tools": TOOLS}
    result = check_record(record, 0, CheckOptions(format="hermes"))
    assert [e["code"] for e in result.errors] == ["invalid_arguments"]
    assert result.errors[0]["where"] == "messages[0].content"
    plain = {"messages": [{"role": "assistant", "content": "Sunny in Paris."}]}
    assert check_record(plain, 0, CheckOptions()).valid  # auto: plain text is text


def test_summary_counts_and_keeps_the_first_examples() -> None:
    summary = Summary()
    for i in range(10):
        record = conversation('{"city": 1}' if i % 2 else '{"city": "x"}')
        summary.add(check_record(record, i, CheckOptions()))
    report = summary.to_json()
    assert (report["records"], report["valid"], report["invalid"]) == (10, 5, 5)
    assert report["errors"] == {"invalid_arguments": 5}
    assert report["tools"] == {"get_weather": {"calls": 10, "errors": 5}}
    assert [e["record"] for e in report["examples"]["invalid_arguments"]] == [1, 3, 5]
    assert summary.lines()[0] == "10 records: 5 valid, 5 invalid"


# -- many records, several processes ---------------------------------------------------

records_strategy = st.lists(
    st.one_of(
        st.builds(conversation, st.sampled_from(['{"city": "a"}', '{"city": 1}', "{", "[]"])),
        st.builds(
            lambda name: conversation('{"city": "a"}', name=name), st.sampled_from(["f", "g"])
        ),
        st.just({"no": "messages"}),
    ),
    max_size=150,
)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=records_strategy)
def test_two_processes_give_the_results_of_one(records: list[Any]) -> None:
    one = [r.to_json() for r in check_records(records, CheckOptions(), jobs=1)]
    two = [r.to_json() for r in check_records(records, CheckOptions(), jobs=2)]
    assert one == two
    assert [r["record"] for r in one] == list(range(len(records)))


# -- the command ---------------------------------------------------------------------


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    import sys

    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = main(list(argv))
    finally:
        sys.stdout, sys.stderr = old
    return code, out.getvalue(), err.getvalue()


def write_jsonl(path: Path, records: list[Any], bad_line: bool = False) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for i, r in enumerate(records):
            if bad_line and i == 2:
                f.write("{oops\n")
            f.write(json.dumps(r) + "\n")
    return path


def test_check_jsonl_lists_failures_and_exits_one(tmp_path: Path) -> None:
    records = [conversation('{"city": "a"}'), conversation('{"city": 2}')] * 3
    data = write_jsonl(tmp_path / "d.jsonl", records, bad_line=True)
    report = tmp_path / "r.json"
    code, out, _ = run_cli("check", str(data), "--report", str(report))
    assert code == 1
    assert "record 2: line 3: invalid_record: line 3 is not JSON" in out
    saved = json.loads(report.read_text())
    assert saved["records"] == 7 and saved["valid"] == 3
    assert saved["errors"] == {"invalid_arguments": 3, "invalid_record": 1}
    assert "7 records: 3 valid, 4 invalid" in out


def test_check_all_valid_exits_zero_and_jsonl_streams_every_record(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", [conversation('{"city": "a"}')] * 4)
    code, out, err = run_cli("check", str(data), "--jsonl", "--jobs", "2")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [r["record"] for r in lines] == [0, 1, 2, 3] and all(r["valid"] for r in lines)
    assert err.startswith("4 records: 4 valid, 0 invalid")


def test_check_a_json_array_and_parquet_like_jsonl(tmp_path: Path) -> None:
    records = [
        {"out": '<tool_call>{"name": "f", "arguments": {}}</tool_call>'},
        {"out": '<tool_call>{"name": "f", '},
    ]
    write_jsonl(tmp_path / "d.jsonl", records)
    (tmp_path / "d.json").write_text(json.dumps(records))
    reports = []
    for name in ("d.jsonl", "d.json"):
        code, out, _ = run_cli(
            "check", str(tmp_path / name), "--field", "out", "--format", "hermes", "--jsonl"
        )
        assert code == 1
        reports.append(out)
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "d.parquet")
    code, out, _ = run_cli(
        "check", str(tmp_path / "d.parquet"), "--field", "out", "--format", "hermes", "--jsonl"
    )
    reports.append(out)
    assert reports[0] == reports[1] == reports[2]


def test_check_usage_errors_exit_two(tmp_path: Path) -> None:
    assert run_cli("check", str(tmp_path / "missing.jsonl"))[0] == 2
    data = write_jsonl(tmp_path / "d.jsonl", [])
    assert run_cli("check", str(data), "--jobs", "0")[0] == 2
    assert run_cli("check", str(data), "--format", "nope")[0] == 2
    assert run_cli("check", str(data), "--tools", str(tmp_path / "none.json"))[0] == 2


def test_validate_auto_detects_or_asks(tmp_path: Path) -> None:
    body = tmp_path / "b.sse"
    body.write_bytes(
        b'data: {"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}\n\n'
        b"data: [DONE]\n\n"
    )
    code, out, err = run_cli("validate", str(body))
    assert code == 0 and "format: openai-chat (detected)" in err and "hi" in out
    prose = tmp_path / "p.txt"
    prose.write_text("just prose")
    code, _, err = run_cli("validate", str(prose))
    assert code == 2 and "pass --format" in err


ROOT = corpus_root()


@pytest.mark.skipif(ROOT is None, reason="shared corpus not found")
def test_check_the_corpus_provider_bodies_as_a_dataset(tmp_path: Path) -> None:
    assert ROOT is not None
    bodies = sorted((ROOT / "providers").glob("*/*.sse"))
    records = [{"body": p.read_text(encoding="utf-8"), "name": p.name} for p in bodies]
    data = write_jsonl(tmp_path / "bodies.jsonl", records)
    code, out, _ = run_cli("check", str(data), "--field", "body", "--jsonl")
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["formats"] for r in results] == [[p.parent.name] for p in bodies]
    for path, result in zip(bodies, results, strict=True):
        # The check of a record is the parse of its body: the same errors, in order.
        events = toolwire.parse(path.read_bytes(), path.parent.name)
        codes = [e.code for e in events if isinstance(e, Error)]
        assert [e["code"] for e in result["errors"]] == codes, path.name
        assert result["valid"] == (not codes)
    assert code == (1 if any(not r["valid"] for r in results) else 0)


def test_progress_shows_on_a_terminal_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from toolwire.cli import check as check_cli

    data = write_jsonl(tmp_path / "d.jsonl", [conversation('{"city": "a"}')] * 300)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    ticks = iter(range(0, 10_000, 1))
    monkeypatch.setattr(check_cli.time, "monotonic", lambda: next(ticks) / 10)
    for err, shown in ((Terminal(), True), (io.StringIO(), False)):
        out = io.StringIO()
        args = check_cli_args(str(data))
        assert check_cli.run(args, out, err) == 0
        text = err.getvalue()
        assert ("records" in text and "/s" in text and "ETA" in text) is shown, text


def check_cli_args(data: str) -> Any:
    import argparse

    return argparse.Namespace(
        data=data, format="auto", field=None, tools=None, no_schema=False, input="auto",
        jobs=1, report=None, jsonl=False,
    )  # fmt: skip


def test_stream_errors_are_counted_for_their_tool() -> None:
    text = (
        '<tool_call>{"name": "get_weather", "arguments": {"city": 1}}</tool_call>'
        '<tool_call>{"name": "get_time", "arguments": {}}</tool_call>'
    )
    result = check_record({"o": text}, 0, CheckOptions(field="o", tools=tuple(TOOLS)))
    assert [(e["code"], e.get("tool")) for e in result.errors] == [
        ("invalid_arguments", "get_weather"),
        ("unknown_tool", "get_time"),
    ]
    summary = Summary()
    summary.add(result)
    assert summary.to_json()["tools"] == {
        "get_time": {"calls": 0, "errors": 1},
        "get_weather": {"calls": 1, "errors": 1},
    }


@settings(max_examples=60, deadline=None)
@given(
    city=st.one_of(st.text(max_size=8), st.integers(-3, 3), st.none()),
    days=st.one_of(st.integers(-2, 3), st.text(max_size=3)),
    fmt=st.sampled_from(["hermes", "tags", "openai-chat"]),
    data=st.data(),
)
def test_check_arguments_is_chunk_invariant_and_strict_is_the_first_error(
    city: Any, days: Any, fmt: str, data: st.DataObject
) -> None:
    """A schema error comes right after its call, at the same place whatever the
    chunking (str or bytes); strict mode raises lenient mode's first error."""
    from tests.conftest import chunkings
    from toolwire.testing import coalesce

    arguments = json.dumps({"city": city, "days": days})
    if fmt == "openai-chat":
        chunk = {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "c",
                 "type": "function", "function": {"name": "get_weather",
                 "arguments": arguments}}]}, "finish_reason": "tool_calls"}]}  # fmt: skip
        text = f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n"
    else:
        text = f'<tool_call>{{"name": "get_weather", "arguments": {arguments}}}</tool_call>'
    options: dict[str, Any] = {"tools": TOOLS, "check_arguments": True}
    whole = toolwire.parse(text, fmt, **options)
    payload: Any = text.encode() if data.draw(st.booleans()) else text
    chunks = data.draw(chunkings(payload))
    assert coalesce(toolwire.parse(chunks, fmt, **options)) == coalesce(whole)
    errors = [e for e in whole if isinstance(e, Error)]
    p = toolwire.parser(fmt, strict=True, **options)
    try:
        for c in chunks:
            p.feed(c)
        p.close()
    except toolwire.ParseError as exc:
        assert errors and (exc.code, exc.offset) == (errors[0].code, errors[0].offset)
    else:
        assert not errors
