"""``python -m toolwire.cli``: the same as the ``toolwire`` command."""

from .command import main

raise SystemExit(main())
