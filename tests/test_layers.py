"""The package's layers (ARCHITECTURE.md): a module imports only from its own layer
and the layers below it, so the tree reads as the data flow and a lower layer can be
read, tested and reused without the ones above it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "parsers"

# Lowest first.  A top-level module is its own entry; a folder is one layer.
LAYERS: list[set[str]] = [
    {"events", "errors", "positions", "limits", "message"},
    {"framing"},
    {"values"},
    {"engine"},
    {"formats", "providers"},
    {"registry", "detect"},
    {"loop"},
    # The facade (``toolwire.parser``, ``parse`` and every public name) on top.
    {"__init__", "adapters", "testing", "integrations", "cli", "check"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _unit(parts: list[str]) -> str:
    """The layer entry of a module given as its path below the package."""
    return parts[0] if parts else "__init__"


def _imports(source: str, package: list[str]) -> list[tuple[int, list[str]]]:
    """(line, imported module's path below the package) for every toolwire import of
    a module in ``package`` (path parts below toolwire), lazy and type-checking
    ones included."""
    found: list[tuple[int, list[str]]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == "toolwire":
                target = node.module.split(".")[1:]
            else:
                continue
            if node.module is None or not target:  # from . import a, b
                found += [(node.lineno, [*target, alias.name]) for alias in node.names]
            else:
                found.append((node.lineno, target))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "toolwire":
                    found.append((node.lineno, parts[1:]))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_unit_has_a_layer() -> None:
    units = {_unit(list(p.relative_to(PACKAGE).with_suffix("").parts)) for p in MODULES}
    assert units <= set(RANK), f"modules without a layer: {sorted(units - set(RANK))}"


def _upward(source: str, parts: list[str]) -> list[str]:
    """The imports of the module at ``parts`` (below toolwire) that reach up."""
    own = _unit(parts)
    return [
        f"line {line}: imports toolwire.{'.'.join(target)}"
        for line, target in _imports(source, parts[:-1])
        if _unit(target) in RANK and RANK[_unit(target)] > RANK[own]
    ]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_down_the_layers(path: Path) -> None:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    upward = _upward(path.read_text("utf-8"), parts)
    assert not upward, f"{path.relative_to(PACKAGE)} ({_unit(parts)}) reaches up: {upward}"


@pytest.mark.parametrize(
    ("source", "parts", "caught"),
    [
        ("from ..loop.stop import stop_at\n", ["engine", "driver"], True),
        ("def f():\n    from ..loop import stop\n", ["engine", "driver"], True),
        ("import toolwire.cli.command\n", ["values", "pylit"], True),
        ("from .. import registry\n", ["providers", "base"], True),
        ("from ..values.json_engine import JsonScanner\n", ["engine", "islands"], False),
        ("from .islands import Island\n", ["engine", "driver"], False),
        ("from ..events import Event\n", ["framing", "sse"], False),
        ("from .registry import compiled\n", ["__init__"], False),
    ],
)
def test_the_rule_itself(source: str, parts: list[str], caught: bool) -> None:
    assert bool(_upward(source, parts)) is caught
