"""``toolwire check DATA``: validate every record of a dataset or rollout log.

Records are checked in shards; with ``--jobs N`` the shards go to N worker processes,
at most 2N of them in flight, and their results come back in record order, so the
output is the same as with one process and memory is bounded by the shard size, not
the file.  Per-record results stream out (``--jsonl``), or the failing records are
listed; the summary (counts per error code, tool and format, the first examples of
each error) follows, and ``--report FILE`` writes it all as JSON.  On a terminal a
progress line shows records/s and the time left.

Exit status: 0 every record is valid, 1 some are not, 2 usage or I/O error.
"""

from __future__ import annotations

import json
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import IO, Any

from ..check import CheckOptions, RecordResult, Summary, check_record
from ..check.checker import INVALID_RECORD
from .datasets import Dataset, RawLine, Unreadable, open_dataset

__all__ = ["check_records", "run"]

SHARD = 256
"""Records per unit of work."""

Item = tuple[int, Any]


def check_shard(shard: list[Item], options: CheckOptions) -> list[RecordResult]:
    """Check a shard of (index, record) pairs (a worker process's unit of work)."""
    out = []
    for index, record in shard:
        if isinstance(record, RawLine):
            record = record.decode()
        if isinstance(record, Unreadable):
            result = RecordResult(index)
            where = f"line {record.line}" if record.line is not None else "file"
            result.add_error(INVALID_RECORD, record.message, where)
            out.append(result)
        else:
            out.append(check_record(record, index, options))
    return out


def _shards(records: Iterable[Any]) -> Iterator[list[Item]]:
    shard: list[Item] = []
    for item in enumerate(records):
        shard.append(item)
        if len(shard) == SHARD:
            yield shard
            shard = []
    if shard:
        yield shard


def check_records(
    records: Iterable[Any], options: CheckOptions, jobs: int = 1
) -> Iterator[RecordResult]:
    """Each record's result, in record order, from ``jobs`` processes."""
    if jobs <= 1:
        for shard in _shards(records):
            yield from check_shard(shard, options)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        pending: deque[Future[list[RecordResult]]] = deque()
        for shard in _shards(records):
            pending.append(pool.submit(check_shard, shard, options))
            if len(pending) >= 2 * jobs:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


class _Progress:
    """``records  N/s  ETA`` on one terminal line, at most ten times a second."""

    def __init__(self, err: IO[str], dataset: Dataset) -> None:
        self._err = err
        self._dataset = dataset
        self._on = err.isatty()
        self._start = self._last = time.monotonic()

    def show(self, records: int) -> None:
        now = time.monotonic()
        if not self._on or now - self._last < 0.1:
            return
        self._last = now
        rate = records / max(now - self._start, 1e-9)
        ds = self._dataset
        eta = ""
        if ds.size and ds.done:
            left = (now - self._start) * (ds.size - ds.done) / ds.done
            eta = f"  ETA {int(left) // 60}:{int(left) % 60:02d}"
        self._err.write(f"\r{records} records  {rate:,.0f}/s{eta}   ")
        self._err.flush()

    def end(self) -> None:
        if self._on:
            self._err.write("\r\x1b[K")
            self._err.flush()


def run(args: Any, out: IO[str], err: IO[str]) -> int:
    """The ``check`` subcommand (``args`` from ``command.py``'s argument parser)."""
    if args.jobs < 1:
        err.write("toolwire: error: --jobs must be at least 1\n")
        return 2
    tools: tuple[Any, ...] = ()
    if args.tools:
        try:
            with open(args.tools, encoding="utf-8") as f:
                loaded = json.load(f)
        except (OSError, ValueError) as exc:
            err.write(f"toolwire: error: cannot read tools from {args.tools}: {exc}\n")
            return 2
        tools = tuple(loaded.get("tools", []) if isinstance(loaded, dict) else loaded)
    options = CheckOptions(
        format=args.format, field=args.field, tools=tools, schema=not args.no_schema
    )
    try:
        dataset = open_dataset(args.data, args.input)
    except (OSError, ImportError) as exc:
        err.write(f"toolwire: error: cannot read {args.data}: {exc}\n")
        return 2
    summary = Summary()
    progress = _Progress(err, dataset)
    try:
        records = dataset.records(raw=args.jobs > 1)  # workers decode JSON Lines
        for result in check_records(records, options, args.jobs):
            summary.add(result)
            progress.show(summary.records)
            if args.jsonl:
                out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
            elif not result.valid:
                for e in result.errors:
                    at = f":{e['line']}:{e['column']}" if e.get("column") is not None else ""
                    out.write(f"record {result.index}: {e['where']}{at}: {e['code']}: "
                              f"{e['message']}\n")  # fmt: skip
    except OSError as exc:
        progress.end()
        err.write(f"toolwire: error: cannot read {args.data}: {exc}\n")
        return 2
    finally:
        dataset.close()
    progress.end()
    report = summary.to_json()
    if args.report:
        try:
            with open(args.report, "w", encoding="utf-8") as f:
                json.dump(report, f, ensure_ascii=False, indent=2)
        except OSError as exc:
            err.write(f"toolwire: error: cannot write {args.report}: {exc}\n")
            return 2
    (err if args.jsonl else out).write("\n".join(summary.lines()) + "\n")
    return 0 if summary.valid == summary.records else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: toolwire check")
