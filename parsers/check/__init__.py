"""Validating datasets and rollout logs record by record (``toolwire check``).

``records`` says what of a record is checked (a field holding a raw stream, or the
OpenAI-style ``messages`` of a conversation), ``checker`` checks one record, and
``report`` adds the results up into the summary the command prints.  All three are
pure: files, processes and progress are the command's (``cli/check.py``), and the Ray
path (``integrations/ray.py``) runs the same ``check_record`` on a cluster.
"""

from __future__ import annotations

from .checker import CheckOptions, RecordResult, check_record
from .report import Summary

__all__ = ["CheckOptions", "RecordResult", "Summary", "check_record"]
