"""Benchmark 5: a bounded load test on loopback (issue #6).

Starts gunicorn (4 sync workers, DEBUG off) on a free 127.0.0.1 port against
the benchmark database, runs `wrk` (Debian package `wrk`) with 16 connections
for 60 s on the search page, prints requests/s, latency percentiles and the
error count, and stops everything. Nothing leaves loopback.

    python -m bench.load --database-url sqlite:////tmp/bench/sqlite100k.sqlite3
    python -m bench.load --db sqlite --stories 5000 --duration 10   # quick, loads its own
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys

from bench.common import database, parser, table, verdict, versions


def parse_wrk(output: str) -> dict[str, float]:
    result = {"requests_per_s": 0.0, "non_2xx": 0, "socket_errors": 0, "requests": 0}
    if m := re.search(r"Requests/sec:\s+([\d.]+)", output):
        result["requests_per_s"] = float(m.group(1))
    if m := re.search(r"(\d+) requests in", output):
        result["requests"] = int(m.group(1))
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        result["non_2xx"] = int(m.group(1))
    if m := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        result["socket_errors"] = sum(int(x) for x in m.groups())
    for pct in ("50", "90", "99"):
        if m := re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)\b", output):
            value = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
            result[f"p{pct}_ms"] = value
    return result


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__)
    p.add_argument("--stories", type=int, default=100_000, help="when the database is empty")
    p.add_argument("--path", default="/?q=Iran")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--duration", type=int, default=60)
    p.add_argument("--workers", type=int, default=4)
    args = p.parse_args(argv)
    wrk = shutil.which("wrk")
    if not wrk:
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 2

    with database(args.db, url=args.database_url):
        from articles.models import Article
        from bench import corpus
        from testkit.servers import free_port, wait_for_port

        if not Article.objects.exists():
            corpus.load(args.stories)
        stories = Article.objects.count()
        print(f"{stories:,} stories; {versions(args.db)}")
        from django.db import connections

        connections.close_all()
        port = free_port()
        server = subprocess.Popen(
            [
                os.path.join(os.path.dirname(sys.executable), "gunicorn"),
                "newsgraph.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--timeout",
                "60",
                "--log-level",
                "warning",
            ],
            env=os.environ.copy(),
            start_new_session=True,
        )
        try:
            wait_for_port(port, timeout=60)
            url = f"http://127.0.0.1:{port}{args.path}"
            warm = subprocess.run(
                [wrk, "-t1", "-c4", "-d5s", "--timeout", "30s", url],
                capture_output=True,
                text=True,
                check=True,
            )
            del warm
            run = subprocess.run(
                [
                    wrk,
                    "-t2",
                    f"-c{args.connections}",
                    f"-d{args.duration}s",
                    "--timeout",
                    "30s",
                    "--latency",
                    url,
                ],
                capture_output=True,
                text=True,
                check=True,
            )
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        print(run.stdout)
        r = parse_wrk(run.stdout)
        errors = r["non_2xx"] + r["socket_errors"]
        rows = [
            (
                f"requests/s, {args.path}, {args.connections} connections, {args.duration}s",
                f"{r['requests_per_s']:.1f} ({r['requests']:,} requests)",
                "",
                verdict(None),
            ),
            (
                "latency p50 / p90 / p99, ms",
                " / ".join(f"{r.get(k, float('nan')):.0f}" for k in ("p50_ms", "p90_ms", "p99_ms")),
                "",
                verdict(None),
            ),
            ("errors (non-2xx + socket)", str(errors), "0", verdict(errors == 0)),
        ]
        title = f"Load test, gunicorn × {args.workers}, {stories:,} stories, {args.db}"
        print(table(rows, title=title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
