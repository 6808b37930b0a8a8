# ruff: noqa: RUF001  (fullwidth bars and Greek letters are the point of these strings)
"""Real tokenizers for the token-level tests, trained in memory at test time.

No model's vocabulary can be downloaded in tests, and a toy tokenizer would hide the
behaviour that matters: byte-level pieces that split a UTF-8 character, merges that
glue a call's completing ``}`` to the punctuation after it (``"}``, ``}\\n``: "overhang"
tokens that carry more than the call), and markers that are one special id.  So each
format gets a small byte-level BPE trained on its own renderer's output plus generic
prose, with the format's markers (FORMATS.md) added as special tokens, as in the real
vocabularies.  Training takes milliseconds; results are cached per format, so callers
must not modify the returned objects.

``bpe_tokenizer`` builds a ``tokenizers.Tokenizer``, ``transformers_tokenizer`` the
same wrapped in ``PreTrainedTokenizerFast``, ``tiktoken_encoding`` a
``tiktoken.Encoding`` whose merges are counted on the same corpus.  Each imports its
library when called, so this module imports without them.  ``sampled_ids`` re-cuts a
text into the ids a model could have sampled (boundaries inside characters), for the
token-loop tests and the ``tokens`` fuzz family.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from toolwire.events import ToolCall
from toolwire.formats.special_tokens import SPECIAL_TOKENS
from toolwire.loop.renderers import ToolResult, renderer, renderer_formats

if TYPE_CHECKING:
    import tiktoken
    import tokenizers
    import transformers

__all__ = [
    "FORMAT_MARKERS",
    "VOCAB_SIZE",
    "bpe_tokenizer",
    "corpus",
    "sampled_ids",
    "special_ids",
    "tiktoken_encoding",
    "transformers_tokenizer",
]

FORMAT_MARKERS: dict[str, list[str]] = {fmt: list(m) for fmt, m in SPECIAL_TOKENS.items()}
"""The single-token markers of each format with a renderer (``toolwire.formats.special_tokens``),
made special tokens of that format's fixture tokenizers."""

VOCAB_SIZE = 800
"""Byte alphabet (256) + markers + a few hundred merges: enough for merges across
JSON punctuation, small enough that multi-byte characters outside the corpus stay
split into bytes."""

TIKTOKEN_MERGES = 48
"""Merges counted for the tiktoken fixture (a few dozen, by simple pair counting)."""

_PROSE = """\
The quick brown fox jumps over the lazy dog. Naïve café owners in Zürich serve crème brûlée.
Greek letters: α, β, γ, δ and ε; the word "Ελλάδα" means Greece. 日本語のテキストと中文文本。
Emoji 🙂 and 🚀 are four bytes each in UTF-8; ü and é are two, € is three.
Here is some JSON: {"id": 7, "name": "fetch_row", "tags": ["x", "y"], "ok": true, "v": null}
and a list [1, 2, 3] inside text, then {"nested": {"a": {"b": [{"c": "d"}]}}}.

def fetch_row(table: str, id: int) -> dict[str, object]:
    \"\"\"Return one row.\"\"\"
    if id < 0:
        raise ValueError("negative id")
    return {"table": table, "id": id, "values": [1.5, -2, 3e10]}

for (let i = 0; i < n; i++) { out.push({"i": i}); }
SELECT name, count(*) FROM rows WHERE id = 7 GROUP BY name;
Lines end with \\n; tabs\tseparate\tcolumns; "quotes" and 'apostrophes' and back\\slashes.
The answer is 42. It's done, isn't it? Yes: we'll see what they've said.
"""

_CALLS: list[tuple[str, dict[str, Any], str]] = [
    ("lookup", {"path": "notes ü.txt", "limit": 3}, '{"lines": ["première", "δεύτερη"]}'),
    ("get_weather", {"city": "Zürich", "unit": "celsius"}, '{"temp": 21.5, "sky": "☀"}'),
    (
        "search",
        {"query": "naïve café 🙂", "tags": ["a", "b"], "deep": True, "page": None},
        "3 results: 東京, 北京, Ελλάδα",
    ),
    ("run_code", {"code": 'def f(x):\n    return {"k": x}\n'}, "ok\n"),
    ("ping", {}, "pong"),
    ("write_file", {"path": "/tmp/a b.json", "content": '{"a": [1, {"b": null}]}'}, '{"ok": true}'),
]


def _result(name: str, arguments: dict[str, Any], content: str) -> ToolResult:
    call = ToolCall(index=0, id="call_0", name=name, arguments=arguments, raw="", span=(0, 0))
    return ToolResult(call=call, value=None, error=None, content=content)


@functools.cache
def corpus(format: str) -> tuple[str, ...]:
    """The training texts: the format's calls, as the model writes them and as the loop
    continues them, with results and answers; then the prose."""
    texts: list[str] = []
    if format in renderer_formats():
        r = renderer(format)
        for name, arguments, content in _CALLS:
            call = r.generation_prompt + r.render_call(name, arguments)
            result = [_result(name, arguments, content)]
            answer = r.render_answer(f"The result of {name} is {content}.")
            texts.append(call + r.end_of_turn + r.render_results(result) + answer)
            texts.append(call + r.continuation(call, result) + answer)
    return (*texts * 4, _PROSE, _PROSE)


