"""The summary of a dataset check: counts and the first examples of each error.

Results are added in record order, whatever ran them (one process, ``--jobs N``, a Ray
cluster), so the same records always give the same summary, examples included.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .checker import RecordResult

__all__ = ["EXAMPLES", "Summary"]

EXAMPLES = 3
"""Examples kept per error code."""


class Summary:
    """Records, valid records, errors per code, calls and errors per tool, records per
    format, and the first ``EXAMPLES`` errors of each code."""

    def __init__(self) -> None:
        self.records = 0
        self.valid = 0
        self.codes: Counter[str] = Counter()
        self.formats: Counter[str] = Counter()
        self.tool_calls: Counter[str] = Counter()
        self.tool_errors: Counter[str] = Counter()
        self.examples: dict[str, list[dict[str, Any]]] = {}

    def add(self, result: RecordResult) -> None:
        self.records += 1
        self.valid += result.valid
        self.formats.update(result.formats)
        self.tool_calls.update(result.calls)
        for error in result.errors:
            code = error["code"]
            self.codes[code] += 1
            if "tool" in error:
                self.tool_errors[error["tool"]] += 1
            kept = self.examples.setdefault(code, [])
            if len(kept) < EXAMPLES:
                kept.append({"record": result.index, **error})

    def to_json(self) -> dict[str, Any]:
        tools = sorted(set(self.tool_calls) | set(self.tool_errors))
        return {
            "records": self.records,
            "valid": self.valid,
            "invalid": self.records - self.valid,
            "errors": dict(sorted(self.codes.items())),
            "formats": dict(sorted(self.formats.items())),
            "tools": {
                t: {"calls": self.tool_calls[t], "errors": self.tool_errors[t]} for t in tools
            },
            "examples": {code: self.examples[code] for code in sorted(self.examples)},
        }

    def lines(self) -> list[str]:
        """The summary as a person reads it on a terminal."""
        invalid = self.records - self.valid
        out = [f"{self.records} records: {self.valid} valid, {invalid} invalid"]
        if self.formats:
            out.append("formats: " + ", ".join(f"{f} {n}" for f, n in sorted(self.formats.items())))
        if self.tool_calls or self.tool_errors:
            out.append("tools:")
            for t in sorted(set(self.tool_calls) | set(self.tool_errors)):
                out.append(f"  {t}: {self.tool_calls[t]} calls, {self.tool_errors[t]} errors")
        if self.codes:
            out.append("errors:")
            for code, n in sorted(self.codes.items()):
                out.append(f"  {code}: {n}")
                for ex in self.examples.get(code, []):
                    at = f":{ex['line']}:{ex['column']}" if ex.get("line") is not None else ""
                    excerpt = f"  [{ex['excerpt']}]" if ex.get("excerpt") else ""
                    out.append(f"    record {ex['record']} {ex['where']}{at}: {ex['message']}"
                               f"{excerpt}")  # fmt: skip
        return out
