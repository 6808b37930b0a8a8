"""``python -m toolwire.cli``: the same as the ``toolwire`` command."""

from .main import main

raise SystemExit(main())
