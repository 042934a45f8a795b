"""Benchmarks for newsgraph (issue #6): scripts that print figures, not tests.

Run them with `python -m bench.<name> --help`; docs/BENCHMARKS.md has the results.
"""
