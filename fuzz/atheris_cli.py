"""The command line shared by the atheris harnesses (imports no toolwire module, so
that each harness can import toolwire under atheris' instrumentation).

``python -m fuzz.atheris_<family> [--format F] [CORPUS_DIR ...] [-libfuzzer_flag=N ...]``:
``--format`` (or ``FUZZ_FORMAT``) fixes the target; without a corpus directory the
family's ``fuzz/corpus/<family>`` (and its dictionary) is used when ``python -m
fuzz.seeds`` has written it; crash files go to ``fuzz/artifacts/`` unless
``-artifact_prefix`` says otherwise.

libFuzzer's ``-fork=N`` and ``-jobs=N`` run the fuzzer again as a command:
``argv[0]`` with flags.  A harness run with ``python -m`` has a module path there,
which cannot be executed, so with those flags ``argv[0]`` becomes a small launcher
script (written to the temporary directory: this interpreter, ``-m`` this harness,
this checkout on ``PYTHONPATH``), and a fixed target is passed on in ``FUZZ_FORMAT``.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import sys
import tempfile
from pathlib import Path

import atheris

CORPUS = Path(__file__).resolve().parent / "corpus"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def split_argv(argv: list[str]) -> tuple[str | None, list[str]]:
    """(``--format`` value or ``FUZZ_FORMAT`` or None, the remaining libFuzzer argv)."""
    fixed = os.environ.get("FUZZ_FORMAT") or None
    rest: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--format":
            fixed = next(args, None)
        elif arg.startswith("--format="):
            fixed = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    if fixed == "all":
        fixed = None
    return fixed, rest


def launcher(family: str) -> str:
    """An executable that runs this harness with its arguments (for -fork / -jobs)."""
    root = str(Path(__file__).resolve().parent.parent)
    script = (
        "#!/bin/sh\n"
        f"PYTHONPATH={shlex.quote(root)}${{PYTHONPATH:+:$PYTHONPATH}}\n"
        "export PYTHONPATH\n"
        f'exec {shlex.quote(sys.executable)} -m fuzz.atheris_{family} "$@"\n'
    )
    digest = hashlib.sha1(script.encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"toolwire-fuzz-{family}-{digest}.sh"
    if not path.is_file() or path.read_text() != script:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(script)
        tmp.chmod(0o755)
        tmp.replace(path)
    return str(path)


def main(family: str) -> None:
    from fuzz.targets import run_input

    fixed, rest = split_argv(sys.argv[1:])
    argv0 = sys.argv[0]
    if any(a.startswith(("-fork=", "-jobs=")) for a in rest) and not os.access(argv0, os.X_OK):
        argv0 = launcher(family)
        if fixed is not None:
            os.environ["FUZZ_FORMAT"] = fixed  # the children's --format
    corpus = CORPUS / family
    if not any(not a.startswith("-") for a in rest) and corpus.is_dir():
        rest.append(str(corpus))
    words = CORPUS / f"{family}.dict"
    if not any(a.startswith("-dict=") for a in rest) and words.is_file():
        rest.append(f"-dict={words}")
    if not any(a.startswith("-artifact_prefix=") for a in rest):
        ARTIFACTS.mkdir(exist_ok=True)
        rest.append(f"-artifact_prefix={ARTIFACTS}/")
    atheris.Setup([argv0, *rest], run_input(family, fixed))
    atheris.Fuzz()
