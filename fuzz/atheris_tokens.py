"""Coverage-guided fuzzing (atheris) of the token-level tool loop
(toolwire.run_token_tool_loop) on every format with a renderer and a test tokenizer:
any grouping and any tokenization of the sampled ids give the same trajectory, and
arbitrary id streams raise nothing (fuzz/tokens.py).

python -m fuzz.seeds && python -m fuzz.atheris_tokens -max_total_time=300 -max_len=1024

The rule and the input layout: fuzz/README.md.
"""

from __future__ import annotations

import atheris

from fuzz.atheris_cli import main

with atheris.instrument_imports(include=["toolwire"]):
    import fuzz.targets
    import fuzz.tokens  # noqa: F401  (both import toolwire, instrumented)

if __name__ == "__main__":
    main("tokens")
