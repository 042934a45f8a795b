"""The benchmarks still run (at a toy scale: the figures belong to
docs/BENCHMARKS.md, not to the suite)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("module", "args", "title"),
    [
        ("bench.pages", ["--stories", "300", "--requests", "2"], "Pages at 300 stories"),
        ("bench.rescore", ["--stories", "300", "--new-stories", "20"], "Rescoring at 320"),
        ("bench.pages_real", ["tests/data/pages"], "Saved pages: 16 in tests/data/pages"),
    ],
)
def test_benchmark_runs_on_a_small_corpus(module, args, title):
    run = subprocess.run(
        [sys.executable, "-m", module, "--db", "sqlite", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert title in run.stdout
