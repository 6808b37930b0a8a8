"""Reading dataset files record by record, in bounded memory.

JSON Lines is read line by line (a line that is not JSON is reported with its line
number, and the next line goes on); a file holding one big JSON array is streamed
item by item with ``ijson`` (memory does not grow with the file; a syntax error ends
the array, reported where it is); Parquet is read batch by batch with ``pyarrow``
(the ``parquet`` extra).  Each source also says how far it has read, for the
progress bar.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, Literal

__all__ = ["Dataset", "RawLine", "Unreadable", "open_dataset"]

Kind = Literal["auto", "jsonl", "json", "parquet"]
PARQUET_BATCH = 1024


@dataclass(frozen=True, slots=True)
class RawLine:
    """A JSON Lines record not decoded yet (a worker process decodes it)."""

    number: int
    data: bytes

    def decode(self) -> Any:
        """The record, or ``Unreadable`` naming the line."""
        try:
            return json.loads(self.data)
        except ValueError as exc:
            return Unreadable(self.number, f"line {self.number} is not JSON: {exc}")


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A record that could not be read: where, and why."""

    line: int | None
    message: str


class Dataset:
    """The records of one file (or stdin), in order, with progress information."""

    def __init__(self, source: IO[bytes], kind: Kind, size: int | None, path: str) -> None:
        self._source = source
        self.size = size
        """Bytes in the file (None for a pipe), or rows for Parquet."""
        self.kind = kind
        self.path = path
        self.done = 0
        """Bytes (rows for Parquet) read so far."""

    def records(self, raw: bool = False) -> Iterator[Any]:
        """Each record (a decoded JSON value), or ``Unreadable``; with ``raw``, JSON
        Lines records come as ``RawLine`` for the worker that checks them to decode."""
        if self.kind == "parquet":
            yield from self._parquet()
        elif self.kind == "json":
            yield from self._array()
        else:
            yield from self._lines(raw)

    def close(self) -> None:
        self._source.close()

    def _lines(self, raw: bool) -> Iterator[Any]:
        for number, data in enumerate(self._source, 1):
            self.done += len(data)
            line = data.strip()
            if line:
                item = RawLine(number, line)
                yield item if raw else item.decode()

    def _array(self) -> Iterator[Any]:
        ijson: Any = importlib.import_module("ijson")

        try:
            for item in ijson.items(self._source, "item", use_float=True):
                self.done = self._source.tell() if self._source.seekable() else self.done
                yield item
        except (ijson.JSONError, UnicodeDecodeError) as exc:
            # ijson raises UnicodeDecodeError for a lone surrogate escape (\udc00).
            yield Unreadable(None, f"the JSON array breaks off: {exc}")

    def _parquet(self) -> Iterator[Any]:
        pq: Any = importlib.import_module("pyarrow.parquet")

        table = pq.ParquetFile(self._source)
        for batch in table.iter_batches(batch_size=PARQUET_BATCH):
            rows = batch.to_pylist()
            for row in rows:
                self.done += 1
                yield row


def open_dataset(path: str, kind: Kind = "auto") -> Dataset:
    """Open ``path`` (``-`` for stdin) as a dataset; OSError when it cannot be read,
    ImportError when its kind needs an extra that is not installed."""
    if path == "-":
        import sys

        source: IO[bytes] = sys.stdin.buffer
        size = None
    else:
        source = open(path, "rb")  # noqa: SIM115 - the Dataset closes it
        size = os.fstat(source.fileno()).st_size
    if kind == "auto":
        kind = _kind(path, source)
    if kind == "parquet":
        try:
            pq: Any = importlib.import_module("pyarrow.parquet")
        except ImportError as exc:
            source.close()
            raise ImportError("Parquet needs pyarrow: pip install 'toolwire[parquet]'") from exc
        size = pq.ParquetFile(source).metadata.num_rows
        source.seek(0)
    return Dataset(source, kind, size, path)


def _kind(path: str, source: IO[bytes]) -> Kind:
    """By extension, else by the first byte: ``[`` a JSON array, otherwise lines."""
    lower = path.lower()
    if lower.endswith(".parquet"):
        return "parquet"
    if lower.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    peek = getattr(source, "peek", None)
    head = peek(64) if peek is not None else b""
    return "json" if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"[" else "jsonl"
