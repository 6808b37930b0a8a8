"""Shared test helpers: hypothesis profiles, chunkings, event coalescing, the corpus."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import toolwire
from toolwire.events import Event
from toolwire.testing import coalesce

__all__ = ["chunkings", "coalesce", "corpus_root", "run", "split_at"]

settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def split_at(data: Any, cuts: Sequence[int]) -> list[Any]:
    """``data`` cut at the given (sorted, in-range) positions."""
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@st.composite
def chunkings(draw: st.DrawFn, data: Any, max_cuts: int = 40) -> list[Any]:
    """A split of ``data`` (str or bytes) into chunks at arbitrary positions,
    including inside UTF-8 sequences and between CR and LF."""
    if len(data) <= 1:
        return [data]
    cuts = draw(
        st.lists(st.integers(1, len(data) - 1), max_size=min(max_cuts, len(data) - 1), unique=True)
    )
    return split_at(data, sorted(cuts))


def run(format: str, chunks: Iterable[str | bytes], **options: Any) -> list[Event]:
    """All events of feeding ``chunks`` then closing."""
    parser = toolwire.parser(format, **options)
    events: list[Event] = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    events.extend(parser.close())
    return events


def corpus_root() -> Path | None:
    """The shared corpus: $TOOLWIRE_CORPUS, else $TOOLWIRE_SHARED/corpus, else
    ../shared/corpus beside the checkout; None when absent."""
    for candidate in (
        os.environ.get("TOOLWIRE_CORPUS"),
        os.path.join(os.environ["TOOLWIRE_SHARED"], "corpus")
        if "TOOLWIRE_SHARED" in os.environ
        else None,
        str(Path(__file__).resolve().parents[2] / "shared" / "corpus"),
    ):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


@pytest.fixture
def corpus() -> Path:
    root = corpus_root()
    if root is None:
        pytest.skip("shared corpus not found (set TOOLWIRE_CORPUS)")
    return root
