"""Every registered text format follows grammars/README.md ("Adding a format"):
a commented grammar that loads, a mapping module whose docstring records the format's
decisions, a registered spec naming its model families, a renderer, and a test file of
its own.  A format added without one of these fails here, by name."""

from __future__ import annotations

import importlib
import pkgutil
import re
from importlib import resources
from pathlib import Path
from types import ModuleType

import pytest

from toolwire.engine.grammar import FormatSpec
from toolwire.loop.renderers import renderer_formats
from toolwire.registry import compiled, format_info, format_names, is_provider

TESTS = Path(__file__).parent
TEXT_FORMATS = [f for f in format_names() if not is_provider(f)]


def _modules() -> dict[str, ModuleType]:
    """Format id -> the module under parsers/formats/ that defines its spec."""
    found: dict[str, ModuleType] = {}
    package = importlib.import_module("toolwire.formats")  # the attribute is the function
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"toolwire.formats.{info.name}")
        specs = [getattr(module, "SPEC", None), *getattr(module, "SPECS", ())]
        for spec in specs:
            if isinstance(spec, FormatSpec):
                found[spec.name] = module
    return found


MODULES = _modules()


def test_the_guide_exists_and_names_the_steps() -> None:
    guide = resources.files("toolwire.grammars").joinpath("README.md")
    text = (TESTS.parent / "grammars" / "README.md").read_text("utf-8")
    for step in ("The grammar", "The mapping", "Register it", "Tests that come for free"):
        assert step in text
    assert not guide.is_file() or guide.read_text("utf-8") == text


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_mapping_module_documents_the_decisions(fmt: str) -> None:
    module = MODULES.get(fmt)
    assert module is not None, f"{fmt}: no SPEC/SPECS under parsers/formats/"
    doc = module.__doc__ or ""
    assert len(doc) >= 300, f"{module.__name__}: the docstring must list the format's decisions"
    assert "FORMATS.md" in doc or fmt == "tags", f"{module.__name__}: cite the facts' source"


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_spec_names_its_model_families(fmt: str) -> None:
    info = format_info(fmt)
    assert info.description.strip() and info.models.strip()


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_grammar_is_commented_and_loads(fmt: str) -> None:
    grammar = compiled(fmt)
    source = resources.files("toolwire.grammars").joinpath(grammar.spec.grammar)
    head = source.read_text("utf-8").splitlines()[0]
    assert head.startswith("//"), f"{grammar.spec.grammar}: open with the output's shape"
    assert grammar.delimiters, f"{fmt}: a grammar without delimiters"


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_has_a_renderer(fmt: str) -> None:
    assert fmt in renderer_formats()


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_has_tests_of_its_own(fmt: str) -> None:
    """A test file named after the format's module that uses the format's id."""
    module = MODULES[fmt].__name__.rsplit(".", 1)[1]
    files = [*TESTS.glob(f"test_format_{module}*.py"), *TESTS.glob(f"test_{module}_*.py")]
    quoted = re.compile(rf"[\"']{re.escape(fmt)}[\"']")
    assert any(quoted.search(f.read_text("utf-8")) for f in files), (
        f"{fmt}: no tests/test_format_{module}.py using {fmt!r}"
    )
