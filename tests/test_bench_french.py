"""The French benchmarks still run (issue #26; figures in docs/BENCHMARKS.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("module", "args", "title"),
    [
        ("bench.identity", ["--language", "fr"], "raw fr pipeline's names the project keeps"),
        (
            "bench.ingest",
            ["--language", "fr", "--stories", "40", "--no-workers"],
            "pipeline / raw spaCy throughput",
        ),
    ],
)
def test_french_benchmark_runs(module, args, title):
    run = subprocess.run(
        [sys.executable, "-m", module, "--db", "sqlite", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert title in run.stdout
