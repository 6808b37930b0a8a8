"""The built wheel works on its own: grammars and py.typed inside, the command runs.

A checkout can hide packaging mistakes (a grammar read by repo path, a package missing
from the wheel), so this builds the wheel from a copy of the sources, installs it into a
fresh venv outside the checkout and runs the installed ``toolwire`` from there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD_LEFTOVERS = shutil.ignore_patterns(
    ".git", ".venv", "venv", "build", "dist", "tmp", "*.egg-info", "__pycache__",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis",
)  # fmt: skip


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run without PYTHONPATH, so nothing can import the checkout by accident."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8", timeout=300
    )


def _check(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, f"{result.args} failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from a copy of the checkout, so the build leaves nothing in it."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    shutil.copytree(ROOT, src, ignore=BUILD_LEFTOVERS)
    _check(_run([sys.executable, "-m", "build", "--wheel", "--outdir", str(base / "dist")], src))
    (built,) = (base / "dist").glob("toolwire-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv outside the checkout with only the wheel (and its dependencies)."""
    env_dir = tmp_path_factory.mktemp("venv") / "env"
    venv.create(env_dir, with_pip=True)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    _check(_run([str(bindir / "python"), "-m", "pip", "install", "--quiet", str(wheel)], env_dir))
    return bindir


def test_wheel_ships_grammars_and_py_typed(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert "toolwire/grammars/tags.lark" in names
    assert "toolwire/py.typed" in names
    assert "toolwire/cli/command.py" in names
    assert "toolwire/cli/demo_data/notes.txt" in names


def test_installed_command_validates_example(installed: Path, tmp_path: Path) -> None:
    shutil.copy(ROOT / "examples" / "weather.tags", tmp_path / "weather.tags")
    toolwire = str(installed / "toolwire")

    where = _run([str(installed / "python"), "-c", "import toolwire; print(toolwire.__file__)"],
                 tmp_path)  # fmt: skip
    _check(where)
    assert Path(where.stdout.strip()).is_relative_to(installed.parent)

    plain = _run([toolwire, "validate", "weather.tags"], tmp_path)
    _check(plain)
    assert "tool_call #0 get_weather(" in plain.stdout

    jsonl = _run([toolwire, "validate", "--jsonl", "weather.tags"], tmp_path)
    _check(jsonl)
    calls = [e for e in map(json.loads, jsonl.stdout.splitlines()) if e["type"] == "tool_call"]
    assert [c["name"] for c in calls] == ["get_weather"]
    assert calls[0]["arguments"]["location"]["city"] == "São Paulo"
