"""Incremental, strict UTF-8 decoding of byte chunks.

A multi-byte character split across chunks waits for its remaining bytes (the codec's
own buffer); invalid bytes are never repaired: they are reported, by position, as an
``InvalidBytes`` marker in the output, and decoding goes on after them.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

__all__ = ["InvalidBytes", "Utf8Decoder"]


@dataclass(frozen=True, slots=True)
class InvalidBytes:
    """Bytes that are not UTF-8, at this point of the decoded text."""

    data: bytes
    reason: str


class Utf8Decoder:
    __slots__ = ("_decoder",)

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")

    def decode(self, data: bytes, final: bool = False) -> list[str | InvalidBytes]:
        """Decoded text and invalid-byte markers, in input order."""
        out: list[str | InvalidBytes] = []
        while True:
            try:
                text = self._decoder.decode(data, final)
            except UnicodeDecodeError as exc:
                # exc.object is the codec's pending bytes followed by ``data``.
                good = exc.object[: exc.start].decode("utf-8")
                if good:
                    out.append(good)
                out.append(InvalidBytes(exc.object[exc.start : exc.end], exc.reason))
                self._decoder.reset()
                data = exc.object[exc.end :]
                continue
            if text:
                out.append(text)
            return out

    @property
    def pending(self) -> bool:
        """Bytes of an incomplete character are waiting."""
        return bool(self._decoder.getstate()[0])
