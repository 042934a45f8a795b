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
        (
            "bench.growth",
            ["--stories", "300", "--requests", "2", "--new-stories", "10"],
            "sqlite-300.json",
        ),
        (
            "bench.identity_cost",
            ["--stories", "300", "--new-stories", "10"],
            "Identity across stories at 300 stories",
        ),
        ("bench.pages_real", ["tests/data/pages"], "Saved pages: 16 in tests/data/pages"),
    ],
)
def test_benchmark_runs_on_a_small_corpus(module, args, title, tmp_path):
    if module == "bench.growth":
        args = [*args, "--results", str(tmp_path)]  # not docs/growth
    run = subprocess.run(
        [sys.executable, "-m", module, "--db", "sqlite", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert title in run.stdout
