"""Coverage-guided fuzzing (atheris) of the dataset checker (``toolwire check``) and
format detection: the same results however the records are grouped, only documented
codes, and a JSON Lines dataset read as a JSON array gives the same results.

python -m fuzz.seeds && python -m fuzz.atheris_check -max_total_time=300

The rule and the input layout: fuzz/README.md.
"""

from __future__ import annotations

import atheris

from fuzz.atheris_cli import main

with atheris.instrument_imports(include=["toolwire"]):
    import fuzz.targets  # noqa: F401  (imports toolwire, instrumented)

if __name__ == "__main__":
    main("check")
