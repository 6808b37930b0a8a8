"""Fuzzing harnesses for toolwire (not part of the installed package)."""
