"""``toolwire check`` past one machine: the same record check as a Ray Data
``map_batches`` (``pip install 'toolwire[ray]'``).

``check_dataset(ds)`` runs ``check_record`` on every row in Ray's workers and brings
the results back in row order (the dataset's order is preserved), numbered as the
command numbers them, then adds them up into the same ``Summary``: on the same
records, the per-record results and the report are the command's.

A row is a record in one of two ways:

* ``column=None``: the row itself (``ray.data.read_parquet``, ``from_items``);
* ``column="text"``: a column holding each record as JSON text, the way
  ``ray.data.read_text`` reads a JSONL file, one row per line.  This keeps every
  record exactly as written; ``read_json`` goes through Arrow, whose inferred schema
  gives nested objects the union of their keys (missing ones as nulls), which can
  change a tool's JSON Schema.

Ray is imported when a function runs, and the dataset is duck-typed.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..check import CheckOptions, RecordResult, Summary, check_record

__all__ = ["check_batch", "check_dataset"]


def check_batch(rows: Sequence[Any], options: CheckOptions, column: str | None) -> list[str]:
    """Check a batch of rows; one JSON text per row: the result, ``{"skip": true}`` for
    a blank JSONL line, or ``{"unreadable": why}`` for a line that is not JSON."""
    out: list[str] = []
    for row in rows:
        record = row
        if column is not None:
            record = row[column] if isinstance(row, Mapping) else row
            if isinstance(record, bytes):
                record = record.decode("utf-8", "replace")
            if isinstance(record, str):
                if not record.strip():
                    out.append('{"skip": true}')
                    continue
                try:
                    record = json.loads(record)
                except ValueError as exc:
                    out.append(json.dumps({"unreadable": str(exc)}))
                    continue
        out.append(json.dumps(check_record(record, 0, options).to_json(), ensure_ascii=False))
    return out


def check_dataset(
    dataset: Any,
    *,
    column: str | None = None,
    format: str = "auto",
    field: str | None = None,
    tools: Sequence[Mapping[str, Any]] = (),
    schema: bool = True,
    batch_size: int = 1024,
) -> tuple[list[RecordResult], dict[str, Any]]:
    """Check every record of a Ray ``Dataset``: the per-record results (in row order)
    and the summary report (``toolwire check --report``'s JSON)."""
    ray_data: Any = importlib.import_module("ray.data")
    # Row order is the record order: on the current context and on the one the
    # dataset captured when it was created (Ray copies it then).
    ray_data.DataContext.get_current().execution_options.preserve_order = True
    own = getattr(dataset, "context", None)
    if own is not None:
        own.execution_options.preserve_order = True
    options = CheckOptions(format=format, field=field, tools=tuple(tools), schema=schema)

    def batch(table: Any) -> dict[str, list[str]]:
        return {"toolwire_result": check_batch(table.to_pylist(), options, column)}

    checked = dataset.map_batches(batch, batch_format="pyarrow", batch_size=batch_size)
    results: list[RecordResult] = []
    summary = Summary()
    index = 0
    docs = (
        doc
        for table in checked.iter_batches(batch_format="pyarrow", batch_size=None)
        for doc in table.column("toolwire_result").to_pylist()
    )
    for line, text in enumerate(docs, 1):
        doc = json.loads(text)
        if doc.get("skip"):
            continue
        result = RecordResult(index)
        if "unreadable" in doc:
            result.add_error(
                "invalid_record", f"line {line} is not JSON: {doc['unreadable']}", f"line {line}"
            )
        else:
            result.valid = doc["valid"]
            result.formats = doc["formats"]
            result.calls = doc["calls"]
            result.errors = doc["errors"]
        results.append(result)
        summary.add(result)
        index += 1
    return results, summary.to_json()
