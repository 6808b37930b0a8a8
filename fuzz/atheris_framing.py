"""Coverage-guided fuzzing (atheris) of the SSE and NDJSON decoders on their own
(toolwire.framing.sse, toolwire.framing.ndjson): the same frames and framing errors in
every chunking.

python -m fuzz.seeds && python -m fuzz.atheris_framing -max_total_time=300

The rule and the input layout: fuzz/README.md.
"""

from __future__ import annotations

import atheris

from fuzz.atheris_cli import main

with atheris.instrument_imports(include=["toolwire"]):
    import fuzz.targets  # noqa: F401  (imports toolwire, instrumented)

if __name__ == "__main__":
    main("framing")
