"""Coverage-guided fuzzing (atheris) of the JSON engine on its own
(toolwire.values.json_engine): whole, one character at a time, at random splits and as
windows, with json.loads as an oracle.

python -m fuzz.seeds && python -m fuzz.atheris_json -max_total_time=300

The rule and the input layout: fuzz/README.md.
"""

from __future__ import annotations

import atheris

from fuzz.atheris_cli import main

with atheris.instrument_imports(include=["toolwire"]):
    import fuzz.targets  # noqa: F401  (imports toolwire, instrumented)

if __name__ == "__main__":
    main("json")
