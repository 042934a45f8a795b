"""What every benchmark needs: a throw-away database, Django set up against
it, percentiles and a figure-vs-target table.

Benchmarks only talk to loopback: SQLite is a file in a temporary folder,
PostgreSQL a throw-away cluster on 127.0.0.1 (testkit.servers).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
import resource
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument(
        "--database-url",
        default="",
        help="use this (loopback) database instead of a throw-away one, e.g. a SQLite file "
        "or a cluster started with `python -m testkit.servers postgres -- …`",
    )
    return p


@contextlib.contextmanager
def database(db: str, *, url: str = "") -> Iterator[str]:
    """Point DATABASE_URL at a fresh database (or a kept SQLite file) and set
    Django up against it with production-like settings (DEBUG off)."""
    workdir = Path(tempfile.mkdtemp(prefix="newsgraph-bench-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "newsgraph.settings.base",
            "DJANGO_DEBUG": "0",
            "NEWSGRAPH_DATA_DIR": str(workdir),
            "CELERY_BROKER_URL": "",
            "CACHE_URL": "",
            "LOG_LEVEL": "WARNING",
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            # Every request comes from one address: budgets too large to be
            # met, so each page still pays for its check (bench.budget).
            **{
                f"REQUEST_BUDGET_{kind}": "1000000000"
                for kind in ("SEARCH", "SUGGEST", "PAGES", "API")
            },
        }
    )
    try:
        if url:
            os.environ["DATABASE_URL"] = url
            _setup()
            yield url
        elif db == "postgres":
            from testkit.servers import postgres_server

            with postgres_server() as url:
                os.environ["DATABASE_URL"] = url
                _setup()
                yield url
        else:
            os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
            _setup()
            yield os.environ["DATABASE_URL"]
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        shutil.rmtree(workdir, ignore_errors=True)


def _setup() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def rss_mb() -> float:
    """Current resident set size of this process, in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_parts_mb() -> dict[str, float]:
    """RssAnon (the heap: what grows) and RssFile (mapped files, e.g. SQLite's
    memory map, shared with the page cache) of this process, in MB."""
    parts = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("RssAnon:", "RssFile:")):
                parts[line.split(":")[0]] = int(line.split()[1]) / 1024
    return parts


def versions(db: str) -> str:
    import sqlite3

    from django.db import connection

    parts = [f"Python {platform.python_version()}", f"SQLite {sqlite3.sqlite_version}"]
    if db == "postgres":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            parts.append(f"PostgreSQL {cursor.fetchone()[0]}")
    return ", ".join(parts)


def table(rows: list[tuple[str, str, str, str]], *, title: str) -> str:
    """rows: (figure, value, target, verdict) → a Markdown table."""
    header = ("figure", "value", "target", "ok")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
    lines = [f"\n### {title}\n"]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        cells = (str(c).ljust(w) for c, w in zip(row, widths, strict=True))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("yes" if ok else "NO")
