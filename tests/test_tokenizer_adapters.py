# ruff: noqa: RUF001  (fullwidth bars are part of DeepSeek's markers)
"""``as_tokenizer`` and its adapters, against real tokenizers trained per format.

For each library (tokenizers, transformers, tiktoken) and each format with a
renderer: the right adapter is picked, every marker is one id and that id is special,
``decode(encode(text)) == text`` for the format's own output and for generated text
mixed with marker text, and a character split across ids decodes as U+FFFD until its
last byte.  A library that is not installed skips its tests.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import toolwire
from tests.tokenizer_fixtures import (
    FORMAT_MARKERS,
    bpe_tokenizer,
    corpus,
    tiktoken_encoding,
    transformers_tokenizer,
)
from toolwire.events import ToolCall
from toolwire.framing.tokenizer import (
    TiktokenAdapter,
    Tokenizer,
    TokenizersAdapter,
    TransformersAdapter,
    as_tokenizer,
)
from toolwire.loop.renderers import renderer, renderer_formats

FORMATS = renderer_formats()
LIBRARIES: dict[str, tuple[Callable[[str], Any], type]] = {
    "tokenizers": (bpe_tokenizer, TokenizersAdapter),
    "transformers": (transformers_tokenizer, TransformersAdapter),
    "tiktoken": (tiktoken_encoding, TiktokenAdapter),
}
ALL_MARKERS = sorted({m for markers in FORMAT_MARKERS.values() for m in markers})
RARE = "\U0001d11e"
"""𝄞: four UTF-8 bytes that occur nowhere in the training corpus, so no merge joins
them and the character is spread over several ids."""


def library_object(library: str, format: str) -> Any:
    pytest.importorskip(library)
    if library == "transformers":
        pytest.importorskip("tokenizers")
    return LIBRARIES[library][0](format)


def tokenizer(library: str, format: str) -> Tokenizer:
    return as_tokenizer(library_object(library, format))


def marker_ids(tok: Tokenizer, format: str) -> dict[str, int]:
    ids = {m: tok.encode(m) for m in FORMAT_MARKERS[format]}
    assert all(len(v) == 1 for v in ids.values()), ids
    return {m: v[0] for m, v in ids.items()}


def test_every_renderer_format_has_markers() -> None:
    missing = set(FORMATS) - set(FORMAT_MARKERS)
    assert not missing, f"add the markers of {sorted(missing)} to FORMAT_MARKERS"


@pytest.mark.parametrize("library", LIBRARIES)
def test_as_tokenizer_picks_the_adapter(library: str) -> None:
    obj = library_object(library, "hermes")
    tok = as_tokenizer(obj)
    assert type(tok) is LIBRARIES[library][1]
    assert isinstance(tok, Tokenizer)
    assert tok.tokenizer is obj  # type: ignore[attr-defined]
    # An adapter already follows the protocol.
    assert as_tokenizer(tok) is tok


@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize("library", LIBRARIES)
def test_markers_are_single_special_ids(library: str, format: str) -> None:
    tok = tokenizer(library, format)
    ids = marker_ids(tok, format)
    assert tok.special_ids == frozenset(ids.values())
    assert tok.special_ids is tok.special_ids  # computed once
    for marker, i in ids.items():
        assert tok.decode([i]) == marker
        # Inside text too: the text of a special token becomes the special id.
        assert i in tok.encode(f"x{marker}y")
    assert len(tok.encode("")) == 0  # no BOS/EOS added


@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize("library", LIBRARIES)
def test_renderer_output_round_trips(library: str, format: str) -> None:
    tok = tokenizer(library, format)
    for text in dict.fromkeys(corpus(format)):
        ids = tok.encode(text)
        assert tok.decode(ids) == text
        # Markers in the output are special ids (the renderers' markup is tokenized).
        for marker, i in marker_ids(tok, format).items():
            assert ids.count(i) == text.count(marker)


_PIECES = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
    st.sampled_from(ALL_MARKERS),
    st.sampled_from(["<|", "<｜tool▁", "</tool_", "[TOOL_", '"}', "}\n", "\r\n", RARE]),
)


@pytest.mark.parametrize("library", LIBRARIES)
def test_generated_text_round_trips(library: str) -> None:
    library_object(library, "tags")  # skip before hypothesis runs

    @given(format=st.sampled_from(FORMATS), pieces=st.lists(_PIECES, max_size=8))
    def check(format: str, pieces: list[str]) -> None:
        tok = tokenizer(library, format)
        text = "".join(pieces)
        ids = tok.encode(text)
        assert tok.decode(ids) == text
        own = set(FORMAT_MARKERS[format])
        assert all(tok.decode([i]) in own for i in ids if i in tok.special_ids)

    check()


def _prefix_decodes(tok: Tokenizer, ids: Sequence[int]) -> list[str]:
    return [tok.decode(ids[:k]) for k in range(len(ids) + 1)]


@pytest.mark.parametrize("format", ["tags", "hermes", "deepseek-v3.1"])
@pytest.mark.parametrize("library", LIBRARIES)
def test_split_character_decodes_as_replacement(library: str, format: str) -> None:
    tok = tokenizer(library, format)
    marker = FORMAT_MARKERS[format][0] if FORMAT_MARKERS[format] else ""
    text = f"a{RARE}{marker}b"
    pieces = len(tok.encode(RARE))
    assert pieces > 1
    decoded = _prefix_decodes(tok, tok.encode(text))
    # decoded[1] is "a"; each id before the character's last leaves it incomplete.
    assert decoded[2 : 2 + pieces] == ["a\ufffd"] * (pieces - 1) + [f"a{RARE}"]
    assert all(text.startswith(d) for d in decoded if not d.endswith("\ufffd"))
    assert decoded[-1] == text


@pytest.mark.parametrize("library", LIBRARIES)
def test_split_character_before_a_marker(library: str) -> None:
    """An incomplete character stays U+FFFD when a special id follows it."""
    tok = tokenizer(library, "hermes")
    first = tok.encode(RARE)[0]
    assert tok.decode([first, *tok.encode("<|im_end|>")]) == "\ufffd<|im_end|>"


def _call_end(format: str, text: str) -> int:
    r = renderer(format)
    events = toolwire.parse(text, format, generation_prompt=r.prime)
    return next(e.span[1] for e in events if isinstance(e, ToolCall))


@pytest.mark.parametrize(
    "format", ["tags", "hermes", "qwen3-coder", "deepseek-v3", "llama4-pythonic"]
)
@pytest.mark.parametrize("library", ["tokenizers", "tiktoken"])
def test_fixtures_learn_overhang_tokens(library: str, format: str) -> None:
    """Some token carries the call's completing character and what follows it (``}\\n``,
    ``}</``, ``>\\n``, ``)]``): the token loop must handle a cut inside a token."""
    tok = tokenizer(library, format)
    r = renderer(format)
    text = r.render_call("lookup", {"path": "notes ü.txt", "limit": 3}) + r.end_of_turn
    end = _call_end(format, text)
    bounds = [len(d) for d in _prefix_decodes(tok, tok.encode(text))]
    assert end not in bounds


class Echo:
    """A tokenizer of its own: one id per code point, no special tokens."""

    def encode(self, text: str) -> list[int]:
        return [ord(c) for c in text]

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(map(chr, ids))

    @property
    def special_ids(self) -> frozenset[int]:
        return frozenset()


def test_protocol_object_is_passed_through() -> None:
    echo = Echo()
    assert as_tokenizer(echo) is echo


@pytest.mark.parametrize("obj", [None, "text", b"bytes", object(), {"encode": 1}])
def test_wrong_object_is_a_type_error(obj: Any) -> None:
    with pytest.raises(TypeError, match=r"tokenizers\.Tokenizer.*tiktoken\.Encoding"):
        as_tokenizer(obj)


def test_transformers_special_ids_include_unnamed_special_tokens() -> None:
    """Special added tokens that the config never named (not in ``all_special_ids``)."""
    pytest.importorskip("tokenizers")
    pytest.importorskip("transformers")
    from tokenizers import Tokenizer as HFTokenizer
    from transformers import PreTrainedTokenizerFast

    copy = HFTokenizer.from_str(bpe_tokenizer("harmony").to_str())
    hf = PreTrainedTokenizerFast(tokenizer_object=copy)
    tok = as_tokenizer(hf)
    assert tok.special_ids == frozenset(marker_ids(tok, "harmony").values())


def test_tokenizers_added_non_special_token_is_text() -> None:
    """Qwen's ``<tool_call>`` is an added token, one id, but not special."""
    pytest.importorskip("tokenizers")
    from tokenizers import Tokenizer as HFTokenizer

    copy = HFTokenizer.from_str(bpe_tokenizer("tags").to_str())
    copy.add_tokens(["<tool_call>"])
    tok = as_tokenizer(copy)
    assert len(tok.encode("<tool_call>")) == 1
    assert tok.special_ids == frozenset()


def test_import_does_not_load_tokenizer_libraries() -> None:
    code = (
        "import sys, toolwire, toolwire.framing.tokenizer\n"
        "loaded = {'tokenizers', 'transformers', 'tiktoken'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
