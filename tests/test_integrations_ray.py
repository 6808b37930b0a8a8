"""The dataset check on a local Ray (``toolwire.integrations.ray``): the same results,
record for record, and the same report as ``toolwire check`` with one process and
with two."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_check import TOOLS, conversation, run_cli, write_jsonl
from toolwire.integrations.ray import check_dataset

ray = pytest.importorskip("ray")
pytest.importorskip("jsonschema")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def dataset_records() -> list[Any]:
    records: list[Any] = []
    for i in range(120):
        kind = i % 5
        if kind == 0:
            records.append(conversation('{"city": "Paris"}'))
        elif kind == 1:
            records.append(conversation('{"city": 3}'))
        elif kind == 2:
            records.append(conversation('{"city": ', name="get_weather"))
        elif kind == 3:
            records.append(conversation('{"city": "x"}', name="get_time"))
        else:
            records.append({"messages": [{"role": "assistant", "content": "Sunny."}]})
    return records


def test_ray_agrees_with_the_command(local_ray: Any, tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", dataset_records(), bad_line=True)
    report_file = tmp_path / "r.json"
    runs = []
    for jobs in ("1", "2"):
        code, out, _ = run_cli("check", str(data), "--jsonl", "--jobs", jobs,
                               "--report", str(report_file))  # fmt: skip
        assert code == 1
        runs.append(([json.loads(line) for line in out.splitlines()], report_file.read_text()))
    assert runs[0] == runs[1]
    cli_results, cli_report = runs[0]
    results, report = check_dataset(local_ray.data.read_text(str(data)), column="text",
                                    batch_size=16)  # fmt: skip
    assert [r.to_json() for r in results] == cli_results
    assert report == json.loads(cli_report)
    assert report["records"] == 121 and report["errors"]["invalid_record"] == 1


def test_ray_rows_as_records(local_ray: Any) -> None:
    records = [{"output": '<tool_call>{"name": "get_weather", "arguments": {"city": 1}}'
                          "</tool_call>"}] * 10  # fmt: skip
    results, report = check_dataset(local_ray.data.from_items(records), field="output", tools=TOOLS)
    assert len(results) == 10 and report["errors"] == {"invalid_arguments": 10}
    assert report["formats"] == {"hermes": 10}
