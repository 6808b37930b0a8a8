"""The three things a token-level tool loop needs of a tokenizer, whatever library made it.

A loop that takes token ids in and gives token ids out (RL rollouts) encodes the text
it appends (closers, tool results, the next header), decodes what the model sampled,
and must know which ids are control tokens: a special id is one indivisible marker,
never a piece of text that a cut could split.  ``Tokenizer`` is that much and no more;
``as_tokenizer`` wraps the usual objects so the loop never depends on a library.

The adapters are duck-typed and import nothing: tokenizers, transformers and tiktoken
stay optional, and a tokenizer from any of them (or a look-alike) works as long as it
has the methods used here.  All three adapters agree on the conventions the loop
relies on:

- ``encode`` adds no BOS/EOS and maps the text of a special token to its id (the
  way chat templates are tokenized), so the ids of an appended ``<|im_end|>`` are the
  ones the model was trained on;
- ``decode`` renders special ids as their text and never cleans up spaces, so
  ``decode(encode(text)) == text`` for the byte-level tokenizers, and an incomplete
  UTF-8 sequence at the end becomes U+FFFD (which ``IncrementalDetokenizer`` waits on).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "TiktokenAdapter",
    "Tokenizer",
    "TokenizersAdapter",
    "TransformersAdapter",
    "as_tokenizer",
]


@runtime_checkable
class Tokenizer(Protocol):
    """What the token loop needs of a tokenizer."""

    def encode(self, text: str) -> list[int]:
        """Text to ids: special-token text becomes the special id; no BOS/EOS added."""
        ...

    def decode(self, ids: Sequence[int]) -> str:
        """Ids to text: special ids as their text, spaces as they are, an incomplete
        UTF-8 sequence as U+FFFD."""
        ...

    @property
    def special_ids(self) -> frozenset[int]:
        """The ids of special (control) tokens."""
        ...


class _Adapter:
    """Holds the wrapped tokenizer and computes its special ids once, on first use
    (a tokenizer is usually complete when wrapped; walking its added tokens per call
    would cost more than the encoding)."""

    __slots__ = ("_special_ids", "tokenizer")

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        """The wrapped library object."""
        self._special_ids: frozenset[int] | None = None

    @property
    def special_ids(self) -> frozenset[int]:
        if self._special_ids is None:
            self._special_ids = frozenset(int(i) for i in self._find_special_ids())
        return self._special_ids

    def _find_special_ids(self) -> list[Any]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.tokenizer!r})"


def _flagged_special(added: Any) -> list[Any]:
    """The ids of an ``{id: AddedToken}`` mapping whose token is flagged special."""
    return [i for i, token in dict(added).items() if getattr(token, "special", False)]


class TokenizersAdapter(_Adapter):
    """A ``tokenizers.Tokenizer``; its special ids are the added tokens flagged special
    (Qwen's ``<tool_call>`` is added but not special: it is text to the loop)."""

    __slots__ = ()

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def decode(self, ids: Sequence[int]) -> str:
        return str(self.tokenizer.decode(list(ids), skip_special_tokens=False))

    def _find_special_ids(self) -> list[Any]:
        return _flagged_special(self.tokenizer.get_added_tokens_decoder())


class TransformersAdapter(_Adapter):
    """A transformers ``PreTrainedTokenizerBase``, fast or slow; its special ids are
    ``all_special_ids`` (BOS, EOS, the additional special tokens) plus the added
    tokens flagged special, which ``all_special_ids`` leaves out when the config
    did not name them."""

    __slots__ = ()

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def decode(self, ids: Sequence[int]) -> str:
        # Slow tokenizers of transformers 4.x put spaces around special tokens
        # unless told not to; fast ones (and 5.x) ignore the flag.
        return str(
            self.tokenizer.decode(
                list(ids),
                skip_special_tokens=False,
                clean_up_tokenization_spaces=False,
                spaces_between_special_tokens=False,
            )
        )

    def _find_special_ids(self) -> list[Any]:
        ids = list(self.tokenizer.all_special_ids)
        added = getattr(self.tokenizer, "added_tokens_decoder", None)
        if added is not None:
            ids.extend(_flagged_special(added))
        return ids


class TiktokenAdapter(_Adapter):
    """A ``tiktoken.Encoding``: special-token text is allowed in ``encode`` (tiktoken
    raises on it by default), and ``decode`` replaces incomplete UTF-8 (its default)."""

    __slots__ = ()

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, allowed_special="all"))

    def decode(self, ids: Sequence[int]) -> str:
        return str(self.tokenizer.decode(list(ids)))

    def _find_special_ids(self) -> list[Any]:
        encoding = self.tokenizer
        return [encoding.encode_single_token(token) for token in encoding.special_tokens_set]


def _has(obj: Any, *names: str) -> bool:
    return all(hasattr(obj, name) for name in names)


def as_tokenizer(obj: Any) -> Tokenizer:
    """The ``Tokenizer`` for ``obj``: an object that already follows the protocol as
    is, else an adapter for a ``tokenizers.Tokenizer``, a transformers
    ``PreTrainedTokenizerBase`` (fast or slow) or a ``tiktoken.Encoding``, recognised
    by their methods (no library is imported).  TypeError for anything else."""
    if isinstance(obj, Tokenizer):
        return obj
    if _has(obj, "encode", "decode", "special_tokens_set", "encode_single_token"):
        return TiktokenAdapter(obj)
    if _has(obj, "encode", "decode", "all_special_ids", "convert_ids_to_tokens"):
        return TransformersAdapter(obj)
    if _has(obj, "encode", "decode", "get_added_tokens_decoder"):
        return TokenizersAdapter(obj)
    raise TypeError(
        "expected a tokenizer: a tokenizers.Tokenizer, a transformers "
        "PreTrainedTokenizerBase, a tiktoken.Encoding, or an object with encode(text), "
        f"decode(ids) and special_ids (toolwire.Tokenizer); got {type(obj).__name__}"
    )