@functools.cache
def bpe_tokenizer(format: str) -> tokenizers.Tokenizer:
    """A byte-level BPE trained on ``corpus(format)``, each marker one special id."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    markers = FORMAT_MARKERS[format]
    tok = Tokenizer(models.BPE())
    # Split as Llama 3 and Qwen2 do (GPT-2's split, ByteLevel's default, never joins
    # punctuation to a newline, so no "}\\n" token could be learnt).
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_PAT_STR), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    # Added before training so that no merge is learnt from inside a marker.
    tok.add_special_tokens(markers)
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=markers,
        show_progress=False,
    )
    tok.train_from_iterator(corpus(format), trainer)
    return tok


def special_ids(tok: tokenizers.Tokenizer) -> frozenset[int]:
    """The ids of the added tokens flagged special."""
    return frozenset(i for i, t in tok.get_added_tokens_decoder().items() if t.special)


@functools.cache
def transformers_tokenizer(format: str) -> transformers.PreTrainedTokenizerFast:
    """``bpe_tokenizer(format)`` (a copy) as a transformers fast tokenizer, the markers
    registered as additional special tokens so that ``all_special_ids`` has them."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    copy = Tokenizer.from_str(bpe_tokenizer(format).to_str())
    return PreTrainedTokenizerFast(
        tokenizer_object=copy, additional_special_tokens=FORMAT_MARKERS[format]
    )


_PAT_STR = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
"""The split pattern of Llama 3 and Qwen2 (cl100k_base's): a punctuation run takes
the newlines after it, so ``"}\\n`` is one piece and can become one token."""


def _pieces(format: str) -> Counter[bytes]:
    """The corpus cut at the markers and split by the pattern, counted."""
    import regex

    markers = sorted(FORMAT_MARKERS[format], key=len, reverse=True)
    cut = re.compile("|".join(map(re.escape, markers))) if markers else None
    pattern = regex.compile(_PAT_STR)
    counts: Counter[bytes] = Counter()
    for text in corpus(format):
        for part in cut.split(text) if cut else [text]:
            counts.update(piece.encode() for piece in pattern.findall(part))
    return counts


def _count_merges(counts: Counter[bytes], n: int) -> list[bytes]:
    """``n`` BPE merges: repeatedly join the most frequent adjacent pair."""
    words = [([bytes([b]) for b in piece], count) for piece, count in counts.items()]
    merges: list[bytes] = []
    for _ in range(n):
        pairs: Counter[tuple[bytes, bytes]] = Counter()
        for parts, count in words:
            for pair in itertools.pairwise(parts):
                pairs[pair] += count
        if not pairs:
            break
        (a, b), _count = pairs.most_common(1)[0]
        merges.append(a + b)
        for parts, _count in words:
            i = 0
            while i < len(parts) - 1:
                if parts[i] == a and parts[i + 1] == b:
                    parts[i : i + 2] = [a + b]
                i += 1
    return merges


@functools.cache
def tiktoken_encoding(format: str) -> tiktoken.Encoding:
    """A ``tiktoken.Encoding``: the 256 bytes, ``TIKTOKEN_MERGES`` merges counted on
    ``corpus(format)``, then the markers as special tokens."""
    import tiktoken

    ranks = {bytes([b]): b for b in range(256)}
    for merged in _count_merges(_pieces(format), TIKTOKEN_MERGES):
        ranks.setdefault(merged, len(ranks))
    specials = {marker: len(ranks) + i for i, marker in enumerate(FORMAT_MARKERS[format])}
    return tiktoken.Encoding(
        name=f"toolwire-test-{format}",
        pat_str=_PAT_STR,
        mergeable_ranks=ranks,
        special_tokens=specials,
    )


# -- re-cutting a text into ids, as a model could have sampled it ----------------------


def _byte_chars() -> dict[int, str]:
    """GPT-2's byte-to-character table, the alphabet of a byte-level BPE."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs), strict=True))


BYTE_CHARS = _byte_chars()


def sampled_ids(tok: Any, text: str, cuts: Sequence[int] = ()) -> list[int]:
    """The ids of ``text`` with markers as their special ids and the rest cut at the
    given byte offsets (within a piece), each piece tokenized by the BPE model alone:
    a valid tokenization whose boundaries may fall inside a character."""
    specials = sorted(
        (t.content for t in tok.get_added_tokens_decoder().values()), key=len, reverse=True
    )
    ids: list[int] = []
    i = 0
    plain = bytearray()
    base = 0

    def flush() -> None:
        nonlocal plain
        points = sorted({c - base for c in cuts if 0 < c - base < len(plain)})
        for a, b in zip([0, *points], [*points, len(plain)], strict=True):
            piece = "".join(BYTE_CHARS[x] for x in plain[a:b])
            ids.extend(t.id for t in tok.model.tokenize(piece))
        plain = bytearray()

    offset = 0
    while i < len(text):
        marker = next((m for m in specials if text.startswith(m, i)), None)
        if marker is not None:
            flush()
            ids.append(tok.token_to_id(marker))
            i += len(marker)
            offset += len(marker.encode())
            base = offset
            continue
        data = text[i].encode()
        plain += data
        offset += len(data)
        i += 1
    flush()
    return ids
