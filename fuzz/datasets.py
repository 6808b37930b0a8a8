"""The ``check`` fuzz family: the dataset checker (``toolwire check``) and format
detection on arbitrary bytes.

The document is a JSON Lines dataset.  The rule:

* ``detect_format`` never raises and names a known format or None, for the whole
  document and for every line;
* every line is a record or an ``invalid_record`` naming that line, and nothing but
  the checker's documented codes comes out; a record is valid exactly when it has no
  error; positions lie inside the checked text;
* checking record by record, in shards of any size, and (when every line decodes)
  reading the lines as one JSON array give the same results and the same summary,
  which is JSON.

Small limits (the selector's bit 7) check with ``--field output`` instead of the
conversation shape, so both record shapes are reached.
"""

from __future__ import annotations

import io
import json
import random

import toolwire
from toolwire.check import CheckOptions, Summary
from toolwire.check.checker import INVALID_RECORD, UNKNOWN_FORMAT
from toolwire.cli.check import check_shard
from toolwire.cli.datasets import Dataset, RawLine, Unreadable

__all__ = ["check_dataset"]

CODES = {str(code) for code in toolwire.ErrorCode} | {INVALID_RECORD, UNKNOWN_FORMAT}
FORMATS = set(toolwire.formats())
TOOLS = (
    {
        "type": "function",
        "function": {
            "name": "f",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "integer"}},
                "required": ["a"],
            },
        },
    },
)


def check_dataset(data: bytes, seed: int, *, field_mode: bool) -> None:
    """Assert the rule above on one JSON Lines document."""
    assert toolwire.detect_format(data) in FORMATS | {None}
    options = CheckOptions(field="output" if field_mode else None, tools=TOOLS)
    items = list(Dataset(io.BytesIO(data), "jsonl", len(data), "<fuzz>").records(raw=True))
    lines = [line for line in data.split(b"\n") if line.strip()]
    assert len(items) == len(lines), (len(items), len(lines))
    for line in lines:
        assert toolwire.detect_format(line) in FORMATS | {None}
    whole = [r.to_json() for r in check_shard(list(enumerate(items)), options)]
    rng = random.Random(seed)
    sharded = []
    start = 0
    while start < len(items):
        size = rng.randint(1, 4)
        shard = list(enumerate(items))[start : start + size]
        sharded += [r.to_json() for r in check_shard(shard, options)]
        start += size
    assert sharded == whole
    summary = Summary()
    decoded = [item.decode() for item in items if isinstance(item, RawLine)]
    for i, result in enumerate(check_shard(list(enumerate(items)), options)):
        summary.add(result)
        doc = result.to_json()
        assert doc["record"] == i
        assert doc["valid"] == (not doc["errors"])
        for error in doc["errors"]:
            assert error["code"] in CODES, error
            assert error.get("offset") is None or error["offset"] >= 0, error
    report = json.loads(json.dumps(summary.to_json()))
    assert report["records"] == len(items)
    assert report["valid"] + report["invalid"] == report["records"]
    if decoded and not any(isinstance(d, Unreadable) for d in decoded):
        try:
            array = json.dumps(decoded, allow_nan=False).encode()
        except (ValueError, RecursionError):
            return  # NaN or nesting past Python's limit: not an array ijson reads alike
        ds = Dataset(io.BytesIO(array), "json", len(array), "<fuzz>")
        records = list(ds.records())
        if any(isinstance(r, Unreadable) for r in records):
            return  # ijson refuses a lone surrogate escape that json.loads accepted
        via_array = [r.to_json() for r in check_shard(list(enumerate(records)), options)]
        assert via_array == whole
