"""The ``toolwire`` command (``main``) and its demo: the top layer, the only one that
does I/O (files, stdin, the terminal)."""

from .command import main

__all__ = ["main"]
